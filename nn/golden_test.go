package nn_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/optim"
	"github.com/simdformer/simdformer/nn/safetensors"
)

// Golden tests against PyTorch 1.13 (testdata/nn, written by
// scripts/golden_nn.py; see testdata/nn/README.md for the key conventions).
// Tolerances: forward 1e-5, gradients 1e-4, optimizer steps 1e-6, each
// relative to max(1, max |want|) of the tensor compared.
const (
	tolFwd   = 1e-5
	tolGrad  = 1e-4
	tolOptim = 1e-6
)

// maxErr records the largest error seen per kind, for the summary
// (go test -run Golden -v prints it).
var (
	maxErrMu sync.Mutex
	maxErr   = map[string]float64{}
)

type golden struct {
	name string
	ts   map[string]safetensors.Tensor
}

func loadGolden(t *testing.T, name string) golden {
	t.Helper()
	ts, _, err := safetensors.LoadFile(filepath.Join("..", "testdata", "nn", name+".safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	return golden{name, ts}
}

func (c golden) has(key string) bool { _, ok := c.ts[key]; return ok }

func (c golden) get(t *testing.T, key string) safetensors.Tensor {
	t.Helper()
	v, ok := c.ts[key]
	if !ok {
		t.Fatalf("%s: no tensor %q", c.name, key)
	}
	return v
}

// tensor returns a fresh leaf tensor holding a copy of key.
func (c golden) tensor(t *testing.T, key string) *nn.Tensor {
	v := c.get(t, key)
	return nn.NewTensor(append([]float32(nil), v.F32...), v.Shape...)
}

func (c golden) ints(t *testing.T, key string) []int {
	v := c.get(t, key)
	out := make([]int, len(v.F32))
	for i, f := range v.F32 {
		out[i] = int(f)
	}
	return out
}

func (c golden) bools(t *testing.T, key string) []bool {
	v := c.get(t, key)
	out := make([]bool, len(v.F32))
	for i, f := range v.F32 {
		out[i] = f != 0
	}
	return out
}

// check compares got with the golden tensor key within tol·max(1, max|want|)
// and records the error under kind.
func (c golden) check(t *testing.T, kind, key string, got []float32, tol float64) {
	t.Helper()
	want := c.get(t, key)
	if len(got) != len(want.F32) {
		t.Fatalf("%s: %s: got %d values, want %d (shape %v)", c.name, key, len(got), len(want.F32), want.Shape)
	}
	scale := 1.0
	for _, w := range want.F32 {
		scale = math.Max(scale, math.Abs(float64(w)))
	}
	worst, at := 0.0, -1
	for i := range got {
		g, w := float64(got[i]), float64(want.F32[i])
		if math.IsInf(w, 0) || math.IsNaN(w) {
			if g != w && !(math.IsNaN(g) && math.IsNaN(w)) {
				t.Errorf("%s: %s[%d] = %v, want %v", c.name, key, i, g, w)
			}
			continue
		}
		if e := math.Abs(g-w) / scale; e > worst || math.IsNaN(e) {
			worst, at = e, i
		}
	}
	kind += " " + strings.SplitN(c.name, "_", 2)[0]
	maxErrMu.Lock()
	maxErr[kind] = math.Max(maxErr[kind], worst)
	maxErrMu.Unlock()
	if !(worst <= tol) {
		t.Errorf("%s: %s: max error %.3g (relative to %.3g) at %d: got %v, want %v (tolerance %g)",
			c.name, key, worst, scale, at, got[at], want.F32[at], tol)
	}
}

// setParams loads every "param.<key>" into m's parameters, requiring an
// exact match of the key sets.
func (c golden) setParams(t *testing.T, m nn.Module, prefix string) {
	t.Helper()
	names := map[string]bool{}
	for _, nt := range nn.NamedParameters(m) {
		names[nt.Name] = true
		v := c.get(t, prefix+nt.Name)
		if fmt.Sprint(v.Shape) != fmt.Sprint(nt.Tensor.Shape) {
			t.Fatalf("%s: %s: golden shape %v, module shape %v", c.name, nt.Name, v.Shape, nt.Tensor.Shape)
		}
		copy(nt.Tensor.Data, v.F32)
		nt.Tensor.ZeroGrad()
	}
	for k := range c.ts {
		if strings.HasPrefix(k, "param.") && !names[strings.TrimPrefix(k, "param.")] {
			t.Errorf("%s: golden parameter %q is not among the module's named parameters", c.name, k)
		}
	}
}

func (c golden) checkParamGrads(t *testing.T, m nn.Module) {
	t.Helper()
	for _, nt := range nn.NamedParameters(m) {
		c.check(t, "grad", "grad.param."+nt.Name, nt.Tensor.Grad, tolGrad)
	}
}

// checkOptim runs one Adam and one AdamW step from the golden parameters
// with the golden gradients and compares with adam.param.* / adamw.param.*.
// start is the key prefix of the starting parameters.
func (c golden) checkOptim(t *testing.T, m nn.Module, start string) {
	t.Helper()
	for _, kind := range []string{"adam", "adamw"} {
		if !c.has(kind + ".param." + nn.NamedParameters(m)[0].Name) {
			continue
		}
		c.setParams(t, m, start)
		for _, nt := range nn.NamedParameters(m) {
			copy(nt.Tensor.Grad, c.get(t, "grad.param."+nt.Name).F32)
		}
		var opt optim.Optimizer
		if kind == "adam" {
			opt = nn.Must(optim.NewAdam(nn.Parameters(m), 0.01))
		} else {
			opt = nn.Must(optim.NewAdamW(nn.Parameters(m), 0.01))
		}
		opt.Step()
		for _, nt := range nn.NamedParameters(m) {
			c.check(t, "optim", kind+".param."+nt.Name, nt.Tensor.Data, tolOptim)
		}
	}
}

// leaf makes a golden input a leaf that collects its gradient.
func leaf(t *testing.T, c golden, key string) *nn.Tensor {
	x := c.tensor(t, key)
	x.RequiresGrad = true
	return x
}

func TestGoldenLinear(t *testing.T) {
	for _, name := range []string{"linear", "linear_nobias"} {
		t.Run(name, func(t *testing.T) {
			c := loadGolden(t, name)
			w := c.get(t, "param.weight")
			lin := nn.Must(nn.NewLinear(w.Shape[1], w.Shape[0], c.has("param.bias")))
			c.setParams(t, lin, "param.")
			x := leaf(t, c, "input.x")
			g := nn.NewGraph()
			y := lin.Forward(g, x)
			c.check(t, "forward", "output.y", y.Data, tolFwd)
			g.BackwardWith(y, c.get(t, "upstream.y").F32)
			c.check(t, "grad", "grad.input.x", x.Grad, tolGrad)
			c.checkParamGrads(t, lin)
			c.checkOptim(t, lin, "param.")
		})
	}
}

func TestGoldenLayerNorm(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  nn.LayerNormConfig
	}{
		{"layernorm", nn.LayerNormConfig{}},
		{"layernorm_noaffine", nn.LayerNormConfig{NoAffine: true}},
		{"layernorm_eps1e-12", nn.LayerNormConfig{Eps: 1e-12}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := loadGolden(t, tc.name)
			x := leaf(t, c, "input.x")
			ln := nn.Must(nn.NewLayerNorm(x.Dim(-1), tc.cfg))
			c.setParams(t, ln, "param.")
			g := nn.NewGraph()
			y := ln.Forward(g, x)
			// Row [0,0,:] has variance ≈ 1e-5: with eps = 1e-12 the output is
			// ill-conditioned (PyTorch itself is 1.3e-5 away from the float64
			// result there), so that file is held to 3e-5 against PyTorch and
			// to 1e-5 against a float64 reference.
			tol, kind := tolFwd, "forward"
			if tc.cfg.Eps == 1e-12 {
				tol, kind = 3e-5, "forward-ln-eps1e-12"
			}
			c.check(t, kind, "output.y", y.Data, tol)
			if e := layerNormF64Err(x, ln, y.Data); e > 1e-5 {
				t.Errorf("error against the float64 reference %.3g > 1e-5", e)
			} else {
				t.Logf("max error against the float64 reference: %.3g", e)
			}
			g.BackwardWith(y, c.get(t, "upstream.y").F32)
			c.check(t, "grad", "grad.input.x", x.Grad, tolGrad)
			c.checkParamGrads(t, ln)
			if ln.Weight != nil {
				c.checkOptim(t, ln, "param.")
			}
		})
	}
}

// layerNormF64Err returns the largest error of y, relative to max(1, |ref|),
// against LayerNorm computed in float64.
func layerNormF64Err(x *nn.Tensor, ln *nn.LayerNorm, y []float32) float64 {
	cols := x.Dim(-1)
	worst := 0.0
	for r := 0; r*cols < len(x.Data); r++ {
		row := x.Data[r*cols : (r+1)*cols]
		var mean, v float64
		for _, a := range row {
			mean += float64(a)
		}
		mean /= float64(cols)
		for _, a := range row {
			v += (float64(a) - mean) * (float64(a) - mean)
		}
		rstd := 1 / math.Sqrt(v/float64(cols)+float64(ln.Eps))
		for j, a := range row {
			ref := (float64(a) - mean) * rstd
			if ln.Weight != nil {
				ref = ref*float64(ln.Weight.Data[j]) + float64(ln.Bias.Data[j])
			}
			worst = math.Max(worst, math.Abs(float64(y[r*cols+j])-ref)/math.Max(1, math.Abs(ref)))
		}
	}
	return worst
}

func TestGoldenEmbedding(t *testing.T) {
	t.Run("padding", func(t *testing.T) {
		c := loadGolden(t, "embedding_padding")
		e := nn.Must(nn.NewEmbedding(10, 4, nn.EmbeddingConfig{UsePadding: true, PaddingIdx: 1}))
		c.setParams(t, e, "param.")
		ids := c.ints(t, "input.ids")
		g := nn.NewGraph()
		y := e.Forward(g, ids, 2, 5)
		c.check(t, "forward", "output.y", y.Data, tolFwd)
		g.BackwardWith(y, c.get(t, "upstream.y").F32)
		c.checkParamGrads(t, e)
		for j := 0; j < 4; j++ {
			if e.Weight.Grad[4+j] != 0 {
				t.Fatalf("padding row received gradient %v", e.Weight.Grad[4:8])
			}
		}
		c.checkOptim(t, e, "param.")
	})
	t.Run("maxnorm", func(t *testing.T) {
		c := loadGolden(t, "embedding_maxnorm")
		e := nn.Must(nn.NewEmbedding(10, 4, nn.EmbeddingConfig{MaxNorm: 1}))
		c.setParams(t, e, "param.")
		g := nn.NewGraph()
		y := e.Forward(g, c.ints(t, "input.ids"), 2, 5)
		c.check(t, "forward", "renormed.param.weight", e.Weight.Data, tolFwd)
		c.check(t, "forward", "output.y", y.Data, tolFwd)
		g.BackwardWith(y, c.get(t, "upstream.y").F32)
		c.checkParamGrads(t, e)
		c.checkOptim(t, e, "renormed.param.")
	})
}

func TestGoldenActivations(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func(g *nn.Graph, x *nn.Tensor) *nn.Tensor
	}{
		{"gelu", (*nn.Graph).GELU},
		{"gelu_tanh", (*nn.Graph).GELUTanh},
		{"relu", (*nn.Graph).ReLU},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := loadGolden(t, tc.name)
			x := leaf(t, c, "input.x")
			g := nn.NewGraph()
			y := tc.f(g, x)
			c.check(t, "forward", "output.y", y.Data, tolFwd)
			g.BackwardWith(y, c.get(t, "upstream.y").F32)
			c.check(t, "grad", "grad.input.x", x.Grad, tolGrad)
		})
	}
}

func TestGoldenCrossEntropy(t *testing.T) {
	for _, name := range []string{
		"ce_index_mean", "ce_index_sum", "ce_index_none",
		"ce_index_smooth_ignore_mean", "ce_index_smooth_ignore_sum", "ce_index_smooth_ignore_none",
		"ce_prob_mean", "ce_prob_sum", "ce_prob_none", "ce_prob_smooth_mean",
	} {
		t.Run(name, func(t *testing.T) {
			c := loadGolden(t, name)
			ce := nn.NewCrossEntropyLoss()
			switch {
			case strings.HasSuffix(name, "_sum"):
				ce.Reduction = nn.ReduceSum
			case strings.HasSuffix(name, "_none"):
				ce.Reduction = nn.ReduceNone
			}
			if strings.Contains(name, "smooth_ignore") {
				ce.LabelSmoothing = 0.1
			}
			if name == "ce_prob_smooth_mean" {
				ce.LabelSmoothing = 0.2
			}
			logits := leaf(t, c, "input.logits")
			g := nn.NewGraph()
			var loss *nn.Tensor
			if strings.HasPrefix(name, "ce_prob") {
				loss = ce.ForwardProbs(g, logits, c.tensor(t, "input.target"))
			} else {
				loss = ce.Forward(g, logits, c.ints(t, "input.target"))
			}
			c.check(t, "forward", "output.loss", loss.Data, tolFwd)
			if c.has("upstream.loss") {
				g.BackwardWith(loss, c.get(t, "upstream.loss").F32)
			} else {
				loss.Backward()
			}
			c.check(t, "grad", "grad.input.logits", logits.Grad, tolGrad)
		})
	}
}

func TestGoldenMSE(t *testing.T) {
	for _, r := range []nn.Reduction{nn.ReduceMean, nn.ReduceSum, nn.ReduceNone} {
		t.Run(r.String(), func(t *testing.T) {
			c := loadGolden(t, "mse_"+r.String())
			x, y := leaf(t, c, "input.input"), leaf(t, c, "input.target")
			g := nn.NewGraph()
			loss := g.MSE(x, y, r)
			c.check(t, "forward", "output.loss", loss.Data, tolFwd)
			if c.has("upstream.loss") {
				g.BackwardWith(loss, c.get(t, "upstream.loss").F32)
			} else {
				loss.Backward()
			}
			c.check(t, "grad", "grad.input.input", x.Grad, tolGrad)
			c.check(t, "grad", "grad.input.target", y.Grad, tolGrad)
		})
	}
}

func TestGoldenMultiheadAttention(t *testing.T) {
	for _, name := range []string{
		"mha_self", "mha_nobias", "mha_float_mask", "mha_bool_mask", "mha_mask3d", "mha_causal",
		"mha_key_padding", "mha_causal_key_padding", "mha_cross_packed", "mha_cross",
	} {
		t.Run(name, func(t *testing.T) {
			c := loadGolden(t, name)
			cfg := nn.MHAConfig{EmbedDim: 8, NumHeads: 2, NoBias: name == "mha_nobias"}
			if name == "mha_cross" {
				cfg.KDim, cfg.VDim = 6, 5
			}
			m := nn.Must(nn.NewMultiheadAttention(cfg))
			c.setParams(t, m, "param.")
			var q, k, v *nn.Tensor
			if c.has("input.x") {
				q = leaf(t, c, "input.x")
				k, v = q, q
			} else {
				q, k, v = leaf(t, c, "input.query"), leaf(t, c, "input.key"), leaf(t, c, "input.value")
			}
			var opt nn.AttentionOptions
			if c.has("input.attn_mask") {
				if c.get(t, "input.attn_mask").DType == "BOOL" {
					opt.BoolMask = c.bools(t, "input.attn_mask")
				} else {
					opt.Mask = c.get(t, "input.attn_mask").F32
				}
			}
			if c.has("input.key_padding_mask") {
				opt.KeyPadding = c.bools(t, "input.key_padding_mask")
			}
			opt.NeedWeights, opt.PerHeadWeights = true, true
			_, wh := m.Forward(nil, q, k, v, opt)
			c.check(t, "forward", "output.attn_weights_per_head", wh.Data, tolFwd)
			opt.PerHeadWeights = false
			g := nn.NewGraph()
			out, w := m.Forward(g, q, k, v, opt)
			c.check(t, "forward", "output.attn_output", out.Data, tolFwd)
			c.check(t, "forward", "output.attn_weights", w.Data, tolFwd)
			g.BackwardWith(out, c.get(t, "upstream.attn_output").F32)
			if c.has("input.x") {
				c.check(t, "grad", "grad.input.x", q.Grad, tolGrad)
			} else {
				c.check(t, "grad", "grad.input.query", q.Grad, tolGrad)
				c.check(t, "grad", "grad.input.key", k.Grad, tolGrad)
				c.check(t, "grad", "grad.input.value", v.Grad, tolGrad)
			}
			c.checkParamGrads(t, m)
			if name == "mha_causal" || name == "mha_causal_key_padding" {
				// The Causal flag gives what the float triu(-inf) mask gives.
				opt.Mask, opt.Causal = nil, true
				out, _ := m.Forward(nil, q, k, v, opt)
				c.check(t, "forward", "output.attn_output", out.Data, tolFwd)
			}
			c.checkOptim(t, m, "param.")
		})
	}
}

func TestGoldenMLPTraining(t *testing.T) {
	for _, name := range []string{"mlp_adam", "mlp_adam_l2", "mlp_adamw", "mlp_amsgrad"} {
		t.Run(name, func(t *testing.T) {
			c := loadGolden(t, name)
			model := nn.NewSequential(nn.Must(nn.NewLinear(4, 8, true)), nn.ReLU{}, nn.Must(nn.NewLinear(8, 3, true)))
			c.setParams(t, model, "param.")
			var opt *optim.Adam
			switch name {
			case "mlp_adam":
				opt = nn.Must(optim.NewAdam(nn.Parameters(model), 0.01))
			case "mlp_adam_l2":
				opt = nn.Must(optim.NewAdam(nn.Parameters(model), 0.01))
				opt.WeightDecay = 0.1
			case "mlp_adamw":
				opt = nn.Must(optim.NewAdamW(nn.Parameters(model), 0.01))
				opt.WeightDecay = 0.1
			case "mlp_amsgrad":
				opt = nn.Must(optim.NewAdam(nn.Parameters(model), 0.01))
				opt.AMSGrad = true
			}
			x, target := c.tensor(t, "input.x"), c.ints(t, "input.target")
			ce := nn.NewCrossEntropyLoss()
			g := nn.NewGraph()
			for step := 1; step <= 3; step++ {
				g.Reset()
				loss := ce.Forward(g, model.Forward(g, x), target)
				opt.ZeroGrad()
				loss.Backward()
				pre := fmt.Sprintf("step%d.", step)
				c.check(t, "forward", pre+"loss", loss.Data, tolFwd)
				for _, nt := range nn.NamedParameters(model) {
					c.check(t, "grad", pre+"grad.param."+nt.Name, nt.Tensor.Grad, tolGrad)
				}
				opt.Step()
				for _, nt := range nn.NamedParameters(model) {
					// Three steps compound the gradient error: allow 1e-5.
					c.check(t, "optim-3steps", pre+"param."+nt.Name, nt.Tensor.Data, 1e-5)
				}
			}
		})
	}
}

// TestMain prints the largest golden errors when run with -v.
func TestMain(m *testing.M) {
	code := m.Run()
	if testing.Verbose() && len(maxErr) > 0 {
		var kinds []string
		for k := range maxErr {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		fmt.Println("golden max errors (relative to max(1, |want|)):")
		for _, k := range kinds {
			fmt.Printf("  %-30s %.3g\n", k, maxErr[k])
		}
	}
	os.Exit(code)
}
