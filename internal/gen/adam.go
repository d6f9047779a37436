package main

import "github.com/simdformer/simdformer/internal/gen/a64"

// genAdam emits AdamUpdateNEON: the IEEE operations of kernels'
// adamUpdateGeneric in its order (FSQRT and FDIV are correctly rounded).
func genAdam(b *builder) {
	f := b.text("AdamUpdateNEON", "AdamUpdateNEON applies one Adam update in place for i < len(p): "+
		"p = decay·p; m = b1·m + c1·g; v = b2·v + (c2·g)·g; p -= (step·m) / (√v / bc2 + eps), "+
		"each operation rounded to float32.",
		"func(p, g, m, v []float32, decay, b1, c1, b2, c2, bc2, eps, step float32)", 0)
	c := &f.body
	c.I("MOVD %s, R0", f.A("p_base"))
	c.I("MOVD %s, R1", f.A("g_base"))
	c.I("MOVD %s, R2", f.A("m_base"))
	c.I("MOVD %s, R4", f.A("v_base"))
	c.I("MOVD %s, R3", f.A("p_len"))
	k := map[string]V{}
	for i, name := range []string{"decay", "b1", "c1", "b2", "c2", "bc2", "eps", "step"} {
		r := V(24 + i)
		c.I("FMOVS %s, F%d", f.A(name), int(r))
		c.I("VDUP V%d.S[0], %s", int(r), r.S4())
		k[name] = r
	}
	f.elementwise(loopSpec{n: "R3", ptrs: []string{"R0", "R1", "R2", "R4"}, unroll: 4, tmps: vr(0, 19),
		body: func(s *stream) {
			p, g, m, v, x := s.load("R0"), s.load("R1"), s.load("R2"), s.load("R4"), s.t()
			s.fmul(p, p, k["decay"])
			s.fmul(m, m, k["b1"])
			s.fmul(x, g, k["c1"])
			s.fadd(m, m, x)
			s.fmul(v, v, k["b2"])
			s.fmul(x, g, k["c2"])
			s.fmul(x, x, g)
			s.fadd(v, v, x)
			s.store(m, "R2")
			s.store(v, "R4")
			s.W(a64.FSQRT(int(x), int(v)))
			s.fdiv(x, x, k["bc2"])
			s.fadd(x, x, k["eps"])
			s.fmul(m, m, k["step"])
			s.fdiv(m, m, x)
			s.fsub(p, p, m)
			s.store(p, "R0")
		}})
	c.I("RET")
	b.end()
}
