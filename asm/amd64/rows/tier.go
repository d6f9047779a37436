package main

import (
	"fmt"
	"math"
	"strings"

	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/gotypes"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/simdformer/simdformer/asm/internal/x86"
)

// tier is one instruction-set level. Kernels are written once against it:
//
//   - AVX2 (z=false): YMM vectors of 8 lanes, masks are vectors of all-ones
//     lanes, tails use VMASKMOVPS, constants mostly stay in memory (16 YMM).
//   - AVX-512 (z=true): ZMM vectors of 16 lanes, masks are K registers, tails
//     use K-masked loads and stores, constants sit in registers (32 ZMM).
//
// The 32 lanes of the canonical reductions are nacc vectors: 4 YMM (lanes
// 0-7, 8-15, 16-23, 24-31) or 2 ZMM (0-15, 16-31).
type tier struct {
	suffix string
	z      bool
	w      int // float32 lanes per vector
	nacc   int // vectors per 32-lane reduction block

	fn     string                // current function name
	regs   map[uint32]VecVirtual // constants preloaded into registers, by bits
	nlabel int
}

var pool = x86.NewPool("rows")

func newAVX2() *tier   { return &tier{suffix: "AVX2", w: 8, nacc: 4} }
func newAVX512() *tier { return &tier{suffix: "AVX512", z: true, w: 16, nacc: 2} }

// text starts the function base+suffix with the given Go signature and doc.
func (t *tier) text(base, sig, doc string) {
	t.fn = base + t.suffix
	TEXT(t.fn, NOSPLIT, sig)
	Pragma("noescape")
	Doc(wrap(t.fn+" "+doc, 76)...)
	t.regs = map[uint32]VecVirtual{}
	t.nlabel = 0
}

// wrap splits s into lines of at most width bytes at spaces.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}

// ret ends the function.
func (t *tier) ret() {
	VZEROUPPER()
	RET()
}

// newLabel returns a fresh label name in the current function.
func (t *tier) newLabel(s string) string {
	t.nlabel++
	return fmt.Sprintf("%s_%d", s, t.nlabel)
}

// V returns a new virtual vector register.
func (t *tier) V() VecVirtual {
	if t.z {
		return ZMM()
	}
	return YMM()
}

// --- constants ---

// preload broadcasts the given float32 constants into registers for the rest
// of the function (call it before any loop).
func (t *tier) preload(vals ...float32) {
	for _, v := range vals {
		t.preloadU(math.Float32bits(v))
	}
}

// preloadU is preload for dword constants.
func (t *tier) preloadU(vals ...uint32) {
	for _, v := range vals {
		if _, ok := t.regs[v]; ok {
			continue
		}
		r := t.V()
		VBROADCASTSS(pool.U32(v), r)
		t.regs[v] = r
	}
}

// k returns the constant v as the memory-capable source operand of an
// instruction: its register when preloaded, else its memory vector.
func (t *tier) k(v float32) Op { return t.ku(math.Float32bits(v)) }

// ku is k for dword constants.
func (t *tier) ku(v uint32) Op {
	if r, ok := t.regs[v]; ok {
		return r
	}
	return pool.U32(v)
}

// kr returns the constant v in a register (loading it here unless preloaded).
// The register must not be modified.
func (t *tier) kr(v float32) VecVirtual {
	bits := math.Float32bits(v)
	if r, ok := t.regs[bits]; ok {
		return r
	}
	r := t.V()
	VBROADCASTSS(pool.U32(bits), r)
	return r
}

// kcopy returns a new register holding v, free to be modified.
func (t *tier) kcopy(v float32) VecVirtual {
	r := t.V()
	bits := math.Float32bits(v)
	if c, ok := t.regs[bits]; ok {
		t.mov(c, r)
	} else {
		VBROADCASTSS(pool.U32(bits), r)
	}
	return r
}

// mov copies a vector register.
func (t *tier) mov(src, dst VecVirtual) { VMOVAPS(src, dst) }

// zero returns a new register of +0.
func (t *tier) zero() VecVirtual {
	r := t.V()
	if t.z {
		VPXORD(r, r, r)
	} else {
		VXORPS(r, r, r)
	}
	return r
}

// --- bitwise (AVX-512 on ZMM has no VANDPS without DQ: use the integer forms) ---

func (t *tier) and(a Op, b, dst VecVirtual) { // dst = b & a
	if t.z {
		VPANDD(a, b, dst)
	} else {
		VPAND(a, b, dst)
	}
}

func (t *tier) xor(a Op, b, dst VecVirtual) { // dst = b ^ a
	if t.z {
		VPXORD(a, b, dst)
	} else {
		VPXOR(a, b, dst)
	}
}

// --- parameters ---

// paramF32 broadcasts a float32 argument into a new vector.
func (t *tier) paramF32(name string) VecVirtual {
	r := t.V()
	VBROADCASTSS(addr(Param(name)), r)
	return r
}

// paramU32 broadcasts a uint32 argument into a new vector (via a GP
// register: go vet rejects a 4-byte VPBROADCASTD memory operand).
func (t *tier) paramU32(name string) VecVirtual {
	g := GP32()
	Load(Param(name), g)
	return t.bcastGP32(g)
}

func (t *tier) bcastGP32(g GPVirtual) VecVirtual {
	r := t.V()
	if t.z {
		VPBROADCASTD(g, r)
	} else {
		x := XMM()
		VMOVD(g, x)
		VPBROADCASTD(x, r)
	}
	return r
}

// --- arrays and masks ---

// arr is an array argument: a base pointer and the element size in bytes.
type arr struct {
	base GPVirtual
	size int
}

func (t *tier) arrF32(name string) arr { return arr{loadGP(Param(name).Base()), 4} }
func (t *tier) arrU8(name string) arr  { return arr{loadGP(Param(name).Base()), 1} }

// at returns the address of element i + v*w (vector v of the block at i).
func (t *tier) at(a arr, i GPVirtual, v int) Mem {
	return Mem{Base: a.base, Index: i, Scale: uint8(a.size), Disp: v * t.w * a.size}
}

// mask selects the valid lanes of a partial vector: a K register (AVX-512) or
// a vector whose valid lanes are all ones (AVX2). A nil *mask means all lanes.
type mask struct {
	k OpmaskVirtual
	y VecVirtual
}

// load returns a new register holding the vector at m (zeros in masked lanes).
func (t *tier) load(m Mem, mk *mask) VecVirtual {
	r := t.V()
	switch {
	case mk == nil:
		VMOVUPS(m, r)
	case t.z:
		VMOVUPS_Z(m, mk.k, r)
	default:
		VMASKMOVPS(m, mk.y, r)
	}
	return r
}

// store writes the valid lanes of r to m.
func (t *tier) store(r VecVirtual, m Mem, mk *mask) {
	switch {
	case mk == nil:
		VMOVUPS(r, m)
	case t.z:
		VMOVUPS(r, mk.k, m)
	default:
		VMASKMOVPS(r, mk.y, m)
	}
}

// zeroPad sets the masked-out lanes of r to +0 (nothing when mk is nil).
func (t *tier) zeroPad(r VecVirtual, mk *mask) {
	switch {
	case mk == nil:
	case t.z:
		VMOVAPS_Z(r, mk.k, r)
	default:
		VANDPS(mk.y, r, r)
	}
}

// fillPad returns r with its masked-out lanes replaced by the register fill.
func (t *tier) fillPad(r, fill VecVirtual, mk *mask) VecVirtual {
	if mk == nil {
		return r
	}
	out := t.V()
	if t.z {
		t.mov(fill, out)
		VMOVAPS(r, mk.k, out)
	} else {
		VBLENDVPS(mk.y, r, fill, out)
	}
	return out
}

// loop emits
//
//	for i := 0; i+nv*w <= n; i += nv*w { body(0, nil) … body(nv-1, nil) }
//	tail: body(v, mask of the lanes < n) for each vector v holding an element < n
//
// i is the element index of the current block (body addresses with t.at).
// nv*w must be at most 32 (AVX2) or 64 (AVX-512).
func (t *tier) loop(i, n GPVirtual, nv int, o *loopOpts, body func(v int, mk *mask)) {
	if o == nil {
		o = &loopOpts{}
	}
	blk := nv * t.w
	lLoop, lTail, lDone := t.newLabel("loop"), t.newLabel("tail"), t.newLabel("done")
	XORQ(i, i)
	rem := GP64()
	Label(lLoop)
	MOVQ(n, rem)
	SUBQ(i, rem)
	CMPQ(rem, U32(blk))
	JL(LabelRef(lTail))
	for v := 0; v < nv; v++ {
		body(v, nil)
	}
	if o.next != nil {
		o.next()
	}
	ADDQ(U32(blk), i)
	JMP(LabelRef(lLoop))

	Label(lTail)
	TESTQ(rem, rem)
	JLE(LabelRef(lDone))
	if o.tailInit != nil {
		o.tailInit(rem)
	}
	if t.z {
		bits := GP64()
		MOVQ(rem, RCX)
		MOVQ(I32(-1), bits)
		SHLQ(CL, bits)
		NOTQ(bits) // bits = 1<<rem - 1 (rem < 64)
		for v := 0; v < nv; v++ {
			if v > 0 {
				CMPQ(rem, U32(v*t.w))
				JLE(LabelRef(lDone))
				SHRQ(U8(16), bits)
			}
			k := K()
			KMOVW(bits.As32(), k)
			body(v, &mask{k: k})
		}
	} else {
		if blk > 32 {
			panic("AVX2 loop block above 32 lanes")
		}
		neg := GP64()
		MOVQ(rem, neg)
		NEGQ(neg)
		tbl := GP64()
		LEAQ(tailTable(), tbl)
		for v := 0; v < nv; v++ {
			if v > 0 {
				CMPQ(rem, U32(v*t.w))
				JLE(LabelRef(lDone))
			}
			y := YMM()
			// Window of 8 dwords starting at 32 - rem + 8v: lane l is set
			// iff 8v + l < rem.
			VMOVDQU(Mem{Base: tbl, Index: neg, Scale: 4, Disp: 4 * (32 + v*8)}, y)
			body(v, &mask{y: y})
		}
	}
	Label(lDone)
}

// loopGroups is loop with the vectors of a full block handed to body in
// groups of `group` (in order: interleaved chains), and the tail vectors one
// at a time with their masks.
func (t *tier) loopGroups(i, n GPVirtual, nv, group int, o *loopOpts, body func(vs []int, mk *mask)) {
	var pending []int
	t.loop(i, n, nv, o, func(v int, mk *mask) {
		if mk != nil {
			body([]int{v}, mk)
			return
		}
		if pending = append(pending, v); len(pending) == group || v == nv-1 {
			body(pending, nil)
			pending = nil
		}
	})
}

// loopOpts are optional hooks of loop.
type loopOpts struct {
	next     func()              // after each full block (before i advances)
	tailInit func(rem GPVirtual) // once before the tail vectors, rem = n - i > 0
}

// tailTable is 32 dwords of all ones followed by 32 zero dwords.
func tailTable() Mem {
	vals := make([]uint32, 64)
	for i := 0; i < 32; i++ {
		vals[i] = 0xffffffff
	}
	return pool.Vec("tail", vals)
}

// length loads len(name) into a new GP register.
func length(name string) GPVirtual { return loadGP(Param(name).Len()) }

// addr returns the frame address of a scalar argument or result. Float
// arguments and results move with VMOVSS, never Avo's Load/Store (legacy-SSE
// MOVSS): mixing legacy SSE with dirty upper vector state costs a
// state-transition penalty on Zen 4 too (LayerNormRowAVX512 ran 2.9× slower
// with one MOVSS in it).
func addr(c gotypes.Component) Mem {
	b, err := c.Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

// loadGP loads an integer or pointer argument into a new GP register.
func loadGP(c gotypes.Component) GPVirtual {
	r := GP64()
	Load(c, r)
	return r
}

// --- reductions on the fixed 32-lane layout ---

// accs returns nacc accumulator registers, each a copy of init (or +0 when
// init is nil).
func (t *tier) accs(init VecVirtual) []VecVirtual {
	a := make([]VecVirtual, t.nacc)
	for j := range a {
		if init == nil {
			a[j] = t.zero()
		} else {
			a[j] = t.V()
			t.mov(init, a[j])
		}
	}
	return a
}

// treeSum folds the 32 lanes of acc by the canonical tree (j += j+16, j+8,
// +4, +2, +1) and returns an XMM whose lane 0 is the result.
func (t *tier) treeSum(acc []VecVirtual) VecVirtual {
	return t.tree(acc, func(a, b, dst Op) { VADDPS(b, a, dst) }, func(a, b, dst Op) { VADDSS(b, a, dst) })
}

// treeMax folds like treeSum with m[j] = (m[j+w] > m[j]) ? m[j+w] : m[j].
func (t *tier) treeMax(acc []VecVirtual) VecVirtual {
	// VMAXPS src2, src1, dst = (src1 > src2) ? src1 : src2: src1 = upper lane.
	return t.tree(acc, func(lo, hi, dst Op) { VMAXPS(lo, hi, dst) }, func(lo, hi, dst Op) { VMAXSS(lo, hi, dst) })
}

// tree applies op(lo, hi, dst) lane-wise, lo holding lanes j and hi lanes j+w.
func (t *tier) tree(acc []VecVirtual, op, ops func(lo, hi, dst Op)) VecVirtual {
	var y VecVirtual
	if t.z {
		op(acc[0], acc[1], acc[0]) // w = 16
		h := YMM()
		VEXTRACTF64X4(U8(1), acc[0], h)
		y = YMM()
		op(acc[0].AsY(), h, y) // w = 8
	} else {
		op(acc[0], acc[2], acc[0]) // w = 16
		op(acc[1], acc[3], acc[1])
		op(acc[0], acc[1], acc[0]) // w = 8
		y = acc[0]
	}
	h := XMM()
	VEXTRACTF128(U8(1), y, h)
	x := XMM()
	op(y.AsX(), h, x) // w = 4
	h2 := XMM()
	VMOVHLPS(x, x, h2)
	op(x, h2, x) // w = 2
	h1 := XMM()
	VMOVSHDUP(x, h1)
	ops(x, h1, x) // w = 1
	return x
}
