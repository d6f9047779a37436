package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Mix32 multipliers (kernels/dropout.go).
const (
	mixC1 uint32 = 0x7feb352d
	mixC2 uint32 = 0x846ca68b
)

// hasher holds the broadcast dropout keys and the running element-index
// vector idx = lo + i + lane.
type hasher struct {
	t      *tier
	k0, k1 VecVirtual // AVX-512: k0 holds k0 ^ (k0>>16)
	thr    VecVirtual // AVX2: thr ^ 0x80000000 (for a signed compare)
	idx    VecVirtual
}

// newHasher broadcasts the arguments k0, k1, thr and lo of the current
// function.
func (t *tier) newHasher() *hasher {
	h := &hasher{t: t}
	h.k0 = t.paramU32("k0")
	if t.z {
		s := t.V()
		VPSRLD(U8(16), h.k0, s)
		VPXORD(s, h.k0, h.k0) // k0h = k0 ^ (k0>>16), see keep
	}
	h.k1 = t.paramU32("k1")
	h.thr = t.paramU32("thr")
	if !t.z {
		t.xor(t.ku(0x80000000), h.thr, h.thr)
	}
	h.idx = t.paramU32("lo")
	VPADDD(pool.Vec("iota", iota16()), h.idx, h.idx) // idx = lo + lane
	t.preloadU(mixC1, mixC2)
	return h
}

// iota16 is 0, 1, ..., 15: the lane offsets of the index vector.
func iota16() []uint32 {
	v := make([]uint32, 16)
	for i := range v {
		v[i] = uint32(i)
	}
	return v
}

// mix applies Mix32 to every lane of each register of x in place (the steps
// interleaved across the group), from its first multiplication when
// skipFirst is set (the caller already did x ^= x>>16).
func (h *hasher) mix(x grp, skipFirst bool) {
	t := h.t
	s := t.G(len(x))
	for n, step := range []struct {
		shift uint8
		mul   uint32
	}{{16, mixC1}, {15, mixC2}, {16, 0}} {
		if n > 0 || !skipFirst {
			for j := range x {
				VPSRLD(U8(step.shift), x[j], s[j])
			}
			for j := range x {
				t.xor(s[j], x[j], x[j])
			}
		}
		if step.mul != 0 {
			for j := range x {
				VPMULLD(t.ku(step.mul), x[j], x[j])
			}
		}
	}
}

// keep returns the keep masks of vectors vs of the current block (vector v
// holds indices idx + v*w): K registers on AVX-512, vectors of all-ones
// lanes on AVX2. bits = Mix32(Mix32(i ^ k0) + k1); kept iff bits < thr
// (unsigned).
func (h *hasher) keep(vs []int) ([]OpmaskVirtual, grp) {
	t := h.t
	n := len(vs)
	i := make(grp, n)
	for j, v := range vs {
		i[j] = h.idx
		if v > 0 {
			i[j] = t.V()
			VPADDD(t.ku(uint32(v*t.w)), h.idx, i[j])
		}
	}
	x := t.G(n)
	if t.z {
		// The first Mix32 step x ^= x>>16 on x = i^k0 is i ^ (i>>16) ^ k0h
		// with k0h = k0 ^ (k0>>16): one shift and one three-way XOR.
		for j := range x {
			VPSRLD(U8(16), i[j], x[j])
		}
		for j := range x {
			VPTERNLOGD(U8(0x96), h.k0, i[j], x[j]) // x = x ^ i ^ k0h
		}
		h.mix(x, true)
	} else {
		for j := range x {
			t.xor(h.k0, i[j], x[j])
		}
		h.mix(x, false)
	}
	for j := range x {
		VPADDD(h.k1, x[j], x[j])
	}
	h.mix(x, false)
	if t.z {
		ks := make([]OpmaskVirtual, n)
		for j := range x {
			ks[j] = K()
			VPCMPUD(U8(1), h.thr, x[j], ks[j]) // x < thr
		}
		return ks, nil
	}
	for j := range x {
		t.xor(t.ku(0x80000000), x[j], x[j])
		VPCMPGTD(x[j], h.thr, x[j]) // thr^sign > x^sign (signed) == thr > x (unsigned)
	}
	return nil, x
}

// advance moves idx on by n elements.
func (h *hasher) advance(n int) { VPADDD(h.t.ku(uint32(n)), h.idx, h.idx) }

// dropoutGroup is how many vectors' hashes are interleaved. Measured on Zen 4:
// 2 is no faster than 1 (the 4 VPMULLD per vector bound it: ~0.26 ns per
// element on AVX-512 with data in L1/L2), and 1 leaves AVX2 room to keep the
// constants in registers.
const dropoutGroup = 1

func (t *tier) genDropout() {
	t.text("Dropout", "func(dst, src []float32, k0, k1, lo, thr uint32, scale float32)",
		"sets dst[j] = src[j] * (keep(lo+j) ? scale : 0) with keep(i) = "+
			"Mix32(Mix32(i^k0)+k1) < thr (unsigned), n = len(dst).")
	{
		n := length("dst")
		src, dst := t.arrF32("src"), t.arrF32("dst")
		h := t.newHasher()
		scale := t.paramF32("scale")
		const unroll = 4
		t.preloadU(uint32(t.w), uint32(2*t.w), uint32(3*t.w), uint32(unroll*t.w))
		i := GP64()
		apply := func(vs []int, mk *mask) {
			ks, ms := h.keep(vs)
			for j, v := range vs {
				f := t.V()
				if t.z {
					VMOVAPS_Z(scale, ks[j], f) // keep ? scale : 0
				} else {
					VANDPS(scale, ms[j], f)
				}
				x := t.load(t.at(src, i, v), mk)
				VMULPS(f, x, x) // x * (keep ? scale : 0): a multiply, not a select
				t.store(x, t.at(dst, i, v), mk)
			}
		}
		t.loopGroups(i, n, unroll, dropoutGroup, &loopOpts{next: func() { h.advance(unroll * t.w) }}, apply)
		t.ret()
	}

	t.text("DropoutMask", "func(mask []uint64, n int, k0, k1, lo, thr uint32)",
		"writes (n+63)/64 words: bit b of mask[w] is keep(lo+64w+b) "+
			"(as in Dropout); bits past n are zero.")
	{
		n := loadGP(Param("n"))
		mask := loadGP(Param("mask").Base())
		h := t.newHasher()
		per := 64 / t.w
		for v := 1; v < per; v++ {
			t.preloadU(uint32(v * t.w))
		}
		t.preloadU(64)
		word := func() GPVirtual {
			wd := GP64()
			for g := 0; g < per; g += dropoutGroup {
				vs := make([]int, 0, dropoutGroup)
				for v := g; v < min(g+dropoutGroup, per); v++ {
					vs = append(vs, v)
				}
				ks, ms := h.keep(vs)
				for j, v := range vs {
					r := GP64()
					if t.z {
						KMOVW(ks[j], r.As32())
					} else {
						VMOVMSKPS(ms[j], r.As32())
					}
					if v == 0 {
						MOVQ(r, wd)
					} else {
						SHLQ(U8(v*t.w), r)
						ORQ(r, wd)
					}
				}
			}
			h.advance(64)
			return wd
		}
		full := GP64()
		MOVQ(n, full)
		SHRQ(U8(6), full)
		w := GP64()
		XORQ(w, w)
		Label("words")
		CMPQ(w, full)
		JGE(LabelRef("last"))
		MOVQ(word(), Mem{Base: mask, Index: w, Scale: 8})
		INCQ(w)
		JMP(LabelRef("words"))
		Label("last")
		ANDQ(U8(63), n)
		JZ(LabelRef("done"))
		wd := word()
		keepBits := GP64()
		MOVQ(n, RCX)
		MOVQ(I32(-1), keepBits)
		SHLQ(CL, keepBits)
		NOTQ(keepBits) // 1<<(n%64) - 1
		ANDQ(keepBits, wd)
		MOVQ(wd, Mem{Base: mask, Index: w, Scale: 8})
		Label("done")
		t.ret()
	}
}
