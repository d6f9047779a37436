package kernels

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

const (
	tExpLo = -87.3365478515625 // below: flushed to +0
	tExpHi = 88.3762626647949  // above: saturated at Exp(tExpHi)
	// expMaxULP is the stated accuracy of the canonical exp on [tExpLo, tExpHi]
	// against float64 math.Exp (1.010 ulp measured exhaustively, exp_exhaustive_test.go).
	expMaxULP = 1.5
)

// sweepStride is the step through float32 bit patterns in the strided
// sweeps: dense natively, sparser in -short mode and under emulation.
func sweepStride() uint32 {
	if reduced() {
		return 40009
	}
	return 1021
}

// floatSweep returns every stride-th float32 in [lo, hi] (by bit pattern, so
// all binades are covered evenly), plus both ends.
func floatSweep(lo, hi float32, stride uint32) []float32 {
	var xs []float32
	add := func(a, b float32) { // a ≤ b, same sign
		ua, ub := math.Float32bits(a), math.Float32bits(b)
		if ua > ub {
			ua, ub = ub, ua
		}
		for v := ua; v <= ub; v += stride {
			xs = append(xs, math.Float32frombits(v))
			if ub-v < stride {
				break
			}
		}
		xs = append(xs, a, b)
	}
	if lo < 0 {
		add(float32(math.Copysign(0, -1)), lo)
	}
	if hi >= 0 {
		add(0, hi)
	}
	return xs
}

// TestExpAccuracy: the pure-Go definition is within expMaxULP of math.Exp on
// [tExpLo, tExpHi]; every backend gives the same bits on the sweep.
func TestExpAccuracy(t *testing.T) {
	xs := floatSweep(tExpLo, tExpHi, sweepStride())
	ys := make([]float32, len(xs))
	reference(func() { Exp(ys, xs) })
	worst, worstX := 0.0, float32(0)
	for i, x := range xs {
		if d := ulpDiff(ys[i], math.Exp(float64(x))); d > worst {
			worst, worstX = d, x
		}
	}
	t.Logf("exp: %d inputs, max error %.3f ulp at x=%v", len(xs), worst, worstX)
	if worst > expMaxULP {
		t.Errorf("exp: max error %.3f ulp at x=%v (%#08x) exceeds %v ulp", worst, worstX, math.Float32bits(worstX), expMaxULP)
	}
	forEachBackend(t, func(t *testing.T) {
		got := make([]float32, len(xs))
		Exp(got, xs)
		requireBitsEqual(t, "Exp sweep", got, ys)
	})
}

// TestExpEdges pins the documented behaviour outside the accurate range.
func TestExpEdges(t *testing.T) {
	inf := float32(math.Inf(1))
	var sat float32
	reference(func() {
		y := []float32{tExpHi}
		Exp(y, y)
		sat = y[0]
	})
	if sat < 2.3e38 || sat > 2.5e38 || math.IsInf(float64(sat), 0) {
		t.Fatalf("Exp(%v) = %v, want ≈2.4e38", float32(tExpHi), sat)
	}
	below := math.Nextafter32(tExpLo, float32(math.Inf(-1)))
	cases := []struct {
		x, want float32
	}{
		{0, 1},
		{float32(math.Copysign(0, -1)), 1},
		{math.SmallestNonzeroFloat32, 1},
		{1, float32(math.E)},
		{float32(math.Inf(-1)), 0},
		{-1e30, 0},
		{-104, 0},
		{below, 0},
		{tExpHi, sat},
		{math.Nextafter32(tExpHi, inf), sat},
		{89, sat},
		{1e30, sat},
		{inf, sat},
	}
	forEachBackend(t, func(t *testing.T) {
		xs := make([]float32, len(cases))
		for i, c := range cases {
			xs[i] = c.x
		}
		ys := make([]float32, len(xs))
		Exp(ys, xs)
		for i, c := range cases {
			requireSame(t, fmt.Sprintf("Exp(%v)", c.x), ys[i], c.want)
		}
		// At the flush edge itself the result is still accurate (≈ 2^-126), not 0.
		e := []float32{tExpLo}
		Exp(e, e)
		if !(e[0] > 0) || ulpDiff(e[0], math.Exp(tExpLo)) > expMaxULP {
			t.Errorf("Exp(%v) = %v, want ≈%v", float32(tExpLo), e[0], math.Exp(tExpLo))
		}
		n := []float32{float32(math.NaN()), -float32(math.NaN())}
		Exp(n, n)
		if n[0] == n[0] || n[1] == n[1] {
			t.Errorf("Exp(NaN) = %v, want NaN", n)
		}
	})
}

// TestExpMonotone: the canonical exp never decreases on the sweep.
func TestExpMonotone(t *testing.T) {
	xs := floatSweep(tExpLo, tExpHi, sweepStride()*4+1)
	slices.Sort(xs)
	ys := make([]float32, len(xs))
	reference(func() { Exp(ys, xs) })
	for i := 1; i < len(xs); i++ {
		if ys[i] < ys[i-1] {
			t.Fatalf("Exp not monotone: Exp(%v)=%v > Exp(%v)=%v", xs[i-1], ys[i-1], xs[i], ys[i])
		}
	}
}
