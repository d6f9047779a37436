package main

// Elementwise kernels without transcendental functions, and the canonical
// reductions.

// vr returns the registers V(from)..V(to).
func vr(from, to V) []V { return newAlloc(from, to).n(int(to-from) + 1) }

func genBinary(b *builder) {
	ops := []struct {
		name, doc string
		op        func(c *code, d, n, m V)
	}{
		{"AddNEON", "AddNEON sets dst[i] = a[i] + b[i] for i < len(dst).", (*code).fadd},
		{"SubNEON", "SubNEON sets dst[i] = a[i] - b[i] for i < len(dst).", (*code).fsub},
		{"MulNEON", "MulNEON sets dst[i] = a[i] * b[i] for i < len(dst).", (*code).fmul},
	}
	for _, o := range ops {
		f := b.text(o.name, o.doc, "func(dst, a, b []float32)", 0)
		c := &f.body
		c.I("MOVD %s, R0", f.A("dst_base"))
		c.I("MOVD %s, R1", f.A("a_base"))
		c.I("MOVD %s, R2", f.A("b_base"))
		c.I("MOVD %s, R3", f.A("dst_len"))
		op := o.op
		f.elementwise(loopSpec{n: "R3", ptrs: []string{"R0", "R1", "R2"}, unroll: 4, tmps: vr(0, 7),
			body: func(s *stream) {
				x, y := s.load("R1"), s.load("R2")
				op(&s.code, x, x, y)
				s.store(x, "R0")
			}})
		c.I("RET")
		b.end()
	}

	// ReLU backward: dx = (x > 0) ? dy : +0.
	f := b.text("ReLUBackwardNEON", "ReLUBackwardNEON sets dx[i] = dy[i] where x[i] > 0 and +0 elsewhere, for i < len(dx).",
		"func(dx, x, dy []float32)", 0)
	c := &f.body
	c.I("MOVD %s, R0", f.A("dx_base"))
	c.I("MOVD %s, R1", f.A("x_base"))
	c.I("MOVD %s, R2", f.A("dy_base"))
	c.I("MOVD %s, R3", f.A("dx_len"))
	f.elementwise(loopSpec{n: "R3", ptrs: []string{"R0", "R1", "R2"}, unroll: 4, tmps: vr(0, 7),
		body: func(s *stream) {
			x, dy := s.load("R1"), s.load("R2")
			s.fcmgtz(x, x)
			s.and(dy, dy, x)
			s.store(dy, "R0")
		}})
	c.I("RET")
	b.end()

	// Axpy: y = fma(alpha, x, y).
	f = b.text("AxpyNEON", "AxpyNEON sets y[i] = fma(alpha, x[i], y[i]) (fused) for i < len(y).",
		"func(alpha float32, x, y []float32)", 0)
	c = &f.body
	c.I("FMOVS %s, F31", f.A("alpha"))
	c.I("MOVD %s, R1", f.A("x_base"))
	c.I("MOVD %s, R2", f.A("y_base"))
	c.I("MOVD %s, R3", f.A("y_len"))
	alpha := kst{31, 0}
	f.elementwise(loopSpec{n: "R3", ptrs: []string{"R1", "R2"}, unroll: 4, tmps: vr(0, 7),
		body: func(s *stream) {
			x, y := s.load("R1"), s.load("R2")
			s.fmlaE(y, x, alpha)
			s.store(y, "R2")
		}})
	c.I("RET")
	b.end()
}

func genUnary(b *builder) {
	unary := func(name, doc string, setup func(f *fn), body func(s *stream, x V)) {
		f := b.text(name, doc, "func(dst, src []float32)", 0)
		c := &f.body
		c.I("MOVD %s, R0", f.A("dst_base"))
		c.I("MOVD %s, R1", f.A("src_base"))
		c.I("MOVD %s, R3", f.A("dst_len"))
		if setup != nil {
			setup(f)
		}
		f.elementwise(loopSpec{n: "R3", ptrs: []string{"R0", "R1"}, unroll: 4, tmps: vr(0, 7),
			body: func(s *stream) {
				x := s.load("R1")
				body(s, x)
				s.store(x, "R0")
			}})
		c.I("RET")
		b.end()
	}
	unary("ReLUNEON", "ReLUNEON sets dst[i] = (0 > src[i]) ? +0 : src[i] for i < len(dst) (NaN and -0 pass through).",
		nil, func(s *stream, x V) {
			m := s.t()
			s.fcmltz(m, x)
			s.bic(x, x, m)
		})

	// Scale has an extra argument.
	f := b.text("ScaleNEON", "ScaleNEON sets dst[i] = alpha * src[i] for i < len(dst).",
		"func(dst, src []float32, alpha float32)", 0)
	c := &f.body
	c.I("MOVD %s, R0", f.A("dst_base"))
	c.I("MOVD %s, R1", f.A("src_base"))
	c.I("MOVD %s, R3", f.A("dst_len"))
	c.I("FMOVS %s, F31", f.A("alpha"))
	f.elementwise(loopSpec{n: "R3", ptrs: []string{"R0", "R1"}, unroll: 4, tmps: vr(0, 7),
		body: func(s *stream) {
			x := s.load("R1")
			s.fmulE(x, x, kst{31, 0})
			s.store(x, "R0")
		}})
	c.I("RET")
	b.end()
}

// genReductions emits Sum, Dot and Max with the canonical 32-lane layout.
func genReductions(b *builder) {
	accs := vr(16, 23)

	f := b.text("SumNEON", "SumNEON returns sum32(x), the canonical 32-lane sum (CANONICAL.md).",
		"func(x []float32) float32", 128)
	c := &f.body
	c.I("MOVD %s, R1", f.A("x_base"))
	c.I("MOVD %s, R3", f.A("x_len"))
	c.I("MOVD $scratch-128(SP), R8")
	for _, a := range accs {
		c.zero(a)
	}
	f.reduction(redSpec{loopSpec: loopSpec{n: "R3", ptrs: []string{"R1"}, tmps: vr(0, 7),
		body: func(s *stream) {
			x := s.load("R1")
			s.fadd(s.acc[0], s.acc[0], x)
		}}, accs: [][]V{accs}, per: 8, ta: []V{24}, stack: "R8", sp: "R9"})
	f.tree(accs, 25, addOp)
	c.I("FMOVS F16, %s", f.A("ret"))
	c.I("RET")
	b.end()

	f = b.text("DotNEON", "DotNEON returns dot32(x, y), the canonical 32-lane fused dot product over len(x) elements.",
		"func(x, y []float32) float32", 128)
	c = &f.body
	c.I("MOVD %s, R1", f.A("x_base"))
	c.I("MOVD %s, R2", f.A("y_base"))
	c.I("MOVD %s, R3", f.A("x_len"))
	c.I("MOVD $scratch-128(SP), R8")
	for _, a := range accs {
		c.zero(a)
	}
	f.reduction(redSpec{loopSpec: loopSpec{n: "R3", ptrs: []string{"R1", "R2"}, tmps: vr(0, 15),
		body: func(s *stream) {
			x, y := s.load("R1"), s.load("R2")
			s.fmla(s.acc[0], x, y)
		}}, accs: [][]V{accs}, per: 8, ta: []V{24}, stack: "R8", sp: "R9"})
	f.tree(accs, 25, addOp)
	c.I("FMOVS F16, %s", f.A("ret"))
	c.I("RET")
	b.end()

	f = b.text("MaxNEON", "MaxNEON returns the canonical max of x: lanes m = (v > m) ? v : m from -Inf, the\n"+
		"lane tree keeping the lower lane on ties, and NaN if any element is NaN.",
		"func(x []float32) float32", 128)
	c = &f.body
	c.I("MOVD %s, R1", f.A("x_base"))
	c.I("MOVD %s, R3", f.A("x_len"))
	c.I("MOVD $scratch-128(SP), R8")
	ok, ninf := V(25), V(26)
	c.bcast(ninf, 0xff800000)
	for _, a := range accs {
		c.mov(a, ninf)
	}
	c.I("VCMEQ %s, %s, %s", ok.S4(), ok.S4(), ok.S4()) // all ones: no NaN seen
	f.reduction(redSpec{loopSpec: loopSpec{n: "R3", ptrs: []string{"R1"}, tmps: vr(0, 11),
		body: func(s *stream) {
			x, m, e := s.load("R1"), s.t(), s.t()
			s.fcmgt(m, x, s.acc[0])
			s.bit(s.acc[0], x, m)
			s.fcmeq(e, x, x)
			s.and(ok, ok, e)
		}}, accs: [][]V{accs}, per: 4, ta: []V{24}, stack: "R8", sp: "R9"})
	f.tree(accs, 27, maxOpWith(28))
	nan := f.label("nan")
	c.I("VMOV %s.D[0], R1", "V25")
	c.I("VMOV %s.D[1], R2", "V25")
	c.I("AND R1, R2")
	c.I("CMN $1, R2")
	c.I("BNE %s", nan)
	c.I("FMOVS F16, %s", f.A("ret"))
	c.I("RET")
	f.L(nan)
	c.I("MOVW $0x7fc00000, R1")
	c.I("MOVW R1, %s", f.A("ret"))
	c.I("RET")
	b.end()
}
