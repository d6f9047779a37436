package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simdformer/simdformer/tokenizer"
	"github.com/simdformer/simdformer/transformer"
)

// TestRunAndFineTune trains a tiny model for a few steps, saves it, then
// fine-tunes the saved directory (the -model path).
func TestRunAndFineTune(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "text.txt")
	os.WriteFile(data, bytes.Repeat([]byte("func main() { fmt.Println(\"hello, world\") }\n"), 40), 0o644)
	o := options{data: data, out: filepath.Join(dir, "out"), prompt: "func ", steps: 3, batch: 2, ctx: 16,
		embed: 16, heads: 2, layers: 1, every: 2, sample: 10, topK: 5, corpus: 1 << 20, lr: 1e-3, wd: 0.1,
		temperature: 0.8, topP: 0.9, seed: 1, quiet: true}
	var out strings.Builder
	if err := run(o, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"held-out loss", "step    3/3", "KV cache", "saved"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
	}
	o.model, o.out = o.out, filepath.Join(dir, "out2")
	out.Reset()
	if err := run(o, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(o.out, "model.safetensors")); err != nil {
		t.Fatal(err)
	}
}

// TestFineTuneWithTokenizer: a directory with GPT-2's tokenizer files is
// fine-tuned on BPE tokens, and the saved directory carries the tokenizer.
func TestFineTuneWithTokenizer(t *testing.T) {
	dir := t.TempDir()
	c := transformer.DefaultGPT2Config()
	c.NEmbd, c.NHead, c.NLayer, c.NPositions = 8, 2, 1, 32
	m, err := transformer.NewGPT2(c)
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "model")
	if err := m.SaveGPT2(model); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"encoder.json", "vocab.bpe"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "tokenizer", "testdata", "gpt2", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(model, f), b, 0o644)
	}
	data := filepath.Join(dir, "text.txt")
	os.WriteFile(data, bytes.Repeat([]byte("The quick brown fox jumps over the lazy dog. "), 60), 0o644)
	o := options{model: model, data: data, out: filepath.Join(dir, "out"), prompt: "The quick", steps: 2, batch: 2,
		ctx: 16, every: 1, sample: 5, corpus: 1 << 20, lr: 1e-3, temperature: 0, topP: 1, seed: 1, quiet: true}
	var out strings.Builder
	if err := run(o, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "The quick") {
		t.Fatalf("no decoded sample:\n%s", out.String())
	}
	if _, err := tokenizer.LoadGPT2(o.out); err != nil {
		t.Fatalf("the saved directory has no usable tokenizer: %v", err)
	}
	if _, err := transformer.LoadGPT2(o.out); err != nil {
		t.Fatal(err)
	}
}
