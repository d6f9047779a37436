package kernels_test

import (
	"fmt"

	"github.com/simdformer/simdformer/kernels"
)

// Multiply a 2×3 matrix by a 3×2 matrix: C = A·B.
func ExampleGemm() {
	a := []float32{
		1, 2, 3,
		4, 5, 6,
	}
	b := []float32{
		1, 0,
		0, 1,
		1, 1,
	}
	c := make([]float32, 2*2)
	kernels.Gemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
	fmt.Println(c)

	// C = A·Aᵀ (2×2), accumulated onto C (beta = 1).
	kernels.Gemm(false, true, 2, 2, 3, 1, a, 3, a, 3, 1, c, 2)
	fmt.Println(c)
	// Output:
	// [4 5 10 11]
	// [18 37 42 88]
}

// Softmax over each row of a 2×3 matrix.
func ExampleSoftmax() {
	x := []float32{
		1, 2, 3,
		0, 0, 0,
	}
	y := make([]float32, len(x))
	kernels.Softmax(y, x, 2, 3, kernels.SoftmaxOptions{})
	fmt.Printf("%.4f\n", y)
	// Output:
	// [0.0900 0.2447 0.6652 0.3333 0.3333 0.3333]
}

// Causal attention probabilities: row r sees columns 0..r, scores scaled by
// 1/sqrt(head dim). Masked positions are exactly 0.
func ExampleSoftmax_causal() {
	scores := []float32{
		4, 9, 9,
		2, 2, 9,
		0, 4, 8,
	}
	p := make([]float32, len(scores))
	kernels.Softmax(p, scores, 3, 3, kernels.SoftmaxOptions{Scale: 0.5, Causal: true})
	for r := 0; r < 3; r++ {
		fmt.Printf("%.4f\n", p[r*3:r*3+3])
	}
	// Output:
	// [1.0000 0.0000 0.0000]
	// [0.5000 0.5000 0.0000]
	// [0.0159 0.1173 0.8668]
}

// Normalize each row of a 2×4 matrix, keep the statistics for the backward
// pass, then compute the gradients.
func ExampleLayerNorm() {
	x := []float32{
		1, 2, 3, 4,
		-1, -1, 1, 1,
	}
	gamma := []float32{1, 1, 2, 2}
	beta := []float32{0, 0, 0, 1}
	y := make([]float32, len(x))
	mean, rstd := make([]float32, 2), make([]float32, 2)
	kernels.LayerNorm(y, mean, rstd, x, gamma, beta, 2, 4, 1e-5)
	fmt.Printf("y    %.4f\n     %.4f\n", y[:4], y[4:])
	fmt.Printf("mean %.4f rstd %.4f\n", mean, rstd)

	dy := []float32{1, 0, 0, 0, 0, 0, 0, 1}
	dx := make([]float32, len(x))
	dgamma, dbeta := make([]float32, 4), make([]float32, 4)
	kernels.LayerNormBackward(dx, dgamma, dbeta, dy, x, mean, rstd, gamma, 2, 4)
	fmt.Printf("dbeta %.4f\n", dbeta)
	// Output:
	// y    [-1.3416 -0.4472 0.8944 3.6833]
	//      [-1.0000 -1.0000 2.0000 3.0000]
	// mean [2.5000 0.0000] rstd [0.8944 1.0000]
	// dbeta [1.0000 0.0000 0.0000 1.0000]
}

// Dropout with drop probability 0.5: kept values are scaled by 2. The mask
// depends only on (seed, element index), so the same call on the upstream
// gradient is the backward pass, and splitting the call (offset continued)
// gives the same result.
func ExampleDropout() {
	x := []float32{1, 1, 1, 1, 1, 1, 1, 1}
	y := make([]float32, len(x))
	kernels.Dropout(y, x, 0.5, 42, 0)
	fmt.Println(y)

	z := make([]float32, len(x))
	kernels.Dropout(z[:3], x[:3], 0.5, 42, 0)
	kernels.Dropout(z[3:], x[3:], 0.5, 42, 3)
	fmt.Println(z)

	mask := make([]uint64, 1)
	kernels.DropoutMask(mask, len(x), 0.5, 42, 0)
	fmt.Printf("%08b\n", mask[0]) // bit j = element j kept
	// Output:
	// [2 2 0 2 0 0 0 0]
	// [2 2 0 2 0 0 0 0]
	// 00001011
}

// Force the pure-Go backend (the reference every backend matches bit for
// bit), then restore the previous choice. The environment variable
// SIMDFORMER_BACKEND does the same at program start.
func ExampleSetBackend() {
	prev := kernels.Backend()
	if err := kernels.SetBackend("purego"); err != nil {
		panic(err)
	}
	fmt.Println(kernels.Backend())
	err := kernels.SetBackend("nope")
	fmt.Println(err != nil)
	kernels.SetBackend(prev)
	// Output:
	// purego
	// true
}
