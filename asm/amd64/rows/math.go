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

// erf rational coefficients of kernels/gelu.go (geluErfP, geluErfQ), from
// the highest degree down.
var (
	geluErfP = []float32{1.97527629097749e-06, 0.000288019742583856, 0.004002124536782503,
		0.05346281826496124, 0.19621175527572632, 1.128378987312317}
	geluErfQ = []float32{3.7484365748241544e-05, 0.001216014614328742, 0.01544136367738247,
		0.11646127700805664, 0.5072193145751953}
)

const (
	geluClamp    float32 = 5.656854152679443 // 4·√2
	geluRsqrt2   float32 = 0.70710677
	geluInvSqrt2 float32 = 0.39894228 // 1/sqrt(2*pi)
	geluC        float32 = 0.7978846  // sqrt(2/pi)
	geluA        float32 = 0.044715
	geluA3       float32 = 0.134145
)

func (t *tier) preloadGELU() {
	t.preloadExpFew()
	if t.z {
		// The rational's coefficients stay in memory (broadcast operands).
		t.preload(-geluClamp, geluClamp, 0.5, -1)
	}
}

// geluPhi returns xl = max(-clamp, x) and Φ(x) in new registers
// (kernels/gelu.go, geluPhi).
func (t *tier) geluPhi(x grp) (xl, phi grp) {
	n := len(x)
	xl, z, w := t.G(n), t.G(n), t.G(n)
	// x as Go's first operand of VMAXPS/VMINPS: NaN propagates.
	for j := range x {
		VMAXPS(x[j], t.kr(-geluClamp), xl[j]) // xl = (-c > x) ? -c : x
	}
	for j := range x {
		VMINPS(xl[j], t.kr(geluClamp), z[j]) // xc = (c < xl) ? c : xl
	}
	for j := range x {
		VMULPS(t.k(geluRsqrt2), z[j], z[j]) // z = xc * 0.70710677
	}
	for j := range x {
		VMULPS(z[j], z[j], w[j]) // w = z*z
	}
	p := t.Gk(n, geluErfP[0])
	q := t.Gk(n, geluErfQ[0])
	for i := 1; i < len(geluErfP); i++ {
		for j := range x {
			VFMADD213PS(t.k(geluErfP[i]), w[j], p[j]) // p = fma(p, w, P_i)
		}
		if i < len(geluErfQ) {
			for j := range x {
				VFMADD213PS(t.k(geluErfQ[i]), w[j], q[j]) // q = fma(q, w, Q_i)
			}
		}
	}
	for j := range x {
		VFMADD213PS(t.k(1), w[j], q[j]) // q = fma(q, w, 1)
	}
	for j := range x {
		VMULPS(z[j], p[j], p[j]) // p = p * z
	}
	for j := range x {
		VDIVPS(q[j], p[j], p[j]) // e = p / q
	}
	// e as Go's first operand (the second Intel source): NaN propagates.
	for j := range x {
		VMINPS(p[j], t.kr(1), p[j]) // e = (1 < e) ? 1 : e
	}
	for j := range x {
		VMAXPS(p[j], t.kr(-1), p[j]) // e = (-1 > e) ? -1 : e
	}
	for j := range x {
		VFMADD213PS(t.k(0.5), t.kr(0.5), p[j]) // phi = fma(0.5, e, 0.5)
	}
	return xl, p
}

// gelu returns xl * Φ(x).
func (t *tier) gelu(x grp) grp {
	xl, phi := t.geluPhi(x)
	for j := range x {
		VMULPS(phi[j], xl[j], phi[j])
	}
	return phi
}

// geluGrad returns dy * (Φ(x) + x·φ(x)) (kernels/gelu.go, geluBackwardGeneric).
func (t *tier) geluGrad(x, dy grp) grp {
	_, phi := t.geluPhi(x)
	// x as Go's first operand: NaN propagates. x becomes xb, x clamped to
	// exp's range (φ is +0 far inside it; ±Inf give 1 and +0, not NaN).
	for j := range x {
		VMINPS(x[j], t.kr(expHi), x[j]) // xb = (hi < x) ? hi : x
	}
	for j := range x {
		VMAXPS(x[j], t.kr(expLo), x[j]) // xb = (lo > xb) ? lo : xb
	}
	a := t.G(len(x))
	for j := range x {
		VMULPS(x[j], x[j], a[j]) // a = xb*xb
	}
	for j := range x {
		VMULPS(t.k(-0.5), a[j], a[j]) // a = a * -0.5
	}
	pdf := t.exp(a)
	for j := range x {
		VMULPS(t.k(geluInvSqrt2), pdf[j], pdf[j]) // pdf = exp(a) * 0.39894228
	}
	for j := range x {
		VFMADD231PS(pdf[j], x[j], phi[j]) // g = fma(xb, pdf, phi)
	}
	for j := range x {
		VMULPS(phi[j], dy[j], phi[j]) // dx = dy * g
	}
	return phi
}

func (t *tier) preloadGELUTanh() {
	t.preloadExpFew()
	if t.z {
		t.preload(geluC, geluA, 2, 0.5, geluA3, -geluClamp, geluClamp)
	}
}

// geluTanhParts returns x² and tanh(√(2/π)(xc + 0.044715xc³)) at
// xc = min(c, max(-c, x)), and h = xl/2 (forward, xl = max(-c, x)) or xc/2
// (backward) (kernels/gelu.go, geluTanhClamp and geluTanhParts).
func (t *tier) geluTanhParts(x grp, backward bool) (x2, th, h grp) {
	n := len(x)
	xl, xc := t.G(n), t.G(n)
	// x as Go's first operand of VMAXPS/VMINPS: NaN propagates.
	for j := range x {
		VMAXPS(x[j], t.kr(-geluClamp), xl[j]) // xl = (-c > x) ? -c : x
	}
	for j := range x {
		VMINPS(xl[j], t.kr(geluClamp), xc[j]) // xc = (c < xl) ? c : xl
	}
	x2, x3, u := t.G(n), t.G(n), t.G(n)
	for j := range x {
		VMULPS(xc[j], xc[j], x2[j]) // x2 = xc*xc
	}
	for j := range x {
		VMULPS(xc[j], x2[j], x3[j]) // x3 = x2*xc
	}
	for j := range x {
		t.mov(xc[j], u[j])
		VFMADD231PS(t.k(geluA), x3[j], u[j]) // fma(0.044715, x3, xc)
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
	hx := xl
	if backward {
		hx = xc
	}
	for j := range x {
		VMULPS(t.k(0.5), hx[j], h[j]) // h = 0.5 * xl (forward) or 0.5 * xc
	}
	return x2, th, h
}

// geluTanh returns fma(h, th, h).
func (t *tier) geluTanh(x grp) grp {
	_, th, h := t.geluTanhParts(x, false)
	for j := range x {
		VFMADD213PS(h[j], h[j], th[j]) // th = h*th + h
	}
	return th
}

// geluTanhGrad returns dy * g (kernels/gelu.go, geluTanhBackwardGeneric).
func (t *tier) geluTanhGrad(x, dy grp) grp {
	n := len(x)
	x2, th, h := t.geluTanhParts(x, true)
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
