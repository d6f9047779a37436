//go:build !purego

package peak

import "github.com/klauspost/cpuid/v2"

func init() {
	if cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2, cpuid.FMA3) {
		fmaKernels = append(fmaKernels, fmaKernel{isa: "avx2", flops: 12 * 8 * 2, run: fmaAVX2})
		copyKernels = append(copyKernels, copyKernel{isa: "avx2", block: 32, run: copyAVX2})
	}
	// Each check lists the features of the kernels' "Requires:" lines in
	// peak_amd64.s.
	if cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX512F) {
		fmaKernels = append(fmaKernels, fmaKernel{isa: "avx512", flops: 24 * 16 * 2, run: fmaAVX512})
		copyKernels = append(copyKernels, copyKernel{isa: "avx512", block: 64, run: copyAVX512})
	}
	clockKernel = addChain
}
