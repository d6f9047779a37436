package kernels

import "math"

// genericGemm is the pure-Go GEMM micro-kernel: a 4×4 register tile whose 16
// FMA chains are independent, so the emulated FMAs overlap. Gemm switches to
// genericGemmNormal, which skips a range check per step, when no product of
// the call can be tiny (gemmTinyProducts).
var genericGemm = gemmKernel{mr: 4, nr: 4, kern: gemmKern4x4, normal: &genericGemmNormal}

var genericGemmNormal = gemmKernel{mr: 4, nr: 4, kern: gemmKern4x4Normal}

// fmaTry returns fma32(float32(a), float32(b), c) and ok = true, or ok =
// false when the fast path cannot vouch for the result; a and b must hold
// float32 values. a*b is exact in float64 (24+24 significant bits), so s =
// a*b+c in float64 is one rounding of the exact sum (also when Go fuses it
// into a float64 FMA), and rounding s to float32 is exact unless s lies on a
// float32 rounding midpoint (its low 29 bits are 1000…0) or is a nonzero
// value in the float32 subnormal range (an exact zero is fine: float64 gives
// it the IEEE sign). Inf and NaN pass through as the hardware's FMA gives
// them (CANONICAL.md). It has no call, so it inlines.
func fmaTry(a, b float64, c float32) (float32, bool) {
	s := a*b + float64(c)
	u := math.Float64bits(s)
	return float32(s), u&(1<<29-1) != 1<<28 && u<<1-1 >= (1023-126)<<53-1
}

// fmaTryNormal is fmaTry without the subnormal-range test, exact when the
// product a*b is zero or at least 2^-130 in magnitude. Proof: the result
// can only be wrong if s lies in the float32 subnormal range (|s| < 2^-126)
// and is inexact. Every product of two float32 is a multiple of its grain
// ulp(a)·ulp(b) > |a*b|·2^-48 and c of its ulp >= 2^-149, so the exact sum
// x is a multiple of min(grain(a*b), 2^-149) and, below 2^-126, fits in 53
// bits unless that grain is below 2^-179, i.e. unless 0 < |a*b| < 2^-131.
// So with no tiny product, s is exact whenever it is in the subnormal range
// (float32(s) is then correctly rounded), and elsewhere fmaTry's midpoint
// test is all that is needed.
func fmaTryNormal(a, b float64, c float32) (float32, bool) {
	s := a*b + float64(c)
	return float32(s), math.Float64bits(s)&(1<<29-1) != 1<<28
}

// gemmTinyProducts reports whether some product alpha·op(A)[i][p]·op(B)[p][j]
// of g could be nonzero and below 2^-130 in magnitude (or the packed
// alpha·A[i][p] subnormal), so that genericGemmNormal may not be used. It
// reads A and B once (m·k + k·n values, against m·n·k steps of the product).
// NaN and Inf values do not count: they make no tiny product.
func gemmTinyProducts(g *gemmArgs) bool {
	ma := gemmMinAbs(g.transA, g.m, g.k, g.a, g.lda)
	mb := gemmMinAbs(g.transB, g.k, g.n, g.b, g.ldb)
	if ma == 0 || mb == 0 {
		return false // an all-zero operand: every product is zero
	}
	aa := math.Abs(float64(g.alpha)) * ma
	// alpha·a is rounded to float32 when A is packed: keep it normal (then it
	// is within a factor 1-2^-24 of aa), and the product above 2^-130.
	return aa < 0x1p-120 || aa*mb < 0x1p-129
}

// gemmMinAbs returns the smallest nonzero |x| over op(X) (rows×cols, stored
// transposed when trans, row stride ld), or 0 when every value is zero.
func gemmMinAbs(trans bool, rows, cols int, s []float32, ld int) float64 {
	if trans {
		rows, cols = cols, rows
	}
	// On the bits: |x|-1 as uint32 is smallest for the smallest nonzero |x|
	// and wraps to the largest for ±0; NaN bits sort above every finite
	// value, so they only matter when nothing else is nonzero.
	m0, m1, m2, m3 := uint32(math.MaxUint32), uint32(math.MaxUint32), uint32(math.MaxUint32), uint32(math.MaxUint32)
	for i := 0; i < rows; i++ {
		r := s[i*ld : i*ld+cols]
		for len(r) >= 4 {
			m0 = min(m0, math.Float32bits(r[0])&(1<<31-1)-1)
			m1 = min(m1, math.Float32bits(r[1])&(1<<31-1)-1)
			m2 = min(m2, math.Float32bits(r[2])&(1<<31-1)-1)
			m3 = min(m3, math.Float32bits(r[3])&(1<<31-1)-1)
			r = r[4:]
		}
		for _, v := range r {
			m0 = min(m0, math.Float32bits(v)&(1<<31-1)-1)
		}
	}
	m := min(m0, m1, m2, m3)
	if m >= 0x7f800000-1 {
		return 0 // all zero, or only zeros and Inf/NaN: no finite nonzero product
	}
	return float64(math.Float32frombits(m + 1))
}

// gemmKern4x4 is gemmKernel.kern for mr = nr = 4: 16 independent chains
// with fmaTry; in the rare case that a step is not vouched for it recomputes
// the tile with fma32.
func gemmKern4x4(kc int, a, b, c []float32, ldc int, load bool) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	c = c[:3*ldc+4]
	if load {
		r0 := c[0*ldc : 0*ldc+4]
		c00, c01, c02, c03 = r0[0], r0[1], r0[2], r0[3]
		r1 := c[1*ldc : 1*ldc+4]
		c10, c11, c12, c13 = r1[0], r1[1], r1[2], r1[3]
		r2 := c[2*ldc : 2*ldc+4]
		c20, c21, c22, c23 = r2[0], r2[1], r2[2], r2[3]
		r3 := c[3*ldc : 3*ldc+4]
		c30, c31, c32, c33 = r3[0], r3[1], r3[2], r3[3]
	}
	pa, pb := a[:4*kc], b[:4*kc]
	var ok bool
	for len(pa) >= 4 && len(pb) >= 4 {
		b0, b1, b2, b3 := float64(pb[0]), float64(pb[1]), float64(pb[2]), float64(pb[3])
		a0 := float64(pa[0])
		if c00, ok = fmaTry(a0, b0, c00); !ok {
			goto exact
		}
		if c01, ok = fmaTry(a0, b1, c01); !ok {
			goto exact
		}
		if c02, ok = fmaTry(a0, b2, c02); !ok {
			goto exact
		}
		if c03, ok = fmaTry(a0, b3, c03); !ok {
			goto exact
		}
		a1 := float64(pa[1])
		if c10, ok = fmaTry(a1, b0, c10); !ok {
			goto exact
		}
		if c11, ok = fmaTry(a1, b1, c11); !ok {
			goto exact
		}
		if c12, ok = fmaTry(a1, b2, c12); !ok {
			goto exact
		}
		if c13, ok = fmaTry(a1, b3, c13); !ok {
			goto exact
		}
		a2 := float64(pa[2])
		if c20, ok = fmaTry(a2, b0, c20); !ok {
			goto exact
		}
		if c21, ok = fmaTry(a2, b1, c21); !ok {
			goto exact
		}
		if c22, ok = fmaTry(a2, b2, c22); !ok {
			goto exact
		}
		if c23, ok = fmaTry(a2, b3, c23); !ok {
			goto exact
		}
		a3 := float64(pa[3])
		if c30, ok = fmaTry(a3, b0, c30); !ok {
			goto exact
		}
		if c31, ok = fmaTry(a3, b1, c31); !ok {
			goto exact
		}
		if c32, ok = fmaTry(a3, b2, c32); !ok {
			goto exact
		}
		if c33, ok = fmaTry(a3, b3, c33); !ok {
			goto exact
		}
		pa, pb = pa[4:], pb[4:]
	}
	if r := c[0*ldc : 0*ldc+4]; true {
		r[0], r[1], r[2], r[3] = c00, c01, c02, c03
	}
	if r := c[1*ldc : 1*ldc+4]; true {
		r[0], r[1], r[2], r[3] = c10, c11, c12, c13
	}
	if r := c[2*ldc : 2*ldc+4]; true {
		r[0], r[1], r[2], r[3] = c20, c21, c22, c23
	}
	if r := c[3*ldc : 3*ldc+4]; true {
		r[0], r[1], r[2], r[3] = c30, c31, c32, c33
	}
	return
exact:
	gemmKernExact(4, 4, kc, a, b, c, ldc, load)
}

// gemmKern4x4Normal is gemmKern4x4 with fmaTryNormal: exact only when no
// product a[p*4+i]·b[p*4+j] is nonzero and below 2^-130 in magnitude (see
// fmaTryNormal), which Gemm checks (gemmTinyProducts) before using it.
func gemmKern4x4Normal(kc int, a, b, c []float32, ldc int, load bool) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	c = c[:3*ldc+4]
	if load {
		r0 := c[0*ldc : 0*ldc+4]
		c00, c01, c02, c03 = r0[0], r0[1], r0[2], r0[3]
		r1 := c[1*ldc : 1*ldc+4]
		c10, c11, c12, c13 = r1[0], r1[1], r1[2], r1[3]
		r2 := c[2*ldc : 2*ldc+4]
		c20, c21, c22, c23 = r2[0], r2[1], r2[2], r2[3]
		r3 := c[3*ldc : 3*ldc+4]
		c30, c31, c32, c33 = r3[0], r3[1], r3[2], r3[3]
	}
	pa, pb := a[:4*kc], b[:4*kc]
	var ok bool
	for len(pa) >= 4 && len(pb) >= 4 {
		b0, b1, b2, b3 := float64(pb[0]), float64(pb[1]), float64(pb[2]), float64(pb[3])
		a0 := float64(pa[0])
		if c00, ok = fmaTryNormal(a0, b0, c00); !ok {
			goto exact
		}
		if c01, ok = fmaTryNormal(a0, b1, c01); !ok {
			goto exact
		}
		if c02, ok = fmaTryNormal(a0, b2, c02); !ok {
			goto exact
		}
		if c03, ok = fmaTryNormal(a0, b3, c03); !ok {
			goto exact
		}
		a1 := float64(pa[1])
		if c10, ok = fmaTryNormal(a1, b0, c10); !ok {
			goto exact
		}
		if c11, ok = fmaTryNormal(a1, b1, c11); !ok {
			goto exact
		}
		if c12, ok = fmaTryNormal(a1, b2, c12); !ok {
			goto exact
		}
		if c13, ok = fmaTryNormal(a1, b3, c13); !ok {
			goto exact
		}
		a2 := float64(pa[2])
		if c20, ok = fmaTryNormal(a2, b0, c20); !ok {
			goto exact
		}
		if c21, ok = fmaTryNormal(a2, b1, c21); !ok {
			goto exact
		}
		if c22, ok = fmaTryNormal(a2, b2, c22); !ok {
			goto exact
		}
		if c23, ok = fmaTryNormal(a2, b3, c23); !ok {
			goto exact
		}
		a3 := float64(pa[3])
		if c30, ok = fmaTryNormal(a3, b0, c30); !ok {
			goto exact
		}
		if c31, ok = fmaTryNormal(a3, b1, c31); !ok {
			goto exact
		}
		if c32, ok = fmaTryNormal(a3, b2, c32); !ok {
			goto exact
		}
		if c33, ok = fmaTryNormal(a3, b3, c33); !ok {
			goto exact
		}
		pa, pb = pa[4:], pb[4:]
	}
	if r := c[0*ldc : 0*ldc+4]; true {
		r[0], r[1], r[2], r[3] = c00, c01, c02, c03
	}
	if r := c[1*ldc : 1*ldc+4]; true {
		r[0], r[1], r[2], r[3] = c10, c11, c12, c13
	}
	if r := c[2*ldc : 2*ldc+4]; true {
		r[0], r[1], r[2], r[3] = c20, c21, c22, c23
	}
	if r := c[3*ldc : 3*ldc+4]; true {
		r[0], r[1], r[2], r[3] = c30, c31, c32, c33
	}
	return
exact:
	gemmKernExact(4, 4, kc, a, b, c, ldc, load)
}

// gemmKernExact is the gemmKernel.kern definition for any mr×nr tile, one
// chain at a time with fma32: the reference the fast kernels are tested
// against.
func gemmKernExact(mr, nr, kc int, a, b, c []float32, ldc int, load bool) {
	for i := 0; i < mr; i++ {
		for j := 0; j < nr; j++ {
			var acc float32
			if load {
				acc = c[i*ldc+j]
			}
			for p := 0; p < kc; p++ {
				acc = fma32(a[p*mr+i], b[p*nr+j], acc)
			}
			c[i*ldc+j] = acc
		}
	}
}
