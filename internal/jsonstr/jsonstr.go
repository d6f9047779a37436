// Package jsonstr decodes the body of a JSON string literal. It is shared by
// the library's two small hand-written JSON scanners (the safetensors header
// and the tokenizer's vocabulary files), which avoid encoding/json's
// per-value allocations on large, possibly hostile inputs.
package jsonstr

import (
	"unicode/utf16"
	"unicode/utf8"
)

// Decode appends to dst the decoded characters of a JSON string literal in s
// from index i (anywhere after the opening quote) up to its closing quote.
// It returns dst, the index just after the closing quote and "", or, for
// malformed input, the index of the offending byte and a message.
//
// Escapes are JSON's, \uXXXX with UTF-16 surrogate pairs. A surrogate that
// is not half of a pair is an error when strict; otherwise it decodes to
// U+FFFD and a following escape stands alone, as in encoding/json. Raw bytes
// are copied as they are (callers that need valid UTF-8 check it).
func Decode[S ~string | ~[]byte](dst []byte, s S, i int, strict bool) (out []byte, next int, msg string) {
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			return dst, i + 1, ""
		case c < 0x20:
			return dst, i, "control character in a string"
		case c != '\\':
			dst = append(dst, c)
			i++
			continue
		}
		if i+1 >= len(s) {
			break
		}
		e := s[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			dst = append(dst, e)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(s, i)
			if !ok {
				return dst, i, "invalid \\u escape"
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if r2, ok = hex4(s, i+2); !ok {
						return dst, i + 2, "invalid \\u escape"
					}
					if utf16.DecodeRune(r, r2) != utf8.RuneError {
						i += 6
					} else {
						r2 = -1 // not a pair: the next escape stands alone
					}
				}
				r = utf16.DecodeRune(r, r2)
				if r == utf8.RuneError && strict {
					return dst, i, "unpaired surrogate"
				}
			}
			dst = utf8.AppendRune(dst, r)
		default:
			return dst, i - 1, "invalid escape"
		}
	}
	return dst, len(s), "unterminated string"
}

// hex4 reads the four hex digits at s[i:].
func hex4[S ~string | ~[]byte](s S, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for k := i; k < i+4; k++ {
		c := s[k]
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0, false
		}
	}
	return r, true
}
