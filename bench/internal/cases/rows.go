package cases

import (
	"fmt"

	"github.com/simdformer/simdformer/bench/internal/schema"
	"github.com/simdformer/simdformer/kernels"
)

// The row kernels at the tutorial's shapes (128×512 is also the shape of the
// PyTorch figures in shared/ANCHORS.md) and at sizes past the caches.
func init() {
	register(
		rowCase("softmax", 128, 512, 8, true, func(r, c int) func() {
			src, dst := fill(r*c, 3, -4, 4), make([]float32, r*c)
			return func() { kernels.Softmax(dst, src, r, c, kernels.SoftmaxOptions{}) }
		}),
		// Attention scores: 8 heads × T=128 rows of 128 keys, scaled and causal.
		rowCase("softmax-causal", 1024, 128, 8, false, func(r, c int) func() {
			src, dst := fill(r*c, 4, -4, 4), make([]float32, r*c)
			opt := kernels.SoftmaxOptions{Scale: 0.125, Causal: true}
			return func() { kernels.Softmax(dst, src, r, c, opt) }
		}),
		// Softmax with fused attention dropout: reads x, writes y and dropout(y).
		rowCase("softmax-dropout", 128, 512, 12, false, func(r, c int) func() {
			src, dst, drop := fill(r*c, 5, -4, 4), make([]float32, r*c), make([]float32, r*c)
			opt := kernels.SoftmaxOptions{Dropout: 0.1, Seed: 7}
			return func() { kernels.SoftmaxDropout(dst, drop, src, r, c, opt) }
		}),
		rowCase("softmax-backward", 128, 512, 12, true, func(r, c int) func() {
			y, dy, dx := fill(r*c, 6, 0, 0.01), fill(r*c, 7, -1, 1), make([]float32, r*c)
			return func() { kernels.SoftmaxBackward(dx, y, dy, r, c, 1) }
		}),
		rowCase("layernorm", 128, 512, 8, true, layerNorm),
		rowCase("layernorm", 4096, 512, 8, false, layerNorm),
		rowCase("layernorm-backward", 128, 512, 12, true, func(r, c int) func() {
			src, dy, gamma := fill(r*c, 8, -2, 2), fill(r*c, 9, -1, 1), fill(c, 10, 0.5, 1.5)
			beta, y, dx := fill(c, 11, -0.1, 0.1), make([]float32, r*c), make([]float32, r*c)
			mean, rstd := make([]float32, r), make([]float32, r)
			dgamma, dbeta := make([]float32, c), make([]float32, c)
			kernels.LayerNorm(y, mean, rstd, src, gamma, beta, r, c, 1e-5)
			return func() { kernels.LayerNormBackward(dx, dgamma, dbeta, dy, src, mean, rstd, gamma, r, c) }
		}),
		rowCase("dropout", 128, 512, 8, true, dropout),
		rowCase("dropout", 1024, 1024, 8, false, dropout),
		rowCase("dropout", 16384, 1024, 8, false, dropout),
		rowCase("gelu", 128, 512, 8, true, func(r, c int) func() {
			src, dst := fill(r*c, 12, -4, 4), make([]float32, r*c)
			return func() { kernels.GELU(dst, src) }
		}),
		rowCase("gelu", 1024, 1024, 8, false, func(r, c int) func() {
			src, dst := fill(r*c, 13, -4, 4), make([]float32, r*c)
			return func() { kernels.GELU(dst, src) }
		}),
		rowCase("gelu-backward", 128, 512, 12, false, func(r, c int) func() {
			x, dy, dx := fill(r*c, 14, -4, 4), fill(r*c, 15, -1, 1), make([]float32, r*c)
			return func() { kernels.GELUBackward(dx, x, dy) }
		}),
		rowCase("gelu-tanh", 128, 512, 8, false, func(r, c int) func() {
			src, dst := fill(r*c, 16, -4, 4), make([]float32, r*c)
			return func() { kernels.GELUTanh(dst, src) }
		}),
	)
}

func layerNorm(r, c int) func() {
	src, gamma, beta := fill(r*c, 17, -2, 2), fill(c, 18, 0.5, 1.5), fill(c, 19, -0.1, 0.1)
	dst, mean, rstd := make([]float32, r*c), make([]float32, r), make([]float32, r)
	return func() { kernels.LayerNorm(dst, mean, rstd, src, gamma, beta, r, c, 1e-5) }
}

func dropout(r, c int) func() {
	src, dst := fill(r*c, 20, -1, 1), make([]float32, r*c)
	return func() { kernels.Dropout(dst, src, 0.1, 42, 0) }
}

// rowCase is a memory-bound kernel over rows×cols float32 that moves
// bytesPerElem bytes per element (reads plus writes).
func rowCase(kind string, rows, cols int, bytesPerElem int, quick bool, setup func(rows, cols int) func()) Case {
	name := fmt.Sprintf("%s/%dx%d", kind, rows, cols)
	n := int64(rows) * int64(cols)
	return Case{
		Name:       name,
		Group:      groupOf(kind),
		Unit:       schema.GBps,
		Work:       float64(n * int64(bytesPerElem)),
		WorkingSet: n * int64(bytesPerElem),
		Quick:      quick,
		Setup: func(impl string) (func(), error) {
			if !IsBackend(impl) {
				return nil, errUnknownImpl(name, impl)
			}
			return setup(rows, cols), nil
		},
	}
}

// groupOf maps "softmax-backward" to "softmax".
func groupOf(kind string) string {
	for i := 0; i < len(kind); i++ {
		if kind[i] == '-' {
			return kind[:i]
		}
	}
	return kind
}
