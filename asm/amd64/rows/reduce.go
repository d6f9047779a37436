package main

import (
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// ninf returns a new register of -Inf.
func (t *tier) ninf() VecVirtual { return t.kcopy(negInf) }

var negInf = math.Float32frombits(0xff800000)

func (t *tier) genReduce() {
	// Sum: acc[i%32] += x[i].
	t.text("Sum", "func(x []float32) float32", "returns sum32(x): the canonical 32-lane sum.")
	{
		n := length("x")
		x := t.arrF32("x")
		acc := t.accs(nil)
		i := GP64()
		t.loop(i, n, t.nacc, nil, func(v int, mk *mask) {
			a := acc[v%t.nacc]
			VADDPS(t.load(t.at(x, i, v), mk), a, a)
		})
		VMOVSS(t.treeSum(acc), addr(ReturnIndex(0)))
		t.ret()
	}

	// Dot: acc[i%32] = fma(x[i], y[i], acc[i%32]).
	t.text("Dot", "func(x, y []float32) float32", "returns dot32(x, y): the canonical 32-lane dot product over len(x) elements.")
	{
		n := length("x")
		x, y := t.arrF32("x"), t.arrF32("y")
		acc := t.accs(nil)
		i := GP64()
		t.loop(i, n, t.nacc, nil, func(v int, mk *mask) {
			a := acc[v%t.nacc]
			xv := t.load(t.at(x, i, v), mk)
			yv := t.load(t.at(y, i, v), mk)
			VFMADD231PS(yv, xv, a)
		})
		VMOVSS(t.treeSum(acc), addr(ReturnIndex(0)))
		t.ret()
	}

	// Max: lanes m = (x > m) ? x : m from -Inf, the canonical tree, NaN if any
	// element is NaN.
	t.text("Max", "func(x []float32) float32", "returns the largest element of x by the canonical 32-lane max (NaN if any element is NaN, -Inf if x is empty).")
	{
		n := length("x")
		x := t.arrF32("x")
		ninf := t.ninf()
		acc := t.accs(ninf)
		var nanK OpmaskVirtual
		var nanV VecVirtual
		if t.z {
			nanK = K()
			KXORW(nanK, nanK, nanK)
		} else {
			nanV = t.zero()
		}
		i := GP64()
		t.loop(i, n, t.nacc, nil, func(v int, mk *mask) {
			a := acc[v%t.nacc]
			xv := t.load(t.at(x, i, v), mk) // masked lanes: +0, never NaN
			xv = t.fillPad(xv, ninf, mk)
			VMAXPS(a, xv, a) // a = (x > a) ? x : a
			if t.z {
				k := K()
				VCMPPS(U8(3), xv, xv, k) // unordered
				KORW(k, nanK, nanK)
			} else {
				u := t.V()
				VCMPPS(U8(3), xv, xv, u)
				VORPS(u, nanV, nanV)
			}
		})
		m := t.treeMax(acc)
		if t.z {
			KORTESTW(nanK, nanK)
		} else {
			VTESTPS(nanV, nanV)
		}
		JZ(LabelRef("ret"))
		r := GP32()
		MOVL(U32(0x7fc00000), r)
		VMOVD(r, m)
		Label("ret")
		VMOVSS(m, addr(ReturnIndex(0)))
		t.ret()
	}
}
