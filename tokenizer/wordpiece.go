package tokenizer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// AccentMode says whether WordPiece strips accents (Hugging Face's strip_accents).
type AccentMode int8

const (
	// AccentsAuto strips accents exactly when the text is lower-cased (strip_accents=None).
	AccentsAuto AccentMode = iota
	// AccentsStrip always strips accents (strip_accents=True).
	AccentsStrip
	// AccentsKeep never strips accents (strip_accents=False).
	AccentsKeep
)

// WordPieceOptions configures a WordPiece tokenizer. The zero value is bert-base-uncased's
// configuration: lower-casing, accent stripping, CJK characters split, 100 characters per word,
// "[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]" and the "##" continuation prefix.
type WordPieceOptions struct {
	// Cased keeps the case of the text (Hugging Face's do_lower_case=False).
	Cased bool
	// Accents chooses accent stripping; AccentsAuto follows lower-casing.
	Accents AccentMode
	// KeepCJKWords leaves CJK ideographs inside words (tokenize_chinese_chars=False); by default
	// every CJK ideograph is a word of its own.
	KeepCJKWords bool
	// MaxInputCharsPerWord is the longest word (in characters) that is split into pieces; longer
	// words become the unknown token. 0 means 100.
	MaxInputCharsPerWord int
	// Special tokens; "" means the BERT default in brackets.
	UnkToken, ClsToken, SepToken, PadToken, MaskToken string
	// ContinuingPrefix marks pieces that continue a word; "" means "##".
	ContinuingPrefix string
}

func (o WordPieceOptions) withDefaults() WordPieceOptions {
	def := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	def(&o.UnkToken, "[UNK]")
	def(&o.ClsToken, "[CLS]")
	def(&o.SepToken, "[SEP]")
	def(&o.PadToken, "[PAD]")
	def(&o.MaskToken, "[MASK]")
	def(&o.ContinuingPrefix, "##")
	if o.MaxInputCharsPerWord <= 0 {
		o.MaxInputCharsPerWord = 100
	}
	return o
}

func (o WordPieceOptions) lowercase() bool { return !o.Cased }

func (o WordPieceOptions) stripAccents() bool {
	switch o.Accents {
	case AccentsStrip:
		return true
	case AccentsKeep:
		return false
	}
	return !o.Cased
}

// WordPiece is BERT's WordPiece tokenizer, with the behaviour of Hugging Face's BertTokenizer
// (its fast, Rust version, which transformers.js reproduces):
//
//   - special tokens ([UNK], [CLS], [SEP], [PAD], [MASK]) written literally in the text are
//     recognised first, case-sensitively, and never split;
//   - the rest is cleaned (NUL, U+FFFD and control/format/private-use/unassigned characters
//     removed, whitespace turned into spaces), CJK ideographs are surrounded by spaces, the text
//     is lower-cased (full Unicode case mapping) and accents stripped (NFD, nonspacing marks
//     removed; NFD is kept, so Hangul syllables become jamo) as configured;
//   - words are split on whitespace and every punctuation character (Unicode P* and ASCII
//     symbols) is a word of its own;
//   - each word is cut greedily into the longest vocabulary pieces, continuation pieces carrying
//     the "##" prefix; a word with an unmatched part or more than 100 characters is [UNK].
//
// A WordPiece is read-only after construction and safe for concurrent use.
type WordPiece struct {
	opts               WordPieceOptions
	tokens             []string         // id -> token
	vocab              map[string]int32 // token -> id (the last line wins for a repeated token)
	cont               map[string]int32 // continuation token without its prefix -> id
	unk, cls, sep, pad int32
	mask               int32 // -1 if absent
	special            []string
}

// LoadWordPiece reads a vocabulary file (one token per line, the id is the line number), or
// the vocab.txt in path if path is a directory, and returns its tokenizer. Oversized or
// malformed files (lines over MaxTokenBytes, more than MaxVocabSize tokens, invalid UTF-8, no
// unknown/CLS/SEP/PAD token) give an error.
func LoadWordPiece(path string, opts WordPieceOptions) (*WordPiece, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, "vocab.txt")
	}
	data, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	lines, err := readLines(data, path)
	if err != nil {
		return nil, err
	}
	w, err := newWordPiece(lines, opts)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: LoadWordPiece %s: %w", path, err)
	}
	return w, nil
}

// NewWordPiece returns the tokenizer of a vocabulary given as its tokens in id order.
func NewWordPiece(vocab []string, opts WordPieceOptions) (*WordPiece, error) {
	w, err := newWordPiece(vocab, opts)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: NewWordPiece: %w", err)
	}
	return w, nil
}

func newWordPiece(vocab []string, opts WordPieceOptions) (*WordPiece, error) {
	opts = opts.withDefaults()
	if len(vocab) > MaxVocabSize {
		return nil, fmt.Errorf("vocabulary has %d tokens, more than %d", len(vocab), MaxVocabSize)
	}
	w := &WordPiece{
		opts:   opts,
		tokens: append([]string(nil), vocab...),
		vocab:  make(map[string]int32, len(vocab)),
		cont:   make(map[string]int32),
	}
	for id, tok := range w.tokens {
		if len(tok) > MaxTokenBytes || !utf8.ValidString(tok) {
			return nil, fmt.Errorf("vocabulary line %d: bad token %.40q", id+1, tok)
		}
		w.vocab[tok] = int32(id)
	}
	for tok, id := range w.vocab {
		if rest, ok := strings.CutPrefix(tok, opts.ContinuingPrefix); ok && rest != "" {
			w.cont[rest] = id
		}
	}
	get := func(tok string) (int32, error) {
		id, ok := w.vocab[tok]
		if !ok {
			return -1, fmt.Errorf("vocabulary lacks %q", tok)
		}
		return id, nil
	}
	var err error
	if w.unk, err = get(opts.UnkToken); err != nil {
		return nil, err
	}
	if w.cls, err = get(opts.ClsToken); err != nil {
		return nil, err
	}
	if w.sep, err = get(opts.SepToken); err != nil {
		return nil, err
	}
	if w.pad, err = get(opts.PadToken); err != nil {
		return nil, err
	}
	w.mask = -1
	if id, ok := w.vocab[opts.MaskToken]; ok {
		w.mask = id
	}
	for _, s := range []string{opts.UnkToken, opts.ClsToken, opts.SepToken, opts.PadToken, opts.MaskToken} {
		if _, ok := w.vocab[s]; ok {
			w.special = append(w.special, s)
		}
	}
	return w, nil
}

// Options returns the tokenizer's options with defaults filled in.
func (w *WordPiece) Options() WordPieceOptions { return w.opts }

// VocabSize returns the number of tokens.
func (w *WordPiece) VocabSize() int { return len(w.tokens) }

// Vocab returns a copy of the tokens in id order.
func (w *WordPiece) Vocab() []string { return append([]string(nil), w.tokens...) }

// TokenID returns the id of token and whether it is in the vocabulary.
func (w *WordPiece) TokenID(token string) (int, bool) {
	id, ok := w.vocab[token]
	return int(id), ok
}

// Token returns the token of id. It panics if id is out of range.
func (w *WordPiece) Token(id int) string {
	w.checkID("Token", id)
	return w.tokens[id]
}

func (w *WordPiece) checkID(fn string, id int) {
	if id < 0 || id >= len(w.tokens) {
		panic(fmt.Sprintf("tokenizer: WordPiece.%s: id %d out of range [0, %d)", fn, id, len(w.tokens)))
	}
}

// UnkID returns the id of the unknown token, [UNK].
func (w *WordPiece) UnkID() int { return int(w.unk) }

// ClsID returns the id of the classification token, [CLS].
func (w *WordPiece) ClsID() int { return int(w.cls) }

// SepID returns the id of the separator token, [SEP].
func (w *WordPiece) SepID() int { return int(w.sep) }

// PadID returns the id of the padding token, [PAD].
func (w *WordPiece) PadID() int { return int(w.pad) }

// MaskID returns the id of the mask token, [MASK], or -1 if the vocabulary lacks it.
func (w *WordPiece) MaskID() int { return int(w.mask) }

// Tokenize returns the WordPiece tokens of text, without [CLS] and [SEP].
func (w *WordPiece) Tokenize(text string) []string {
	var out []string
	w.encode(text, func(id int32) { out = append(out, w.tokens[id]) })
	return out
}

// Encode returns the ids of text's tokens, without [CLS] and [SEP] (Hugging Face's
// encode(text, add_special_tokens=False)).
func (w *WordPiece) Encode(text string) []int {
	out := make([]int, 0, len(text)/4+1)
	w.encode(text, func(id int32) { out = append(out, int(id)) })
	return out
}

// Words returns the words of text after normalization and pre-tokenization, before the
// WordPiece split (special tokens written in the text are words of their own). The trainer
// counts these words.
func (w *WordPiece) Words(text string) []string {
	var out []string
	w.words(text, func(word string, special bool) { out = append(out, word) })
	return out
}

func (w *WordPiece) encode(text string, emit func(int32)) {
	w.words(text, func(word string, special bool) {
		if special {
			emit(w.vocab[word])
			return
		}
		w.wordPieces(word, emit)
	})
}

// words calls f for every word of text. Special tokens are matched on the raw text, before
// normalization (Hugging Face's added tokens), leftmost first and longest at a position; each
// special's next occurrence is remembered, so the scan is linear in the text's length.
func (w *WordPiece) words(text string, f func(word string, special bool)) {
	var buf [8]int
	next := buf[:0]
	for range w.special {
		next = append(next, -2) // -2: not searched yet, -1: no more occurrences
	}
	for pos := 0; pos < len(text); {
		best, bi := len(text), -1
		for i, s := range w.special {
			if next[i] != -1 && next[i] < pos {
				if k := strings.Index(text[pos:], s); k < 0 {
					next[i] = -1
				} else {
					next[i] = pos + k
				}
			}
			if n := next[i]; n >= 0 && (n < best || (n == best && len(s) > len(w.special[bi]))) {
				best, bi = n, i
			}
		}
		w.normalWords(text[pos:best], f)
		if bi < 0 {
			return
		}
		f(w.special[bi], true)
		pos = best + len(w.special[bi])
	}
}

// normalWords normalizes text (Hugging Face's BertNormalizer) and splits it into words (its
// BertPreTokenizer). The text is cleaned and CJK ideographs spaced out in one pass; then every
// space-separated chunk is lower-cased and stripped of accents on its own, which gives the same
// result as doing it on the whole text (neither the final-sigma rule of lower-casing nor NFD's
// reordering of marks looks across a space) and lets ASCII chunks take a fast path.
func (w *WordPiece) normalWords(text string, f func(string, bool)) {
	if text == "" {
		return
	}
	text = w.clean(text)
	for len(text) > 0 {
		k := strings.IndexByte(text, ' ')
		if k < 0 {
			k = len(text)
		}
		chunk := text[:k]
		text = text[min(k+1, len(text)):]
		if chunk == "" {
			continue
		}
		if isASCII(chunk) { // simple lower-casing is the full one, and there are no accents
			if w.opts.lowercase() {
				chunk = strings.ToLower(chunk)
			}
		} else {
			if w.opts.lowercase() {
				chunk = lower(chunk)
			}
			if w.opts.stripAccents() {
				chunk = stripAccents(chunk)
			}
		}
		splitPunct(chunk, f)
	}
}

// splitPunct calls f for every run of non-punctuation and every punctuation character of word.
func splitPunct(word string, f func(string, bool)) {
	start := 0
	for i, r := range word {
		if isBertPunct(r) {
			if start < i {
				f(word[start:i], false)
			}
			n := utf8.RuneLen(r)
			f(word[i:i+n], false)
			start = i + n
		}
	}
	if start < len(word) {
		f(word[start:], false)
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// clean is the first part of BertNormalizer: NUL, U+FFFD (and so invalid UTF-8) and control
// characters removed, whitespace turned into ' ', CJK ideographs surrounded by spaces.
func (w *WordPiece) clean(text string) string {
	var b strings.Builder
	b.Grow(len(text) + 8)
	for _, r := range text {
		switch {
		case r == 0 || r == utf8.RuneError || isBertControl(r):
			// removed
		case isBertSpace(r):
			b.WriteByte(' ')
		case !w.opts.KeepCJKWords && isCJK(r):
			b.WriteByte(' ')
			b.WriteRune(r)
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isBertSpace: tab, LF, CR, the Zs category, and the line and paragraph separators.
func isBertSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', 0x2028, 0x2029:
		return true
	}
	return r > 0x7f && unicode.Is(unicode.Zs, r)
}

// isBertControl: the C* categories (control, format, private use, unassigned) except tab, LF
// and CR, which are whitespace.
func isBertControl(r rune) bool {
	switch r {
	case '\t', '\n', '\r':
		return false
	}
	if r < 0x80 {
		return r < 0x20 || r == 0x7f
	}
	if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co) {
		return true
	}
	// Unassigned (Cn): in no category at all.
	return !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z)
}

// isBertPunct: ASCII symbols and punctuation, and the Unicode P* categories.
func isBertPunct(r rune) bool {
	if r < 0x80 {
		return (r >= 33 && r <= 47) || (r >= 58 && r <= 64) || (r >= 91 && r <= 96) || (r >= 123 && r <= 126)
	}
	return unicode.IsPunct(r)
}

// isCJK: the CJK Unified Ideographs blocks BERT spaces out (not Hiragana, Katakana or Hangul).
func isCJK(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) || (r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) || (r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) || (r >= 0x2B820 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) || (r >= 0x2F800 && r <= 0x2FA1F)
}

// wordPieces is the greedy longest-match-first split of one word.
func (w *WordPiece) wordPieces(word string, emit func(int32)) {
	if utf8.RuneCountInString(word) > w.opts.MaxInputCharsPerWord {
		emit(w.unk)
		return
	}
	var stack [32]int32
	pieces := stack[:0]
	for start := 0; start < len(word); {
		end := len(word)
		found := int32(-1)
		for end > start {
			var id int32
			var ok bool
			if start == 0 {
				id, ok = w.vocab[word[:end]]
			} else {
				id, ok = w.cont[word[start:end]]
			}
			if ok {
				found = id
				break
			}
			_, n := utf8.DecodeLastRuneInString(word[start:end])
			end -= n
		}
		if found < 0 {
			emit(w.unk)
			return
		}
		pieces = append(pieces, found)
		start = end
	}
	for _, id := range pieces {
		emit(id)
	}
}

// Decode turns ids back into text as Hugging Face's WordPiece decoder does: tokens are joined
// by spaces, a continuation piece is glued to the previous token without its prefix, and the
// English clean-up (no space before . , ! ? and in "n't", "'s", "'m", "'ve", "'re") is applied.
// Special tokens are kept; use DecodeSkipSpecial to drop them. Lower-casing and accent stripping
// cannot be undone. Decode panics if an id is out of range.
func (w *WordPiece) Decode(ids []int) string { return w.decode(ids, false) }

// DecodeSkipSpecial is Decode without the special tokens ([CLS], [SEP], [PAD], [MASK], [UNK]).
func (w *WordPiece) DecodeSkipSpecial(ids []int) string { return w.decode(ids, true) }

func (w *WordPiece) decode(ids []int, skipSpecial bool) string {
	var b strings.Builder
	first := true
	for _, id := range ids {
		w.checkID("Decode", id)
		tok := w.tokens[id]
		if skipSpecial && w.isSpecial(tok) {
			continue
		}
		if !first {
			if rest, ok := strings.CutPrefix(tok, w.opts.ContinuingPrefix); ok {
				tok = rest
			} else {
				tok = " " + tok
			}
		}
		first = false
		b.WriteString(cleanUpTokenization(tok))
	}
	return cleanUpTokenization(b.String())
}

func (w *WordPiece) isSpecial(tok string) bool {
	for _, s := range w.special {
		if tok == s {
			return true
		}
	}
	return false
}

// cleanUpTokenization is transformers' clean_up_tokenization: the replacements are applied one
// after the other over the whole string, in this order.
func cleanUpTokenization(s string) string {
	if !strings.ContainsRune(s, ' ') {
		return s
	}
	for _, p := range [...][2]string{
		{" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
		{" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
	} {
		s = strings.ReplaceAll(s, p[0], p[1])
	}
	return s
}
