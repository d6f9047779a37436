package transformer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// BERTConfig is Hugging Face's BertConfig (config.json): the fields the
// model uses, typed, plus every other field as read (initializer_range,
// label2id, architectures, …) so SaveBERT and SaveBERTClassifier write them
// back. Absent fields take BertConfig's defaults.
type BERTConfig struct {
	VocabSize                 int     // vocab_size (30522)
	HiddenSize                int     // hidden_size (768)
	NumHiddenLayers           int     // num_hidden_layers (12)
	NumAttentionHeads         int     // num_attention_heads (12)
	IntermediateSize          int     // intermediate_size (3072)
	HiddenAct                 string  // hidden_act: gelu (exact), gelu_new or gelu_pytorch_tanh (tanh form), relu
	HiddenDropoutProb         float64 // hidden_dropout_prob (0.1): embeddings, attention output, FFN output
	AttentionProbsDropoutProb float64 // attention_probs_dropout_prob (0.1)
	MaxPositionEmbeddings     int     // max_position_embeddings (512)
	TypeVocabSize             int     // type_vocab_size (2)
	LayerNormEps              float64 // layer_norm_eps (1e-12)
	// PadTokenID is pad_token_id (0), the word embedding's padding_idx: its
	// row gets no gradient. -1 stands for JSON null (no padding row).
	PadTokenID int
	// PositionEmbeddingType is position_embedding_type; only "absolute"
	// is supported.
	PositionEmbeddingType string
	// ClassifierDropout is classifier_dropout, the rate before the
	// classifier; nil (JSON null) means HiddenDropoutProb.
	ClassifierDropout *float64
	// NumLabels is num_labels (2), the classifier's outputs. A file may give
	// id2label alone (what save_pretrained writes); then it is len(ID2Label).
	NumLabels int
	// ID2Label is id2label as a list (label i at index i); nil when the
	// file has none.
	ID2Label []string

	// Extra holds every other field of the file, written back unchanged.
	Extra map[string]json.RawMessage

	numLabelsGiven bool // num_labels was in the file: written back
}

// DefaultBERTConfig returns BertConfig's defaults (BERT-base).
func DefaultBERTConfig() BERTConfig {
	return BERTConfig{VocabSize: 30522, HiddenSize: 768, NumHiddenLayers: 12, NumAttentionHeads: 12,
		IntermediateSize: 3072, HiddenAct: "gelu", HiddenDropoutProb: 0.1, AttentionProbsDropoutProb: 0.1,
		MaxPositionEmbeddings: 512, TypeVocabSize: 2, LayerNormEps: 1e-12, PadTokenID: 0,
		PositionEmbeddingType: "absolute", NumLabels: 2}
}

// bertRefused lists settings whose non-default values this model cannot
// honour; a config that sets one is refused with an error naming it.
var bertRefused = []string{"is_decoder", "add_cross_attention", "pruned_heads"}

// Bounds of a BERT config: larger values are refused before anything is
// allocated.
const (
	maxBERTDim    = 1 << 24
	maxBERTLabels = 1 << 20
	// maxConfigSize caps the bytes read from a config.json.
	maxConfigSize = 64 << 20
)

// ParseBERTConfig reads a Hugging Face BERT config.json. It refuses model
// types other than bert, activations other than gelu, gelu_new,
// gelu_pytorch_tanh and relu, position_embedding_type other than
// "absolute", decoder and cross-attention settings, pruned heads,
// inconsistent sizes and out-of-range rates, naming the field.
func ParseBERTConfig(data []byte) (BERTConfig, error) {
	c := DefaultBERTConfig()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return BERTConfig{}, fmt.Errorf("transformer: BERT config: %w", err)
	}
	if raw == nil {
		return BERTConfig{}, errors.New("transformer: BERT config: not a JSON object")
	}
	field := func(name string, dst any) (bool, error) {
		v, ok := raw[name]
		if !ok {
			return false, nil
		}
		delete(raw, name)
		if err := json.Unmarshal(v, dst); err != nil {
			return true, fmt.Errorf("transformer: BERT config: %s: %w", name, err)
		}
		return true, nil
	}
	var pad, numLabels *int
	var id2label map[string]string
	for _, f := range []struct {
		name string
		dst  any
	}{{"vocab_size", &c.VocabSize}, {"hidden_size", &c.HiddenSize}, {"num_hidden_layers", &c.NumHiddenLayers},
		{"num_attention_heads", &c.NumAttentionHeads}, {"intermediate_size", &c.IntermediateSize},
		{"hidden_act", &c.HiddenAct}, {"hidden_dropout_prob", &c.HiddenDropoutProb},
		{"attention_probs_dropout_prob", &c.AttentionProbsDropoutProb},
		{"max_position_embeddings", &c.MaxPositionEmbeddings}, {"type_vocab_size", &c.TypeVocabSize},
		{"layer_norm_eps", &c.LayerNormEps}, {"position_embedding_type", &c.PositionEmbeddingType},
		{"classifier_dropout", &c.ClassifierDropout}} {
		if _, err := field(f.name, f.dst); err != nil {
			return BERTConfig{}, err
		}
	}
	if given, err := field("pad_token_id", &pad); err != nil {
		return BERTConfig{}, err
	} else if given {
		if pad == nil {
			c.PadTokenID = -1
		} else if c.PadTokenID = *pad; c.PadTokenID < 0 {
			return BERTConfig{}, fmt.Errorf("transformer: BERT config: pad_token_id %d must be >= 0 or null", c.PadTokenID)
		}
	}
	if given, err := field("num_labels", &numLabels); err != nil {
		return BERTConfig{}, err
	} else if given && numLabels != nil {
		c.NumLabels, c.numLabelsGiven = *numLabels, true
		if c.NumLabels <= 0 || c.NumLabels > maxBERTLabels {
			return BERTConfig{}, fmt.Errorf("transformer: BERT config: num_labels %d is out of range", c.NumLabels)
		}
	}
	if given, err := field("id2label", &id2label); err != nil {
		return BERTConfig{}, err
	} else if given && id2label != nil {
		if len(id2label) == 0 || len(id2label) > maxBERTLabels {
			return BERTConfig{}, fmt.Errorf("transformer: BERT config: id2label has %d labels", len(id2label))
		}
		c.ID2Label = make([]string, len(id2label))
		seen := make([]bool, len(id2label))
		for k, v := range id2label {
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(id2label) || seen[i] {
				return BERTConfig{}, fmt.Errorf("transformer: BERT config: id2label key %q is not one of 0..%d", truncate(k), len(id2label)-1)
			}
			seen[i] = true
			c.ID2Label[i] = v
		}
		if !c.numLabelsGiven {
			c.NumLabels = len(c.ID2Label)
		} else if c.NumLabels != len(c.ID2Label) {
			return BERTConfig{}, fmt.Errorf("transformer: BERT config: num_labels %d disagrees with the %d labels of id2label", c.NumLabels, len(c.ID2Label))
		}
	}
	if mt, ok := raw["model_type"]; ok {
		var s string
		if json.Unmarshal(mt, &s) != nil || s != "bert" {
			return BERTConfig{}, fmt.Errorf("transformer: BERT config: model_type %s is not \"bert\"", truncate(string(mt)))
		}
	}
	for _, name := range bertRefused {
		v, ok := raw[name]
		if !ok {
			continue
		}
		switch s := string(bytes.TrimSpace(v)); s {
		case "false", "null", "0", "{}", "[]":
		default:
			return BERTConfig{}, fmt.Errorf("transformer: BERT config: %s = %s is not supported", name, truncate(s))
		}
	}
	c.Extra = raw
	return c, c.Validate()
}

// Validate reports the first size, rate, activation or setting the model
// cannot use.
func (c *BERTConfig) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"vocab_size", c.VocabSize}, {"hidden_size", c.HiddenSize}, {"num_hidden_layers", c.NumHiddenLayers},
		{"num_attention_heads", c.NumAttentionHeads}, {"intermediate_size", c.IntermediateSize},
		{"max_position_embeddings", c.MaxPositionEmbeddings}, {"type_vocab_size", c.TypeVocabSize}} {
		if (f.v <= 0 && f.name != "num_hidden_layers") || f.v < 0 || f.v > maxBERTDim {
			return fmt.Errorf("transformer: BERT config: %s = %d is out of range", f.name, f.v)
		}
	}
	if c.HiddenSize%c.NumAttentionHeads != 0 {
		return fmt.Errorf("transformer: BERT config: hidden_size %d is not divisible by num_attention_heads %d", c.HiddenSize, c.NumAttentionHeads)
	}
	if _, err := bertActivation(c.HiddenAct); err != nil {
		return err
	}
	if c.PositionEmbeddingType != "absolute" {
		return fmt.Errorf("transformer: BERT config: position_embedding_type %q is not supported (only \"absolute\")", truncate(c.PositionEmbeddingType))
	}
	if !(c.LayerNormEps >= 0 && c.LayerNormEps < 1) {
		return fmt.Errorf("transformer: BERT config: layer_norm_eps %g is out of range", c.LayerNormEps)
	}
	if c.PadTokenID < -1 || c.PadTokenID >= c.VocabSize {
		return fmt.Errorf("transformer: BERT config: pad_token_id %d is outside the vocabulary of %d", c.PadTokenID, c.VocabSize)
	}
	rates := []struct {
		name string
		p    float64
	}{{"hidden_dropout_prob", c.HiddenDropoutProb}, {"attention_probs_dropout_prob", c.AttentionProbsDropoutProb}}
	if c.ClassifierDropout != nil {
		rates = append(rates, struct {
			name string
			p    float64
		}{"classifier_dropout", *c.ClassifierDropout})
	}
	for _, r := range rates {
		if !(r.p >= 0 && r.p <= 1) {
			return fmt.Errorf("transformer: BERT config: %s %g must be in [0, 1]", r.name, r.p)
		}
	}
	if c.NumLabels <= 0 || c.NumLabels > maxBERTLabels {
		return fmt.Errorf("transformer: BERT config: num_labels %d is out of range", c.NumLabels)
	}
	if c.ID2Label != nil && len(c.ID2Label) != c.NumLabels {
		return fmt.Errorf("transformer: BERT config: num_labels %d disagrees with the %d labels of id2label", c.NumLabels, len(c.ID2Label))
	}
	return nil
}

// classifierDropout is the rate before the classifier.
func (c *BERTConfig) classifierDropout() float64 {
	if c.ClassifierDropout != nil {
		return *c.ClassifierDropout
	}
	return c.HiddenDropoutProb
}

// MarshalJSON writes the config as Hugging Face does: Extra, then the
// typed fields (pad_token_id null for -1, classifier_dropout null when
// nil); id2label (with label2id when Extra has none) when ID2Label is set,
// num_labels when the file had it or when there is no id2label to imply it.
func (c BERTConfig) MarshalJSON() ([]byte, error) {
	out := map[string]any{}
	for k, v := range c.Extra {
		out[k] = v
	}
	out["vocab_size"], out["hidden_size"] = c.VocabSize, c.HiddenSize
	out["num_hidden_layers"], out["num_attention_heads"] = c.NumHiddenLayers, c.NumAttentionHeads
	out["intermediate_size"], out["hidden_act"] = c.IntermediateSize, c.HiddenAct
	out["hidden_dropout_prob"] = c.HiddenDropoutProb
	out["attention_probs_dropout_prob"] = c.AttentionProbsDropoutProb
	out["max_position_embeddings"], out["type_vocab_size"] = c.MaxPositionEmbeddings, c.TypeVocabSize
	out["layer_norm_eps"] = c.LayerNormEps
	if c.PadTokenID < 0 {
		out["pad_token_id"] = nil
	} else {
		out["pad_token_id"] = c.PadTokenID
	}
	out["position_embedding_type"] = c.PositionEmbeddingType
	if c.ClassifierDropout == nil {
		out["classifier_dropout"] = nil
	} else {
		out["classifier_dropout"] = *c.ClassifierDropout
	}
	if c.ID2Label != nil {
		id2label := make(map[string]string, len(c.ID2Label))
		for i, l := range c.ID2Label {
			id2label[strconv.Itoa(i)] = l
		}
		out["id2label"] = id2label
		if _, ok := out["label2id"]; !ok {
			label2id := make(map[string]int, len(c.ID2Label))
			for i, l := range c.ID2Label {
				label2id[l] = i
			}
			out["label2id"] = label2id
		}
	}
	if c.numLabelsGiven || (c.ID2Label == nil && c.NumLabels != 2) {
		out["num_labels"] = c.NumLabels
	}
	if _, ok := out["model_type"]; !ok {
		out["model_type"] = "bert"
	}
	return json.MarshalIndent(out, "", "  ")
}

// readConfigFile reads a config.json of at most maxConfigSize bytes.
func readConfigFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxConfigSize)
	}
	return data, nil
}
