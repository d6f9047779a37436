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

// geluBackwardGeneric: d/dx x·Φ(x) = Φ(x) + x·φ(x).
func geluBackwardGeneric(dx, x, dy []float32) {
	x, dy = x[:len(dx)], dy[:len(dx)]
	for i, v := range x {
		_, phi := geluPhi(v)
		a := float32(v * v)
		a = float32(a * -0.5)
		pdf := float32(exp32(a) * 0.39894228)
		g := fma32(v, pdf, phi)
		dx[i] = float32(dy[i] * g)
	}
}

// geluTanhParts returns x², tanh(√(2/π)(x + 0.044715x³)) and x/2.
func geluTanhParts(x float32) (x2, th, h float32) {
	x2 = float32(x * x)
	x3 := float32(x2 * x)
	u := float32(0.7978846 * fma32(0.044715, x3, x))
	e := exp32(u + u)
	d := e + 1
	q := 2 / d
	th = 1 - q
	h = float32(0.5 * x)
	return x2, th, h
}

func geluTanhGeneric(dst, src []float32) {
	src = src[:len(dst)]
	for i, x := range src {
		_, th, h := geluTanhParts(x)
		dst[i] = fma32(h, th, h)
	}
}

func geluTanhBackwardGeneric(dx, x, dy []float32) {
	x, dy = x[:len(dx)], dy[:len(dx)]
	for i, v := range x {
		x2, th, h := geluTanhParts(v)
		s := fma32(-th, th, 1)
		k := float32(fma32(0.134145, x2, 1) * 0.7978846)
		t1 := float32(float32(h*s) * k)
		g := fma32(0.5, th, 0.5) + t1
		dx[i] = float32(dy[i] * g)
	}
}
