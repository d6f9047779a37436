package kernels

import (
	"fmt"
	"testing"
)

// Benchmarks for every non-GEMM kernel, one sub-benchmark per backend:
//
//	go test -run='^$' -bench='Softmax|LayerNorm|Dropout|GELU|Exp|Dot|Sum|Axpy' ./kernels/
//
// Row kernels report 8 bytes per element (one float read, one written), the
// convention of ANCHORS.md, so MB/s compares directly with memcpy and with
// PyTorch's numbers there. Reductions report 4 bytes per input element.
// Compare backends side by side in one run (the machine is shared and noisy).

// benchBackends runs fn as "backend=NAME/<shape>" for every backend.
func benchBackends(b *testing.B, shape string, fn func(b *testing.B)) {
	for _, name := range Backends() {
		b.Run("backend="+name+"/"+shape, func(b *testing.B) {
			prev := Backend()
			if err := SetBackend(name); err != nil {
				b.Fatal(err)
			}
			defer SetBackend(prev)
			b.ReportAllocs()
			fn(b)
		})
	}
}

// benchCopy is the memcpy baseline row for n elements at 8 bytes/element.
func benchCopy(b *testing.B, shape string, n int) {
	b.Run("copy/"+shape, func(b *testing.B) {
		src, dst := make([]float32, n), make([]float32, n)
		b.SetBytes(int64(8 * n))
		b.ReportAllocs()
		for b.Loop() {
			copy(dst, src)
		}
	})
}

var benchRowShapes = [][2]int{{128, 512}, {32, 768}, {8, 4096}}

func BenchmarkSoftmax(b *testing.B) {
	r := newRand(b)
	for _, sh := range benchRowShapes {
		rows, cols := sh[0], sh[1]
		shape := fmt.Sprintf("rows=%d,cols=%d", rows, cols)
		x := randNormal(r, rows*cols, 0, 3)
		y := make([]float32, rows*cols)
		benchCopy(b, shape, rows*cols)
		benchBackends(b, shape, func(b *testing.B) {
			b.SetBytes(int64(8 * rows * cols))
			for b.Loop() {
				Softmax(y, x, rows, cols, SoftmaxOptions{})
			}
		})
		benchBackends(b, shape+",causal,dropout=0.1", func(b *testing.B) {
			dd := make([]float32, rows*cols)
			b.SetBytes(int64(8 * rows * cols))
			for b.Loop() {
				SoftmaxDropout(y, dd, x, rows, cols, SoftmaxOptions{Scale: 0.125, Causal: true, Dropout: 0.1, Seed: 1})
			}
		})
	}
}

func BenchmarkSoftmaxBackward(b *testing.B) {
	r := newRand(b)
	rows, cols := 128, 512
	shape := fmt.Sprintf("rows=%d,cols=%d", rows, cols)
	y, dy, dx := make([]float32, rows*cols), randNormal(r, rows*cols, 0, 1), make([]float32, rows*cols)
	Softmax(y, randNormal(r, rows*cols, 0, 3), rows, cols, SoftmaxOptions{})
	benchBackends(b, shape, func(b *testing.B) {
		b.SetBytes(int64(8 * rows * cols))
		for b.Loop() {
			SoftmaxBackward(dx, y, dy, rows, cols, 1)
		}
	})
}

func BenchmarkLayerNorm(b *testing.B) {
	r := newRand(b)
	for _, sh := range benchRowShapes {
		rows, cols := sh[0], sh[1]
		shape := fmt.Sprintf("rows=%d,cols=%d", rows, cols)
		x := randNormal(r, rows*cols, 0, 1)
		y := make([]float32, rows*cols)
		gamma, beta := randNormal(r, cols, 1, 0.1), randNormal(r, cols, 0, 0.1)
		mean, rstd := make([]float32, rows), make([]float32, rows)
		benchBackends(b, shape, func(b *testing.B) {
			b.SetBytes(int64(8 * rows * cols))
			for b.Loop() {
				LayerNorm(y, mean, rstd, x, gamma, beta, rows, cols, 1e-5)
			}
		})
	}
}

func BenchmarkLayerNormBackward(b *testing.B) {
	r := newRand(b)
	rows, cols := 128, 512
	shape := fmt.Sprintf("rows=%d,cols=%d", rows, cols)
	x, dy, dx := randNormal(r, rows*cols, 0, 1), randNormal(r, rows*cols, 0, 1), make([]float32, rows*cols)
	gamma := randNormal(r, cols, 1, 0.1)
	mean, rstd := make([]float32, rows), make([]float32, rows)
	dg, db := make([]float32, cols), make([]float32, cols)
	LayerNorm(make([]float32, rows*cols), mean, rstd, x, gamma, nil, rows, cols, 1e-5)
	benchBackends(b, shape, func(b *testing.B) {
		b.SetBytes(int64(8 * rows * cols))
		for b.Loop() {
			LayerNormBackward(dx, dg, db, dy, x, mean, rstd, gamma, rows, cols)
		}
	})
}

// BenchmarkDropout: 1M elements (cache-resident on big L2/L3) and 64M
// (DRAM-bound; skipped with -short), next to a copy of the same size.
func BenchmarkDropout(b *testing.B) {
	for _, n := range []int{1 << 20, 1 << 26} {
		if n > 1<<20 && testing.Short() {
			continue
		}
		shape := fmt.Sprintf("n=%dM", n>>20)
		x, y := make([]float32, n), make([]float32, n)
		for i := range x {
			x[i] = float32(i & 1023)
		}
		benchCopy(b, shape, n)
		benchBackends(b, shape+",p=0.1", func(b *testing.B) {
			b.SetBytes(int64(8 * n))
			for b.Loop() {
				Dropout(y, x, 0.1, 42, 0)
			}
		})
		if n == 1<<20 {
			m := make([]uint64, n/64)
			benchBackends(b, shape+",mask", func(b *testing.B) {
				b.SetBytes(int64(4 * n)) // as if one float per element were read
				for b.Loop() {
					DropoutMask(m, n, 0.1, 42, 0)
				}
			})
		}
	}
}

// benchUnary benchmarks an elementwise kernel at the row-kernel shape.
func benchUnary(b *testing.B, fn func(dst, src []float32), lo, hi float32) {
	n := 128 * 512
	x := randFloats(newRand(b), n, lo, hi)
	y := make([]float32, n)
	benchBackends(b, fmt.Sprintf("n=%d", n), func(b *testing.B) {
		b.SetBytes(int64(8 * n))
		for b.Loop() {
			fn(y, x)
		}
	})
}

func BenchmarkExp(b *testing.B)      { benchUnary(b, Exp, -20, 5) }
func BenchmarkGELU(b *testing.B)     { benchUnary(b, GELU, -6, 6) }
func BenchmarkGELUTanh(b *testing.B) { benchUnary(b, GELUTanh, -6, 6) }
func BenchmarkReLU(b *testing.B)     { benchUnary(b, ReLU, -6, 6) }

func BenchmarkGELUBackward(b *testing.B) {
	dy := randNormal(newRand(b), 128*512, 0, 1)
	benchUnary(b, func(dst, src []float32) { GELUBackward(dst, src, dy) }, -6, 6)
}

func BenchmarkGELUTanhBackward(b *testing.B) {
	dy := randNormal(newRand(b), 128*512, 0, 1)
	benchUnary(b, func(dst, src []float32) { GELUTanhBackward(dst, src, dy) }, -6, 6)
}

// benchSizes are transformer-typical vector lengths plus a 1M stream.
var benchSizes = []int{64, 768, 4096, 1 << 20}

func BenchmarkDot(b *testing.B) {
	for _, n := range benchSizes {
		r := newRand(b, uint64(n))
		x, y := randNormal(r, n, 0, 1), randNormal(r, n, 0, 1)
		benchBackends(b, fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.SetBytes(int64(8 * n))
			var s float32
			for b.Loop() {
				s += Dot(x, y)
			}
			_ = s
		})
	}
}

func BenchmarkSum(b *testing.B) {
	for _, n := range benchSizes {
		x := randNormal(newRand(b, uint64(n)), n, 0, 1)
		benchBackends(b, fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.SetBytes(int64(4 * n))
			var s float32
			for b.Loop() {
				s += Sum(x)
			}
			_ = s
		})
	}
}

func BenchmarkMax(b *testing.B) {
	n := 4096
	x := randNormal(newRand(b), n, 0, 1)
	benchBackends(b, fmt.Sprintf("n=%d", n), func(b *testing.B) {
		b.SetBytes(int64(4 * n))
		var s float32
		for b.Loop() {
			s += Max(x)
		}
		_ = s
	})
}

func BenchmarkAxpy(b *testing.B) {
	for _, n := range benchSizes {
		r := newRand(b, uint64(n))
		x, y := randNormal(r, n, 0, 1), randNormal(r, n, 0, 1)
		benchBackends(b, fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.SetBytes(int64(12 * n)) // read x and y, write y
			for b.Loop() {
				Axpy(1e-7, x, y)
			}
		})
	}
}

func BenchmarkAdd(b *testing.B) {
	n := 128 * 512
	r := newRand(b)
	x, y, z := randNormal(r, n, 0, 1), randNormal(r, n, 0, 1), make([]float32, n)
	benchBackends(b, fmt.Sprintf("n=%d", n), func(b *testing.B) {
		b.SetBytes(int64(12 * n))
		for b.Loop() {
			Add(z, x, y)
		}
	})
}
