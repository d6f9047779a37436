package transformer

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/optim"
	"github.com/simdformer/simdformer/nn/safetensors"
)

// Golden tests against PyTorch 1.13: testdata/transformer/*.safetensors,
// written by scripts/golden_transformer.py (see the README there for the
// tensor names). Every module runs in eval mode.

const (
	goldenOutTol  = 1e-5 // forward outputs, absolute
	goldenGradTol = 1e-4 // gradients, relative to the tensor's largest magnitude (at least 1)
	goldenAdamTol = 1e-6 // parameters after one Adam step, absolute
)

type golden struct {
	path string
	ts   map[string]safetensors.Tensor
}

func loadGolden(t *testing.T, name string) *golden {
	t.Helper()
	path := filepath.Join("..", "testdata", "transformer", name)
	ts, _, err := safetensors.LoadFile(path)
	if err != nil {
		t.Fatalf("%s: %v (regenerate with /usr/bin/python3 scripts/golden_transformer.py)", path, err)
	}
	return &golden{path, ts}
}

func (g *golden) get(t *testing.T, key string) safetensors.Tensor {
	t.Helper()
	v, ok := g.ts[key]
	if !ok {
		t.Fatalf("%s has no tensor %q", g.path, key)
	}
	return v
}

// params returns the "param.*" tensors with the prefix removed.
func (g *golden) params(prefix string) map[string]safetensors.Tensor {
	out := map[string]safetensors.Tensor{}
	for k, v := range g.ts {
		if name, ok := strings.CutPrefix(k, prefix); ok {
			out[name] = v
		}
	}
	return out
}

func (g *golden) ints(t *testing.T, key string) []int {
	v := g.get(t, key)
	out := make([]int, len(v.F32))
	for i, f := range v.F32 {
		out[i] = int(f)
	}
	return out
}

func (g *golden) bools(t *testing.T, key string) []bool {
	v := g.get(t, key)
	out := make([]bool, len(v.F32))
	for i, f := range v.F32 {
		out[i] = f != 0
	}
	return out
}

// compare reports the largest |got - want| and fails when it exceeds tol
// times max(1, max|want|) for relative comparisons (rel) or tol otherwise.
func compare(t *testing.T, what string, got, want []float32, tol float64, rel bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	maxDiff, maxRef := 0.0, 1.0
	at := -1
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if d > maxDiff || math.IsNaN(d) {
			maxDiff, at = d, i
		}
		if rel {
			maxRef = max(maxRef, math.Abs(float64(want[i])))
		}
	}
	limit := tol * maxRef
	if !(maxDiff <= limit) {
		t.Errorf("%s: max |diff| %.3g at %d (got %v, want %v) exceeds %.3g", what, maxDiff, at, got[at], want[at], limit)
	} else if testing.Verbose() {
		t.Logf("%s: max |diff| %.3g (limit %.3g)", what, maxDiff, limit)
	}
}

// checkModuleCase loads params into m, runs forward on input.x, compares
// output.y, back-propagates upstream.y and compares grad.input.x and every
// grad.param.*.
func checkModuleCase(t *testing.T, gd *golden, m nn.Module, forward func(g *nn.Graph, x *nn.Tensor) *nn.Tensor) {
	t.Helper()
	if err := nn.LoadStateDict(m, gd.params("param."), nn.Strict); err != nil {
		t.Fatal(err)
	}
	nn.Eval(m)
	nn.ZeroGrad(m)
	xin := gd.get(t, "input.x")
	x := nn.NewTensor(append([]float32(nil), xin.F32...), xin.Shape...)
	x.RequiresGrad = true
	g := nn.NewGraph()
	y := forward(g, x)
	compare(t, "output.y", y.Data, gd.get(t, "output.y").F32, goldenOutTol, false)
	g.BackwardWith(y, gd.get(t, "upstream.y").F32)
	compare(t, "grad.input.x", x.Grad, gd.get(t, "grad.input.x").F32, goldenGradTol, true)
	checkParamGrads(t, gd, m)
}

func checkParamGrads(t *testing.T, gd *golden, m nn.Module) {
	t.Helper()
	named := nn.NamedParameters(m)
	if len(named) == 0 {
		t.Fatal("module has no parameters")
	}
	for _, nt := range named {
		compare(t, "grad.param."+nt.Name, nt.Tensor.Grad, gd.get(t, "grad.param."+nt.Name).F32, goldenGradTol, true)
	}
}

func TestGoldenTutorialBlock(t *testing.T) {
	gd := loadGolden(t, "block.safetensors")
	b, err := TutorialBlock(16, 4, 32, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	checkModuleCase(t, gd, b, noMask(b.ForwardWith))
}

func TestGoldenStackedBlocks(t *testing.T) {
	gd := loadGolden(t, "blocks3.safetensors")
	e, err := NewEncoder(3, BlockConfig{EmbedDim: 16, NumHeads: 4, FFDim: 32, AttnDropout: 0.1, FFNDropout: 0.1, ResidDropout: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	checkModuleCase(t, gd, e, noMask(e.ForwardWith))
}

func TestGoldenMaskedBlock(t *testing.T) {
	gd := loadGolden(t, "masked_block.safetensors")
	mask := gd.get(t, "input.mask").F32
	for _, causal := range []bool{false, true} {
		t.Run(fmt.Sprintf("causal=%v", causal), func(t *testing.T) {
			b, err := TutorialBlock(16, 2, 32, 0.1)
			if err != nil {
				t.Fatal(err)
			}
			if causal { // the Causal flag instead of the -inf mask
				b.Causal = true
				checkModuleCase(t, gd, b, noMask(b.ForwardWith))
				return
			}
			checkModuleCase(t, gd, b, func(g *nn.Graph, x *nn.Tensor) *nn.Tensor {
				return b.ForwardWith(g, x, nn.AttentionOptions{Mask: mask})
			})
		})
	}
}

func TestGoldenEncoderLayer(t *testing.T) {
	for _, c := range []struct {
		file      string
		act       Activation
		normFirst bool
		masked    bool
	}{
		{"encoder_layer_relu_post.safetensors", ReLU, false, false},
		{"encoder_layer_relu_pre.safetensors", ReLU, true, false},
		{"encoder_layer_gelu_post.safetensors", GELU, false, false},
		{"encoder_layer_gelu_pre.safetensors", GELU, true, false},
		{"encoder_layer_relu_post_masked.safetensors", ReLU, false, true},
	} {
		t.Run(strings.TrimSuffix(c.file, ".safetensors"), func(t *testing.T) {
			gd := loadGolden(t, c.file)
			b, err := NewBlock(BlockConfig{EmbedDim: 16, NumHeads: 4, FFDim: 32, Activation: c.act, NormFirst: c.normFirst,
				AttnDropout: 0.1, FFNDropout: 0.1, ResidDropout: 0.1, Keys: EncoderLayerKeys})
			if err != nil {
				t.Fatal(err)
			}
			var opt nn.AttentionOptions
			if c.masked {
				opt.Mask = gd.get(t, "input.src_mask").F32
				opt.KeyPadding = gd.bools(t, "input.src_key_padding_mask")
			}
			checkModuleCase(t, gd, b, func(g *nn.Graph, x *nn.Tensor) *nn.Tensor { return b.ForwardWith(g, x, opt) })
		})
	}
}

// TestGoldenClassifier: the tutorial's classifier — logits, the
// cross-entropy loss, every parameter gradient and the parameters after one
// Adam step (the tutorial's training step).
func TestGoldenClassifier(t *testing.T) {
	gd := loadGolden(t, "classifier.safetensors")
	m, err := NewClassifier(Config{VocabSize: 50, EmbedDim: 16, NumHeads: 4, FFDim: 32, NumClasses: 5, NumLayers: 2,
		AttnDropout: 0.1, FFNDropout: 0.1, ResidDropout: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	if err := nn.LoadStateDict(m, gd.params("param."), nn.Strict); err != nil {
		t.Fatal(err)
	}
	nn.Eval(m)
	ids := gd.ints(t, "input.ids")
	labels := gd.ints(t, "input.labels")
	shape := gd.get(t, "input.ids").Shape
	opt, err := optim.NewAdam(nn.Parameters(m), 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	g := nn.NewGraph()
	logits := m.Forward(g, ids, shape[0], shape[1])
	compare(t, "output.logits", logits.Data, gd.get(t, "output.logits").F32, goldenOutTol, false)
	loss := nn.NewCrossEntropyLoss().Forward(g, logits, labels)
	compare(t, "output.loss", loss.Data, gd.get(t, "output.loss").F32, goldenOutTol, false)
	opt.ZeroGrad()
	loss.Backward()
	checkParamGrads(t, gd, m)
	opt.Step()
	var keys []string
	for k := range gd.params("adam.param.") {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	state := nn.StateDict(m)
	if len(keys) != len(state) {
		t.Fatalf("%d adam.param tensors, the model has %d parameters", len(keys), len(state))
	}
	for _, k := range keys {
		got, want := state[k].Data, gd.get(t, "adam.param."+k).F32
		// The key projection's bias has an exactly zero gradient in exact
		// arithmetic (softmax ignores a constant added to every score of a
		// row): both sides hold rounding noise of ~1e-9 there, and Adam's
		// first step, lr·g/(|g|+eps), turns noise into a step of up to lr.
		// Those elements must only have moved by at most lr.
		before, grad := gd.get(t, "param."+k).F32, gd.get(t, "grad.param."+k).F32
		strictGot, strictWant := got[:0:0], want[:0:0]
		for i := range got {
			if math.Abs(float64(grad[i])) > goldenNoiseGrad {
				strictGot, strictWant = append(strictGot, got[i]), append(strictWant, want[i])
				continue
			}
			for _, v := range []float32{got[i], want[i]} {
				if d := math.Abs(float64(v - before[i])); d > 1.0001e-3 {
					t.Errorf("adam.param.%s[%d]: zero-gradient element moved by %g, more than lr", k, i, d)
				}
			}
		}
		compare(t, "adam.param."+k, strictGot, strictWant, goldenAdamTol, false)
	}
}

// goldenNoiseGrad bounds the rounding noise of a gradient that is zero in
// exact arithmetic (the largest gradients here are ~0.1).
const goldenNoiseGrad = 1e-7

// noMask adapts a Forward with attention options to a one-input function.
func noMask(f func(*nn.Graph, *nn.Tensor, nn.AttentionOptions) *nn.Tensor) func(*nn.Graph, *nn.Tensor) *nn.Tensor {
	return func(g *nn.Graph, x *nn.Tensor) *nn.Tensor { return f(g, x, nn.AttentionOptions{}) }
}
