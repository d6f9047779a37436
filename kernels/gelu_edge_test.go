package kernels

// The GELU family and exp at huge finite inputs and ±Inf: every finite input
// gives a finite gradient (the tanh backward used to return NaN from
// |x| ≈ 1.8e19, where x² overflows and (h·0)·Inf followed), ±Inf give the
// limits, and the clamps that made this so change no finite result.

import (
	"math"
	"testing"
)

// Unclamped (previous) formulations, kept to prove that the clamps change
// no result that was not NaN.
func geluTanhUnclamped(x float32) (y, g float32) {
	x2 := float32(x * x)
	x3 := float32(x2 * x)
	u := float32(0.7978846 * fma32(0.044715, x3, x))
	th := 1 - 2/(exp32(u+u)+1)
	h := float32(0.5 * x)
	s := fma32(-th, th, 1)
	k := float32(fma32(0.134145, x2, 1) * 0.7978846)
	t1 := float32(float32(h*s) * k)
	return fma32(h, th, h), fma32(0.5, th, 0.5) + t1
}

func geluGradUnclamped(x float32) float32 {
	_, phi := geluPhi(x)
	a := float32(x * x)
	a = float32(a * -0.5)
	pdf := float32(exp32(a) * 0.39894228)
	return fma32(x, pdf, phi)
}

// TestGELUTanhSaturates: the tanh form's th is exactly ±1 at |x| >=
// geluClamp, which is what lets the kernels evaluate it at the clamped
// input. Checked on every float32 in ±[c, 2c] (every 61st in -short/arm64
// runs). Beyond 2c it holds because u(x) = 0.7978846·fma(0.044715, x³, x)
// is a composition of correctly rounded, monotone operations of x > 0, so
// 2u(x) >= 2u(c) ≈ 21.9, where exp32 > 2^26 makes 1 - 2/(e+1) round to 1
// (and for x <= -c, e < 2^-24 makes e+1 round to 1, th = -1); a one-off run
// over every float32 in ±[c, 2e19] found no exception.
func TestGELUTanhSaturates(t *testing.T) {
	stride := uint32(1)
	if reduced() {
		stride = 61
	}
	c := float32(geluClamp)
	for b := math.Float32bits(c); b <= math.Float32bits(2*c); b += stride {
		x := math.Float32frombits(b)
		for _, v := range []float32{x, -x} {
			_, th := geluTanhParts(v)
			if th != float32(math.Copysign(1, float64(v))) {
				t.Fatalf("th(%v) = %v, want ±1 exactly", v, th)
			}
		}
	}
	if e := exp32(2 * float32(0.7978846*fma32(0.044715, float32(float32(c*c)*c), c))); !(e > 1<<26) {
		t.Fatalf("exp(2u(c)) = %v, want > 2^26", e)
	}
}

// TestGELUClampsKeepBits: for every finite input where the unclamped
// formulas gave a number, the clamped kernels give the same bits (a dense
// sweep of ±[c/2, 32] around the clamps, powers of two up to MaxFloat32 and
// their neighbours, and random bit patterns); where they gave NaN (the tanh
// backward from |x| ≈ 1.8e19) the gradient is now exactly 1 or +0.
func TestGELUClampsKeepBits(t *testing.T) {
	var xs []float32
	stride := uint32(61)
	if reduced() {
		stride = 997
	}
	for b := math.Float32bits(geluClamp / 2); b <= math.Float32bits(32); b += stride {
		x := math.Float32frombits(b)
		xs = append(xs, x, -x)
	}
	for e := -10; e <= 127; e++ {
		p := float32(math.Ldexp(1, e))
		for _, v := range []float32{p, math.Nextafter32(p, 0), math.Nextafter32(p, float32(math.Inf(1)))} {
			xs = append(xs, v, -v)
		}
	}
	xs = append(xs, math.MaxFloat32, -math.MaxFloat32, 1e19, -1e19, 1.8446743e19, -1.8446743e19, 1.9e19, -1.9e19)
	r := newRand(t)
	n := 1 << 18
	if reduced() {
		n = 1 << 14
	}
	for i := 0; i < n; i++ {
		xs = append(xs, math.Float32frombits(r.Uint32()))
	}
	one := []float32{1}
	for _, x := range xs {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			continue
		}
		in := []float32{x}
		var y, g, ge [1]float32
		geluTanhGeneric(y[:], in)
		geluTanhBackwardGeneric(g[:], in, one)
		geluBackwardGeneric(ge[:], in, one)
		oy, og := geluTanhUnclamped(x)
		if !sameBits(y[0], oy) {
			t.Fatalf("GELUTanh(%v) = %v, unclamped %v", x, y[0], oy)
		}
		switch {
		case og == og && !sameBits(g[0], og):
			t.Fatalf("GELUTanhBackward(%v) = %v, unclamped %v", x, g[0], og)
		case og != og && !(x > 0 && g[0] == 1 || x < 0 && math.Float32bits(g[0]) == 0):
			t.Fatalf("GELUTanhBackward(%v) = %v (%#08x), want 1 or +0", x, g[0], math.Float32bits(g[0]))
		}
		if oe := geluGradUnclamped(x); !sameBits(ge[0], oe) {
			t.Fatalf("GELUBackward(%v) = %v, unclamped %v", x, ge[0], oe)
		}
	}
}

// TestGELUHugeInputs: at huge finite inputs and ±Inf, on every backend,
// the forwards give x or a zero and the gradients exactly 1 or +0 (times
// dy), never NaN; exp gives +0 or its finite ceiling. Tested in the vector
// body and the scalar tail.
func TestGELUHugeInputs(t *testing.T) {
	inf := float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	big := []float32{1e19, 1.9e19, 2e19, 1e30, 3.4e38, math.MaxFloat32, 13.5, 90, 1e4}
	var xs, tanhY, erfY, tanhG, erfG, expY []float32
	for _, b := range big {
		xs = append(xs, b, -b)
		tanhY = append(tanhY, b, 0)
		erfY = append(erfY, b, negZero)
		tanhG = append(tanhG, 1, 0)
		erfG = append(erfG, 1, 0)
		expY = append(expY, exp32(b), exp32(-b))
		if b > expHi && (exp32(b) != exp32(expHi) || exp32(-b) != 0) {
			t.Fatalf("exp(±%v) = %v, %v: want the ceiling and +0", b, exp32(b), exp32(-b))
		}
	}
	// ±Inf: GELU(+Inf) = +Inf; GELU(-Inf) = -0 (erf), +0 (tanh); the
	// gradients are the limits 1 and +0.
	xs = append(xs, inf, -inf)
	tanhY = append(tanhY, inf, 0)
	erfY = append(erfY, inf, negZero)
	tanhG = append(tanhG, 1, 0)
	erfG = append(erfG, 1, 0)
	expY = append(expY, exp32(expHi), 0)
	if c := exp32(expHi); math.IsInf(float64(c), 0) || c < 3e38/2 {
		t.Fatalf("exp ceiling %v is not a large finite value", c)
	}
	dy := make([]float32, len(xs))
	for i := range dy {
		dy[i] = 1
	}
	forEachBackend(t, func(t *testing.T) {
		for _, n := range []int{1, len(xs)} {
			y := make([]float32, n)
			for i := 0; i+n <= len(xs); i += n {
				x, d := xs[i:i+n], dy[i:i+n]
				GELUTanh(y, x)
				requireBitsEqual(t, "GELUTanh huge", y, tanhY[i:i+n])
				GELU(y, x)
				requireBitsEqual(t, "GELU huge", y, erfY[i:i+n])
				GELUTanhBackward(y, x, d)
				requireBitsEqual(t, "GELUTanhBackward huge", y, tanhG[i:i+n])
				GELUBackward(y, x, d)
				requireBitsEqual(t, "GELUBackward huge", y, erfG[i:i+n])
				Exp(y, x)
				requireBitsEqual(t, "Exp huge", y, expY[i:i+n])
			}
		}
		// A fully masked-by-magnitude softmax row of huge finite values
		// stays finite: [MaxFloat32, -MaxFloat32, MaxFloat32, 1].
		y := make([]float32, 4)
		Softmax(y, []float32{math.MaxFloat32, -math.MaxFloat32, math.MaxFloat32, 1}, 1, 4, SoftmaxOptions{})
		requireBitsEqual(t, "Softmax huge", y, []float32{0.5, 0, 0.5, 0})
	})
}
