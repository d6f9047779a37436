package kernels

import (
	"math"
	"testing"
)

// TestShapePanics: every public kernel (GEMM has its own tests) rejects
// mismatched lengths and shapes with a message naming the function and the
// offending lengths/shapes, under every backend and before touching memory.
func TestShapePanics(t *testing.T) {
	f := func(n int) []float32 { return make([]float32, n) }
	cases := []struct {
		name string
		call func()
		want []string // substrings of the panic message
	}{
		{"Exp", func() { Exp(f(3), f(4)) }, []string{"Exp", "3", "4"}},
		{"ReLU", func() { ReLU(f(5), f(4)) }, []string{"ReLU", "5", "4"}},
		{"ReLUBackward", func() { ReLUBackward(f(3), f(3), f(7)) }, []string{"ReLUBackward", "3", "7"}},
		{"GELU", func() { GELU(f(3), f(11)) }, []string{"GELU", "3", "11"}},
		{"GELUBackward", func() { GELUBackward(f(3), f(12), f(3)) }, []string{"GELUBackward", "3", "12"}},
		{"GELUTanh", func() { GELUTanh(f(13), f(3)) }, []string{"GELUTanh", "13", "3"}},
		{"GELUTanhBackward", func() { GELUTanhBackward(f(14), f(3), f(3)) }, []string{"GELUTanhBackward", "14", "3"}},
		{"Add", func() { Add(f(3), f(3), f(15)) }, []string{"Add", "3", "15"}},
		{"Sub", func() { Sub(f(16), f(3), f(3)) }, []string{"Sub", "16", "3"}},
		{"Mul", func() { Mul(f(3), f(17), f(3)) }, []string{"Mul", "3", "17"}},
		{"Scale", func() { Scale(f(3), f(18), 2) }, []string{"Scale", "3", "18"}},
		{"Axpy", func() { Axpy(2, f(19), f(3)) }, []string{"Axpy", "19", "3"}},
		{"Dot", func() { Dot(f(20), f(3)) }, []string{"Dot", "20", "3"}},
		{"Dropout", func() { Dropout(f(21), f(3), 0.5, 1, 0) }, []string{"Dropout", "21", "3"}},
		{"DropoutMask", func() { DropoutMask(make([]uint64, 2), 129, 0.5, 1, 0) }, []string{"DropoutMask", "129", "3", "2"}},

		{"Softmax dst", func() { Softmax(f(5), f(6), 2, 3, SoftmaxOptions{}) }, []string{"Softmax", "dst", "5", "2", "3", "6"}},
		{"Softmax src", func() { Softmax(f(6), f(7), 2, 3, SoftmaxOptions{}) }, []string{"Softmax", "src", "7", "2", "3"}},
		{"Softmax Mask", func() { Softmax(f(6), f(6), 2, 3, SoftmaxOptions{Mask: f(4)}) }, []string{"Softmax", "Mask", "4", "6", "3"}},
		{"Softmax Ignore", func() { Softmax(f(6), f(6), 2, 3, SoftmaxOptions{Ignore: make([]bool, 5)}) }, []string{"Softmax", "Ignore", "5"}},
		{"SoftmaxDropout drop", func() { SoftmaxDropout(f(6), f(2), f(6), 2, 3, SoftmaxOptions{Dropout: 0.1}) }, []string{"SoftmaxDropout", "drop", "2", "6"}},
		{"Softmax Dropout", func() { Softmax(f(6), f(6), 2, 3, SoftmaxOptions{Dropout: 0.1}) }, []string{"Softmax", "Dropout", "SoftmaxDropout"}},
		{"Softmax negative", func() { Softmax(nil, nil, -1, 3, SoftmaxOptions{}) }, []string{"Softmax", "-1", "3"}},
		{"SoftmaxBackward dx", func() { SoftmaxBackward(f(5), f(6), f(6), 2, 3, 1) }, []string{"SoftmaxBackward", "dx", "5", "2", "3"}},
		{"SoftmaxBackward y", func() { SoftmaxBackward(f(6), f(8), f(6), 2, 3, 1) }, []string{"SoftmaxBackward", "y", "8"}},
		{"SoftmaxBackward dy", func() { SoftmaxBackward(f(6), f(6), f(9), 2, 3, 1) }, []string{"SoftmaxBackward", "dy", "9"}},
		{"SoftmaxDropoutBackward", func() { SoftmaxDropoutBackward(f(6), f(6), f(10), 2, 3, 1, 0.5, 1, 0) }, []string{"SoftmaxDropoutBackward", "dy", "10", "2", "3"}},

		{"LayerNorm dst", func() { LayerNorm(f(5), nil, nil, f(6), nil, nil, 2, 3, 1e-5) }, []string{"LayerNorm", "dst", "5", "2", "3"}},
		{"LayerNorm src", func() { LayerNorm(f(6), nil, nil, f(7), nil, nil, 2, 3, 1e-5) }, []string{"LayerNorm", "src", "7"}},
		{"LayerNorm mean", func() { LayerNorm(f(6), f(3), nil, f(6), nil, nil, 2, 3, 1e-5) }, []string{"LayerNorm", "mean", "3", "2"}},
		{"LayerNorm rstd", func() { LayerNorm(f(6), nil, f(1), f(6), nil, nil, 2, 3, 1e-5) }, []string{"LayerNorm", "rstd", "1", "2"}},
		{"LayerNorm gamma", func() { LayerNorm(f(6), nil, nil, f(6), f(4), nil, 2, 3, 1e-5) }, []string{"LayerNorm", "gamma", "4", "3"}},
		{"LayerNorm beta", func() { LayerNorm(f(6), nil, nil, f(6), f(3), f(2), 2, 3, 1e-5) }, []string{"LayerNorm", "beta", "2", "3"}},
		{"LayerNorm beta without gamma", func() { LayerNorm(f(6), nil, nil, f(6), nil, f(3), 2, 3, 1e-5) }, []string{"LayerNorm", "beta", "gamma"}},
		{"LayerNorm eps", func() { LayerNorm(f(6), nil, nil, f(6), nil, nil, 2, 3, -1) }, []string{"LayerNorm", "eps", "-1"}},
		{"LayerNorm eps NaN", func() { LayerNorm(f(6), nil, nil, f(6), nil, nil, 2, 3, float32(math.NaN())) }, []string{"LayerNorm", "eps", "NaN"}},
		{"LayerNorm negative", func() { LayerNorm(nil, nil, nil, nil, nil, nil, 3, -2, 1e-5) }, []string{"LayerNorm", "3", "-2"}},
		{"LayerNormBackward dx", func() { LayerNormBackward(f(5), nil, nil, f(6), f(6), f(2), f(2), nil, 2, 3) }, []string{"LayerNormBackward", "dx", "5", "2", "3"}},
		{"LayerNormBackward dy", func() { LayerNormBackward(f(6), nil, nil, f(7), f(6), f(2), f(2), nil, 2, 3) }, []string{"LayerNormBackward", "dy", "7"}},
		{"LayerNormBackward src", func() { LayerNormBackward(f(6), nil, nil, f(6), f(8), f(2), f(2), nil, 2, 3) }, []string{"LayerNormBackward", "src", "8"}},
		{"LayerNormBackward mean", func() { LayerNormBackward(f(6), nil, nil, f(6), f(6), nil, f(2), nil, 2, 3) }, []string{"LayerNormBackward", "mean", "0", "2"}},
		{"LayerNormBackward rstd", func() { LayerNormBackward(f(6), nil, nil, f(6), f(6), f(2), f(5), nil, 2, 3) }, []string{"LayerNormBackward", "rstd", "5", "2"}},
		{"LayerNormBackward gamma", func() { LayerNormBackward(f(6), nil, nil, f(6), f(6), f(2), f(2), f(9), 2, 3) }, []string{"LayerNormBackward", "gamma", "9", "3"}},
		{"LayerNormBackward dgamma", func() { LayerNormBackward(f(6), f(4), nil, f(6), f(6), f(2), f(2), nil, 2, 3) }, []string{"LayerNormBackward", "dgamma", "4", "3"}},
		{"LayerNormBackward dbeta", func() { LayerNormBackward(f(6), nil, f(1), f(6), f(6), f(2), f(2), nil, 2, 3) }, []string{"LayerNormBackward", "dbeta", "1", "3"}},
	}
	forEachBackend(t, func(t *testing.T) {
		for _, c := range cases {
			mustPanic(t, c.name, c.call, c.want...)
		}
	})
}
