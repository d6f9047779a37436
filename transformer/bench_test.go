package transformer

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/simdformer/simdformer/kernels"
	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/optim"
)

// Benchmarks of the tutorial's shapes, comparable with PyTorch 1.13 on one
// core (the table): run
//
//	go test -run '^$' -bench . -benchmem -count 3 ./transformer/
//
// Each case runs at threads=1 and threads=2 (kernels.SetThreads). Dropout
// cases compare p=0.1 with p=0 in the same run. Besides ns/op (wall time),
// each benchmark reports cpu-ns/op, the process's CPU time per operation:
// on a shared machine it is the steadier measure at threads=1.

func withThreads(b *testing.B, name string, f func(b *testing.B)) {
	for _, th := range []int{1, 2} {
		b.Run(fmt.Sprintf("%s/threads=%d", name, th), func(b *testing.B) {
			prev := kernels.Threads()
			kernels.SetThreads(th)
			defer kernels.SetThreads(prev)
			f(b)
		})
	}
}

// benchBlock measures one training-mode block pass on a (batch, seq, 512)
// input (8 heads, ff 2048, every dropout rate p): the forward pass, and
// with backward the gradients of the input and every parameter from a
// fixed upstream gradient.
func benchBlock(b *testing.B, batch, seq int, p float32, backward bool) {
	nn.ManualSeed(1)
	blk, err := TutorialBlock(512, 8, 2048, p)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x := nn.NewTensor(randn(rng, batch*seq*512), batch, seq, 512)
	x.RequiresGrad = true
	up := randn(rng, batch*seq*512)
	g := nn.NewGraph()
	step := func() {
		g.Reset()
		y := blk.Forward(g, x)
		if backward {
			g.BackwardWith(y, up)
		}
	}
	step() // warm the graph's pool
	loop(b, step)
}

// loop runs step b.N times, reporting allocations and CPU time per op.
func loop(b *testing.B, step func()) {
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	n := 0
	for b.Loop() {
		step()
		n++
	}
	if cpu0 >= 0 && n > 0 {
		b.ReportMetric(float64(processCPU()-cpu0)/float64(n), "cpu-ns/op")
	}
}

func BenchmarkBlock4x10x512FwdBwd(b *testing.B) {
	withThreads(b, "p=0.1", func(b *testing.B) { benchBlock(b, 4, 10, 0.1, true) })
}

func BenchmarkBlock32x128x512FwdBwd(b *testing.B) {
	for _, p := range []float32{0.1, 0} {
		withThreads(b, fmt.Sprintf("p=%g", p), func(b *testing.B) { benchBlock(b, 32, 128, p, true) })
	}
}

// BenchmarkBlock32x128x512TrainFwd is the training-mode forward alone, where
// PyTorch's dropout costs 1.55× (471 ms with p=0.1 against 303 ms with p=0).
func BenchmarkBlock32x128x512TrainFwd(b *testing.B) {
	for _, p := range []float32{0.1, 0} {
		withThreads(b, fmt.Sprintf("p=%g", p), func(b *testing.B) { benchBlock(b, 32, 128, p, false) })
	}
}

// BenchmarkClassifierAdamStep is the tutorial's training step: classifier
// (vocab 1000, 128-d, 4 heads, ff 512, 2 blocks, 5 classes) on 8 sequences
// of 20 tokens: forward, cross-entropy, backward, Adam.
func BenchmarkClassifierAdamStep(b *testing.B) {
	for _, p := range []float32{0.1, 0} {
		withThreads(b, fmt.Sprintf("p=%g", p), func(b *testing.B) {
			nn.ManualSeed(1)
			c := Config{VocabSize: 1000, EmbedDim: 128, NumHeads: 4, FFDim: 512, NumClasses: 5, NumLayers: 2}
			c.AttnDropout, c.FFNDropout, c.ResidDropout = p, p, p
			m, err := NewClassifier(c)
			if err != nil {
				b.Fatal(err)
			}
			opt, err := optim.NewAdam(nn.Parameters(m), 1e-3)
			if err != nil {
				b.Fatal(err)
			}
			const batch, seq = 8, 20
			rng := rand.New(rand.NewPCG(1, 2))
			ids := make([]int, batch*seq)
			for i := range ids {
				ids[i] = rng.IntN(c.VocabSize)
			}
			labels := []int{0, 1, 2, 3, 4, 0, 1, 2}
			ce := nn.NewCrossEntropyLoss()
			g := nn.NewGraph()
			step := func() {
				g.Reset()
				loss := ce.Forward(g, m.Forward(g, ids, batch, seq), labels)
				opt.ZeroGrad()
				loss.Backward()
				opt.Step()
			}
			step()
			loop(b, step)
		})
	}
}
