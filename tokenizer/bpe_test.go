package tokenizer

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

const gpt2Dir = "testdata/gpt2"

var (
	gpt2Once sync.Once
	gpt2Tok  *BPE
	gpt2Err  error
)

func loadGPT2(tb testing.TB) *BPE {
	tb.Helper()
	gpt2Once.Do(func() { gpt2Tok, gpt2Err = LoadGPT2(gpt2Dir) })
	if gpt2Err != nil {
		tb.Fatal(gpt2Err)
	}
	return gpt2Tok
}

type gpt2Golden struct {
	Generator string
	Cases     []struct {
		Text string
		IDs  []int
	}
}

func loadGPT2Golden(tb testing.TB) gpt2Golden {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(gpt2Dir, "golden.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var g gpt2Golden
	if err := json.Unmarshal(data, &g); err != nil {
		tb.Fatal(err)
	}
	if len(g.Cases) < 100 {
		tb.Fatalf("golden has only %d cases", len(g.Cases))
	}
	return g
}

// TestGPT2Golden compares every corpus string with the ids of gpt-3-encoder's JavaScript encoder.
func TestGPT2Golden(t *testing.T) {
	tok := loadGPT2(t)
	g := loadGPT2Golden(t)
	for _, c := range g.Cases {
		got := tok.Encode(c.Text)
		if !slices.Equal(got, c.IDs) {
			t.Errorf("Encode(%q)\n got %v\nwant %v (%s)", c.Text, got, c.IDs, g.Generator)
		}
		if back := tok.Decode(got); back != c.Text {
			t.Errorf("Decode(Encode(%q)) = %q", c.Text, back)
		}
		// The piece cache must not change results: encode again, warm.
		if again := tok.Encode(c.Text); !slices.Equal(again, got) {
			t.Errorf("second Encode(%q) = %v, first %v", c.Text, again, got)
		}
	}
}

// TestGPT2HFNames writes Hugging Face's vocab.json and merges.txt from the vendored OpenAI files
// and checks the tokenizer loaded from them encodes identically.
func TestGPT2HFNames(t *testing.T) {
	dir := t.TempDir()
	enc, err := os.ReadFile(filepath.Join(gpt2Dir, "encoder.json"))
	if err != nil {
		t.Fatal(err)
	}
	vj := enc
	if !testing.Short() {
		var vocab map[string]int
		if err := json.Unmarshal(enc, &vocab); err != nil {
			t.Fatal(err)
		}
		vj, err = json.Marshal(vocab) // re-serialised: another key order and escaping than the original
		if err != nil {
			t.Fatal(err)
		}
	}
	bpe, err := os.ReadFile(filepath.Join(gpt2Dir, "vocab.bpe"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(bpe), "\n"), "\n")
	lines[0] = "#version: 0.2 - Trained by `huggingface/tokenizers`"
	if err := os.WriteFile(filepath.Join(dir, "vocab.json"), vj, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "merges.txt"), []byte(strings.Join(lines, "\r\n")+"\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hf, err := LoadGPT2(dir)
	if err != nil {
		t.Fatal(err)
	}
	tok := loadGPT2(t)
	if hf.VocabSize() != tok.VocabSize() || len(hf.merges) != len(tok.merges) || len(tok.merges) != 50000 {
		t.Fatalf("sizes: HF %d/%d, OpenAI %d/%d", hf.VocabSize(), len(hf.merges), tok.VocabSize(), len(tok.merges))
	}
	for _, c := range loadGPT2Golden(t).Cases {
		if got := hf.Encode(c.Text); !slices.Equal(got, c.IDs) {
			t.Errorf("HF files: Encode(%q) = %v, want %v", c.Text, got, c.IDs)
		}
	}
}

func TestPreTokenize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"Hello world", []string{"Hello", " world"}},
		{"hello  world", []string{"hello", " ", " world"}},
		{"a\n\nb", []string{"a", "\n", "\n", "b"}},
		{"a \n b", []string{"a", " \n", " b"}},
		{"x   ", []string{"x", "   "}},
		{"I'm DON'T", []string{"I", "'m", " DON", "'", "T"}},
		{"we'll've", []string{"we", "'ll", "'ve"}},
		{"''s", []string{"''", "s"}},
		{" 's", []string{" '", "s"}},
		{"abc123!?", []string{"abc", "123", "!?"}},
		{" 123 !!", []string{" 123", " !!"}},
		{"a\u00a0b", []string{"a", "\u00a0", "b"}},             // NBSP is \s but not the optional space
		{"a\u0085b", []string{"a", "\u0085", "b"}},             // U+0085 is not \s in JavaScript: other
		{"a \ufeffb", []string{"a", " ", "\ufeff", "b"}},       // U+FEFF is \s in JavaScript
		{"e\u0301t\u00e9", []string{"e", "\u0301", "t\u00e9"}}, // combining marks are neither L nor N
		{"\xff\xfeab", []string{"\xff\xfe", "ab"}},             // invalid bytes are one "other" run
		{" \xffab", []string{" \xff", "ab"}},
	} {
		if got := PreTokenize(c.in); !slices.Equal(got, c.want) {
			t.Errorf("PreTokenize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestBPESpecial(t *testing.T) {
	tok := loadGPT2(t)
	if tok.EndOfTextID() != 50256 || tok.VocabSize() != 50257 {
		t.Fatalf("EndOfTextID %d VocabSize %d", tok.EndOfTextID(), tok.VocabSize())
	}
	plain := tok.Encode("a<|endoftext|>b")
	if slices.Contains(plain, 50256) {
		t.Errorf("Encode maps the literal special text to 50256: %v", plain)
	}
	got := tok.EncodeSpecial("Hello<|endoftext|> world<|endoftext|>")
	want := append(append(tok.Encode("Hello"), 50256), append(tok.Encode(" world"), 50256)...)
	if !slices.Equal(got, want) {
		t.Errorf("EncodeSpecial = %v, want %v", got, want)
	}
	if s := tok.Decode(got); s != "Hello<|endoftext|> world<|endoftext|>" {
		t.Errorf("Decode = %q", s)
	}
	if id, ok := tok.TokenID("Ġthe"); !ok || id != 262 || tok.Token(262) != "Ġthe" {
		t.Errorf("TokenID(Ġthe) = %d %v", id, ok)
	}
}

func TestBPEDecodePanics(t *testing.T) {
	tok := loadGPT2(t)
	for _, id := range []int{-1, 50257, 1 << 40} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), "BPE.Decode") {
					t.Errorf("Decode([%d]) panic = %v", id, r)
				}
			}()
			tok.Decode([]int{id})
		}()
	}
}

// TestBPEHeapMatchesScan checks the priority-queue merge of long pieces against the reference loop.
func TestBPEHeapMatchesScan(t *testing.T) {
	tok := loadGPT2(t)
	rng := rand.New(rand.NewPCG(1, 2))
	alphabets := []string{"ab", "aaab", "abcdefghijklmnopqrstuvwxyz", "etaoin shrdlu", "0123456789", "!?.,;:", "é中😀x"}
	n := 400
	if testing.Short() {
		n = 70
	}
	for i := range n {
		alpha := []rune(alphabets[i%len(alphabets)])
		n := 1 + rng.IntN(200)
		var b strings.Builder
		for range n {
			b.WriteRune(alpha[rng.IntN(len(alpha))])
		}
		piece := b.String()
		syms := func() []int32 {
			s := make([]int32, len(piece))
			for k := range len(piece) {
				s[k] = tok.byteID[piece[k]]
			}
			return s
		}
		scan := tok.mergeScan(syms())
		heap := tok.mergeHeap(syms())
		if !slices.Equal(scan, heap) {
			t.Fatalf("piece %q: scan %v, heap %v", piece, scan, heap)
		}
	}
}

func TestBPERoundTripInvalidUTF8(t *testing.T) {
	tok := loadGPT2(t)
	for _, s := range []string{"\xff", "a\xc3", "\xed\xa0\x80 surrogate", "ok \x80\x81\x82 bytes", "\xf4\x90\x80\x80"} {
		if got := tok.Decode(tok.Encode(s)); got != s {
			t.Errorf("Decode(Encode(%q)) = %q", s, got)
		}
	}
}

// TestBPEConcurrent encodes from several goroutines at once (run with -race) while the small
// pieces churn the bounded cache.
func TestBPEConcurrent(t *testing.T) {
	tok := loadGPT2(t)
	g := loadGPT2Golden(t)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for i := range 300 {
				c := g.Cases[(i*7+w)%len(g.Cases)]
				if got := tok.Encode(c.Text); !slices.Equal(got, c.IDs) {
					t.Errorf("goroutine %d: Encode(%q) = %v", w, c.Text, got)
					return
				}
				word := string(rune('a'+rng.IntN(26))) + string(rune('a'+rng.IntN(26))) + string(rune('0'+rng.IntN(10)))
				if s := tok.Decode(tok.Encode(word)); s != word {
					t.Errorf("round trip %q -> %q", word, s)
					return
				}
			}
		})
	}
	wg.Wait()
	for i := range tok.cache.shards {
		if n := len(tok.cache.shards[i].m); n > cacheShardSize {
			t.Errorf("cache shard %d holds %d entries", i, n)
		}
	}
}

// withFreshCache returns a tokenizer sharing t's tables with an empty cache of limit entries per shard.
func withFreshCache(t *BPE, limit int) *BPE {
	c := &BPE{vocab: t.vocab, tokens: t.tokens, raw: t.raw, byteID: t.byteID, merges: t.merges, eot: t.eot, special: t.special}
	c.cache.init()
	c.cache.limit = limit
	return c
}

func TestBPECacheBounded(t *testing.T) {
	const limit = 32
	tok := withFreshCache(loadGPT2(t), limit)
	var b strings.Builder
	for i := range 3 * cacheShards * limit {
		b.WriteString(" w")
		for v := i; v > 0; v /= 26 {
			b.WriteByte(byte('a' + v%26))
		}
	}
	text := b.String()
	if got := tok.Decode(tok.Encode(text)); got != text {
		t.Fatal("round trip failed")
	}
	if again := tok.Encode(text); !slices.Equal(again, loadGPT2(t).Encode(text)) {
		t.Fatal("results depend on the cache")
	}
	total := 0
	for i := range tok.cache.shards {
		n := len(tok.cache.shards[i].m)
		if n > limit {
			t.Errorf("shard %d holds %d entries, limit %d", i, n, limit)
		}
		total += n
	}
	if total == 0 {
		t.Error("nothing cached")
	}
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// byteVocab returns a JSON vocabulary of the 256 byte tokens plus extra.
func byteVocab(extra ...string) string {
	m := map[string]int{}
	for _, r := range bytesToUnicode() {
		m[string(r)] = len(m)
	}
	for _, e := range extra {
		m[e] = len(m)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func TestLoadGPT2Errors(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"no files":        {},
		"no merges":       {"vocab.json": byteVocab()},
		"bad json":        {"vocab.json": "{", "merges.txt": ""},
		"not an object":   {"vocab.json": "[1,2]", "merges.txt": ""},
		"negative id":     {"vocab.json": `{"a": -1}`, "merges.txt": ""},
		"huge id":         {"vocab.json": `{"a": 99999999999}`, "merges.txt": ""},
		"float id":        {"vocab.json": `{"a": 1.5}`, "merges.txt": ""},
		"duplicate id":    {"vocab.json": `{"a": 1, "b": 1}`, "merges.txt": ""},
		"missing bytes":   {"vocab.json": `{"a": 0}`, "merges.txt": ""},
		"merge not vocab": {"vocab.json": byteVocab(), "merges.txt": "#version: 0.2\na b\n"},
		"three fields":    {"vocab.json": byteVocab("ab"), "merges.txt": "a b c\n"},
		"long line":       {"vocab.json": byteVocab(), "merges.txt": strings.Repeat("a", 5000) + " b\n"},
		"long token":      {"vocab.json": `{"` + strings.Repeat("a", 2000) + `": 0}`, "merges.txt": ""},
	} {
		if _, err := LoadGPT2(writeFiles(t, files)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// A minimal valid tokenizer: bytes plus one merge.
	tok, err := LoadGPT2(writeFiles(t, map[string]string{"vocab.json": byteVocab("ab"), "merges.txt": "#version: 0.2\na b\n"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Encode("abab"); !slices.Equal(got, []int{256, 256}) {
		t.Errorf("Encode(abab) = %v", got)
	}
	if tok.EndOfTextID() != -1 || !slices.Equal(tok.EncodeSpecial("<|endoftext|>"), tok.Encode("<|endoftext|>")) {
		t.Error("EncodeSpecial without the special token")
	}
}

// FuzzBPERoundTrip checks Decode(Encode(s)) == s. It holds for every byte string, valid UTF-8
// or not, because the encoding is byte-level; the pre-split pieces also concatenate back to s.
func FuzzBPERoundTrip(f *testing.F) {
	for _, s := range []string{"", "Hello, world!", "don't DON'T", "a  \n\tb", "😀👍🏽", "\xff\xfe", "e\u0301", strings.Repeat("ab", 50)} {
		f.Add(s)
	}
	tok := loadGPT2(f)
	f.Fuzz(func(t *testing.T, s string) {
		ids := tok.Encode(s)
		if got := tok.Decode(ids); got != s {
			t.Fatalf("Decode(Encode(%q)) = %q", s, got)
		}
		if strings.Join(PreTokenize(s), "") != s {
			t.Fatalf("PreTokenize(%q) does not concatenate back", s)
		}
		if utf8.ValidString(s) && len(s) > 0 && len(ids) == 0 {
			t.Fatalf("Encode(%q) is empty", s)
		}
	})
}

func benchText(tb testing.TB) string {
	tb.Helper()
	var b strings.Builder
	for _, c := range loadGPT2Golden(tb).Cases {
		b.WriteString(c.Text)
		b.WriteByte('\n')
	}
	// Go source is a large varied text that is always at hand.
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		b.Write(data)
	}
	unit := b.String()
	return strings.Repeat(unit, (2<<20)/len(unit)+1) // about 2 MB
}

// BenchmarkBPEEncode reports tokens/s and MB/s of Encode over about 2 MB of mixed text and code.
func BenchmarkBPEEncode(b *testing.B) {
	tok := loadGPT2(b)
	text := benchText(b)
	b.SetBytes(int64(len(text)))
	n := 0
	for b.Loop() {
		n = len(tok.Encode(text))
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkBPEEncodeCold is Encode with an empty piece cache every time.
func BenchmarkBPEEncodeCold(b *testing.B) {
	tok := loadGPT2(b)
	text := benchText(b)[:1<<20]
	b.SetBytes(int64(len(text)))
	n := 0
	for b.Loop() {
		b.StopTimer()
		cold := withFreshCache(tok, cacheShardSize)
		b.StartTimer()
		n = len(cold.Encode(text))
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

func BenchmarkBPEDecode(b *testing.B) {
	tok := loadGPT2(b)
	text := benchText(b)
	ids := tok.Encode(text)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		tok.Decode(ids)
	}
}

// FuzzNewBPE feeds arbitrary vocabulary and merges files: NewBPE returns an error or a working
// tokenizer, never panics.
func FuzzNewBPE(f *testing.F) {
	f.Add([]byte(byteVocab("ab", "abc")), []byte("#version: 0.2\na b\nab c\n"), "abcab")
	f.Add([]byte(byteVocab("ab")), []byte("a b\na b\n"), "aab")
	f.Add([]byte(`{"a": 0}`), []byte(""), "a")
	f.Fuzz(func(t *testing.T, vocab, merges []byte, s string) {
		tok, err := NewBPE(vocab, merges)
		if err != nil {
			return
		}
		if got := tok.Decode(tok.Encode(s)); got != s {
			t.Fatalf("Decode(Encode(%q)) = %q", s, got)
		}
	})
}

// BenchmarkBPEEncodeUncached is Encode with a cache of one entry per shard: every piece is merged.
func BenchmarkBPEEncodeUncached(b *testing.B) {
	tok := withFreshCache(loadGPT2(b), 0)
	text := benchText(b)[:1<<20]
	b.SetBytes(int64(len(text)))
	n := 0
	for b.Loop() {
		n = len(tok.Encode(text))
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}
