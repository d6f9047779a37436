package nn_test

import (
	"math"
	"strings"
	"testing"

	"github.com/simdformer/simdformer/kernels"
	"github.com/simdformer/simdformer/nn"
)

func ones(shape ...int) *nn.Tensor {
	x := nn.Zeros(shape...)
	for i := range x.Data {
		x.Data[i] = 1
	}
	return x
}

// within4Sigma checks a binomial keep count.
func within4Sigma(t *testing.T, what string, kept, n int, keep float64) {
	t.Helper()
	sigma := math.Sqrt(float64(n) * keep * (1 - keep))
	if d := math.Abs(float64(kept) - keep*float64(n)); d > 4*sigma+1 {
		t.Errorf("%s: kept %d of %d, want %.0f ± %.0f", what, kept, n, keep*float64(n), 4*sigma)
	}
}

func TestDropoutStatistics(t *testing.T) {
	const n = 1 << 16
	for _, p := range []float32{0.1, 0.3, 0.5, 0.9} {
		d := nn.Must(nn.NewDropout(p))
		x := ones(n)
		y := d.Forward(nil, x)
		scale := float32(1 / (1 - float64(p)))
		kept := 0
		for i, v := range y.Data {
			switch v {
			case 0:
			case scale:
				kept++
			default:
				t.Fatalf("p=%v: y[%d] = %v, want 0 or %v", p, i, v, scale)
			}
		}
		within4Sigma(t, "Dropout", kept, n, 1-float64(p))
	}
}

func TestDropoutModes(t *testing.T) {
	x := ones(4, 256)
	d := nn.Must(nn.NewDropout(0.5))
	nn.Eval(d)
	if y := d.Forward(nil, x); y != x {
		t.Error("Eval: Dropout must return its input")
	}
	nn.SetMCDropout(d, true)
	if y := d.Forward(nil, x); y == x || countZeros(y.Data) == 0 {
		t.Error("Eval with AlwaysOn (MC dropout) must drop")
	}
	nn.SetMCDropout(d, false)
	nn.Train(d)
	if y := d.Forward(nil, x); countZeros(y.Data) == 0 {
		t.Error("Train: no element dropped at p=0.5")
	}
	d.P = 0
	if y := d.Forward(nil, x); y != x {
		t.Error("p=0 must be the identity")
	}
	d.P = 1
	g := nn.NewGraph()
	xr := ones(4, 256)
	xr.Data[3] = float32(math.Inf(1))
	xr.RequiresGrad = true
	y := d.Forward(g, xr)
	g.BackwardWith(y, ones(4, 256).Data)
	for i, v := range y.Data {
		if v != 0 && i != 3 {
			t.Fatalf("p=1: y[%d] = %v, want 0", i, v)
		}
		if xr.Grad[i] != 0 {
			t.Fatalf("p=1: grad[%d] = %v, want 0", i, xr.Grad[i])
		}
	}
	d.P = 1.5
	mustPanic(t, "P=1.5", func() { d.Forward(nil, x) })
	if _, err := nn.NewDropout(-0.1); err == nil || !strings.Contains(err.Error(), "between 0 and 1") {
		t.Errorf("NewDropout(-0.1) error = %v", err)
	}
}

func TestDropoutInplace(t *testing.T) {
	d := nn.Must(nn.NewDropout(0.5))
	d.Inplace = true
	x := ones(64)
	y := d.Forward(nn.NewGraph(), x)
	if &y.Data[0] != &x.Data[0] || countZeros(x.Data) == 0 {
		t.Error("Inplace must write into the input's storage")
	}
}

func countZeros(v []float32) int {
	n := 0
	for _, f := range v {
		if f == 0 {
			n++
		}
	}
	return n
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", what)
		}
	}()
	f()
}

// TestDropoutReproducible: the same ManualSeed and construction order give
// the same masks; every call draws a fresh mask; SeedDropout makes masks
// depend on the seed and the module path only.
func TestDropoutReproducible(t *testing.T) {
	build := func() *nn.Sequential {
		return nn.NewSequential(nn.Must(nn.NewDropout(0.5)), nn.Must(nn.NewDropout(0.5)))
	}
	x := ones(1024)
	nn.ManualSeed(11)
	a := build()
	nn.ManualSeed(11)
	b := build()
	ga, gb := nn.NewGraph(), nn.NewGraph()
	ya1 := a.Forward(ga, x).Clone()
	ga.Reset()
	ya2 := a.Forward(ga, x).Clone()
	yb1 := b.Forward(gb, x)
	if !equal(ya1.Data, yb1.Data) {
		t.Error("same seed, same construction: masks differ")
	}
	if equal(ya1.Data, ya2.Data) {
		t.Error("two passes drew the same mask")
	}
	nn.ManualSeed(12)
	c := build()
	if equal(c.Forward(nn.NewGraph(), x).Data, ya1.Data) {
		t.Error("another seed gave the same mask")
	}
	nn.SeedDropout(a, 99)
	nn.SeedDropout(c, 99)
	if !equal(a.Forward(nn.NewGraph(), x).Data, c.Forward(nn.NewGraph(), x).Data) {
		t.Error("SeedDropout: same seed, masks differ")
	}
}

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func TestChannelDropout(t *testing.T) {
	for _, tc := range []struct {
		name  string
		m     *nn.ChannelDropout
		shape []int
		inner int
	}{
		{"1d", nn.Must(nn.NewDropout1d(0.5)), []int{16, 32, 8}, 8},
		{"1d-unbatched", nn.Must(nn.NewDropout1d(0.5)), []int{512, 8}, 8},
		{"2d", nn.Must(nn.NewDropout2d(0.5)), []int{16, 32, 3, 4}, 12},
		{"3d", nn.Must(nn.NewDropout3d(0.5)), []int{4, 32, 2, 3, 4}, 24},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := tc.m.Forward(nil, ones(tc.shape...))
			kept, units := 0, len(y.Data)/tc.inner
			for u := 0; u < units; u++ {
				ch := y.Data[u*tc.inner : (u+1)*tc.inner]
				for _, v := range ch {
					if v != ch[0] || (v != 0 && v != 2) {
						t.Fatalf("channel %d not uniformly 0 or 2: %v", u, ch)
					}
				}
				if ch[0] == 2 {
					kept++
				}
			}
			within4Sigma(t, tc.name, kept, units, 0.5)
		})
	}
	mustPanic(t, "Dropout2d on a 2-D input", func() { nn.Must(nn.NewDropout2d(0.5)).Forward(nil, ones(3, 4)) })
}

func TestAlphaDropout(t *testing.T) {
	// PyTorch's alpha dropout at p=0.2, a=0.87890, kept shift +0.30904, dropped −1.23616.
	r := newRand(21)
	const n = 1 << 16
	x := randTensor(r, 1, n)
	x.RequiresGrad = false
	d := nn.Must(nn.NewAlphaDropout(0.2))
	y := d.Forward(nil, x)
	var mean, sq float64
	dropped := 0
	for i, v := range y.Data {
		if math.Abs(float64(v)+1.23616) < 1e-4 {
			dropped++
		} else if e := math.Abs(float64(v) - (0.87890*float64(x.Data[i]) + 0.30904)); e > 1e-4 {
			t.Fatalf("kept y[%d] = %v from x = %v", i, v, x.Data[i])
		}
		mean += float64(v)
	}
	mean /= n
	for _, v := range y.Data {
		sq += (float64(v) - mean) * (float64(v) - mean)
	}
	std := math.Sqrt(sq / n)
	within4Sigma(t, "AlphaDropout", n-dropped, n, 0.8)
	if math.Abs(mean) > 0.02 || math.Abs(std-1) > 0.02 {
		t.Errorf("AlphaDropout changed the moments: mean %.4f std %.4f", mean, std)
	}
	fd := nn.Must(nn.NewFeatureAlphaDropout(0.5))
	yf := fd.Forward(nil, randTensor(r, 1, 8, 16, 5))
	for u := 0; u < 8*16; u++ {
		ch := yf.Data[u*5 : (u+1)*5]
		if math.Abs(float64(ch[0])+0.7792) < 1e-4 {
			for _, v := range ch {
				if v != ch[0] {
					t.Fatalf("FeatureAlphaDropout: channel %d partly dropped: %v", u, ch)
				}
			}
		}
	}
	nn.Eval(d)
	if d.Forward(nil, x) != x {
		t.Error("AlphaDropout in Eval must be the identity")
	}
	d.P = 1
	nn.Train(d)
	if countZeros(d.Forward(nil, x).Data) != n {
		t.Error("AlphaDropout p=1 must give zeros")
	}
}

func TestDropPathAndLocked(t *testing.T) {
	dp := nn.Must(nn.NewDropPath(0.5))
	y := dp.Forward(nil, ones(256, 3, 4))
	kept := 0
	for s := 0; s < 256; s++ {
		smp := y.Data[s*12 : (s+1)*12]
		for _, v := range smp {
			if v != smp[0] || (v != 0 && v != 2) {
				t.Fatalf("sample %d not uniformly 0 or 2: %v", s, smp)
			}
		}
		if smp[0] == 2 {
			kept++
		}
	}
	within4Sigma(t, "DropPath", kept, 256, 0.5)
	dp.ScaleByKeep = false
	for _, v := range dp.Forward(nil, ones(64, 2)).Data {
		if v != 0 && v != 1 {
			t.Fatalf("DropPath without ScaleByKeep: value %v", v)
		}
	}

	ld := nn.Must(nn.NewLockedDropout(0.5))
	N, L, D := 4, 7, 64
	yl := ld.Forward(nil, ones(N, L, D))
	for b := 0; b < N; b++ {
		first := yl.Data[b*L*D : b*L*D+D]
		for l := 1; l < L; l++ {
			if !equal(first, yl.Data[(b*L+l)*D:(b*L+l+1)*D]) {
				t.Fatalf("LockedDropout: position %d of batch %d has another mask", l, b)
			}
		}
	}
	if equal(yl.Data[:D], yl.Data[L*D:L*D+D]) {
		t.Error("LockedDropout: two batch rows share a mask")
	}
}

func TestWordDropout(t *testing.T) {
	e := nn.Must(nn.NewEmbedding(50, 8, nn.EmbeddingConfig{WordDropout: 0.5}))
	ids := make([]int, 400)
	for i := range ids {
		ids[i] = i % 50
	}
	y := e.Forward(nil, ids)
	dropped := map[int]bool{}
	for tok, id := range ids {
		row := y.Data[tok*8 : (tok+1)*8]
		z := countZeros(row) == 8
		if prev, ok := dropped[id]; ok && prev != z {
			t.Fatalf("word %d dropped at one position and kept at another", id)
		}
		dropped[id] = z
		if !z {
			for j, v := range row {
				if w := 2 * e.Weight.Data[id*8+j]; v != w {
					t.Fatalf("kept word %d: %v, want %v", id, v, w)
				}
			}
		}
	}
	n := 0
	for _, z := range dropped {
		if !z {
			n++
		}
	}
	within4Sigma(t, "word dropout", n, 50, 0.5)
	nn.Eval(e)
	y = e.Forward(nil, ids[:1])
	if !equal(y.Data, e.Weight.Data[:8]) {
		t.Error("word dropout active in Eval")
	}
}

func TestAttentionDropoutAndMasking(t *testing.T) {
	m := nn.Must(nn.NewMultiheadAttention(nn.MHAConfig{EmbedDim: 8, NumHeads: 2, Dropout: 0.5}))
	x := randTensor(newRand(3), 1, 2, 6, 8)
	rowSums := func(w *nn.Tensor) (min, max float64) {
		min, max = math.Inf(1), math.Inf(-1)
		S := w.Dim(-1)
		for r := 0; r*S < len(w.Data); r++ {
			var s float64
			for _, v := range w.Data[r*S : (r+1)*S] {
				s += float64(v)
			}
			min, max = math.Min(min, s), math.Max(max, s)
		}
		return
	}
	_, w := m.Forward(nil, x, x, x, nn.AttentionOptions{NeedWeights: true, PerHeadWeights: true})
	if lo, hi := rowSums(w); lo > 0.99 && hi < 1.01 {
		t.Error("training-mode weights should be dropped out (rows not summing to 1)")
	}
	nn.Eval(m)
	_, w = m.Forward(nil, x, x, x, nn.AttentionOptions{NeedWeights: true})
	if lo, hi := rowSums(w); lo < 0.9999 || hi > 1.0001 {
		t.Errorf("eval weights: row sums in [%v, %v], want 1", lo, hi)
	}
	// A fully masked query row: zero weights, finite output equal to the
	// output projection's bias, zero gradient.
	pad := []bool{true, true, true, true, true, true, false, false, false, false, false, false}
	g := nn.NewGraph()
	out, w := m.Forward(g, x, x, x, nn.AttentionOptions{NeedWeights: true, KeyPadding: pad})
	for i, v := range w.Data[:36] {
		if v != 0 {
			t.Fatalf("weights of a fully masked batch: [%d] = %v", i, v)
		}
	}
	for i, v := range out.Data[:48] {
		if math.IsNaN(float64(v)) || v != m.OutProj.Bias.Data[i%8] {
			t.Fatalf("output of a fully masked batch: [%d] = %v, want the bias %v", i, v, m.OutProj.Bias.Data[i%8])
		}
	}
	if _, err := nn.NewMultiheadAttention(nn.MHAConfig{EmbedDim: 10, NumHeads: 3}); err == nil ||
		!strings.Contains(err.Error(), "divisible") {
		t.Errorf("embed_dim %% num_heads != 0: error %v", err)
	}
}

// TestAttentionDropoutP1: with every probability dropped the context is
// zero, the output is the output projection's bias, and every gradient is
// finite.
func TestAttentionDropoutP1(t *testing.T) {
	m := nn.Must(nn.NewMultiheadAttention(nn.MHAConfig{EmbedDim: 8, NumHeads: 2, Dropout: 1}))
	x := randTensor(newRand(4), 1, 2, 5, 8)
	g := nn.NewGraph()
	out, w := m.Forward(g, x, x, x, nn.AttentionOptions{NeedWeights: true, Causal: true})
	if countZeros(w.Data) != len(w.Data) {
		t.Error("p=1: returned weights not all zero")
	}
	for i, v := range out.Data {
		if v != m.OutProj.Bias.Data[i%8] {
			t.Fatalf("p=1: out[%d] = %v, want the bias %v", i, v, m.OutProj.Bias.Data[i%8])
		}
	}
	g.BackwardWith(out, ones(2, 5, 8).Data)
	for _, p := range append(nn.Parameters(m), x) {
		for _, v := range p.Grad {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatal("p=1: non-finite gradient")
			}
		}
	}
	if countZeros(x.Grad) != len(x.Grad) {
		t.Error("p=1: the input gets gradient through dropped attention")
	}
}

// TestLockedDropoutDefinition: LockedDropout equals a Dropout call per
// position with mask index n·D + d, bit for bit (special values included),
// in forward and backward.
func TestLockedDropoutDefinition(t *testing.T) {
	const N, L, D = 3, 5, 37
	x := nn.NewTensor(make([]float32, N*L*D), N, L, D)
	for i := range x.Data {
		x.Data[i] = float32(i%17) - 8.5
	}
	x.Data[3], x.Data[40] = float32(math.NaN()), float32(math.Inf(-1))
	x.RequiresGrad = true
	g := nn.NewGraph()
	y := g.LockedDropout(x, nn.Drop{P: 0.3, Seed: 99})
	up := make([]float32, N*L*D)
	for i := range up {
		up[i] = float32(i%5) - 2
	}
	g.BackwardWith(y, up)
	want, wantGrad := make([]float32, D), make([]float32, D)
	for b := 0; b < N; b++ {
		for l := 0; l < L; l++ {
			s := (b*L + l) * D
			kernels.Dropout(want, x.Data[s:s+D], 0.3, 99, uint64(b*D))
			kernels.Dropout(wantGrad, up[s:s+D], 0.3, 99, uint64(b*D))
			for d := 0; d < D; d++ {
				if math.Float32bits(y.Data[s+d]) != math.Float32bits(want[d]) && !(y.Data[s+d] != y.Data[s+d] && want[d] != want[d]) {
					t.Fatalf("forward (%d,%d,%d) = %v, want %v", b, l, d, y.Data[s+d], want[d])
				}
				// (a gradient accumulates into +0, so -0 may read as +0)
				if x.Grad[s+d] != wantGrad[d] {
					t.Fatalf("grad (%d,%d,%d) = %v, want %v", b, l, d, x.Grad[s+d], wantGrad[d])
				}
			}
		}
	}
}

// TestGraphDropoutStream pins the documented mask seed and the graph's step
// rules: the c-th call of a site in a pass uses MaskSeed(site, graph seed,
// step, c); Reset advances the step only after a pass that drew; SetStep
// restores a saved step, so a resumed run draws the masks it would have.
func TestGraphDropoutStream(t *testing.T) {
	d := nn.Must(nn.NewDropout(0.5))
	x := ones(256)
	mask := func(seed, step uint64, call uint32) []float32 {
		want := make([]float32, 256)
		kernels.Dropout(want, x.Data, 0.5, nn.MaskSeed(d.Seed, seed, step, call), 0)
		return want
	}
	g := nn.NewGraph()
	g.SetSeed(7)
	if y0, y1 := d.Forward(g, x).Clone().Data, d.Forward(g, x).Data; !equal(y0, mask(7, 0, 0)) || !equal(y1, mask(7, 0, 1)) {
		t.Fatal("calls 0 and 1 of a pass do not use MaskSeed(site, 7, 0, call)")
	}
	g.Reset()
	if g.Step() != 1 {
		t.Fatalf("step after a pass that drew: %d, want 1", g.Step())
	}
	g.NoGrad = true
	nn.Eval(d)
	d.Forward(g, x) // inactive: draws nothing
	g.Reset()
	if g.Step() != 1 {
		t.Fatalf("step after a pass that drew nothing: %d, want 1", g.Step())
	}
	nn.Train(d)
	want := d.Forward(g, x).Clone().Data
	if !equal(want, mask(7, 1, 0)) {
		t.Fatal("pass at step 1 does not use MaskSeed(site, 7, 1, 0)")
	}
	saved := g.Step()
	r := nn.NewGraph() // a resumed run
	r.SetSeed(g.Seed())
	r.SetStep(saved)
	if !equal(d.Forward(r, x).Data, want) {
		t.Fatal("SetStep(saved) does not reproduce the saved step's masks")
	}
	if nn.MaskSeed(d.Seed, 1, 3, 0) == nn.MaskSeed(d.Seed, 2, 3, 0) {
		t.Fatal("MaskSeed must tell graph seeds apart")
	}
}
