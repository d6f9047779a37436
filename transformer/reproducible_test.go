package transformer

import (
	"fmt"
	"hash/fnv"
	"math"
	"testing"

	"github.com/simdformer/simdformer/kernels"
	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/optim"
)

// TestReproducibleTraining pins the bits of a seeded training run: init,
// three AdamW steps with dropout 0.1, label smoothing and exact GELU. The
// same hash must come out on every backend and architecture (CI runs this
// natively, with -tags purego and on arm64 under qemu), which fails if any
// float expression in nn, optim or the kernels is left for the compiler to
// fuse differently per platform.
func TestReproducibleTraining(t *testing.T) {
	const want = "dd2f9370af13745b"
	nn.ManualSeed(1)
	defer nn.ManualSeed(1)
	cfg := Config{VocabSize: 100, EmbedDim: 64, NumHeads: 4, FFDim: 128, NumClasses: 5, NumLayers: 2, Activation: "gelu"}
	cfg.SetDropout(0.1)
	m := nn.Must(NewClassifier(cfg))
	opt := nn.Must(optim.NewAdamW(nn.Parameters(m), 1e-3))
	ce := nn.NewCrossEntropyLoss()
	ce.LabelSmoothing = 0.1
	ids := make([]int, 4*12)
	for i := range ids {
		ids[i] = (i * 37) % 100
	}
	g := nn.NewGraph()
	nn.Train(m)
	for s := 0; s < 3; s++ {
		g.Reset()
		loss := ce.Forward(g, m.Forward(g, ids, 4, 12), []int{0, 1, 2, 3})
		opt.ZeroGrad()
		loss.Backward()
		opt.Step()
	}
	h := fnv.New64a()
	for _, p := range nn.Parameters(m) {
		for _, v := range p.Data {
			b := math.Float32bits(v)
			h.Write([]byte{byte(b), byte(b >> 8), byte(b >> 16), byte(b >> 24)})
		}
	}
	if got := fmt.Sprintf("%x", h.Sum64()); got != want {
		t.Fatalf("backend %s on this platform: parameters after 3 seeded steps hash to %s, want %s", kernels.Backend(), got, want)
	}
}

// TestConcurrentInference: one model serves several goroutines at once
// (inference, a nil graph each); run with -race.
func TestConcurrentInference(t *testing.T) {
	nn.ManualSeed(2)
	cfg := Config{VocabSize: 50, MaxPositions: 64, EmbedDim: 32, NumHeads: 4, FFDim: 64, NumClasses: 3, NumLayers: 1}
	m := nn.Must(NewClassifier(cfg))
	nn.Eval(m)
	ids := make([]int, 2*64)
	for i := range ids {
		ids[i] = i % 50
	}
	want := m.Forward(nil, ids[:80], 2, 40).Data
	done := make(chan []float32)
	for w := 0; w < 4; w++ {
		go func(seq int) {
			m.Forward(nil, ids[:2*seq], 2, seq) // longer than any call before: the position ids grow
			done <- m.Forward(nil, ids[:80], 2, 40).Data
		}(44 + 6*w)
	}
	for w := 0; w < 4; w++ {
		if got := <-done; !equal(got, want) {
			t.Fatalf("concurrent inference gave %v, want %v", got, want)
		}
	}
}
