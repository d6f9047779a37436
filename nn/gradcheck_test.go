package nn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/simdformer/simdformer/kernels"
	"github.com/simdformer/simdformer/nn"
)

// Finite-difference gradient checks: for L = Σ f(inputs) ⊙ u with a fixed
// random upstream u, Backward's gradient of every input element is compared
// with the central difference (L(x+h) - L(x-h)) / (2h), L accumulated in
// float64. Dropout runs with fixed seeds, so f is the same function at
// every evaluation.

func randTensor(r *rand.Rand, scale float32, shape ...int) *nn.Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	data := make([]float32, n)
	for i := range data {
		data[i] = scale * float32(r.NormFloat64())
	}
	x := nn.NewTensor(data, shape...)
	x.RequiresGrad = true
	return x
}

// awayFromZero pushes values out of (-m, m) so ReLU's kink is not crossed.
func awayFromZero(x *nn.Tensor, m float32) *nn.Tensor {
	for i, v := range x.Data {
		if v >= 0 && v < m {
			x.Data[i] = v + m
		} else if v < 0 && v > -m {
			x.Data[i] = v - m
		}
	}
	return x
}

func dotF64(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// gradCheck checks the gradients of f with respect to every tensor in
// inputs (which must have RequiresGrad set).
func gradCheck(t *testing.T, inputs []*nn.Tensor, f func(g *nn.Graph) *nn.Tensor) {
	t.Helper()
	const h = 1e-2
	r := rand.New(rand.NewPCG(7, 7))
	for _, x := range inputs {
		x.Grad = nil
		if !x.RequiresGrad {
			t.Fatal("gradCheck input without RequiresGrad")
		}
	}
	g := nn.NewGraph()
	out := f(g)
	up := make([]float32, len(out.Data))
	for i := range up {
		up[i] = float32(r.NormFloat64())
	}
	g.BackwardWith(out, up)
	analytic := make([][]float32, len(inputs))
	for i, x := range inputs {
		if x.Grad == nil {
			x.Grad = make([]float32, len(x.Data))
		}
		analytic[i] = append([]float32(nil), x.Grad...)
	}
	// The numeric passes run at the analytic pass's dropout step (0), so
	// they draw its masks.
	ng := nn.NewGraph()
	ng.NoGrad = true
	loss := func() float64 {
		ng.Reset()
		ng.SetStep(0)
		return dotF64(f(ng).Data, up)
	}
	for i, x := range inputs {
		num := make([]float64, len(x.Data))
		scale := 1.0
		for j := range x.Data {
			v := x.Data[j]
			x.Data[j] = v + h
			dp := float64(x.Data[j]) - float64(v)
			lp := loss()
			x.Data[j] = v - h
			dm := float64(v) - float64(x.Data[j])
			lm := loss()
			x.Data[j] = v
			num[j] = (lp - lm) / (dp + dm)
			scale = math.Max(scale, math.Abs(num[j]))
		}
		for j := range num {
			if e := math.Abs(float64(analytic[i][j])-num[j]) / scale; !(e <= 5e-3) {
				t.Errorf("input %d (shape %v) element %d: backward %v, finite difference %v (error %.3g relative to %.3g)",
					i, x.Shape, j, analytic[i][j], num[j], e, scale)
				return
			}
		}
	}
}

func TestGradLinearMatMul(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x, w, b := randTensor(r, 1, 2, 3, 5), randTensor(r, 0.5, 4, 5), randTensor(r, 0.5, 4)
	t.Run("Linear", func(t *testing.T) {
		gradCheck(t, []*nn.Tensor{x, w, b}, func(g *nn.Graph) *nn.Tensor { return g.Linear(x, w, b) })
	})
	t.Run("LinearNoBias", func(t *testing.T) {
		gradCheck(t, []*nn.Tensor{x, w}, func(g *nn.Graph) *nn.Tensor { return g.Linear(x, w, nil) })
	})
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			tr := nn.NoTrans
			if ta {
				tr |= nn.TransA
			}
			if tb {
				tr |= nn.TransB
			}
			a2, b2 := randTensor(r, 1, 3, 4), randTensor(r, 1, 4, 5)
			if ta {
				a2 = randTensor(r, 1, 4, 3)
			}
			if tb {
				b2 = randTensor(r, 1, 5, 4)
			}
			t.Run("MatMul2D", func(t *testing.T) {
				gradCheck(t, []*nn.Tensor{a2, b2}, func(g *nn.Graph) *nn.Tensor { return g.MatMul(a2, b2, tr) })
			})
			a3, b3 := randTensor(r, 1, 2, 3, 4), randTensor(r, 1, 2, 4, 5)
			if ta {
				a3 = randTensor(r, 1, 2, 4, 3)
			}
			if tb {
				b3 = randTensor(r, 1, 2, 5, 4)
			}
			t.Run("MatMulBatched", func(t *testing.T) {
				gradCheck(t, []*nn.Tensor{a3, b3}, func(g *nn.Graph) *nn.Tensor { return g.MatMul(a3, b3, tr) })
			})
			t.Run("MatMulShared", func(t *testing.T) {
				gradCheck(t, []*nn.Tensor{a3, b2}, func(g *nn.Graph) *nn.Tensor { return g.MatMul(a3, b2, tr) })
			})
		}
	}
}

func TestGradElementwise(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	a, b, c := randTensor(r, 1, 2, 3, 4), randTensor(r, 1, 2, 3, 4), randTensor(r, 1, 3, 4)
	cases := map[string]struct {
		in []*nn.Tensor
		f  func(g *nn.Graph) *nn.Tensor
	}{
		"Add":      {[]*nn.Tensor{a, b}, func(g *nn.Graph) *nn.Tensor { return g.Add(a, b) }},
		"AddBcast": {[]*nn.Tensor{a, c}, func(g *nn.Graph) *nn.Tensor { return g.Add(a, c) }},
		"AddSelf":  {[]*nn.Tensor{a}, func(g *nn.Graph) *nn.Tensor { return g.Add(a, a) }},
		"Sub":      {[]*nn.Tensor{a, b}, func(g *nn.Graph) *nn.Tensor { return g.Sub(a, b) }},
		"Mul":      {[]*nn.Tensor{a, b}, func(g *nn.Graph) *nn.Tensor { return g.Mul(a, b) }},
		"MulSelf":  {[]*nn.Tensor{a}, func(g *nn.Graph) *nn.Tensor { return g.Mul(a, a) }},
		"Scale":    {[]*nn.Tensor{a}, func(g *nn.Graph) *nn.Tensor { return g.Scale(a, -1.5) }},
		"ReLU":     {[]*nn.Tensor{awayFromZero(a, 0.05)}, func(g *nn.Graph) *nn.Tensor { return g.ReLU(a) }},
		"GELU":     {[]*nn.Tensor{a}, func(g *nn.Graph) *nn.Tensor { return g.GELU(a) }},
		"GELUTanh": {[]*nn.Tensor{a}, func(g *nn.Graph) *nn.Tensor { return g.GELUTanh(a) }},
		"Sum":      {[]*nn.Tensor{a}, func(g *nn.Graph) *nn.Tensor { return g.Sum(a) }},
		"Mean":     {[]*nn.Tensor{a}, func(g *nn.Graph) *nn.Tensor { return g.Mean(a) }},
		"MeanAxis": {[]*nn.Tensor{a}, func(g *nn.Graph) *nn.Tensor { return g.MeanAxis(a, 1) }},
		"Select":   {[]*nn.Tensor{a}, func(g *nn.Graph) *nn.Tensor { return g.Select(a, 1, 2) }},
		"Reshape":  {[]*nn.Tensor{a}, func(g *nn.Graph) *nn.Tensor { return g.GELU(g.Reshape(a, 6, -1)) }},
		"Softmax":  {[]*nn.Tensor{a}, func(g *nn.Graph) *nn.Tensor { return g.Softmax(a) }},
		"Chain":    {[]*nn.Tensor{a, b}, func(g *nn.Graph) *nn.Tensor { return g.Mul(g.GELU(g.Add(a, b)), g.Softmax(a)) }},
		"SoftmaxCausalMaskScale": {[]*nn.Tensor{a}, func(g *nn.Graph) *nn.Tensor {
			return g.SoftmaxWith(a, kernels.SoftmaxOptions{Scale: 0.7, Causal: true, Mask: []float32{0, 0.5, -1, float32(math.Inf(-1))}})
		}},
		"SoftmaxDropout": {[]*nn.Tensor{a}, func(g *nn.Graph) *nn.Tensor {
			return g.SoftmaxWith(a, kernels.SoftmaxOptions{Dropout: 0.4, Seed: 9, Offset: 3})
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { gradCheck(t, tc.in, tc.f) })
	}
}

func TestGradLayers(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	x := randTensor(r, 2, 2, 3, 6)
	t.Run("LayerNorm", func(t *testing.T) {
		ln := nn.Must(nn.NewLayerNorm(6, nn.LayerNormConfig{}))
		copy(ln.Weight.Data, randTensor(r, 1, 6).Data)
		copy(ln.Bias.Data, randTensor(r, 1, 6).Data)
		gradCheck(t, []*nn.Tensor{x, ln.Weight, ln.Bias}, func(g *nn.Graph) *nn.Tensor { return ln.Forward(g, x) })
	})
	t.Run("LayerNormNoAffine", func(t *testing.T) {
		ln := nn.Must(nn.NewLayerNorm(6, nn.LayerNormConfig{NoAffine: true}))
		gradCheck(t, []*nn.Tensor{x}, func(g *nn.Graph) *nn.Tensor { return ln.Forward(g, x) })
	})
	t.Run("EmbeddingPaddingWordDropout", func(t *testing.T) {
		e := nn.Must(nn.NewEmbedding(7, 3, nn.EmbeddingConfig{UsePadding: true, PaddingIdx: 2, WordDropout: 0.4}))
		ids := []int{0, 4, 5, 5, 6, 1, 4, 3}
		gradCheck(t, []*nn.Tensor{e.Weight}, func(g *nn.Graph) *nn.Tensor {
			return e.Forward(g, ids, 2, 4)
		})
		// The padding row is used by the forward but never gets gradient.
		e.Weight.ZeroGrad()
		g := nn.NewGraph()
		g.BackwardWith(e.Forward(g, []int{2, 2, 1}), []float32{1, 1, 1, 1, 1, 1, 1, 1, 1})
		if e.Weight.Grad[6] != 0 || e.Weight.Grad[7] != 0 || e.Weight.Grad[8] != 0 {
			t.Errorf("padding row got gradient %v", e.Weight.Grad[6:9])
		}
	})
	t.Run("Sequential", func(t *testing.T) {
		seq := nn.NewSequential(nn.Must(nn.NewLinear(6, 5, true)), nn.GELU{}, nn.Must(nn.NewLinear(5, 4, false)))
		in := append([]*nn.Tensor{x}, nn.Parameters(seq)...)
		gradCheck(t, in, func(g *nn.Graph) *nn.Tensor { return seq.Forward(g, x) })
	})
}

func TestGradDropoutFamily(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	x := randTensor(r, 1, 2, 3, 4, 5)
	x3 := randTensor(r, 1, 2, 6, 4)
	mods := map[string]struct {
		m  nn.Layer
		in *nn.Tensor
	}{
		"Dropout":             {nn.Must(nn.NewDropout(0.3)), x},
		"Dropout1d":           {nn.Must(nn.NewDropout1d(0.5)), x3},
		"Dropout2d":           {nn.Must(nn.NewDropout2d(0.5)), x},
		"AlphaDropout":        {nn.Must(nn.NewAlphaDropout(0.2)), x},
		"FeatureAlphaDropout": {nn.Must(nn.NewFeatureAlphaDropout(0.5)), x},
		"DropPath":            {nn.Must(nn.NewDropPath(0.5)), x},
		"LockedDropout":       {nn.Must(nn.NewLockedDropout(0.5)), x3},
	}
	inplace := nn.Must(nn.NewDropout(0.3))
	inplace.Inplace = true
	t.Run("DropoutInplace", func(t *testing.T) {
		gradCheck(t, []*nn.Tensor{x}, func(g *nn.Graph) *nn.Tensor {
			inplace.Reseed(5)
			return g.GELU(inplace.Forward(g, g.Add(x, x)))
		})
	})
	for name, tc := range mods {
		t.Run(name, func(t *testing.T) {
			site := tc.m.(interface{ Reseed(uint64) })
			gradCheck(t, []*nn.Tensor{tc.in}, func(g *nn.Graph) *nn.Tensor {
				site.Reseed(42) // the same mask at every evaluation
				return g.GELU(tc.m.Forward(g, tc.in))
			})
		})
	}
}

func TestGradLosses(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 11))
	logits := randTensor(r, 2, 2, 3, 5)
	targets := []int{0, 4, -100, 2, 2, 1}
	for _, red := range []nn.Reduction{nn.ReduceMean, nn.ReduceSum, nn.ReduceNone} {
		t.Run("CrossEntropy-"+red.String(), func(t *testing.T) {
			ce := nn.NewCrossEntropyLoss()
			ce.Reduction, ce.LabelSmoothing = red, 0.15
			gradCheck(t, []*nn.Tensor{logits}, func(g *nn.Graph) *nn.Tensor { return ce.Forward(g, logits, targets) })
		})
		t.Run("CrossEntropyProbs-"+red.String(), func(t *testing.T) {
			ce := nn.NewCrossEntropyLoss()
			ce.Reduction, ce.LabelSmoothing = red, 0.1
			p := nn.NewGraph().Softmax(randTensor(r, 1, 2, 3, 5)).Clone()
			gradCheck(t, []*nn.Tensor{logits}, func(g *nn.Graph) *nn.Tensor { return ce.ForwardProbs(g, logits, p) })
		})
		t.Run("MSE-"+red.String(), func(t *testing.T) {
			y := randTensor(r, 1, 2, 3, 5)
			gradCheck(t, []*nn.Tensor{logits, y}, func(g *nn.Graph) *nn.Tensor { return g.MSE(logits, y, red) })
		})
	}
}

func TestGradAttention(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 13))
	inf := float32(math.Inf(-1))
	N, L, S, E, H := 2, 3, 4, 8, 2
	self := randTensor(r, 1, N, S, E)
	q, k, v := randTensor(r, 1, N, L, E), randTensor(r, 1, N, S, 6), randTensor(r, 1, N, S, 5)
	for _, tc := range []struct {
		name  string
		cfg   nn.MHAConfig
		cross bool
		opt   nn.AttentionOptions
	}{
		{name: "self", cfg: nn.MHAConfig{EmbedDim: E, NumHeads: H}},
		{name: "self-dropout", cfg: nn.MHAConfig{EmbedDim: E, NumHeads: H, Dropout: 0.3}},
		{name: "self-causal-padding", cfg: nn.MHAConfig{EmbedDim: E, NumHeads: H, Dropout: 0.2},
			opt: nn.AttentionOptions{Causal: true, KeyPadding: []bool{false, false, false, true, false, true, true, true}}},
		{name: "self-floatmask-boolmask", cfg: nn.MHAConfig{EmbedDim: E, NumHeads: H},
			opt: nn.AttentionOptions{Mask: []float32{0, 1, -1, 0, 0.5, 0, 0, inf, 0, 0, 2, 0, inf, 0, 0, 0},
				BoolMask:        []bool{false, false, false, true, false, false, false, false, true, false, false, false, false, false, false, false},
				KeyPaddingFloat: []float32{0, 0, -1, 0, 0.5, 0, 0, 0}}},
		{name: "cross-kdim-vdim", cfg: nn.MHAConfig{EmbedDim: E, NumHeads: H, KDim: 6, VDim: 5, Dropout: 0.25}, cross: true},
		{name: "fully-masked-row", cfg: nn.MHAConfig{EmbedDim: E, NumHeads: H},
			opt: nn.AttentionOptions{KeyPadding: []bool{true, true, true, true, false, false, true, false}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := nn.Must(nn.NewMultiheadAttention(tc.cfg))
			if m.InProjBias != nil {
				copy(m.InProjBias.Data, randTensor(r, 0.3, 3*E).Data)
			}
			in := []*nn.Tensor{self}
			qq, kk, vv := self, self, self
			if tc.cross {
				in, qq, kk, vv = []*nn.Tensor{q, k, v}, q, k, v
			}
			in = append(in, nn.Parameters(m)...)
			gradCheck(t, in, func(g *nn.Graph) *nn.Tensor {
				m.Reseed(3)
				out, _ := m.Forward(g, qq, kk, vv, tc.opt)
				return out
			})
		})
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed)) }
