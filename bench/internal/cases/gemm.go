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
		// The rest of a Linear layer's training step at 32×128 tokens
		// (d=512, ff=2048): input gradient dX = dY·W, weight gradient
		// dW = dYᵀ·X with K = tokens.
		gemmCaseT(4096, 512, 2048, false, false, false),
		gemmCaseT(2048, 512, 4096, true, false, false),
		// The 40-token block's weight gradient of its QKV projection, and
		// one head's P·V.
		gemmCaseT(1536, 512, 40, true, false, true),
		gemmCaseT(128, 64, 128, false, false, true),
	)
}

// gemmCase is C(m×n) = A(m×k)·B (k×n), or A·Bᵀ with B n×k when transB.
func gemmCase(m, n, k int, transB, quick bool) Case {
	return gemmCaseT(m, n, k, false, transB, quick)
}

// gemmCaseT is C(m×n) = op(A)·op(B) with A stored k×m when transA and B
// stored n×k when transB. Named gemm (A·B), gemm-nt (A·Bᵀ), gemm-tn (Aᵀ·B)
// or gemm-tt.
func gemmCaseT(m, n, k int, transA, transB, quick bool) Case {
	kind := "gemm"
	switch {
	case transA && transB:
		kind = "gemm-tt"
	case transA:
		kind = "gemm-tn"
	case transB:
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
			lda, ta := k, blas.NoTrans
			if transA {
				lda, ta = m, blas.Trans
			}
			ldb, tb := n, blas.NoTrans
			if transB {
				ldb, tb = k, blas.Trans
			}
			switch {
			case impl == "gonum":
				var g gonum.Implementation
				return func() { g.Sgemm(ta, tb, m, n, k, 1, a, lda, b, ldb, 0, c, n) }, nil
			case IsBackend(impl):
				return func() { kernels.Gemm(transA, transB, m, n, k, 1, a, lda, b, ldb, 0, c, n) }, nil
			}
			return nil, errUnknownImpl(name, impl)
		},
	}
}
