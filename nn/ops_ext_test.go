package nn_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/simdformer/simdformer/nn"
)

// Tests of Tanh, Sigmoid, Exp, Log, Div, Transpose, Permute, Narrow, Slice,
// Concat and the BCE losses: finite-difference gradient checks, reference
// values, shape panics and a warm step without allocation. The PyTorch
// goldens are in ops_ext_golden_test.go.

func positive(x *nn.Tensor, lo float32) *nn.Tensor {
	for i, v := range x.Data {
		x.Data[i] = lo + float32(math.Abs(float64(v)))
	}
	return x
}

// probs maps x into (lo, 1-lo).
func probs(x *nn.Tensor, lo float32) *nn.Tensor {
	for i, v := range x.Data {
		s := 1 / (1 + math.Exp(-float64(v)))
		x.Data[i] = lo + (1-2*lo)*float32(s)
	}
	return x
}

func TestGradMathOps(t *testing.T) {
	r := newRand(21)
	a, b := randTensor(r, 1, 2, 3, 4), randTensor(r, 1, 2, 3, 4)
	p := positive(randTensor(r, 1, 2, 3, 4), 0.5)
	bc := positive(randTensor(r, 1, 3, 4), 0.7)
	sc := positive(randTensor(r, 1), 0.8)
	sc.Shape = []int{} // a scalar divisor, shape []
	cases := map[string]struct {
		in []*nn.Tensor
		f  func(g *nn.Graph) *nn.Tensor
	}{
		"Tanh":     {[]*nn.Tensor{a}, func(g *nn.Graph) *nn.Tensor { return g.Tanh(a) }},
		"Sigmoid":  {[]*nn.Tensor{a}, func(g *nn.Graph) *nn.Tensor { return g.Sigmoid(g.Scale(a, 2)) }},
		"Exp":      {[]*nn.Tensor{a}, func(g *nn.Graph) *nn.Tensor { return g.Exp(a) }},
		"Log":      {[]*nn.Tensor{p}, func(g *nn.Graph) *nn.Tensor { return g.Log(p) }},
		"Div":      {[]*nn.Tensor{a, p}, func(g *nn.Graph) *nn.Tensor { return g.Div(a, p) }},
		"DivBcast": {[]*nn.Tensor{a, bc}, func(g *nn.Graph) *nn.Tensor { return g.Div(a, bc) }},
		"DivScalar": {[]*nn.Tensor{b, sc}, func(g *nn.Graph) *nn.Tensor {
			return g.Div(b, sc)
		}},
		"DivSelf": {[]*nn.Tensor{p}, func(g *nn.Graph) *nn.Tensor { return g.Mul(g.Div(p, p), p) }},
		// Intermediates: the elementwise backwards hand buffers over.
		"Chain": {[]*nn.Tensor{a, p}, func(g *nn.Graph) *nn.Tensor {
			return g.Mul(g.Tanh(g.Add(a, a)), g.Log(g.Exp(g.Sigmoid(g.Div(a, p)))))
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { gradCheck(t, tc.in, tc.f) })
	}
}

// TestMathOpsValues: the ops are their kernels (spot values against
// float64), and Div broadcasts like Add.
func TestMathOpsValues(t *testing.T) {
	x := nn.NewTensor([]float32{-2, -0.5, 0.25, 1, 3, 0.1}, 2, 3)
	for name, c := range map[string]struct {
		f   func(g *nn.Graph, x *nn.Tensor) *nn.Tensor
		ref func(float64) float64
	}{
		"Tanh":    {(*nn.Graph).Tanh, math.Tanh},
		"Sigmoid": {(*nn.Graph).Sigmoid, func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }},
		"Exp":     {(*nn.Graph).Exp, math.Exp},
		"Log":     {(*nn.Graph).Log, math.Log},
	} {
		y := c.f(nil, x)
		for i, v := range x.Data {
			want := c.ref(float64(v))
			if d := math.Abs(float64(y.Data[i]) - want); !(d <= 3e-7*math.Max(1, math.Abs(want))) && !(math.IsNaN(want) && y.Data[i] != y.Data[i]) {
				t.Errorf("%s(%v) = %v, want %v", name, v, y.Data[i], want)
			}
		}
	}
	y := nn.NewGraph().Div(x, nn.NewTensor([]float32{2, -4, 0.5}, 3))
	want := []float32{-1, 0.125, 0.5, 0.5, -0.75, 0.2}
	for i := range want {
		if y.Data[i] != want[i] {
			t.Fatalf("Div broadcast: %v, want %v", y.Data, want)
		}
	}
}

func TestGradShapeOps(t *testing.T) {
	r := newRand(22)
	x := randTensor(r, 1, 2, 3, 4)
	x4 := randTensor(r, 1, 2, 3, 2, 5)
	sq := randTensor(r, 1, 3, 3)
	y := randTensor(r, 1, 2, 1, 4)
	z := randTensor(r, 1, 2, 5, 4)
	cases := map[string]struct {
		in []*nn.Tensor
		f  func(g *nn.Graph) *nn.Tensor
	}{
		"Transpose02":    {[]*nn.Tensor{x}, func(g *nn.Graph) *nn.Tensor { return g.Transpose(x, 0, 2) }},
		"TransposeLast2": {[]*nn.Tensor{x}, func(g *nn.Graph) *nn.Tensor { return g.Transpose(x, -1, -2) }},
		"TransposeSame":  {[]*nn.Tensor{x}, func(g *nn.Graph) *nn.Tensor { return g.Transpose(x, 1, 1) }},
		"Permute201":     {[]*nn.Tensor{x}, func(g *nn.Graph) *nn.Tensor { return g.Permute(x, 2, 0, 1) }},
		"Permute4D":      {[]*nn.Tensor{x4}, func(g *nn.Graph) *nn.Tensor { return g.Permute(x4, 0, 2, -1, 1) }},
		// Fresh gradient buffer (an intermediate) and accumulation into an
		// existing one (the GELU branch runs first in backward).
		"TransposeFresh": {[]*nn.Tensor{sq}, func(g *nn.Graph) *nn.Tensor { return g.Transpose(g.Scale(sq, 1.5), 0, 1) }},
		"TransposeAccum": {[]*nn.Tensor{sq}, func(g *nn.Graph) *nn.Tensor {
			s := g.Scale(sq, 1.5)
			return g.Add(g.Transpose(s, 0, 1), g.GELU(s))
		}},
		"Narrow":      {[]*nn.Tensor{x}, func(g *nn.Graph) *nn.Tensor { return g.Narrow(x, 1, 1, 2) }},
		"NarrowNeg":   {[]*nn.Tensor{x}, func(g *nn.Graph) *nn.Tensor { return g.Narrow(x, -1, -3, 2) }},
		"NarrowFirst": {[]*nn.Tensor{x}, func(g *nn.Graph) *nn.Tensor { return g.Narrow(g.Scale(x, 2), 0, 1, 1) }},
		"Slice":       {[]*nn.Tensor{x}, func(g *nn.Graph) *nn.Tensor { return g.Slice(x, 2, 1, -1) }},
		"Concat1":     {[]*nn.Tensor{x, y, z}, func(g *nn.Graph) *nn.Tensor { return g.Concat(1, x, y, z) }},
		"Concat0":     {[]*nn.Tensor{x}, func(g *nn.Graph) *nn.Tensor { return g.Concat(0, x, g.Tanh(x)) }},
		"ConcatLast":  {[]*nn.Tensor{x, y}, func(g *nn.Graph) *nn.Tensor { return g.Concat(-1, x, x, g.Narrow(x, 1, 0, 3)) }},
		"ConcatFresh": {[]*nn.Tensor{x, y}, func(g *nn.Graph) *nn.Tensor {
			s := g.Scale(y, 0.5)
			return g.Concat(1, s, g.Scale(x, 2), s)
		}},
		"SplitJoin": {[]*nn.Tensor{x}, func(g *nn.Graph) *nn.Tensor {
			// The shapes of multi-head attention: (N, L, H·d) -> (N, H, L, d) and back.
			h := g.Permute(g.Reshape(x, 2, 3, 2, 2), 0, 2, 1, 3)
			return g.Reshape(g.Transpose(g.GELU(h), 1, 2), 2, 3, 4)
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { gradCheck(t, tc.in, tc.f) })
	}
}

// TestShapeOpsValues pins the layouts against index arithmetic.
func TestShapeOpsValues(t *testing.T) {
	const A, B, C, D = 2, 3, 4, 5
	x := nn.Zeros(A, B, C, D)
	for i := range x.Data {
		x.Data[i] = float32(i)
	}
	at := func(a, b, c, d int) float32 { return x.Data[((a*B+b)*C+c)*D+d] }
	p := nn.NewGraph().Permute(x, 3, 1, 0, 2) // (D, B, A, C)
	if fmt.Sprint(p.Shape) != "[5 3 2 4]" {
		t.Fatalf("Permute shape %v", p.Shape)
	}
	tr := nn.NewGraph().Transpose(x, 0, -1) // (D, B, C, A)
	for a := range A {
		for b := range B {
			for c := range C {
				for d := range D {
					if got := p.Data[((d*B+b)*A+a)*C+c]; got != at(a, b, c, d) {
						t.Fatalf("Permute[%d %d %d %d] = %v, want %v", d, b, a, c, got, at(a, b, c, d))
					}
					if got := tr.Data[((d*B+b)*C+c)*A+a]; got != at(a, b, c, d) {
						t.Fatalf("Transpose[%d %d %d %d] = %v, want %v", d, b, c, a, got, at(a, b, c, d))
					}
				}
			}
		}
	}
	n := nn.NewGraph().Narrow(x, 2, 1, 2)
	s := nn.NewGraph().Slice(x, 2, 1, 3)
	cat := nn.NewGraph().Concat(2, nn.NewGraph().Narrow(x, 2, 0, 1), n, nn.NewGraph().Narrow(x, 2, 3, 1))
	if fmt.Sprint(n.Shape) != "[2 3 2 5]" || fmt.Sprint(cat.Shape) != fmt.Sprint(x.Shape) {
		t.Fatalf("Narrow shape %v, Concat shape %v", n.Shape, cat.Shape)
	}
	for i := range n.Data {
		if n.Data[i] != s.Data[i] {
			t.Fatalf("Slice(1, 3) differs from Narrow(1, 2) at %d", i)
		}
	}
	for i := range x.Data {
		if cat.Data[i] != x.Data[i] {
			t.Fatalf("Concat of the three narrows differs from x at %d: %v", i, cat.Data[i])
		}
	}
	if s := nn.NewGraph().Permute(nn.NewTensor([]float32{7}), []int{}...); s.Data[0] != 7 || len(s.Shape) != 0 {
		t.Errorf("Permute of a scalar: %v", s)
	}
	if e := nn.NewGraph().Narrow(x, 1, 3, 0); fmt.Sprint(e.Shape) != "[2 0 4 5]" {
		t.Errorf("empty Narrow shape %v", e.Shape)
	}
}

func TestOpsExtPanics(t *testing.T) {
	x := nn.Zeros(2, 3, 4)
	for _, c := range []struct {
		name string
		f    func()
		want string
	}{
		{"Div", func() { nn.NewGraph().Div(x, nn.Zeros(3)) }, "Div: shapes [2 3 4] and [3]"},
		{"Transpose", func() { nn.NewGraph().Transpose(x, 0, 3) }, "Transpose: dimensions 0 and 3 out of range for shape [2 3 4]"},
		{"PermuteLen", func() { nn.NewGraph().Permute(x, 0, 1) }, "Permute: dims [0 1] for shape [2 3 4]"},
		{"PermuteDup", func() { nn.NewGraph().Permute(x, 0, 1, -2) }, "not a permutation of the 3 dimensions of shape [2 3 4]"},
		{"Narrow", func() { nn.NewGraph().Narrow(x, 1, 2, 2) }, "Narrow: start 2, length 2 out of range for axis 1 (size 3) of shape [2 3 4]"},
		{"NarrowAxis", func() { nn.NewGraph().Narrow(x, 3, 0, 1) }, "Narrow: axis 3 out of range for shape [2 3 4]"},
		{"Slice", func() { nn.NewGraph().Slice(x, 2, 3, 1) }, "Slice: [3:1] out of range for axis 2 (size 4) of shape [2 3 4]"},
		{"Concat", func() { nn.NewGraph().Concat(1, x, nn.Zeros(2, 3, 5)) }, "Concat: shapes [2 3 4] and [2 3 5] differ outside axis 1"},
		{"ConcatRank", func() { nn.NewGraph().Concat(0, x, nn.Zeros(3, 4)) }, "Concat: shapes [2 3 4] and [3 4]"},
		{"ConcatNone", func() { nn.NewGraph().Concat(0) }, "Concat: no tensors"},
		{"BCEShape", func() { nn.NewBCELoss().Forward(nil, x, nn.Zeros(2, 3)) }, "BCELoss: shapes [2 3 4] and [2 3] differ"},
		{"BCERange", func() {
			nn.NewBCELoss().Forward(nil, nn.NewTensor([]float32{0.5, 1.5}, 2), nn.Zeros(2))
		}, "BCELoss: input[1] = 1.5 of input shape [2] is outside [0, 1]"},
		{"BCEWeight", func() {
			(&nn.BCELoss{Weight: nn.Zeros(3)}).Forward(nil, x, nn.Zeros(2, 3, 4))
		}, "BCELoss: input shape [2 3 4] and weight shape [3]"},
		{"BCEPosWeight", func() {
			(&nn.BCEWithLogitsLoss{PosWeight: nn.Zeros(5)}).Forward(nil, x, nn.Zeros(2, 3, 4))
		}, "BCEWithLogitsLoss: input shape [2 3 4] and pos_weight shape [5]"},
		{"BCEReduction", func() {
			(&nn.BCEWithLogitsLoss{Reduction: 7}).Forward(nil, x, nn.Zeros(2, 3, 4))
		}, "BCEWithLogitsLoss: unknown reduction Reduction(7)"},
	} {
		func() {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), c.want) {
					t.Errorf("%s: panic %v, want one containing %q", c.name, r, c.want)
				}
			}()
			c.f()
		}()
	}
}

func TestGradBCE(t *testing.T) {
	r := newRand(23)
	x := probs(randTensor(r, 1.5, 2, 3, 4), 0.05)
	tgt := probs(randTensor(r, 1, 2, 3, 4), 0) // soft targets: the target gradient is not zero
	logits := randTensor(r, 2, 2, 3, 4)
	w := positive(randTensor(r, 0.5, 3, 4), 0.2)
	pw := positive(randTensor(r, 1, 4), 0.3)
	for _, red := range []nn.Reduction{nn.ReduceMean, nn.ReduceSum, nn.ReduceNone} {
		t.Run("BCE-"+red.String(), func(t *testing.T) {
			l := &nn.BCELoss{Reduction: red}
			gradCheck(t, []*nn.Tensor{x, tgt}, func(g *nn.Graph) *nn.Tensor { return l.Forward(g, x, tgt) })
		})
		t.Run("BCEWeight-"+red.String(), func(t *testing.T) {
			l := &nn.BCELoss{Weight: w, Reduction: red}
			gradCheck(t, []*nn.Tensor{x, tgt}, func(g *nn.Graph) *nn.Tensor { return l.Forward(g, x, tgt) })
		})
		t.Run("BCEWithLogits-"+red.String(), func(t *testing.T) {
			l := &nn.BCEWithLogitsLoss{Reduction: red}
			gradCheck(t, []*nn.Tensor{logits, tgt}, func(g *nn.Graph) *nn.Tensor { return l.Forward(g, logits, tgt) })
		})
		t.Run("BCEWithLogitsWeights-"+red.String(), func(t *testing.T) {
			l := &nn.BCEWithLogitsLoss{Weight: w, PosWeight: pw, Reduction: red}
			gradCheck(t, []*nn.Tensor{logits, tgt}, func(g *nn.Graph) *nn.Tensor { return l.Forward(g, logits, tgt) })
		})
	}
	// BCE of Sigmoid(x) is BCEWithLogits of x, through the graph.
	t.Run("SigmoidThenBCE", func(t *testing.T) {
		l := nn.NewBCELoss()
		gradCheck(t, []*nn.Tensor{logits}, func(g *nn.Graph) *nn.Tensor { return l.Forward(g, g.Sigmoid(logits), tgt) })
	})
}

// TestBCEValues: reference values in float64, PyTorch's clamps, and the
// logits form's stability where the naive form overflows.
func TestBCEValues(t *testing.T) {
	x := nn.NewTensor([]float32{0.2, 0.9, 0, 1, 0.5, 1e-30}, 6)
	tg := nn.NewTensor([]float32{1, 0, 1, 0, 0.3, 0}, 6)
	y := (&nn.BCELoss{Reduction: nn.ReduceNone}).Forward(nil, x, tg)
	want := []float64{-math.Log(0.2), -math.Log(0.1), 100, 100, -(0.3*math.Log(0.5) + 0.7*math.Log(0.5)), 0}
	for i := range want {
		if d := math.Abs(float64(y.Data[i]) - want[i]); d > 2e-6*math.Max(1, want[i]) {
			t.Errorf("BCE(%v, %v) = %v, want %v", x.Data[i], tg.Data[i], y.Data[i], want[i])
		}
	}
	z := nn.NewTensor([]float32{-100, 100, -100, 100, 0, 3, -3, 1e-3}, 8)
	tz := nn.NewTensor([]float32{1, 0, 0, 1, 1, 0.25, 0.75, 1}, 8)
	pw := nn.NewTensor([]float32{2}, 1)
	yz := (&nn.BCEWithLogitsLoss{PosWeight: pw, Reduction: nn.ReduceNone}).Forward(nil, z, tz)
	for i, v := range z.Data {
		xv, tv := float64(v), float64(tz.Data[i])
		lsig := -math.Log1p(math.Exp(-math.Abs(xv))) + math.Min(xv, 0) // log σ(x)
		lsigNeg := lsig - xv                                           // log σ(-x)
		w := -(2*tv*lsig + (1-tv)*lsigNeg)
		if d := math.Abs(float64(yz.Data[i]) - w); !(d <= 2e-6*math.Max(1, math.Abs(w))) {
			t.Errorf("BCEWithLogits(%v, %v, pos_weight 2) = %v, want %v", v, tz.Data[i], yz.Data[i], w)
		}
	}
	// mean and sum reduce the per-element values.
	m := nn.NewBCEWithLogitsLoss().Forward(nil, z, tz).Item()
	s := (&nn.BCEWithLogitsLoss{Reduction: nn.ReduceSum}).Forward(nil, z, tz).Item()
	if d := math.Abs(float64(m)*8 - float64(s)); d > 1e-4*math.Abs(float64(s)) {
		t.Errorf("mean %v · 8 != sum %v", m, s)
	}
}

// TestOpsExtNoAllocs: a warm forward and backward through every new op
// allocates nothing (the graph's pool serves every buffer).
func TestOpsExtNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	r := newRand(24)
	a, b := randTensor(r, 1, 2, 3, 4), positive(randTensor(r, 1, 3, 4), 0.5)
	tgt := probs(randTensor(r, 1, 2, 3, 8), 0)
	w, pw := positive(randTensor(r, 1, 8), 0.1), positive(randTensor(r, 1, 8), 0.1)
	bce := &nn.BCELoss{Weight: w}
	bcel := &nn.BCEWithLogitsLoss{Weight: w, PosWeight: pw, Reduction: nn.ReduceSum}
	g := nn.NewGraph()
	step := func() {
		g.Reset()
		h := g.Div(g.Tanh(a), b)
		h = g.Mul(g.Exp(g.Sigmoid(h)), g.Log(g.Add(g.Exp(h), b)))
		h = g.Permute(g.Transpose(h, 0, 1), 2, 0, 1)                  // (4, 3, 2)
		h = g.Concat(0, g.Narrow(h, 0, 1, 2), h, g.Slice(h, 0, 0, 2)) // (8, 3, 2)
		h = g.Permute(h, 2, 1, 0)                                     // (2, 3, 8)
		loss := g.Add(bce.Forward(g, g.Sigmoid(h), tgt), bcel.Forward(g, h, tgt))
		loss.Backward()
	}
	step()
	if n := testing.AllocsPerRun(10, step); n != 0 {
		t.Errorf("a warm step through the new ops made %v allocations, want 0", n)
	}
}

// BenchmarkOpsExt: forward + backward of the new ops on 64K elements
// (4×64×8×32, the head split of multi-head attention for Permute), warm
// graph. MB/s counts the input once.
func BenchmarkOpsExt(b *testing.B) {
	r := newRand(25)
	x := randTensor(r, 1, 4, 64, 8, 32)
	d := positive(randTensor(r, 1, 8, 32), 0.5)
	tgt := probs(randTensor(r, 1, 4, 64, 8, 32), 0)
	bce := nn.NewBCEWithLogitsLoss()
	for _, c := range []struct {
		name string
		f    func(g *nn.Graph) *nn.Tensor
	}{
		{"Permute0213", func(g *nn.Graph) *nn.Tensor { return g.Permute(x, 0, 2, 1, 3) }},
		{"Transpose23", func(g *nn.Graph) *nn.Tensor { return g.Transpose(x, 2, 3) }},
		{"Concat", func(g *nn.Graph) *nn.Tensor { return g.Concat(2, x, x) }},
		{"Narrow", func(g *nn.Graph) *nn.Tensor { return g.Narrow(x, 2, 2, 4) }},
		{"Tanh", func(g *nn.Graph) *nn.Tensor { return g.Tanh(x) }},
		{"Sigmoid", func(g *nn.Graph) *nn.Tensor { return g.Sigmoid(x) }},
		{"Log", func(g *nn.Graph) *nn.Tensor { return g.Log(g.Exp(x)) }},
		{"DivBcast", func(g *nn.Graph) *nn.Tensor { return g.Div(x, d) }},
		{"BCEWithLogits", func(g *nn.Graph) *nn.Tensor { return bce.Forward(g, x, tgt) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			g := nn.NewGraph()
			b.SetBytes(int64(4 * len(x.Data)))
			for b.Loop() {
				g.Reset()
				y := c.f(g)
				if len(y.Data) == 1 {
					g.Backward(y)
				} else {
					g.BackwardWith(y, nil)
				}
			}
		})
	}
}
