package transformer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/simdformer/simdformer/internal/atomicfile"
	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/safetensors"
)

// bertKey is one tensor of Hugging Face's BERT layout: its key without the
// "bert." prefix and its shape.
type bertKey struct {
	key   string
	shape []int
}

// bertLayout lists the tensors of config c in nn.NamedParameters' order,
// with the classifier's when classifier is set.
func bertLayout(c *BERTConfig, classifier bool) []bertKey {
	H, F := c.HiddenSize, c.IntermediateSize
	var ks []bertKey
	add := func(key string, shape ...int) { ks = append(ks, bertKey{key, shape}) }
	linear := func(key string, in, out int) {
		add(key+".weight", out, in)
		add(key+".bias", out)
	}
	norm := func(key string) {
		add(key+".weight", H)
		add(key+".bias", H)
	}
	add("embeddings.word_embeddings.weight", c.VocabSize, H)
	add("embeddings.position_embeddings.weight", c.MaxPositionEmbeddings, H)
	add("embeddings.token_type_embeddings.weight", c.TypeVocabSize, H)
	norm("embeddings.LayerNorm")
	for i := 0; i < c.NumHiddenLayers; i++ {
		p := "encoder.layer." + strconv.Itoa(i) + "."
		linear(p+"attention.self.query", H, H)
		linear(p+"attention.self.key", H, H)
		linear(p+"attention.self.value", H, H)
		linear(p+"attention.output.dense", H, H)
		norm(p + "attention.output.LayerNorm")
		linear(p+"intermediate.dense", H, F)
		linear(p+"output.dense", F, H)
		norm(p + "output.LayerNorm")
	}
	linear("pooler.dense", H, H)
	if classifier {
		linear("classifier", H, c.NumLabels)
	}
	return ks
}

// bertFileKey maps a key of a checkpoint to the layout's name: without the
// "bert." prefix, LayerNorm.gamma/beta (old TensorFlow-converted files) as
// weight/bias. ignore reports the tensors that hold no parameter of the
// model: the position_ids and token_type_ids buffers and the pretraining
// heads (cls.*).
func bertFileKey(k string) (name string, ignore bool) {
	name = strings.TrimPrefix(k, "bert.")
	if strings.HasPrefix(k, "cls.") || name == "embeddings.position_ids" || name == "embeddings.token_type_ids" {
		return name, true
	}
	if strings.HasSuffix(name, "LayerNorm.gamma") {
		name = strings.TrimSuffix(name, "gamma") + "weight"
	} else if strings.HasSuffix(name, "LayerNorm.beta") {
		name = strings.TrimSuffix(name, "beta") + "bias"
	}
	return name, false
}

// LoadBERT loads a Hugging Face BertModel from dir, which holds config.json
// and model.safetensors (F32, F16 or BF16; see package nn/safetensors).
// Keys may carry the "bert." prefix (as in a BertForPreTraining or
// BertForSequenceClassification file) or not; old LayerNorm.gamma/beta
// names are read as weight/bias; the embeddings.position_ids buffer and the
// pretraining heads (cls.*) are ignored; any other tensor the config does
// not describe (a classifier head included: use LoadBERTClassifier) is an
// error, as is a missing or misshaped one. The config is checked first,
// then every name and shape against the file's header, before anything is
// allocated; every problem is an error, never a panic. The model is in
// training mode, like a new module (call nn.Eval for inference).
func LoadBERT(dir string) (*BERT, error) {
	m, _, err := loadBERT(dir, "LoadBERT", false)
	return m, err
}

// LoadBERTClassifier loads a Hugging Face BertForSequenceClassification
// from dir (see LoadBERT): the BERT under "bert." (the prefix may be
// missing) and classifier.weight (num_labels, hidden) and classifier.bias,
// num_labels being given by num_labels or id2label (2 when neither is).
// To put a new head on a pretrained BERT, use LoadBERT and
// NewBERTClassifierFrom.
func LoadBERTClassifier(dir string) (*BERTClassifier, error) {
	_, m, err := loadBERT(dir, "LoadBERTClassifier", true)
	return m, err
}

func loadBERT(dir, op string, classifier bool) (*BERT, *BERTClassifier, error) {
	cpath := filepath.Join(dir, "config.json")
	data, err := readConfigFile(cpath)
	if err != nil {
		return nil, nil, fmt.Errorf("transformer: %s: %w", op, err)
	}
	c, err := ParseBERTConfig(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (in %s)", err, cpath)
	}
	path := filepath.Join(dir, "model.safetensors")
	r, err := safetensors.OpenFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("transformer: %s: %w", op, err)
	}
	defer r.Close()
	// The file's tensors by layout name.
	file := map[string]safetensors.TensorInfo{}
	for _, t := range r.Tensors() {
		name, ignore := bertFileKey(t.Name)
		if ignore {
			continue
		}
		if prev, dup := file[name]; dup {
			return nil, nil, fmt.Errorf("transformer: %s: %s holds both %s and %s", op, path, truncate(prev.Name), truncate(t.Name))
		}
		file[name] = t
	}
	layout := bertLayout(&c, classifier)
	want := make(map[string]bool, len(layout))
	for _, k := range layout {
		want[k.key] = true
		t, ok := file[k.key]
		if !ok {
			return nil, nil, fmt.Errorf("transformer: %s: %s has no tensor %s", op, path, k.key)
		}
		if !slices.Equal(t.Shape, k.shape) {
			return nil, nil, fmt.Errorf("transformer: %s: %s: %s has shape %v, the config wants %v", op, path, t.Name, t.Shape, k.shape)
		}
	}
	var extra []string
	for name, t := range file {
		if !want[name] {
			extra = append(extra, truncate(t.Name))
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		if len(extra) > 10 {
			extra = append(extra[:10], fmt.Sprintf("… (%d in all)", len(extra)))
		}
		what := "a BertModel"
		if classifier {
			what = "a BertForSequenceClassification"
		}
		return nil, nil, fmt.Errorf("transformer: %s: %s has tensors %s of this config does not: %s", op, path, what, strings.Join(extra, ", "))
	}
	b, err := newBERT(c)
	if err != nil {
		return nil, nil, err
	}
	var mod nn.Module = b
	var head *BERTClassifier
	if classifier {
		if head, err = newBERTHead(b, c); err != nil {
			return nil, nil, err
		}
		mod = head
	}
	for _, np := range nn.NamedParameters(mod) {
		name := strings.TrimPrefix(np.Name, "bert.")
		t, ok := file[name]
		if !ok {
			return nil, nil, fmt.Errorf("transformer: %s: internal error: no tensor for %s", op, np.Name)
		}
		if err := r.Read(t.Name, np.Tensor.Data); err != nil {
			return nil, nil, fmt.Errorf("transformer: %s: %w", op, err)
		}
	}
	return b, head, nil
}

// BERTConfigOf returns the Hugging Face config describing m: the sizes,
// dropout rates, epsilon and padding index of the model as it is now, with
// the other fields of m.Config (torch_dtype, when present, becomes float32:
// the dtype SaveBERT writes).
func BERTConfigOf(m *BERT) (BERTConfig, error) {
	c := m.Config
	if _, ok := c.Extra["torch_dtype"]; ok {
		extra := make(map[string]json.RawMessage, len(c.Extra))
		for k, v := range c.Extra {
			extra[k] = v
		}
		extra["torch_dtype"] = json.RawMessage(`"float32"`)
		c.Extra = extra
	}
	e := m.Embeddings
	c.VocabSize, c.HiddenSize = e.Word.Weight.Shape[0], e.Word.Weight.Shape[1]
	c.MaxPositionEmbeddings = e.Position.Weight.Shape[0]
	c.TypeVocabSize = e.TokenType.Weight.Shape[0]
	c.PadTokenID = e.Word.PaddingIdx
	c.HiddenDropoutProb = keepRate(c.HiddenDropoutProb, e.Dropout.P)
	c.LayerNormEps = keepRate(c.LayerNormEps, e.LayerNorm.Eps)
	c.NumHiddenLayers = len(m.Layers)
	if len(m.Layers) > 0 {
		l := m.Layers[0]
		c.NumAttentionHeads = l.Heads
		c.IntermediateSize = l.Intermediate.Weight.Shape[0]
		c.AttentionProbsDropoutProb = keepRate(c.AttentionProbsDropoutProb, l.AttnDropout.P)
	}
	return c, c.Validate()
}

// keepRate is the config's value when it still rounds to v (so 1e-12 stays
// 1e-12), else the shortest decimal of v.
func keepRate(old float64, v float32) float64 {
	if float32(old) == v {
		return old
	}
	return roundRate(v)
}

// SaveBERT writes m to dir (created if needed) as Hugging Face's
// BertModel.save_pretrained lays it out: config.json (BERTConfigOf,
// architectures ["BertModel"]) and model.safetensors (F32,
// keys without the "bert." prefix, LayerNorm.weight/bias, no buffers,
// metadata format=pt), so BertModel.from_pretrained(dir) and LoadBERT read
// it back. Each file is replaced atomically and durably.
func (m *BERT) SaveBERT(dir string) error {
	c, err := BERTConfigOf(m)
	if err != nil {
		return err
	}
	return saveBERT(dir, c, m, "", "BertModel")
}

// SaveBERTClassifier writes m to dir like BertForSequenceClassification's
// save_pretrained: config.json (architectures
// ["BertForSequenceClassification"], num_labels from the classifier,
// id2label kept, classifier_dropout from m.Dropout) and model.safetensors with the
// "bert." prefix and classifier.weight / classifier.bias.
func (m *BERTClassifier) SaveBERTClassifier(dir string) error {
	c, err := BERTConfigOf(m.BERT)
	if err != nil {
		return err
	}
	c.NumLabels = m.Classifier.Weight.Shape[0]
	if c.ID2Label != nil && len(c.ID2Label) != c.NumLabels {
		return fmt.Errorf("transformer: SaveBERTClassifier: id2label has %d labels, the classifier %d outputs", len(c.ID2Label), c.NumLabels)
	}
	if p := m.Dropout.P; c.ClassifierDropout != nil || p != float32(c.HiddenDropoutProb) {
		old := -1.0
		if c.ClassifierDropout != nil {
			old = *c.ClassifierDropout
		}
		r := keepRate(old, p)
		c.ClassifierDropout = &r
	}
	if err := c.Validate(); err != nil {
		return err
	}
	return saveBERT(dir, c, m, "bert.", "BertForSequenceClassification")
}

func saveBERT(dir string, c BERTConfig, m nn.Module, prefix, arch string) error {
	// Like save_pretrained, architectures names the class saved (a
	// BertForMaskedLM checkpoint fine-tuned here is saved as a classifier).
	extra := make(map[string]json.RawMessage, len(c.Extra)+1)
	for k, v := range c.Extra {
		extra[k] = v
	}
	extra["architectures"] = json.RawMessage(`["` + arch + `"]`)
	c.Extra = extra
	js, err := c.MarshalJSON()
	if err != nil {
		return err
	}
	layout := bertLayout(&c, prefix != "")
	shapes := make(map[string][]int, len(layout))
	for _, k := range layout {
		shapes[k.key] = k.shape
	}
	ts := map[string]safetensors.Tensor{}
	for _, np := range nn.NamedParameters(m) {
		key := strings.TrimPrefix(np.Name, "bert.")
		shape, ok := shapes[key]
		if !ok || !slices.Equal(shape, np.Tensor.Shape) {
			return fmt.Errorf("transformer: saving BERT: %s of shape %v is not in the layout of its config", np.Name, np.Tensor.Shape)
		}
		if !strings.HasPrefix(key, "classifier.") {
			key = prefix + key
		}
		ts[key] = safetensors.Tensor{DType: "F32", Shape: np.Tensor.Shape, F32: np.Tensor.Data}
	}
	if len(ts) != len(layout) {
		return errors.New("transformer: saving BERT: the model's parameters do not match its config's layout")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := safetensors.SaveFile(filepath.Join(dir, "model.safetensors"), ts, map[string]string{"format": "pt"}); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, "config.json"), append(js, '\n'), 0o644)
}
