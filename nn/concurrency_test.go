package nn_test

import (
	"sync"
	"testing"

	"github.com/simdformer/simdformer/nn"
)

// These tests share one model between goroutines; CI runs them under -race.

// TestSharedModelTrainDropout: one model in training mode, several
// goroutines, each with its own graph and seed, two passes each. Every
// worker's outputs equal those of the same worker run alone, bit for bit,
// so masks depend on (site, graph seed, step, call) and not on scheduling;
// different seeds give different masks.
func TestSharedModelTrainDropout(t *testing.T) {
	nn.ManualSeed(3)
	m := newTinyModel(11, 16, 2, 3, 2, 6, 0.3)
	nn.Train(m)
	ids := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1}
	const workers, passes = 4, 2
	run := func(w int) [][]float32 {
		g := nn.NewGraph()
		g.NoGrad = true
		g.SetSeed(uint64(100 + w))
		var out [][]float32
		for range passes {
			g.Reset()
			out = append(out, m.Forward(g, ids).Clone().Data)
		}
		return out
	}
	want := make([][][]float32, workers)
	for w := range workers {
		want[w] = run(w)
	}
	if equal(want[0][0], want[1][0]) || equal(want[0][0], want[0][1]) {
		t.Fatal("two seeds or two steps drew the same masks")
	}
	got := make([][][]float32, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { got[w] = run(w) })
	}
	wg.Wait()
	for w := range workers {
		for s := range passes {
			if !equal(got[w][s], want[w][s]) {
				t.Errorf("worker %d pass %d: concurrent outputs differ from the same worker run alone", w, s)
			}
		}
	}
}

// TestMCDropoutConcurrent: Monte-Carlo dropout (Eval + AlwaysOn) from
// several goroutines, each drawing samples on its own graph: race-free and
// the same samples as a sequential run.
func TestMCDropoutConcurrent(t *testing.T) {
	nn.ManualSeed(4)
	m := newTinyModel(11, 16, 2, 3, 2, 6, 0.2)
	nn.Eval(m)
	nn.SetMCDropout(m, true)
	ids := []int{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8}
	sample := func(seed uint64) []float32 {
		g := nn.NewGraph()
		g.NoGrad = true
		g.SetSeed(seed)
		var sum []float32
		for range 3 { // three samples: Reset advances the step
			g.Reset()
			y := m.Forward(g, ids).Data
			if sum == nil {
				sum = make([]float32, len(y))
			}
			for i, v := range y {
				sum[i] += v
			}
		}
		return sum
	}
	want := []([]float32){sample(1), sample(2), sample(3)}
	got := make([][]float32, 3)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() { got[i] = sample(uint64(i + 1)) })
	}
	wg.Wait()
	for i := range got {
		if !equal(got[i], want[i]) {
			t.Errorf("MC sampler %d: concurrent samples differ from sequential ones", i)
		}
	}
}

// TestConcurrentBackwardLocalGrads: goroutines run forward and Backward on
// one shared model with LocalGrads graphs; summing their gradients in
// worker order after they finish gives the bits of the same passes run
// one after another with AccumulateGrads; and AccumulateGrads under a
// mutex from the workers themselves is race-free too.
func TestConcurrentBackwardLocalGrads(t *testing.T) {
	nn.ManualSeed(5)
	m := newTinyModel(11, 16, 2, 3, 2, 6, 0.1)
	nn.Train(m)
	ce := nn.NewCrossEntropyLoss()
	batches := [][]int{{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1}, {2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7},
		{10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0}, {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1}}
	labels := []int{0, 2}
	params := nn.Parameters(m)
	graphs := make([]*nn.Graph, len(batches))
	pass := func(w int) {
		g := graphs[w]
		g.Reset()
		g.SetSeed(uint64(w + 1))
		ce.Forward(g, m.Forward(g, batches[w]), labels).Backward()
	}
	snapshot := func() [][]float32 {
		var s [][]float32
		for _, p := range params {
			s = append(s, append([]float32(nil), p.Grad...))
		}
		return s
	}
	for w := range graphs {
		graphs[w] = nn.NewGraph()
		graphs[w].LocalGrads = true
	}

	nn.ZeroGrad(m)
	for w := range graphs {
		pass(w)
		graphs[w].AccumulateGrads()
	}
	want := snapshot()
	if g0 := params[0].Grad; countZeros(g0) == len(g0) {
		t.Fatal("no gradient reached the first parameter")
	}

	nn.ZeroGrad(m)
	var wg sync.WaitGroup
	for w := range graphs {
		wg.Go(func() { pass(w) })
	}
	wg.Wait()
	for _, g := range graphs {
		g.AccumulateGrads()
		g.AccumulateGrads() // the buffers were zeroed: adds nothing
	}
	got := snapshot()
	for i := range want {
		if !equal(got[i], want[i]) {
			t.Fatalf("parameter %d: concurrent local gradients differ from sequential ones", i)
		}
	}

	nn.ZeroGrad(m)
	var mu sync.Mutex
	for w := range graphs {
		wg.Go(func() {
			pass(w)
			mu.Lock()
			graphs[w].AccumulateGrads()
			mu.Unlock()
		})
	}
	wg.Wait()
	for i := range want {
		for j := range want[i] {
			if d := got[i][j] - params[i].Grad[j]; d > 1e-5 || d < -1e-5 {
				t.Fatalf("parameter %d[%d]: mutex accumulation %v, want ≈ %v", i, j, params[i].Grad[j], got[i][j])
			}
		}
	}
}
