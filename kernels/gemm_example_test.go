package kernels_test

import (
	"fmt"

	"github.com/simdformer/simdformer/kernels"
)

// A Linear layer's forward pass as torch computes it: Y = X·Wᵀ + Y, with the
// weight W stored out×in (row-major), so B is transposed.
func ExampleGemm_linearForward() {
	x := []float32{ // 2 tokens × 3 features
		1, 2, 3,
		4, 5, 6,
	}
	w := []float32{ // 2 outputs × 3 inputs
		1, 0, -1,
		0.5, 0.5, 0.5,
	}
	y := []float32{ // bias, broadcast to both rows; beta = 1 accumulates
		10, 20,
		10, 20,
	}
	kernels.Gemm(false, true, 2, 2, 3, 1, x, 3, w, 3, 1, y, 2)
	fmt.Println(y)
	// Output: [8 23 8 27.5]
}

// The weight gradient of the same layer, accumulated over a batch:
// dW += dYᵀ·X (A transposed, beta = 1).
func ExampleGemm_transposedA() {
	dy := []float32{ // 2 tokens × 2 outputs
		1, 0,
		0, 2,
	}
	x := []float32{ // 2 tokens × 3 inputs
		1, 2, 3,
		4, 5, 6,
	}
	dw := make([]float32, 2*3)
	kernels.Gemm(true, false, 2, 3, 2, 1, dy, 2, x, 3, 1, dw, 3)
	fmt.Println(dw)
	// Output: [1 2 3 8 10 12]
}
