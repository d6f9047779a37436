package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// genReduce makes reduction inputs in several regimes, chosen by kind:
// 0 normal, 1 mixed magnitudes with cancellation, 2 specials and bit
// patterns, 3 all positive.
func genReduce(r *rand.Rand, n, kind int) []float32 {
	switch kind {
	case 0:
		return randNormal(r, n, 0, 1)
	case 1:
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64() * math.Ldexp(1, r.IntN(40)-20))
		}
		return x
	case 2:
		return genDefault(r, n)
	default:
		return randFloats(r, n, 0, 1)
	}
}

func TestReductionsMatchPurego(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		for _, n := range testSizes {
			for kind := 0; kind < 4; kind++ {
				r := newRand(t, uint64(n), uint64(kind))
				x, y := genReduce(r, n, kind), genReduce(r, n, kind)
				var wantDot, wantSum, wantMax float32
				reference(func() { wantDot, wantSum, wantMax = Dot(x, y), Sum(x), Max(x) })
				forEachLayout(t, func(a *arena) {
					what := fmt.Sprintf("n=%d kind=%d %s", n, kind, a.l.name)
					ax, ay := a.from(x), a.from(y)
					requireSame(t, "Dot "+what, Dot(ax, ay), wantDot)
					requireSame(t, "Sum "+what, Sum(ax), wantSum)
					requireSame(t, "Max "+what, Max(ax), wantMax)
					requireBitsEqual(t, "Dot/Sum/Max changed x "+what, ax, x)
					requireBitsEqual(t, "Dot changed y "+what, ay, y)
				})
			}
		}
	})
}

// lanes returns ⌈n/32⌉, the number of elements one reduction lane adds.
func lanes(n int) float64 { return float64((n + 31) / 32) }

// TestSumDotAccuracy checks the fixed-layout reductions against float64:
//
//	|Sum(x) − Σx| ≤ (⌈n/32⌉+4)·2^-24·Σ|x|
//	|Dot(x,y) − Σxy| ≤ (⌈n/32⌉+5)·2^-24·Σ|x·y|
//
// (⌈n/32⌉−1 additions in a lane, plus 5 tree levels; Dot's first FMA into a
// lane rounds the product too). Both are far tighter than n·2^-24·Σ|x|.
func TestSumDotAccuracy(t *testing.T) {
	sizes := append(clone(testSizes), 1<<16+5)
	for _, n := range sizes {
		for kind := 0; kind < 4; kind++ {
			if kind == 2 {
				continue // specials make the float64 reference non-finite
			}
			r := newRand(t, uint64(n), uint64(kind))
			x, y := genReduce(r, n, kind), genReduce(r, n, kind)
			var sum, sumAbs, dot, dotAbs float64
			for i := range x {
				sum += float64(x[i])
				sumAbs += math.Abs(float64(x[i]))
				p := float64(x[i]) * float64(y[i])
				dot += p
				dotAbs += math.Abs(p)
			}
			// The float64 reference itself errs by up to n·2^-53·Σ|·|.
			slack := 1 + 1e-6
			refErr := float64(n) * 0x1p-53
			if err, bound := math.Abs(float64(Sum(x))-sum), ((lanes(n)+4)*roundoff*slack+refErr)*sumAbs; err > bound {
				t.Errorf("Sum n=%d kind=%d: error %g > bound %g", n, kind, err, bound)
			}
			if err, bound := math.Abs(float64(Dot(x, y))-dot), ((lanes(n)+5)*roundoff*slack+refErr)*dotAbs; err > bound {
				t.Errorf("Dot n=%d kind=%d: error %g > bound %g", n, kind, err, bound)
			}
		}
	}
}

// TestSumDotCanonicalOrder pins the canonical 32-lane layout: lane i%32 sums
// in index order, then the tree j+16, j+8, j+4, j+2, j+1.
func TestSumDotCanonicalOrder(t *testing.T) {
	r := newRand(t)
	for _, n := range []int{1, 31, 32, 33, 100, 1000} {
		x := genReduce(r, n, 1)
		y := genReduce(r, n, 1)
		var acc, dacc [32]float32
		for i := range x {
			acc[i%32] += x[i]
			dacc[i%32] = fma32(x[i], y[i], dacc[i%32])
		}
		for w := 16; w >= 1; w /= 2 {
			for j := 0; j < w; j++ {
				acc[j] += acc[j+w]
				dacc[j] += dacc[j+w]
			}
		}
		forEachBackend(t, func(t *testing.T) {
			requireSame(t, fmt.Sprintf("Sum n=%d", n), Sum(x), acc[0])
			requireSame(t, fmt.Sprintf("Dot n=%d", n), Dot(x, y), dacc[0])
		})
	}
}

func TestMaxSemantics(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	forEachBackend(t, func(t *testing.T) {
		for _, n := range testSizes {
			if n == 0 {
				continue
			}
			r := newRand(t, uint64(n))
			x := randNormal(r, n, 0, 10)
			want := float32(math.Inf(-1))
			for _, v := range x {
				want = max(want, v)
			}
			requireSame(t, fmt.Sprintf("Max n=%d", n), Max(x), want)
			// The maximum at every position, and a NaN at every position.
			for _, pos := range []int{0, n / 2, n - 1} {
				y := clone(x)
				y[pos] = 1e30
				requireSame(t, fmt.Sprintf("Max n=%d big at %d", n, pos), Max(y), 1e30)
				y[pos] = inf
				requireSame(t, fmt.Sprintf("Max n=%d +Inf at %d", n, pos), Max(y), inf)
				y[pos] = nan
				if got := Max(y); got == got {
					t.Errorf("Max n=%d NaN at %d = %v, want NaN", n, pos, got)
				}
			}
			all := make([]float32, n)
			for i := range all {
				all[i] = float32(math.Inf(-1))
			}
			requireSame(t, fmt.Sprintf("Max of -Inf n=%d", n), Max(all), float32(math.Inf(-1)))
		}
		requireSame(t, "Max(nil)", Max(nil), float32(math.Inf(-1)))
	})
}

func TestSumSpecials(t *testing.T) {
	inf := float32(math.Inf(1))
	forEachBackend(t, func(t *testing.T) {
		if got := Sum([]float32{1, inf, 2}); got != inf {
			t.Errorf("Sum with +Inf = %v", got)
		}
		if got := Sum([]float32{inf, -inf}); got == got {
			t.Errorf("Sum(+Inf, -Inf) = %v, want NaN", got)
		}
		if got := Sum([]float32{1, float32(math.NaN())}); got == got {
			t.Errorf("Sum with NaN = %v, want NaN", got)
		}
		if got := Dot([]float32{0, 1}, []float32{inf, 1}); got == got {
			t.Errorf("Dot(0·Inf) = %v, want NaN", got)
		}
		// -0 sums: the lanes start at +0, so the canonical sum of -0s is +0.
		negZero := float32(math.Copysign(0, -1))
		requireSame(t, "Sum(-0)", Sum([]float32{negZero}), 0)
	})
}
