package kernels

// The public elementwise and reduction kernels. Each validates lengths
// (panicking with them in the message), announces its memory to the race
// detector, and calls the active backend. Destinations may alias sources.

// Exp writes dst[i] = e^src[i] with the canonical float32 exp: within 1.5 ulp
// on [-87.34, 88.38], +0 below, ≈2.4e38 above, NaN for NaN.
func Exp(dst, src []float32) {
	checkLen2("Exp", "dst", dst, "src", src)
	raceRW(dst, src)
	cur().exp(dst, src)
}

// ReLU writes dst[i] = max(src[i], 0); NaN stays NaN.
func ReLU(dst, src []float32) {
	checkLen2("ReLU", "dst", dst, "src", src)
	raceRW(dst, src)
	cur().relu(dst, src)
}

// ReLUBackward writes dx[i] = dy[i] where x[i] > 0, else 0.
func ReLUBackward(dx, x, dy []float32) {
	checkLen3("ReLUBackward", "dx", dx, "x", x, "dy", dy)
	raceRW(dx, x)
	raceRead(dy)
	cur().reluBackward(dx, x, dy)
}

// GELU writes the exact (erf) GELU, dst[i] = x·Φ(x) with Φ the standard
// normal CDF, like torch.nn.GELU(). Φ is 0.5 + 0.5·erf(x/√2) with a
// rational erf (CANONICAL.md), good to about 2e-7 absolute. Error against the
// float64 function (tested): at most 2.5e-7·max(1, |x|), and at most 8 ulp
// for x ≥ -1; for x < -1 the relative error grows as Φ(x) gets small
// (measured 49 ulp at x in [-2, -1), 766 ulp in [-3, -2), as PyTorch's float32
// 0.5·(1+erf) form), and GELU(x) is -0 below x ≈ -5.66.
// GELU(NaN) = NaN, GELU(+Inf) = +Inf, GELU(-Inf) = -0.
func GELU(dst, src []float32) {
	checkLen2("GELU", "dst", dst, "src", src)
	raceRW(dst, src)
	cur().gelu(dst, src)
}

// GELUBackward writes dx[i] = dy[i]·(Φ(x) + x·φ(x)), the gradient of GELU,
// with GELU's Φ and φ from the canonical exp. Error of Φ(x) + x·φ(x) against
// the float64 function (tested): at most 2.5e-7·max(1, |x|), and for x ≥ -1 at
// most 6·(ulp + 2^-24·(Φ(x) + |x|φ(x))). Finite for every finite x; the
// gradient at +Inf is 1 and at -Inf +0 (the limits).
func GELUBackward(dx, x, dy []float32) {
	checkLen3("GELUBackward", "dx", dx, "x", x, "dy", dy)
	raceRW(dx, x)
	raceRead(dy)
	cur().geluBackward(dx, x, dy)
}

// GELUTanh writes the tanh approximation of GELU,
// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), like
// torch.nn.GELU(approximate="tanh") and GPT-2's "gelu_new". It is x for
// x ≥ 4·√2 (+Inf included) and +0 for x ≤ -4·√2 (-Inf included), where tanh
// rounds to exactly ±1; NaN stays NaN.
func GELUTanh(dst, src []float32) {
	checkLen2("GELUTanh", "dst", dst, "src", src)
	raceRW(dst, src)
	cur().geluTanh(dst, src)
}

// GELUTanhBackward writes dx = dy · d/dx GELUTanh(x). The derivative is
// finite for every finite x, exactly 1 for x ≥ 4·√2 and +0 for x ≤ -4·√2,
// ±Inf included (the limits).
func GELUTanhBackward(dx, x, dy []float32) {
	checkLen3("GELUTanhBackward", "dx", dx, "x", x, "dy", dy)
	raceRW(dx, x)
	raceRead(dy)
	cur().geluTanhBackward(dx, x, dy)
}

// Add writes dst[i] = a[i] + b[i].
func Add(dst, a, b []float32) {
	checkLen3("Add", "dst", dst, "a", a, "b", b)
	raceRW(dst, a)
	raceRead(b)
	cur().add(dst, a, b)
}

// Sub writes dst[i] = a[i] - b[i].
func Sub(dst, a, b []float32) {
	checkLen3("Sub", "dst", dst, "a", a, "b", b)
	raceRW(dst, a)
	raceRead(b)
	cur().sub(dst, a, b)
}

// Mul writes dst[i] = a[i] * b[i].
func Mul(dst, a, b []float32) {
	checkLen3("Mul", "dst", dst, "a", a, "b", b)
	raceRW(dst, a)
	raceRead(b)
	cur().mul(dst, a, b)
}

// Scale writes dst[i] = alpha * src[i].
func Scale(dst, src []float32, alpha float32) {
	checkLen2("Scale", "dst", dst, "src", src)
	raceRW(dst, src)
	cur().scale(dst, src, alpha)
}

// Axpy computes y[i] = alpha*x[i] + y[i] with one rounding (a fused
// multiply-add) per element.
func Axpy(alpha float32, x, y []float32) {
	checkLen2("Axpy", "x", x, "y", y)
	raceRW(y, x)
	cur().axpy(alpha, x, y)
}

// Dot returns Σ x[i]·y[i], accumulated with fused multiply-adds in the fixed
// 32-lane order (CANONICAL.md), so every backend returns the same bits.
// |error| ≤ (⌈n/32⌉ + 5)·2^-24·Σ|x[i]·y[i]| (tested against float64).
func Dot(x, y []float32) float32 {
	checkLen2("Dot", "x", x, "y", y)
	raceRead(x)
	raceRead(y)
	return cur().dot(x, y)
}

// Sum returns Σ x[i] in the fixed 32-lane order (CANONICAL.md).
// |error| ≤ (⌈n/32⌉ + 4)·2^-24·Σ|x[i]| (tested against float64).
func Sum(x []float32) float32 {
	raceRead(x)
	return cur().sum(x)
}

// Max returns the largest element of x: NaN if any element is NaN, -Inf for
// an empty slice.
func Max(x []float32) float32 {
	raceRead(x)
	return cur().max(x)
}
