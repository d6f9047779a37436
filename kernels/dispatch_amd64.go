//go:build amd64 && !purego

package kernels

import "github.com/klauspost/cpuid/v2"

// The CPU features each amd64 tier's code uses. A test checks them against
// the "// Requires:" comments Avo writes above every generated function.
var (
	avx2Features   = []cpuid.FeatureID{cpuid.AVX, cpuid.AVX2, cpuid.FMA3}
	avx512Features = []cpuid.FeatureID{cpuid.AVX, cpuid.AVX2, cpuid.FMA3, cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512DQ, cpuid.AVX512VL}
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
