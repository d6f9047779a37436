package tokenizer

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateVocab = flag.Bool("update-vocab", false, "rewrite testdata/wordpiece/vocab_*.txt from train.txt")

const wpDir = "testdata/wordpiece"

// goldenVocabs are the vocabularies the WordPiece goldens use, built by TrainWordPiece from
// train.txt (plus a few hand-added tokens to exercise [UNK]-free CJK and accents).
var goldenVocabs = []struct {
	name string
	opts TrainOptions
}{
	{"uncased", TrainOptions{VocabSize: 600}},
	{"cased", TrainOptions{VocabSize: 700, WordPieceOptions: WordPieceOptions{Cased: true}}},
}

func trainGoldenVocab(t *testing.T, opts TrainOptions) []byte {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(wpDir, "train.txt"))
	if err != nil {
		t.Fatal(err)
	}
	vocab, err := TrainWordPiece(strings.Split(string(text), "\n"), opts)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteVocab(&b, vocab); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestTrainReproducesGoldenVocab retrains the committed vocabularies: the trainer is
// deterministic (go test -run TestTrainReproducesGoldenVocab -update-vocab rewrites them).
func TestTrainReproducesGoldenVocab(t *testing.T) {
	for _, v := range goldenVocabs {
		got := trainGoldenVocab(t, v.opts)
		path := filepath.Join(wpDir, "vocab_"+v.name+".txt")
		if *updateVocab {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: retrained vocabulary differs from %s", v.name, path)
		}
	}
}
