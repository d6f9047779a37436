package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// adamCases are coefficient sets: AdamW's first and a later step, plain Adam
// (decay 1), and extreme betas and eps.
var adamCases = []AdamCoeffs{
	{Decay: 1 - 1e-3*0.01, Beta1: 0.9, Beta2: 0.999, Bias2Sqrt: float32(math.Sqrt(1 - 0.999)), Eps: 1e-8, StepSize: 1e-3 / (1 - 0.9)},
	{Decay: 1 - 6e-4*0.1, Beta1: 0.9, Beta2: 0.95, Bias2Sqrt: float32(math.Sqrt(1 - math.Pow(0.95, 7))), Eps: 1e-8, StepSize: float32(6e-4 / (1 - math.Pow(0.9, 7)))},
	{Decay: 1, Beta1: 0.5, Beta2: 0.25, Bias2Sqrt: 0.75, Eps: 0, StepSize: 3},
	{Decay: 0.5, Beta1: 0, Beta2: 0, Bias2Sqrt: 1, Eps: 1e-3, StepSize: 1e-2},
}

// adamData returns p, g, m, v of length n: normal values with specials and
// random bit patterns in p and g, and v >= 0 (a second moment).
func adamData(r *rand.Rand, n int) (p, g, m, v []float32) {
	p, g, m = mixedData(r, n, 1, true), mixedData(r, n, 1e-2, true), mixedData(r, n, 1e-3, false)
	v = mixedData(r, n, 1e-4, false)
	for i := range v {
		v[i] = float32(math.Abs(float64(v[i])))
		if r.IntN(16) == 0 {
			v[i] = 0
		}
	}
	return p, g, m, v
}

// TestImplAdamUpdate: every backend's Adam row gives the pure-Go bits for
// p, m and v, at every tail length, with specials in the parameters and
// gradients.
func TestImplAdamUpdate(t *testing.T) {
	forEachImpl(t, func(t *testing.T, b *impl) {
		r := rand.New(rand.NewPCG(7, 8))
		for _, c := range adamCases {
			for _, n := range rowSizes() {
				p, g, m, v := adamData(r, n)
				wp, wm, wv := clone(p), clone(m), clone(v)
				generic.adamUpdate(wp, g, wm, wv, c.coeffs())
				b.adamUpdate(p, g, m, v, c.coeffs())
				requireBitsEqual(t, "adam p", p, wp)
				requireBitsEqual(t, "adam m", m, wm)
				requireBitsEqual(t, "adam v", v, wv)
			}
		}
	})
}

// TestAdamUpdateLayouts: every backend's Adam row touches exactly its
// elements: misaligned operands in sentinel-padded buffers and operands
// flush against guard pages, at every tail length.
func TestAdamUpdateLayouts(t *testing.T) {
	forEachImpl(t, func(t *testing.T, b *impl) {
		r := rand.New(rand.NewPCG(3, 4))
		for _, n := range []int{0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 67, 100} {
			p0, g0, m0, v0 := adamData(r, n)
			wp, wm, wv := clone(p0), clone(m0), clone(v0)
			generic.adamUpdate(wp, g0, wm, wv, adamCases[0].coeffs())
			forEachLayout(t, func(a *arena) {
				p, g, m, v := a.floats(n, p0), a.floats(n, g0), a.floats(n, m0), a.floats(n, v0)
				b.adamUpdate(p, g, m, v, adamCases[0].coeffs())
				requireBitsEqual(t, "adam p", p, wp)
				requireBitsEqual(t, "adam m", m, wm)
				requireBitsEqual(t, "adam v", v, wv)
			})
		}
	})
}

// TestAdamUpdateSplit: the public AdamUpdate on an array large enough to be
// split over the worker pool gives the bits of one pure-Go pass, whatever
// the thread count.
func TestAdamUpdateSplit(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	n := 3*adamParallelMin + 77
	if testing.Short() {
		n = adamParallelMin + 77
	}
	p, g, m, v := adamData(r, n)
	c := adamCases[1]
	wp, wm, wv := clone(p), clone(m), clone(v)
	adamUpdateGeneric(wp, g, wm, wv, c.coeffs())
	for _, w := range []int{1, 2, 3} {
		restore := setMaxWorkers(w)
		gp, gm, gv := clone(p), clone(m), clone(v)
		AdamUpdate(gp, g, gm, gv, c)
		restore()
		requireBitsEqual(t, "AdamUpdate p", gp, wp)
		requireBitsEqual(t, "AdamUpdate m", gm, wm)
		requireBitsEqual(t, "AdamUpdate v", gv, wv)
	}
}

// TestAdamUpdateReference pins the reference to the scalar formula written
// out in float64 with a float32 rounding after every operation.
func TestAdamUpdateReference(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	p, g, m, v := adamData(r, 257)
	c := adamCases[0]
	gp, gm, gv := clone(p), clone(m), clone(v)
	adamUpdateGeneric(gp, g, gm, gv, c.coeffs())
	f := func(x float64) float64 { return float64(float32(x)) }
	for j := range p {
		c1, c2 := f(1-float64(c.Beta1)), f(1-float64(c.Beta2))
		th := f(float64(c.Decay) * float64(p[j]))
		mj := f(f(float64(c.Beta1)*float64(m[j])) + f(c1*float64(g[j])))
		vj := f(f(float64(c.Beta2)*float64(v[j])) + f(f(c2*float64(g[j]))*float64(g[j])))
		den := f(f(math.Sqrt(vj)/float64(c.Bias2Sqrt)) + float64(c.Eps))
		want := []float32{float32(f(th - f(f(float64(c.StepSize)*mj)/den))), float32(mj), float32(vj)}
		for k, got := range []float32{gp[j], gm[j], gv[j]} {
			if !sameBits(got, want[k]) {
				t.Fatalf("element %d output %d: got %v, want %v (p %v g %v m %v v %v)", j, k, got, want[k], p[j], g[j], m[j], v[j])
			}
		}
	}
}

func TestAdamUpdatePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("AdamUpdate with mismatched lengths did not panic")
		}
	}()
	AdamUpdate(make([]float32, 3), make([]float32, 3), make([]float32, 2), make([]float32, 3), adamCases[0])
}

func BenchmarkAdamUpdate(b *testing.B) {
	const n = 1 << 22
	r := rand.New(rand.NewPCG(1, 2))
	p, g, m, v := adamData(r, n)
	for _, th := range []int{1, 2} {
		b.Run(map[int]string{1: "threads=1", 2: "threads=2"}[th], func(b *testing.B) {
			prev := Threads()
			SetThreads(th)
			defer SetThreads(prev)
			b.SetBytes(28 * n)
			for b.Loop() {
				AdamUpdate(p, g, m, v, adamCases[1])
			}
		})
	}
}

// TestZero: Zero clears every element (-0, NaN and all) at sizes below and
// above the parallel split, with 1 to 3 workers.
func TestZero(t *testing.T) {
	for _, n := range []int{0, 1, 17, zeroParallelMin + 5} {
		for _, w := range []int{1, 2, 3} {
			restore := setMaxWorkers(w)
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(math.Copysign(float64(i%7), -1))
			}
			if n > 0 {
				x[n-1] = float32(math.NaN())
			}
			Zero(x)
			restore()
			for i, v := range x {
				if math.Float32bits(v) != 0 {
					t.Fatalf("n=%d workers=%d: x[%d] = %v after Zero", n, w, i, v)
				}
			}
		}
	}
}
