package tokenizer

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestUnicodeGolden checks lower, nfd and stripAccents against Python's str.lower and
// unicodedata on testdata/unicode/golden.txt (scripts/gen_unicode_tables.py): every code point
// with a canonical decomposition or a lower-case mapping, every combining mark after a base,
// Hangul syllables, random canonical-reordering and final-sigma cases, random text.
func TestUnicodeGolden(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "unicode", "golden.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n, bad := 0, 0
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if strings.HasPrefix(text, "#") {
			if line == 1 && !strings.HasSuffix(text, "unicodedata "+unidataVersion) {
				t.Fatalf("golden header %q does not match the tables' Unicode %s", text, unidataVersion)
			}
			continue
		}
		cols := strings.Split(text, " | ")
		if len(cols) != 5 {
			t.Fatalf("line %d: %d columns", line, len(cols))
		}
		in, err := parseHexRunes(cols[0], "")
		if err != nil {
			t.Fatalf("line %d: %v", line, err)
		}
		want := make([]string, 4)
		for i := range want {
			if want[i], err = parseHexRunes(cols[i+1], in); err != nil {
				t.Fatalf("line %d: %v", line, err)
			}
		}
		for i, got := range []string{lower(in), nfd(in), stripAccents(in), stripAccents(lower(in))} {
			if got != want[i] {
				bad++
				if bad <= 20 {
					t.Errorf("line %d: %s(%+q) = %+q, want %+q", line,
						[]string{"lower", "nfd", "stripAccents", "stripAccents∘lower"}[i], in, got, want[i])
				}
			}
		}
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 2000 {
		t.Fatalf("golden has %d cases, want at least 2000", n)
	}
	if bad > 0 {
		t.Fatalf("%d mismatches in %d cases", bad, n)
	}
}

// parseHexRunes reads space-separated hexadecimal code points; "-" is the empty string and
// "=" is same.
func parseHexRunes(s, same string) (string, error) {
	switch s {
	case "-":
		return "", nil
	case "=":
		return same, nil
	}
	var b strings.Builder
	for _, h := range strings.Fields(s) {
		v, err := strconv.ParseUint(h, 16, 32)
		if err != nil || !utf8.ValidRune(rune(v)) {
			return "", fmt.Errorf("bad code point %q", h)
		}
		b.WriteRune(rune(v))
	}
	return b.String(), nil
}

func TestUnicodeSmall(t *testing.T) {
	for _, c := range []struct{ f, in, want string }{
		{"lower", "İSTANBUL", "i\u0307stanbul"},
		{"lower", "ΟΔΟΣ ΟΔΟΣ.", "οδος οδος."}, // final sigma before a space and a full stop
		{"lower", "ΣΑΣ'Σ", "σασ'ς"},           // ' is case-ignorable, skipped: the last Σ is final
		{"lower", "Σ", "σ"},                   // nothing cased before
		{"lower", "ÀÉÎ ǅ ß ẞ", "àéî ǆ ß ß"},   // titlecase and sharp s
		{"nfd", "한국어", "\u1112\u1161\u11ab\u1100\u116e\u11a8\u110b\u1165"},
		{"nfd", "a\u0301\u0323", "a\u0323\u0301"}, // dot below (220) before acute (230)
		{"nfd", "\u1e69", "s\u0323\u0307"},        // recursive decomposition
		{"nfd", "abc \xff", "abc \ufffd"},         // invalid UTF-8 becomes U+FFFD
		{"stripAccents", "Crème Brûlée", "Creme Brulee"},
		{"stripAccents", "ascii only", "ascii only"},
	} {
		var got string
		switch c.f {
		case "lower":
			got = lower(c.in)
		case "nfd":
			got = nfd(c.in)
		case "stripAccents":
			got = stripAccents(c.in)
		}
		if got != c.want {
			t.Errorf("%s(%+q) = %+q, want %+q", c.f, c.in, got, c.want)
		}
	}
}

// TestUnicodeNoAlloc: text that normalization leaves alone is returned without allocating.
func TestUnicodeNoAlloc(t *testing.T) {
	s := "déjà vu ∑ 日本語 한"
	s = stripAccents(lower(s))
	if a := testing.AllocsPerRun(100, func() { _ = stripAccents(lower(s)) }); a != 0 {
		t.Errorf("%v allocations for %q", a, s)
	}
}

// FuzzNormalize: lower, nfd and stripAccents never panic, keep valid UTF-8 valid, nfd is
// idempotent and stripAccents leaves no nonspacing mark.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"", "ΟΔΟΣ", "İ", "한국어", "a\u0301\u0323\u0345Σ", "\xffΣ\xce", "ǅ\u0300\u0f73"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, d, st := lower(s), nfd(s), stripAccents(s)
		if utf8.ValidString(s) && !(utf8.ValidString(l) && utf8.ValidString(d) && utf8.ValidString(st)) {
			t.Fatalf("%+q: invalid UTF-8 out: %+q %+q %+q", s, l, d, st)
		}
		if dd := nfd(d); dd != d {
			t.Fatalf("nfd(%+q) = %+q, nfd of that = %+q", s, d, dd)
		}
		if strings.IndexFunc(st, isMn) >= 0 {
			t.Fatalf("stripAccents(%+q) = %+q keeps a mark", s, st)
		}
	})
}

// BenchmarkNormalize: lower-casing and accent stripping of mixed non-ASCII words.
func BenchmarkNormalize(b *testing.B) {
	words := strings.Fields("Crème brûlée ΟΔΟΣ İstanbul 한국어 Ärger naïve façade déjà ЁЛКА Ünïcödé")
	n := 0
	for _, w := range words {
		n += len(w)
	}
	b.SetBytes(int64(n))
	for b.Loop() {
		for _, w := range words {
			_ = stripAccents(lower(w))
		}
	}
}
