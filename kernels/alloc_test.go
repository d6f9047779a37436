package kernels

import (
	"testing"
)

// TestZeroAllocs: no kernel allocates, under any backend, at sizes that
// cover the SIMD bodies and tails (and, for Gemm, packing).
func TestZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's shadow bookkeeping may allocate")
	}
	const rows, cols = 4, 1000
	n := rows * cols
	r := newRand(t)
	x, y, z := randNormal(r, n, 0, 1), randNormal(r, n, 0, 1), make([]float32, n)
	gamma, beta := randNormal(r, cols, 1, 0.1), randNormal(r, cols, 0, 0.1)
	mean, rstd := make([]float32, rows), make([]float32, rows)
	dg, db := make([]float32, cols), make([]float32, cols)
	mask := make([]uint64, (n+63)/64)
	sm := SoftmaxOptions{Scale: 0.5, Mask: y[:cols], Ignore: make([]bool, n), Causal: true, CausalOffset: 3,
		Dropout: 0.1, Seed: 1, Offset: 1<<32 - 100}
	drop := make([]float32, n)
	a, b, c := randNormal(r, 64*64, 0, 1), randNormal(r, 64*64, 0, 1), make([]float32, 64*64)
	calls := []struct {
		name string
		fn   func()
	}{
		{"Exp", func() { Exp(z, x) }},
		{"ReLU", func() { ReLU(z, x) }},
		{"ReLUBackward", func() { ReLUBackward(z, x, y) }},
		{"GELU", func() { GELU(z, x) }},
		{"GELUBackward", func() { GELUBackward(z, x, y) }},
		{"GELUTanh", func() { GELUTanh(z, x) }},
		{"GELUTanhBackward", func() { GELUTanhBackward(z, x, y) }},
		{"Add", func() { Add(z, x, y) }},
		{"Sub", func() { Sub(z, x, y) }},
		{"Mul", func() { Mul(z, x, y) }},
		{"Scale", func() { Scale(z, x, 3) }},
		{"Axpy", func() { Axpy(0.5, x, z) }},
		{"Dot", func() { Dot(x, y) }},
		{"Sum", func() { Sum(x) }},
		{"Max", func() { Max(x) }},
		{"Dropout", func() { Dropout(z, x, 0.1, 1, 1<<32-100) }},
		{"DropoutMask", func() { DropoutMask(mask, n, 0.1, 1, 1<<32-100) }},
		{"Softmax", func() { Softmax(z, x, rows, cols, SoftmaxOptions{}) }},
		{"Softmax options", func() { SoftmaxDropout(z, drop, x, rows, cols, sm) }},
		{"SoftmaxBackward", func() { SoftmaxBackward(z, x, y, rows, cols, 0.5) }},
		{"SoftmaxDropoutBackward", func() { SoftmaxDropoutBackward(z, x, y, rows, cols, 0.5, 0.1, 1, 7) }},
		{"LayerNorm", func() { LayerNorm(z, mean, rstd, x, gamma, beta, rows, cols, 1e-5) }},
		{"LayerNormBackward", func() { LayerNormBackward(z, dg, db, y, x, mean, rstd, gamma, rows, cols) }},
		{"Gemm", func() { Gemm(false, true, 64, 64, 64, 1, a, 64, b, 64, 0, c, 64) }},
	}
	forEachBackend(t, func(t *testing.T) {
		for _, c := range calls {
			c.fn() // warm up pools and lazily sized buffers
			if got := testing.AllocsPerRun(20, c.fn); got != 0 {
				t.Errorf("%s: %v allocations per call, want 0", c.name, got)
			}
		}
	})
}
