package transformer

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/simdformer/simdformer/internal/atomicfile"
)

// Config describes a model: its sizes, where it applies dropout and at what
// rate, and its block variant. It reads JSON written with this package's
// own field names or with the names BERT (Hugging Face BertConfig), GPT-2
// (GPT2Config) and PyTorch's nn.TransformerEncoderLayer use.
//
// All dropout rates are DROP probabilities (PyTorch's convention): 0.1 drops
// one activation in ten and scales the kept ones by 1/0.9.
//
// Where each rate applies (see Block for the exact order):
//
//	AttnDropout   the attention probabilities, after the softmax
//	              (BERT attention_probs_dropout_prob, GPT-2 attn_pdrop)
//	FFNDropout    the feed-forward hidden layer, after the activation
//	              (the tutorial's ff.2; BERT and GPT-2 have none there)
//	ResidDropout  each sublayer's output, before it is added to the residual
//	              (BERT hidden_dropout_prob, GPT-2 resid_pdrop)
//	EmbedDropout  the sum of token and position embeddings
//	              (BERT hidden_dropout_prob, GPT-2 embd_pdrop)
//	DropPath      stochastic depth: the largest per-sample probability of
//	              skipping a residual branch, reached by the last block; block
//	              i of n uses DropPath*i/(n-1) (timm's drop_path_rate)
type Config struct {
	VocabSize    int     `json:"vocab_size,omitempty"`
	MaxPositions int     `json:"max_positions,omitempty"` // 0: no learned position embedding
	EmbedDim     int     `json:"embed_dim"`
	NumHeads     int     `json:"num_heads"`
	FFDim        int     `json:"ff_dim"`
	NumLayers    int     `json:"num_layers"`
	NumClasses   int     `json:"num_classes,omitempty"`
	Activation   string  `json:"activation,omitempty"` // "relu" (default), "gelu" (exact erf) or "gelu_tanh"
	LayerNormEps float32 `json:"layer_norm_eps,omitempty"`
	NormFirst    bool    `json:"norm_first,omitempty"` // pre-norm blocks (GPT-2); default post-norm (tutorial, BERT)
	Causal       bool    `json:"causal,omitempty"`     // causal self-attention (the tutorial's MaskedTransformerBlock)

	AttnDropout  float32 `json:"attn_dropout"`
	FFNDropout   float32 `json:"ffn_dropout"`
	ResidDropout float32 `json:"resid_dropout"`
	EmbedDropout float32 `json:"embed_dropout"`
	DropPath     float32 `json:"drop_path_rate,omitempty"`
}

// DefaultLayerNormEps is PyTorch's LayerNorm eps, used when Config.LayerNormEps is 0.
const DefaultLayerNormEps = 1e-5

// SetDropout sets the four activation dropout rates (not DropPath) to p,
// as the tutorial's single `dropout` argument and nn.TransformerEncoderLayer's
// `dropout` do.
func (c *Config) SetDropout(p float32) {
	c.AttnDropout, c.FFNDropout, c.ResidDropout, c.EmbedDropout = p, p, p, p
}

// Limits checked by Config.Validate. They keep every size computation in
// range and refuse configs no file or machine could back, so a hostile
// config gives an error instead of an out-of-memory crash.
const (
	// MaxDim bounds embed_dim, ff_dim, num_heads, vocab_size,
	// max_positions and num_classes.
	MaxDim = 1 << 24
	// MaxLayers bounds num_layers.
	MaxLayers = 1 << 12
	// MaxTensorElements bounds the elements of any one parameter (2^31-1,
	// less on 32-bit platforms, where a float32 slice holds at most
	// MaxInt/4 elements).
	MaxTensorElements = min(1<<31-1, math.MaxInt/4)
	// MaxParameters bounds the total number of parameters of any model
	// the config describes (2^33, about 34 GB of float32; less on 32-bit
	// platforms).
	MaxParameters = min(1<<33, math.MaxInt/4)
)

// Validate reports the first inconsistent or out-of-range field. Beyond
// signs and divisibility it checks the limits above: each size at most
// MaxDim, num_layers at most MaxLayers, each parameter tensor at most
// MaxTensorElements and the largest model the config can describe (an
// encoder–decoder with both embeddings and a head) at most MaxParameters,
// all without overflow.
func (c *Config) Validate() error {
	switch {
	case c.EmbedDim <= 0:
		return fmt.Errorf("transformer: embed_dim %d must be positive", c.EmbedDim)
	case c.NumHeads <= 0 || c.EmbedDim%c.NumHeads != 0:
		return fmt.Errorf("transformer: embed_dim %d must be divisible by num_heads %d", c.EmbedDim, c.NumHeads)
	case c.FFDim <= 0:
		return fmt.Errorf("transformer: ff_dim %d must be positive", c.FFDim)
	case c.NumLayers < 0:
		return fmt.Errorf("transformer: num_layers %d is negative", c.NumLayers)
	case c.VocabSize < 0 || c.MaxPositions < 0 || c.NumClasses < 0:
		return fmt.Errorf("transformer: negative vocab_size %d, max_positions %d or num_classes %d",
			c.VocabSize, c.MaxPositions, c.NumClasses)
	case c.LayerNormEps < 0 || math.IsInf(float64(c.LayerNormEps), 0) || c.LayerNormEps != c.LayerNormEps:
		return fmt.Errorf("transformer: layer_norm_eps %g must be finite and non-negative", c.LayerNormEps)
	case c.NumLayers > MaxLayers:
		return fmt.Errorf("transformer: num_layers %d exceeds the limit of %d", c.NumLayers, MaxLayers)
	}
	for _, d := range []struct {
		name string
		v    int
	}{{"embed_dim", c.EmbedDim}, {"ff_dim", c.FFDim}, {"num_heads", c.NumHeads}, {"vocab_size", c.VocabSize},
		{"max_positions", c.MaxPositions}, {"num_classes", c.NumClasses}} {
		if d.v > MaxDim {
			return fmt.Errorf("transformer: %s %d exceeds the limit of %d", d.name, d.v, MaxDim)
		}
	}
	// Every size is now at most 2^24, so these products fit in int64 (on
	// 32-bit platforms too).
	e, f, v, p, k := int64(c.EmbedDim), int64(c.FFDim), int64(c.VocabSize), int64(c.MaxPositions), int64(c.NumClasses)
	for _, t := range []struct {
		name string
		n    int64
	}{{"in_proj_weight (3·embed_dim, embed_dim)", 3 * e * e}, {"feed-forward weight (ff_dim, embed_dim)", f * e},
		{"token embedding (vocab_size, embed_dim)", v * e}, {"position embedding (max_positions, embed_dim)", p * e},
		{"head (num_classes, embed_dim)", k * e}} {
		if t.n > MaxTensorElements {
			return fmt.Errorf("transformer: the %s would hold %d elements, more than the limit of %d", t.name, t.n, int64(MaxTensorElements))
		}
	}
	// Each tensor is now below 2^31 elements, so a decoder block is below
	// 2^35 and the total below 2^12·2^36 + 2^34: no overflow.
	attn := 4*e*e + 4*e
	block := attn + 2*f*e + f + e + 4*e // attention, feed-forward, two norms
	decoder := block + attn + 2*e       // plus cross-attention and a third norm
	total := int64(c.NumLayers)*(block+decoder) + 3*v*e + p*e + v + k*e + k + 2*e
	if total > MaxParameters {
		return fmt.Errorf("transformer: the config describes models of up to %d parameters, more than the limit of %d", total, int64(MaxParameters))
	}
	if _, err := parseActivation(c.Activation); err != nil {
		return err
	}
	for _, r := range []struct {
		name string
		p    float32
	}{{"attn_dropout", c.AttnDropout}, {"ffn_dropout", c.FFNDropout}, {"resid_dropout", c.ResidDropout},
		{"embed_dropout", c.EmbedDropout}, {"drop_path_rate", c.DropPath}} {
		if !(r.p >= 0 && r.p <= 1) {
			return fmt.Errorf("transformer: %s %g: dropout probability has to be between 0 and 1", r.name, r.p)
		}
	}
	return nil
}

func (c *Config) eps() float32 {
	if c.LayerNormEps == 0 {
		return DefaultLayerNormEps
	}
	return c.LayerNormEps
}

// configJSON lists every accepted JSON name. Pointers tell "absent" from 0.
type configJSON struct {
	// Sizes: ours, BERT, GPT-2, PyTorch.
	VocabSize    *int `json:"vocab_size"`
	MaxPositions *int `json:"max_positions"`
	BertMaxPos   *int `json:"max_position_embeddings"`
	GPTMaxPos    *int `json:"n_positions"`
	EmbedDim     *int `json:"embed_dim"`
	BertHidden   *int `json:"hidden_size"`
	GPTEmbd      *int `json:"n_embd"`
	TorchDModel  *int `json:"d_model"`
	NumHeads     *int `json:"num_heads"`
	BertHeads    *int `json:"num_attention_heads"`
	GPTHead      *int `json:"n_head"`
	TorchNHead   *int `json:"nhead"`
	FFDim        *int `json:"ff_dim"`
	BertInter    *int `json:"intermediate_size"`
	GPTInner     *int `json:"n_inner"`
	TorchFF      *int `json:"dim_feedforward"`
	NumLayers    *int `json:"num_layers"`
	BertLayers   *int `json:"num_hidden_layers"`
	GPTLayer     *int `json:"n_layer"`
	NumBlocks    *int `json:"num_blocks"`
	NumClasses   *int `json:"num_classes"`
	NumLabels    *int `json:"num_labels"`

	Activation   *string  `json:"activation"`
	BertAct      *string  `json:"hidden_act"`
	GPTAct       *string  `json:"activation_function"`
	LayerNormEps *float32 `json:"layer_norm_eps"`
	GPTEps       *float32 `json:"layer_norm_epsilon"`
	NormFirst    *bool    `json:"norm_first"`
	Causal       *bool    `json:"causal"`

	// Dropout: a single rate first, then each family's names, then ours.
	Dropout        *float32 `json:"dropout"`
	BertHiddenDrop *float32 `json:"hidden_dropout_prob"`
	BertAttn       *float32 `json:"attention_probs_dropout_prob"`
	GPTEmbdDrop    *float32 `json:"embd_pdrop"`
	GPTAttn        *float32 `json:"attn_pdrop"`
	GPTResid       *float32 `json:"resid_pdrop"`
	AttnDropout    *float32 `json:"attn_dropout"`
	FFNDropout     *float32 `json:"ffn_dropout"`
	ResidDropout   *float32 `json:"resid_dropout"`
	EmbedDropout   *float32 `json:"embed_dropout"`
	DropPath       *float32 `json:"drop_path_rate"`
}

// UnmarshalJSON reads a config written with this package's names or with
// BERT's, GPT-2's or PyTorch's. Fields absent from the JSON keep the value
// they had. When several names for one field are present, the more specific
// wins: "dropout" sets every activation rate first; then BERT's
// hidden_dropout_prob (residual and embedding dropout) and
// attention_probs_dropout_prob; then GPT-2's resid_pdrop, embd_pdrop and
// attn_pdrop; then this package's own names. The activation names "gelu"
// (exact), "gelu_new" and "gelu_pytorch_tanh" (tanh form) and "relu" are
// understood.
func (c *Config) UnmarshalJSON(data []byte) error {
	var j configJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	ints := func(dst *int, srcs ...*int) {
		for _, s := range srcs {
			if s != nil {
				*dst = *s
			}
		}
	}
	floats := func(dst *float32, srcs ...*float32) {
		for _, s := range srcs {
			if s != nil {
				*dst = *s
			}
		}
	}
	ints(&c.VocabSize, j.VocabSize)
	ints(&c.MaxPositions, j.BertMaxPos, j.GPTMaxPos, j.MaxPositions)
	ints(&c.EmbedDim, j.BertHidden, j.GPTEmbd, j.TorchDModel, j.EmbedDim)
	ints(&c.NumHeads, j.BertHeads, j.GPTHead, j.TorchNHead, j.NumHeads)
	ints(&c.NumLayers, j.BertLayers, j.GPTLayer, j.NumBlocks, j.NumLayers)
	ints(&c.NumClasses, j.NumLabels, j.NumClasses)
	ints(&c.FFDim, j.BertInter, j.TorchFF, j.FFDim)
	if j.GPTInner != nil && *j.GPTInner > 0 { // GPT-2 writes null or 4*n_embd
		c.FFDim = *j.GPTInner
	}
	if c.FFDim == 0 && j.GPTEmbd != nil {
		c.FFDim = 4 * *j.GPTEmbd
	}
	for _, a := range []*string{j.BertAct, j.GPTAct, j.Activation} {
		if a != nil {
			c.Activation = *a
		}
	}
	floats(&c.LayerNormEps, j.GPTEps, j.LayerNormEps)
	if j.NormFirst != nil {
		c.NormFirst = *j.NormFirst
	}
	if j.GPTEmbd != nil && j.NormFirst == nil {
		c.NormFirst = true // GPT-2 blocks are pre-norm
	}
	if j.Causal != nil {
		c.Causal = *j.Causal
	}
	if j.Dropout != nil {
		c.SetDropout(*j.Dropout)
	}
	floats(&c.ResidDropout, j.BertHiddenDrop, j.GPTResid, j.ResidDropout)
	floats(&c.EmbedDropout, j.BertHiddenDrop, j.GPTEmbdDrop, j.EmbedDropout)
	floats(&c.AttnDropout, j.BertAttn, j.GPTAttn, j.AttnDropout)
	floats(&c.FFNDropout, j.FFNDropout)
	if (j.BertHiddenDrop != nil || j.GPTResid != nil) && j.Dropout == nil && j.FFNDropout == nil {
		c.FFNDropout = 0 // BERT and GPT-2 put no dropout inside the FFN
	}
	floats(&c.DropPath, j.DropPath)
	return nil
}

// MarshalJSON writes the config with this package's names, plus BERT's and
// GPT-2's dropout names, so tools that read either family's files see the
// rates they expect.
func (c Config) MarshalJSON() ([]byte, error) {
	type plain Config // no methods: no recursion
	out := struct {
		plain
		HiddenDropoutProb         float32 `json:"hidden_dropout_prob"`
		AttentionProbsDropoutProb float32 `json:"attention_probs_dropout_prob"`
		EmbdPdrop                 float32 `json:"embd_pdrop"`
		AttnPdrop                 float32 `json:"attn_pdrop"`
		ResidPdrop                float32 `json:"resid_pdrop"`
	}{plain(c), c.ResidDropout, c.AttnDropout, c.EmbedDropout, c.AttnDropout, c.ResidDropout}
	return json.Marshal(out)
}

// SaveConfig writes c as indented JSON, atomically and durably (see the
// package documentation, "Saving and loading").
func SaveConfig(path string, c Config) error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(data, '\n'), 0o644)
}
