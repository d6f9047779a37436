package nn_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/simdformer/simdformer/nn"
)

// Golden tests of the math and shape ops and the BCE losses against PyTorch
// 1.13 (testdata/nn/ops_*.safetensors, written by scripts/golden_nn_ops.py).
// Elementwise results and gradients must agree element by element within a
// few float32 ulp (both sides round differently, neither is exact); shape
// ops move values and must agree exactly; the losses within 1e-6 of each
// tensor's scale, max(1, max |want|).

// ulpsOff returns |got - want| in float32 ulp of want (the ulp of the
// smallest normal below it).
func ulpsOff(got, want float32) float64 {
	if got == want || (got != got && want != want) {
		return 0
	}
	w := math.Abs(float64(want))
	ulp := math.Max(math.Ldexp(1, math.Ilogb(w)-23), 0x1p-149)
	if w < 0x1p-126 {
		ulp = 0x1p-149
	}
	return math.Abs(float64(got)-float64(want)) / ulp
}

// checkULPs compares got with the golden tensor key element by element.
func (c golden) checkULPs(t *testing.T, key string, got []float32, maxULP float64) {
	t.Helper()
	want := c.get(t, key).F32
	if len(got) != len(want) {
		t.Fatalf("%s: %s: got %d values, want %d", c.name, key, len(got), len(want))
	}
	worst, at := 0.0, 0
	for i := range got {
		if d := ulpsOff(got[i], want[i]); d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
	}
	if testing.Verbose() {
		t.Logf("%s: %s: max %.2f ulp", c.name, key, worst)
	}
	if !(worst <= maxULP) {
		t.Errorf("%s: %s[%d] = %v, PyTorch %v: %.2f ulp apart (allowed %v)", c.name, key, at, got[at], want[at], worst, maxULP)
	}
}

// leaf returns golden input key as a fresh leaf requiring a gradient.
func (c golden) leaf(t *testing.T, key string) *nn.Tensor {
	x := c.tensor(t, key)
	x.RequiresGrad = true
	return x
}

// run does forward, backward with the file's upstream gradient (or 1 for a
// scalar) and returns the output; the inputs hold their gradients after.
func (c golden) run(t *testing.T, out string, f func(g *nn.Graph) *nn.Tensor) *nn.Tensor {
	t.Helper()
	g := nn.NewGraph()
	y := f(g)
	if c.has("upstream." + out) {
		g.BackwardWith(y, c.get(t, "upstream."+out).F32)
	} else {
		y.Backward()
	}
	return y
}

func TestGoldenMathOps(t *testing.T) {
	for _, c := range []struct {
		file string
		f    func(g *nn.Graph, x *nn.Tensor) *nn.Tensor
		fwd  float64 // ulp bounds of output and gradient
		grad float64
	}{
		// dx = dy·(1 - y²) turns tanh's 1-ulp difference in y into a few
		// ulp where |y| is near 1 (2|y|/(1-y²) amplification).
		{"ops_tanh", (*nn.Graph).Tanh, 1, 6},
		{"ops_sigmoid", (*nn.Graph).Sigmoid, 2, 3},
		{"ops_exp", (*nn.Graph).Exp, 1, 1},
		{"ops_log", (*nn.Graph).Log, 1, 1},
	} {
		t.Run(c.file, func(t *testing.T) {
			gd := loadGolden(t, c.file)
			x := gd.leaf(t, "input.x")
			y := gd.run(t, "y", func(g *nn.Graph) *nn.Tensor { return c.f(g, x) })
			gd.checkULPs(t, "output.y", y.Data, c.fwd)
			gd.checkULPs(t, "grad.input.x", x.Grad, c.grad)
		})
	}
	for _, file := range []string{"ops_div", "ops_div_bcast", "ops_div_scalar"} {
		t.Run(file, func(t *testing.T) {
			gd := loadGolden(t, file)
			a, b := gd.leaf(t, "input.a"), gd.leaf(t, "input.b")
			y := gd.run(t, "y", func(g *nn.Graph) *nn.Tensor { return g.Div(a, b) })
			gd.checkULPs(t, "output.y", y.Data, 0) // one IEEE division on both sides
			gd.checkULPs(t, "grad.input.a", a.Grad, 0)
			if len(b.Data) == len(a.Data) {
				gd.checkULPs(t, "grad.input.b", b.Grad, 2)
			} else { // a sum over the broadcast dimension
				gd.check(t, "grad", "grad.input.b", b.Grad, 1e-6)
			}
		})
	}
}

func TestGoldenShapeOps(t *testing.T) {
	for _, c := range []struct {
		file string
		in   []string
		f    func(g *nn.Graph, xs []*nn.Tensor) *nn.Tensor
	}{
		{"ops_transpose", []string{"x"}, func(g *nn.Graph, xs []*nn.Tensor) *nn.Tensor { return g.Transpose(xs[0], 0, 2) }},
		{"ops_permute", []string{"x"}, func(g *nn.Graph, xs []*nn.Tensor) *nn.Tensor { return g.Permute(xs[0], 2, 0, 3, 1) }},
		{"ops_concat", []string{"a", "b", "c"}, func(g *nn.Graph, xs []*nn.Tensor) *nn.Tensor { return g.Concat(1, xs...) }},
		{"ops_narrow", []string{"x"}, func(g *nn.Graph, xs []*nn.Tensor) *nn.Tensor { return g.Narrow(xs[0], 2, 1, 3) }},
	} {
		t.Run(c.file, func(t *testing.T) {
			gd := loadGolden(t, c.file)
			var xs []*nn.Tensor
			for _, k := range c.in {
				xs = append(xs, gd.leaf(t, "input."+k))
			}
			y := gd.run(t, "y", func(g *nn.Graph) *nn.Tensor { return c.f(g, xs) })
			if want := gd.get(t, "output.y").Shape; fmt.Sprint(y.Shape) != fmt.Sprint(want) {
				t.Fatalf("shape %v, PyTorch %v", y.Shape, want)
			}
			gd.checkULPs(t, "output.y", y.Data, 0)
			for i, k := range c.in {
				gd.checkULPs(t, "grad.input."+k, xs[i].Grad, 0)
			}
		})
	}
}

func TestGoldenBCE(t *testing.T) {
	for _, red := range []nn.Reduction{nn.ReduceMean, nn.ReduceSum, nn.ReduceNone} {
		for _, file := range []string{"ops_bce_", "ops_bce_weight_", "ops_bce_logits_", "ops_bce_logits_weights_"} {
			file += red.String()
			t.Run(file, func(t *testing.T) {
				gd := loadGolden(t, file)
				x, tg := gd.leaf(t, "input.x"), gd.leaf(t, "input.target")
				var w, pw *nn.Tensor
				if gd.has("input.weight") {
					w = gd.tensor(t, "input.weight")
				}
				if gd.has("input.pos_weight") {
					pw = gd.tensor(t, "input.pos_weight")
				}
				y := gd.run(t, "loss", func(g *nn.Graph) *nn.Tensor {
					if strings.HasPrefix(file, "ops_bce_logits") {
						return (&nn.BCEWithLogitsLoss{Weight: w, PosWeight: pw, Reduction: red}).Forward(g, x, tg)
					}
					return (&nn.BCELoss{Weight: w, Reduction: red}).Forward(g, x, tg)
				})
				// Within 1e-6 of the tensor's scale, not per-element ulp: the
				// gradients cancel (σ(x) - t, ln(1-x) - ln x), and where the
				// loss of the logits form is tiny (x = 30, t = 1: 9.4e-14)
				// PyTorch's log(1 + e^-30) rounds to 0, our log1p does not.
				gd.check(t, "fwd", "output.loss", y.Data, 1e-6)
				gd.check(t, "grad", "grad.input.x", x.Grad, 1e-6)
				gd.check(t, "grad", "grad.input.target", tg.Grad, 1e-6)
			})
		}
	}
}
