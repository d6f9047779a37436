package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// unicode_tables.go and testdata/unicode/golden.txt are written by
// /usr/bin/python3 scripts/gen_unicode_tables.py (run from the repository root).

// The WordPiece normalizer lower-cases like Python's str.lower and strips accents like
// unicodedata.normalize("NFD", s) followed by dropping category Mn, which is what Hugging Face's
// Python BertTokenizer does. The data are Python's (unicode_tables.go, unidataVersion); the
// rest of the package (cleaning, punctuation) uses Go's unicode package.

type lowerRun struct {
	lo, hi uint32
	stride uint32
	delta  int32
}

type cccRun struct {
	lo, hi uint32
	ccc    uint8
}

// lowerRune returns the one-character lower case of r, or r if it has none (or lowers to more
// than one character, see lowerMulti).
func lowerRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}
	u := uint32(r)
	i, j := 0, len(lowerRuns) // first run with hi >= u
	for i < j {
		if h := int(uint(i+j) >> 1); lowerRuns[h].hi < u {
			i = h + 1
		} else {
			j = h
		}
	}
	if i < len(lowerRuns) {
		if lr := &lowerRuns[i]; lr.lo <= u && (u-lr.lo)%lr.stride == 0 {
			return r + rune(lr.delta)
		}
	}
	return r
}

// lower is Python's str.lower: full case mapping (U+0130 becomes "i̇") and the final-sigma
// rule. It returns s itself when nothing changes.
func lower(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				break
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if lowerRune(r) != r || lowerMultiOf(r) != "" {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteString(s[:i])
	for j, r := range s[i:] {
		j += i
		switch {
		case r == 0x3A3:
			if finalSigma(s, j) {
				b.WriteRune(0x3C2)
			} else {
				b.WriteRune(0x3C3)
			}
		default:
			if l := lowerRune(r); l != r {
				b.WriteRune(l)
			} else if m := lowerMultiOf(r); m != "" {
				b.WriteString(m)
			} else {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// lowerMultiOf returns r's lower case if it has more than one character, else "".
func lowerMultiOf(r rune) string {
	for _, m := range lowerMulti {
		if m.r == r {
			return m.s
		}
	}
	return ""
}

// finalSigma reports whether the capital sigma at s[i:] is word-final in Python's sense: a
// cased character before it and none after it, case-ignorable characters skipped both ways.
func finalSigma(s string, i int) bool {
	j := i
	before := false
	for j > 0 {
		c, n := utf8.DecodeLastRuneInString(s[:j])
		j -= n
		if !unicode.Is(caseIgnorable, c) {
			before = unicode.Is(casedNotIgnorable, c)
			break
		}
	}
	if !before {
		return false
	}
	for j = i + 2; j < len(s); { // U+03A3 is two bytes
		c, n := utf8.DecodeRuneInString(s[j:])
		j += n
		if !unicode.Is(caseIgnorable, c) {
			return !unicode.Is(casedNotIgnorable, c)
		}
	}
	return true
}

const (
	hangulBase  = 0xAC00
	hangulCount = 11172
	jamoLBase   = 0x1100
	jamoVBase   = 0x1161
	jamoTBase   = 0x11A7
	jamoTCount  = 28
	jamoNCount  = 21 * jamoTCount
)

// decomposition returns the full canonical decomposition of r (not a Hangul syllable) and
// whether it has one.
func decomposition(r rune) (string, bool) {
	if r < 0xC0 {
		return "", false
	}
	u := uint32(r)
	i, j := 0, len(decompKeys) // first key >= u
	for i < j {
		if h := int(uint(i+j) >> 1); decompKeys[h] < u {
			i = h + 1
		} else {
			j = h
		}
	}
	if i < len(decompKeys) && decompKeys[i] == u {
		return decompPool[decompOffs[i]:decompOffs[i+1]], true
	}
	return "", false
}

// combiningClass returns r's canonical combining class.
func combiningClass(r rune) uint8 {
	if r < 0x300 {
		return 0
	}
	u := uint32(r)
	i, j := 0, len(cccRuns) // first run with hi >= u
	for i < j {
		if h := int(uint(i+j) >> 1); cccRuns[h].hi < u {
			i = h + 1
		} else {
			j = h
		}
	}
	if i < len(cccRuns) && cccRuns[i].lo <= u {
		return cccRuns[i].ccc
	}
	return 0
}

// nfdQuick reports whether r is left alone by NFD wherever it stands: no decomposition and
// combining class 0.
func nfdQuick(r rune) bool {
	if r < 0xC0 {
		return true
	}
	if r >= hangulBase && r < hangulBase+hangulCount {
		return false
	}
	if _, ok := decomposition(r); ok {
		return false
	}
	return combiningClass(r) == 0
}

// nfd is unicodedata.normalize("NFD", s): every character replaced by its full canonical
// decomposition (Hangul syllables by the algorithm), then every run of non-starters sorted
// stably by combining class. It returns s itself when nothing changes. Invalid UTF-8 is kept
// as U+FFFD.
func nfd(s string) string {
	i := 0
	for i < len(s) {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || !nfdQuick(r) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	var rbuf [64]rune
	var cbuf [64]uint8
	rs, cs := rbuf[:0], cbuf[:0]
	add := func(r rune) {
		rs = append(rs, r)
		cs = append(cs, combiningClass(r))
	}
	for _, r := range s[i:] {
		switch {
		case r >= hangulBase && r < hangulBase+hangulCount:
			k := r - hangulBase
			add(jamoLBase + k/jamoNCount)
			add(jamoVBase + (k%jamoNCount)/jamoTCount)
			if t := k % jamoTCount; t != 0 {
				add(jamoTBase + t)
			}
		default:
			if d, ok := decomposition(r); ok {
				for _, c := range d {
					add(c)
				}
			} else {
				add(r)
			}
		}
	}
	// Canonical ordering: insertion sort (stable) of every run of non-starters; the runs are
	// short. A run continuing from s[:i] is impossible: s[:i] ends with a starter or is empty,
	// and the sort never moves a character across a starter.
	for k := 1; k < len(rs); k++ {
		c := cs[k]
		if c == 0 {
			continue
		}
		r := rs[k]
		j := k
		for j > 0 && cs[j-1] > c {
			rs[j], cs[j] = rs[j-1], cs[j-1]
			j--
		}
		rs[j], cs[j] = r, c
	}
	var b strings.Builder
	b.Grow(len(s) + len(rs))
	b.WriteString(s[:i])
	for _, r := range rs {
		b.WriteRune(r)
	}
	return b.String()
}

// isMn reports whether r is a nonspacing mark (general category Mn).
func isMn(r rune) bool { return r >= 0x300 && unicode.Is(nonspacingMark, r) }

// stripAccents is BertTokenizer's _run_strip_accents: NFD, then nonspacing marks removed.
func stripAccents(s string) string {
	s = nfd(s)
	if strings.IndexFunc(s, isMn) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isMn(r) {
			return -1
		}
		return r
	}, s)
}
