package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
)

// genAttention emits the row passes of the fused attention kernels
// (kernels/attention.go): the score row, the exp-and-sum row and the
// gradient row.
func (t *tier) genAttention() {
	t.text("AttnScoreRow", "func(row, add []float32, scale float32, limit int) float32",
		"sets row[j] = row[j]*scale (+ add[j] when len(add) > 0) for j < limit and -Inf for "+
			"limit <= j < len(row), and returns the max by the canonical 32-lane layout (NaN skipped, "+
			"-Inf when none) (kernels/attention.go, attnScoreRowGeneric).")
	{
		n := length("row")
		limit := loadGP(Param("limit"))
		row, add := t.arrF32("row"), t.arrF32("add")
		alen := length("add")
		scale := t.paramF32("scale")
		ninf := t.ninf()
		macc := t.accs(ninf)
		i := GP64()
		pass := func(hasAdd bool) {
			t.loop(i, limit, t.nacc, nil, func(v int, mk *mask) {
				x := t.load(t.at(row, i, v), mk)
				VMULPS(scale, x, x) // v = x * scale
				if hasAdd {
					VADDPS(t.load(t.at(add, i, v), mk), x, x) // v = v + add
				}
				x = t.fillPad(x, ninf, mk) // padding lanes: -Inf, a no-op for the max
				t.store(x, t.at(row, i, v), mk)
				a := macc[v%t.nacc]
				VMAXPS(a, x, a) // a = (v > a) ? v : a
			})
		}
		TESTQ(alen, alen)
		JZ(LabelRef("noadd"))
		pass(true)
		JMP(LabelRef("masked"))
		Label("noadd")
		pass(false)
		// row[limit:] = -Inf (the reference's max skips them: -Inf > m never holds).
		Label("masked")
		rest := GP64()
		MOVQ(n, rest)
		SUBQ(limit, rest)
		JLE(LabelRef("ret"))
		p := GP64()
		LEAQ(Mem{Base: row.base, Index: limit, Scale: 4}, p)
		t.fill(p, rest, ninf)
		Label("ret")
		VMOVSS(t.treeMax(macc), addr(ReturnIndex(0)))
		t.ret()
	}

	t.text("AttnExpRow", "func(row []float32, m float32) float32",
		"sets row[j] = exp(row[j] - m) (the canonical exp) and returns sum32(row) "+
			"(kernels/attention.go, attnExpRowGeneric).")
	{
		n := length("row")
		row := t.arrF32("row")
		mv := t.paramF32("m")
		t.preloadExp()
		sacc := t.accs(nil)
		i := GP64()
		t.loopGroups(i, n, t.nacc, t.softmaxGroup(), nil, func(vs []int, mk *mask) {
			x := make(grp, len(vs))
			for j, v := range vs {
				x[j] = t.load(t.at(row, i, v), mk)
				VSUBPS(mv, x[j], x[j]) // v - m
			}
			e := t.exp(x)
			for j, v := range vs {
				t.store(e[j], t.at(row, i, v), mk)
				t.zeroPad(e[j], mk) // padding lanes add +0
				a := sacc[v%t.nacc]
				VADDPS(e[j], a, a)
			}
		})
		VMOVSS(t.treeSum(sacc), addr(ReturnIndex(0)))
		t.ret()
	}

	t.text("AttnGradRow", "func(dp, p []float32, d, scale float32)",
		"sets dp[j] = (p[j] * (dp[j] - d)) * scale over len(dp) elements "+
			"(kernels/attention.go, attnGradRowGeneric).")
	{
		n := length("dp")
		dp, p := t.arrF32("dp"), t.arrF32("p")
		dv := t.paramF32("d")
		scale := t.paramF32("scale")
		i := GP64()
		t.loop(i, n, 4, nil, func(v int, mk *mask) {
			g := t.load(t.at(dp, i, v), mk)
			VSUBPS(dv, g, g)                        // t = dp - d
			VMULPS(t.load(t.at(p, i, v), mk), g, g) // u = t * p
			VMULPS(scale, g, g)                     // u * scale
			t.store(g, t.at(dp, i, v), mk)
		})
		t.ret()
	}
}
