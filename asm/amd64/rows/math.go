package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The canonical exp constants (kernels/exp.go), as float32.
const (
	expHi    float32 = 88.3762626647949
	expLo    float32 = -87.3365478515625
	expLog2e float32 = 1.44269504088896341
	expMagic float32 = 12582912.0
	expLn2Hi float32 = -0.693359375
	expLn2Lo float32 = 2.12194440e-4
	expP0    float32 = 1.9875691500e-4
	expP1    float32 = 1.3981999507e-3
	expP2    float32 = 8.3334519073e-3
	expP3    float32 = 4.1665795894e-2
	expP4    float32 = 1.6666665459e-1
	expP5    float32 = 5.0000001201e-1
	expBias  uint32  = 0x4b400000 - 127
)

// expConsts lists the constants exp uses, for preload.
var expConsts = []float32{expHi, expLo, expLog2e, expMagic, expLn2Hi, expLn2Lo,
	expP0, expP1, expP2, expP3, expP4, expP5, 1}

// preloadExp preloads exp's constants: all of them on AVX-512, the ones that
// must be registers (or are used twice) on AVX2.
func (t *tier) preloadExp() {
	if t.z {
		t.preload(expConsts...)
		t.preloadU(expBias)
	} else {
		t.preload(expHi, expLo, expMagic)
	}
}

// preloadExpFew is preloadExp for kernels that need the registers for two
// interleaved chains: on AVX-512 only the constants that must be registers
// or are used more than once (the polynomial comes from memory operands), on
// AVX2 none (kr then broadcasts from memory at each use).
func (t *tier) preloadExpFew() {
	if t.z {
		// As many as still fit next to two GELU chains (measured: 6% faster
		// than keeping only hi, lo, magic and 1).
		t.preload(expHi, expLo, expMagic, 1, expLog2e, expLn2Hi, expLn2Lo, expP1, expP2)
	}
}

// grp is a group of registers, one per vector processed side by side: the
// math kernels emit each step for every vector of the group before the next
// step, so independent dependency chains are interleaved in the instruction
// stream (the out-of-order core then overlaps them without filling its
// schedulers with one long chain).
type grp []VecVirtual

// G returns a group of n new registers.
func (t *tier) G(n int) grp {
	g := make(grp, n)
	for j := range g {
		g[j] = t.V()
	}
	return g
}

// Gk returns a group of n new registers each holding the constant v.
func (t *tier) Gk(n int, v float32) grp {
	g := make(grp, n)
	for j := range g {
		g[j] = t.kcopy(v)
	}
	return g
}

// exp returns new registers holding the canonical exp of each lane of x
// (kernels/exp.go, exp32). x is not modified.
func (t *tier) exp(x grp) grp {
	n := len(x)
	// Intel VMINPS/VMAXPS return the second source (Go's first operand) when
	// either input is NaN; x goes there so NaN propagates, like exp32's
	// "if xc > expHi" (false for NaN).
	xc, tt, nn, r2 := t.G(n), t.Gk(n, expMagic), t.G(n), t.G(n)
	for j := range x {
		VMINPS(x[j], t.kr(expHi), xc[j]) // xc = (hi < x) ? hi : x
	}
	for j := range x {
		VMAXPS(xc[j], t.kr(expLo), xc[j]) // xc = (lo > xc) ? lo : xc
	}
	for j := range x {
		VFMADD231PS(t.k(expLog2e), xc[j], tt[j]) // t = fma(xc, log2e, magic)
	}
	for j := range x {
		VSUBPS(t.k(expMagic), tt[j], nn[j]) // n = t - magic
	}
	for j := range x {
		VFMADD231PS(t.k(expLn2Hi), nn[j], xc[j]) // r = fma(n, ln2hi, xc)
	}
	for j := range x {
		VFMADD231PS(t.k(expLn2Lo), nn[j], xc[j]) // r = fma(n, ln2lo, r)
	}
	r := xc
	p := t.Gk(n, expP0)
	for _, c := range []float32{expP1, expP2, expP3, expP4, expP5} {
		for j := range x {
			VFMADD213PS(t.k(c), r[j], p[j]) // p = fma(p, r, c)
		}
	}
	for j := range x {
		VMULPS(r[j], r[j], r2[j])
	}
	for j := range x {
		VFMADD213PS(r[j], r2[j], p[j]) // y = fma(p, r*r, r)
	}
	for j := range x {
		VADDPS(t.k(1), p[j], p[j]) // y = y + 1
	}
	for j := range x {
		VPSUBD(t.ku(expBias), tt[j], tt[j]) // bits(t) - (0x4b400000 - 127)
		VPSLLD(U8(23), tt[j], tt[j])        // << 23: the float 2^n
	}
	for j := range x {
		VMULPS(tt[j], p[j], p[j]) // y = y * 2^n
	}
	// y = (x < lo) ? +0 : y
	for j := range x {
		if t.z {
			k := K()
			VCMPPS(U8(5), t.k(expLo), x[j], k) // k = !(x < lo) (NaN: true)
			VMOVAPS_Z(p[j], k, p[j])
		} else {
			m := t.V()
			VCMPPS(U8(1), t.k(expLo), x[j], m) // m = x < lo
			VANDNPS(p[j], m, p[j])             // p = ~m & p
		}
	}
	return p
}

// abs returns |x| in new registers.
func (t *tier) abs(x grp) grp {
	r := t.G(len(x))
	for j := range x {
		t.and(t.ku(0x7fffffff), x[j], r[j])
	}
	return r
}

// selectLT0 returns (x < 0) ? a : b in new registers.
func (t *tier) selectLT0(x, a, b grp) grp {
	out := t.G(len(x))
	for j := range x {
		if t.z {
			k := K()
			VCMPPS(U8(1), t.kr(0), x[j], k) // x < 0
			t.mov(b[j], out[j])
			VMOVAPS(a[j], k, out[j])
		} else {
			m := t.V()
			VCMPPS(U8(1), t.kr(0), x[j], m)  // x < 0
			VBLENDVPS(m, a[j], b[j], out[j]) // m ? a : b
		}
	}
	return out
}

// erfc polynomial coefficients of kernels/gelu.go, from the innermost.
var geluPoly = []float32{-0.82215223, 1.48851587, -1.13520398, 0.27886807,
	-0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223}

const (
	geluP0       float32 = 0.17087277
	geluRsqrt2   float32 = 0.70710677
	geluInvSqrt2 float32 = 0.39894228 // 1/sqrt(2*pi)
	geluC        float32 = 0.7978846  // sqrt(2/pi)
	geluA        float32 = 0.044715
	geluA3       float32 = 0.134145
)

func (t *tier) preloadGELU() {
	t.preloadExpFew()
	if t.z {
		// The erfc polynomial stays in memory: 32 ZMM do not hold it all.
		t.preload(geluRsqrt2, 0.5, geluP0, 0)
		t.preloadU(0x7fffffff)
	}
}

// geluPhi returns Φ(x) in new registers (kernels/gelu.go, geluPhi).
func (t *tier) geluPhi(x grp) grp {
	n := len(x)
	z := t.abs(x)
	for j := range x {
		VMULPS(t.k(geluRsqrt2), z[j], z[j]) // z = |x| * 0.70710677
	}
	d, tt := t.Gk(n, 1), t.G(n)
	for j := range x {
		VFMADD231PS(t.k(0.5), z[j], d[j]) // d = fma(0.5, z, 1)
	}
	for j := range x {
		VDIVPS(d[j], t.kr(1), tt[j]) // t = 1 / d
	}
	p := t.Gk(n, geluP0)
	for _, c := range geluPoly {
		for j := range x {
			VFMADD213PS(t.k(c), tt[j], p[j]) // p = fma(p, t, c)
		}
	}
	for j := range x {
		VFNMADD231PS(z[j], z[j], p[j]) // p = fma(-z, z, p)
	}
	e := t.exp(p)
	h, om := t.G(n), t.G(n)
	for j := range x {
		VMULPS(e[j], tt[j], h[j]) // t * e
	}
	for j := range x {
		VMULPS(t.k(0.5), h[j], h[j]) // h = 0.5 * (t*e)
	}
	for j := range x {
		VSUBPS(h[j], t.kr(1), om[j]) // 1 - h
	}
	return t.selectLT0(x, h, om)
}

// gelu returns x * Φ(x).
func (t *tier) gelu(x grp) grp {
	phi := t.geluPhi(x)
	for j := range x {
		VMULPS(phi[j], x[j], phi[j])
	}
	return phi
}

// geluGrad returns dy * (Φ(x) + x·φ(x)) (kernels/gelu.go, geluBackwardGeneric).
func (t *tier) geluGrad(x, dy grp) grp {
	phi := t.geluPhi(x)
	a := t.G(len(x))
	for j := range x {
		VMULPS(x[j], x[j], a[j]) // a = x*x
	}
	for j := range x {
		VMULPS(t.k(-0.5), a[j], a[j]) // a = a * -0.5
	}
	pdf := t.exp(a)
	for j := range x {
		VMULPS(t.k(geluInvSqrt2), pdf[j], pdf[j]) // pdf = exp(a) * 0.39894228
	}
	for j := range x {
		VFMADD231PS(pdf[j], x[j], phi[j]) // g = fma(x, pdf, phi)
	}
	for j := range x {
		VMULPS(phi[j], dy[j], phi[j]) // dx = dy * g
	}
	return phi
}

func (t *tier) preloadGELUTanh() {
	t.preloadExpFew()
	if t.z {
		t.preload(geluC, geluA, 2, 0.5, geluA3)
	}
}

// geluTanhParts returns x², tanh(√(2/π)(x + 0.044715x³)) and x/2.
func (t *tier) geluTanhParts(x grp) (x2, th, h grp) {
	n := len(x)
	x2, x3, u := t.G(n), t.G(n), t.G(n)
	for j := range x {
		VMULPS(x[j], x[j], x2[j]) // x2 = x*x
	}
	for j := range x {
		VMULPS(x[j], x2[j], x3[j]) // x3 = x2*x
	}
	for j := range x {
		t.mov(x[j], u[j])
		VFMADD231PS(t.k(geluA), x3[j], u[j]) // fma(0.044715, x3, x)
	}
	for j := range x {
		VMULPS(t.k(geluC), u[j], u[j]) // u = 0.7978846 * ...
	}
	for j := range x {
		VADDPS(u[j], u[j], u[j]) // u + u
	}
	e := t.exp(u)
	q := t.G(n)
	th, h = t.G(n), t.G(n)
	for j := range x {
		VADDPS(t.k(1), e[j], e[j]) // d = e + 1
	}
	for j := range x {
		VDIVPS(e[j], t.kr(2), q[j]) // q = 2 / d
	}
	for j := range x {
		VSUBPS(q[j], t.kr(1), th[j]) // th = 1 - q
	}
	for j := range x {
		VMULPS(t.k(0.5), x[j], h[j]) // h = 0.5 * x
	}
	return x2, th, h
}

// geluTanh returns fma(h, th, h).
func (t *tier) geluTanh(x grp) grp {
	_, th, h := t.geluTanhParts(x)
	for j := range x {
		VFMADD213PS(h[j], h[j], th[j]) // th = h*th + h
	}
	return th
}

// geluTanhGrad returns dy * g (kernels/gelu.go, geluTanhBackwardGeneric).
func (t *tier) geluTanhGrad(x, dy grp) grp {
	n := len(x)
	x2, th, h := t.geluTanhParts(x)
	s, k, g := t.Gk(n, 1), t.Gk(n, 1), t.Gk(n, 0.5)
	for j := range x {
		VFNMADD231PS(th[j], th[j], s[j]) // s = fma(-th, th, 1)
	}
	for j := range x {
		VFMADD231PS(t.k(geluA3), x2[j], k[j]) // fma(0.134145, x2, 1)
	}
	for j := range x {
		VMULPS(t.k(geluC), k[j], k[j]) // k = ... * 0.7978846
	}
	for j := range x {
		VMULPS(s[j], h[j], h[j]) // h*s
	}
	for j := range x {
		VMULPS(k[j], h[j], h[j]) // t1 = (h*s) * k
	}
	for j := range x {
		VFMADD231PS(t.k(0.5), th[j], g[j]) // fma(0.5, th, 0.5)
	}
	for j := range x {
		VADDPS(h[j], g[j], g[j]) // g = ... + t1
	}
	for j := range x {
		VMULPS(g[j], dy[j], g[j]) // dx = dy * g
	}
	return g
}
