package kernels

import "math"

// fma32 returns a*b+c computed with a single rounding, exactly as a hardware
// float32 fused multiply-add (VFMADD*SS, FMADDS) does.
//
// a*b is exact in float64 (24+24 bits of significand fit in 53), so s = a*b+c
// in float64 is one rounding of the exact sum. Rounding s again to float32 is
// correct unless s lies exactly on a float32 rounding boundary (midpoint) or
// in the float32 subnormal range, where the double rounding may differ; those
// rare cases take fma32Slow.
func fma32(a, b, c float32) float32 {
	s := float64(a)*float64(b) + float64(c)
	u := math.Float64bits(s)
	if u&(1<<29-1) == 1<<28 || u&0x7ff0000000000000 < (1023-126)<<52 {
		return fma32Slow(a, b, c)
	}
	return float32(s)
}

// fma32Slow rounds the exact a*b+c to float32 via round-to-odd in float64:
// compute s = fl64(p+c) and its exact error e (TwoSum); if e != 0 and s's last
// bit is even, nudge s one ulp towards e (making it "odd", i.e. sticky), then
// one rounding to float32 is correct (float64 has > 2*24+2 bits).
func fma32Slow(a, b, c float32) float32 {
	p := float64(a) * float64(b) // exact
	cc := float64(c)
	s := p + cc
	if math.IsInf(s, 0) || math.IsNaN(s) || s == 0 {
		// Overflow/NaN are rounded correctly already; an exact zero sum has
		// the sign IEEE gives p+c.
		return float32(s)
	}
	// TwoSum: s + e == p + cc exactly.
	bb := s - p
	e := (p - (s - bb)) + (cc - bb)
	if e != 0 {
		u := math.Float64bits(s)
		if u&1 == 0 {
			if (e > 0) == (s > 0) {
				u++
			} else {
				u--
			}
			s = math.Float64frombits(u)
		}
	}
	return float32(s)
}
