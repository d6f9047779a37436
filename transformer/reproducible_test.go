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
	const want = "bb18e3b6628da06a"
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
