package cases

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/simdformer/simdformer/bench/internal/schema"
	"github.com/simdformer/simdformer/kernels"
)

// GEMM shapes: squares, and the products of the tutorial's transformer
// (Linear layers store the weight out×in as PyTorch does, so a forward pass
// is X·Wᵀ: "nt").
func init() {
	register(
		gemmCase(256, 256, 256, false, true),
		gemmCase(512, 512, 512, false, true),
		gemmCase(1024, 1024, 1024, false, false),
		// Tutorial block, 4×10 tokens, d=512, ff=2048: feed-forward up and down.
		gemmCase(40, 2048, 512, true, true),
		gemmCase(40, 512, 2048, true, false),
		// 32×128 tokens through the feed-forward up projection.
		gemmCase(4096, 2048, 512, true, false),
		// Attention of one head, T=128, head dim 64: scores Q·Kᵀ.
		gemmCase(128, 128, 64, true, true),
	)
}

// gemmCase is C(m×n) = A(m×k)·B (k×n), or A·Bᵀ with B n×k when transB.
func gemmCase(m, n, k int, transB, quick bool) Case {
	kind := "gemm"
	if transB {
		kind = "gemm-nt"
	}
	name := fmt.Sprintf("%s/%dx%dx%d", kind, m, n, k)
	return Case{
		Name:       name,
		Group:      "gemm",
		Unit:       schema.GFLOPS,
		Work:       2 * float64(m) * float64(n) * float64(k),
		WorkingSet: 4 * int64(m*k+k*n+m*n),
		Quick:      quick,
		Peers:      []string{"gonum"},
		Setup: func(impl string) (func(), error) {
			a := fill(m*k, 1, -1, 1)
			b := fill(k*n, 2, -1, 1)
			c := make([]float32, m*n)
			ldb, tb := n, blas.NoTrans
			if transB {
				ldb, tb = k, blas.Trans
			}
			switch {
			case impl == "gonum":
				var g gonum.Implementation
				return func() { g.Sgemm(blas.NoTrans, tb, m, n, k, 1, a, k, b, ldb, 0, c, n) }, nil
			case IsBackend(impl):
				return func() { kernels.Gemm(false, transB, m, n, k, 1, a, k, b, ldb, 0, c, n) }, nil
			}
			return nil, errUnknownImpl(name, impl)
		},
	}
}
