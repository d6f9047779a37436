package kernels

// GELU in two forms (CANONICAL.md). The exact form is x·Φ(x) with
// Φ(x) = 0.5 + 0.5·erf(x/√2) and erf(z) a clamped odd rational approximation
// z·P(z²)/Q(z²) (one IEEE division, no exp); the tanh form uses
// tanh(u) = 1 - 2/(exp(2u)+1).
//
// The erf coefficients are our own: a degree-5/5 (in z²) fit of erf(z)/z
// minimizing the maximum absolute error of erf on [0, 4] (Gauss-Newton on
// an L^p norm with growing p, started from a Sanathanan-Koerner linearized
// least-squares fit; float64 fit error 2.2e-8), rounded to float32. The
// approach (clamp, odd rational, one division) is the one of Eigen's fast
// float erf; the coefficients are not Eigen's.

// geluClamp is 4·√2 in float32: x is clamped to ±geluClamp, where the
// rational erf evaluates to exactly ±1 (so Φ is exactly 0 or 1 beyond).
const geluClamp = 5.656854152679443

// erf numerator P(w) and denominator Q(w) coefficients, w = z², from the
// highest degree down (Q's constant term is 1).
var (
	geluErfP = [6]float32{1.97527629097749e-06, 0.000288019742583856, 0.004002124536782503,
		0.05346281826496124, 0.19621175527572632, 1.128378987312317}
	geluErfQ = [5]float32{3.7484365748241544e-05, 0.001216014614328742, 0.01544136367738247,
		0.11646127700805664, 0.5072193145751953}
)

// geluPhi returns xl = max(-geluClamp, x) (NaN propagates) and Φ(x), the
// standard normal CDF, as 0.5 + 0.5·erf(xc/√2) with xc = min(geluClamp, xl)
// and erf clamped to [-1, 1].
func geluPhi(x float32) (xl, phi float32) {
	xl = x
	if xl < -geluClamp {
		xl = -geluClamp
	}
	xc := xl
	if xc > geluClamp {
		xc = geluClamp
	}
	z := float32(xc * 0.70710677)
	w := float32(z * z)
	p := geluErfP[0]
	for _, c := range geluErfP[1:] {
		p = fma32(p, w, c)
	}
	p = float32(p * z)
	q := geluErfQ[0]
	for _, c := range geluErfQ[1:] {
		q = fma32(q, w, c)
	}
	q = fma32(q, w, 1)
	e := p / q // erf(z)
	// The float32 rational overshoots ±1 by a few ulp near |z| ≈ 3.7; clamp
	// so that Φ stays in [0, 1] (NaN propagates: both tests are false).
	if e > 1 {
		e = 1
	}
	if e < -1 {
		e = -1
	}
	return xl, fma32(0.5, e, 0.5)
}

// geluGeneric: y = xl·Φ(x); xl = x except below -geluClamp, where Φ = 0 and
// xl keeps -Inf·0 from making NaN (GELU(-Inf) = -0).
func geluGeneric(dst, src []float32) {
	src = src[:len(dst)]
	for i, x := range src {
		xl, phi := geluPhi(x)
		dst[i] = float32(xl * phi)
	}
}

// geluBackwardGeneric: d/dx x·Φ(x) = Φ(x) + x·φ(x). The x·φ(x) term is
// evaluated at xb = x clamped to exp's own range [expLo, expHi] (no extra
// constant for the SIMD kernels): φ is exactly +0 far inside it (x²/2 >
// 87.34 from |x| ≈ 13.2), so no finite result changes, and ±Inf give the
// limits 1 and +0 instead of NaN from Inf·0.
func geluBackwardGeneric(dx, x, dy []float32) {
	x, dy = x[:len(dx)], dy[:len(dx)]
	for i, v := range x {
		_, phi := geluPhi(v)
		xb := v
		if xb > expHi { // NaN stays NaN
			xb = expHi
		}
		if xb < expLo {
			xb = expLo
		}
		a := float32(xb * xb)
		a = float32(a * -0.5)
		pdf := float32(exp32(a) * 0.39894228)
		g := fma32(xb, pdf, phi)
		dx[i] = float32(dy[i] * g)
	}
}

// geluTanhClamp returns xl = max(-geluClamp, x) and xc = min(geluClamp, xl)
// (NaN propagates through both). The tanh form's th rounds to exactly ±1
// for every |x| >= geluClamp (TestGELUTanhSaturates checks every float32),
// so the kernels evaluate th at xc: no finite result changes, while x², x³
// stay finite — without the clamp x² overflows for |x| ≳ 1.8e19 and the
// backward's (h·0)·Inf made NaN where the gradient is exactly 0 or 1.
func geluTanhClamp(x float32) (xl, xc float32) {
	xl = x
	if xl < -geluClamp {
		xl = -geluClamp
	}
	xc = xl
	if xc > geluClamp {
		xc = geluClamp
	}
	return xl, xc
}

// geluTanhParts returns x² and tanh(√(2/π)(x + 0.044715x³)) at the clamped
// input xc.
func geluTanhParts(xc float32) (x2, th float32) {
	x2 = float32(xc * xc)
	x3 := float32(x2 * xc)
	u := float32(0.7978846 * fma32(0.044715, x3, xc))
	e := exp32(u + u)
	d := e + 1
	q := 2 / d
	th = 1 - q
	return x2, th
}

// geluTanhGeneric: y = fma(h, th, h) with h = xl/2: x for x >= geluClamp
// (+Inf stays +Inf), exactly +0 below -geluClamp (-Inf included).
func geluTanhGeneric(dst, src []float32) {
	src = src[:len(dst)]
	for i, x := range src {
		xl, xc := geluTanhClamp(x)
		_, th := geluTanhParts(xc)
		h := float32(0.5 * xl)
		dst[i] = fma32(h, th, h)
	}
}

// geluTanhBackwardGeneric: every term at xc, so the gradient is exactly 1
// above geluClamp and +0 below -geluClamp (±Inf included): s = 0 there.
func geluTanhBackwardGeneric(dx, x, dy []float32) {
	x, dy = x[:len(dx)], dy[:len(dx)]
	for i, v := range x {
		_, xc := geluTanhClamp(v)
		x2, th := geluTanhParts(xc)
		h := float32(0.5 * xc)
		s := fma32(-th, th, 1)
		k := float32(fma32(0.134145, x2, 1) * 0.7978846)
		t1 := float32(float32(h*s) * k)
		g := fma32(0.5, th, 0.5) + t1
		dx[i] = float32(dy[i] * g)
	}
}
