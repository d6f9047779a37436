package transformer

import (
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/safetensors"
)

// specConfigs covers the structural switches of every model.
func specConfigs() []Config {
	base := Config{VocabSize: 7, MaxPositions: 9, EmbedDim: 8, NumHeads: 2, FFDim: 12, NumLayers: 2, NumClasses: 3}
	var out []Config
	for _, mod := range []func(*Config){
		func(*Config) {},
		func(c *Config) { c.MaxPositions = 0 },
		func(c *Config) { c.NumLayers = 0 },
		func(c *Config) { c.NumLayers = 3; c.NormFirst, c.Causal = true, true },
		func(c *Config) { c.DropPath = 0.2; c.Activation = "gelu" },
	} {
		c := base
		mod(&c)
		out = append(out, c)
	}
	return out
}

func buildKind(t *testing.T, c Config, kind Kind, finalNorm bool) nn.Module {
	t.Helper()
	var m nn.Module
	var err error
	switch kind {
	case KindClassifier:
		m, err = NewClassifier(c)
	case KindLM:
		m, err = NewLM(c)
	case KindSeq2Seq:
		m, err = NewSeq2Seq(c)
	case KindTorchEncoder:
		c.VocabSize, c.MaxPositions, c.NumClasses, c.DropPath, c.Causal = 0, 0, 0, 0, false
		var tc TorchEncoderConfig
		if tc, err = TorchEncoderConfigFrom(c, finalNorm); err == nil {
			m, err = NewTorchEncoder(tc)
		}
	case KindTorchDecoder:
		c.VocabSize, c.MaxPositions, c.NumClasses, c.DropPath, c.Causal = 0, 0, 0, 0, false
		var tc TorchDecoderConfig
		if tc, err = TorchDecoderConfigFrom(c, finalNorm); err == nil {
			m, err = NewTorchDecoder(tc)
		}
	}
	if err != nil {
		t.Fatalf("%s %+v: %v", kind, c, err)
	}
	return m
}

// TestTensorSpecMatchesModels: the names and shapes a loader expects from a
// config (computed without building the model) are exactly the built
// model's state_dict, in order, for every kind.
func TestTensorSpecMatchesModels(t *testing.T) {
	for _, c := range specConfigs() {
		for _, kind := range []Kind{KindClassifier, KindLM, KindSeq2Seq, KindTorchEncoder, KindTorchDecoder} {
			for _, final := range []bool{false, true} {
				if final && kind != KindTorchEncoder && kind != KindTorchDecoder {
					continue
				}
				if c.MaxPositions == 0 && (kind == KindLM || kind == KindSeq2Seq) {
					continue
				}
				m := buildKind(t, c, kind, final)
				var want []string
				for _, nt := range nn.NamedParameters(m) {
					want = append(want, fmt.Sprint(nt.Name, nt.Tensor.Shape))
				}
				var got []string
				cc := c
				if kind == KindTorchEncoder || kind == KindTorchDecoder {
					cc.VocabSize, cc.MaxPositions, cc.NumClasses = 0, 0, 0
				}
				cc.eachTensor(kind, final, func(name string, shape []int) bool {
					got = append(got, fmt.Sprint(name, shape))
					return true
				})
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s (final norm %v) %+v:\nspec  %v\nmodel %v", kind, final, c, got, want)
				}
				if n := cc.numTensors(kind, final); n != len(want) {
					t.Fatalf("%s: numTensors %d, model has %d", kind, n, len(want))
				}
			}
		}
	}
}

// TestSaveLoadEveryModel: each SaveX/LoadX pair rebuilds the same config and
// bit-identical weights; a loader given another kind's file names the kind
// it found.
func TestSaveLoadEveryModel(t *testing.T) {
	dir := t.TempDir()
	c := specConfigs()[3]
	c.SetDropout(0.1)
	nn.ManualSeed(3)
	cls := nn.Must(NewClassifier(c))
	lm := nn.Must(NewLM(c))
	s2s := nn.Must(NewSeq2Seq(c))
	enc := nn.Must(NewTorchEncoder(TorchEncoderConfig{DModel: 8, NHead: 2, DimFeedforward: 12, NumLayers: 2, FinalNorm: true}))
	dec := nn.Must(NewTorchDecoder(TorchDecoderConfig{DModel: 8, NHead: 2, DimFeedforward: 12, NumLayers: 2, FinalNorm: true}))
	paths := map[Kind]string{}
	for kind, save := range map[Kind]func(string) error{
		KindClassifier:   func(p string) error { return SaveClassifier(p, cls) },
		KindLM:           func(p string) error { return SaveLM(p, lm) },
		KindSeq2Seq:      func(p string) error { return SaveSeq2Seq(p, s2s) },
		KindTorchEncoder: func(p string) error { return SaveTorchEncoder(p, enc) },
		KindTorchDecoder: func(p string) error { return SaveTorchDecoder(p, dec) },
	} {
		paths[kind] = filepath.Join(dir, string(kind)+".safetensors")
		if err := save(paths[kind]); err != nil {
			t.Fatal(err)
		}
	}
	same := func(a, b nn.Module) {
		t.Helper()
		pa, pb := nn.NamedParameters(a), nn.NamedParameters(b)
		if len(pa) != len(pb) {
			t.Fatalf("%d parameters became %d", len(pa), len(pb))
		}
		for i := range pa {
			if _, ok := bitsEqual32(pa[i].Tensor.Data, pb[i].Tensor.Data); !ok || pa[i].Name != pb[i].Name {
				t.Fatalf("%s differs after the round trip", pa[i].Name)
			}
		}
	}
	loaders := map[Kind]func(string) (nn.Module, error){
		KindClassifier:   func(p string) (nn.Module, error) { return LoadClassifier(p) },
		KindLM:           func(p string) (nn.Module, error) { return LoadLM(p) },
		KindSeq2Seq:      func(p string) (nn.Module, error) { return LoadSeq2Seq(p) },
		KindTorchEncoder: func(p string) (nn.Module, error) { return LoadTorchEncoder(p) },
		KindTorchDecoder: func(p string) (nn.Module, error) { return LoadTorchDecoder(p) },
	}
	cls2, err := LoadClassifier(paths[KindClassifier])
	if err != nil || cls2.Config() != cls.Config() {
		t.Fatalf("LoadClassifier: %v, config %+v want %+v", err, cls2.Config(), cls.Config())
	}
	same(cls, cls2)
	lm2, err := LoadLM(paths[KindLM])
	if err != nil || lm2.Config() != lm.Config() {
		t.Fatalf("LoadLM: %v", err)
	}
	same(lm, lm2)
	s2s2, err := LoadSeq2Seq(paths[KindSeq2Seq])
	if err != nil || s2s2.Config() != s2s.Config() {
		t.Fatalf("LoadSeq2Seq: %v", err)
	}
	same(s2s, s2s2)
	enc2, err := LoadTorchEncoder(paths[KindTorchEncoder])
	if err != nil || enc2.Config != enc.Config {
		t.Fatalf("LoadTorchEncoder: %v", err)
	}
	same(enc, enc2)
	dec2, err := LoadTorchDecoder(paths[KindTorchDecoder])
	if err != nil || dec2.Config != dec.Config {
		t.Fatalf("LoadTorchDecoder: %v", err)
	}
	same(dec, dec2)
	for file, p := range paths {
		for kind, load := range loaders {
			if kind == file {
				continue
			}
			_, err := load(p)
			want := fmt.Sprintf("holds a model of kind %q, not %q; use Load%s", file, kind, kindFunc[file])
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Load%s of a %s file: %v, want an error containing %q", kindFunc[kind], file, err, want)
			}
		}
	}
	// ReadConfig reads the config of a model file (its header only) and of
	// the JSON SaveConfig writes.
	rc, err := ReadConfig(paths[KindLM])
	if err != nil || rc != lm.Config() {
		t.Fatalf("ReadConfig(model) = %+v, %v", rc, err)
	}
	js := filepath.Join(dir, "config.json")
	if err := SaveConfig(js, rc); err != nil {
		t.Fatal(err)
	}
	if rc2, err := ReadConfig(js); err != nil || rc2 != rc {
		t.Fatalf("ReadConfig(json) = %+v, %v", rc2, err)
	}
	if _, err := ReadConfig(filepath.Join(dir, "missing.json")); !os.IsNotExist(err) {
		t.Fatalf("ReadConfig(missing) = %v", err)
	}
}

// hostileFile writes a safetensors file with the given metadata and
// tensors (raw, not through a model) and returns its path and size.
func hostileFile(t *testing.T, meta map[string]string, tensors map[string][]int) (string, int64) {
	t.Helper()
	ts := map[string]safetensors.Tensor{}
	for name, shape := range tensors {
		n := 1
		for _, d := range shape {
			n *= d
		}
		ts[name] = safetensors.Tensor{Shape: shape, F32: make([]float32, n)}
	}
	path := filepath.Join(t.TempDir(), "hostile.safetensors")
	if err := safetensors.SaveFile(path, ts, meta); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	return path, st.Size()
}

func cfgJSON(c Config) string {
	b, _ := json.Marshal(c)
	return string(b)
}

// TestHostileModelFiles: tiny files whose config asks for huge or
// inconsistent models give errors, never crashes, and allocate next to
// nothing: the tensors are compared with the config before the model is
// built.
func TestHostileModelFiles(t *testing.T) {
	small := Config{VocabSize: 5, EmbedDim: 8, NumHeads: 1, FFDim: 8, NumLayers: 0, NumClasses: 1}
	smallTensors := map[string][]int{"embedding.weight": {5, 8}, "classifier.weight": {1, 8}, "classifier.bias": {1}}
	with := func(mod func(*Config)) string { c := small; mod(&c); return cfgJSON(c) }
	meta := func(kind Kind, config string) map[string]string {
		return map[string]string{"model": string(kind), "config": config}
	}
	cases := []struct {
		name    string
		meta    map[string]string
		tensors map[string][]int
		want    string
	}{
		// The file: a config asking for a 2^34×8 embedding.
		{"2^34 embedding, old file", map[string]string{"config": `{"vocab_size":17179869184,"embed_dim":8,"num_heads":1,"ff_dim":8,"num_layers":0,"num_classes":1}`},
			map[string][]int{"a": {1}}, `no "model" metadata`},
		{"2^34 embedding", meta(KindClassifier, `{"vocab_size":17179869184,"embed_dim":8,"num_heads":1,"ff_dim":8,"num_layers":0,"num_classes":1}`),
			map[string][]int{"a": {1}}, "vocab_size 17179869184 exceeds the limit"},
		// Within every limit (a 2^24×64 embedding is 4 GB) but not what the file holds.
		{"4 GB embedding, tiny file", meta(KindClassifier, with(func(c *Config) { c.VocabSize, c.EmbedDim = MaxDim, 64 })),
			smallTensors, "tensor embedding.weight has shape [5 8] in the file, the config implies [16777216 64]"},
		{"negative dim", meta(KindClassifier, with(func(c *Config) { c.EmbedDim = -8 })), smallTensors, "embed_dim -8 must be positive"},
		{"huge layers", meta(KindClassifier, with(func(c *Config) { c.NumLayers = 1 << 30 })), smallTensors, "num_layers 1073741824 exceeds"},
		{"max layers, few tensors", meta(KindClassifier, with(func(c *Config) { c.NumLayers = MaxLayers })), smallTensors,
			"tensor transformer_blocks.0.attn.in_proj_weight is missing (the config implies 49155 tensors, the file holds 3)"},
		{"too many parameters", meta(KindClassifier, with(func(c *Config) { c.EmbedDim, c.FFDim, c.NumLayers = 8192, 8192, MaxLayers })),
			smallTensors, "more than the limit"},
		{"one tensor too big", meta(KindClassifier, with(func(c *Config) { c.EmbedDim, c.FFDim = 1<<16, 1<<16 })), smallTensors, "more than the limit of 2147483647"},
		{"mismatched shape", meta(KindClassifier, cfgJSON(small)),
			map[string][]int{"embedding.weight": {8, 5}, "classifier.weight": {1, 8}, "classifier.bias": {1}},
			"tensor embedding.weight has shape [8 5] in the file, the config implies [5 8]"},
		{"extra tensor", meta(KindClassifier, cfgJSON(small)),
			map[string][]int{"embedding.weight": {5, 8}, "classifier.weight": {1, 8}, "classifier.bias": {1}, "evil": {1}},
			"tensor evil is not part of the model"},
		{"missing tensor", meta(KindClassifier, cfgJSON(small)),
			map[string][]int{"embedding.weight": {5, 8}, "classifier.weight": {1, 8}}, "tensor classifier.bias is missing"},
		{"lm config in a classifier file", meta(KindClassifier, with(func(c *Config) { c.NumClasses = 0 })), smallTensors,
			"num_classes 0 must be positive"},
		{"unknown kind", meta("gpt5", cfgJSON(small)), smallTensors, `holds a model of kind "gpt5", not "classifier"`},
		{"bad JSON", meta(KindClassifier, `{"embed_dim":`), smallTensors, "config metadata"},
		{"no metadata", nil, smallTensors, "nn.LoadFile"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path, size := hostileFile(t, c.meta, c.tensors)
			var err error
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			_, err = LoadClassifier(path)
			runtime.ReadMemStats(&m1)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("LoadClassifier: %v, want an error containing %q", err, c.want)
			}
			if a := m1.TotalAlloc - m0.TotalAlloc; a > 1<<20 {
				t.Errorf("rejecting a %d-byte file allocated %d bytes", size, a)
			}
		})
	}
}

// TestForwardTokenCountOverflow: batch·seq that wraps to len(ids) is API
// misuse caught before any allocation, not a huge or negative allocation.
func TestForwardTokenCountOverflow(t *testing.T) {
	m := nn.Must(NewClassifier(Config{VocabSize: 5, EmbedDim: 8, NumHeads: 1, FFDim: 8, NumClasses: 2}))
	half := 1 << (bits.UintSize / 2) // half·half wraps to 0
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(fmt.Sprint(r), "token ids for batch") {
			t.Fatalf("panic %v, want the token-count message", r)
		}
	}()
	m.ForwardWith(nil, Tokens{IDs: []int{}, Batch: half, Seq: half})
}

// TestValidateLimits: the bounds and the overflow-free parameter count.
func TestValidateLimits(t *testing.T) {
	ok := Config{VocabSize: 50257, MaxPositions: 1024, EmbedDim: 1600, NumHeads: 25, FFDim: 6400, NumLayers: 48} // GPT-2 XL
	if err := ok.Validate(); err != nil {
		t.Fatalf("GPT-2 XL: %v", err)
	}
	for name, mod := range map[string]func(*Config){
		"vocab":     func(c *Config) { c.VocabSize = MaxDim + 1 },
		"positions": func(c *Config) { c.MaxPositions = math.MaxInt },
		"classes":   func(c *Config) { c.NumClasses = math.MaxInt - 1 },
		"heads":     func(c *Config) { c.NumHeads = 1 << 25 },
		"layers":    func(c *Config) { c.NumLayers = MaxLayers + 1 },
		"embed":     func(c *Config) { c.EmbedDim, c.NumHeads = math.MaxInt, 1 },
		"tensor":    func(c *Config) { c.VocabSize, c.EmbedDim, c.NumHeads = MaxDim, 1024, 1 },
		"total":     func(c *Config) { c.EmbedDim, c.FFDim, c.NumHeads, c.NumLayers = 16384, 65536, 1, MaxLayers },
		"eps":       func(c *Config) { c.LayerNormEps = float32(math.Inf(1)) },
	} {
		c := ok
		mod(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: %+v validated", name, c)
		}
	}
}
