//go:build amd64 && !purego

package kernels

import (
	"github.com/klauspost/cpuid/v2"

	"github.com/simdformer/simdformer/kernels/amd64"
)

// The CPU features each amd64 tier's code uses, exactly: TestRequiresWithinTier
// checks them against the "// Requires:" comments Avo writes above every
// generated function (and against the registers the functions name), so a
// kernel that starts using, say, AVX512BW fails the test until it is listed
// here. The AVX-512 code needs AVX-512 Foundation, VL (EVEX forms on
// XMM/YMM: the GEMM edge kernels) and VEX-encoded AVX instructions on
// registers 0-15 (VZEROUPPER, VEXTRACTF128, ...).
var (
	avx2Features   = amd64.AVX2Features()
	avx512Features = amd64.AVX512Features()
)

func initBackends() {
	if cpuid.CPU.Supports(avx2Features...) {
		b := &impl{name: "avx2"}
		setAVX2Gemm(b)
		setAVX2Rows(b)
		register(b)
	}
	if cpuid.CPU.Supports(avx512Features...) {
		b := &impl{name: "avx512"}
		setAVX512Gemm(b)
		setAVX512Rows(b)
		register(b)
	}
}
