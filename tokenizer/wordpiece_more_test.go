package tokenizer

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestTruncateLongestFirst uses the cases of Hugging Face tokenizers' own test
// (truncate_encodings_longest_first, max_length 7, lengths 0, 2, 4 and 8).
func TestTruncateLongestFirst(t *testing.T) {
	for _, c := range [][4]int{
		{0, 0, 0, 0}, {0, 2, 0, 2}, {0, 4, 0, 4}, {0, 8, 0, 7},
		{2, 0, 2, 0}, {2, 2, 2, 2}, {2, 4, 2, 4}, {2, 8, 2, 5},
		{4, 0, 4, 0}, {4, 2, 4, 2}, {4, 4, 3, 4}, {4, 8, 3, 4},
		{8, 0, 7, 0}, {8, 2, 5, 2}, {8, 4, 4, 3}, {8, 8, 3, 4},
	} {
		if k1, k2 := TruncateLongestFirst(c[0], c[1], 7); k1 != c[2] || k2 != c[3] {
			t.Errorf("TruncateLongestFirst(%d, %d, 7) = %d, %d; want %d, %d", c[0], c[1], k1, k2, c[2], c[3])
		}
	}
	for _, c := range [][2]int{{5, 3}, {3, 5}, {0, 9}, {9, 9}} {
		if k1, k2 := TruncateLongestFirst(c[0], c[1], 0); k1 != 0 || k2 != 0 {
			t.Errorf("TruncateLongestFirst(%d, %d, 0) = %d, %d", c[0], c[1], k1, k2)
		}
	}
}

func testWP(t testing.TB, opts WordPieceOptions) *WordPiece {
	t.Helper()
	tok, err := LoadWordPiece(filepath.Join(wpDir, "vocab_uncased.txt"), opts)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestEncodeBatchTruncation(t *testing.T) {
	tok := testWP(t, WordPieceOptions{})
	a, b := "the dog sleeps and the fox runs away", "play walk"
	na, nb := len(tok.Encode(a)), len(tok.Encode(b))
	full := tok.EncodePair(a, b)
	for _, maxLen := range []int{3, 4, 6, 9, na + nb + 3, na + nb + 10} {
		got := tok.EncodeBatch([]string{a}, []string{b}, BatchOptions{MaxLength: maxLen, Truncate: true})[0]
		k1, k2 := TruncateLongestFirst(na, nb, maxLen-3)
		want := slices.Concat([]int{tok.ClsID()}, full.IDs[1:1+k1], []int{tok.SepID()}, full.IDs[2+na:2+na+k2], []int{tok.SepID()})
		if !slices.Equal(got.IDs, want) || got.Len() != min(maxLen, na+nb+3) {
			t.Errorf("MaxLength %d: ids %v, want %v", maxLen, got.IDs, want)
		}
		if got.TypeIDs[k1+1] != 0 || got.TypeIDs[k1+2] != 1 || got.TypeIDs[len(got.TypeIDs)-1] != 1 {
			t.Errorf("MaxLength %d: type ids %v", maxLen, got.TypeIDs)
		}
	}
	// Single sequences lose their tail; padding to a length, masks 0 on pads.
	got := tok.EncodeBatch([]string{a, "dog"}, nil, BatchOptions{MaxLength: 5, Truncate: true, Padding: PadMaxLength})
	one := tok.EncodeSingle(a)
	if !slices.Equal(got[0].IDs, append(one.IDs[:4:4], tok.SepID())) {
		t.Errorf("single truncation: %v from %v", got[0].IDs, one.IDs)
	}
	d := tok.EncodeSingle("dog")
	if !slices.Equal(got[1].IDs, append(d.IDs, tok.PadID(), tok.PadID())) || !slices.Equal(got[1].AttentionMask, []int{1, 1, 1, 0, 0}) ||
		!slices.Equal(got[1].TypeIDs, []int{0, 0, 0, 0, 0}) {
		t.Errorf("padding: %+v", got[1])
	}
	// Without Truncate, MaxLength only pads: longer encodings stay whole.
	got = tok.EncodeBatch([]string{a, "dog"}, nil, BatchOptions{MaxLength: 5, Padding: PadMaxLength})
	if !slices.Equal(got[0].IDs, one.IDs) || got[1].Len() != 5 {
		t.Errorf("no truncation: %v, %v", got[0].IDs, got[1].IDs)
	}
	if got := tok.EncodeBatch([]string{"x y z", ""}, nil, BatchOptions{}); got[0].Len() != 5 || got[1].Len() != 2 {
		t.Errorf("no padding: lengths %d %d", got[0].Len(), got[1].Len())
	}
}

func mustPanic(t *testing.T, name, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if s, _ := r.(string); !strings.Contains(s, want) {
			t.Errorf("%s: panic %v, want one containing %q", name, r, want)
		}
	}()
	f()
}

func TestWordPiecePanics(t *testing.T) {
	tok := testWP(t, WordPieceOptions{})
	mustPanic(t, "pairs length", "EncodeBatch", func() { tok.EncodeBatch([]string{"a"}, []string{"b", "c"}, BatchOptions{}) })
	mustPanic(t, "MaxLength 2 pairs", "EncodeBatch", func() {
		tok.EncodeBatch([]string{"a"}, []string{"b"}, BatchOptions{MaxLength: 2, Truncate: true})
	})
	mustPanic(t, "PadMaxLength", "EncodeBatch", func() { tok.EncodeBatch([]string{"a"}, nil, BatchOptions{Padding: PadMaxLength}) })
	mustPanic(t, "Decode", "WordPiece.Decode", func() { tok.Decode([]int{tok.VocabSize()}) })
	mustPanic(t, "Token", "WordPiece.Token", func() { tok.Token(-1) })
}

func TestWordPieceBehaviour(t *testing.T) {
	uncased := testWP(t, WordPieceOptions{})
	for _, c := range []struct {
		tok  *WordPiece
		in   string
		want string // tokens joined by spaces
	}{
		// CJK ideographs outside the BMP are split too (transformers.js misses them).
		{uncased, "\U00020000\U00020001", "[UNK] [UNK]"},
		{testWP(t, WordPieceOptions{KeepCJKWords: true}), "\U00020000\U00020001", "[UNK]"},
		// Unassigned code points, invalid UTF-8 and U+FFFD are removed.
		{uncased, "do\u0378g d\xffog", "dog dog"},
		// Special tokens are matched case-sensitively before normalization.
		{uncased, "the [MASK] dog[SEP]", "the [MASK] dog [SEP]"},
		{uncased, "the [mask]", "the [UNK] m ##a ##s ##k [UNK]"}, // "[" is not in this vocabulary
		// Accents: kept on request even when lower-casing, stripped on request when cased.
		{testWP(t, WordPieceOptions{Accents: AccentsKeep}), "Été", "[UNK]"},
		{testWP(t, WordPieceOptions{Cased: true, Accents: AccentsStrip}), "été", "e ##te"},
		{testWP(t, WordPieceOptions{Cased: true, Accents: AccentsStrip}), "fôx", "fox"},
		{uncased, "FÔX", "fox"},
		// Words over the limit are [UNK]; at the limit they are split.
		{testWP(t, WordPieceOptions{MaxInputCharsPerWord: 3}), "dog walk", "dog [UNK]"},
		{uncased, strings.Repeat("é", 100), strings.TrimSpace("e" + strings.Repeat(" ##e", 99))},
		{uncased, strings.Repeat("é", 101), "[UNK]"},
		{uncased, "", ""},
		{uncased, " \t\n ", ""},
	} {
		if got := strings.Join(c.tok.Tokenize(c.in), " "); got != c.want {
			t.Errorf("Tokenize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestWordPieceManySpecials: special tokens are found in one linear scan (a quadratic one
// would take minutes here).
func TestWordPieceManySpecials(t *testing.T) {
	tok := testWP(t, WordPieceOptions{})
	text := strings.Repeat("[SEP]x", 100000)
	ids := tok.Encode(text)
	if len(ids) != 200000 || ids[0] != tok.SepID() || ids[len(ids)-2] != tok.SepID() {
		t.Fatalf("%d ids, first %d", len(ids), ids[0])
	}
	if got := tok.Tokenize("[MASK][SEP][MASK]a[UNK]"); !slices.Equal(got, []string{"[MASK]", "[SEP]", "[MASK]", "a", "[UNK]"}) {
		t.Errorf("Tokenize = %q", got)
	}
}

func TestWordPieceCustomTokens(t *testing.T) {
	vocab := []string{"<pad>", "<unk>", "<s>", "</s>", "hello", "@@lo", "hel"}
	tok, err := NewWordPiece(vocab, WordPieceOptions{
		UnkToken: "<unk>", ClsToken: "<s>", SepToken: "</s>", PadToken: "<pad>", ContinuingPrefix: "@@",
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Tokenize("Hello hello! hello<s>"); !slices.Equal(got, []string{"hello", "hello", "<unk>", "hello", "<s>"}) {
		t.Errorf("Tokenize = %q", got)
	}
	if got := tok.Tokenize("hello hello"); !slices.Equal(got, []string{"hello", "hello"}) {
		t.Errorf("Tokenize = %q", got)
	}
	if tok.MaskID() != -1 {
		t.Errorf("MaskID = %d", tok.MaskID())
	}
	if got := tok.EncodeSingle("hello").IDs; !slices.Equal(got, []int{2, 4, 3}) {
		t.Errorf("EncodeSingle = %v", got)
	}
	if got := tok.Decode([]int{6, 5}); got != "hello" {
		t.Errorf("Decode = %q", got)
	}
}

func TestLoadWordPiece(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ok := "[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\nthe\r\n##s\r\n"
	write("vocab.txt", ok)
	tok, err := LoadWordPiece(dir, WordPieceOptions{}) // a directory means its vocab.txt
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Tokenize("thes"); !slices.Equal(got, []string{"the", "##s"}) {
		t.Errorf("CRLF vocabulary: %q", got)
	}
	for name, data := range map[string]string{
		"no unk":    "[PAD]\n[CLS]\n[SEP]\n",
		"no pad":    "[UNK]\n[CLS]\n[SEP]\n",
		"long line": ok + strings.Repeat("x", MaxTokenBytes+10) + "\n",
		"bad utf8":  ok + "\xff\n",
	} {
		if _, err := LoadWordPiece(write("v.txt", data), WordPieceOptions{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := LoadWordPiece(filepath.Join(dir, "missing.txt"), WordPieceOptions{}); err == nil {
		t.Error("missing file: no error")
	}
}

func TestWordPieceConcurrent(t *testing.T) {
	tok, g := loadWP(t, "uncased")
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 200 {
				c := g.Texts[(i*5+w)%len(g.Texts)]
				if got := tok.EncodeSingle(c.Text).IDs; !slices.Equal(got, c.IDs) {
					t.Errorf("goroutine %d: %q = %v", w, c.Text, got)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestTrainWordPiece(t *testing.T) {
	text, err := os.ReadFile(filepath.Join(wpDir, "train.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(text), "\n")
	for _, opts := range []TrainOptions{{VocabSize: 300}, {VocabSize: 5000, MinFrequency: 3}, {VocabSize: 400, LimitAlphabet: 40, WordPieceOptions: WordPieceOptions{Cased: true}}} {
		vocab, err := TrainWordPiece(lines, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(vocab[:5], []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
			t.Errorf("%+v: specials %q", opts, vocab[:5])
		}
		if opts.VocabSize == 300 && len(vocab) != opts.VocabSize {
			t.Errorf("%+v: %d tokens", opts, len(vocab))
		}
		seen := map[string]bool{}
		for _, v := range vocab {
			if seen[v] {
				t.Errorf("%+v: %q twice", opts, v)
			}
			seen[v] = true
		}
		tok, err := NewWordPiece(vocab, opts.WordPieceOptions)
		if err != nil {
			t.Fatal(err)
		}
		// Every training word made of alphabet characters has a tokenization without [UNK].
		alpha := 0
		for _, v := range vocab[5:] {
			if !strings.HasPrefix(v, "##") && len([]rune(v)) == 1 {
				alpha++
				if !seen["##"+v] {
					t.Errorf("%+v: %q without its continuation form", opts, v)
				}
			}
		}
		if opts.LimitAlphabet > 0 && alpha != opts.LimitAlphabet {
			t.Errorf("%+v: alphabet of %d", opts, alpha)
		}
		unk := 0
		for _, l := range lines {
			for _, id := range tok.Encode(l) {
				if id == tok.UnkID() {
					unk++
				}
			}
		}
		if (unk == 0) != (opts.LimitAlphabet == 0) {
			t.Errorf("%+v: %d [UNK] in the training text", opts, unk)
		}
		// Through a file and back.
		var b bytes.Buffer
		if err := WriteVocab(&b, vocab); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "vocab.txt")
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		back, err := LoadWordPiece(p, opts.WordPieceOptions)
		if err != nil || !slices.Equal(back.Vocab(), vocab) {
			t.Errorf("%+v: reloaded vocabulary differs (%v)", opts, err)
		}
	}
	if _, err := TrainWordPiece(lines, TrainOptions{}); err == nil {
		t.Error("VocabSize 0: no error")
	}
	if err := WriteVocab(&bytes.Buffer{}, []string{"a\nb"}); err == nil {
		t.Error("WriteVocab of a token with a newline: no error")
	}
}

// FuzzWordPiece checks that any text tokenizes without panicking, into ids of the vocabulary,
// consistently between Tokenize, Encode and EncodePair.
func FuzzWordPiece(f *testing.F) {
	for _, s := range []string{"", "Hello, world!", "Le café", "我们喜欢", "[MASK] x", "\xff\x00", strings.Repeat("ab", 60)} {
		f.Add(s)
	}
	tok := testWP(f, WordPieceOptions{})
	f.Fuzz(func(t *testing.T, s string) {
		ids := tok.Encode(s)
		toks := tok.Tokenize(s)
		if len(ids) != len(toks) {
			t.Fatalf("%q: %d ids, %d tokens", s, len(ids), len(toks))
		}
		for i, id := range ids {
			if tok.Token(id) != toks[i] {
				t.Fatalf("%q: id %d is %q, token %q", s, id, tok.Token(id), toks[i])
			}
		}
		e := tok.EncodePair(s, s)
		if e.Len() != 2*len(ids)+3 || e.TypeIDs[len(ids)+2] != 1 {
			t.Fatalf("%q: pair %v", s, e)
		}
		_ = tok.Decode(ids)
	})
}

// BenchmarkWordPieceEncode reports MB/s of Encode on English-like text.
func BenchmarkWordPieceEncode(b *testing.B) {
	tok := testWP(b, WordPieceOptions{})
	text, err := os.ReadFile(filepath.Join(wpDir, "train.txt"))
	if err != nil {
		b.Fatal(err)
	}
	s := strings.Repeat(string(text), 64)
	b.SetBytes(int64(len(s)))
	n := 0
	for b.Loop() {
		n = len(tok.Encode(s))
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}
