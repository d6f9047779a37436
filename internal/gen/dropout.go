package main

import "fmt"

// The counter-based dropout hash (CANONICAL.md): bits = Mix32(Mix32(i ^ k0) + k1),
// kept iff bits < thr, on vectors of four consecutive indices.

// mix32 emits h = Mix32(h) with the multipliers in c1, c2; t is a temporary.
func mix32(c *code, h, t, c1, c2 V) {
	c.ushr(t, h, 16)
	c.eor(h, h, t)
	c.mul(h, h, c1)
	c.ushr(t, h, 15)
	c.eor(h, h, t)
	c.mul(h, h, c2)
	c.ushr(t, h, 16)
	c.eor(h, h, t)
}

// dropoutKeys loads k0, k1, thr (uint32 arguments) into broadcast registers
// and the Mix32 multipliers into c1, c2.
func dropoutKeys(f *fn, k0, k1, thr, c1, c2 V) {
	c := &f.body
	for _, a := range []struct {
		name string
		v    V
	}{{"k0", k0}, {"k1", k1}, {"thr", thr}} {
		c.I("MOVWU %s, R16", f.A(a.name))
		c.I("VDUP R16, %s", a.v.S4())
	}
	c.bcast(c1, 0x7feb352d)
	c.bcast(c2, 0x846ca68b)
}

// keepMask emits m = all ones where index vector j is kept; h is a temp.
func keepMask(c *code, m, h, j, k0, k1, thr, c1, c2 V) {
	c.eor(h, j, k0)
	mix32(c, h, m, c1, c2)
	c.iadd(h, h, k1)
	mix32(c, h, m, c1, c2)
	c.cmhi(m, thr, h) // bits < thr
}

func genDropout(b *builder) {
	f := b.text("DropoutNEON", "DropoutNEON sets dst[j] = src[j] * (keep ? scale : 0) where keep is\n"+
		"Mix32(Mix32((lo+j) ^ k0) + k1) < thr, for j < len(dst) (no 2^32 wrap of lo+j).",
		"func(dst, src []float32, k0, k1, lo, thr uint32, scale float32)", 0)
	c := &f.body
	c.I("MOVD %s, R0", f.A("dst_base"))
	c.I("MOVD %s, R1", f.A("src_base"))
	c.I("MOVD %s, R3", f.A("dst_len"))
	k0, k1, thr, sc, c1, c2 := V(16), V(17), V(18), V(19), V(20), V(21)
	s1, s4, s16 := V(22), V(23), V(24)
	js := vr(25, 28)
	dropoutKeys(f, k0, k1, thr, c1, c2)
	c.I("FMOVS %s, F19", f.A("scale"))
	c.I("VDUP V19.S[0], %s", sc.S4())
	c.bcast(s1, 1)
	c.bcast(s4, 4)
	c.bcast(s16, 16)
	pl := f.newPool(29)
	iota := pl.vec(0, 1, 2, 3)
	f.loadPool(pl)
	c.I("MOVWU %s, R16", f.A("lo"))
	c.I("VDUP R16, %s", js[0].S4())
	c.iadd(js[0], js[0], iota)
	for i := 1; i < 4; i++ {
		c.iadd(js[i], js[i-1], s4)
	}
	f.elementwise(loopSpec{n: "R3", ptrs: []string{"R0", "R1"}, unroll: 4, tmps: vr(0, 11),
		body: func(s *stream) {
			h, m := s.t(), s.t()
			keepMask(&s.code, m, h, js[s.s], k0, k1, thr, c1, c2)
			s.and(m, m, sc)
			x := s.load("R1")
			s.fmul(x, x, m)
			s.store(x, "R0")
		},
		after: func(c *code, elems int) {
			switch elems {
			case 16:
				for _, j := range js {
					c.iadd(j, j, s16)
				}
			case 4:
				c.iadd(js[0], js[0], s4)
			case 1:
				c.iadd(js[0], js[0], s1)
			default:
				panic(fmt.Sprint("gen: dropout step ", elems))
			}
		}})
	c.I("RET")
	b.end()

	// DropoutMask: 32 indices per 32-bit half word. Vector g of a chunk
	// contributes bits 4g..4g+3: (keep & {1,2,4,8}) << 4g, summed by ADDV.
	f = b.text("DropoutMaskNEON", "DropoutMaskNEON writes ceil(n/64) words: bit i%64 of mask[i/64] is keep(lo+i)\n"+
		"(as DropoutNEON); bits past n in the last word are zero.",
		"func(mask []uint64, n int, k0, k1, lo, thr uint32)", 0)
	c = &f.body
	c.I("MOVD %s, R0", f.A("mask_base"))
	c.I("MOVD %s, R1", f.A("n"))
	c.I("MOVD $0, R4") // halves written
	acc := V(19)
	s32 := V(24)
	js = vr(8, 15)
	dropoutKeys(f, k0, k1, thr, c1, c2)
	c.bcast(s4, 4)
	c.bcast(s32, 32)
	pl = f.newPool(25, 26)
	iota = pl.vec(0, 1, 2, 3)
	w := pl.vec(1, 2, 4, 8)
	f.loadPool(pl)
	c.I("MOVWU %s, R16", f.A("lo"))
	c.I("VDUP R16, %s", js[0].S4())
	c.iadd(js[0], js[0], iota)
	for i := 1; i < 8; i++ {
		c.iadd(js[i], js[i-1], s4)
	}
	loop, full, end, done := f.label("chunk"), f.label("full"), f.label("end"), f.label("done")
	f.L(loop)
	c.I("CMP $0, R1")
	c.I("BLE %s", end)
	c.zero(acc)
	sp := loopSpec{tmps: vr(0, 7)}
	for r := 0; r < 2; r++ {
		f.emit(sp.streams(4, 4*r, 4), func(s *stream) {
			h, m := s.t(), s.t()
			keepMask(&s.code, m, h, js[s.s], k0, k1, thr, c1, c2)
			s.and(m, m, w)
			if s.s > 0 {
				s.shl(m, m, 4*s.s)
			}
			s.orr(acc, acc, m)
		})
	}
	c.I("VADDV %s, V%d", acc.S4(), int(acc))
	c.I("VMOV V%d.S[0], R2", int(acc))
	c.I("CMP $32, R1")
	c.I("BGE %s", full)
	c.I("MOVD $1, R3") // last, partial chunk: keep bits < n
	c.I("LSL R1, R3")
	c.I("SUB $1, R3")
	c.I("AND R3, R2")
	f.L(full)
	c.I("MOVW R2, (R0)")
	c.I("ADD $4, R0")
	c.I("ADD $1, R4")
	for _, j := range js {
		c.iadd(j, j, s32)
	}
	c.I("SUB $32, R1")
	c.I("B %s", loop)
	f.L(end)
	c.I("TBZ $0, R4, %s", done) // odd number of halves: zero the high half
	c.I("MOVW ZR, (R0)")
	f.L(done)
	c.I("RET")
	b.end()
}
