// Command gemm generates the AVX2 and AVX-512 GEMM micro-kernels of
// package kernels/amd64 (see kernels/gemm_kernel.go for the contract).
//
// Every kernel computes, for each C element of its tile, one in-order FMA
// chain over k starting from C (load) or +0:
//
//	acc = load ? c[i*ldc+j] : +0
//	for p := 0; p < kc; p++ { acc = fma(a[p*mr+i], b[p*ldb+j], acc) }
//	c[i*ldc+j] = acc
//
// Register tiles (accumulators acc[i][u] hold row i, columns u*w..u*w+w-1):
//
//	AVX-512, 14×32: Z0..Z27 = acc[i][u] (Z(2i+u)), Z28/Z29 = the B row,
//	                A broadcast straight from memory (VFMADD231PS.BCST).
//	AVX2,    6×16: Y0..Y11 = acc[i][u] (Y(2i+u)), Y12/Y13 = the B row,
//	                Y14/Y15 = broadcasts of A (VBROADCASTSS).
//
// Each ISA has two entry points: GemmKern*(kc, a, b, c, ldc, load), the full
// mr×nr tile on a packed B panel (ldb = nr), and GemmTile*(m, n, kc, a, b,
// ldb, c, ldc, load), any 1 <= m <= mr rows and 1 <= n <= nr columns with B
// at row stride ldb (packed: ldb = nr). GemmTile touches C only inside the
// m×n window (masked loads and stores for the last, partial vector) and
// reads ceil(n/w) vectors of each B row, so for n < nr B must be a
// zero-padded packed panel or otherwise readable that far.
//
// GemmNTAVX512 and GemmNTAVX2 are the few-row A·Bᵀ kernels: they read B in
// place and keep the C tile transposed in registers (see genNT, genNTAVX2).
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// isa describes one register tile.
type isa struct {
	name   string // AVX512 or AVX2
	mr, nr int    // tile rows and columns
	w      int    // float32 lanes per vector
	acc    func(i, u int) VecPhysical
	breg   func(u int) VecPhysical
}

var avx512 = isa{
	name: "AVX512", mr: 14, nr: 32, w: 16,
	acc:  func(i, u int) VecPhysical { return zmm(2*i + u) },
	breg: func(u int) VecPhysical { return zmm(28 + u) },
}

var avx2 = isa{
	name: "AVX2", mr: 6, nr: 16, w: 8,
	acc:  func(i, u int) VecPhysical { return ymm(2*i + u) },
	breg: func(u int) VecPhysical { return ymm(12 + u) },
}

func zmm(i int) VecPhysical {
	return []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
		Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}[i]
}

func xmm(i int) VecPhysical {
	return []VecPhysical{X0, X1, X2, X3, X4, X5, X6, X7, X8, X9, X10, X11, X12, X13, X14, X15}[i]
}

func ymm(i int) VecPhysical {
	return []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}[i]
}

// General-purpose register roles.
var (
	rA    = RAX // packed A panel, advances mr floats per k step
	rB    = RBX // B row, advances ldb floats per k step
	rK    = RCX // k steps left
	rLdb  = RDX // ldb in bytes
	rC    = RSI // C tile
	rLdc  = RDI // ldc in bytes
	rM    = R8  // rows
	rN    = R9  // columns
	rLoad = R10 // load flag
	rRow  = R11 // C row pointer
	rTmp  = R12 // scratch (mask computation)
	rK2   = R13 // unrolled k-pair counter
)

// maskTable is 8 (AVX2) or 16 dwords of -1 followed by as many zeros: the
// AVX2 VMASKMOVPS mask for v valid lanes is the 8 dwords at index 8-v.
var maskTable Mem

// iotaTable is the dwords 0, 1, …, 15.
var iotaTable Mem

func main() {
	ConstraintExpr("!purego")
	maskTable = GLOBL("gemmMaskTable", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		v := uint32(0)
		if i < 8 {
			v = 0xffffffff
		}
		DATA(4*i, U32(v))
	}
	iotaTable = GLOBL("gemmIota", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		DATA(4*i, U32(uint32(i)))
	}
	for _, s := range []isa{avx512, avx2} {
		genKern(s)
		genTile(s)
	}
	genNT()
	genNTAVX2()
	for _, r := range []int{6, 14, 16, 32} {
		genPack(r)
	}
	for _, r := range []int{6, 14, 16, 32} {
		if r == avx2.nr {
			genCopyPanels(r)
		} else {
			genCopyRows(r)
		}
	}
	Generate()
}

// genKern emits GemmKern<ISA>(kc, a, b, c, ldc, load): the full tile on a
// packed B panel.
func genKern(s isa) {
	name := "GemmKern" + s.name
	TEXT(name, NOSPLIT, "func(kc int, a, b, c []float32, ldc int, load bool)")
	Doc(fmt.Sprintf("%s computes a full %d×%d C tile from a packed A panel (kc×%d) and a packed B panel (kc×%d),", name, s.mr, s.nr, s.mr, s.nr),
		"each element one in-order FMA chain over k starting from C (load) or +0.")
	Pragma("noescape")
	Load(Param("kc"), rK)
	Load(Param("a").Base(), rA)
	Load(Param("b").Base(), rB)
	Load(Param("c").Base(), rC)
	Load(Param("ldc"), rLdc)
	SHLQ(U8(2), rLdc)
	Load(Param("load"), rLoad)
	variant(s, s.mr, s.nr/s.w, false, "full", true)
}

// genTile emits GemmTile<ISA>(m, n, kc, a, b, ldb, c, ldc, load).
func genTile(s isa) {
	name := "GemmTile" + s.name
	TEXT(name, NOSPLIT, "func(m, n, kc int, a, b []float32, ldb int, c []float32, ldc int, load bool)")
	Doc(fmt.Sprintf("%s computes the top-left m×n corner (1 <= m <= %d, 1 <= n <= %d) of a C tile", name, s.mr, s.nr),
		fmt.Sprintf("from a packed A panel (kc×%d) and B rows at stride ldb, reading ceil(n/%d) vectors per B row", s.mr, s.w),
		"and touching C only inside the corner; each element is one in-order FMA chain over k.")
	Pragma("noescape")
	Load(Param("m"), rM)
	Load(Param("n"), rN)
	Load(Param("kc"), rK)
	Load(Param("a").Base(), rA)
	Load(Param("b").Base(), rB)
	Load(Param("ldb"), rLdb)
	SHLQ(U8(2), rLdb)
	Load(Param("c").Base(), rC)
	Load(Param("ldc"), rLdc)
	SHLQ(U8(2), rLdc)
	Load(Param("load"), rLoad)

	nv := s.nr / s.w
	// Full width: no masks.
	CMPQ(rN, U32(s.nr))
	JNE(LabelRef("masked"))
	rowDispatch(s, nv, false)
	// Partial width: v = ceil(n/w) vectors, the last one masked to
	// n - (v-1)*w lanes.
	Label("masked")
	for v := nv; v >= 1; v-- {
		if v > 1 {
			CMPQ(rN, U32((v-1)*s.w))
			JLE(LabelRef(fmt.Sprintf("vecs%d", v-1)))
		}
		if v > 1 {
			SUBQ(U32((v-1)*s.w), rN)
		}
		setMask(s)
		rowDispatch(s, v, true)
		if v > 1 {
			Label(fmt.Sprintf("vecs%d", v-1))
		}
	}
}

// setMask prepares the mask for rN valid lanes of the last vector:
// AVX-512 K1 = (1<<rN)-1; AVX2 rTmp = the address of the VMASKMOVPS mask.
func setMask(s isa) {
	if s.w == 16 {
		// K1 = 0xffff >> (16-n), shifting by CL (rK, saved in rK2).
		MOVQ(rK, rK2)
		MOVQ(U32(16), RCX)
		SUBQ(rN, RCX)
		MOVL(U32(0xffff), R12L)
		SHRL(CL, R12L)
		KMOVW(R12L, K1)
		MOVQ(rK2, rK)
		return
	}
	// rTmp = &maskTable[8-n] = &maskTable + 32 - 4n
	LEAQ(maskTable, rTmp)
	ADDQ(U32(32), rTmp)
	SHLQ(U8(2), rN)
	SUBQ(rN, rTmp)
}

// rowDispatch jumps to the variant for rM rows (v vectors wide).
func rowDispatch(s isa, v int, masked bool) {
	tag := fmt.Sprintf("v%d", v)
	if masked {
		tag += "m"
	}
	for r := s.mr; r > 1; r-- {
		CMPQ(rM, U32(r))
		JEQ(LabelRef(fmt.Sprintf("r%d%s", r, tag)))
	}
	for r := 1; r <= s.mr; r++ {
		variant(s, r, v, masked, fmt.Sprintf("r%d%s", r, tag), false)
	}
}

// variant emits one complete kernel body ending in RET: r rows, v vectors
// per row, the last vector masked when masked. packed means B advances by nr
// floats per k step (an immediate) instead of ldb.
func variant(s isa, r, v int, masked bool, tag string, packed bool) {
	if packed && masked {
		// The packed path's prefetch uses rTmp, which holds the AVX2 mask
		// pointer the masked store reloads from.
		panic("gemm generator: a packed variant cannot be masked")
	}
	Label(tag)
	Commentf("%d rows × %d vectors%s", r, v, map[bool]string{true: ", last vector masked", false: ""}[masked])
	last := v - 1
	// Initial accumulators.
	TESTB(R10B, R10B)
	JEQ(LabelRef(tag + "zero"))
	if masked && s.w == 8 {
		VMOVUPS(Mem{Base: rTmp}, Y14)
	}
	MOVQ(rC, rRow)
	for i := 0; i < r; i++ {
		for u := 0; u < v; u++ {
			m := Mem{Base: rRow, Disp: 4 * s.w * u}
			switch {
			case masked && u == last && s.w == 16:
				VMOVUPS_Z(m, K1, s.acc(i, u))
			case masked && u == last:
				VMASKMOVPS(m, Y14, s.acc(i, u))
			default:
				VMOVUPS(m, s.acc(i, u))
			}
		}
		if i < r-1 {
			ADDQ(rLdc, rRow)
		}
	}
	JMP(LabelRef(tag + "k"))
	Label(tag + "zero")
	for i := 0; i < r; i++ {
		for u := 0; u < v; u++ {
			a := s.acc(i, u)
			if s.w == 16 {
				VPXORD(a, a, a)
			} else {
				VXORPS(a, a, a)
			}
		}
	}

	// The k loop, two steps per iteration.
	Label(tag + "k")
	if packed {
		// Prefetch the C tile below (the next micro-kernel call's, in the
		// driver's loop order); prefetches never fault, so running past
		// the end of C is harmless.
		MOVQ(rLdc, rTmp)
		IMUL3Q(U32(s.mr), rTmp, rTmp)
		ADDQ(rC, rTmp)
		for i := 0; i < s.mr; i++ {
			for l := 0; l < 4*s.nr; l += 64 {
				PREFETCHT0(Mem{Base: rTmp, Disp: l})
			}
			if i < s.mr-1 {
				ADDQ(rLdc, rTmp)
			}
		}
	}
	MOVQ(rK, rK2)
	SHRQ(U8(1), rK2)
	JEQ(LabelRef(tag + "odd"))
	Label(tag + "loop")
	step(s, r, v, packed, 0)
	if packed && s.w == 16 {
		prefetchPanels(s)
	}
	step(s, r, v, packed, 1)
	ADDQ(U32(2*4*s.mr), rA)
	if packed {
		ADDQ(U32(2*4*s.nr), rB)
	} else {
		LEAQ(Mem{Base: rB, Index: rLdb, Scale: 2}, rB)
	}
	DECQ(rK2)
	JNE(LabelRef(tag + "loop"))
	Label(tag + "odd")
	TESTQ(U32(1), rK)
	JEQ(LabelRef(tag + "store"))
	step(s, r, v, packed, 0)

	// Store.
	Label(tag + "store")
	if masked && s.w == 8 {
		VMOVUPS(Mem{Base: rTmp}, Y14)
	}
	MOVQ(rC, rRow)
	for i := 0; i < r; i++ {
		for u := 0; u < v; u++ {
			m := Mem{Base: rRow, Disp: 4 * s.w * u}
			switch {
			case masked && u == last && s.w == 16:
				VMOVUPS(s.acc(i, u), K1, m)
			case masked && u == last:
				VMASKMOVPS(s.acc(i, u), Y14, m)
			default:
				VMOVUPS(s.acc(i, u), m)
			}
		}
		if i < r-1 {
			ADDQ(rLdc, rRow)
		}
	}
	VZEROUPPER()
	RET()
}

// pfA is how far ahead (bytes) the full AVX-512 kernel prefetches its packed
// A micro-panel into L1: ~9 two-step iterations. The A block streams from L2
// (the B micro-panel stays in L1 across the driver's ir loop); without the
// prefetch the kernel stalls on it, and 1024³ ran ~6% slower on a
// Sapphire-Rapids-class Xeon (768/1536/2048 bytes and a B prefetch were no
// better than 1024).
const pfA = 1024

// prefetchPanels emits the in-loop prefetches of the A micro-panel for one
// two-step iteration (2*mr floats). Prefetches never fault, so running past
// the end of the panel is harmless.
func prefetchPanels(s isa) {
	for l := 0; l < 2*4*s.mr; l += 64 {
		PREFETCHT0(Mem{Base: rA, Disp: pfA + l})
	}
}

// bcastReg: the AVX-512 kernels broadcast each A value into a register once
// (VBROADCASTSS) for the row's v FMAs instead of v embedded-broadcast loads.
var bcastReg = true

// step emits one k step (the second of a pair when second is 1): load v
// vectors of the B row, then r×v FMAs.
func step(s isa, r, v int, packed bool, second int) {
	bm := Mem{Base: rB}
	if second == 1 {
		if packed {
			bm.Disp = 4 * s.nr
		} else {
			bm = Mem{Base: rB, Index: rLdb, Scale: 1}
		}
	}
	for u := 0; u < v; u++ {
		m := bm
		m.Disp += 4 * s.w * u
		VMOVUPS(m, s.breg(u))
	}
	aoff := second * 4 * s.mr
	for i := 0; i < r; i++ {
		am := Mem{Base: rA, Disp: aoff + 4*i}
		if s.w == 16 && (v == 1 || !bcastReg) {
			for u := 0; u < v; u++ {
				VFMADD231PS_BCST(am, s.breg(u), s.acc(i, u))
			}
			continue
		}
		if s.w == 16 {
			t := zmm(30 + i%2)
			VBROADCASTSS(am, t)
			for u := 0; u < v; u++ {
				VFMADD231PS(s.breg(u), t, s.acc(i, u))
			}
			continue
		}
		t := ymm(14 + i%2)
		VBROADCASTSS(am, t)
		for u := 0; u < v; u++ {
			VFMADD231PS(s.breg(u), t, s.acc(i, u))
		}
	}
}

// genPack emits GemmPack<R>(dst, src []float32, ld, kc, panels int, alpha
// float32): the transposing pack shared by A (R = mr, A not transposed) and
// B (R = nr, B transposed). For q < panels, r < R and p < kc&^7:
//
//	dst[q*kc*R + p*R + r] = alpha * src[(q*R+r)*ld + p]   (no multiply when alpha == 1)
//
// The caller packs the last kc%8 columns. Rows are read in blocks of 8 and
// transposed 8×8 in registers (VUNPCK*PS, VSHUFPS, VPERM2F128: AVX only); a
// last block of R%8 rows reads only those rows and stores with VMASKMOVPS
// (GemmPack14AVX512, used only by the AVX-512 kernel: with an opmask, since
// VMASKMOVPS stores are slow on AMD).
func genPack(R int) {
	name := fmt.Sprintf("GemmPack%d", R)
	if R == avx512.mr {
		name += "AVX512" // its opmask store needs AVX-512 VL
	}
	TEXT(name, NOSPLIT, "func(dst, src []float32, ld, kc, panels int, alpha float32)")
	doc := []string{fmt.Sprintf("%s packs panels of %d rows of a row-major matrix (row stride ld) into", name, R),
		fmt.Sprintf("column-interleaved panels: dst[q*kc*%d + p*%d + r] = alpha*src[(q*%d+r)*ld + p]", R, R, R),
		"for p < kc&^7 (alpha == 1: a plain copy); the caller packs the other columns."}
	if R == avx512.mr {
		doc = append(doc, "It is the AVX-512 kernel's pack: its partial block stores with an opmask (AVX-512 VL).")
	}
	Doc(doc...)
	Pragma("noescape")
	dst, src := RDI, RSI
	ld, ld3, kc8 := RDX, R8, RCX
	panels, p, rowp, row4 := R9, R10, R11, R12
	dstp, one := R13, R14
	alpha, err := Param("alpha").Resolve()
	if err != nil {
		panic(err)
	}
	Load(Param("dst").Base(), dst)
	Load(Param("src").Base(), src)
	Load(Param("ld"), ld)
	SHLQ(U8(2), ld)
	LEAQ(Mem{Base: ld, Index: ld, Scale: 2}, ld3)
	Load(Param("kc"), kc8)
	Load(Param("panels"), panels)
	// one = 1 when alpha == 1 (then no multiply).
	VMOVSS(alpha.Addr, X0)
	XORQ(one, one)
	MOVL(U32(0x3f800000), EAX)
	VMOVD(EAX, X1)
	VUCOMISS(X1, X0)
	JNE(LabelRef("alphaSet"))
	JP(LabelRef("alphaSet"))
	INCQ(one)
	Label("alphaSet")
	ANDQ(I32(-8), kc8)
	JEQ(LabelRef("done"))
	TESTQ(panels, panels)
	JEQ(LabelRef("done"))

	full, part := R/8, R%8
	// GemmPack14AVX512 serves only the AVX-512 kernel: its partial block
	// stores with an opmask.
	kmask := R == avx512.mr
	Label("panel")
	for blk := 0; blk < full+min(part, 1); blk++ {
		nrows := 8
		if blk == full {
			nrows = part
		}
		// Row block blk: 8 (or part) rows, all columns p < kc8, p advancing
		// 8 floats (32 bytes) per iteration in every row stream.
		// rowp = src + blk*8 rows; row4 = rowp + 4 rows; dstp = dst + blk*8.
		MOVQ(src, rowp)
		if blk > 0 {
			MOVQ(ld, RAX)
			SHLQ(U8(3), RAX)
			IMUL3Q(U32(blk), RAX, RAX)
			ADDQ(RAX, rowp)
		}
		LEAQ(Mem{Base: rowp, Index: ld, Scale: 4}, row4)
		LEAQ(Mem{Base: dst, Disp: 4 * 8 * blk}, dstp)
		XORQ(p, p) // column index
		rowMem := []Mem{
			{Base: rowp}, {Base: rowp, Index: ld, Scale: 1}, {Base: rowp, Index: ld, Scale: 2}, {Base: rowp, Index: ld3, Scale: 1},
			{Base: row4}, {Base: row4, Index: ld, Scale: 1}, {Base: row4, Index: ld, Scale: 2}, {Base: row4, Index: ld3, Scale: 1},
		}
		lbl := fmt.Sprintf("blk%d", blk)
		Label(lbl)
		for r := 0; r < 8; r++ {
			if r < nrows {
				VMOVUPS(rowMem[r], ymm(r))
			} else {
				VXORPS(ymm(r), ymm(r), ymm(r))
			}
		}
		TESTQ(one, one)
		JNE(LabelRef(lbl + "noscale"))
		VBROADCASTSS(alpha.Addr, Y8)
		for r := 0; r < nrows; r++ {
			VMULPS(Y8, ymm(r), ymm(r))
		}
		Label(lbl + "noscale")
		transpose8()
		// Outputs: Y8+t holds column p+t of the 8 rows.
		if blk == full && part > 0 && kmask {
			// AVX-512 (VL) masked store: VMASKMOVPS stores are slow on AMD.
			MOVL(U32(1<<part-1), EAX)
			KMOVW(EAX, K1)
		} else if blk == full && part > 0 {
			LEAQ(maskTable, RAX)
			VMOVUPS(Mem{Base: RAX, Disp: 4 * (8 - part)}, Y0) // inputs are dead
		}
		for t := 0; t < 8; t++ {
			m := Mem{Base: dstp, Disp: 4 * t * R}
			if blk == full && part > 0 && kmask {
				VMOVUPS(ymm(8+t), K1, m)
			} else if blk == full && part > 0 {
				VMASKMOVPS(ymm(8+t), Y0, m)
			} else {
				VMOVUPS(ymm(8+t), m)
			}
		}
		ADDQ(U32(32), rowp)
		ADDQ(U32(32), row4)
		ADDQ(U32(4*8*R), dstp)
		ADDQ(U32(8), p)
		CMPQ(p, kc8)
		JB(LabelRef(lbl))
	}
	// Next panel: src += R rows, dst += kc*R floats.
	MOVQ(ld, RAX)
	IMUL3Q(U32(R), RAX, RAX)
	ADDQ(RAX, src)
	Load(Param("kc"), RAX)
	IMUL3Q(U32(4*R), RAX, RAX)
	ADDQ(RAX, dst)
	DECQ(panels)
	JNE(LabelRef("panel"))
	Label("done")
	VZEROUPPER()
	RET()
}

// transpose8 transposes the 8×8 block in Y0..Y7 (row r = Yr) into Y8..Y15
// (Y(8+t) = column t), clobbering Y0..Y7.
func transpose8() {
	// t = unpack pairs of rows.
	for k := 0; k < 4; k++ {
		VUNPCKLPS(ymm(2*k+1), ymm(2*k), ymm(8+2*k))   // r0p0 r1p0 r0p1 r1p1 | p4 p5
		VUNPCKHPS(ymm(2*k+1), ymm(2*k), ymm(8+2*k+1)) // r0p2 r1p2 r0p3 r1p3 | p6 p7
	}
	// s: for rows 0-3 from Y8..Y11, rows 4-7 from Y12..Y15.
	for h := 0; h < 2; h++ {
		t0, t1, t2, t3 := ymm(8+4*h), ymm(9+4*h), ymm(10+4*h), ymm(11+4*h)
		VSHUFPS(U8(0x44), t2, t0, ymm(4*h+0)) // p0 | p4
		VSHUFPS(U8(0xEE), t2, t0, ymm(4*h+1)) // p1 | p5
		VSHUFPS(U8(0x44), t3, t1, ymm(4*h+2)) // p2 | p6
		VSHUFPS(U8(0xEE), t3, t1, ymm(4*h+3)) // p3 | p7
	}
	for t := 0; t < 4; t++ {
		VPERM2F128(U8(0x20), ymm(4+t), ymm(t), ymm(8+t))  // p_t
		VPERM2F128(U8(0x31), ymm(4+t), ymm(t), ymm(12+t)) // p_(t+4)
	}
}

// genCopy emits GemmCopy<R>(dst, src []float32, ld, kc, panels int): the
// pack of a row-major (not transposed) B into panels of R columns:
//
//	dst[q*kc*R + p*R + j] = src[p*ld + q*R + j]   for q < panels, p < kc, j < R
//
// It walks the source row by row (rows outer, panels inner), so the reads
// are long sequential runs that the hardware prefetchers follow.
// copyPfShift: GemmCopy* prefetch the source 2^copyPfShift rows ahead. A
// transposed A (or a row-major B) read R columns at a time runs down rows
// that are far apart (its leading dimension), one short segment per row, so
// the hardware prefetchers do not see a stream and every row costs a miss:
// packing 2048×512×4096 Aᵀ·B's A from DRAM took 11% of the product.
const copyPfShift = 4

func genCopyRows(R int) {
	name := fmt.Sprintf("GemmCopy%d", R)
	TEXT(name, NOSPLIT, "func(dst, src []float32, ld, kc, panels int)")
	Doc(fmt.Sprintf("%s packs panels of %d columns of a row-major matrix (row stride ld):", name, R),
		fmt.Sprintf("dst[q*kc*%d + p*%d + j] = src[p*ld + q*%d + j] for q < panels, p < kc, j < %d.", R, R, R, R))
	Pragma("noescape")
	dst, src := RDI, RSI
	ld, kc, panels, q, rd, rs, pstride, pf := RDX, RCX, R9, R10, R11, R12, R13, R14
	Load(Param("dst").Base(), dst)
	Load(Param("src").Base(), src)
	Load(Param("ld"), ld)
	SHLQ(U8(2), ld)
	Load(Param("kc"), kc)
	Load(Param("panels"), panels)
	TESTQ(kc, kc)
	JEQ(LabelRef("done"))
	TESTQ(panels, panels)
	JEQ(LabelRef("done"))
	// pstride = kc*R*4 bytes between panels.
	MOVQ(kc, pstride)
	IMUL3Q(U32(4*R), pstride, pstride)
	// pf = copyPf rows ahead, in bytes.
	MOVQ(ld, pf)
	SHLQ(U8(copyPfShift), pf)
	// R = 8·nv + tail: nv YMM moves, then 4-, 2- and 1-float moves for the
	// tail (no byte outside the R columns is read or written).
	nv := R / 8
	Label("row")
	MOVQ(src, rs)
	MOVQ(dst, rd)
	MOVQ(panels, q)
	Label("panel")
	PREFETCHT0(Mem{Base: rs, Index: pf, Scale: 1})
	for v := 0; v < nv; v++ {
		VMOVUPS(Mem{Base: rs, Disp: 32 * v}, ymm(v))
	}
	off, x := 32*nv, nv
	if R%8 >= 4 {
		VMOVUPS(Mem{Base: rs, Disp: off}, xmm(x))
		off, x = off+16, x+1
	}
	if R%4 >= 2 {
		VMOVSD(Mem{Base: rs, Disp: off}, xmm(x))
		off, x = off+8, x+1
	}
	if R%2 == 1 {
		VMOVSS(Mem{Base: rs, Disp: off}, xmm(x))
	}
	for v := 0; v < nv; v++ {
		VMOVUPS(ymm(v), Mem{Base: rd, Disp: 32 * v})
	}
	off, x = 32*nv, nv
	if R%8 >= 4 {
		VMOVUPS(xmm(x), Mem{Base: rd, Disp: off})
		off, x = off+16, x+1
	}
	if R%4 >= 2 {
		VMOVSD(xmm(x), Mem{Base: rd, Disp: off})
		off, x = off+8, x+1
	}
	if R%2 == 1 {
		VMOVSS(xmm(x), Mem{Base: rd, Disp: off})
	}
	ADDQ(U32(4*R), rs)
	ADDQ(pstride, rd)
	DECQ(q)
	JNE(LabelRef("panel"))
	ADDQ(ld, src)
	ADDQ(U32(4*R), dst)
	DECQ(kc)
	JNE(LabelRef("row"))
	Label("done")
	VZEROUPPER()
	RET()
}

// genCopyPanels is genCopyRows's loop order swapped, panel by panel down
// the rows: the stores become one sequential stream, the loads one short
// prefetched segment per row. Used for GemmCopy16 (AVX2): row by row it
// wrote one stream per panel (64 at n = 1024): 2.5–3.6% of the AVX2 1024³
// CPU profile, 1.7–1.9% this way; for the 32-wide AVX-512 panels it
// measured worse.
func genCopyPanels(R int) {
	name := fmt.Sprintf("GemmCopy%d", R)
	TEXT(name, NOSPLIT, "func(dst, src []float32, ld, kc, panels int)")
	Doc(fmt.Sprintf("%s packs panels of %d columns of a row-major matrix (row stride ld):", name, R),
		fmt.Sprintf("dst[q*kc*%d + p*%d + j] = src[p*ld + q*%d + j] for q < panels, p < kc, j < %d.", R, R, R, R))
	Pragma("noescape")
	dst, src := RDI, RSI
	ld, kc, panels, p, rs, pf := RDX, RCX, R9, R10, R12, R14
	Load(Param("dst").Base(), dst)
	Load(Param("src").Base(), src)
	Load(Param("ld"), ld)
	SHLQ(U8(2), ld)
	Load(Param("kc"), kc)
	Load(Param("panels"), panels)
	TESTQ(kc, kc)
	JEQ(LabelRef("done"))
	TESTQ(panels, panels)
	JEQ(LabelRef("done"))
	MOVQ(ld, pf)
	SHLQ(U8(copyPfShift), pf)
	if R%8 != 0 {
		panic("genCopyPanels: R must be a multiple of 8")
	}
	nv := R / 8
	Label("panel")
	MOVQ(src, rs)
	MOVQ(kc, p)
	Label("row")
	PREFETCHT0(Mem{Base: rs, Index: pf, Scale: 1})
	for v := 0; v < nv; v++ {
		VMOVUPS(Mem{Base: rs, Disp: 32 * v}, ymm(v))
	}
	for v := 0; v < nv; v++ {
		VMOVUPS(ymm(v), Mem{Base: dst, Disp: 32 * v})
	}
	ADDQ(ld, rs)
	ADDQ(U32(4*R), dst)
	DECQ(p)
	JNE(LabelRef("row"))
	// dst is now the next panel's start.
	ADDQ(U32(4*R), src)
	DECQ(panels)
	JNE(LabelRef("panel"))
	Label("done")
	VZEROUPPER()
	RET()
}

// genNT emits GemmNTAVX512(m, n, kc, a, b, ldb, c, ldc, load): the few-row
// A·Bᵀ kernel, which reads B in place (no transposing pack) by computing a
// transposed tile: the accumulators hold columns of C. With S = 16*ceil(m/16)
// and a the packed Aᵀ (a[p*S+i] = alpha*A[i][p], zero-padded to S rows), for
// i < m <= 48, j < n <= 8:
//
//	acc = load ? c[i*ldc+j] : +0
//	for p := 0; p < kc; p++ { acc = fma(a[p*S+i], b[j*ldb+p], acc) }
//	c[i*ldc+j] = acc
//
// Registers: Z(3j+u) = acc for rows 16u..16u+15 of column j, Z24..Z26 = the
// A vectors of step p, Z28/Z29 = broadcasts of B[j][p], Z27 = lane*ldc (the
// gather index). C is read (only when load) with VGATHERDPS one column of 16
// rows at a time, masked to the m rows, so ldc*48 must fit in an int32; it
// is written by transposing the accumulators in registers (ntStore). B rows >= n and columns >= kc are never read.
func genNT() {
	name := "GemmNTAVX512"
	TEXT(name, NOSPLIT, "func(m, n, kc int, a, b []float32, ldb int, c []float32, ldc int, load bool)")
	Doc(name+" computes C[i][j] (+)= Σ_p a[p*S+i]·b[j*ldb+p] for i < m <= 48, j < n <= 8, S = 16*ceil(m/16),",
		"as one in-order FMA chain over p per element starting from C (load) or +0.",
		"a is the packed Aᵀ (zero-padded to S rows); B is read in place; ldc*48 must fit in an int32.")
	Pragma("noescape")
	rM, rN, rK, rA, rB, rB4 := R8, R9, R14, RAX, RBX, R12
	rLdb, rLd3, rC, rLdc, rLoad, rTmp := RDX, R13, RSI, RDI, R10, R11
	Load(Param("m"), rM)
	Load(Param("n"), rN)
	Load(Param("kc"), rK)
	Load(Param("a").Base(), rA)
	Load(Param("b").Base(), rB)
	Load(Param("ldb"), rLdb)
	SHLQ(U8(2), rLdb)
	LEAQ(Mem{Base: rLdb, Index: rLdb, Scale: 2}, rLd3)
	LEAQ(Mem{Base: rB, Index: rLdb, Scale: 4}, rB4)
	Load(Param("c").Base(), rC)
	Load(Param("ldc"), rLdc)
	Load(Param("load"), rLoad)
	// Z27 = lane*ldc; rLdc = 16 rows in bytes.
	VMOVD(EDI, X0)
	VPBROADCASTD(X0, Z27)
	VPMULLD(iotaTable, Z27, Z27)
	SHLQ(U8(6), rLdc)
	// K3 = all 16 lanes; K1 = the lanes of the last row vector:
	// 0xffff >> ((-m) & 15).
	MOVL(U32(0xffff), R11L)
	KMOVW(R11L, K3)
	MOVQ(rM, RCX)
	NEGQ(RCX)
	ANDQ(U32(15), RCX)
	SHRL(CL, R11L)
	KMOVW(R11L, K1)
	// Dispatch on v = ceil(m/16) row vectors and n columns.
	for v := 1; v <= 3; v++ {
		if v < 3 {
			CMPQ(rM, U32(16*v))
			JA(LabelRef(fmt.Sprintf("v%dmore", v)))
		}
		for nj := 8; nj > 1; nj-- {
			CMPQ(rN, U32(nj))
			JEQ(LabelRef(fmt.Sprintf("nt%dx%d", v, nj)))
		}
		JMP(LabelRef(fmt.Sprintf("nt%dx1", v)))
		if v < 3 {
			Label(fmt.Sprintf("v%dmore", v))
		}
	}
	acc := func(j, u int) VecPhysical { return zmm(3*j + u) }
	cmem := func(j int) Mem {
		// Rows 16u.. of column j: base rC + u*rLdc, held in rTmp.
		return Mem{Base: rTmp, Disp: 4 * j, Index: Z27, Scale: 4}
	}
	setRow := func(u int) {
		switch u {
		case 0:
			MOVQ(rC, rTmp)
		case 1:
			LEAQ(Mem{Base: rC, Index: rLdc, Scale: 1}, rTmp)
		case 2:
			LEAQ(Mem{Base: rC, Index: rLdc, Scale: 2}, rTmp)
		}
	}
	mask := func(u, v int) {
		if u == v-1 {
			KMOVW(K1, K2)
		} else {
			KMOVW(K3, K2)
		}
	}
	bmem := func(j int) Mem {
		base := rB
		if j >= 4 {
			base = rB4
		}
		switch j % 4 {
		case 0:
			return Mem{Base: base}
		case 1:
			return Mem{Base: base, Index: rLdb, Scale: 1}
		case 2:
			return Mem{Base: base, Index: rLdb, Scale: 2}
		}
		return Mem{Base: base, Index: rLd3, Scale: 1}
	}
	for v := 1; v <= 3; v++ {
		for nj := 1; nj <= 8; nj++ {
			tag := fmt.Sprintf("nt%dx%d", v, nj)
			Label(tag)
			Commentf("%d row vectors × %d columns", v, nj)
			for j := 0; j < nj; j++ {
				for u := 0; u < v; u++ {
					VPXORD(acc(j, u), acc(j, u), acc(j, u))
				}
			}
			TESTB(rLoad.As8(), rLoad.As8())
			JEQ(LabelRef(tag + "k"))
			for u := 0; u < v; u++ {
				setRow(u)
				for j := 0; j < nj; j++ {
					mask(u, v)
					VGATHERDPS(cmem(j), K2, acc(j, u))
				}
			}
			Label(tag + "k")
			TESTQ(rK, rK)
			JEQ(LabelRef(tag + "store"))
			Label(tag + "loop")
			for u := 0; u < v; u++ {
				VMOVUPS(Mem{Base: rA, Disp: 64 * u}, zmm(24+u))
			}
			for j := 0; j < nj; j++ {
				t := zmm(28 + j%2)
				VBROADCASTSS(bmem(j), t)
				for u := 0; u < v; u++ {
					VFMADD231PS(zmm(24+u), t, acc(j, u))
				}
			}
			ADDQ(U32(64*v), rA)
			ADDQ(U32(4), rB)
			ADDQ(U32(4), rB4)
			DECQ(rK)
			JNE(LabelRef(tag + "loop"))
			Label(tag + "store")
			ntStore(v, nj, tag, acc, rM, rC, rLdc)
			VZEROUPPER()
			RET()
		}
	}
}

// ntStore writes the accumulators of GemmNTAVX512's v×nj variant (acc(j, u)
// = rows 16u..16u+15 of column j) to the C rows, clobbering all vector
// registers. Per 16-row block: the two in-lane stages of an 8×8 transpose
// (VUNPCK*PS, VSHUFPS), done on whole ZMM registers, leave out[4h+t] with
// 128-bit lane L = columns 4h..4h+3 of row t+4L; each is stored with
// (masked) 128-bit stores. Rows >= m are skipped, and masked-out columns
// are never touched.
func ntStore(v, nj int, tag string, acc func(j, u int) VecPhysical, rM, rC, rLdc GPPhysical) {
	rRow, rRem, rLd1 := R11, R12, RCX
	MOVQ(rLdc, rLd1)
	SHRQ(U8(4), rLd1) // ldc in bytes
	halves := 1
	if nj > 4 {
		halves = 2
	}
	if nj < 4 {
		MOVL(U32(1<<nj-1), R13L)
		KMOVW(R13L, K4)
	}
	if nj > 4 && nj < 8 {
		MOVL(U32(1<<(nj-4)-1), R13L)
		KMOVW(R13L, K5)
	}
	tmp := func(i int) VecPhysical { return zmm(24 + i) }
	for u := 0; u < v; u++ {
		// Columns j >= nj hold stale values; they are never stored.
		in := func(j int) VecPhysical { return acc(j, u) }
		for k := 0; k < 2*halves; k++ {
			VUNPCKLPS(in(2*k+1), in(2*k), tmp(2*k))
			VUNPCKHPS(in(2*k+1), in(2*k), tmp(2*k+1))
		}
		out := func(i int) VecPhysical { return acc(i, u) }
		for h := 0; h < halves; h++ {
			t0, t1, t2, t3 := tmp(4*h), tmp(4*h+1), tmp(4*h+2), tmp(4*h+3)
			VSHUFPS(U8(0x44), t2, t0, out(4*h+0))
			VSHUFPS(U8(0xEE), t2, t0, out(4*h+1))
			VSHUFPS(U8(0x44), t3, t1, out(4*h+2))
			VSHUFPS(U8(0xEE), t3, t1, out(4*h+3))
		}
		// rRow = C row 16u.
		MOVQ(rC, rRow)
		if u > 0 {
			LEAQ(Mem{Base: rC, Index: rLdc, Scale: 1}, rRow)
			if u > 1 {
				ADDQ(rLdc, rRow)
			}
		}
		last := u == v-1
		if last {
			MOVQ(rM, rRem)
			SUBQ(U32(16*u), rRem)
		}
		done := fmt.Sprintf("%sstored%d", tag, u)
		for i := 0; i < 16; i++ {
			if last && i > 0 {
				CMPQ(rRem, U32(i))
				JLE(LabelRef(done))
			}
			t, L := i%4, i/4
			for h := 0; h < halves; h++ {
				r := out(4*h + t)
				m := Mem{Base: rRow, Disp: 16 * h}
				var k Op
				if h == 0 && nj < 4 {
					k = K4
				}
				if h == 1 && nj < 8 {
					k = K5
				}
				switch {
				case L == 0 && k == nil:
					VMOVUPS(r.AsX(), m)
				case L == 0:
					VMOVUPS(r.AsX(), k, m)
				case k == nil:
					VEXTRACTF32X4(U8(L), r, m)
				default:
					// The masked memory form of VEXTRACTF32X4 does not
					// suppress faults on masked-out lanes (class E6NF);
					// VMOVUPS does.
					VEXTRACTF32X4(U8(L), r, X24)
					VMOVUPS(X24, k, m)
				}
			}
			if i < 15 {
				ADDQ(rLd1, rRow)
			}
		}
		if last {
			Label(done)
		}
	}
}

// genNTAVX2 emits GemmNTAVX2(m, n, kc, a, b, ldb, c, ldc, load), the AVX2
// analogue of GemmNTAVX512: with S = 8*ceil(m/8) and a the packed Aᵀ
// (a[p*S+i] = alpha*A[i][p], zero-padded to S rows), for i < m <= 64,
// j < n <= 8:
//
//	acc = load ? c[i*ldc+j] : +0
//	for p := 0; p < kc; p++ { acc = fma(a[p*S+i], b[j*ldb+p], acc) }
//	c[i*ldc+j] = acc
//
// m <= 8 is one tile of 1 row vector × n columns (Y0..Y7 = the columns).
// Otherwise the columns are done 4 at a time and, for each 4, the rows in
// groups of up to 24 (3 vectors) that all read the same 4 rows of B (which
// then stay in L1): Y(3j+u) = rows 8u..8u+7 of the group in column j. Y12..
// Y14 = the A vectors of step p, Y15 = the broadcast of B[j][p]. The k loop
// is unrolled by 2. C is read (only when load) with VGATHERDPS one column
// of 8 rows at a time, masked to the m rows, and written by transposing each
// 8×4 block in registers (two in-lane stages) into 128-bit row pieces
// (VMASKMOVPS for partial ones). B rows >= n and columns >= kc are never
// read; C is touched only in the m×n window. n is overwritten in the
// argument frame (the columns left).
func genNTAVX2() {
	name := "GemmNTAVX2"
	TEXT(name, NOSPLIT, "func(m, n, kc int, a, b []float32, ldb int, c []float32, ldc int, load bool)")
	Doc(name+" computes C[i][j] (+)= Σ_p a[p*S+i]·b[j*ldb+p] for i < m <= 64, j < n <= 8, S = 8*ceil(m/8),",
		"as one in-order FMA chain over p per element starting from C (load) or +0.",
		"a is the packed Aᵀ (zero-padded to S rows); B is read in place; ldc*8 must fit in an int32.")
	Pragma("noescape")
	rM, rK, rA0, rA, rB := R8, R14, RAX, R15, RBX
	rLdb, rLd3, rS, rC0, rLdc, rRow, rTmp := RDX, R13, R9, RSI, RDI, R11, R12
	rBcol, rCcol := RCX, R10 // B and C at the current 4 columns
	Load(Param("m"), rM)
	Load(Param("a").Base(), rA0)
	Load(Param("b").Base(), rBcol)
	Load(Param("ldb"), rLdb)
	SHLQ(U8(2), rLdb)
	LEAQ(Mem{Base: rLdb, Index: rLdb, Scale: 2}, rLd3)
	// rS = S*4 bytes = 32*ceil(m/8).
	LEAQ(Mem{Base: rM, Disp: 7}, rS)
	SHRQ(U8(3), rS)
	SHLQ(U8(5), rS)
	Load(Param("c").Base(), rCcol)
	MOVQ(rCcol, rC0)
	Load(Param("ldc"), rLdc)
	SHLQ(U8(2), rLdc)
	Load(Param("n"), rTmp)
	CMPQ(rM, U32(8))
	JA(LabelRef("ntcols"))
	for nj := 8; nj > 1; nj-- {
		CMPQ(rTmp, U32(nj))
		JEQ(LabelRef(fmt.Sprintf("ntw%d", nj)))
	}
	JMP(LabelRef("ntw1"))
	Label("ntcols")
	Label("ntgroup")
	// rM = rows left (> 0). Dispatch on v = min(ceil(rM/8), 3) and
	// min(n, 4) columns.
	Load(Param("n"), rTmp)
	for v := 1; v <= 3; v++ {
		if v < 3 {
			CMPQ(rM, U32(8*v))
			JA(LabelRef(fmt.Sprintf("ntv%dmore", v)))
		}
		for nj := 3; nj > 1; nj-- {
			CMPQ(rTmp, U32(nj))
			JEQ(LabelRef(fmt.Sprintf("nt%dx%d", v, nj)))
		}
		CMPQ(rTmp, U32(1))
		JEQ(LabelRef(fmt.Sprintf("nt%dx1", v)))
		JMP(LabelRef(fmt.Sprintf("nt%dx4", v)))
		if v < 3 {
			Label(fmt.Sprintf("ntv%dmore", v))
		}
	}
	bmem := func(j int) Mem {
		base := rB
		if j >= 4 {
			base = rTmp // rB + 4*ldb
		}
		switch j % 4 {
		case 0:
			return Mem{Base: base}
		case 1:
			return Mem{Base: base, Index: rLdb, Scale: 1}
		case 2:
			return Mem{Base: base, Index: rLdb, Scale: 2}
		}
		return Mem{Base: base, Index: rLd3, Scale: 1}
	}
	// lastRows sets rTmp = the rows of vector v-1 of the group (1..8).
	lastRows := func(v int) {
		MOVQ(U32(8*v), rTmp)
		CMPQ(rM, rTmp)
		CMOVQLT(rM, rTmp)
		if v > 1 {
			SUBQ(U32(8*(v-1)), rTmp)
		}
	}
	variant := func(tag string, v, nj int, acc func(j, u int) VecPhysical) {
		Label(tag)
		Commentf("%d row vectors × %d columns", v, nj)
		for j := 0; j < nj; j++ {
			for u := 0; u < v; u++ {
				VXORPS(acc(j, u), acc(j, u), acc(j, u))
			}
		}
		Load(Param("load"), rTmp)
		TESTB(rTmp.As8(), rTmp.As8())
		JEQ(LabelRef(tag + "k"))
		// Y12 = lane*ldc, Y14 = all lanes, Y13 = the last vector's lanes.
		MOVQ(rLdc, rTmp)
		SHRQ(U8(2), rTmp)
		VMOVD(rTmp.As32(), X12)
		VPBROADCASTD(X12, Y12)
		VPMULLD(iotaTable, Y12, Y12)
		VPCMPEQD(Y14, Y14, Y14)
		lastRows(v)
		NEGQ(rTmp)
		LEAQ(maskTable, rRow)
		VMOVUPS(Mem{Base: rRow, Index: rTmp, Scale: 4, Disp: 32}, Y13)
		MOVQ(rC0, rRow)
		for u := 0; u < v; u++ {
			if u > 0 {
				LEAQ(Mem{Base: rRow, Index: rLdc, Scale: 8}, rRow)
			}
			for j := 0; j < nj; j++ {
				if u == v-1 {
					VMOVAPS(Y13, Y15)
				} else {
					VMOVAPS(Y14, Y15)
				}
				VGATHERDPS(Y15, Mem{Base: rRow, Disp: 4 * j, Index: Y12, Scale: 4}, acc(j, u))
			}
		}
		Label(tag + "k")
		Load(Param("kc"), rK)
		MOVQ(rBcol, rB)
		MOVQ(rA0, rA)
		if nj > 4 {
			LEAQ(Mem{Base: rB, Index: rLdb, Scale: 4}, rTmp)
		}
		// One step p (second: p+1, A at rA+rS, B 4 bytes on).
		step := func(second bool) {
			for u := 0; u < v; u++ {
				m := Mem{Base: rA, Disp: 32 * u}
				if second {
					m = Mem{Base: rA, Index: rS, Scale: 1, Disp: 32 * u}
				}
				VMOVUPS(m, ymm(12+u))
			}
			for j := 0; j < nj; j++ {
				m := bmem(j)
				if second {
					m.Disp += 4
				}
				VBROADCASTSS(m, Y15)
				for u := 0; u < v; u++ {
					VFMADD231PS(ymm(12+u), Y15, acc(j, u))
				}
			}
		}
		advance := func(steps int) {
			if steps == 1 {
				ADDQ(rS, rA)
			} else {
				LEAQ(Mem{Base: rA, Index: rS, Scale: 2}, rA)
			}
			ADDQ(U32(4*steps), rB)
			if nj > 4 {
				ADDQ(U32(4*steps), rTmp)
			}
		}
		// An odd kc: one step first, then pairs.
		BTQ(U8(0), rK)
		JCC(LabelRef(tag + "pairs"))
		step(false)
		advance(1)
		Label(tag + "pairs")
		SHRQ(U8(1), rK)
		JEQ(LabelRef(tag + "store"))
		Label(tag + "loop")
		step(false)
		step(true)
		advance(2)
		DECQ(rK)
		JNE(LabelRef(tag + "loop"))
		Label(tag + "store")
		ntStoreAVX2(v, nj, tag, acc, lastRows, rC0, rLdc, rRow, rTmp)
	}
	for nj := 1; nj <= 8; nj++ {
		variant(fmt.Sprintf("ntw%d", nj), 1, nj, func(j, u int) VecPhysical { return ymm(j) })
		JMP(LabelRef("ntdone"))
	}
	for v := 1; v <= 3; v++ {
		for nj := 1; nj <= 4; nj++ {
			variant(fmt.Sprintf("nt%dx%d", v, nj), v, nj, func(j, u int) VecPhysical { return ymm(3*j + u) })
			JMP(LabelRef("ntnext"))
		}
	}
	Label("ntnext")
	SUBQ(U32(24), rM)
	JLE(LabelRef("ntnextcols"))
	ADDQ(U32(96), rA0)
	LEAQ(Mem{Base: rLdc, Index: rLdc, Scale: 2}, rTmp)
	LEAQ(Mem{Base: rC0, Index: rTmp, Scale: 8}, rC0)
	JMP(LabelRef("ntgroup"))
	Label("ntnextcols")
	// The next 4 columns, if any.
	Load(Param("n"), rTmp)
	SUBQ(U32(4), rTmp)
	JLE(LabelRef("ntdone"))
	Store(rTmp, Param("n"))
	LEAQ(Mem{Base: rBcol, Index: rLdb, Scale: 4}, rBcol)
	ADDQ(U32(16), rCcol)
	MOVQ(rCcol, rC0)
	Load(Param("m"), rM)
	Load(Param("a").Base(), rA0)
	JMP(LabelRef("ntgroup"))
	Label("ntdone")
	VZEROUPPER()
	RET()
}

// ntStoreAVX2 writes the accumulators of GemmNTAVX2's v×nj variant (acc(j,
// u) = rows 8u..8u+7 of column j) to the C rows of the group at rC0,
// clobbering Y12..Y15 and the accumulators. Per vector and 4 columns, the
// two in-lane stages of a transpose (VUNPCK*PS, VSHUFPS) leave out[t] with
// 128-bit lane L = those columns of row t+4L, stored with 128-bit stores
// (VMASKMOVPS for fewer than 4 columns). Rows >= m are skipped; columns
// j >= nj hold stale values and are never stored.
func ntStoreAVX2(v, nj int, tag string, acc func(j, u int) VecPhysical, lastRows func(int), rC0, rLdc, rRow, rTmp GPPhysical) {
	lastRows(v)
	MOVQ(rC0, rRow)
	tmp := func(i int) VecPhysical { return ymm(12 + i) }
	halves := (nj + 3) / 4
	for u := 0; u < v; u++ {
		for h := 0; h < halves; h++ {
			in := func(j int) VecPhysical { return acc(4*h+j, u) }
			for k := 0; k < 2; k++ {
				VUNPCKLPS(in(2*k+1), in(2*k), tmp(2*k))
				VUNPCKHPS(in(2*k+1), in(2*k), tmp(2*k+1))
			}
			VSHUFPS(U8(0x44), tmp(2), tmp(0), in(0))
			VSHUFPS(U8(0xEE), tmp(2), tmp(0), in(1))
			VSHUFPS(U8(0x44), tmp(3), tmp(1), in(2))
			VSHUFPS(U8(0xEE), tmp(3), tmp(1), in(3))
		}
		// The last half has cols columns; X12 = their mask when < 4.
		cols := nj - 4*(halves-1)
		if cols < 4 {
			VMOVUPS(maskTable.Offset(4*(8-cols)), X12)
		}
		last := u == v-1
		done := fmt.Sprintf("%sstored%d", tag, u)
		for i := 0; i < 8; i++ {
			if last && i > 0 {
				CMPQ(rTmp, U32(i))
				JLE(LabelRef(done))
			}
			t, L := i%4, i/4
			for h := 0; h < halves; h++ {
				r := acc(4*h+t, u)
				m := Mem{Base: rRow, Disp: 16 * h}
				full := h < halves-1 || cols == 4
				switch {
				case L == 0 && full:
					VMOVUPS(r.AsX(), m)
				case L == 0:
					VMASKMOVPS(r.AsX(), X12, m)
				case full:
					VEXTRACTF128(U8(1), r, m)
				default:
					VEXTRACTF128(U8(1), r, X13)
					VMASKMOVPS(X13, X12, m)
				}
			}
			if !(last && i == 7) {
				ADDQ(rLdc, rRow)
			}
		}
		if last {
			Label(done)
		}
	}
}
