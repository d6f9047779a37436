package main

// The canonical exp (CANONICAL.md) and the GELU family built on it.

// expK holds exp's constants: the operands of FMIN/FMAX/FSUB/FADD/VSUB as
// broadcast registers, the multipliers and Horner addends as pool lanes.
type expK struct {
	hi, lo, magic, one, bias V
	log2e, ln2hi, ln2lo      kst
	p                        [6]kst
}

// newExpK broadcasts exp's five vector constants into regs and adds the
// rest to pool p.
func newExpK(c *code, p *pool, regs []V) expK {
	k := expK{hi: regs[0], lo: regs[1], magic: regs[2], one: regs[3], bias: regs[4]}
	c.bcastF(k.hi, 88.3762626647949)
	c.bcastF(k.lo, -87.3365478515625)
	c.bcastF(k.magic, 12582912.0)
	c.bcastF(k.one, 1)
	c.bcast(k.bias, 0x4b400000-127)
	k.log2e = p.add(1.44269504088896341)
	k.ln2hi = p.add(-0.693359375)
	k.ln2lo = p.add(2.12194440e-4)
	for i, v := range []float32{1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1} {
		k.p[i] = p.add(v)
	}
	return k
}

// exp emits y = exp32(x). x is preserved; y, a, t, n, q are distinct
// temporaries (y may not be x).
func (k expK) exp(c *code, y, x, a, t, n, q V) {
	c.fmin(a, x, k.hi) // xc = min(hi, x), NaN propagates
	c.fmax(a, a, k.lo) // xc = max(lo, xc)
	c.mov(t, k.magic)
	c.fmlaE(t, a, k.log2e) // t = fma(xc, log2e, magic)
	c.fsub(n, t, k.magic)  // n = t - magic
	c.fmlaE(a, n, k.ln2hi) // r = fma(n, ln2hi, xc)
	c.fmlaE(a, n, k.ln2lo) // r = fma(n, ln2lo, r)
	c.dup(q, k.p[1])
	c.fmlaE(q, a, k.p[0]) // p = fma(p0, r, p1)
	p, o := q, n
	for i := 2; i < 6; i++ {
		c.dup(o, k.p[i])
		c.fmla(o, p, a) // p = fma(p, r, p_i)
		p, o = o, p
	}
	c.fmul(o, a, a) // r2 = r*r
	c.mov(y, a)
	c.fmla(y, p, o)      // y = fma(p, r2, r)
	c.fadd(y, y, k.one)  // y += 1
	c.isub(o, t, k.bias) // 2^n: (bits(t) - (0x4b400000-127)) << 23
	c.shl(o, o, 23)
	c.fmul(y, y, o)
	c.fcmgt(o, k.lo, x) // x < lo: +0
	c.bic(y, y, o)
}

// geluK holds the constants of both GELU forms.
type geluK struct {
	expK
	two, clampHi, clampLo, mone V
	half, mhalf, rsqrt2         kst
	erfP                        [6]kst
	erfQ                        [5]kst
	invSqrt2pi, c044, c0797     kst
	c0134                       kst
}

// newGeluK broadcasts exp's five vector constants, 2, ±4·√2 (the clamp of
// gelu.go's geluPhi) and -1 into regs[0..8] and adds the rest to pool p.
func newGeluK(c *code, p *pool, regs []V) geluK {
	k := geluK{expK: newExpK(c, p, regs)}
	k.two, k.clampHi, k.clampLo, k.mone = regs[5], regs[6], regs[7], regs[8]
	c.bcastF(k.two, 2)
	c.bcastF(k.clampHi, 5.656854152679443)
	c.bcastF(k.clampLo, -5.656854152679443)
	c.bcastF(k.mone, -1)
	k.half = p.add(0.5)
	k.mhalf = p.add(-0.5)
	k.rsqrt2 = p.add(0.70710677)
	// gelu.go's geluErfP and geluErfQ, from the highest degree down.
	for i, v := range []float32{1.97527629097749e-06, 0.000288019742583856, 0.004002124536782503,
		0.05346281826496124, 0.19621175527572632, 1.128378987312317} {
		k.erfP[i] = p.add(v)
	}
	for i, v := range []float32{3.7484365748241544e-05, 0.001216014614328742, 0.01544136367738247,
		0.11646127700805664, 0.5072193145751953} {
		k.erfQ[i] = p.add(v)
	}
	k.invSqrt2pi = p.add(0.39894228)
	k.c044 = p.add(0.044715)
	k.c0797 = p.add(0.7978846)
	k.c0134 = p.add(0.134145)
	return k
}

// phi emits xl = max(x, -4·√2) and ph = Φ(x) as gelu.go's geluPhi (clamped
// odd rational erf). t holds six temporaries distinct from x and ph; xl may
// be x (then x is overwritten) or t[0], else x is preserved. FMIN and FMAX
// propagate NaN like gelu.go's comparisons.
func (k geluK) phi(c *code, ph, xl, x V, t []V) {
	z, w := t[0], t[1]
	c.fmax(xl, x, k.clampLo) // xl = max(-c, x)
	c.fmin(z, xl, k.clampHi) // xc = min(c, xl)
	c.fmulE(z, z, k.rsqrt2)  // z = xc * 0.70710677
	c.fmul(w, z, z)          // w = z*z
	horner := func(p, o V, cs []kst) V {
		c.dup(p, cs[1])
		c.fmlaE(p, w, cs[0]) // p = fma(c0, w, c1)
		for i := 2; i < len(cs); i++ {
			c.dup(o, cs[i])
			c.fmla(o, p, w) // p = fma(p, w, c_i)
			p, o = o, p
		}
		return p
	}
	p := horner(t[2], t[3], k.erfP[:])
	q := horner(t[4], t[5], k.erfQ[:])
	o := t[4]
	if q == t[4] {
		o = t[5]
	}
	c.mov(o, k.one)
	c.fmla(o, q, w) // q = fma(q, w, 1)
	q = o
	c.fmul(p, p, z)      // p = p * z
	c.fdiv(z, p, q)      // e = p / q
	c.fmin(z, z, k.one)  // e = min(1, e)
	c.fmax(z, z, k.mone) // e = max(-1, e)
	c.dup(ph, k.half)
	c.fmlaE(ph, z, k.half) // phi = fma(0.5, e, 0.5)
}

// tanhParts emits x2 = xc*xc, th = tanh(...) at xc and h = xl/2 (forward)
// or xc/2 (backward), with xl = max(x, -4·√2) and xc = min(xl, 4·√2), as
// gelu.go's geluTanhClamp and geluTanhParts. x is overwritten (with xl, or
// xc when backward).
func (k geluK) tanhParts(c *code, x2, th, h, x V, t []V, backward bool) {
	u, e := t[0], t[1]
	c.fmax(x, x, k.clampLo) // xl = max(-c, x), NaN propagates
	c.fmin(u, x, k.clampHi) // xc = min(c, xl)
	if backward {
		c.mov(x, u) // h from xc
	}
	c.fmul(x2, u, u)
	c.fmul(th, x2, u)      // x3
	c.fmlaE(u, th, k.c044) // fma(0.044715, x3, xc)
	c.fmulE(u, u, k.c0797) // u = 0.7978846 * ...
	c.fadd(u, u, u)        // u + u
	k.exp(c, e, u, th, h, t[2], t[3])
	c.fadd(e, e, k.one)  // d = e + 1
	c.fdiv(e, k.two, e)  // q = 2 / d
	c.fsub(th, k.one, e) // th = 1 - q
	c.fmulE(h, x, k.half)
}

func genExpFamily(b *builder) {
	// The Exp kernel: 4 streams of 6 temporaries, constants in V24..V31.
	f := b.text("ExpNEON", "ExpNEON sets dst[i] = exp32(src[i]), the canonical exp (CANONICAL.md), for i < len(dst).",
		"func(dst, src []float32)", 0)
	c := &f.body
	c.I("MOVD %s, R0", f.A("dst_base"))
	c.I("MOVD %s, R1", f.A("src_base"))
	c.I("MOVD %s, R3", f.A("dst_len"))
	pl := f.newPool(29, 30, 31)
	k := newExpK(c, pl, vr(24, 28))
	f.loadPool(pl)
	f.elementwise(loopSpec{n: "R3", ptrs: []string{"R0", "R1"}, unroll: 4, tmps: vr(0, 23),
		body: func(s *stream) {
			x := s.load("R1")
			y := s.t()
			k.exp(&s.code, y, x, s.t(), s.t(), s.t(), s.t())
			s.store(y, "R0")
		}})
	c.I("RET")
	b.end()

	// The GELU family: 2 streams of up to 8 temporaries (V0..V15),
	// broadcast constants V16..V24, 27 pooled constants in V25..V31.
	gelu := func(name, doc, sig string, backward bool, body func(k geluK, s *stream, x V) V) {
		f := b.text(name, doc, sig, 0)
		c := &f.body
		out, in := "dst", "src"
		if backward {
			out, in = "dx", "x"
		}
		c.I("MOVD %s, R0", f.A(out+"_base"))
		c.I("MOVD %s, R1", f.A(in+"_base"))
		ptrs := []string{"R0", "R1"}
		if backward {
			c.I("MOVD %s, R2", f.A("dy_base"))
			ptrs = append(ptrs, "R2")
		}
		c.I("MOVD %s, R3", f.A(out+"_len"))
		pl := f.newPool(vr(25, 31)...)
		k := newGeluK(c, pl, vr(16, 24))
		f.loadPool(pl)
		f.elementwise(loopSpec{n: "R3", ptrs: ptrs, unroll: 2, tmps: vr(0, 15),
			body: func(s *stream) {
				x := s.load("R1")
				y := body(k, s, x)
				s.store(y, "R0")
			}})
		c.I("RET")
		b.end()
	}
	temps := func(s *stream, n int) []V {
		out := make([]V, n)
		for i := range out {
			out[i] = s.t()
		}
		return out
	}
	gelu("GELUNEON", "GELUNEON sets dst[i] = src[i] * Φ(src[i]), the exact (erf) GELU of CANONICAL.md.",
		"func(dst, src []float32)", false, func(k geluK, s *stream, x V) V {
			ph := s.t()
			k.phi(&s.code, ph, x, x, temps(s, 6)) // x becomes xl
			s.fmul(ph, x, ph)                     // y = xl * phi
			return ph
		})
	gelu("GELUBackwardNEON", "GELUBackwardNEON sets dx[i] = dy[i] * (Φ(x) + x·φ(x)) at x = x[i], as CANONICAL.md.",
		"func(dx, x, dy []float32)", true, func(k geluK, s *stream, x V) V {
			ph := s.t()
			t := temps(s, 6)
			k.phi(&s.code, ph, t[0], x, t)
			a, pdf := t[0], t[1]
			// x becomes xb, clamped to exp's range: φ is +0 far inside
			// it, and ±Inf give 1 and +0 instead of Inf·0 = NaN.
			s.fmin(x, x, k.hi)
			s.fmax(x, x, k.lo)
			s.fmul(a, x, x)
			s.fmulE(a, a, k.mhalf) // a = (x*x) * -0.5
			k.exp(&s.code, pdf, a, t[2], t[3], t[4], t[5])
			s.fmulE(pdf, pdf, k.invSqrt2pi)
			s.fmla(ph, x, pdf) // g = fma(xb, pdf, phi)
			dy := t[2]
			s.ld(s.w, dy, s.off(), "R2")
			s.fmul(ph, dy, ph)
			return ph
		})
	gelu("GELUTanhNEON", "GELUTanhNEON sets dst[i] to the tanh-approximation GELU of src[i] (CANONICAL.md).",
		"func(dst, src []float32)", false, func(k geluK, s *stream, x V) V {
			x2, th, h := s.t(), s.t(), s.t()
			k.tanhParts(&s.code, x2, th, h, x, temps(s, 4), false)
			s.mov(x2, h)
			s.fmla(x2, h, th) // fma(h, th, h)
			return x2
		})
	gelu("GELUTanhBackwardNEON", "GELUTanhBackwardNEON sets dx[i] = dy[i] * d/dx GELUTanh(x[i]) (CANONICAL.md).",
		"func(dx, x, dy []float32)", true, func(k geluK, s *stream, x V) V {
			x2, th, h := s.t(), s.t(), s.t()
			t := temps(s, 4)
			k.tanhParts(&s.code, x2, th, h, x, t, true)
			sv, kv, g := t[0], t[1], t[2]
			s.mov(sv, k.one)
			s.fmls(sv, th, th) // s = fma(-th, th, 1)
			s.mov(kv, k.one)
			s.fmlaE(kv, x2, k.c0134) // fma(0.134145, x2, 1)
			s.fmulE(kv, kv, k.c0797) // k = ... * 0.7978846
			s.fmul(sv, h, sv)        // h*s
			s.fmul(sv, sv, kv)       // t1 = (h*s)*k
			s.dup(g, k.half)
			s.fmlaE(g, th, k.half) // fma(0.5, th, 0.5)
			s.fadd(g, g, sv)       // g = ... + t1
			dy := t[3]
			s.ld(s.w, dy, s.off(), "R2")
			s.fmul(g, dy, g)
			return g
		})
}
