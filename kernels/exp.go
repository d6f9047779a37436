package kernels

import "math"

// Constants of the canonical exp (CANONICAL.md; Cephes expf coefficients).
const (
	expHi    = 88.3762626647949
	expLo    = -87.3365478515625
	expLog2e = 1.44269504088896341
	expMagic = 12582912.0 // 1.5 * 2^23: adding it rounds to an integer
	expLn2Hi = -0.693359375
	expLn2Lo = 2.12194440e-4
	expP0    = 1.9875691500e-4
	expP1    = 1.3981999507e-3
	expP2    = 8.3334519073e-3
	expP3    = 4.1665795894e-2
	expP4    = 1.6666665459e-1
	expP5    = 5.0000001201e-1
)

// exp32 is the canonical float32 exp: within 1.5 ulp of e^x on
// [-87.34, 88.38] (tested), +0 below -87.3365 (the true values are
// subnormal or smaller), about 2.4e38 for x > 88.376 (+Inf included), NaN for
// NaN.
func exp32(x float32) float32 {
	xc := x
	if xc > expHi { // NaN compares false and stays NaN
		xc = expHi
	}
	if xc < expLo {
		xc = expLo
	}
	t := fma32(xc, expLog2e, expMagic)
	n := t - expMagic
	r := fma32(n, expLn2Hi, xc)
	r = fma32(n, expLn2Lo, r)
	p := float32(expP0)
	p = fma32(p, r, expP1)
	p = fma32(p, r, expP2)
	p = fma32(p, r, expP3)
	p = fma32(p, r, expP4)
	p = fma32(p, r, expP5)
	r2 := float32(r * r)
	y := fma32(p, r2, r) + 1
	y = y * math.Float32frombits((math.Float32bits(t)-(0x4b400000-127))<<23)
	if x < expLo {
		y = 0
	}
	return y
}

func expGeneric(dst, src []float32) {
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] = exp32(x)
	}
}
