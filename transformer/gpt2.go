package transformer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/safetensors"
)

// GPT2Config is Hugging Face's GPT2Config (config.json): the fields the
// model uses, typed, plus every other field as read (token ids,
// initializer_range, task_specific_params, …) so SaveGPT2 writes them back.
// Absent fields take GPT2Config's defaults.
type GPT2Config struct {
	VocabSize  int // vocab_size (50257)
	NPositions int // n_positions (1024)
	NEmbd      int // n_embd (768)
	NLayer     int // n_layer (12)
	NHead      int // n_head (12)
	// NInner is n_inner, the feed-forward width; 0 (JSON null) means 4·n_embd.
	NInner             int
	ActivationFunction string  // activation_function: gelu_new, gelu_pytorch_tanh, gelu or relu
	LayerNormEpsilon   float64 // layer_norm_epsilon (1e-5)
	ResidPdrop         float64 // resid_pdrop (0.1)
	EmbdPdrop          float64 // embd_pdrop (0.1)
	AttnPdrop          float64 // attn_pdrop (0.1)
	ScaleAttnWeights   bool    // scale_attn_weights (true): scores / √head_dim
	TieWordEmbeddings  bool    // tie_word_embeddings (true): lm_head is wte

	// Extra holds every other field of the file, written back unchanged.
	Extra map[string]json.RawMessage
}

// DefaultGPT2Config returns GPT2Config's defaults (GPT-2 small).
func DefaultGPT2Config() GPT2Config {
	return GPT2Config{VocabSize: 50257, NPositions: 1024, NEmbd: 768, NLayer: 12, NHead: 12,
		ActivationFunction: "gelu_new", LayerNormEpsilon: 1e-5, ResidPdrop: 0.1, EmbdPdrop: 0.1, AttnPdrop: 0.1,
		ScaleAttnWeights: true, TieWordEmbeddings: true}
}

// gpt2Refused lists settings whose non-default values this model cannot
// honour; a config that sets one is refused with an error naming it.
var gpt2Refused = []string{"scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn", "add_cross_attention",
	"is_encoder_decoder", "pruned_heads", "chunk_size_feed_forward"}

// maxGPT2Dim bounds every size in a config: larger values are refused
// before anything is allocated.
const maxGPT2Dim = 1 << 24

// ParseGPT2Config reads a Hugging Face GPT-2 config.json. It refuses
// model types other than gpt2, activations other than gelu_new,
// gelu_pytorch_tanh, gelu and relu, inconsistent sizes and settings the
// model cannot honour (scale_attn_by_inverse_layer_idx,
// reorder_and_upcast_attn, add_cross_attention, …), naming the field.
func ParseGPT2Config(data []byte) (GPT2Config, error) {
	c := DefaultGPT2Config()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return GPT2Config{}, fmt.Errorf("transformer: GPT-2 config: %w", err)
	}
	if raw == nil {
		return GPT2Config{}, errors.New("transformer: GPT-2 config: not a JSON object")
	}
	field := func(name string, dst any) error {
		v, ok := raw[name]
		if !ok {
			return nil
		}
		delete(raw, name)
		if err := json.Unmarshal(v, dst); err != nil {
			return fmt.Errorf("transformer: GPT-2 config: %s: %w", name, err)
		}
		return nil
	}
	var nInner *int
	for _, f := range []struct {
		name string
		dst  any
	}{{"vocab_size", &c.VocabSize}, {"n_positions", &c.NPositions}, {"n_embd", &c.NEmbd}, {"n_layer", &c.NLayer},
		{"n_head", &c.NHead}, {"n_inner", &nInner}, {"activation_function", &c.ActivationFunction},
		{"layer_norm_epsilon", &c.LayerNormEpsilon}, {"resid_pdrop", &c.ResidPdrop}, {"embd_pdrop", &c.EmbdPdrop},
		{"attn_pdrop", &c.AttnPdrop}, {"scale_attn_weights", &c.ScaleAttnWeights},
		{"tie_word_embeddings", &c.TieWordEmbeddings}} {
		if err := field(f.name, f.dst); err != nil {
			return GPT2Config{}, err
		}
	}
	if nInner != nil {
		c.NInner = *nInner
		if c.NInner <= 0 {
			return GPT2Config{}, fmt.Errorf("transformer: GPT-2 config: n_inner %d must be positive or null", c.NInner)
		}
	}
	if mt, ok := raw["model_type"]; ok {
		var s string
		if json.Unmarshal(mt, &s) != nil || s != "gpt2" {
			return GPT2Config{}, fmt.Errorf("transformer: GPT-2 config: model_type %s is not \"gpt2\"", mt)
		}
	}
	for _, name := range gpt2Refused {
		v, ok := raw[name]
		if !ok {
			continue
		}
		switch s := string(bytes.TrimSpace(v)); s {
		case "false", "null", "0", "{}", "[]":
		default:
			return GPT2Config{}, fmt.Errorf("transformer: GPT-2 config: %s = %s is not supported", name, s)
		}
	}
	c.Extra = raw
	return c, c.Validate()
}

// Validate reports the first size, rate or activation the model cannot use.
func (c *GPT2Config) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"vocab_size", c.VocabSize}, {"n_positions", c.NPositions}, {"n_embd", c.NEmbd}, {"n_layer", c.NLayer},
		{"n_head", c.NHead}, {"n_inner", c.ffDim()}} {
		if (f.v <= 0 && f.name != "n_layer") || f.v < 0 || f.v > maxGPT2Dim {
			return fmt.Errorf("transformer: GPT-2 config: %s = %d is out of range", f.name, f.v)
		}
	}
	if c.NEmbd%c.NHead != 0 {
		return fmt.Errorf("transformer: GPT-2 config: n_embd %d is not divisible by n_head %d", c.NEmbd, c.NHead)
	}
	switch c.ActivationFunction {
	case "gelu_new", "gelu_pytorch_tanh", "gelu", "relu":
	default:
		return fmt.Errorf("transformer: GPT-2 config: activation_function %q is not supported (gelu_new, gelu_pytorch_tanh, gelu, relu)", c.ActivationFunction)
	}
	if !(c.LayerNormEpsilon >= 0 && c.LayerNormEpsilon < 1) {
		return fmt.Errorf("transformer: GPT-2 config: layer_norm_epsilon %g is out of range", c.LayerNormEpsilon)
	}
	for _, r := range []struct {
		name string
		p    float64
	}{{"resid_pdrop", c.ResidPdrop}, {"embd_pdrop", c.EmbdPdrop}, {"attn_pdrop", c.AttnPdrop}} {
		if !(r.p >= 0 && r.p <= 1) {
			return fmt.Errorf("transformer: GPT-2 config: %s %g must be in [0, 1]", r.name, r.p)
		}
	}
	return nil
}

func (c *GPT2Config) ffDim() int {
	if c.NInner == 0 {
		return 4 * c.NEmbd
	}
	return c.NInner
}

// Config returns the equivalent Config for NewLM.
func (c *GPT2Config) Config() Config {
	act := c.ActivationFunction
	if act != "gelu" && act != "relu" {
		act = "gelu_tanh"
	}
	return Config{VocabSize: c.VocabSize, MaxPositions: c.NPositions, EmbedDim: c.NEmbd, NumHeads: c.NHead,
		FFDim: c.ffDim(), NumLayers: c.NLayer, Activation: act, LayerNormEps: float32(c.LayerNormEpsilon),
		NormFirst: true, Causal: true, AttnDropout: float32(c.AttnPdrop), ResidDropout: float32(c.ResidPdrop),
		EmbedDropout: float32(c.EmbdPdrop)}
}

// MarshalJSON writes the config as Hugging Face does: the typed fields
// (n_inner null when it is 4·n_embd and was not given) and Extra.
func (c GPT2Config) MarshalJSON() ([]byte, error) {
	out := map[string]any{}
	for k, v := range c.Extra {
		out[k] = v
	}
	out["vocab_size"], out["n_positions"], out["n_embd"] = c.VocabSize, c.NPositions, c.NEmbd
	out["n_layer"], out["n_head"] = c.NLayer, c.NHead
	if c.NInner == 0 {
		out["n_inner"] = nil
	} else {
		out["n_inner"] = c.NInner
	}
	out["activation_function"] = c.ActivationFunction
	out["layer_norm_epsilon"] = c.LayerNormEpsilon
	out["resid_pdrop"], out["embd_pdrop"], out["attn_pdrop"] = c.ResidPdrop, c.EmbdPdrop, c.AttnPdrop
	out["scale_attn_weights"], out["tie_word_embeddings"] = c.ScaleAttnWeights, c.TieWordEmbeddings
	if _, ok := out["model_type"]; !ok {
		out["model_type"] = "gpt2"
	}
	if _, ok := out["architectures"]; !ok {
		out["architectures"] = []string{"GPT2LMHeadModel"}
	}
	return json.MarshalIndent(out, "", "  ")
}

// gpt2Param is one tensor of Hugging Face's GPT-2 layout: its key (no
// "transformer." prefix), its shape in the file, and for Conv1D weights
// (stored (in, out)) transposed from the model's (out, in).
type gpt2Param struct {
	key       string
	shape     []int
	transpose bool
	t         *nn.Tensor // nil when listing shapes only
}

// gpt2Layout lists the file's tensors for config c; with m (built from
// c), each names the model tensor it maps to.
func gpt2Layout(c *GPT2Config, m *LM) []gpt2Param {
	E, F, V := c.NEmbd, c.ffDim(), c.VocabSize
	var ps []gpt2Param
	add := func(key string, transpose bool, shape ...int) {
		ps = append(ps, gpt2Param{key: key, shape: shape, transpose: transpose})
	}
	add("wte.weight", false, V, E)
	add("wpe.weight", false, c.NPositions, E)
	for i := 0; i < c.NLayer; i++ {
		p := "h." + strconv.Itoa(i) + "."
		add(p+"ln_1.weight", false, E)
		add(p+"ln_1.bias", false, E)
		add(p+"attn.c_attn.weight", true, E, 3*E)
		add(p+"attn.c_attn.bias", false, 3*E)
		add(p+"attn.c_proj.weight", true, E, E)
		add(p+"attn.c_proj.bias", false, E)
		add(p+"ln_2.weight", false, E)
		add(p+"ln_2.bias", false, E)
		add(p+"mlp.c_fc.weight", true, E, F)
		add(p+"mlp.c_fc.bias", false, F)
		add(p+"mlp.c_proj.weight", true, F, E)
		add(p+"mlp.c_proj.bias", false, E)
	}
	add("ln_f.weight", false, E)
	add("ln_f.bias", false, E)
	if !c.TieWordEmbeddings {
		add("lm_head.weight", false, V, E)
	}
	if m == nil {
		return ps
	}
	// The model's tensors, in the same order.
	ts := []*nn.Tensor{m.Wte.Weight, m.Wpe.Weight}
	for _, b := range m.Blocks.Blocks {
		ts = append(ts, b.Norm1.Weight, b.Norm1.Bias, b.Attn.InProjWeight, b.Attn.InProjBias,
			b.Attn.OutProj.Weight, b.Attn.OutProj.Bias, b.Norm2.Weight, b.Norm2.Bias,
			b.Linear1.Weight, b.Linear1.Bias, b.Linear2.Weight, b.Linear2.Bias)
	}
	ts = append(ts, m.LnF.Weight, m.LnF.Bias)
	if !c.TieWordEmbeddings {
		ts = append(ts, m.Head)
	}
	for i := range ps {
		ps[i].t = ts[i]
	}
	return ps
}

// isGPT2Buffer reports the causal-mask buffers old checkpoints carry
// (h.{i}.attn.bias, h.{i}.attn.masked_bias), which hold no parameters.
func isGPT2Buffer(key string) bool {
	if !strings.HasPrefix(key, "h.") {
		return false
	}
	return strings.HasSuffix(key, ".attn.bias") || strings.HasSuffix(key, ".attn.masked_bias")
}

// LoadGPT2 loads a Hugging Face GPT-2 (GPT2LMHeadModel) from dir, which
// holds config.json and model.safetensors (F32, F16 or BF16). Keys may
// carry the "transformer." prefix; lm_head.weight may be absent, or must
// equal wte.weight unless tie_word_embeddings is false (then it is
// required); the causal-mask buffers of old checkpoints are ignored.
// Conv1D weights, stored (in, out), are transposed to the model's (out,
// in). Names and shapes are checked against the config before the model
// is built; every problem is an error, never a panic. The model is in
// training mode, like a new module (call nn.Eval for inference).
func LoadGPT2(dir string) (*LM, error) {
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("transformer: LoadGPT2: %w", err)
	}
	c, err := ParseGPT2Config(data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, filepath.Join(dir, "config.json"))
	}
	path := filepath.Join(dir, "model.safetensors")
	raw, _, err := safetensors.LoadFile(path)
	if err != nil {
		return nil, fmt.Errorf("transformer: LoadGPT2: %w", err)
	}
	ts := make(map[string]safetensors.Tensor, len(raw))
	for k, t := range raw {
		name := strings.TrimPrefix(k, "transformer.")
		if isGPT2Buffer(name) {
			continue
		}
		if _, dup := ts[name]; dup {
			return nil, fmt.Errorf("transformer: LoadGPT2: %s holds %s with and without the transformer. prefix", path, name)
		}
		ts[name] = t
	}
	layout := gpt2Layout(&c, nil)
	want := map[string]bool{}
	for _, p := range layout {
		want[p.key] = true
		t, ok := ts[p.key]
		if !ok {
			return nil, fmt.Errorf("transformer: LoadGPT2: %s has no tensor %s", path, p.key)
		}
		if !slices.Equal(t.Shape, p.shape) || len(t.F32) != t.NumElements() {
			return nil, fmt.Errorf("transformer: LoadGPT2: %s: %s has shape %v, the config wants %v", path, p.key, t.Shape, p.shape)
		}
	}
	var extra []string
	for k := range ts {
		if !want[k] && !(k == "lm_head.weight" && c.TieWordEmbeddings) {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return nil, fmt.Errorf("transformer: LoadGPT2: %s has tensors a GPT-2 of this config does not: %s", path, strings.Join(extra, ", "))
	}
	if h, ok := ts["lm_head.weight"]; ok && c.TieWordEmbeddings {
		w := ts["wte.weight"]
		if !slices.Equal(h.Shape, w.Shape) || !sameBits(h.F32, w.F32) {
			return nil, fmt.Errorf("transformer: LoadGPT2: %s: lm_head.weight differs from wte.weight but tie_word_embeddings is true", path)
		}
	}
	m, err := NewGPT2(c)
	if err != nil {
		return nil, err
	}
	for _, p := range gpt2Layout(&c, m) {
		src := ts[p.key].F32
		if p.transpose {
			transposeInto(p.t.Data, src, p.shape[0], p.shape[1])
		} else {
			copy(p.t.Data, src)
		}
	}
	return m, nil
}

// NewGPT2 builds a randomly initialised GPT-2 of config c (NewLM's
// initialisation) that keeps c: untied head and unscaled attention when
// c says so, and c's other fields for SaveGPT2.
func NewGPT2(c GPT2Config) (*LM, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	m, err := NewLM(c.Config())
	if err != nil {
		return nil, err
	}
	if !c.ScaleAttnWeights {
		m.AttnScale = 1
	}
	if !c.TieWordEmbeddings {
		m.Head = nn.NewParam(c.VocabSize, c.NEmbd)
		copy(m.Head.Data, m.Wte.Weight.Data)
	}
	cc := c
	m.GPT2 = &cc
	return m, nil
}

// transposeInto writes the (cols, rows) transpose of src (rows, cols) to dst.
func transposeInto(dst, src []float32, rows, cols int) {
	for r := 0; r < rows; r++ {
		for c, v := range src[r*cols : (r+1)*cols] {
			dst[c*rows+r] = v
		}
	}
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// GPT2ConfigOf returns the Hugging Face config describing m: the sizes,
// activation, epsilon, dropout rates, attention scale and head tying of the
// model as it is now, with the other fields of the config it was loaded
// with (m.GPT2), if any (torch_dtype, when present, becomes float32: the
// dtype SaveGPT2 writes).
func (m *LM) GPT2ConfigOf() (GPT2Config, error) {
	c := DefaultGPT2Config()
	if m.GPT2 != nil {
		c = *m.GPT2
	}
	if _, ok := c.Extra["torch_dtype"]; ok { // SaveGPT2 writes F32
		extra := make(map[string]json.RawMessage, len(c.Extra))
		for k, v := range c.Extra {
			extra[k] = v
		}
		extra["torch_dtype"] = json.RawMessage(`"float32"`)
		c.Extra = extra
	}
	c.VocabSize, c.NEmbd = m.Wte.Weight.Shape[0], m.Wte.Weight.Shape[1]
	c.NPositions = m.Wpe.Weight.Shape[0]
	c.NLayer = len(m.Blocks.Blocks)
	c.EmbdPdrop = roundRate(m.Drop.P)
	c.LayerNormEpsilon = roundRate(m.LnF.Eps)
	c.TieWordEmbeddings = m.Head == nil
	switch {
	case m.AttnScale == 0:
		c.ScaleAttnWeights = true
	case m.AttnScale == 1:
		c.ScaleAttnWeights = false
	default:
		return GPT2Config{}, fmt.Errorf("transformer: SaveGPT2: attention scale %g is neither 1/√head_dim nor 1", m.AttnScale)
	}
	if c.NLayer > 0 {
		b := m.Blocks.Blocks[0]
		c.NHead = b.Attn.NumHeads
		// n_inner stays as given when it still holds; 4·n_embd is null.
		ff := b.Linear1.Weight.Shape[0]
		if c.NInner != ff {
			c.NInner = ff
			if ff == 4*c.NEmbd {
				c.NInner = 0
			}
		}
		switch a := b.Act.(type) {
		case nn.ReLU:
			c.ActivationFunction = "relu"
		case nn.GELU:
			if !a.Tanh {
				c.ActivationFunction = "gelu"
			} else if c.ActivationFunction != "gelu_pytorch_tanh" {
				c.ActivationFunction = "gelu_new"
			}
		}
		c.AttnPdrop, c.ResidPdrop = roundRate(b.Attn.P), roundRate(b.Dropout1.P)
		if !b.NormFirst || !b.Causal || b.DropPath1 != nil || b.FFDropout.P != 0 {
			return GPT2Config{}, errors.New("transformer: SaveGPT2: the blocks are not GPT-2's (pre-norm, causal, no FFN dropout or drop path)")
		}
	}
	return c, c.Validate()
}

// roundRate is the shortest decimal that converts back to the float32 v,
// so 0.1 is written as 0.1, not 0.10000000149011612.
func roundRate(v float32) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(v), 'g', -1, 32), 64)
	return f
}

// SaveGPT2 writes m to dir (created if needed) in Hugging Face's layout:
// config.json (GPT2ConfigOf) and model.safetensors (F32, keys without
// prefix, Conv1D weights (in, out), lm_head.weight only when untied,
// metadata format=pt), so GPT2LMHeadModel.from_pretrained(dir) loads it.
// Each file is written to a temporary name and renamed into place.
func (m *LM) SaveGPT2(dir string) error {
	c, err := m.GPT2ConfigOf()
	if err != nil {
		return err
	}
	js, err := c.MarshalJSON()
	if err != nil {
		return err
	}
	ts := map[string]safetensors.Tensor{}
	for _, p := range gpt2Layout(&c, m) {
		n := 1
		for _, d := range p.shape {
			n *= d
		}
		if p.t == nil || len(p.t.Data) != n {
			return fmt.Errorf("transformer: SaveGPT2: %s is missing or not of shape %v (not a GPT-2 layout)", p.key, p.shape)
		}
		data := p.t.Data
		if p.transpose {
			data = make([]float32, len(p.t.Data))
			transposeInto(data, p.t.Data, p.shape[1], p.shape[0])
		}
		ts[p.key] = safetensors.Tensor{DType: "F32", Shape: p.shape, F32: data}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := safetensors.SaveFile(filepath.Join(dir, "model.safetensors"), ts, map[string]string{"format": "pt"}); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, "config.json"), append(js, '\n'))
}

// writeFileAtomic writes data to a temporary file next to path, syncs it
// and renames it over path, so a crash never leaves a truncated file.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
