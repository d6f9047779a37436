package main

import (
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simdformer/simdformer/transformer"
)

func TestParseLabelled(t *testing.T) {
	labels, exs, err := parseLabelled(strings.NewReader("# comment\npos\tgood film\n\nneg\tbad film\r\npos\tfine\twith a tab\n"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(labels, ",") != "neg,pos" || len(exs) != 3 {
		t.Fatalf("labels %v, %d examples", labels, len(exs))
	}
	if exs[0] != (example{1, "good film"}) || exs[1] != (example{0, "bad film"}) || exs[2].text != "fine\twith a tab" {
		t.Fatalf("examples %v", exs)
	}
	for _, bad := range []string{"no tab here\n", "pos\t \n", "pos\tonly one label\n", "\tno label\n"} {
		if _, _, err := parseLabelled(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	train, val := splitExamples(exs, 0.1, 1)
	if len(train) != 2 || len(val) != 1 {
		t.Fatalf("split %d/%d", len(train), len(val))
	}
}

func TestSnippetAndBatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	src := "package p\n\nfunc f() int {\n\treturn 1\n}\n\nfunc g() string {\n\treturn \"a longer line of text\"\n}\n"
	s := snippet(src, 3, 1000, rng)
	if strings.Count(s, "\n") != 2 || strings.Contains(s, "\n\n") {
		t.Fatalf("snippet %q: want 3 non-blank lines", s)
	}
	if snippet("a\nb\n", 3, 100, rng) != "" {
		t.Fatal("a too short file gave a snippet")
	}
	e := encoded{ids: [][]int{{2, 5, 3}, {2, 3}}, types: [][]int{{0, 0, 0}, {0, 0}}, labels: []int{1, 0}}
	b := batcher{pad: 0}
	n, seq := b.batch(e, []int{1, 0})
	if n != 2 || seq != 3 {
		t.Fatalf("batch %d × %d", n, seq)
	}
	wantIDs, wantMask := []int{2, 3, 0, 2, 5, 3}, []bool{true, true, false, true, true, true}
	for i := range wantIDs {
		if b.ids[i] != wantIDs[i] || b.mask[i] != wantMask[i] {
			t.Fatalf("ids %v mask %v", b.ids, b.mask)
		}
	}
	if b.labels[0] != 0 || b.labels[1] != 1 {
		t.Fatalf("labels %v", b.labels)
	}
	if got := argmaxRows([]float32{0, 2, 1, 5, -1, 4}, 3); got[0] != 1 || got[1] != 0 {
		t.Fatalf("argmax %v", got)
	}
}

// TestRunAndFineTune trains a tiny BERT on a labelled file, saves it, then
// fine-tunes the saved directory (the -model path) on new labels.
func TestRunAndFineTune(t *testing.T) {
	dir := t.TempDir()
	var sb strings.Builder
	for i := 0; i < 40; i++ {
		sb.WriteString("go\tfunc main() { x := 1 }\npy\tdef main(): x = 1\n")
	}
	data := filepath.Join(dir, "data.txt")
	os.WriteFile(data, []byte(sb.String()), 0o644)
	o := options{data: data, out: filepath.Join(dir, "out"), epochs: 2, batch: 8, maxLen: 16, vocab: 60,
		hidden: 16, heads: 2, layers: 1, ff: 32, lr: 3e-3, wd: 0.01, val: 0.2, seed: 1, quiet: true, rates: "0.1"}
	var out strings.Builder
	if err := run(o, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"epoch 2/2", "validation accuracy", "saved"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
	}
	m, err := transformer.LoadBERTClassifier(o.out)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.BERT.Config.ID2Label; len(got) != 2 || got[0] != "go" || got[1] != "py" {
		t.Fatalf("saved labels %v", got)
	}
	// Fine-tune the saved directory on three labels: a new head.
	sb.WriteString(strings.Repeat("c\tint main(void) { return 0; }\n", 40))
	os.WriteFile(data, []byte(sb.String()), 0o644)
	o.model, o.out, o.rates, o.epochs = o.out, filepath.Join(dir, "out2"), "", 1
	out.Reset()
	if err := run(o, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if m, err = transformer.LoadBERTClassifier(o.out); err != nil || m.Classifier.Weight.Shape[0] != 3 {
		t.Fatalf("fine-tuned model: %v", err)
	}
	if _, err := os.Stat(filepath.Join(o.out, "vocab.txt")); err != nil {
		t.Fatal(err)
	}
}
