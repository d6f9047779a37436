package kernels

// GELU in two forms (CANONICAL.md). The exact form is x·Φ(x) with the
// complementary error function from Numerical Recipes' erfcc (fractional
// error < 1.2e-7) evaluated with the canonical exp; the tanh form uses
// tanh(u) = 1 - 2/(exp(2u)+1).

// geluPhi returns Φ(x), the standard normal CDF.
func geluPhi(x float32) float32 {
	ax := x
	if ax < 0 {
		ax = -ax
	}
	z := float32(ax * 0.70710677)
	t := 1 / fma32(0.5, z, 1)
	p := float32(0.17087277)
	p = fma32(p, t, -0.82215223)
	p = fma32(p, t, 1.48851587)
	p = fma32(p, t, -1.13520398)
	p = fma32(p, t, 0.27886807)
	p = fma32(p, t, -0.18628806)
	p = fma32(p, t, 0.09678418)
	p = fma32(p, t, 0.37409196)
	p = fma32(p, t, 1.00002368)
	p = fma32(p, t, -1.26551223)
	e := exp32(fma32(-z, z, p))
	h := float32(0.5 * float32(t*e)) // erfc(|x|/√2) / 2
	if x < 0 {
		return h
	}
	return 1 - h
}

func geluGeneric(dst, src []float32) {
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] = float32(x * geluPhi(x))
	}
}

// geluBackwardGeneric: d/dx x·Φ(x) = Φ(x) + x·φ(x).
func geluBackwardGeneric(dx, x, dy []float32) {
	x, dy = x[:len(dx)], dy[:len(dx)]
	for i, v := range x {
		phi := geluPhi(v)
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
