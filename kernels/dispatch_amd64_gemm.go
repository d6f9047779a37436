//go:build amd64 && !purego

package kernels

import "github.com/simdformer/simdformer/kernels/amd64"

// setAVX2Gemm installs the AVX2+FMA 6×16 GEMM micro-kernels of kernels/amd64
// and the few-row A·Bᵀ kernel GemmNTAVX2 (up to 64 rows × 8 columns).
func setAVX2Gemm(b *impl) {
	b.gemm = gemmKernel{
		mr: 6, nr: 16,
		kern:  amd64.GemmKernAVX2,
		tile:  amd64.GemmTileAVX2,
		packA: amd64.GemmPack6,
		packB: amd64.GemmPack16,
		copyB: amd64.GemmCopy16,
		copyA: amd64.GemmCopy6,
		nt:    amd64.GemmNTAVX2, ntRows: 64, ntCols: 8, ntVec: 8,
	}
}

// setAVX512Gemm installs the AVX-512 14×32 GEMM micro-kernels of kernels/amd64.
func setAVX512Gemm(b *impl) {
	b.gemm = gemmKernel{
		mr: 14, nr: 32,
		kern:  amd64.GemmKernAVX512,
		tile:  amd64.GemmTileAVX512,
		packA: amd64.GemmPack14AVX512,
		packB: amd64.GemmPack32,
		copyB: amd64.GemmCopy32,
		copyA: amd64.GemmCopy14,
		nt:    amd64.GemmNTAVX512, ntRows: 48, ntCols: 8, ntVec: 16,
	}
}
