package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestCorpusAndVocab(t *testing.T) {
	text, err := readCorpus(goroot(), 50_000)
	if err != nil {
		t.Fatal(err)
	}
	if len(text) != 50_000 || !bytes.Contains(text, []byte("func ")) {
		t.Fatalf("corpus of %d bytes without Go functions", len(text))
	}
	again, _ := readCorpus(goroot(), 50_000)
	if !bytes.Equal(text, again) {
		t.Fatal("the corpus differs between two reads")
	}
	v := newVocab(text)
	if v.size() < 60 || v.size() > 97 {
		t.Fatalf("vocabulary of %d symbols", v.size())
	}
	const s = "func (b *Buffer) Len() int {\n\treturn len(b.buf)\n}"
	if got := v.decode(v.encode([]byte(s))); got != s {
		t.Fatalf("round trip: %q", got)
	}
	if got := v.decode(v.encode([]byte("π"))); got != "??" { // two bytes outside ASCII
		t.Fatalf("non-ASCII folds to %q", got)
	}
}

func TestRunSmall(t *testing.T) {
	var buf bytes.Buffer
	o := options{steps: 4, batch: 2, ctx: 16, embed: 16, heads: 2, layers: 1, every: 2, corpusBytes: 20_000,
		sampleLen: 20, lr: 3e-3, dropout: 0.1, temperature: 0.7, seed: 1, goroot: goroot(), prompt: "func "}
	if err := run(o, &buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"kernels backend:", "step    4/4", "sample (temperature 0.7):\nfunc "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
