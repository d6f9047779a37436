package main

import (
	. "github.com/mmcloughlin/avo/build"
)

// genAdam emits AdamUpdate: one Adam/AdamW step over len(p) elements, the
// IEEE operations of adamUpdateGeneric in its order (VSQRTPS and VDIVPS are
// correctly rounded like the scalar square root and division).
func (t *tier) genAdam() {
	t.text("AdamUpdate", "func(p, g, m, v []float32, decay, b1, c1, b2, c2, bc2, eps, step float32)",
		"applies one Adam update in place: p = decay·p; m = b1·m + c1·g; v = b2·v + (c2·g)·g; "+
			"p -= (step·m) / (√v / bc2 + eps), each operation rounded to float32.")
	n := length("p")
	ap, ag, am, av := t.arrF32("p"), t.arrF32("g"), t.arrF32("m"), t.arrF32("v")
	decay, b1, c1 := t.paramF32("decay"), t.paramF32("b1"), t.paramF32("c1")
	b2, c2, bc2 := t.paramF32("b2"), t.paramF32("c2"), t.paramF32("bc2")
	eps, step := t.paramF32("eps"), t.paramF32("step")
	i := GP64()
	t.loop(i, n, 4, nil, func(vi int, mk *mask) {
		p, g := t.load(t.at(ap, i, vi), mk), t.load(t.at(ag, i, vi), mk)
		m, v := t.load(t.at(am, i, vi), mk), t.load(t.at(av, i, vi), mk)
		VMULPS(p, decay, p) // θ = decay·θ
		x := t.V()
		VMULPS(m, b1, m)
		VMULPS(g, c1, x)
		VADDPS(x, m, m) // m = b1·m + c1·g
		VMULPS(v, b2, v)
		VMULPS(g, c2, x)
		VMULPS(g, x, x)
		VADDPS(x, v, v) // v = b2·v + (c2·g)·g
		t.store(m, t.at(am, i, vi), mk)
		t.store(v, t.at(av, i, vi), mk)
		VSQRTPS(v, x)
		VDIVPS(bc2, x, x)
		VADDPS(eps, x, x) // denom = √v/bc2 + eps
		VMULPS(m, step, m)
		VDIVPS(x, m, m) // (step·m)/denom
		VSUBPS(m, p, p)
		t.store(p, t.at(ap, i, vi), mk)
	})
	t.ret()
}
