package kernels

// The NaN-bits decision (CANONICAL.md, "NaN bits"): which results are NaN
// is the same on every backend and CPU, and so are propagated payloads; a
// NaN generated from non-NaN operands has the CPU's default-NaN bits
// (0xffc00000 on amd64, 0x7fc00000 on arm64) on every backend of that CPU.
// This test pins all three statements on every backend.

import (
	"math"
	"runtime"
	"testing"
)

// defaultNaN returns the NaN this CPU's float32 arithmetic generates
// (Inf·0 computed at run time, not folded by the compiler).
func defaultNaN(inf, zero float32) uint32 { return math.Float32bits(inf * zero) }

// nanProbes are single-element kernel calls: each returns f(in) for one
// input (the other operands are ordinary numbers or the input itself).
func nanProbes() []struct {
	name string
	f    func(in float32) float32
} {
	one := func(fn func(y, x []float32)) func(float32) float32 {
		return func(in float32) float32 { y := []float32{0}; fn(y, []float32{in}); return y[0] }
	}
	return []struct {
		name string
		f    func(in float32) float32
	}{
		{"Add", one(func(y, x []float32) { Add(y, x, []float32{1}) })},
		{"Add (NaN second)", one(func(y, x []float32) { Add(y, []float32{1}, x) })},
		{"Sub", one(func(y, x []float32) { Sub(y, []float32{2}, x) })},
		{"Mul", one(func(y, x []float32) { Mul(y, x, []float32{3}) })},
		{"Scale", one(func(y, x []float32) { Scale(y, x, 2) })},
		{"Axpy", one(func(y, x []float32) { y[0] = 1; Axpy(2, x, y) })},
		{"Exp", one(Exp)},
		{"GELU", one(GELU)},
		{"GELUTanh", one(GELUTanh)},
		{"GELUBackward", one(func(y, x []float32) { GELUBackward(y, x, []float32{1}) })},
		{"GELUTanhBackward", one(func(y, x []float32) { GELUTanhBackward(y, x, []float32{1}) })},
		{"Dropout", one(func(y, x []float32) { Dropout(y, x, 0.5, 1, 0) })},
		{"Dropout p=1", one(func(y, x []float32) { Dropout(y, x, 1, 1, 0) })},
		{"Dot", func(in float32) float32 { return Dot([]float32{in, 1}, []float32{2, 3}) }},
		{"Sum", func(in float32) float32 { return Sum([]float32{1, in, 2}) }},
		{"Softmax", func(in float32) float32 {
			y := make([]float32, 2)
			Softmax(y, []float32{in, 1}, 1, 2, SoftmaxOptions{})
			return y[1]
		}},
		{"LayerNorm", func(in float32) float32 {
			y := make([]float32, 2)
			LayerNorm(y, nil, nil, []float32{in, 1}, nil, nil, 1, 2, 1e-5)
			return y[1]
		}},
		{"Gemm", func(in float32) float32 {
			c := []float32{0}
			Gemm(false, false, 1, 1, 2, 1, []float32{in, 1}, 2, []float32{2, 3}, 1, 0, c, 1)
			return c[0]
		}},
	}
}

func TestNaNBits(t *testing.T) {
	inf := float32(math.Inf(1))
	def := defaultNaN(inf, 0)
	switch runtime.GOARCH {
	case "amd64", "386":
		if def != 0xffc00000 {
			t.Fatalf("default NaN %#08x on %s, want 0xffc00000", def, runtime.GOARCH)
		}
	case "arm64", "riscv64":
		if def != 0x7fc00000 {
			t.Fatalf("default NaN %#08x on %s, want 0x7fc00000", def, runtime.GOARCH)
		}
	}
	// Generated NaNs: Inf·0, Inf−Inf and friends, no NaN among the inputs.
	y := []float32{0}
	generated := []struct {
		name string
		f    func() float32
	}{
		{"Mul Inf·0", func() float32 { Mul(y, []float32{inf}, []float32{0}); return y[0] }},
		{"Sub Inf−Inf", func() float32 { Sub(y, []float32{inf}, []float32{inf}); return y[0] }},
		{"Add Inf+−Inf", func() float32 { Add(y, []float32{inf}, []float32{-inf}); return y[0] }},
		{"Scale Inf·0", func() float32 { Scale(y, []float32{inf}, 0); return y[0] }},
		{"Dropout dropped Inf", func() float32 { Dropout(y, []float32{inf}, 1, 1, 0); return y[0] }},
		{"Dot", func() float32 { return Dot([]float32{inf, 1}, []float32{0, 1}) }},
		{"Sum", func() float32 { return Sum([]float32{inf, -inf}) }},
		{"Softmax +Inf", func() float32 { Softmax(y, []float32{inf}, 1, 1, SoftmaxOptions{}); return y[0] }},
		{"Gemm Inf·0", func() float32 {
			c := []float32{0}
			Gemm(false, false, 1, 1, 1, 1, []float32{inf}, 1, []float32{0}, 1, 0, c, 1)
			return c[0]
		}},
		{"LayerNorm Inf", func() float32 {
			y := make([]float32, 2)
			LayerNorm(y, nil, nil, []float32{inf, 1}, nil, nil, 1, 2, 1e-5)
			return y[1]
		}},
	}
	// Propagated NaNs: quiet payloads of either sign pass through exactly;
	// a signaling NaN is quieted by arithmetic (ReLU and ReLUBackward,
	// selects, pass it through unchanged).
	inputs := []struct{ in, want uint32 }{
		{0x7fc12345, 0x7fc12345}, {0xffc54321, 0xffc54321}, {0x7fc00000, 0x7fc00000},
		{0xffc00000, 0xffc00000}, {0x7f812345, 0x7fc12345},
	}
	forEachBackend(t, func(t *testing.T) {
		for _, g := range generated {
			if got := math.Float32bits(g.f()); got != def {
				t.Errorf("%s: generated NaN %#08x, want this CPU's default NaN %#08x", g.name, got, def)
			}
		}
		for _, p := range nanProbes() {
			for _, in := range inputs {
				got := math.Float32bits(p.f(math.Float32frombits(in.in)))
				if got != in.want {
					t.Errorf("%s(NaN %#08x) = %#08x, want %#08x", p.name, in.in, got, in.want)
				}
			}
		}
		for _, in := range inputs {
			x := []float32{math.Float32frombits(in.in)}
			y, dx := []float32{0}, []float32{0}
			ReLU(y, x)
			ReLUBackward(dx, []float32{1}, x)
			if got, gotDx := math.Float32bits(y[0]), math.Float32bits(dx[0]); got != in.in || gotDx != in.in {
				t.Errorf("ReLU(NaN %#08x) = %#08x, ReLUBackward(1, dy=NaN) = %#08x, want the input unchanged", in.in, got, gotDx)
			}
		}
		if got := math.Float32bits(Max([]float32{1, math.Float32frombits(0xffc54321), 2})); got != 0x7fc00000 {
			t.Errorf("Max with a NaN = %#08x, want 0x7fc00000", got)
		}
	})
	t.Logf("default NaN on %s: %#08x", runtime.GOARCH, def)
}
