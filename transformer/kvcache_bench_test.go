package transformer

import (
	"sync"
	"testing"

	"github.com/simdformer/simdformer/nn"
)

var gpt2Small = sync.OnceValue(func() *LM {
	nn.ManualSeed(1)
	m := nn.Must(NewGPT2(DefaultGPT2Config()))
	nn.Eval(m)
	return m
})

// BenchmarkGPT2SmallDecode: one new token at context 512 for a randomly
// initialised GPT-2 small (124M parameters), with the KV cache (Step) and
// by recomputing the whole prefix (Forward, what decoding without a cache
// does). tok/s is the decoding speed.
func BenchmarkGPT2SmallDecode(b *testing.B) {
	if testing.Short() {
		b.Skip("GPT-2 small is 500 MB of weights")
	}
	m := gpt2Small()
	const ctx = 512
	ids := make([]int, ctx)
	for i := range ids {
		ids[i] = (i * 7919) % 50257
	}
	g := nn.NewGraph()
	g.NoGrad = true
	b.Run("cache", func(b *testing.B) {
		c := m.NewKVCache(1)
		m.Step(g, c, ids[:ctx-1], nil)
		g.Reset()
		m.Step(g, c, ids[ctx-1:], nil) // warm: the graph's pool has the one-token sizes
		b.ReportAllocs()
		for b.Loop() {
			c.Truncate(ctx - 1)
			g.Reset()
			m.Step(g, c, ids[ctx-1:], nil)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tok/s")
	})
	g.Release()
	b.Run("recompute", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			g.Reset()
			m.Forward(g, ids, 1, ctx)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tok/s")
	})
}
