package kernels

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// Accuracy of the pure-Go tanh, sigmoid, log and log1p against float64 on
// strided sweeps through every binade (dense natively, sparser in -short
// mode), the bounds their doc comments state, and their special values. They
// have no assembly versions of their own (Tanh and Sigmoid call the dispatched
// Exp): TestActivationBackendsSame pins their bits on every backend.

// Stated accuracy bounds in ulp of the float64 result (measured maxima in the
// comments, stride 1021).
const (
	tanhMaxULP    = 1.5 // measured 1.242
	sigmoidMaxULP = 2.5 // measured 2.225
	logMaxULP     = 1   // measured 0.783
	log1pMaxULP   = 2.5 // measured 2.414
)

func checkULP(t *testing.T, name string, xs []float32, f func(dst, src []float32), ref func(float64) float64,
	bound float64, skip func(x float32, want float64) bool) {
	t.Helper()
	ys := make([]float32, len(xs))
	f(ys, xs)
	worst, worstX, n := 0.0, float32(0), 0
	for i, x := range xs {
		want := ref(float64(x))
		if skip != nil && skip(x, want) {
			continue
		}
		n++
		if d := ulpDiff(ys[i], want); d > worst {
			worst, worstX = d, x
		}
	}
	t.Logf("%s: %d inputs, max error %.3f ulp at x=%v", name, n, worst, worstX)
	if !(worst <= bound) {
		t.Errorf("%s: max error %.3f ulp at x=%v (%#08x) exceeds %v ulp", name, worst, worstX, math.Float32bits(worstX), bound)
	}
}

func TestTanhAccuracy(t *testing.T) {
	xs := floatSweep(-20, 20, sweepStride())
	checkULP(t, "tanh", xs, Tanh, math.Tanh, tanhMaxULP, nil)
}

func TestSigmoidAccuracy(t *testing.T) {
	xs := floatSweep(-87.33, 30, sweepStride())
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	// Where the true value is subnormal the result's relative error is not
	// bounded (the canonical exp's flush); it is checked below.
	subnormal := func(_ float32, want float64) bool { return want < 0x1p-126 }
	checkULP(t, "sigmoid", xs, Sigmoid, sig, sigmoidMaxULP, subnormal)
}

func TestLogAccuracy(t *testing.T) {
	xs := floatSweep(0, math.MaxFloat32, sweepStride())
	checkULP(t, "log", xs, Log, math.Log, logMaxULP, nil)
	// Near 1, where ln x is small, the error is relative to the result.
	checkULP(t, "log near 1", floatSweep(0.5, 2, sweepStride()/2+1), Log, math.Log, logMaxULP, nil)
}

func TestLog1pAccuracy(t *testing.T) {
	xs := append(floatSweep(-1, 1e30, sweepStride()), floatSweep(-1e-3, 1e-3, sweepStride()/2+1)...)
	checkULP(t, "log1p", xs, Log1p, math.Log1p, log1pMaxULP, nil)
}

func TestActivationEdges(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	negz := float32(math.Copysign(0, -1))
	type tc struct{ x, want float32 }
	for _, c := range []struct {
		name  string
		f     func(dst, src []float32)
		cases []tc
	}{
		{"Tanh", Tanh, []tc{{0, 0}, {negz, negz}, {inf, 1}, {-inf, -1}, {10, 1}, {-10, -1}, {1e30, 1},
			{math.SmallestNonzeroFloat32, math.SmallestNonzeroFloat32}, {-1e-30, -1e-30}, {nan, nan}}},
		{"Sigmoid", Sigmoid, []tc{{0, 0.5}, {negz, 0.5}, {inf, 1}, {-inf, 0}, {17, 1}, {-88, 0}, {-1e30, 0},
			{1e30, 1}, {nan, nan}}},
		{"Log", Log, []tc{{1, 0}, {0, -inf}, {negz, -inf}, {inf, inf}, {-1, nan}, {-inf, nan}, {nan, nan},
			{float32(math.E), 1}, {math.SmallestNonzeroFloat32, float32(math.Log(math.SmallestNonzeroFloat32))}}},
		{"Log1p", Log1p, []tc{{0, 0}, {negz, negz}, {-1, -inf}, {-2, nan}, {inf, inf}, {nan, nan},
			{1e-10, 1e-10}, {-1e-10, -1e-10}}},
	} {
		xs := make([]float32, len(c.cases))
		for i, k := range c.cases {
			xs[i] = k.x
		}
		ys := make([]float32, len(xs))
		c.f(ys, xs)
		for i, k := range c.cases {
			requireSame(t, fmt.Sprintf("%s(%v)", c.name, k.x), ys[i], k.want)
		}
	}
	// Monotone across the tanh branch point and sigmoid's two forms.
	for _, f := range []struct {
		name string
		fn   func(dst, src []float32)
		at   float32
	}{{"Tanh", Tanh, tanhSmall}, {"Sigmoid", Sigmoid, 0}, {"Log", Log, logSqrtHalf}} {
		xs := []float32{math.Nextafter32(f.at, -inf), f.at, math.Nextafter32(f.at, inf)}
		ys := make([]float32, 3)
		f.fn(ys, xs)
		if !(ys[0] <= ys[1] && ys[1] <= ys[2]) {
			t.Errorf("%s not monotone around %v: %v", f.name, f.at, ys)
		}
	}
}

// TestActivationBackward: the backward kernels follow their stated formulas
// bit for bit, and Div is IEEE division.
func TestActivationBackward(t *testing.T) {
	xs := floatSweep(-6, 6, 1<<20+7)
	n := len(xs)
	dy := make([]float32, n)
	for i := range dy {
		dy[i] = float32(i%7) - 2.5
	}
	y, dx := make([]float32, n), make([]float32, n)
	Tanh(y, xs)
	TanhBackward(dx, y, dy)
	for i := range xs {
		want := float32(dy[i] * fma32(-y[i], y[i], 1)) // 1 - y² rounded once
		requireSame(t, fmt.Sprintf("TanhBackward at x=%v", xs[i]), dx[i], want)
	}
	Sigmoid(y, xs)
	SigmoidBackward(dx, y, dy)
	for i := range xs {
		s := 1 - y[i]
		want := float32(dy[i] * float32(y[i]*s))
		requireSame(t, fmt.Sprintf("SigmoidBackward at x=%v", xs[i]), dx[i], want)
	}
	Div(dx, dy, xs)
	for i := range xs {
		requireSame(t, fmt.Sprintf("Div(%v, %v)", dy[i], xs[i]), dx[i], float32(float64(dy[i])/float64(xs[i])))
	}
}

// TestActivationBackendsSame: under every backend (Tanh and Sigmoid call
// the dispatched Exp) the kernels give the bits of their one-value
// definitions, tanh32 and sigmoid32 (on the canonical exp), log32, log1p32.
func TestActivationBackendsSame(t *testing.T) {
	xs := floatSweep(-100, 100, sweepStride()*8+3)
	defs := []struct {
		name string
		fn   func(dst, src []float32)
		def  func(float32) float32
	}{{"Tanh", Tanh, tanh32}, {"Sigmoid", Sigmoid, sigmoid32}, {"Log", Log, log32}, {"Log1p", Log1p, log1p32}}
	forEachBackend(t, func(t *testing.T) {
		for _, d := range defs {
			got, want := make([]float32, len(xs)), make([]float32, len(xs))
			d.fn(got, xs)
			for i, x := range xs {
				want[i] = d.def(x)
			}
			requireBitsEqual(t, d.name, got, want)
			copy(got, xs) // in place
			d.fn(got, got)
			requireBitsEqual(t, d.name+" in place", got, want)
		}
	})
}

func TestActivationPanics(t *testing.T) {
	a, b := make([]float32, 3), make([]float32, 4)
	for name, fn := range map[string]func(){
		"Tanh": func() { Tanh(a, b) }, "Sigmoid": func() { Sigmoid(a, b) }, "Log": func() { Log(a, b) },
		"Log1p": func() { Log1p(a, b) }, "Div": func() { Div(a, a, b) },
		"TanhBackward": func() { TanhBackward(a, b, a) }, "SigmoidBackward": func() { SigmoidBackward(a, a, b) },
	} {
		msg, ok := panicMessage(fn)
		if !ok || !strings.Contains(msg, name) || !strings.Contains(msg, "=4") {
			t.Errorf("%s with lengths 3 and 4: panic %q", name, msg)
		}
	}
}

// BenchmarkActivations: n = 4096 values evenly spaced on [-8, 8) (Log and
// Log1p: their absolute values plus 1e-3), the range activations see; Exp
// (canonical, SIMD on amd64/arm64) for comparison.
func BenchmarkActivations(b *testing.B) {
	const n = 4096
	xs, pos := make([]float32, n), make([]float32, n)
	for i := range xs {
		xs[i] = -8 + 16*float32(i)/n
		pos[i] = float32(math.Abs(float64(xs[i]))) + 1e-3
	}
	ys := make([]float32, n)
	for _, f := range []struct {
		name string
		fn   func(dst, src []float32)
		in   []float32
	}{{"Tanh", Tanh, xs}, {"Sigmoid", Sigmoid, xs}, {"Log", Log, pos}, {"Log1p", Log1p, pos}, {"Exp", Exp, xs}} {
		b.Run(f.name+"/n=4096", func(b *testing.B) {
			b.SetBytes(8 * n)
			for b.Loop() {
				f.fn(ys, f.in)
			}
		})
	}
}
