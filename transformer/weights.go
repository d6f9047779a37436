package transformer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/safetensors"
)

// Kind names a model type. SaveClassifier, SaveLM, SaveSeq2Seq,
// SaveTorchEncoder and SaveTorchDecoder store it in the file's metadata under "model", and each
// Load function refuses a file of another kind, naming the kind it found.
type Kind string

// The model kinds.
const (
	KindClassifier   Kind = "classifier"
	KindLM           Kind = "lm"
	KindSeq2Seq      Kind = "seq2seq"
	KindTorchEncoder Kind = "torch_encoder"
	KindTorchDecoder Kind = "torch_decoder"
)

// SaveClassifier writes m's weights and configuration to path; see the
// package documentation, "Saving and loading".
func SaveClassifier(path string, m *Classifier) error {
	return saveModel(path, m, KindClassifier, m.cfg)
}

// LoadClassifier rebuilds the Classifier that SaveClassifier wrote to path.
func LoadClassifier(path string) (*Classifier, error) {
	return loadModel(path, KindClassifier, plain(NewClassifier))
}

// SaveLM writes m's weights and configuration to path; see the package
// documentation, "Saving and loading".
func SaveLM(path string, m *LM) error { return saveModel(path, m, KindLM, m.cfg) }

// LoadLM rebuilds the LM that SaveLM wrote to path.
func LoadLM(path string) (*LM, error) { return loadModel(path, KindLM, plain(NewLM)) }

// SaveSeq2Seq writes m's weights and configuration to path; see the
// package documentation, "Saving and loading".
func SaveSeq2Seq(path string, m *Seq2Seq) error {
	return saveModel(path, m, KindSeq2Seq, m.cfg)
}

// LoadSeq2Seq rebuilds the Seq2Seq that SaveSeq2Seq wrote to path.
func LoadSeq2Seq(path string) (*Seq2Seq, error) {
	return loadModel(path, KindSeq2Seq, plain(NewSeq2Seq))
}

// SaveTorchEncoder writes e's weights and configuration to path; see the
// package documentation, "Saving and loading". The file holds exactly the
// state_dict of PyTorch's nn.TransformerEncoder.
func SaveTorchEncoder(path string, e *TorchEncoder) error {
	return saveModel(path, e, KindTorchEncoder, e.Config.Config())
}

// LoadTorchEncoder rebuilds the TorchEncoder that SaveTorchEncoder wrote to
// path; the final norm is there when the file holds norm.weight. For a file
// PyTorch wrote (no configuration in it), build the encoder with
// NewTorchEncoder and read the weights with nn.LoadFile.
func LoadTorchEncoder(path string) (*TorchEncoder, error) {
	return loadModel(path, KindTorchEncoder, func(c Config, finalNorm bool) (*TorchEncoder, error) {
		tc, err := TorchEncoderConfigFrom(c, finalNorm)
		if err != nil {
			return nil, err
		}
		return NewTorchEncoder(tc)
	})
}

// SaveTorchDecoder writes d's weights and configuration to path; see the
// package documentation, "Saving and loading". The file holds exactly the
// state_dict of PyTorch's nn.TransformerDecoder.
func SaveTorchDecoder(path string, d *TorchDecoder) error {
	return saveModel(path, d, KindTorchDecoder, d.Config.Config())
}

// LoadTorchDecoder rebuilds the TorchDecoder that SaveTorchDecoder wrote to
// path; the final norm is there when the file holds norm.weight. For a file
// PyTorch wrote (no configuration in it), build the decoder with
// NewTorchDecoder and read the weights with nn.LoadFile.
func LoadTorchDecoder(path string) (*TorchDecoder, error) {
	return loadModel(path, KindTorchDecoder, func(c Config, finalNorm bool) (*TorchDecoder, error) {
		tc, err := TorchDecoderConfigFrom(c, finalNorm)
		if err != nil {
			return nil, err
		}
		return NewTorchDecoder(tc)
	})
}

// plain adapts a constructor that has no final-norm choice.
func plain[M nn.Module](build func(Config) (M, error)) func(Config, bool) (M, error) {
	return func(c Config, _ bool) (M, error) { return build(c) }
}

// saveModel writes m with its kind and config in the metadata: "model"
// holds the kind, "config" c as JSON, and "num_heads", "embed_dim",
// "ff_dim", "num_blocks" (the tutorial's name for the number of layers),
// "vocab_size" and "num_classes" repeat its sizes for scripts that rebuild
// the PyTorch module (scripts/torch_load_check.py).
func saveModel(path string, m nn.Module, kind Kind, c Config) error {
	js, err := json.Marshal(c)
	if err != nil {
		return err
	}
	meta := map[string]string{
		"format":     "pt",
		"model":      string(kind),
		"config":     string(js),
		"num_heads":  strconv.Itoa(c.NumHeads),
		"embed_dim":  strconv.Itoa(c.EmbedDim),
		"ff_dim":     strconv.Itoa(c.FFDim),
		"num_blocks": strconv.Itoa(c.NumLayers),
	}
	if c.VocabSize > 0 {
		meta["vocab_size"] = strconv.Itoa(c.VocabSize)
	}
	if c.NumClasses > 0 {
		meta["num_classes"] = strconv.Itoa(c.NumClasses)
	}
	return nn.SaveFile(path, m, meta)
}

// loadModel reads the header of path, checks its kind and config, compares
// its tensors' names and shapes with those the config implies (before
// allocating the model), builds the model and decodes the weights straight
// into it.
func loadModel[M nn.Module](path string, kind Kind, build func(c Config, finalNorm bool) (M, error)) (M, error) {
	var zero M
	fn := "Load" + kindFunc[kind]
	fail := func(err error) (M, error) { return zero, &loadError{"transformer: " + fn + ": " + path + ": ", err} }
	r, err := safetensors.OpenFile(path)
	if err != nil {
		return zero, fmt.Errorf("transformer: %s: %w", fn, err)
	}
	defer r.Close()
	meta := r.Metadata()
	found, ok := meta["model"]
	switch {
	case !ok && meta["config"] == "":
		return fail(errors.New("no \"model\" and \"config\" metadata: not written by this package's Save functions (for a PyTorch state_dict, build the model and use nn.LoadFile)"))
	case !ok:
		return fail(errors.New("no \"model\" metadata: cannot tell which model the file holds"))
	case Kind(found) != kind:
		msg := fmt.Sprintf("the file holds a model of kind %q, not %q", truncate(found), kind)
		if f, ok := kindFunc[Kind(found)]; ok {
			msg += "; use Load" + f
		}
		return fail(errors.New(msg))
	}
	c, err := configFromMeta(meta)
	if err != nil {
		return fail(err)
	}
	_, finalNorm := r.Lookup("norm.weight") // TorchEncoder's optional final norm
	if err := c.requireFor(kind, finalNorm); err != nil {
		return fail(err)
	}
	if err := checkTensors(r, c, kind, finalNorm); err != nil {
		return fail(err)
	}
	m, err := build(c, finalNorm)
	if err != nil {
		return fail(err)
	}
	for _, nt := range nn.NamedParameters(m) {
		if err := r.Read(nt.Name, nt.Tensor.Data); err != nil {
			return zero, fmt.Errorf("transformer: %s: %w", fn, err)
		}
	}
	return m, nil
}

// loadError prefixes an error with the loader and the path, without
// repeating the "transformer: " of errors from Validate and the
// constructors.
type loadError struct {
	prefix string
	err    error
}

func (e *loadError) Error() string {
	return e.prefix + strings.TrimPrefix(e.err.Error(), "transformer: ")
}
func (e *loadError) Unwrap() error { return e.err }

var kindFunc = map[Kind]string{KindClassifier: "Classifier", KindLM: "LM", KindSeq2Seq: "Seq2Seq", KindTorchEncoder: "TorchEncoder", KindTorchDecoder: "TorchDecoder"}

// maxConfigJSON bounds the size of a JSON config (files and metadata).
const maxConfigJSON = 1 << 20

// configFromMeta parses and validates the config a Save function stored
// in a file's metadata.
func configFromMeta(meta map[string]string) (Config, error) {
	js, ok := meta["config"]
	if !ok {
		return Config{}, errors.New("no \"config\" metadata")
	}
	if len(js) > maxConfigJSON {
		return Config{}, fmt.Errorf("config metadata of %d bytes exceeds %d", len(js), maxConfigJSON)
	}
	var c Config
	if err := json.Unmarshal([]byte(js), &c); err != nil {
		return Config{}, fmt.Errorf("config metadata: %w", err)
	}
	return c, c.Validate()
}

// ReadConfig reads a model's configuration from path, which holds either a
// JSON config (this package's names or BERT's, GPT-2's or PyTorch's; see
// Config.UnmarshalJSON) or a model file written by a Save function (only
// its header is read). The result is validated. SaveConfig writes the JSON
// form.
func ReadConfig(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigJSON+1))
	if err != nil {
		return Config{}, err
	}
	if first := firstNonSpace(data); first == '{' {
		if len(data) > maxConfigJSON {
			return Config{}, fmt.Errorf("transformer: ReadConfig: %s: JSON config larger than %d bytes", path, maxConfigJSON)
		}
		var c Config
		if err := json.Unmarshal(data, &c); err != nil {
			return Config{}, fmt.Errorf("transformer: ReadConfig: %s: %w", path, err)
		}
		if err := c.Validate(); err != nil {
			return Config{}, fmt.Errorf("%w (in %s)", err, path)
		}
		return c, nil
	}
	st, err := f.Stat()
	if err != nil {
		return Config{}, err
	}
	r, err := safetensors.NewReader(f, st.Size())
	if err != nil {
		return Config{}, fmt.Errorf("transformer: ReadConfig: %s is neither a JSON config nor a safetensors file: %w", path, err)
	}
	c, err := configFromMeta(r.Metadata())
	if err != nil {
		return Config{}, fmt.Errorf("transformer: ReadConfig: %s: %w", path, err)
	}
	return c, nil
}

func firstNonSpace(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
		default:
			return c
		}
	}
	return 0
}

// requireFor checks the sizes a model kind needs beyond Validate (the
// constructors check the same).
func (c *Config) requireFor(kind Kind, finalNorm bool) error {
	switch kind {
	case KindTorchEncoder, KindTorchDecoder:
		_, err := TorchEncoderConfigFrom(*c, finalNorm)
		return err
	case KindClassifier:
		if c.VocabSize <= 0 || c.NumClasses <= 0 {
			return fmt.Errorf("classifier config: vocab_size %d and num_classes %d must be positive", c.VocabSize, c.NumClasses)
		}
	case KindLM, KindSeq2Seq:
		if c.VocabSize <= 0 || c.MaxPositions <= 0 {
			return fmt.Errorf("%s config: vocab_size %d and max_positions %d must be positive", kind, c.VocabSize, c.MaxPositions)
		}
	}
	return nil
}

// checkTensors compares the file's tensors with those c implies for kind,
// without allocating the model, and names the first difference. Work is
// bounded by the number of tensors in the file, whatever the config says.
func checkTensors(r *safetensors.Reader, c Config, kind Kind, finalNorm bool) error {
	have := len(r.Tensors())
	want := c.numTensors(kind, finalNorm)
	var err error
	i := 0
	c.eachTensor(kind, finalNorm, func(name string, shape []int) bool {
		if i++; i > have+1 {
			return false // one of the first have+1 names was missing
		}
		t, ok := r.Lookup(name)
		if !ok {
			err = fmt.Errorf("tensor %s is missing (the config implies %d tensors, the file holds %d)", name, want, have)
			return false
		}
		if !slices.Equal(t.Shape, shape) {
			err = fmt.Errorf("tensor %s has shape %v in the file, the config implies %v", name, t.Shape, shape)
			return false
		}
		return true
	})
	if err != nil || have == want {
		return err
	}
	// Every implied tensor is there: the file has more. Name one.
	expected := make(map[string]bool, want)
	c.eachTensor(kind, finalNorm, func(name string, _ []int) bool { expected[name] = true; return true })
	for _, t := range r.Tensors() {
		if !expected[t.Name] {
			return fmt.Errorf("tensor %s is not part of the model (the config implies %d tensors, the file holds %d)", truncate(t.Name), want, have)
		}
	}
	return fmt.Errorf("the config implies %d tensors, the file holds %d", want, have)
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// Tensors per block: attention 4, two linears 4, two norms 4; a decoder
// block adds cross-attention 4 and a norm 2.
const (
	blockTensors   = 12
	decoderTensors = 18
)

// numTensors counts the tensors eachTensor lists (c is validated, so the
// count cannot overflow).
func (c *Config) numTensors(kind Kind, finalNorm bool) int {
	n := c.NumLayers * blockTensors
	switch kind {
	case KindClassifier:
		n += 3
		if c.MaxPositions > 0 {
			n++
		}
	case KindLM:
		n += 4
	case KindSeq2Seq:
		n += 5 + c.NumLayers*decoderTensors
	case KindTorchEncoder:
		if finalNorm {
			n += 2
		}
	case KindTorchDecoder:
		n = c.NumLayers * decoderTensors
		if finalNorm {
			n += 2
		}
	}
	return n
}

// eachTensor lists the state_dict names and shapes of the model of kind
// that c describes, in the model's order, until yield returns false. It
// mirrors the constructors (a test compares it with their NamedParameters).
func (c *Config) eachTensor(kind Kind, finalNorm bool, yield func(string, []int) bool) {
	e, f, v, p := c.EmbedDim, c.FFDim, c.VocabSize, c.MaxPositions
	ok := true
	emit := func(name string, shape ...int) {
		if ok {
			ok = yield(name, shape)
		}
	}
	attn := func(prefix string) {
		emit(prefix+"in_proj_weight", 3*e, e)
		emit(prefix+"in_proj_bias", 3*e)
		emit(prefix+"out_proj.weight", e, e)
		emit(prefix+"out_proj.bias", e)
	}
	norm := func(prefix string) {
		emit(prefix+"weight", e)
		emit(prefix+"bias", e)
	}
	block := func(prefix string, keys KeyStyle) {
		if keys == EncoderLayerKeys {
			attn(prefix + "self_attn.")
			emit(prefix+"linear1.weight", f, e)
			emit(prefix+"linear1.bias", f)
			emit(prefix+"linear2.weight", e, f)
			emit(prefix+"linear2.bias", e)
		} else {
			attn(prefix + "attn.")
			emit(prefix+"ff.0.weight", f, e)
			emit(prefix+"ff.0.bias", f)
			emit(prefix+"ff.3.weight", e, f)
			emit(prefix+"ff.3.bias", e)
		}
		norm(prefix + "norm1.")
		norm(prefix + "norm2.")
	}
	blocks := func(prefix string, keys KeyStyle) {
		for i := 0; i < c.NumLayers && ok; i++ {
			block(prefix+strconv.Itoa(i)+".", keys)
		}
	}
	decoder := func(prefix string) {
		for i := 0; i < c.NumLayers && ok; i++ {
			layer := prefix + strconv.Itoa(i) + "."
			attn(layer + "self_attn.")
			attn(layer + "multihead_attn.")
			emit(layer+"linear1.weight", f, e)
			emit(layer+"linear1.bias", f)
			emit(layer+"linear2.weight", e, f)
			emit(layer+"linear2.bias", e)
			norm(layer + "norm1.")
			norm(layer + "norm2.")
			norm(layer + "norm3.")
		}
	}
	switch kind {
	case KindClassifier:
		emit("embedding.weight", v, e)
		if p > 0 {
			emit("pos_embedding.weight", p, e)
		}
		blocks("transformer_blocks.", TutorialKeys)
		emit("classifier.weight", c.NumClasses, e)
		emit("classifier.bias", c.NumClasses)
	case KindLM:
		emit("wte.weight", v, e)
		emit("wpe.weight", p, e)
		blocks("h.", TutorialKeys)
		norm("ln_f.")
	case KindSeq2Seq:
		emit("src_embedding.weight", v, e)
		emit("tgt_embedding.weight", v, e)
		emit("pos_embedding.weight", p, e)
		blocks("encoder.", EncoderLayerKeys)
		decoder("decoder.")
		emit("generator.weight", v, e)
		emit("generator.bias", v)
	case KindTorchEncoder:
		blocks("layers.", EncoderLayerKeys)
		if finalNorm {
			norm("norm.")
		}
	case KindTorchDecoder:
		decoder("layers.")
		if finalNorm {
			norm("norm.")
		}
	}
}
