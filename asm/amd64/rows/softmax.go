package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// fill stores the register val to dst[0:n] (n, dst: base pointer and count).
func (t *tier) fill(base, n GPVirtual, val VecVirtual) {
	a := arr{base, 4}
	i := GP64()
	t.loop(i, n, 4, nil, func(v int, mk *mask) { t.store(val, t.at(a, i, v), mk) })
}

// dispatch2 jumps to labels[b0 + 2*b1] where b0 = (x0 != 0), b1 = (x1 != 0).
func dispatch2(x0, x1 GPVirtual, labels [4]string) {
	TESTQ(x1, x1)
	JZ(LabelRef(labels[0] + "_sel"))
	TESTQ(x0, x0)
	JZ(LabelRef(labels[2]))
	JMP(LabelRef(labels[3]))
	Label(labels[0] + "_sel")
	TESTQ(x0, x0)
	JZ(LabelRef(labels[0]))
	JMP(LabelRef(labels[1]))
}

// softmaxGroup is how many vectors the exp pass of the softmax interleaves:
// two chains plus four sum accumulators do not fit in 16 YMM.
func (t *tier) softmaxGroup() int {
	if t.z {
		return 2
	}
	return 1
}

func (t *tier) genSoftmax() {
	t.text("SoftmaxRow", "func(dst, src, mask []float32, ignore []bool, scale float32, limit int)",
		"computes one softmax row (kernels/softmax.go, softmaxRowGeneric): "+
			"v = src*scale (+ mask), -Inf where ignore or j >= limit; dst = exp(v - max v) / sum32(...), "+
			"all zeros when every position is masked.")
	{
		cols := length("dst")
		limit := loadGP(Param("limit"))
		src, dst := t.arrF32("src"), t.arrF32("dst")
		msk, ign := t.arrF32("mask"), t.arrU8("ignore")
		mlen, ilen := length("mask"), length("ignore")
		scale := t.paramF32("scale")
		ninf := t.ninf()
		var zero VecVirtual
		if !t.z {
			zero = t.zero()
		}
		var buf Mem
		if !t.z {
			buf = AllocLocal(32)
		}
		macc := t.accs(ninf)
		i := GP64()

		// The reference masks j >= limit to v = -Inf, so e = exp(-Inf - m) =
		// +0 there: adding +0 to a lane sum is a no-op (a lane sum is never
		// -0), and y = +0 * inv. So passes 1 and 2 run over j < limit only
		// and the columns j >= limit get 0 * inv at the end: the same bits.
		//
		// Pass 1 over j < limit, one loop per (mask, ignore) variant: v into
		// dst, running max (32 lanes from -Inf; max is order-free).
		var labels [4]string
		for vr := range labels {
			labels[vr] = fmt.Sprintf("pass1_%d", vr)
		}
		dispatch2(mlen, ilen, labels)
		for vr := 0; vr < 4; vr++ {
			hasMask, hasIgn := vr&1 != 0, vr&2 != 0
			Label(labels[vr])
			var opts *loopOpts
			if hasIgn && !t.z {
				// AVX2 has no byte-masked load: copy the tail's ignore bytes
				// into a zeroed stack buffer.
				opts = &loopOpts{tailInit: func(rem GPVirtual) {
					VMOVDQU(zero, buf)
					p, j, b := GP64(), GP64(), GP8()
					LEAQ(Mem{Base: ign.base, Index: i, Scale: 1}, p)
					XORQ(j, j)
					l := t.newLabel("copy")
					Label(l)
					MOVB(Mem{Base: p, Index: j, Scale: 1}, b)
					MOVB(b, buf.Idx(j, 1))
					INCQ(j)
					CMPQ(j, rem)
					JL(LabelRef(l))
				}}
			}
			t.loop(i, limit, t.nacc, opts, func(v int, mk *mask) {
				x := t.load(t.at(src, i, v), mk)
				VMULPS(scale, x, x) // v = x * scale
				if hasMask {
					VADDPS(t.load(t.at(msk, i, v), mk), x, x) // v = v + mask
				}
				valid := mk
				if hasIgn {
					ig := t.V()
					var im Mem
					if mk != nil && !t.z {
						im = buf.Offset(v * t.w)
					} else {
						im = t.at(ign, i, v)
					}
					if t.z {
						kv := K()
						if mk == nil {
							VPMOVZXBD(im, ig)
							VPTESTNMD(ig, ig, kv) // kv = (ignore == 0)
						} else {
							VPMOVZXBD_Z(im, mk.k, ig)
							VPTESTNMD(ig, ig, mk.k, kv)
						}
						valid = &mask{k: kv}
					} else {
						VPMOVZXBD(im, ig)
						VPCMPEQD(zero, ig, ig) // ig = (ignore == 0)
						if mk != nil {
							VPAND(mk.y, ig, ig)
						}
						valid = &mask{y: ig}
					}
				}
				x = t.fillPad(x, ninf, valid) // masked or padding lanes: -Inf
				t.store(x, t.at(dst, i, v), mk)
				a := macc[v%t.nacc]
				VMAXPS(a, x, a) // a = (v > a) ? v : a
			})
			JMP(LabelRef("pass1_done"))
		}
		Label("pass1_done")
		m := t.treeMax(macc)
		VUCOMISS(ninf.AsX(), m)
		JNE(LabelRef("pass2"))
		// Every position masked: zeros.
		z := t.zero()
		t.fill(dst.base, cols, z)
		t.ret()

		// Pass 2: e = exp(v - m) into dst, s = sum32(e).
		Label("pass2")
		mv := t.V()
		VBROADCASTSS(m, mv)
		t.preloadExp()
		sacc := t.accs(nil)
		expSum := func(vs []int, mk *mask) {
			x := make(grp, len(vs))
			for j, v := range vs {
				x[j] = t.load(t.at(dst, i, v), mk)
				VSUBPS(mv, x[j], x[j]) // v - m
			}
			e := t.exp(x)
			for j, v := range vs {
				t.store(e[j], t.at(dst, i, v), mk)
				t.zeroPad(e[j], mk)
				a := sacc[v%t.nacc]
				VADDPS(e[j], a, a)
			}
		}
		t.loopGroups(i, limit, t.nacc, t.softmaxGroup(), nil, expSum)
		s := t.treeSum(sacc)
		inv := XMM()
		VDIVSS(s, t.kr(1).AsX(), inv) // inv = 1 / s
		iv := t.V()
		VBROADCASTSS(inv, iv)

		// Pass 3: y = e * inv; the masked tail j >= limit gets 0 * inv.
		t.loop(i, limit, 4, nil, func(v int, mk *mask) {
			e := t.load(t.at(dst, i, v), mk)
			VMULPS(iv, e, e)
			t.store(e, t.at(dst, i, v), mk)
		})
		rest := GP64()
		MOVQ(cols, rest)
		SUBQ(limit, rest)
		JLE(LabelRef("ret"))
		p := GP64()
		LEAQ(Mem{Base: dst.base, Index: limit, Scale: 4}, p)
		z0 := t.zero()
		VMULPS(iv, z0, z0)
		t.fill(p, rest, z0)
		Label("ret")
		t.ret()
	}

	t.text("SoftmaxBackwardRow", "func(dx, y, dy []float32, scale float32)",
		"sets dx = (y * (dy - dot32(y, dy))) * scale over one row; dx may alias dy.")
	{
		n := length("dx")
		dx, y, dy := t.arrF32("dx"), t.arrF32("y"), t.arrF32("dy")
		scale := t.paramF32("scale")
		acc := t.accs(nil)
		i := GP64()
		t.loop(i, n, t.nacc, nil, func(v int, mk *mask) {
			a := acc[v%t.nacc]
			VFMADD231PS(t.load(t.at(dy, i, v), mk), t.load(t.at(y, i, v), mk), a)
		})
		d := t.treeSum(acc)
		dv := t.V()
		VBROADCASTSS(d, dv)
		t.loop(i, n, 4, nil, func(v int, mk *mask) {
			g := t.load(t.at(dy, i, v), mk)
			VSUBPS(dv, g, g) // t = dy - d
			VMULPS(t.load(t.at(y, i, v), mk), g, g)
			VMULPS(scale, g, g)
			t.store(g, t.at(dx, i, v), mk)
		})
		t.ret()
	}
}
