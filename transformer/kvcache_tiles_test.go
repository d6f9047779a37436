package transformer

import (
	"testing"

	"github.com/simdformer/simdformer/nn"
)

// TestKVCacheBitIdenticalAcrossTiles: with a context longer than the fused
// attention kernel's tiles (128 queries × 256 keys), a prefill that ends
// inside a query tile and single-token steps across the key-tile boundary
// still give Forward's logits bit for bit.
func TestKVCacheBitIdenticalAcrossTiles(t *testing.T) {
	nn.ManualSeed(5)
	defer nn.ManualSeed(1)
	P := 300
	m := nn.Must(NewLM(Config{VocabSize: 40, MaxPositions: P, EmbedDim: 16, NumHeads: 2, FFDim: 32, NumLayers: 1}))
	nn.Eval(m)
	V := 40
	seq := make([]int, P)
	for i := range seq {
		seq[i] = (i*17 + 3) % V
	}
	c := m.NewKVCache(1)
	g := nn.NewGraph()
	g.NoGrad = true
	check := func(n int, got []float32) {
		t.Helper()
		want := m.Forward(nil, seq[:n], 1, n).Data[(n-1)*V:]
		if !sameBits(got, want) {
			t.Fatalf("logits at position %d differ from Forward's", n-1)
		}
	}
	n := 200 // prefill: two query tiles, the second partial
	check(n, m.Step(g, c, seq[:n], nil).Data)
	for ; n < P; n++ {
		g.Reset()
		got := m.Step(g, c, seq[n:n+1], nil).Data
		if n%7 == 0 || (n >= 250 && n <= 260) || n == P-1 {
			check(n+1, got)
		}
	}
}
