package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
