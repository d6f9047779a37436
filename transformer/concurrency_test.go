package transformer

import (
	"sync"
	"testing"

	"github.com/simdformer/simdformer/nn"
)

// TestSharedSeq2SeqLocalGrads: goroutines train one shared Seq2Seq (dropout
// on, its decoders' cross-attention reading row views of the packed
// projection) with LocalGrads graphs. Each worker's graph-local gradient
// has the bits of the same pass run alone with gradients going straight
// into the parameters. Run under -race in CI.
func TestSharedSeq2SeqLocalGrads(t *testing.T) {
	nn.ManualSeed(12)
	c := Config{VocabSize: 12, MaxPositions: 8, EmbedDim: 16, NumHeads: 2, FFDim: 32, NumLayers: 1}
	c.SetDropout(0.2)
	m := nn.Must(NewSeq2Seq(c))
	nn.Train(m)
	ce := nn.NewCrossEntropyLoss()
	const workers, batch, srcLen, tgtLen = 3, 2, 5, 4
	data := func(w int) (src, tgtIn Tokens, tgtOut []int) {
		ids := make([]int, batch*srcLen)
		pad := make([]bool, batch*srcLen)
		for i := range ids {
			ids[i] = (i*7 + w*3) % 12
			pad[i] = i%srcLen >= srcLen-w%2 // worker 1 pads the last position
		}
		in, out := make([]int, batch*tgtLen), make([]int, batch*tgtLen)
		for i := range in {
			in[i], out[i] = (i*5+w)%12, (i*5+w+1)%12
		}
		return Tokens{IDs: ids, Batch: batch, Seq: srcLen, Padding: pad}, Tokens{IDs: in, Batch: batch, Seq: tgtLen}, out
	}
	params := nn.Parameters(m)
	pass := func(g *nn.Graph, w int) {
		g.Reset()
		g.SetSeed(uint64(w + 1))
		src, tgtIn, tgtOut := data(w)
		m.Loss(g, ce, src, tgtIn, tgtOut).Backward()
	}
	want := make([][][]float32, workers)
	for w := range workers {
		nn.ZeroGrad(m)
		pass(nn.NewGraph(), w)
		for _, p := range params {
			want[w] = append(want[w], append([]float32(nil), p.Grad...))
		}
	}
	nn.ZeroGrad(m)
	graphs := make([]*nn.Graph, workers)
	var wg sync.WaitGroup
	for w := range workers {
		graphs[w] = nn.NewGraph()
		graphs[w].LocalGrads = true
		wg.Go(func() { pass(graphs[w], w) })
	}
	wg.Wait()
	for w, g := range graphs {
		for i, p := range params {
			got := g.Grad(p)
			if got == nil {
				got = make([]float32, len(p.Data))
			}
			if !equal(got, want[w][i]) {
				t.Fatalf("worker %d, parameter %d: local gradient differs from the same pass run alone", w, i)
			}
		}
	}
	for _, p := range params {
		if n := countNonZero(p.Grad); n != 0 {
			t.Fatal("LocalGrads passes wrote into a parameter's Grad")
		}
	}
}

func countNonZero(v []float32) int {
	n := 0
	for _, x := range v {
		if x != 0 {
			n++
		}
	}
	return n
}
