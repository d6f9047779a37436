package kernels

import "math"

// Tanh, sigmoid, log, log1p and division: pure-Go elementwise kernels. They
// have no assembly versions of their own, so every backend runs this code.
// Tanh and Sigmoid compute their exp with the dispatched Exp (whose bits
// every backend shares), using dst as its scratch; in place (dst == src)
// they call the pure-Go exp per element instead, with the same bits. Every
// product followed by an addition is written float32(a*b) or fma32, as
// everywhere in this package.

// actChunk is the number of elements Tanh and Sigmoid process per pass (the
// three passes over a chunk stay in cache).
const actChunk = 1024

// Tanh writes dst[i] = tanh(src[i]). |x| < 0.625: the odd polynomial
// x + x·s·P(s), s = x² (Cephes' tanhf coefficients, Horner with each
// product rounded); otherwise 1 - 2/(exp(2|x|) + 1) with the canonical exp;
// then x's sign. Error against
// float64 math.Tanh (tested): at most 1.5 ulp; ±1 beyond |x| ≈ 9.01, ±0 kept,
// NaN → NaN.
func Tanh(dst, src []float32) {
	checkLen2("Tanh", "dst", dst, "src", src)
	if len(dst) > 0 && &dst[0] == &src[0] {
		for i, x := range src {
			dst[i] = tanh32(x)
		}
		return
	}
	for len(src) > 0 {
		n := min(len(src), actChunk)
		x, y := src[:n], dst[:n]
		for i, v := range x {
			a := abs32(v)
			y[i] = a + a
		}
		Exp(y, y)
		for i, v := range x {
			y[i] = tanhFrom(v, y[i])
		}
		src, dst = src[n:], dst[n:]
	}
}

// TanhBackward writes dx[i] = dy[i]·(1 - y[i]²) from the output y = Tanh(x)
// (the factor is one fused multiply-add, fma(-y, y, 1)).
func TanhBackward(dx, y, dy []float32) {
	checkLen3("TanhBackward", "dx", dx, "y", y, "dy", dy)
	y, dy = y[:len(dx)], dy[:len(dx)]
	for i, v := range y {
		dx[i] = float32(dy[i] * fma32(-v, v, 1))
	}
}

// Sigmoid writes dst[i] = 1/(1 + e^-x): for x ≥ 0 as 1/(1 + exp(-x)), for
// x < 0 as e/(1 + e) with e = exp(x) (canonical exp), so neither side
// overflows. Error against float64 (tested): at most 2.5 ulp where the result is
// a normal float32; +0 for x < -87.34 (the true value is below 2^-126, like
// the canonical exp), 1 for x > 16.6, NaN → NaN.
func Sigmoid(dst, src []float32) {
	checkLen2("Sigmoid", "dst", dst, "src", src)
	if len(dst) > 0 && &dst[0] == &src[0] {
		for i, x := range src {
			dst[i] = sigmoid32(x)
		}
		return
	}
	for len(src) > 0 {
		n := min(len(src), actChunk)
		x, y := src[:n], dst[:n]
		for i, v := range x {
			y[i] = -abs32(v)
		}
		Exp(y, y)
		for i, v := range x {
			y[i] = sigmoidFrom(v, y[i])
		}
		src, dst = src[n:], dst[n:]
	}
}

// SigmoidBackward writes dx[i] = dy[i]·(y[i]·(1 - y[i])) from the output
// y = Sigmoid(x), each operation rounded once in that order.
func SigmoidBackward(dx, y, dy []float32) {
	checkLen3("SigmoidBackward", "dx", dx, "y", y, "dy", dy)
	y, dy = y[:len(dx)], dy[:len(dx)]
	for i, v := range y {
		t := float32(v * (1 - v))
		dx[i] = float32(dy[i] * t)
	}
}

// Log writes dst[i] = ln(src[i]): the argument is split into 2^e·m with
// m in [√½, √2), then ln m from Cephes' logf polynomial in m-1 and e·ln 2 in
// two parts, Horner with each product rounded. Error against float64
// math.Log (tested): at most 1 ulp for every positive input, subnormals
// included. Log(0) = -Inf, Log(+Inf) = +Inf, Log(x < 0) = NaN, NaN → NaN.
func Log(dst, src []float32) {
	checkLen2("Log", "dst", dst, "src", src)
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] = log32(x)
	}
}

// Log1p writes dst[i] = ln(1 + src[i]), accurate for small |x| too: with
// u = 1 + x (rounded), x itself when u == 1, else Log(u)·(x/(u-1)) (the
// rounding error of u cancels to first order). Error against float64
// math.Log1p (tested): at most 2.5 ulp. Log1p(-1) = -Inf, x < -1 → NaN, +Inf →
// +Inf, NaN → NaN.
func Log1p(dst, src []float32) {
	checkLen2("Log1p", "dst", dst, "src", src)
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] = log1p32(x)
	}
}

// Div writes dst[i] = a[i] / b[i] (IEEE division, correctly rounded).
func Div(dst, a, b []float32) {
	checkLen3("Div", "dst", dst, "a", a, "b", b)
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] / b[i]
	}
}

// Cephes tanhf: tanh x = x + x·s·P(s), s = x², for |x| < 0.625.
const (
	tanhSmall = 0.625
	tanhP0    = -5.70498872745e-3
	tanhP1    = 2.06390887954e-2
	tanhP2    = -5.37397155531e-2
	tanhP3    = 1.33314422036e-1
	tanhP4    = -3.33332819422e-1
)

// abs32 clears the sign bit (NaN stays NaN).
func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// tanhFrom returns tanh(x) given e = exp(2|x|) (canonical exp; used only
// for |x| ≥ 0.625, where it is at most ≈2.4e38, never +Inf).
func tanhFrom(x, e float32) float32 {
	a := abs32(x)
	var r float32
	switch {
	case a < 0x1p-12: // x³/3 is below half an ulp of x: tanh x rounds to x
		return x
	case a < tanhSmall:
		s := float32(a * a)
		p := float32(tanhP0)
		p = float32(p*s) + tanhP1
		p = float32(p*s) + tanhP2
		p = float32(p*s) + tanhP3
		p = float32(p*s) + tanhP4
		r = float32(float32(p*s)*a) + a
	default: // NaN takes this branch and stays NaN
		r = 1 - 2/(e+1)
	}
	return math.Float32frombits(math.Float32bits(r) | math.Float32bits(x)&(1<<31))
}

// tanh32 is tanh of one value, the definition Tanh computes.
func tanh32(x float32) float32 {
	a := abs32(x)
	return tanhFrom(x, exp32(a+a))
}

// sigmoidFrom returns σ(x) given e = exp(-|x|): 1/(1+e) for x ≥ 0, e/(1+e)
// otherwise (NaN: e is NaN).
func sigmoidFrom(x, e float32) float32 {
	if x >= 0 {
		return 1 / (1 + e)
	}
	return e / (1 + e)
}

// sigmoid32 is σ of one value, the definition Sigmoid computes.
func sigmoid32(x float32) float32 { return sigmoidFrom(x, exp32(-abs32(x))) }

// Cephes logf polynomial for ln(1+f), f in [√½-1, √2-1):
// f - f²/2 + f³·Q(f).
var logQ = [9]float32{7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1,
	1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1}

const (
	logSqrtHalf = 0.70710678118654752
	logLn2Hi    = 0.693359375
	logLn2Lo    = -2.12194440e-4
)

func log32(x float32) float32 {
	switch {
	case x != x || x == float32(math.Inf(1)):
		return x
	case x == 0:
		return float32(math.Inf(-1))
	case x < 0:
		return float32(math.NaN())
	}
	b := math.Float32bits(x)
	e := int32(0)
	if b < 0x00800000 { // subnormal: scale by 2^23 (exact)
		b = math.Float32bits(x * (1 << 23))
		e = -23
	}
	e += int32(b>>23) - 126
	m := math.Float32frombits(b&0x007fffff | 0x3f000000) // [0.5, 1)
	var f float32
	if m < logSqrtHalf {
		e--
		f = (m + m) - 1 // exact
	} else {
		f = m - 1 // exact
	}
	z := float32(f * f)
	p := logQ[0]
	for _, c := range logQ[1:] {
		p = float32(p*f) + c
	}
	y := float32(float32(p*f) * z)
	fe := float32(e)
	y = float32(fe*logLn2Lo) + y
	y = float32(-0.5*z) + y // exact product
	r := f + y
	return float32(fe*logLn2Hi) + r // exact product: logLn2Hi has 9 bits, |e| < 2^8
}

func log1p32(x float32) float32 {
	u := 1 + x
	switch {
	case u == 1: // |x| below half an ulp of 1 (and x = ±0): ln(1+x) = x
		return x
	case u == float32(math.Inf(1)):
		return u
	}
	return float32(log32(u) * (x / (u - 1)))
}
