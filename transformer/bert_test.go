package transformer

import (
	"flag"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/optim"
	"github.com/simdformer/simdformer/nn/safetensors"
)

var updateBERT = flag.Bool("update-bert", false, "rewrite testdata/bert/saved_by_go with SaveBERT / SaveBERTClassifier")

const bertDir = "../testdata/bert"

var bertCases = []struct {
	name       string
	classifier bool
}{{"model_gelu", false}, {"model_gelu_new_noprefix", false}, {"classifier_relu", true}, {"classifier_pretrain_keys", true}}

// bertGolden is one golden case: the loaded model (in eval mode), its
// classifier (nil for a BertModel case) and the golden tensors.
type bertGolden struct {
	name  string
	bert  *BERT
	cls   *BERTClassifier
	g     map[string]safetensors.Tensor
	batch int
	seq   int
}

func loadBERTCase(t testing.TB, name string, classifier bool) bertGolden {
	t.Helper()
	dir := filepath.Join(bertDir, name)
	c := bertGolden{name: name}
	var err error
	if classifier {
		if c.cls, err = LoadBERTClassifier(dir); err == nil {
			c.bert = c.cls.BERT
		}
	} else {
		c.bert, err = LoadBERT(dir)
	}
	if err != nil {
		t.Fatal(err)
	}
	nn.Eval(c.module())
	if c.g, _, err = safetensors.LoadFile(filepath.Join(dir, "golden.safetensors")); err != nil {
		t.Fatal(err)
	}
	c.batch, c.seq = c.g["input.ids"].Shape[0], c.g["input.ids"].Shape[1]
	return c
}

func (c bertGolden) module() nn.Module {
	if c.cls != nil {
		return c.cls
	}
	return c.bert
}

func (c bertGolden) ids() []int   { return ints(c.g["input.ids"]) }
func (c bertGolden) types() []int { return ints(c.g["input.token_types"]) }
func (c bertGolden) mask() []bool {
	m := make([]bool, len(c.g["input.attention_mask"].F32))
	for i, v := range c.g["input.attention_mask"].F32 {
		m[i] = v != 0
	}
	return m
}

// loss is the golden loss: mean cross-entropy of the logits for a
// classifier; Σ hidden·upstream.hidden over real tokens + Σ
// pooled·upstream.pooled for a BertModel.
func (c bertGolden) loss(g *nn.Graph) (loss, hidden, pooled, logits *nn.Tensor) {
	hidden, pooled = c.bert.Forward(g, c.ids(), c.types(), c.mask(), c.batch, c.seq)
	if c.cls != nil {
		logits = c.cls.Forward(g, c.ids(), c.types(), c.mask(), c.batch, c.seq)
		return nn.NewCrossEntropyLoss().Forward(g, logits, ints(c.g["input.labels"])), hidden, pooled, logits
	}
	up := append([]float32(nil), c.g["upstream.hidden"].F32...)
	H := hidden.Shape[2]
	for i, real := range c.mask() {
		if !real {
			clear(up[i*H : (i+1)*H])
		}
	}
	lh := g.Sum(g.Mul(hidden, g.Tensor(up, hidden.Shape...)))
	lp := g.Sum(g.Mul(pooled, g.Tensor(c.g["upstream.pooled"].F32, pooled.Shape...)))
	return g.Add(lh, lp), hidden, pooled, nil
}

// maxDiff returns the largest |got-want| and the largest |got-want|/|want|
// over |want| > 1e-3.
func maxDiff(got, want []float32) (abs, rel float64) {
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		abs = max(abs, d)
		if w := math.Abs(float64(want[i])); w > 1e-3 {
			rel = max(rel, d/w)
		}
	}
	return abs, rel
}

// TestBERTGoldenParams: the loaded parameters are the file's, bit for bit,
// under Hugging Face's names (prefix, gamma/beta, buffers and cls.* heads
// handled), in the layout order.
func TestBERTGoldenParams(t *testing.T) {
	for _, tc := range bertCases {
		c := loadBERTCase(t, tc.name, tc.classifier)
		nps := nn.NamedParameters(c.module())
		layout := bertLayout(&c.bert.Config, tc.classifier)
		if len(nps) != len(layout) {
			t.Fatalf("%s: %d parameters, layout has %d", tc.name, len(nps), len(layout))
		}
		for i, np := range nps {
			if k := strings.TrimPrefix(np.Name, "bert."); k != layout[i].key || !slices.Equal(np.Tensor.Shape, layout[i].shape) {
				t.Fatalf("%s: parameter %d is %s %v, layout %s %v", tc.name, i, np.Name, np.Tensor.Shape, layout[i].key, layout[i].shape)
			}
			want, ok := c.g["param."+np.Name]
			if !ok {
				t.Fatalf("%s: golden has no param.%s", tc.name, np.Name)
			}
			if !sameBits(np.Tensor.Data, want.F32) {
				t.Fatalf("%s: %s differs from the golden parameter", tc.name, np.Name)
			}
		}
	}
}

// TestBERTGoldenForward: eval-mode hidden states, pooled output, logits and
// loss against PyTorch; then the gradient of every parameter.
func TestBERTGoldenForward(t *testing.T) {
	for _, tc := range bertCases {
		t.Run(tc.name, func(t *testing.T) {
			c := loadBERTCase(t, tc.name, tc.classifier)
			g := nn.NewGraph()
			nn.ZeroGrad(c.module())
			loss, hidden, pooled, logits := c.loss(g)
			check := func(what string, got, want []float32, atol, rtol float64) {
				t.Helper()
				a, r := maxDiff(got, want)
				t.Logf("%s: max |diff| %.3g, max rel %.3g", what, a, r)
				closeTo(t, what, got, want, atol, rtol)
			}
			check("hidden", hidden.Data, c.g["output.hidden"].F32, 1e-5, 1e-5)
			check("pooled", pooled.Data, c.g["output.pooled"].F32, 1e-5, 1e-5)
			if logits != nil {
				check("logits", logits.Data, c.g["output.logits"].F32, 1e-5, 1e-5)
			}
			check("loss", loss.Data, c.g["output.loss"].F32, 1e-5, 1e-5)
			loss.Backward()
			worstA, worstR := 0.0, 0.0
			for _, np := range nn.NamedParameters(c.module()) {
				want := c.g["grad.param."+np.Name].F32
				a, r := maxDiff(np.Tensor.Grad, want)
				worstA, worstR = max(worstA, a), max(worstR, r)
				closeTo(t, "grad "+np.Name, np.Tensor.Grad, want, 1e-5, 1e-4)
				if np.Name == "embeddings.word_embeddings.weight" || np.Name == "bert.embeddings.word_embeddings.weight" {
					H := np.Tensor.Shape[1]
					pad := c.bert.Config.PadTokenID
					for _, v := range np.Tensor.Grad[pad*H : (pad+1)*H] {
						if v != 0 {
							t.Fatalf("padding row %d has gradient %g", pad, v)
						}
					}
				}
			}
			t.Logf("gradients: max |diff| %.3g, max rel %.3g", worstA, worstR)
		})
	}
}

// TestBERTGoldenAdamW: one AdamW step (lr 0.01, weight decay 0.01 on every
// parameter, as the script's torch.optim.AdamW(model.parameters())) from
// the golden gradients.
func TestBERTGoldenAdamW(t *testing.T) {
	for _, tc := range bertCases {
		c := loadBERTCase(t, tc.name, tc.classifier)
		nps := nn.NamedParameters(c.module())
		for _, np := range nps {
			copy(np.Tensor.Grad, c.g["grad.param."+np.Name].F32)
		}
		adamw := nn.Must(optim.NewAdamW(nn.Parameters(c.module()), 0.01))
		if adamw.WeightDecay != 0.01 {
			t.Fatalf("AdamW weight decay %v, the golden uses 0.01", adamw.WeightDecay)
		}
		adamw.Step()
		worst := 0.0
		for _, np := range nps {
			want := c.g["adamw.param."+np.Name].F32
			a, _ := maxDiff(np.Tensor.Data, want)
			worst = max(worst, a)
			// Adam's first step moves every weight by ≈ lr·sign(g): a loose
			// relative tolerance on tiny gradients, tight on the result.
			closeTo(t, tc.name+" adamw "+np.Name, np.Tensor.Data, want, 2e-5, 1e-5)
		}
		t.Logf("%s: AdamW step max |diff| %.3g", tc.name, worst)
	}
}

// TestBERTPaddingInvariance: each sentence of the padded golden batch, run
// alone without padding, gives bit for bit the hidden states (at its real
// positions), pooled output and logits it has in the batch: padded keys only
// ever add exact zeros.
func TestBERTPaddingInvariance(t *testing.T) {
	for _, tc := range bertCases {
		c := loadBERTCase(t, tc.name, tc.classifier)
		ids, types, mask := c.ids(), c.types(), c.mask()
		hidden, pooled := c.bert.Forward(nil, ids, types, mask, c.batch, c.seq)
		var logits *nn.Tensor
		if c.cls != nil {
			logits = c.cls.Forward(nil, ids, types, mask, c.batch, c.seq)
		}
		H := hidden.Shape[2]
		padded := 0
		for b := 0; b < c.batch; b++ {
			n := 0
			for n < c.seq && mask[b*c.seq+n] {
				n++
			}
			if n < c.seq {
				padded++
			}
			row := b * c.seq
			h1, p1 := c.bert.Forward(nil, ids[row:row+n], types[row:row+n], nil, 1, n)
			if !sameBits(h1.Data, hidden.Data[row*H:(row+n)*H]) || !sameBits(p1.Data, pooled.Data[b*H:(b+1)*H]) {
				t.Fatalf("%s: row %d (%d tokens): hidden or pooled differ alone and padded", tc.name, b, n)
			}
			if c.cls != nil {
				L := logits.Shape[1]
				l1 := c.cls.Forward(nil, ids[row:row+n], types[row:row+n], nil, 1, n)
				if !sameBits(l1.Data, logits.Data[b*L:(b+1)*L]) {
					t.Fatalf("%s: row %d: logits %v alone, %v padded", tc.name, b, l1.Data, logits.Data[b*L:(b+1)*L])
				}
			}
		}
		if padded == 0 {
			t.Fatalf("%s: no padded row in the golden batch", tc.name)
		}
	}
}
