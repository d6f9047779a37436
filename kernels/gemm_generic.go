package kernels

import "math"

// genericGemm is the pure-Go GEMM micro-kernel: a 4×4 register tile whose 16
// FMA chains are independent, so the emulated FMAs overlap.
var genericGemm = gemmKernel{mr: 4, nr: 4, kern: gemmKern4x4}

// fmaTry returns fma32(a, b, c) and ok = true, or ok = false when the fast
// path cannot vouch for the result. a*b is exact in float64, so s = a*b+c in
// float64 is one rounding of the exact sum, and rounding s to float32 is
// exact unless s lies on a float32 rounding midpoint or is a nonzero value
// in the float32 subnormal range (an exact zero is fine: float64 gives it
// the IEEE sign). Unlike fma32 it has no call, so it inlines.
func fmaTry(a, b, c float32) (float32, bool) {
	s := float64(a)*float64(b) + float64(c)
	u := math.Float64bits(s)
	return float32(s), u&(1<<29-1) != 1<<28 && (u&(1<<63-1))-1 >= (1023-126)<<52-1
}

// gemmKern4x4 is gemmKernel.kern for mr = nr = 4. It runs the 16 chains with
// fmaTry and, in the rare case that any step was not vouched for, recomputes
// the tile with fma32.
func gemmKern4x4(kc int, a, b, c []float32, ldc int, load bool) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	c = c[:3*ldc+4]
	if load {
		c00, c01, c02, c03 = c[0], c[1], c[2], c[3]
		r := c[ldc : ldc+4]
		c10, c11, c12, c13 = r[0], r[1], r[2], r[3]
		r = c[2*ldc : 2*ldc+4]
		c20, c21, c22, c23 = r[0], r[1], r[2], r[3]
		r = c[3*ldc : 3*ldc+4]
		c30, c31, c32, c33 = r[0], r[1], r[2], r[3]
	}
	a, b = a[:4*kc], b[:4*kc]
	ok := true
	var o0, o1, o2, o3 bool
	for p := 0; p < kc; p++ {
		ap, bp := a[4*p:4*p+4], b[4*p:4*p+4]
		a0, a1, a2, a3 := ap[0], ap[1], ap[2], ap[3]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		c00, o0 = fmaTry(a0, b0, c00)
		c01, o1 = fmaTry(a0, b1, c01)
		c02, o2 = fmaTry(a0, b2, c02)
		c03, o3 = fmaTry(a0, b3, c03)
		ok = ok && o0 && o1 && o2 && o3
		c10, o0 = fmaTry(a1, b0, c10)
		c11, o1 = fmaTry(a1, b1, c11)
		c12, o2 = fmaTry(a1, b2, c12)
		c13, o3 = fmaTry(a1, b3, c13)
		ok = ok && o0 && o1 && o2 && o3
		c20, o0 = fmaTry(a2, b0, c20)
		c21, o1 = fmaTry(a2, b1, c21)
		c22, o2 = fmaTry(a2, b2, c22)
		c23, o3 = fmaTry(a2, b3, c23)
		ok = ok && o0 && o1 && o2 && o3
		c30, o0 = fmaTry(a3, b0, c30)
		c31, o1 = fmaTry(a3, b1, c31)
		c32, o2 = fmaTry(a3, b2, c32)
		c33, o3 = fmaTry(a3, b3, c33)
		ok = ok && o0 && o1 && o2 && o3
	}
	if !ok {
		gemmKernExact(4, 4, kc, a, b, c, ldc, load)
		return
	}
	c[0], c[1], c[2], c[3] = c00, c01, c02, c03
	r := c[ldc : ldc+4]
	r[0], r[1], r[2], r[3] = c10, c11, c12, c13
	r = c[2*ldc : 2*ldc+4]
	r[0], r[1], r[2], r[3] = c20, c21, c22, c23
	r = c[3*ldc : 3*ldc+4]
	r[0], r[1], r[2], r[3] = c30, c31, c32, c33
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
