package transformer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigBERTNames(t *testing.T) {
	// The fields of bert-base-uncased's config.json that matter here.
	const bert = `{"hidden_size": 768, "num_attention_heads": 12, "intermediate_size": 3072,
	  "num_hidden_layers": 12, "vocab_size": 30522, "max_position_embeddings": 512,
	  "hidden_act": "gelu", "layer_norm_eps": 1e-12,
	  "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1}`
	var c Config
	if err := json.Unmarshal([]byte(bert), &c); err != nil {
		t.Fatal(err)
	}
	want := Config{VocabSize: 30522, MaxPositions: 512, EmbedDim: 768, NumHeads: 12, FFDim: 3072, NumLayers: 12,
		Activation: "gelu", LayerNormEps: 1e-12, AttnDropout: 0.1, ResidDropout: 0.1, EmbedDropout: 0.1}
	if c != want {
		t.Fatalf("got  %+v\nwant %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigGPT2Names(t *testing.T) {
	const gpt2 = `{"n_embd": 768, "n_head": 12, "n_layer": 12, "n_positions": 1024, "n_inner": null,
	  "vocab_size": 50257, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-05,
	  "embd_pdrop": 0.1, "attn_pdrop": 0.2, "resid_pdrop": 0.3}`
	var c Config
	if err := json.Unmarshal([]byte(gpt2), &c); err != nil {
		t.Fatal(err)
	}
	want := Config{VocabSize: 50257, MaxPositions: 1024, EmbedDim: 768, NumHeads: 12, FFDim: 3072, NumLayers: 12,
		Activation: "gelu_new", LayerNormEps: 1e-5, NormFirst: true,
		AttnDropout: 0.2, ResidDropout: 0.3, EmbedDropout: 0.1}
	if c != want {
		t.Fatalf("got  %+v\nwant %+v", c, want)
	}
	if a, err := parseActivation(c.Activation); err != nil || a != GELUTanh {
		t.Fatalf("activation %q -> %v, %v", c.Activation, a, err)
	}
}

func TestConfigPrecedenceAndRoundTrip(t *testing.T) {
	var c Config
	js := `{"d_model": 64, "nhead": 4, "dim_feedforward": 128, "num_layers": 2, "dropout": 0.1,
	  "attention_probs_dropout_prob": 0.2, "ffn_dropout": 0.05, "drop_path_rate": 0.1, "norm_first": true}`
	if err := json.Unmarshal([]byte(js), &c); err != nil {
		t.Fatal(err)
	}
	want := Config{EmbedDim: 64, NumHeads: 4, FFDim: 128, NumLayers: 2, NormFirst: true,
		AttnDropout: 0.2, FFNDropout: 0.05, ResidDropout: 0.1, EmbedDropout: 0.1, DropPath: 0.1}
	if c != want {
		t.Fatalf("got  %+v\nwant %+v", c, want)
	}
	path := filepath.Join(t.TempDir(), "config.json")
	if err := SaveConfig(path, c); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	for _, name := range []string{`"hidden_dropout_prob": 0.1`, `"attention_probs_dropout_prob": 0.2`,
		`"attn_pdrop": 0.2`, `"resid_pdrop": 0.1`, `"embd_pdrop": 0.1`, `"ffn_dropout": 0.05`} {
		if !strings.Contains(string(data), name) {
			t.Errorf("saved config lacks %s:\n%s", name, data)
		}
	}
	back, err := ReadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if back != c {
		t.Fatalf("round trip: got %+v, want %+v", back, c)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{EmbedDim: 8, NumHeads: 2, FFDim: 16, NumLayers: 1}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*Config){
		"heads":      func(c *Config) { c.NumHeads = 3 },
		"dropout":    func(c *Config) { c.AttnDropout = 1.5 },
		"negative":   func(c *Config) { c.ResidDropout = -0.1 },
		"activation": func(c *Config) { c.Activation = "swish" },
		"ff":         func(c *Config) { c.FFDim = 0 },
	} {
		c := ok
		mut(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", name, c)
		}
	}
}
