package kernels

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// fmaExact returns a*b+c rounded once to float32 (round to nearest even),
// computed exactly with math/big for finite inputs. Infinities, NaNs and
// exact zeros follow IEEE 754 (the float64 FMA gets these right: a*b is
// exact in float64 and cannot overflow).
func fmaExact(a, b, c float32) float32 {
	a64, b64, c64 := float64(a), float64(b), float64(c)
	if math.IsInf(a64, 0) || math.IsInf(b64, 0) || math.IsInf(c64, 0) ||
		math.IsNaN(a64) || math.IsNaN(b64) || math.IsNaN(c64) {
		return float32(math.FMA(a64, b64, c64))
	}
	p := new(big.Float).SetPrec(2000).SetMode(big.ToNearestEven)
	p.Mul(big.NewFloat(a64), big.NewFloat(b64)) // exact: 48 bits
	s := new(big.Float).SetPrec(2000).SetMode(big.ToNearestEven)
	s.Add(p, big.NewFloat(c64)) // exact: the exponent span is < 2000 bits
	if s.Sign() == 0 {
		// Exact zero: -0 only when both a*b and c are -0 (or a*b is -0 and c is -0).
		pz := a64 * b64 // ±0 or nonzero
		if pz == 0 && c64 == 0 && math.Signbit(pz) && math.Signbit(c64) {
			return float32(math.Copysign(0, -1))
		}
		return 0
	}
	f, _ := s.Float32() // one correct rounding, subnormals and overflow included
	return f
}

// TestFMA32Random compares fma32 with the exact result on random bit
// patterns (every class), Gaussian values, and products landing in the
// subnormal range and near overflow.
func TestFMA32Random(t *testing.T) {
	n := 100000
	if reduced() {
		n = 20000
	}
	r := rand.New(rand.NewPCG(1, 2))
	check := func(a, b, c float32) {
		t.Helper()
		if got, want := fma32(a, b, c), fmaExact(a, b, c); !sameBits(got, want) {
			t.Fatalf("fma32(%v, %v, %v) = %v (%#08x), exact %v (%#08x)", a, b, c,
				got, math.Float32bits(got), want, math.Float32bits(want))
		}
	}
	for i := 0; i < n; i++ {
		check(math.Float32frombits(r.Uint32()), math.Float32frombits(r.Uint32()), math.Float32frombits(r.Uint32()))
		check(float32(r.NormFloat64()), float32(r.NormFloat64()), float32(r.NormFloat64()))
		// Near the subnormal range: a·b ≈ 2^-140, c tiny.
		a := float32(math.Ldexp(1+r.Float64(), -70-r.IntN(10)))
		b := float32(math.Ldexp(1+r.Float64(), -60-r.IntN(10)))
		check(a, b, float32(math.Ldexp(r.NormFloat64(), -130-r.IntN(20))))
		// Near overflow.
		check(float32(math.Ldexp(1+r.Float64(), 64)), float32(math.Ldexp(1+r.Float64(), 63)), -float32(math.Ldexp(1+r.Float64(), 126)))
	}
	for _, a := range specialValues {
		for _, b := range specialValues {
			for _, c := range specialValues {
				check(a, b, c)
			}
		}
	}
}

// TestFMA32Midpoints is the adversarial set that breaks float32(math.FMA):
// a·b exactly on a float32 rounding midpoint (25 significant bits) plus a
// tiny c of either sign, so the float64 sum rounds back onto the midpoint
// and a second rounding goes the wrong way. Also exact ties (c = 0) and c
// exactly cancelling the high part.
func TestFMA32Midpoints(t *testing.T) {
	n := 200000
	if reduced() {
		n = 20000
	}
	r := rand.New(rand.NewPCG(3, 4))
	naive := 0
	tested := 0
	for tested < n {
		// a with 13 significant bits, b with 12: a·b has 24 or 25 bits.
		ma := float64(1<<12 | r.IntN(1<<12))
		mb := float64(1<<11 | r.IntN(1<<11))
		prod := ma * mb
		if math.Mod(prod, 2) == 0 || prod < 1<<24 {
			continue // need exactly 25 significant bits with the last one set
		}
		ea, eb := r.IntN(40)-20, r.IntN(40)-20
		a := float32(math.Ldexp(ma, ea))
		b := float32(math.Ldexp(mb, eb))
		if r.IntN(2) == 0 {
			a = -a
		}
		p := float64(a) * float64(b)
		for _, c := range []float32{
			0,
			float32(math.Ldexp(p, -30-r.IntN(90))),  // tiny, same sign
			-float32(math.Ldexp(p, -30-r.IntN(90))), // tiny, opposite sign
			math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
		} {
			got, want := fma32(a, b, c), fmaExact(a, b, c)
			if !sameBits(got, want) {
				t.Fatalf("fma32(%v, %v, %v) = %v, exact %v", a, b, c, got, want)
			}
			if float32(math.FMA(float64(a), float64(b), float64(c))) != want {
				naive++
			}
			tested++
		}
	}
	t.Logf("%d midpoint cases; float32(math.FMA) got %d of them wrong, fma32 none", tested, naive)
	if naive == 0 {
		t.Error("the adversarial set no longer exercises double rounding")
	}
}

// TestFMA32Subnormal: results in the float32 subnormal range,
// where the float64 sum has far more bits than the float32 result.
func TestFMA32Subnormal(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 50000; i++ {
		a := float32(math.Ldexp(1+r.Float64(), -75))
		b := float32(math.Ldexp(1+r.Float64(), -60-r.IntN(15)))
		c := math.Float32frombits(r.Uint32() & 0x807fffff) // a subnormal of either sign
		if got, want := fma32(a, b, c), fmaExact(a, b, c); !sameBits(got, want) {
			t.Fatalf("fma32(%v, %v, %v) = %v, exact %v", a, b, c, got, want)
		}
	}
}
