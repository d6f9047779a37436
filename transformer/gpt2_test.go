package transformer

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/optim"
	"github.com/simdformer/simdformer/nn/safetensors"
)

var updateGPT2 = flag.Bool("update-gpt2", false, "rewrite testdata/gpt2/saved_by_go with SaveGPT2")

const gpt2Dir = "../testdata/gpt2"

type gpt2Golden struct {
	name string
	m    *LM
	g    map[string]safetensors.Tensor
}

func loadGPT2Case(t *testing.T, name string) gpt2Golden {
	t.Helper()
	m, err := LoadGPT2(filepath.Join(gpt2Dir, name))
	if err != nil {
		t.Fatal(err)
	}
	nn.Eval(m)
	g, _, err := safetensors.LoadFile(filepath.Join(gpt2Dir, name+".golden.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	return gpt2Golden{name, m, g}
}

func ints(t safetensors.Tensor) []int {
	out := make([]int, len(t.F32))
	for i, v := range t.F32 {
		out[i] = int(v)
	}
	return out
}

// closeTo compares with |got-want| <= atol + rtol·|want|.
func closeTo(t *testing.T, what string, got, want []float32, atol, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	worst, at := 0.0, -1
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if d > atol+rtol*math.Abs(float64(want[i])) && d > worst {
			worst, at = d, i
		}
		if math.IsNaN(float64(got[i])) {
			t.Fatalf("%s: NaN at %d", what, i)
		}
	}
	if at >= 0 {
		t.Fatalf("%s: |diff| %g at %d (got %g, want %g)", what, worst, at, got[at], want[at])
	}
}

// fileLayout returns the model tensor's values (or gradient) in the file's
// layout (Conv1D weights transposed to (in, out)).
func fileLayout(p gpt2Param, grad bool) []float32 {
	src := p.t.Data
	if grad {
		src = p.t.Grad
	}
	if !p.transpose {
		return src
	}
	out := make([]float32, len(src))
	transposeInto(out, src, p.shape[1], p.shape[0])
	return out
}

// goldenKey finds key in the golden map with or without the prefix.
func (c gpt2Golden) get(t *testing.T, prefix, key string) []float32 {
	t.Helper()
	if v, ok := c.g[prefix+key]; ok {
		return v.F32
	}
	if v, ok := c.g[prefix+"transformer."+key]; ok {
		return v.F32
	}
	if key == "lm_head.weight" {
		return nil
	}
	t.Fatalf("%s: golden has no %s%s", c.name, prefix, key)
	return nil
}

func TestGPT2GoldenLogits(t *testing.T) {
	for _, name := range []string{"tiny", "untied", "noscale_f16", "relu_bf16"} {
		t.Run(name, func(t *testing.T) {
			c := loadGPT2Case(t, name)
			ids := ints(c.g["ids"])
			B, T := c.g["ids"].Shape[0], c.g["ids"].Shape[1]
			g := nn.NewGraph()
			logits := c.m.Forward(g, ids, B, T)
			closeTo(t, "logits", logits.Data, c.g["logits"].F32, 2e-5, 1e-4)
			ce := nn.NewCrossEntropyLoss()
			loss := ce.Forward(g, logits, ShiftLabels(nil, ints(c.g["labels"]), B, T))
			closeTo(t, "loss", loss.Data, c.g["loss"].F32, 1e-5, 1e-5)

			// The padded batch: compare real positions only (padded query rows
			// attend to nothing here; Hugging Face fills them differently).
			pm := c.g["pad.mask"]
			pb, pt := pm.Shape[0], pm.Shape[1]
			mask := make([]bool, pb*pt)
			for i, v := range pm.F32 {
				mask[i] = v != 0
			}
			pos := ints(c.g["pad.pos"])
			if got := PositionIDsFromPadding(nil, invert(mask), pb, pt); !slices.Equal(got, pos) {
				t.Fatalf("PositionIDsFromPadding = %v, want %v", got, pos)
			}
			g.Reset()
			nn.ZeroGrad(c.m)
			pl := c.m.ForwardWith(g, Tokens{IDs: ints(c.g["pad.ids"]), Batch: pb, Seq: pt, Padding: invert(mask)}, LMOptions{PositionIDs: pos})
			V := pl.Shape[2]
			want := c.g["pad.logits"].F32
			for i, keep := range mask {
				if keep {
					closeTo(t, "padded logits", pl.Data[i*V:(i+1)*V], want[i*V:(i+1)*V], 2e-5, 1e-4)
				}
			}
			ploss := ce.Forward(g, pl, ShiftLabels(nil, ints(c.g["pad.labels"]), pb, pt))
			closeTo(t, "padded loss", ploss.Data, c.g["pad.loss"].F32, 1e-5, 1e-5)
			ploss.Backward()
			cfg := *c.m.GPT2
			checked := 0
			for _, p := range gpt2Layout(&cfg, c.m) {
				for _, k := range []string{"pad.grad." + p.key, "pad.grad.transformer." + p.key} {
					if w, ok := c.g[k]; ok {
						closeTo(t, k, fileLayout(p, true), w.F32, 1e-6, 1e-3)
						checked++
					}
				}
			}
			if checked != 2 {
				t.Fatalf("checked %d padded gradients, want 2", checked)
			}
		})
	}
}

// invert turns an attention mask (true: real token) into Tokens.Padding.
func invert(mask []bool) []bool {
	out := make([]bool, len(mask))
	for i, m := range mask {
		out[i] = !m
	}
	return out
}

// TestGPT2GoldenTraining: gradients of the loss, one SGD step and one AdamW
// step with the usual decay groups, against PyTorch.
func TestGPT2GoldenTraining(t *testing.T) {
	for _, name := range []string{"tiny", "untied"} {
		t.Run(name, func(t *testing.T) {
			c := loadGPT2Case(t, name)
			cfg := *c.m.GPT2
			layout := gpt2Layout(&cfg, c.m)
			init := map[string][]float32{}
			for _, p := range layout {
				init[p.key] = append([]float32(nil), p.t.Data...)
			}
			restore := func() {
				for _, p := range layout {
					copy(p.t.Data, init[p.key])
				}
			}
			B, T := c.g["ids"].Shape[0], c.g["ids"].Shape[1]
			ce := nn.NewCrossEntropyLoss()
			targets := ShiftLabels(nil, ints(c.g["labels"]), B, T)
			g := nn.NewGraph()
			backward := func() {
				g.Reset()
				nn.ZeroGrad(c.m)
				ce.Forward(g, c.m.Forward(g, ints(c.g["ids"]), B, T), targets).Backward()
			}
			backward()
			for _, p := range layout {
				closeTo(t, "grad "+p.key, fileLayout(p, true), c.get(t, "grad.", p.key), 1e-6, 1e-3)
			}
			sgd := nn.Must(optim.NewSGD(nn.Parameters(c.m), 0.1))
			sgd.Step()
			for _, p := range layout {
				closeTo(t, "sgd "+p.key, fileLayout(p, false), c.get(t, "sgd.", p.key), 1e-6, 1e-5)
			}
			// AdamW from the golden gradients: the first step divides by |g|,
			// so gradient rounding would dominate for tiny gradients.
			restore()
			for _, p := range layout {
				src := c.get(t, "grad.", p.key)
				if p.transpose {
					transposeInto(p.t.Grad, src, p.shape[0], p.shape[1])
				} else {
					copy(p.t.Grad, src)
				}
			}
			adamw := nn.Must(optim.NewAdamWGroups(optim.DecayGroups(c.m, 0.1), 0.01))
			adamw.Step()
			for _, p := range layout {
				// Adam's first step moves every weight by ≈ lr·sign(g): a loose
				// relative tolerance on tiny gradients, tight on the result.
				closeTo(t, "adamw "+p.key, fileLayout(p, false), c.get(t, "adamw.", p.key), 2e-5, 1e-5)
			}
		})
	}
}

// TestGPT2SaveRoundTrip: SaveGPT2 writes the layout LoadGPT2 reads, every
// config field back, and the committed testdata/gpt2/saved_by_go (checked
// by scripts/golden_gpt2.py --check against PyTorch) is what SaveGPT2
// writes today.
func TestGPT2SaveRoundTrip(t *testing.T) {
	for _, name := range []string{"tiny", "untied", "noscale_f16", "relu_bf16"} {
		c := loadGPT2Case(t, name)
		dir := t.TempDir()
		if err := c.m.SaveGPT2(dir); err != nil {
			t.Fatal(err)
		}
		m2, err := LoadGPT2(dir)
		if err != nil {
			t.Fatal(err)
		}
		nn.Eval(m2)
		ids := ints(c.g["ids"])
		B, T := c.g["ids"].Shape[0], c.g["ids"].Shape[1]
		a, b := c.m.Forward(nil, ids, B, T), m2.Forward(nil, ids, B, T)
		if !equal(a.Data, b.Data) {
			t.Fatalf("%s: logits differ after SaveGPT2 + LoadGPT2", name)
		}
		var orig, saved map[string]any
		readJSON(t, filepath.Join(gpt2Dir, name, "config.json"), &orig)
		readJSON(t, filepath.Join(dir, "config.json"), &saved)
		for k, v := range orig {
			if js1, js2 := mustJSON(v), mustJSON(saved[k]); js1 != js2 {
				t.Errorf("%s: config %s = %s, saved %s", name, k, js1, js2)
			}
		}
		ts, meta, err := safetensors.LoadFile(filepath.Join(dir, "model.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		if meta["format"] != "pt" {
			t.Errorf("%s: metadata %v lacks format=pt", name, meta)
		}
		for k := range ts {
			if strings.HasPrefix(k, "transformer.") || isGPT2Buffer(k) {
				t.Errorf("%s: saved key %s", name, k)
			}
		}
		if _, ok := ts["lm_head.weight"]; ok != !c.m.GPT2.TieWordEmbeddings {
			t.Errorf("%s: lm_head.weight saved = %v with tie_word_embeddings %v", name, ok, c.m.GPT2.TieWordEmbeddings)
		}
	}
	// The directory checked by PyTorch.
	c := loadGPT2Case(t, "tiny")
	dir := filepath.Join(gpt2Dir, "saved_by_go")
	if *updateGPT2 {
		if err := c.m.SaveGPT2(dir); err != nil {
			t.Fatal(err)
		}
	}
	tmp := t.TempDir()
	if err := c.m.SaveGPT2(tmp); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"config.json", "model.safetensors"} {
		want, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(filepath.Join(tmp, f))
		if !bytes.Equal(got, want) {
			t.Fatalf("SaveGPT2 no longer writes %s/%s (rerun with -update-gpt2, then scripts/golden_gpt2.py --check)", dir, f)
		}
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestLoadGPT2Errors: bad configs and files give errors naming the problem.
func TestLoadGPT2Errors(t *testing.T) {
	src := filepath.Join(gpt2Dir, "untied")
	cfg, _ := os.ReadFile(filepath.Join(src, "config.json"))
	model, _ := os.ReadFile(filepath.Join(src, "model.safetensors"))
	var base map[string]any
	if err := json.Unmarshal(cfg, &base); err != nil {
		t.Fatal(err)
	}
	edit := func(k string, v any) []byte {
		m := map[string]any{}
		for kk, vv := range base {
			m[kk] = vv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		b, _ := json.Marshal(m)
		return b
	}
	cases := []struct {
		name    string
		config  []byte
		model   []byte
		wantErr string
	}{
		{"inverse layer idx", edit("scale_attn_by_inverse_layer_idx", true), model, "scale_attn_by_inverse_layer_idx"},
		{"upcast", edit("reorder_and_upcast_attn", true), model, "reorder_and_upcast_attn"},
		{"cross attention", edit("add_cross_attention", true), model, "add_cross_attention"},
		{"activation", edit("activation_function", "swish"), model, "activation_function"},
		{"model type", edit("model_type", "bert"), model, "model_type"},
		{"heads", edit("n_head", 5), model, "n_head"},
		{"huge", edit("n_embd", 1<<40), model, "n_embd"},
		{"wrong vocab", edit("vocab_size", 98), model, "wte.weight"},
		{"more layers", edit("n_layer", 2), model, "h.1."},
		{"tied but head differs", edit("tie_word_embeddings", true), model, "lm_head.weight"},
		{"not json", []byte("{"), model, "config"},
		{"truncated file", cfg, model[:len(model)/2], "safetensors"},
		{"no file", cfg, nil, "model.safetensors"},
	}
	for _, tc := range cases {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "config.json"), tc.config, 0o644)
		if tc.model != nil {
			os.WriteFile(filepath.Join(dir, "model.safetensors"), tc.model, 0o644)
		}
		_, err := LoadGPT2(dir)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: err = %v, want one naming %q", tc.name, err, tc.wantErr)
		}
	}
	// A tensor the config does not know.
	ts, _, _ := safetensors.LoadFile(filepath.Join(src, "model.safetensors"))
	ts["h.0.attn.extra"] = safetensors.Tensor{Shape: []int{1}, F32: []float32{1}}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644)
	if err := safetensors.SaveFile(filepath.Join(dir, "model.safetensors"), ts, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadGPT2(dir); err == nil || !strings.Contains(err.Error(), "h.0.attn.extra") {
		t.Errorf("unknown tensor: err = %v", err)
	}
}

// TestPaddedTrainingStepAllocations: a warm training step on a padded
// batch (attention mask, position ids, labels -100) allocates nothing.
func TestPaddedTrainingStepAllocations(t *testing.T) {
	c := loadGPT2Case(t, "tiny")
	nn.Train(c.m)
	pm := c.g["pad.mask"]
	B, T := pm.Shape[0], pm.Shape[1]
	mask := make([]bool, B*T)
	for i, v := range pm.F32 {
		mask[i] = v != 0
	}
	ids := ints(c.g["pad.ids"])
	pad := invert(mask)
	opt := LMOptions{PositionIDs: PositionIDsFromPadding(nil, pad, B, T)}
	targets := ShiftLabels(nil, ints(c.g["pad.labels"]), B, T)
	adamw := nn.Must(optim.NewAdamWGroups(optim.DecayGroups(c.m, 0.1), 1e-3))
	ce := nn.NewCrossEntropyLoss()
	g := nn.NewGraph()
	step := func() {
		g.Reset()
		loss := ce.Forward(g, c.m.ForwardWith(g, Tokens{IDs: ids, Batch: B, Seq: T, Padding: pad}, opt), targets)
		adamw.ZeroGrad()
		loss.Backward()
		adamw.Step()
	}
	step()
	if n := testing.AllocsPerRun(10, step); n != 0 {
		t.Fatalf("%v allocations per padded training step, want 0", n)
	}
}

// TestRightPaddingMatchesUnpadded: with right padding and the attention
// mask, every real position has bit for bit the logits of its sequence
// run alone (padding keys only ever add exact zeros).
func TestRightPaddingMatchesUnpadded(t *testing.T) {
	c := loadGPT2Case(t, "untied")
	rows := [][]int{{4, 8, 15, 16, 23, 42}, {7, 7, 7}, {1}}
	const T = 6
	ids, mask := make([]int, 3*T), make([]bool, 3*T)
	for b, r := range rows {
		for i, id := range r {
			ids[b*T+i], mask[b*T+i] = id, true
		}
	}
	got := c.m.ForwardWith(nil, Tokens{IDs: ids, Batch: 3, Seq: T, Padding: invert(mask)}, LMOptions{})
	V := got.Shape[2]
	for b, r := range rows {
		alone := c.m.Forward(nil, r, 1, len(r)).Data
		if !sameBits(got.Data[b*T*V:(b*T+len(r))*V], alone) {
			t.Fatalf("row %d: right-padded logits differ from the row alone", b)
		}
	}
}

func FuzzParseGPT2Config(f *testing.F) {
	for _, name := range []string{"tiny", "untied", "noscale_f16", "relu_bf16"} {
		b, err := os.ReadFile(filepath.Join(gpt2Dir, name, "config.json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"n_inner": -1}`))
	f.Add([]byte(`{"n_embd": 1e300}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseGPT2Config(data)
		if err != nil {
			return
		}
		if c.Validate() != nil {
			t.Fatal("ParseGPT2Config returned an invalid config")
		}
		js, err := c.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		c2, err := ParseGPT2Config(js)
		if err != nil {
			t.Fatalf("a written config does not parse: %v\n%s", err, js)
		}
		if c2.NEmbd != c.NEmbd || c2.NInner != c.NInner || c2.ScaleAttnWeights != c.ScaleAttnWeights {
			t.Fatalf("config changed in a write/read round trip")
		}
	})
}
