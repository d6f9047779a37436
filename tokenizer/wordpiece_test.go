package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

type wpGolden struct {
	Generator string
	Texts     []struct {
		Text        string
		Tokens      []string
		IDs         []int
		Decoded     string
		DecodedSkip string `json:"decoded_skip"`
	}
	Pairs []struct {
		A, B          string
		IDs           []int
		TypeIDs       []int `json:"type_ids"`
		AttentionMask []int `json:"attention_mask"`
	}
	Batches []struct {
		Texts, Pairs  []string
		Padding       string
		MaxLength     int     `json:"max_length"`
		IDs           [][]int `json:"ids"`
		TypeIDs       [][]int `json:"type_ids"`
		AttentionMask [][]int `json:"attention_mask"`
	}
}

func loadWP(t testing.TB, name string) (*WordPiece, wpGolden) {
	t.Helper()
	opts := WordPieceOptions{Cased: name == "cased"}
	tok, err := LoadWordPiece(filepath.Join(wpDir, "vocab_"+name+".txt"), opts)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(wpDir, "golden_"+name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var g wpGolden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Texts) < 40 || len(g.Pairs) < 5 || len(g.Batches) < 4 {
		t.Fatalf("%s: golden too small", name)
	}
	return tok, g
}

// TestWordPieceGolden compares with transformers.js's BertTokenizer on the same vocabularies.
func TestWordPieceGolden(t *testing.T) {
	for _, name := range []string{"uncased", "cased"} {
		tok, g := loadWP(t, name)
		for _, c := range g.Texts {
			if got := tok.Tokenize(c.Text); !slices.Equal(got, c.Tokens) && !(len(got) == 0 && len(c.Tokens) == 0) {
				t.Errorf("%s: Tokenize(%q)\n got %q\nwant %q", name, c.Text, got, c.Tokens)
			}
			e := tok.EncodeSingle(c.Text)
			if !slices.Equal(e.IDs, c.IDs) {
				t.Errorf("%s: EncodeSingle(%q) = %v, want %v", name, c.Text, e.IDs, c.IDs)
			}
			if got := tok.Decode(e.IDs); got != c.Decoded {
				t.Errorf("%s: Decode(%q) = %q, want %q", name, c.Text, got, c.Decoded)
			}
			if got := tok.DecodeSkipSpecial(e.IDs); got != c.DecodedSkip {
				t.Errorf("%s: DecodeSkipSpecial(%q) = %q, want %q", name, c.Text, got, c.DecodedSkip)
			}
		}
		for _, c := range g.Pairs {
			e := tok.EncodePair(c.A, c.B)
			if !slices.Equal(e.IDs, c.IDs) || !slices.Equal(e.TypeIDs, c.TypeIDs) || !slices.Equal(e.AttentionMask, c.AttentionMask) {
				t.Errorf("%s: EncodePair(%q, %q) = %v, want ids %v types %v mask %v", name, c.A, c.B, e, c.IDs, c.TypeIDs, c.AttentionMask)
			}
		}
		for _, b := range g.Batches {
			opts := BatchOptions{Padding: PadLongest}
			if b.Padding == "max_length" {
				opts = BatchOptions{Padding: PadMaxLength, MaxLength: b.MaxLength}
			}
			got := tok.EncodeBatch(b.Texts, b.Pairs, opts)
			for i, e := range got {
				if !slices.Equal(e.IDs, b.IDs[i]) || !slices.Equal(e.TypeIDs, b.TypeIDs[i]) || !slices.Equal(e.AttentionMask, b.AttentionMask[i]) {
					t.Errorf("%s: batch %q/%q row %d = %v, want ids %v types %v mask %v", name, b.Texts, b.Pairs, i, e, b.IDs[i], b.TypeIDs[i], b.AttentionMask[i])
				}
			}
		}
	}
}
