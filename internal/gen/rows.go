package main

// Row kernels: softmax, its backward, layernorm and its backward
// (CANONICAL.md). Each is a few passes over the row; the canonical sums use
// reduction (32 lanes in V16..V23, tails through 128 bytes of stack).

func genSoftmax(b *builder) {
	f := b.text("SoftmaxRowNEON", "SoftmaxRowNEON is one softmax row (kernels' softmaxRow): v = src*scale (+ mask),\n"+
		"-Inf where j >= limit or ignore[j]; dst = exp(v - max v) / sum32(...), or zeros when\n"+
		"every v is -Inf. mask and ignore may be nil (len 0); dst may alias src.",
		"func(dst, src, mask []float32, ignore []bool, scale float32, limit int)", 128)
	c := &f.body
	c.I("MOVD %s, R0", f.A("dst_base"))
	c.I("MOVD %s, R1", f.A("src_base"))
	c.I("MOVD %s, R2", f.A("mask_base"))
	c.I("MOVD %s, R3", f.A("ignore_base"))
	c.I("MOVD %s, R4", f.A("limit"))
	c.I("MOVD %s, R5", f.A("dst_len"))
	c.I("MOVD %s, R6", f.A("mask_len"))
	c.I("MOVD %s, R7", f.A("ignore_len"))
	c.I("MOVD $scratch-128(SP), R8")
	c.I("SUB R4, R5, R10") // masked tail [limit, cols)
	accs := vr(16, 23)
	sc, ninf := V(12), V(13)
	c.I("FMOVS %s, F12", f.A("scale"))
	c.I("VDUP V12.S[0], %s", sc.S4())
	c.bcast(ninf, 0xff800000)
	for _, a := range accs {
		c.mov(a, ninf)
	}

	// Pass 1: v into dst and its (order-free, NaN-ignoring) max over [0, limit).
	pass1 := func(mask, ign bool) {
		ptrs := []string{"R0", "R1"}
		if mask {
			ptrs = append(ptrs, "R2")
		}
		var bptrs []string
		if ign {
			bptrs = []string{"R3"}
		}
		f.reduction(redSpec{loopSpec: loopSpec{n: "R4", ptrs: ptrs, bptrs: bptrs, tmps: vr(0, 11),
			body: func(s *stream) {
				x := s.load("R1")
				s.fmul(x, x, sc)
				if mask {
					s.fadd(x, x, s.load("R2"))
				}
				if ign {
					s.bit(x, ninf, s.loadBools("R3"))
				}
				s.store(x, "R0")
				s.fmaxnm(s.acc[0], s.acc[0], x)
			}}, accs: [][]V{accs}, per: 4, ta: []V{24}, stack: "R8", sp: "R9"})
	}
	noMask, maskOnly, plain, p1done := f.label("nomask"), f.label("maskonly"), f.label("plain"), f.label("p1done")
	c.I("CBZ R6, %s", noMask)
	c.I("CBZ R7, %s", maskOnly)
	pass1(true, true)
	c.I("B %s", p1done)
	f.L(maskOnly)
	pass1(true, false)
	c.I("B %s", p1done)
	f.L(noMask)
	c.I("CBZ R7, %s", plain)
	pass1(false, true)
	c.I("B %s", p1done)
	f.L(plain)
	pass1(false, false)
	f.L(p1done)
	store := func(n string, v V) {
		f.elementwise(loopSpec{n: n, ptrs: []string{"R0"}, unroll: 4, tmps: vr(0, 3),
			body: func(s *stream) { s.store(v, "R0") }})
	}
	store("R10", ninf) // dst[limit:] = -Inf
	f.tree(accs, 25, maxnmOp)
	ok := f.label("ok")
	c.I("FCMPS F13, F16")
	c.I("BNE %s", ok)
	c.I("MOVD %s, R0", f.A("dst_base")) // fully masked: zeros
	c.zero(14)
	store("R5", 14)
	c.I("RET")

	// Pass 2: e = exp(v - m) into dst, s = sum32(e).
	f.L(ok)
	m := V(12)
	c.I("VDUP V16.S[0], %s", m.S4())
	pl := f.newPool(30, 31, 13)
	k := newExpK(c, pl, vr(25, 29))
	f.loadPool(pl)
	for _, a := range accs {
		c.zero(a)
	}
	c.I("MOVD %s, R0", f.A("dst_base"))
	c.I("MOVD R5, R11")
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

	// Pass 3: dst = e * (1/s).
	c.I("FMOVS $(1.0), F14")
	c.I("FDIVS F16, F14, F15")
	c.I("MOVD %s, R0", f.A("dst_base"))
	f.elementwise(loopSpec{n: "R5", ptrs: []string{"R0"}, unroll: 4, tmps: vr(0, 3),
		body: func(s *stream) {
			e := s.load("R0")
			s.fmulE(e, e, kst{15, 0})
			s.store(e, "R0")
		}})
	c.I("RET")
	b.end()

	f = b.text("SoftmaxBackwardRowNEON", "SoftmaxBackwardRowNEON sets dx = ((dy - dot32(y, dy)) * y) * scale for one row\n"+
		"of len(dx); dx may alias dy.",
		"func(dx, y, dy []float32, scale float32)", 128)
	c = &f.body
	c.I("MOVD %s, R0", f.A("dx_base"))
	c.I("MOVD %s, R1", f.A("y_base"))
	c.I("MOVD %s, R2", f.A("dy_base"))
	c.I("MOVD %s, R3", f.A("dx_len"))
	c.I("MOVD $scratch-128(SP), R8")
	for _, a := range accs {
		c.zero(a)
	}
	f.reduction(redSpec{loopSpec: loopSpec{n: "R3", ptrs: []string{"R1", "R2"}, tmps: vr(0, 15),
		body: func(s *stream) {
			y, dy := s.load("R1"), s.load("R2")
			s.fmla(s.acc[0], y, dy)
		}}, accs: [][]V{accs}, per: 8, ta: []V{24}, stack: "R8", sp: "R9"})
	f.tree(accs, 25, addOp)
	d, scv := V(25), V(26)
	c.I("VDUP V16.S[0], %s", d.S4())
	c.I("FMOVS %s, F26", f.A("scale"))
	c.I("VDUP V26.S[0], %s", scv.S4())
	c.I("MOVD %s, R1", f.A("y_base"))
	c.I("MOVD %s, R2", f.A("dy_base"))
	c.I("MOVD %s, R3", f.A("dx_len"))
	f.elementwise(loopSpec{n: "R3", ptrs: []string{"R0", "R1", "R2"}, unroll: 4, tmps: vr(0, 7),
		body: func(s *stream) {
			y, dy := s.load("R1"), s.load("R2")
			s.fsub(dy, dy, d)
			s.fmul(dy, y, dy)
			s.fmul(dy, dy, scv)
			s.store(dy, "R0")
		}})
	c.I("RET")
	b.end()
}

func genLayerNorm(b *builder) {
	accs := vr(16, 23)
	f := b.text("LayerNormRowNEON", "LayerNormRowNEON normalizes one row (kernels' layerNormRow): mean = sum32(src)/n,\n"+
		"rstd = 1/sqrt(dot32(d, d)/n + eps) with d = src - mean, t = d*rstd, and\n"+
		"dst = t, t*gamma or fma(t, gamma, beta) as gamma and beta are nil (len 0) or not.",
		"func(dst, src, gamma, beta []float32, eps float32) (mean, rstd float32)", 128)
	c := &f.body
	c.I("MOVD %s, R0", f.A("dst_base"))
	c.I("MOVD %s, R1", f.A("src_base"))
	c.I("MOVD %s, R2", f.A("gamma_base"))
	c.I("MOVD %s, R3", f.A("beta_base"))
	c.I("MOVD %s, R5", f.A("dst_len"))
	c.I("MOVD %s, R6", f.A("gamma_len"))
	c.I("MOVD %s, R7", f.A("beta_len"))
	c.I("MOVD R5, R4")
	c.I("MOVD $scratch-128(SP), R8")
	sum := func(body func(s *stream, x V)) {
		for _, a := range accs {
			c.zero(a)
		}
		f.reduction(redSpec{loopSpec: loopSpec{n: "R4", ptrs: []string{"R1"}, tmps: vr(0, 7),
			body: func(s *stream) { body(s, s.load("R1")) }},
			accs: [][]V{accs}, per: 8, ta: []V{24}, stack: "R8", sp: "R9"})
		f.tree(accs, 24, addOp)
	}
	sum(func(s *stream, x V) { s.fadd(s.acc[0], s.acc[0], x) })
	mean, rstd := V(25), V(26)
	c.I("SCVTFS R5, F27")      // n (V27 is outside the accumulators)
	c.I("FDIVS F27, F16, F18") // mean = sum / n
	c.I("FMOVS F18, %s", f.A("mean"))
	c.I("VDUP V18.S[0], %s", mean.S4())
	c.I("MOVD %s, R1", f.A("src_base"))
	c.I("MOVD R5, R4")
	sum(func(s *stream, x V) {
		s.fsub(x, x, mean)
		s.fmla(s.acc[0], x, x)
	})
	c.I("FDIVS F27, F16, F16") // var
	c.I("FMOVS %s, F19", f.A("eps"))
	c.I("FADDS F19, F16, F16")
	c.I("FSQRTS F16, F16")
	c.I("FMOVS $(1.0), F19")
	c.I("FDIVS F16, F19, F20") // rstd
	c.I("FMOVS F20, %s", f.A("rstd"))
	c.I("VDUP V20.S[0], %s", rstd.S4())
	c.I("MOVD %s, R1", f.A("src_base"))

	pass3 := func(gamma, beta bool) {
		ptrs := []string{"R0", "R1"}
		if gamma {
			ptrs = append(ptrs, "R2")
		}
		if beta {
			ptrs = append(ptrs, "R3")
		}
		f.elementwise(loopSpec{n: "R5", ptrs: ptrs, unroll: 4, tmps: vr(0, 11),
			body: func(s *stream) {
				t := s.load("R1")
				s.fsub(t, t, mean)
				s.fmul(t, t, rstd)
				switch {
				case beta:
					g, bb := s.load("R2"), s.load("R3")
					s.fmla(bb, t, g)
					t = bb
				case gamma:
					s.fmul(t, t, s.load("R2"))
				}
				s.store(t, "R0")
			}})
		c.I("RET")
	}
	noGamma, noBeta := f.label("nogamma"), f.label("nobeta")
	c.I("CBZ R6, %s", noGamma)
	c.I("CBZ R7, %s", noBeta)
	pass3(true, true)
	f.L(noBeta)
	pass3(true, false)
	f.L(noGamma)
	pass3(false, false)
	b.end()

	f = b.text("LayerNormBackwardRowNEON", "LayerNormBackwardRowNEON is one row of the layernorm backward (kernels'\n"+
		"layerNormBackwardRow): dx = fma(-t, mb, g - ma) * rstd with g = dy (*gamma),\n"+
		"t = (src-mean)*rstd, ma = sum32(g)/n, mb = dot32(g, t)/n; dgamma += dy*t (fused)\n"+
		"and dbeta += dy unless nil (len 0). dx may alias dy.",
		"func(dx, dgamma, dbeta, dy, src, gamma []float32, mean, rstd float32)", 256)
	c = &f.body
	c.I("MOVD %s, R0", f.A("dx_base"))
	c.I("MOVD %s, R1", f.A("dgamma_base"))
	c.I("MOVD %s, R2", f.A("dbeta_base"))
	c.I("MOVD %s, R7", f.A("dx_len"))
	c.I("MOVD %s, R10", f.A("dgamma_len"))
	c.I("MOVD %s, R11", f.A("dbeta_len"))
	c.I("MOVD %s, R12", f.A("gamma_len"))
	c.I("MOVD $scratch-256(SP), R8")
	mean, rstd = V(28), V(29)
	c.I("FMOVS %s, F28", f.A("mean"))
	c.I("VDUP V28.S[0], %s", mean.S4())
	c.I("FMOVS %s, F29", f.A("rstd"))
	c.I("VDUP V29.S[0], %s", rstd.S4())
	reload := func() {
		c.I("MOVD %s, R3", f.A("dy_base"))
		c.I("MOVD %s, R4", f.A("src_base"))
		c.I("MOVD %s, R5", f.A("gamma_base"))
		c.I("MOVD R7, R6")
	}
	// g and t of one vector, as the reference computes them.
	gt := func(s *stream, gamma bool) (g, t V) {
		g = s.load("R3")
		if gamma {
			s.fmul(g, g, s.load("R5"))
		}
		t = s.load("R4")
		s.fsub(t, t, mean)
		s.fmul(t, t, rstd)
		return g, t
	}
	setA, setB := accs, vr(8, 15)
	for _, a := range append(setA, setB...) {
		c.zero(a)
	}
	reload()
	pass1 := func(gamma bool) {
		ptrs := []string{"R3", "R4"}
		if gamma {
			ptrs = append(ptrs, "R5")
		}
		f.reduction(redSpec{loopSpec: loopSpec{n: "R6", ptrs: ptrs, tmps: vr(0, 7),
			body: func(s *stream) {
				g, t := gt(s, gamma)
				s.fadd(s.acc[0], s.acc[0], g)
				s.fmla(s.acc[1], g, t)
			}}, accs: [][]V{setA, setB}, per: 2, ta: []V{24, 25}, stack: "R8", sp: "R9"})
	}
	noG, p1done := f.label("nogamma"), f.label("p1done")
	c.I("CBZ R12, %s", noG)
	pass1(true)
	c.I("B %s", p1done)
	f.L(noG)
	pass1(false)
	f.L(p1done)
	f.tree(setA, 26, addOp)
	f.tree(setB, 27, addOp)
	ma, mb := V(30), V(31)
	c.I("SCVTFS R7, F26")
	c.I("FDIVS F26, F16, F16")
	c.I("FDIVS F26, F8, F8")
	c.I("VDUP V16.S[0], %s", ma.S4())
	c.I("VDUP V8.S[0], %s", mb.S4())

	// dgamma and dbeta, before dx (which may overwrite dy).
	reload()
	gradsBody := func(dg, db bool) func(s *stream) {
		return func(s *stream) {
			dy := s.load("R3")
			if dg {
				t := s.load("R4")
				s.fsub(t, t, mean)
				s.fmul(t, t, rstd)
				g := s.load("R1")
				s.fmla(g, dy, t)
				s.store(g, "R1")
			}
			if db {
				d := s.load("R2")
				s.fadd(d, d, dy)
				s.store(d, "R2")
			}
		}
	}
	gradLoop := func(dg, db bool) {
		ptrs := []string{"R3"}
		if dg {
			ptrs = append(ptrs, "R1", "R4")
		}
		if db {
			ptrs = append(ptrs, "R2")
		}
		f.elementwise(loopSpec{n: "R6", ptrs: ptrs, unroll: 4, tmps: vr(0, 15), body: gradsBody(dg, db)})
	}
	noDG, dgOnly, gdone := f.label("nodgamma"), f.label("dgammaonly"), f.label("gradsdone")
	c.I("CBZ R10, %s", noDG)
	c.I("CBZ R11, %s", dgOnly)
	gradLoop(true, true)
	c.I("B %s", gdone)
	f.L(dgOnly)
	gradLoop(true, false)
	c.I("B %s", gdone)
	f.L(noDG)
	c.I("CBZ R11, %s", gdone)
	gradLoop(false, true)
	f.L(gdone)

	// dx.
	reload()
	dxLoop := func(gamma bool) {
		ptrs := []string{"R0", "R3", "R4"}
		if gamma {
			ptrs = append(ptrs, "R5")
		}
		f.elementwise(loopSpec{n: "R6", ptrs: ptrs, unroll: 4, tmps: vr(0, 11),
			body: func(s *stream) {
				g, t := gt(s, gamma)
				s.fsub(g, g, ma)
				s.fmls(g, t, mb) // fma(-t, mb, g - ma)
				s.fmul(g, g, rstd)
				s.store(g, "R0")
			}})
		c.I("RET")
	}
	noG2 := f.label("nogamma")
	c.I("CBZ R12, %s", noG2)
	dxLoop(true)
	f.L(noG2)
	dxLoop(false)
	b.end()
}
