package main

import "strings"

// The 8×12 GEMM micro-kernel. Register layout:
//
//	V0, V1     A: the 8 floats of one k step (rows 0-3, 4-7)
//	V2..V4     B: the 12 floats of one k step (columns 0-3, 4-7, 8-11)
//	V8..V31    C: row i, columns 4j..4j+3 in V(8+3i+j)
//
// One k step is two loads (VLD1 of 2 and of 3 Q registers) and 24 FMLA by
// element: C[i][4j..] = fma(B[4j..], A[i], C[i][4j..]), one in-order fused
// chain per C element, as gemmKernel requires.
func genGemm(b *builder) {
	f := b.text("GemmNEON", "GemmNEON is the 8×12 gemmKernel: for i < 8, j < 12 it computes\n"+
		"acc = load ? c[i*ldc+j] : +0; acc = fma(a[p*8+i], b[p*12+j], acc) for p < kc; c[i*ldc+j] = acc.",
		"func(kc int, a, b, c []float32, ldc int, load bool)", 0)
	c := &f.body
	acc := func(i, j int) V { return V(8 + 3*i + j) }
	row := func(i int) string {
		var r []string
		for j := 0; j < 3; j++ {
			r = append(r, acc(i, j).S4())
		}
		return "[" + strings.Join(r, ", ") + "]"
	}
	c.I("MOVD %s, R0", f.A("kc"))
	c.I("MOVD %s, R1", f.A("a_base"))
	c.I("MOVD %s, R2", f.A("b_base"))
	c.I("MOVD %s, R3", f.A("c_base"))
	c.I("MOVD %s, R4", f.A("ldc"))
	c.I("MOVBU %s, R5", f.A("load"))
	c.I("LSL $2, R4")
	zero, loop, one, store := f.label("zero"), f.label("loop"), f.label("one"), f.label("store")
	c.I("CBZ R5, %s", zero)
	c.I("MOVD R3, R6")
	for i := 0; i < 8; i++ {
		c.I("VLD1 (R6), %s", row(i))
		c.I("ADD R4, R6")
	}
	c.I("B %s", loop)
	f.L(zero)
	for v := V(8); v < 32; v++ {
		c.zero(v)
	}
	step := func() {
		c.I("VLD1.P 32(R1), [V0.S4, V1.S4]")
		c.I("VLD1.P 48(R2), [V2.S4, V3.S4, V4.S4]")
		for i := 0; i < 8; i++ {
			for j := 0; j < 3; j++ {
				c.fmlaE(acc(i, j), V(2+j), kst{V(i / 4), i % 4})
			}
		}
	}
	f.L(loop)
	c.I("CMP $2, R0")
	c.I("BLT %s", one)
	step()
	step()
	c.I("SUB $2, R0")
	c.I("B %s", loop)
	f.L(one)
	c.I("CBZ R0, %s", store)
	step()
	f.L(store)
	c.I("MOVD R3, R6")
	for i := 0; i < 8; i++ {
		c.I("VST1 %s, (R6)", row(i))
		c.I("ADD R4, R6")
	}
	c.I("RET")
	b.end()
}
