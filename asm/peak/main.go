// Command peak generates the tiny amd64 kernels that bench/internal/peak uses
// to measure a CPU's limits: the float32 FMA throughput of one core (AVX2 and
// AVX-512), the copy bandwidth of the cache levels and DRAM, and a dependent
// integer-add chain that estimates the core clock.
//
// These kernels compute nothing useful: they exist to be timed. Each FMA
// kernel keeps enough independent accumulator chains in flight to cover the
// FMA latency times the number of FMA pipes of current x86 cores (4 cycles ×
// 2 pipes = 8 chains; we use 12 YMM and 24 ZMM).
//
// Run through go generate in bench/internal/peak (see its doc.go).
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!purego")
	fmaKernel("fmaAVX2", 12, func(i int) VecPhysical { return ymm(i) },
		"executes iters×12 independent VFMADD231PS on YMM registers (192 FLOP per iteration).")
	fmaKernel("fmaAVX512", 24, func(i int) VecPhysical { return zmm(i) },
		"executes iters×24 independent VFMADD231PS on ZMM registers (768 FLOP per iteration).")
	copyKernel("copyAVX2", 32, func(i int) VecPhysical { return ymm(i) },
		"copies src to dst with 4×32-byte loads and stores per iteration, len(src) rounded down to a multiple of 32 floats; len(dst) >= len(src).")
	copyKernel("copyAVX512", 64, func(i int) VecPhysical { return zmm(i) },
		"copies src to dst with 4×64-byte loads and stores per iteration, len(src) rounded down to a multiple of 64 floats; len(dst) >= len(src).")
	addChain()
	Generate()
}

func ymm(i int) VecPhysical {
	return []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}[i]
}

func zmm(i int) VecPhysical {
	return []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
		Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}[i]
}

// fmaKernel emits func name(iters int): acc[i] = fma(x, y, acc[i]) for
// chains independent accumulators, iters times.
func fmaKernel(name string, chains int, vec func(int) VecPhysical, doc string) {
	TEXT(name, NOSPLIT, "func(iters int)")
	Doc(name + " " + doc)
	n := Load(Param("iters"), GP64())
	x, y := vec(chains), vec(chains+1)
	for i := 0; i < chains+2; i++ {
		// VXORPS on a ZMM register would need AVX512DQ; VPXORD zeroes it
		// with AVX512F alone, the one feature the ZMM FMAs need.
		if vec(i).Size() == 64 {
			VPXORD(vec(i), vec(i), vec(i))
		} else {
			VXORPS(vec(i), vec(i), vec(i))
		}
	}
	TESTQ(n, n)
	JLE(LabelRef(name + "_done"))
	Label(name + "_loop")
	for i := 0; i < chains; i++ {
		VFMADD231PS(x, y, vec(i))
	}
	DECQ(n)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// copyKernel emits func name(dst, src []float32) copying 4 vectors of width
// floats per iteration.
func copyKernel(name string, block int, vec func(int) VecPhysical, doc string) {
	TEXT(name, NOSPLIT, "func(dst, src []float32)")
	Doc(name + " " + doc)
	dst := Load(Param("dst").Base(), GP64())
	src := Load(Param("src").Base(), GP64())
	n := Load(Param("src").Len(), GP64())
	width := block / 4 * 4 // bytes per vector
	SHRQ(U8(log2(block)), n)
	JZ(LabelRef(name + "_done"))
	Label(name + "_loop")
	for i := 0; i < 4; i++ {
		VMOVUPS(Mem{Base: src, Disp: i * width}, vec(i))
	}
	for i := 0; i < 4; i++ {
		VMOVUPS(vec(i), Mem{Base: dst, Disp: i * width})
	}
	ADDQ(U32(4*width), src)
	ADDQ(U32(4*width), dst)
	DECQ(n)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// addChain emits func addChain(iters int) uint64: 16 dependent register
// ADDs per iteration, so one iteration takes 16 core cycles on every x86 core
// with a 1-cycle ADD (all of them). Timing it estimates the clock. A
// register operand (not an immediate) keeps renamers from folding the chain.
func addChain() {
	TEXT("addChain", NOSPLIT, "func(iters int) uint64")
	Doc("addChain runs iters×16 dependent 64-bit register additions and returns the sum, to estimate the core clock (one cycle per addition).")
	n := Load(Param("iters"), GP64())
	acc, one := GP64(), GP64()
	XORQ(acc, acc)
	MOVQ(U32(1), one)
	TESTQ(n, n)
	JLE(LabelRef("addChain_done"))
	Label("addChain_loop")
	for i := 0; i < 16; i++ {
		ADDQ(one, acc)
	}
	DECQ(n)
	JNZ(LabelRef("addChain_loop"))
	Label("addChain_done")
	Store(acc, ReturnIndex(0))
	RET()
}

func log2(v int) int {
	for i := 0; i < 31; i++ {
		if 1<<i == v {
			return i
		}
	}
	panic(fmt.Sprintf("log2: %d is not a power of two", v))
}
