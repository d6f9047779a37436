package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// Rune classes of GPT-2's pre-split pattern
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
const (
	classOther  = iota // [^\s\p{L}\p{N}], also every byte of invalid UTF-8
	classLetter        // \p{L}
	classNumber        // \p{N}
	classSpace         // \s as JavaScript defines it
)

// isJSSpace reports whether r is in JavaScript's \s set (ECMAScript WhiteSpace and LineTerminator):
// tab, LF, VT, FF, CR, space, NBSP, U+FEFF, U+2028, U+2029 and the Zs category. It differs from
// unicode.IsSpace on U+0085 (not \s in JavaScript) and U+FEFF (\s in JavaScript only).
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

func runeClass(r rune) int {
	switch {
	case r < utf8.RuneSelf:
		return asciiClass[r]
	case isJSSpace(r):
		return classSpace
	case unicode.IsLetter(r):
		return classLetter
	case unicode.IsNumber(r):
		return classNumber
	}
	return classOther
}

var asciiClass = func() (t [utf8.RuneSelf]int) {
	for r := range rune(utf8.RuneSelf) {
		switch {
		case isJSSpace(r):
			t[r] = classSpace
		case unicode.IsLetter(r):
			t[r] = classLetter
		case unicode.IsNumber(r):
			t[r] = classNumber
		default:
			t[r] = classOther
		}
	}
	return
}()

// decodeClass decodes the rune at s[i:] and returns its class and width. An invalid byte is
// one rune of width 1 in the class of U+FFFD (other), so invalid UTF-8 is split like the
// replacement character while every original byte is kept.
func decodeClass(s string, i int) (int, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return asciiClass[c], 1
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && n == 1 {
		return classOther, 1
	}
	return runeClass(r), n
}

// runEnd returns the end of the run of class cls that starts at i.
func runEnd(s string, i, cls int) int {
	for i < len(s) {
		c, n := decodeClass(s, i)
		if c != cls {
			break
		}
		i += n
	}
	return i
}

// nextPretoken returns the end of the GPT-2 pre-token starting at s[i:] (i < len(s)). It is
// JavaScript's leftmost-alternative match of the pattern above (with the u flag), written by
// hand because Go's regexp has no lookahead:
//   - an apostrophe followed by s, t, m, d, re, ve or ll (lower case only) is a contraction;
//   - an ASCII space followed by a letter, number or other rune joins that rune's run;
//   - a letter, number or other rune starts a run of its class;
//   - a whitespace run followed by non-space gives all but its last rune (the last one then
//     starts the next pre-token, as " word" or on its own); a single whitespace rune, or a run
//     that ends the text, is taken whole.
func nextPretoken(s string, i int) int {
	c0 := s[i]
	if c0 == '\'' && i+1 < len(s) {
		switch s[i+1] {
		case 's', 't', 'm', 'd':
			return i + 2
		case 'r', 'v', 'l':
			if i+2 < len(s) {
				switch s[i+1 : i+3] {
				case "re", "ve", "ll":
					return i + 3
				}
			}
		}
	}
	if c0 == ' ' && i+1 < len(s) {
		if c, n := decodeClass(s, i+1); c != classSpace {
			return runEnd(s, i+1+n, c)
		}
	}
	c, n := decodeClass(s, i)
	if c != classSpace {
		return runEnd(s, i+n, c)
	}
	// Whitespace: find the run and the start of its last rune.
	last, j := i, i+n
	for j < len(s) {
		c, m := decodeClass(s, j)
		if c != classSpace {
			break
		}
		last = j
		j += m
	}
	if j == len(s) || last == i {
		return j // \s+(?!\S) at the end of the text, or a lone \s before non-space
	}
	return last // \s+(?!\S) backtracked by one rune
}

// PreTokenize splits text the way GPT-2's encoder does before byte-pair encoding, with
// JavaScript's definition of \s (see the package documentation). The pieces are substrings of
// text and concatenate back to it.
func PreTokenize(text string) []string {
	var out []string
	for i := 0; i < len(text); {
		j := nextPretoken(text, i)
		out = append(out, text[i:j])
		i = j
	}
	return out
}
