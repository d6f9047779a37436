//go:build !purego

package peak

func init() {
	// Advanced SIMD (NEON) is part of every arm64 CPU Go supports.
	fmaKernels = append(fmaKernels, fmaKernel{isa: "neon", flops: 24 * 4 * 2, run: fmaNEON})
	copyKernels = append(copyKernels, copyKernel{isa: "neon", block: 32, run: copyNEON})
	clockKernel = addChain
}
