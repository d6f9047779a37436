package kernels

import (
	"math"
	"testing"
)

// float64 definitions of the GELU family (PyTorch's formulas).
var (
	geluK = math.Sqrt(2 / math.Pi)

	phi64 = func(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) } // Φ(x)
	pdf64 = func(x float64) float64 { return math.Exp(-x*x/2) / math.Sqrt(2*math.Pi) }
	th64  = func(x float64) float64 { return math.Tanh(geluK * (x + 0.044715*x*x*x)) }

	gelu64      = func(x float64) float64 { return x * phi64(x) }
	geluGrad64  = func(x float64) float64 { return phi64(x) + x*pdf64(x) }
	geluTanh64  = func(x float64) float64 { return 0.5 * x * (1 + th64(x)) }
	geluTGrad64 = func(x float64) float64 {
		th := th64(x)
		return 0.5*(1+th) + 0.5*x*(1-th*th)*geluK*(1+3*0.044715*x*x)
	}
)

// The stated accuracy bounds of the GELU kernels against the float64
// formulas (ref = the float64 value at the float32 input x).
//
// GELU: |y − ref| ≤ 2.5e-7·max(1, |x|) for every x, and for x ≥ −1 also
// |y − ref| ≤ 8·ulp(ref) + 2^-120. Φ = 0.5 + 0.5·erf(x/√2) with the clamped
// rational erf is good to about 2e-7 absolute (measured max 2.2e-7·max(1,|x|)
// on a stride-7 sweep of [-30, 30]), but for x < −1 that absolute error is
// large relative to the small Φ(x) (PyTorch's float32 GELU has the same
// cancellation): measured 49 ulp on [−2, −1), 766 on [−3, −2), 3.4e4 on
// [−4, −3), and beyond x ≈ −5.66 the result is −0. Measured for x ≥ −1: 4.7
// ulp.
//
// GELUBackward: |g − ref| ≤ 2.5e-7·max(1, |x|) for every x, and for x ≥ −1
// also |g − ref| ≤ 6·(ulp(ref) + 2^-24·(Φ(x) + |x|φ(x))) (the absolute term
// covers the cancellation where g crosses zero at x ≈ −0.75; measured 1.7e-7
// and 3.5).
func geluBound(x, ref float64) float64 {
	b := 2.5e-7 * max(1, math.Abs(x))
	if x >= -1 {
		b = min(b, 8*ulp32(ref)+0x1p-120)
	}
	return b
}
func geluGradBound(x, ref float64) float64 {
	b := 2.5e-7 * max(1, math.Abs(x))
	if x >= -1 {
		b = min(b, 6*(ulp32(ref)+roundoff*(phi64(x)+math.Abs(x)*pdf64(x))))
	}
	return b
}

// GELUTanh: |y − ref| ≤ 4·ulp(ref) + |x|·2^-23. For x < −2 the result is
// h·(1+th) with th ≈ −1 rounded to float32, an absolute error ≈ |x|·2^-25
// that is large relative to the tiny result (PyTorch's float32 kernel
// behaves the same way).
//
// GELUTanhBackward: |g − ref| ≤ 4·ulp(ref) + 4·2^-24·(1 + |x| + 0.134145·|x|³).
func geluTanhBound(x, ref float64) float64 { return 4*ulp32(ref) + math.Abs(x)*0x1p-23 }
func geluTanhGradBound(x, ref float64) float64 {
	ax := math.Abs(x)
	return 4*ulp32(ref) + 4*roundoff*(1+ax+0.134145*ax*ax*ax)
}

type geluAcc struct {
	name  string
	ref   func(float64) float64
	bound func(x, ref float64) float64
	kern  func(dst, src []float32)
}

func ones(n int) []float32 {
	o := make([]float32, n)
	for i := range o {
		o[i] = 1
	}
	return o
}

var geluAccCases = []geluAcc{
	{"GELU", gelu64, geluBound, GELU},
	{"GELUBackward", geluGrad64, geluGradBound, func(d, s []float32) { GELUBackward(d, s, ones(len(s))) }},
	{"GELUTanh", geluTanh64, geluTanhBound, GELUTanh},
	{"GELUTanhBackward", geluTGrad64, geluTanhGradBound, func(d, s []float32) { GELUTanhBackward(d, s, ones(len(s))) }},
}

// TestGELUAccuracy checks the pure-Go definitions against the float64
// formulas on a strided sweep of [-30, 30] within the bounds above, and that
// every backend gives the same bits on the sweep.
func TestGELUAccuracy(t *testing.T) {
	xs := floatSweep(-30, 30, 3*sweepStride())
	for _, c := range geluAccCases {
		t.Run(c.name, func(t *testing.T) {
			ys := make([]float32, len(xs))
			reference(func() { c.kern(ys, xs) })
			worst, worstX, worstErr := 0.0, float32(0), 0.0
			for i, x := range xs {
				ref := c.ref(float64(x))
				err := math.Abs(float64(ys[i]) - ref)
				if r := err / c.bound(float64(x), ref); r > worst || r != r {
					worst, worstX, worstErr = r, x, err
				}
			}
			t.Logf("%s: %d inputs, worst error %.3g = %.2f of the bound, at x=%v", c.name, len(xs), worstErr, worst, worstX)
			if !(worst <= 1) {
				ref := c.ref(float64(worstX))
				t.Errorf("%s(%v) error %.3g exceeds the bound %.3g (ref %v)", c.name, worstX, worstErr, c.bound(float64(worstX), ref), ref)
			}
			forEachBackend(t, func(t *testing.T) {
				got := make([]float32, len(xs))
				c.kern(got, xs)
				requireBitsEqual(t, c.name+" sweep", got, ys)
			})
		})
	}
}

// TestGELUGradFiniteDiff checks both backward kernels against central finite
// differences of the float64 forward formulas, which validates the
// derivative formulas used as references above:
// |g − fd| ≤ 1e-6·(1 + |x|) with h = 2^-12·max(1, |x|).
func TestGELUGradFiniteDiff(t *testing.T) {
	r := newRand(t)
	xs := append(randNormal(r, 2000, 0, 3), -8, -5, -3, -0.75179, -1e-3, 0, 1e-3, 0.5, 3, 5, 8)
	for _, c := range []struct {
		name string
		f    func(float64) float64
		kern func(dx, x, dy []float32)
	}{
		{"GELUBackward", gelu64, GELUBackward},
		{"GELUTanhBackward", geluTanh64, GELUTanhBackward},
	} {
		forEachBackend(t, func(t *testing.T) {
			g := make([]float32, len(xs))
			c.kern(g, xs, ones(len(xs)))
			for i, x := range xs {
				x64 := float64(x)
				h := 0x1p-12 * max(1, math.Abs(x64))
				fd := (c.f(x64+h) - c.f(x64-h)) / (2 * h)
				if d := math.Abs(float64(g[i]) - fd); d > 1e-6*(1+math.Abs(x64)) {
					t.Errorf("%s(%v) = %v, finite difference %v (diff %.3g)", c.name, x, g[i], fd, d)
				}
			}
		})
	}
}

// TestGELUGradChain: the backward kernels are dx = dy·g(x) with one final
// rounded multiply, so dx(x, dy) == float32(dy · dx(x, 1)) bit for bit.
func TestGELUGradChain(t *testing.T) {
	r := newRand(t)
	x := genDefault(r, 4099)
	dy := genDefault(r, 4099)
	for _, c := range []struct {
		name string
		kern func(dx, x, dy []float32)
	}{{"GELUBackward", GELUBackward}, {"GELUTanhBackward", GELUTanhBackward}} {
		forEachBackend(t, func(t *testing.T) {
			g1 := make([]float32, len(x))
			c.kern(g1, x, ones(len(x)))
			got := make([]float32, len(x))
			c.kern(got, x, dy)
			want := make([]float32, len(x))
			for i := range want {
				want[i] = float32(dy[i] * g1[i])
			}
			requireBitsEqual(t, c.name, got, want)
		})
	}
}

// TestGELUSymmetry: GELU(x) − GELU(−x) = x exactly in the float64 formula;
// the float32 kernels satisfy it within the sum of their bounds. A cheap
// check of the sign handling of the erf form (phi = h vs 1 − h).
func TestGELUSymmetry(t *testing.T) {
	r := newRand(t)
	x := randNormal(r, 1000, 0, 2)
	neg := make([]float32, len(x))
	for i := range x {
		neg[i] = -x[i]
	}
	yp, yn := make([]float32, len(x)), make([]float32, len(x))
	GELU(yp, x)
	GELU(yn, neg)
	for i := range x {
		x64 := float64(x[i])
		tol := geluBound(x64, gelu64(x64)) + geluBound(-x64, gelu64(-x64)) + ulp32(x64)
		if d := math.Abs(float64(yp[i]) - float64(yn[i]) - x64); d > tol {
			t.Errorf("GELU(%v) − GELU(%v) = %v, want %v", x[i], neg[i], yp[i]-yn[i], x[i])
		}
	}
}

// TestGELURange: Φ stays in [0, 1], so GELU(x) ≤ 0 for x < 0 and
// 0 ≤ GELU(x) ≤ x for x > 0, checked on every float32 in ±[5, 5.66] (where
// the unclamped rational erf would overshoot ±1) and on the [-30, 30] sweep,
// on every backend.
func TestGELURange(t *testing.T) {
	var xs []float32
	for v := math.Float32bits(5); v <= math.Float32bits(5.66); v++ {
		x := math.Float32frombits(v)
		xs = append(xs, x, -x)
	}
	xs = append(xs, floatSweep(-30, 30, 3*sweepStride())...)
	forEachBackend(t, func(t *testing.T) {
		y := make([]float32, len(xs))
		GELU(y, xs)
		for i, x := range xs {
			if x < 0 && !(y[i] <= 0) || x > 0 && !(y[i] >= 0 && y[i] <= x) {
				t.Fatalf("GELU(%v) = %v, outside the range of x·[0, 1]", x, y[i])
			}
		}
	})
}

// TestGELUSpecial: GELU(NaN) = NaN, GELU(±Inf) = +Inf, -0, GELU(±0) = ±0
// and below the clamp (x < −4·√2) exactly −0, on every backend.
func TestGELUSpecial(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	xs := []float32{nan, inf, -inf, 0, negZero, -6, -100, -3e38, 100, 3e38}
	want := []float32{nan, inf, negZero, 0, negZero, negZero, negZero, negZero, 100, 3e38}
	forEachBackend(t, func(t *testing.T) {
		for _, n := range []int{1, len(xs)} { // the scalar tail and the vector body
			y := make([]float32, n)
			for i := 0; i+n <= len(xs); i += n {
				GELU(y, xs[i:i+n])
				requireBitsEqual(t, "GELU special", y, want[i:i+n])
			}
		}
		g := make([]float32, 1)
		GELUBackward(g, []float32{nan}, []float32{1})
		if g[0] == g[0] {
			t.Errorf("GELUBackward(NaN) = %v, want NaN", g[0])
		}
	})
}
