//go:build amd64 && !purego

package kernels

// setAVX2Gemm and setAVX512Gemm install the GEMM micro-kernels of kernels/amd64.
func setAVX2Gemm(b *impl)   {}
func setAVX512Gemm(b *impl) {}
