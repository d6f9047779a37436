package transformer

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/optim"
	"github.com/simdformer/simdformer/nn/safetensors"
)

// save writes c's model with SaveBERT or SaveBERTClassifier.
func (c bertGolden) save(dir string) error {
	if c.cls != nil {
		return c.cls.SaveBERTClassifier(dir)
	}
	return c.bert.SaveBERT(dir)
}

// TestBERTSaveRoundTrip: Save then Load gives the same parameters bit for
// bit and every config field back; the saved file has Hugging Face's keys
// (no "bert." prefix for a BertModel, with it for the classifier, no
// buffers, no gamma/beta); the committed testdata/bert/saved_by_go (checked
// against PyTorch by scripts/golden_bert.py --check) is what Save writes
// today.
func TestBERTSaveRoundTrip(t *testing.T) {
	for _, tc := range bertCases {
		c := loadBERTCase(t, tc.name, tc.classifier)
		dir := t.TempDir()
		if err := c.save(dir); err != nil {
			t.Fatal(err)
		}
		c2 := c
		var err error
		if tc.classifier {
			if c2.cls, err = LoadBERTClassifier(dir); err == nil {
				c2.bert = c2.cls.BERT
			}
		} else {
			c2.bert, err = LoadBERT(dir)
		}
		if err != nil {
			t.Fatalf("%s: reloading: %v", tc.name, err)
		}
		a, b := nn.NamedParameters(c.module()), nn.NamedParameters(c2.module())
		for i := range a {
			if a[i].Name != b[i].Name || !sameBits(a[i].Tensor.Data, b[i].Tensor.Data) {
				t.Fatalf("%s: %s differs after save and load", tc.name, a[i].Name)
			}
		}
		nn.Eval(c2.module())
		h1, p1 := c.bert.Forward(nil, c.ids(), c.types(), c.mask(), c.batch, c.seq)
		h2, p2 := c2.bert.Forward(nil, c.ids(), c.types(), c.mask(), c.batch, c.seq)
		if !sameBits(h1.Data, h2.Data) || !sameBits(p1.Data, p2.Data) {
			t.Fatalf("%s: outputs differ after save and load", tc.name)
		}
		var orig, saved map[string]any
		readJSON(t, filepath.Join(bertDir, tc.name, "config.json"), &orig)
		readJSON(t, filepath.Join(dir, "config.json"), &saved)
		for k, v := range orig {
			if js1, js2 := mustJSON(v), mustJSON(saved[k]); js1 != js2 {
				t.Errorf("%s: config %s = %s, saved %s", tc.name, k, js1, js2)
			}
		}
		if _, ok := orig["num_labels"]; !ok {
			if _, ok := saved["num_labels"]; ok {
				t.Errorf("%s: num_labels written though the file had only id2label", tc.name)
			}
		}
		ts, meta, err := safetensors.LoadFile(filepath.Join(dir, "model.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		if meta["format"] != "pt" {
			t.Errorf("%s: metadata %v lacks format=pt", tc.name, meta)
		}
		for k, v := range ts {
			prefixed := strings.HasPrefix(k, "bert.")
			if tc.classifier != prefixed && !strings.HasPrefix(k, "classifier.") ||
				strings.Contains(k, "gamma") || strings.Contains(k, "position_ids") || v.DType != "F32" {
				t.Errorf("%s: saved key %s (%s)", tc.name, k, v.DType)
			}
		}
	}
	// The directories checked by PyTorch.
	for _, tc := range []struct {
		src, dst   string
		classifier bool
	}{{"model_gelu_new_noprefix", "saved_by_go/model", false}, {"classifier_relu", "saved_by_go/classifier", true}} {
		c := loadBERTCase(t, tc.src, tc.classifier)
		dir := filepath.Join(bertDir, tc.dst)
		if *updateBERT {
			if err := c.save(dir); err != nil {
				t.Fatal(err)
			}
		}
		tmp := t.TempDir()
		if err := c.save(tmp); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"config.json", "model.safetensors"} {
			want, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(filepath.Join(tmp, f))
			if !bytes.Equal(got, want) {
				t.Fatalf("Save no longer writes %s/%s (rerun with -update-bert, then scripts/golden_bert.py --check)", dir, f)
			}
		}
	}
}

// TestBERTSaveRates: rates changed on the model are what Save writes.
func TestBERTSaveRates(t *testing.T) {
	c := loadBERTCase(t, "classifier_pretrain_keys", true)
	c.cls.Dropout.P = 0.3
	c.bert.Embeddings.Dropout.P = 0
	dir := t.TempDir()
	if err := c.cls.SaveBERTClassifier(dir); err != nil {
		t.Fatal(err)
	}
	m, err := LoadBERTClassifier(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Dropout.P != 0.3 || m.BERT.Embeddings.Dropout.P != 0 || *m.BERT.Config.ClassifierDropout != 0.3 {
		t.Fatalf("classifier dropout %v, hidden dropout %v after save", m.Dropout.P, m.BERT.Embeddings.Dropout.P)
	}
}

// TestLoadBERTErrors: bad configs and files give errors naming the
// problem, never panics; a config whose sizes the file cannot back is
// refused before the model is allocated.
func TestLoadBERTErrors(t *testing.T) {
	src := filepath.Join(bertDir, "classifier_relu")
	cfg, _ := os.ReadFile(filepath.Join(src, "config.json"))
	model, _ := os.ReadFile(filepath.Join(src, "model.safetensors"))
	var base map[string]any
	if err := json.Unmarshal(cfg, &base); err != nil {
		t.Fatal(err)
	}
	edit := func(kv ...any) []byte {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "DELETE" {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		b, _ := json.Marshal(m)
		return b
	}
	withTensors := func(change func(map[string]safetensors.Tensor)) []byte {
		ts, _, err := safetensors.Load(bytes.NewReader(model), int64(len(model)))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range ts {
			v.DType = "F32"
			ts[k] = v
		}
		change(ts)
		var buf bytes.Buffer
		if err := safetensors.Save(&buf, ts, nil); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	cases := []struct {
		name    string
		config  []byte
		model   []byte
		wantErr string
	}{
		{"relative positions", edit("position_embedding_type", "relative_key"), model, "position_embedding_type"},
		{"decoder", edit("is_decoder", true), model, "is_decoder"},
		{"cross attention", edit("add_cross_attention", true), model, "add_cross_attention"},
		{"pruned heads", edit("pruned_heads", map[string]any{"0": []int{1}}), model, "pruned_heads"},
		{"activation", edit("hidden_act", "swish"), model, "hidden_act"},
		{"model type", edit("model_type", "roberta"), model, "model_type"},
		{"heads", edit("num_attention_heads", 7), model, "num_attention_heads"},
		{"negative size", edit("intermediate_size", -1), model, "intermediate_size"},
		{"huge", edit("hidden_size", 1<<40), model, "hidden_size"},
		{"eps", edit("layer_norm_eps", -1), model, "layer_norm_eps"},
		{"dropout", edit("hidden_dropout_prob", 1.5), model, "hidden_dropout_prob"},
		{"classifier dropout", edit("classifier_dropout", -0.1), model, "classifier_dropout"},
		{"pad outside vocab", edit("pad_token_id", 101), model, "pad_token_id"},
		{"labels disagree", edit("num_labels", 2), model, "num_labels"},
		{"bad id2label", edit("id2label", map[string]string{"0": "a", "5": "b"}), model, "id2label"},
		{"string size", edit("vocab_size", "101"), model, "vocab_size"},
		{"wrong vocab", edit("vocab_size", 98), model, "word_embeddings"},
		{"more layers", edit("num_hidden_layers", 3), model, "encoder.layer.2."},
		{"fewer layers", edit("num_hidden_layers", 1), model, "encoder.layer.1."},
		{"more labels", edit("id2label", "DELETE", "num_labels", 5), model, "classifier.weight"},
		{"not json", []byte("{"), model, "config"},
		{"json array", []byte("[]"), model, "config"},
		{"truncated file", cfg, model[:len(model)/2], "safetensors"},
		{"no file", cfg, nil, "model.safetensors"},
		{"extra tensor", cfg, withTensors(func(ts map[string]safetensors.Tensor) {
			ts["bert.encoder.layer.0.attention.self.extra"] = safetensors.Tensor{Shape: []int{1}, F32: []float32{1}}
		}), "bert.encoder.layer.0.attention.self.extra"},
		{"missing tensor", cfg, withTensors(func(ts map[string]safetensors.Tensor) {
			delete(ts, "bert.pooler.dense.bias")
		}), "pooler.dense.bias"},
		{"misshaped tensor", cfg, withTensors(func(ts map[string]safetensors.Tensor) {
			ts["bert.encoder.layer.1.output.dense.bias"] = safetensors.Tensor{Shape: []int{31}, F32: make([]float32, 31)}
		}), "output.dense.bias"},
		{"with and without prefix", cfg, withTensors(func(ts map[string]safetensors.Tensor) {
			ts["pooler.dense.bias"] = ts["bert.pooler.dense.bias"]
		}), "pooler.dense.bias"},
		{"gamma and weight", cfg, withTensors(func(ts map[string]safetensors.Tensor) {
			ts["bert.embeddings.LayerNorm.gamma"] = ts["bert.embeddings.LayerNorm.weight"]
		}), "LayerNorm"},
	}
	for _, tc := range cases {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "config.json"), tc.config, 0o644)
		if tc.model != nil {
			os.WriteFile(filepath.Join(dir, "model.safetensors"), tc.model, 0o644)
		}
		_, err := LoadBERTClassifier(dir)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: err = %v, want one naming %q", tc.name, err, tc.wantErr)
		}
	}
	// A BertModel loader refuses the classifier head, a classifier loader
	// needs one.
	if _, err := LoadBERT(src); err == nil || !strings.Contains(err.Error(), "classifier.weight") {
		t.Errorf("LoadBERT of a classifier: err = %v", err)
	}
	if _, err := LoadBERTClassifier(filepath.Join(bertDir, "model_gelu")); err == nil || !strings.Contains(err.Error(), "classifier.weight") {
		t.Errorf("LoadBERTClassifier of a BertModel: err = %v", err)
	}

	// Sizes the file cannot back: refused from the header, allocating
	// next to nothing (the model would take 2^24·2^10·4 bytes = 64 GiB).
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.json"), edit("vocab_size", 1<<24, "hidden_size", 1<<10, "num_attention_heads", 1), 0o644)
	os.WriteFile(filepath.Join(dir, "model.safetensors"), model, 0o644)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := LoadBERTClassifier(dir)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "word_embeddings") {
		t.Errorf("huge config: err = %v", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 8<<20 {
		t.Errorf("refusing a huge config allocated %d bytes", n)
	}
}

// TestBERTConfigNumLabels: num_labels from num_labels, id2label or the
// default 2; written back only when the file had it.
func TestBERTConfigNumLabels(t *testing.T) {
	for _, tc := range []struct {
		js    string
		n     int
		write bool
	}{{`{}`, 2, false}, {`{"num_labels": 5}`, 5, true}, {`{"id2label": {"0": "x", "1": "y", "2": "z"}}`, 3, false},
		{`{"num_labels": 3, "id2label": {"0": "x", "1": "y", "2": "z"}}`, 3, true}} {
		c, err := ParseBERTConfig([]byte(tc.js))
		if err != nil {
			t.Fatal(err)
		}
		if c.NumLabels != tc.n {
			t.Errorf("%s: num_labels %d, want %d", tc.js, c.NumLabels, tc.n)
		}
		js, _ := c.MarshalJSON()
		var back map[string]any
		json.Unmarshal(js, &back)
		if _, ok := back["num_labels"]; ok != tc.write {
			t.Errorf("%s: num_labels written = %v", tc.js, ok)
		}
		c2, err := ParseBERTConfig(js)
		if err != nil || c2.NumLabels != tc.n {
			t.Errorf("%s: re-read %d labels, %v", tc.js, c2.NumLabels, err)
		}
	}
}

// TestDescribeBERT: the printed structure is Hugging Face's.
func TestDescribeBERT(t *testing.T) {
	c := loadBERTCase(t, "classifier_relu", true)
	s := Describe(c.cls)
	for _, want := range []string{
		"BertForSequenceClassification(\n  (bert): BertModel(\n    (embeddings): BertEmbeddings(\n      (word_embeddings): Embedding(101, 30, padding_idx=0)\n",
		"    (encoder): BertEncoder(\n      (layer): ModuleList(\n        (0): BertLayer(\n          (attention): BertAttention(\n            (self): BertSelfAttention(\n              (query): Linear(in_features=30, out_features=30, bias=True)\n",
		"              (dropout): Dropout(p=0.1, inplace=False)\n            )\n            (output): BertSelfOutput(\n",
		"          (intermediate): BertIntermediate(\n            (dense): Linear(in_features=30, out_features=37, bias=True)\n            (intermediate_act_fn): ReLU()\n          )\n",
		"    (pooler): BertPooler(\n      (dense): Linear(in_features=30, out_features=30, bias=True)\n      (activation): Tanh()\n    )\n  )\n",
		"  (dropout): Dropout(p=0.2, inplace=False)\n  (classifier): Linear(in_features=30, out_features=3, bias=True)\n)",
	} {
		if !strings.Contains(s, want) {
			t.Fatalf("Describe lacks\n%s\nin\n%s", want, s)
		}
	}
	if s := Describe(loadBERTCase(t, "model_gelu_new_noprefix", false).bert); !strings.Contains(s, "(intermediate_act_fn): NewGELUActivation()") {
		t.Fatalf("gelu_new printed as\n%s", s)
	}
}

// TestBERTDropout: in training mode the logits depend on the graph's seed
// (reproducibly), every dropout site is active, and eval mode is
// deterministic; the attention, hidden and classifier rates each change the
// output.
func TestBERTDropout(t *testing.T) {
	c := loadBERTCase(t, "classifier_relu", true)
	run := func(seed uint64) []float32 {
		g := nn.NewGraph()
		g.SetSeed(seed)
		return append([]float32(nil), c.cls.Forward(g, c.ids(), c.types(), c.mask(), c.batch, c.seq).Data...)
	}
	eval := run(0)
	nn.Train(c.cls)
	a, b, a2 := run(1), run(2), run(1)
	if !sameBits(a, a2) || sameBits(a, b) || sameBits(a, eval) {
		t.Fatal("training-mode logits: not reproducible from the graph seed, or not dropped")
	}
	// Each site alone changes the output.
	l0 := c.bert.Layers[0]
	sites := []struct {
		name string
		p    *float32
	}{{"embeddings", &c.bert.Embeddings.Dropout.P}, {"attention probs", &l0.AttnDropout.P},
		{"attention output", &l0.AttnOutDropout.P}, {"ffn output", &l0.OutDropout.P}, {"classifier", &c.cls.Dropout.P}}
	nn.Walk(c.cls, func(_ string, m nn.Module) {
		if d, ok := m.(*nn.Dropout); ok {
			d.P = 0
		}
	})
	base := run(1)
	if !sameBits(base, eval) {
		t.Fatal("training mode with every rate 0 differs from eval mode")
	}
	for _, s := range sites {
		*s.p = 0.5
		if sameBits(run(1), base) {
			t.Errorf("dropout at the %s changes nothing", s.name)
		}
		*s.p = 0
	}
}

// TestBERTTrainingStepAllocations: a warm training step of the classifier
// on a padded batch with token types allocates nothing.
func TestBERTTrainingStepAllocations(t *testing.T) {
	c := loadBERTCase(t, "classifier_relu", true)
	nn.Train(c.cls)
	ids, types, mask, labels := c.ids(), c.types(), c.mask(), ints(c.g["input.labels"])
	adamw := nn.Must(optim.NewAdamWGroups(optim.DecayGroups(c.cls, 0.01), 1e-3))
	ce := nn.NewCrossEntropyLoss()
	g := nn.NewGraph()
	step := func() {
		g.Reset()
		loss := ce.Forward(g, c.cls.Forward(g, ids, types, mask, c.batch, c.seq), labels)
		adamw.ZeroGrad()
		loss.Backward()
		adamw.Step()
	}
	step()
	if n := testing.AllocsPerRun(10, step); n != 0 {
		t.Fatalf("%v allocations per training step, want 0", n)
	}
}

// TestNewBERT: a new model has Hugging Face's initialisation and trains.
func TestNewBERT(t *testing.T) {
	c := DefaultBERTConfig()
	c.VocabSize, c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize = 50, 16, 2, 2, 32
	c.MaxPositionEmbeddings, c.NumLabels, c.ID2Label = 8, 3, []string{"a", "b", "c"}
	nn.ManualSeed(1)
	m, err := NewBERTClassifier(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, np := range nn.NamedParameters(m) {
		d := np.Tensor.Data
		switch {
		case strings.HasSuffix(np.Name, "LayerNorm.weight"):
			if d[0] != 1 {
				t.Fatalf("%s = %v", np.Name, d[0])
			}
		case len(np.Tensor.Shape) == 1:
			if d[0] != 0 {
				t.Fatalf("%s = %v", np.Name, d[0])
			}
		default:
			var ss float64
			for _, v := range d {
				ss += float64(v) * float64(v)
			}
			if std := ss / float64(len(d)); std < 0.01*0.01 || std > 0.03*0.03 {
				t.Fatalf("%s: variance %g, want ≈ 0.02²", np.Name, std)
			}
		}
	}
	if row := m.BERT.Embeddings.Word.Weight.Data[:16]; !sameBits(row, make([]float32, 16)) {
		t.Fatal("padding row not zero")
	}
	ids, labels := []int{1, 5, 7, 2, 9, 0}, []int{2, 0}
	adamw := nn.Must(optim.NewAdamW(nn.Parameters(m), 1e-2))
	ce := nn.NewCrossEntropyLoss()
	g := nn.NewGraph()
	var first, last float32
	for i := 0; i < 30; i++ {
		g.Reset()
		loss := ce.Forward(g, m.Forward(g, ids, nil, []bool{true, true, true, true, true, false}, 2, 3), labels)
		if i == 0 {
			first = loss.Item()
		}
		last = loss.Item()
		adamw.ZeroGrad()
		loss.Backward()
		adamw.Step()
	}
	if !(last < first/4) {
		t.Fatalf("loss %v -> %v: not training", first, last)
	}
}

// TestBERTForwardMisuse: inconsistent inputs panic naming the function and
// the problem.
func TestBERTForwardMisuse(t *testing.T) {
	c := loadBERTCase(t, "model_gelu", false)
	for _, tc := range []struct {
		name string
		f    func()
		want string
	}{
		{"sizes", func() { c.bert.Forward(nil, []int{1, 2, 3}, nil, nil, 2, 2) }, "3 token ids for batch 2 × seq 2"},
		{"id", func() { c.bert.Forward(nil, []int{1, 101}, nil, nil, 1, 2) }, "token id 101 at index 1"},
		{"type", func() { c.bert.Forward(nil, []int{1, 2}, []int{0, 2}, nil, 1, 2) }, "token type 2"},
		{"types length", func() { c.bert.Forward(nil, []int{1, 2}, []int{0}, nil, 1, 2) }, "1 token types"},
		{"mask length", func() { c.bert.Forward(nil, []int{1, 2}, nil, []bool{true}, 1, 2) }, "attention mask of 1 values"},
		{"too long", func() { c.bert.Forward(nil, make([]int, 24), nil, nil, 1, 24) }, "max_position_embeddings 23"},
	} {
		func() {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, tc.want) || !strings.Contains(s, "BERT.Forward") {
					t.Errorf("%s: panic %v, want one naming BERT.Forward and %q", tc.name, r, tc.want)
				}
			}()
			tc.f()
		}()
	}
}

func FuzzParseBERTConfig(f *testing.F) {
	for _, tc := range bertCases {
		b, err := os.ReadFile(filepath.Join(bertDir, tc.name, "config.json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"id2label": {"0": "a", "0": "b"}}`))
	f.Add([]byte(`{"num_labels": 0}`))
	f.Add([]byte(`{"pad_token_id": null, "classifier_dropout": 0.5}`))
	f.Add([]byte(`{"hidden_size": 1e300}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseBERTConfig(data)
		if err != nil {
			return
		}
		if c.Validate() != nil {
			t.Fatal("ParseBERTConfig returned an invalid config")
		}
		js, err := c.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		c2, err := ParseBERTConfig(js)
		if err != nil {
			t.Fatalf("a written config does not parse: %v\n%s", err, js)
		}
		if c2.HiddenSize != c.HiddenSize || c2.NumLabels != c.NumLabels || c2.PadTokenID != c.PadTokenID ||
			(c2.ClassifierDropout == nil) != (c.ClassifierDropout == nil) || len(c2.ID2Label) != len(c.ID2Label) {
			t.Fatalf("config changed in a write/read round trip:\n%s", js)
		}
	})
}

// BERTLayer is an nn.Layer like every block.
var _ nn.Layer = (*BERTLayer)(nil)

// TestLoadBERTHalf: F16 and BF16 checkpoints load, each weight the file's
// value converted exactly.
func TestLoadBERTHalf(t *testing.T) {
	src := filepath.Join(bertDir, "model_gelu_new_noprefix")
	cfg, _ := os.ReadFile(filepath.Join(src, "config.json"))
	ts, _, err := safetensors.LoadFile(filepath.Join(src, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	for _, dtype := range []string{"F16", "BF16"} {
		half := map[string]safetensors.Tensor{}
		for k, v := range ts {
			if v.DType == "F32" {
				v.DType = dtype
				half[k] = v
			}
		}
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644)
		path := filepath.Join(dir, "model.safetensors")
		if err := safetensors.SaveFile(path, half, nil); err != nil {
			t.Fatal(err)
		}
		want, _, err := safetensors.LoadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m, err := LoadBERT(dir)
		if err != nil {
			t.Fatalf("%s: %v", dtype, err)
		}
		differs := 0
		for _, np := range nn.NamedParameters(m) {
			name := strings.Replace(strings.Replace(np.Name, "LayerNorm.weight", "LayerNorm.gamma", 1), "LayerNorm.bias", "LayerNorm.beta", 1)
			w := want[name].F32
			if !sameBits(np.Tensor.Data, w) {
				t.Fatalf("%s: %s is not the file's value", dtype, np.Name)
			}
			if !sameBits(w, ts[name].F32) {
				differs++
			}
		}
		if differs == 0 {
			t.Fatalf("%s: no weight was rounded: the file was not %s", dtype, dtype)
		}
	}
}

// TestBERTNewHead: a pretrained BERT (here a BertForMaskedLM-style config
// and file with cls.* heads) gets a new classifier head; the saved
// directory is a BertForSequenceClassification with the new labels.
func TestBERTNewHead(t *testing.T) {
	b, err := LoadBERTClassifier(filepath.Join(bertDir, "classifier_pretrain_keys"))
	if err != nil {
		t.Fatal(err)
	}
	base := b.BERT
	base.Config.Extra["architectures"] = json.RawMessage(`["BertForMaskedLM"]`)
	base.Config.NumLabels, base.Config.ID2Label = 3, []string{"x", "y", "z"}
	delete(base.Config.Extra, "label2id")
	m, err := NewBERTClassifierFrom(base)
	if err != nil {
		t.Fatal(err)
	}
	if m.Classifier.Weight.Shape[0] != 3 || m.BERT != base {
		t.Fatalf("head %v", m.Classifier.Weight.Shape)
	}
	dir := t.TempDir()
	if err := m.SaveBERTClassifier(dir); err != nil {
		t.Fatal(err)
	}
	var saved map[string]any
	readJSON(t, filepath.Join(dir, "config.json"), &saved)
	if got := mustJSON(saved["architectures"]); got != `["BertForSequenceClassification"]` {
		t.Errorf("architectures %s", got)
	}
	if got := mustJSON(saved["label2id"]); got != `{"x":0,"y":1,"z":2}` {
		t.Errorf("label2id %s", got)
	}
	m2, err := LoadBERTClassifier(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !sameBits(m2.Classifier.Weight.Data, m.Classifier.Weight.Data) {
		t.Fatal("new head not saved")
	}
}
