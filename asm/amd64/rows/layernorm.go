package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// bcastX broadcasts lane 0 of an XMM into a new vector.
func (t *tier) bcastX(x VecVirtual) VecVirtual {
	r := t.V()
	VBROADCASTSS(x, r)
	return r
}

func (t *tier) genLayerNorm() {
	t.text("LayerNormRow", "func(dst, src, gamma, beta []float32, eps float32) (mean, rstd float32)",
		"normalizes one row (kernels/layernorm.go, layerNormRowGeneric): mean = sum32(x)/n, "+
			"var = dot32(x-mean, x-mean)/n, rstd = 1/sqrt(var+eps), dst = t or t*gamma or fma(t, gamma, beta) "+
			"with t = (x-mean)*rstd; gamma empty = no affine, beta empty = no bias.")
	{
		n := length("dst")
		src, dst := t.arrF32("src"), t.arrF32("dst")
		gamma, beta := t.arrF32("gamma"), t.arrF32("beta")
		glen, blen := length("gamma"), length("beta")
		i := GP64()

		acc := t.accs(nil)
		t.loop(i, n, t.nacc, nil, func(v int, mk *mask) {
			a := acc[v%t.nacc]
			VADDPS(t.load(t.at(src, i, v), mk), a, a)
		})
		nf := XMM()
		VXORPS(nf, nf, nf)
		VCVTSI2SSQ(n, nf, nf) // float32(n)
		mean := t.treeSum(acc)
		VDIVSS(nf, mean, mean) // mean = sum / n
		mv := t.bcastX(mean)

		acc = t.accs(nil)
		t.loop(i, n, t.nacc, nil, func(v int, mk *mask) {
			d := t.load(t.at(src, i, v), mk)
			VSUBPS(mv, d, d) // d = x - mean
			t.zeroPad(d, mk)
			a := acc[v%t.nacc]
			VFMADD231PS(d, d, a)
		})
		rstd := t.treeSum(acc)
		VDIVSS(nf, rstd, rstd) // var = dot / n
		eps := XMM()
		VMOVSS(addr(Param("eps")), eps)
		VADDSS(eps, rstd, rstd)           // var + eps
		VSQRTSS(rstd, rstd, rstd)         // sqrt (IEEE)
		VDIVSS(rstd, t.kr(1).AsX(), rstd) // rstd = 1 / sqrt
		rv := t.bcastX(rstd)

		// Pass 3, one loop per affine variant.
		TESTQ(glen, glen)
		JZ(LabelRef("plain"))
		TESTQ(blen, blen)
		JZ(LabelRef("nobias"))
		for _, variant := range []string{"affine", "nobias", "plain"} {
			Label(variant)
			t.loop(i, n, 4, nil, func(v int, mk *mask) {
				x := t.load(t.at(src, i, v), mk)
				VSUBPS(mv, x, x)
				VMULPS(rv, x, x) // t = (x - mean) * rstd
				switch variant {
				case "affine":
					VFMADD213PS(t.load(t.at(beta, i, v), mk), t.load(t.at(gamma, i, v), mk), x) // fma(t, gamma, beta)
				case "nobias":
					VMULPS(t.load(t.at(gamma, i, v), mk), x, x) // t * gamma
				}
				t.store(x, t.at(dst, i, v), mk)
			})
			JMP(LabelRef("ret"))
		}
		Label("ret")
		VMOVSS(mean, addr(ReturnIndex(0)))
		VMOVSS(rstd, addr(ReturnIndex(1)))
		t.ret()
	}

	t.text("LayerNormBackwardRow", "func(dx, dgamma, dbeta, dy, src, gamma []float32, mean, rstd float32)",
		"is one row of the layernorm backward (kernels/layernorm.go, layerNormBackwardRowGeneric): "+
			"dx is overwritten, dgamma and dbeta (empty = skip) accumulate; gamma empty = no affine.")
	{
		n := length("dx")
		dx, dgamma, dbeta := t.arrF32("dx"), t.arrF32("dgamma"), t.arrF32("dbeta")
		dy, src, gamma := t.arrF32("dy"), t.arrF32("src"), t.arrF32("gamma")
		glen, dglen, dblen := length("gamma"), length("dgamma"), length("dbeta")
		mv, rv := t.paramF32("mean"), t.paramF32("rstd")
		i := GP64()

		// tg returns t = (x-mean)*rstd and g = dy or dy*gamma for vector v;
		// dyv is dy.
		tg := func(v int, mk *mask, hasGamma bool) (tt, g, dyv VecVirtual) {
			tt = t.load(t.at(src, i, v), mk)
			VSUBPS(mv, tt, tt)
			VMULPS(rv, tt, tt)
			dyv = t.load(t.at(dy, i, v), mk)
			g = dyv
			if hasGamma {
				g = t.V()
				VMULPS(t.load(t.at(gamma, i, v), mk), dyv, g)
			}
			return tt, g, dyv
		}

		a, b := t.accs(nil), t.accs(nil)
		// Pass 1: a = sum32(g), b = dot32(g, t), dgamma += dy*t, dbeta += dy;
		// one loop per (gamma, dgamma, dbeta) presence.
		name := func(vr int) string { return fmt.Sprintf("pass1_%d", vr) }
		// Dispatch on 3 bits: gamma = 1, dgamma = 2, dbeta = 4.
		sel := GP64()
		XORQ(sel, sel)
		for bit, l := range []GPVirtual{glen, dglen, dblen} {
			r := GP64()
			XORQ(r, r)
			TESTQ(l, l)
			SETNE(r.As8())
			if bit > 0 {
				SHLQ(U8(bit), r)
			}
			ORQ(r, sel)
		}
		for vr := 0; vr < 8; vr++ {
			CMPQ(sel, U8(vr))
			JE(LabelRef(name(vr)))
		}
		for vr := 0; vr < 8; vr++ {
			hasGamma, hasDG, hasDB := vr&1 != 0, vr&2 != 0, vr&4 != 0
			Label(name(vr))
			t.loop(i, n, t.nacc, nil, func(v int, mk *mask) {
				tt, g, dyv := tg(v, mk, hasGamma)
				if hasDG {
					d := t.load(t.at(dgamma, i, v), mk)
					VFMADD231PS(tt, dyv, d) // dgamma = fma(dy, t, dgamma)
					t.store(d, t.at(dgamma, i, v), mk)
				}
				if hasDB {
					d := t.load(t.at(dbeta, i, v), mk)
					VADDPS(dyv, d, d) // dbeta = dbeta + dy
					t.store(d, t.at(dbeta, i, v), mk)
				}
				t.zeroPad(tt, mk) // padding lanes: g = 0 and t = +0
				VADDPS(g, a[v%t.nacc], a[v%t.nacc])
				VFMADD231PS(tt, g, b[v%t.nacc]) // b = fma(g, t, b)
			})
			JMP(LabelRef("pass2"))
		}

		Label("pass2")
		nf := XMM()
		VXORPS(nf, nf, nf)
		VCVTSI2SSQ(n, nf, nf)
		ma := t.treeSum(a)
		VDIVSS(nf, ma, ma)
		mb := t.treeSum(b)
		VDIVSS(nf, mb, mb)
		mav, mbv := t.bcastX(ma), t.bcastX(mb)
		TESTQ(glen, glen)
		JZ(LabelRef("pass2_plain"))
		for _, hasGamma := range []bool{true, false} {
			if !hasGamma {
				Label("pass2_plain")
			}
			t.loop(i, n, 4, nil, func(v int, mk *mask) {
				tt, g, _ := tg(v, mk, hasGamma)
				VSUBPS(mav, g, g)        // g - ma
				VFNMADD231PS(mbv, tt, g) // fma(-t, mb, g - ma)
				VMULPS(rv, g, g)         // * rstd
				t.store(g, t.at(dx, i, v), mk)
			})
			if hasGamma {
				JMP(LabelRef("ret"))
			}
		}
		Label("ret")
		t.ret()
	}
}
