package transformer

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/safetensors"
)

// Save writes m's parameters to a safetensors file under their PyTorch
// state_dict keys, with c in the metadata: "config" holds c as JSON, and
// "num_heads", "vocab_size", "embed_dim", "ff_dim", "num_classes" and
// "num_blocks" repeat its sizes for scripts that rebuild the PyTorch module
// (scripts/torch_load_check.py).
func Save(path string, m nn.Module, c Config) error {
	js, err := json.Marshal(c)
	if err != nil {
		return err
	}
	meta := map[string]string{
		"config":    string(js),
		"num_heads": strconv.Itoa(c.NumHeads),
		"embed_dim": strconv.Itoa(c.EmbedDim),
		"ff_dim":    strconv.Itoa(c.FFDim),
		// num_blocks is the tutorial's name for the number of layers.
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

// Load reads a safetensors file written by Save or by PyTorch
// (safetensors.torch.save_file(model.state_dict(), path)) into m's
// parameters. Every parameter of m must be in the file and every tensor of
// the file must be a parameter of m, with the same shape (PyTorch's
// load_state_dict(strict=True)); nothing is changed on error.
func Load(path string, m nn.Module) error {
	return nn.LoadFile(path, m, true)
}

// ReadConfig returns the config that Save stored in the file's metadata.
func ReadConfig(path string) (Config, error) {
	_, meta, err := safetensors.LoadFile(path)
	if err != nil {
		return Config{}, err
	}
	return configFromMeta(path, meta)
}

// configFromMeta parses and validates the config Save stored in a file's
// metadata (path is for messages).
func configFromMeta(path string, meta map[string]string) (Config, error) {
	js, ok := meta["config"]
	if !ok {
		return Config{}, fmt.Errorf("transformer: %s has no \"config\" metadata", path)
	}
	var c Config
	if err := json.Unmarshal([]byte(js), &c); err != nil {
		return Config{}, fmt.Errorf("transformer: %s: config metadata: %w", path, err)
	}
	return c, c.Validate()
}

// LoadClassifier builds the Classifier described by a file written with
// Save and loads its weights.
func LoadClassifier(path string) (*Classifier, Config, error) {
	ts, meta, err := safetensors.LoadFile(path) // read and decoded once
	if err != nil {
		return nil, Config{}, err
	}
	c, err := configFromMeta(path, meta)
	if err != nil {
		return nil, Config{}, err
	}
	m, err := NewClassifier(c)
	if err != nil {
		return nil, Config{}, err
	}
	if err := nn.LoadStateDict(m, ts, true); err != nil {
		return nil, Config{}, err
	}
	return m, c, nil
}
