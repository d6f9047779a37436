package main

import "fmt"

// stream is one independent vector of work in an unrolled loop: the body
// writes its instructions into the embedded code, takes temporaries with t,
// and loads/stores through ld/st, which place vector s of the iteration.
type stream struct {
	code
	s    int // vector index within the iteration
	w    int // lanes per vector: 4, or 1 in the scalar tails
	tmps []V
	used int
	acc  []V // reductions: this vector's accumulator, one per set
}

// t returns the stream's next free temporary.
func (s *stream) t() V {
	if s.used == len(s.tmps) {
		panic(fmt.Sprintf("gen: stream needs more than %d temporaries", len(s.tmps)))
	}
	v := s.tmps[s.used]
	s.used++
	return v
}

func (s *stream) off() int { return 4 * s.w * s.s }

// load reads this stream's w floats from pointer register p into a new temp.
func (s *stream) load(p string) V {
	v := s.t()
	s.ld(s.w, v, s.off(), p)
	return v
}

// store writes this stream's w floats of v to pointer register p.
func (s *stream) store(v V, p string) { s.st(s.w, v, s.off(), p) }

// loadBools reads this stream's w bools (bytes 0/1) from p and returns a
// mask with all bits of lane i set where bool i is true.
func (s *stream) loadBools(p string) V {
	v := s.t()
	gp := fmt.Sprintf("R%d", 19+s.s%4) // distinct for up to 4 simultaneous streams
	if s.w == 4 {
		s.I("MOVWU %d(%s), %s", s.s*4, p, gp)
	} else {
		s.I("MOVBU %d(%s), %s", s.s, p, gp)
	}
	s.I("VMOV %s, V%d.S[0]", gp, int(v))
	s.I("VUXTL V%d.B8, V%d.H8", int(v), int(v))
	s.I("VUXTL V%d.H4, V%d.S4", int(v), int(v))
	s.I("VCMTST %s, %s, %s", v.S4(), v.S4(), v.S4())
	return v
}

// loopSpec describes a loop over n elements.
type loopSpec struct {
	n      string   // GP count register, consumed
	ptrs   []string // float32 pointer registers, advanced 4 bytes per element
	bptrs  []string // bool pointer registers, advanced 1 byte per element
	unroll int      // vectors per main-loop iteration
	tmps   []V      // temporaries, split evenly between simultaneous streams
	body   func(s *stream)
	after  func(c *code, elems int) // optional per-iteration state update
}

func (f *fn) advance(sp *loopSpec, elems int) {
	c := &f.body
	for _, p := range sp.ptrs {
		c.I("ADD $%d, %s", 4*elems, p)
	}
	for _, p := range sp.bptrs {
		c.I("ADD $%d, %s", elems, p)
	}
	c.I("SUB $%d, %s", elems, sp.n)
	if sp.after != nil {
		sp.after(c, elems)
	}
}

// streams builds k simultaneous streams with indexes s0.. of width w.
func (sp *loopSpec) streams(k, s0, w int) []*stream {
	per := len(sp.tmps) / k
	out := make([]*stream, k)
	for i := range out {
		out[i] = &stream{s: s0 + i, w: w, tmps: sp.tmps[i*per : (i+1)*per]}
	}
	return out
}

func (f *fn) emit(ss []*stream, body func(*stream)) {
	cs := make([]*code, len(ss))
	for i, s := range ss {
		body(s)
		cs[i] = &s.code
	}
	f.body.interleave(cs)
}

// elementwise emits: a main loop of unroll vectors, a loop of single
// vectors, and a one-element tail that runs the same vector code on lane 0.
func (f *fn) elementwise(sp loopSpec) {
	c := &f.body
	l4, l1, done := f.label("vec"), f.label("one"), f.label("done")
	if sp.unroll > 1 {
		lu := f.label("loop")
		f.L(lu)
		c.I("CMP $%d, %s", 4*sp.unroll, sp.n)
		c.I("BLT %s", l4)
		f.emit(sp.streams(sp.unroll, 0, 4), sp.body)
		f.advance(&sp, 4*sp.unroll)
		c.I("B %s", lu)
	}
	f.L(l4)
	c.I("CMP $4, %s", sp.n)
	c.I("BLT %s", l1)
	f.emit(sp.streams(1, 0, 4), sp.body)
	f.advance(&sp, 4)
	c.I("B %s", l4)
	f.L(l1)
	c.I("CBZ %s, %s", sp.n, done)
	f.emit(sp.streams(1, 0, 1), sp.body)
	f.advance(&sp, 1)
	c.I("B %s", l1)
	f.L(done)
}

// redSpec is a pass that also accumulates into one or more sets of the
// canonical 32 lanes (8 Q registers each: lanes 4g..4g+3 in accs[k][g]).
type redSpec struct {
	loopSpec
	accs  [][]V  // sets × 8 accumulators
	per   int    // simultaneous streams per round (divides 8)
	ta    []V    // tail accumulator per set
	stack string // GP register with the address of 128*len(accs) scratch bytes
	sp    string // GP scratch register (walks the scratch lanes)
}

// reduction emits the pass. The main loop handles 32 elements (8 vectors,
// vector g accumulating into accs[k][g]). The rest (< 32 elements, which
// belong to lanes 0..n-1) goes through the lanes spilled to the stack: 4 at
// a time, then one at a time on lane 0, so every lane sees its elements in
// index order. The accumulators are reloaded at the end.
func (f *fn) reduction(sp redSpec) {
	c := &f.body
	lm, lt4, lt1, done := f.label("red"), f.label("rvec"), f.label("rone"), f.label("rdone")
	f.L(lm)
	c.I("CMP $32, %s", sp.n)
	c.I("BLT %s", lt4)
	for r := 0; r < 8/sp.per; r++ {
		ss := sp.streams(sp.per, r*sp.per, 4)
		for _, s := range ss {
			for k := range sp.accs {
				s.acc = append(s.acc, sp.accs[k][s.s])
			}
		}
		f.emit(ss, sp.body)
	}
	f.advance(&sp.loopSpec, 32)
	c.I("B %s", lm)

	f.L(lt4)
	for k, set := range sp.accs {
		for g := 0; g < 8; g += 2 {
			c.I("FSTPQ (%s, %s), %d(%s)", set[g].F(), set[g+1].F(), 128*k+16*g, sp.stack)
		}
	}
	c.I("MOVD %s, %s", sp.stack, sp.sp)
	tail := func(w int, exit string) {
		for k, t := range sp.ta {
			c.ld(w, t, 128*k, sp.sp)
		}
		ss := sp.streams(1, 0, w)
		ss[0].acc = sp.ta
		f.emit(ss, sp.body)
		for k, t := range sp.ta {
			c.st(w, t, 128*k, sp.sp)
		}
		c.I("ADD $%d, %s", 4*w, sp.sp)
		f.advance(&sp.loopSpec, w)
		c.I("B %s", exit)
	}
	f.L(lt4 + "a")
	c.I("CMP $4, %s", sp.n)
	c.I("BLT %s", lt1)
	tail(4, lt4+"a")
	f.L(lt1)
	c.I("CBZ %s, %s", sp.n, done)
	tail(1, lt1)
	f.L(done)
	for k, set := range sp.accs {
		for g := 0; g < 8; g += 2 {
			c.I("FLDPQ %d(%s), (%s, %s)", 128*k+16*g, sp.stack, set[g].F(), set[g+1].F())
		}
	}
}

// tree folds 8 accumulators by the canonical tree (lanes j += j+16, +8, +4,
// +2, +1) with op(d, lo, hi) computing d = lo ⊕ hi (d is lo's register);
// the result is lane 0 of a[0]. t is a temporary.
func (f *fn) tree(a []V, t V, op func(c *code, lo, hi V)) {
	c := &f.body
	for g := 0; g < 4; g++ {
		op(c, a[g], a[g+4])
	}
	op(c, a[0], a[2])
	op(c, a[1], a[3])
	op(c, a[0], a[1])
	c.ext(t, a[0], a[0], 8) // lanes 2,3,0,1
	op(c, a[0], t)
	c.ext(t, a[0], a[0], 4) // lanes 1,2,3,0
	op(c, a[0], t)
}

func addOp(c *code, lo, hi V) { c.fadd(lo, lo, hi) }

// maxOp is lo = (hi > lo) ? hi : lo, using t... it needs a scratch register,
// so it is built by maxOpWith.
func maxOpWith(t V) func(c *code, lo, hi V) {
	return func(c *code, lo, hi V) {
		c.fcmgt(t, hi, lo)
		c.bit(lo, hi, t)
	}
}

// maxnmOp is an order-free max that ignores NaN (softmax's row max).
func maxnmOp(c *code, lo, hi V) { c.fmaxnm(lo, lo, hi) }
