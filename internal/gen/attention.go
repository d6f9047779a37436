package main

// The row passes of the fused attention kernels (kernels/attention.go):
// the score row (scale, additive mask, causal limit, canonical 32-lane max),
// the exp-and-sum row and the gradient row.

func genAttention(b *builder) {
	accs := vr(16, 23)

	f := b.text("AttnScoreRowNEON", "AttnScoreRowNEON sets row[j] = row[j]*scale (+ add[j] when len(add) > 0) for\n"+
		"j < limit and -Inf for limit <= j < len(row), and returns the max by the canonical\n"+
		"32-lane layout (lanes m = (v > m) ? v : m, NaN skipped, -Inf when none).",
		"func(row, add []float32, scale float32, limit int) float32", 128)
	c := &f.body
	c.I("MOVD %s, R0", f.A("row_base"))
	c.I("MOVD %s, R2", f.A("add_base"))
	c.I("MOVD %s, R4", f.A("limit"))
	c.I("MOVD %s, R5", f.A("row_len"))
	c.I("MOVD %s, R6", f.A("add_len"))
	c.I("MOVD $scratch-128(SP), R8")
	c.I("SUB R4, R5, R10") // masked tail [limit, len)
	sc, ninf := V(12), V(13)
	c.I("FMOVS %s, F12", f.A("scale"))
	c.I("VDUP V12.S[0], %s", sc.S4())
	c.bcast(ninf, 0xff800000)
	for _, a := range accs {
		c.mov(a, ninf)
	}
	pass := func(add bool) {
		ptrs := []string{"R0"}
		if add {
			ptrs = append(ptrs, "R2")
		}
		f.reduction(redSpec{loopSpec: loopSpec{n: "R4", ptrs: ptrs, tmps: vr(0, 11),
			body: func(s *stream) {
				x := s.load("R0")
				s.fmul(x, x, sc)
				if add {
					s.fadd(x, x, s.load("R2"))
				}
				s.store(x, "R0")
				m := s.t()
				s.fcmgt(m, x, s.acc[0])
				s.bit(s.acc[0], x, m) // acc = (v > acc) ? v : acc
			}}, accs: [][]V{accs}, per: 4, ta: []V{24}, stack: "R8", sp: "R9"})
	}
	noAdd, done := f.label("noadd"), f.label("p1done")
	c.I("CBZ R6, %s", noAdd)
	pass(true)
	c.I("B %s", done)
	f.L(noAdd)
	pass(false)
	f.L(done)
	f.elementwise(loopSpec{n: "R10", ptrs: []string{"R0"}, unroll: 4, tmps: vr(0, 3),
		body: func(s *stream) { s.store(ninf, "R0") }}) // row[limit:] = -Inf
	f.tree(accs, 27, maxOpWith(28))
	c.I("FMOVS F16, %s", f.A("ret"))
	c.I("RET")
	b.end()

	f = b.text("AttnExpRowNEON", "AttnExpRowNEON sets row[j] = exp(row[j] - m) (the canonical exp) and returns\n"+
		"sum32(row).",
		"func(row []float32, m float32) float32", 128)
	c = &f.body
	c.I("MOVD %s, R0", f.A("row_base"))
	c.I("MOVD %s, R11", f.A("row_len"))
	c.I("MOVD $scratch-128(SP), R8")
	m := V(12)
	c.I("FMOVS %s, F12", f.A("m"))
	c.I("VDUP V12.S[0], %s", m.S4())
	pl := f.newPool(30, 31, 13)
	k := newExpK(c, pl, vr(25, 29))
	f.loadPool(pl)
	for _, a := range accs {
		c.zero(a)
	}
	f.reduction(redSpec{loopSpec: loopSpec{n: "R11", ptrs: []string{"R0"}, tmps: vr(0, 11),
		body: func(s *stream) {
			v := s.load("R0")
			s.fsub(v, v, m)
			y := s.t()
			k.exp(&s.code, y, v, s.t(), s.t(), s.t(), s.t())
			s.store(y, "R0")
			s.fadd(s.acc[0], s.acc[0], y)
		}}, accs: [][]V{accs}, per: 2, ta: []V{24}, stack: "R8", sp: "R9"})
	f.tree(accs, 14, addOp)
	c.I("FMOVS F16, %s", f.A("ret"))
	c.I("RET")
	b.end()

	f = b.text("AttnGradRowNEON", "AttnGradRowNEON sets dp[j] = (p[j] * (dp[j] - d)) * scale over len(dp) elements.",
		"func(dp, p []float32, d, scale float32)", 0)
	c = &f.body
	c.I("MOVD %s, R0", f.A("dp_base"))
	c.I("MOVD %s, R1", f.A("p_base"))
	c.I("MOVD %s, R3", f.A("dp_len"))
	d, scv := V(25), V(26)
	c.I("FMOVS %s, F25", f.A("d"))
	c.I("VDUP V25.S[0], %s", d.S4())
	c.I("FMOVS %s, F26", f.A("scale"))
	c.I("VDUP V26.S[0], %s", scv.S4())
	f.elementwise(loopSpec{n: "R3", ptrs: []string{"R0", "R1"}, unroll: 4, tmps: vr(0, 7),
		body: func(s *stream) {
			g, p := s.load("R0"), s.load("R1")
			s.fsub(g, g, d)
			s.fmul(g, p, g)
			s.fmul(g, g, scv)
			s.store(g, "R0")
		}})
	c.I("RET")
	b.end()
}
