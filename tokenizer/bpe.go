package tokenizer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unicode/utf8"
)

// Limits that keep hostile vocabulary files from using unbounded memory.
const (
	// MaxVocabFileBytes is the largest vocabulary or merges file the loaders read.
	MaxVocabFileBytes = 64 << 20
	// MaxVocabSize is the largest number of tokens (and the largest id + 1) a vocabulary may have.
	MaxVocabSize = 1 << 21
	// MaxTokenBytes is the longest token (or merges/vocab line) accepted, in bytes.
	MaxTokenBytes = 1024
)

// EndOfText is GPT-2's end-of-text special token.
const EndOfText = "<|endoftext|>"

// BPE is GPT-2's byte-level byte-pair-encoding tokenizer.
//
// Encode matches OpenAI's encoder (and the gpt-3-encoder npm package): the text is split by
// GPT-2's pre-split pattern (see PreTokenize), each piece's UTF-8 bytes are mapped to the
// printable characters of GPT-2's bytes_to_unicode and merged by rank. Every byte sequence
// is encodable, so Decode(Encode(s)) == s for every string s, valid UTF-8 or not.
//
// A BPE is safe for concurrent use by multiple goroutines: its tables are read-only after
// loading and its cache of encoded pieces is guarded by a mutex and bounded in size.
type BPE struct {
	vocab   map[string]int32 // token (in bytes_to_unicode form) -> id
	tokens  []string         // id -> token, "" for ids absent from the vocabulary
	raw     []string         // id -> decoded bytes
	byteID  [256]int32       // id of each single byte's token
	merges  map[uint64]merge // (left id, right id) -> rank and merged id
	eot     int32            // id of <|endoftext|>, -1 if absent
	special map[string]int32 // special tokens recognised by EncodeSpecial
	cache   pieceCache
}

type merge struct{ rank, id int32 }

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// bytesToUnicode is GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves,
// the other 68 bytes to U+0100 onwards in byte order.
func bytesToUnicode() (enc [256]rune) {
	n := rune(0)
	for b := range 256 {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			enc[b] = rune(b)
		} else {
			enc[b] = 256 + n
			n++
		}
	}
	return enc
}

// LoadGPT2 loads a GPT-2 byte-level BPE tokenizer from dir, which holds either OpenAI's
// encoder.json and vocab.bpe or Hugging Face's vocab.json and merges.txt (the same data under
// other names; OpenAI's names are tried first). Malformed, inconsistent or oversized files
// give an error: every merge's parts and result must be in the vocabulary, and so must the
// 256 byte tokens.
func LoadGPT2(dir string) (*BPE, error) {
	vocabPath, mergesPath := filepath.Join(dir, "encoder.json"), filepath.Join(dir, "vocab.bpe")
	if _, err := os.Stat(vocabPath); err != nil {
		vocabPath, mergesPath = filepath.Join(dir, "vocab.json"), filepath.Join(dir, "merges.txt")
		if _, err := os.Stat(vocabPath); err != nil {
			return nil, fmt.Errorf("tokenizer: LoadGPT2: neither encoder.json nor vocab.json in %s", dir)
		}
	}
	vocabData, err := readLimited(vocabPath)
	if err != nil {
		return nil, err
	}
	mergesData, err := readLimited(mergesPath)
	if err != nil {
		return nil, err
	}
	t, err := newBPE(vocabData, mergesData)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: LoadGPT2 %s: %w", dir, err)
	}
	return t, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxVocabFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("tokenizer: reading %s: %w", path, err)
	}
	if len(data) > MaxVocabFileBytes {
		return nil, fmt.Errorf("tokenizer: %s is larger than %d bytes", path, MaxVocabFileBytes)
	}
	return data, nil
}

// NewBPE builds a byte-level BPE tokenizer from the contents of a vocabulary JSON object
// (token -> id, encoder.json or vocab.json) and a merges file (vocab.bpe or merges.txt: an
// optional "#version" first line, then one "left right" pair per line, highest priority first).
func NewBPE(vocabJSON, mergesTxt []byte) (*BPE, error) {
	t, err := newBPE(vocabJSON, mergesTxt)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: NewBPE: %w", err)
	}
	return t, nil
}

func newBPE(vocabJSON, mergesTxt []byte) (*BPE, error) {
	t := &BPE{vocab: make(map[string]int32, 1<<16), eot: -1, special: map[string]int32{}}
	size := 0
	err := parseVocabJSON(vocabJSON, func(tok string, id int64) error {
		if id < 0 || id >= MaxVocabSize {
			return fmt.Errorf("id %d of %q out of range [0, %d)", id, tok, MaxVocabSize)
		}
		if len(tok) == 0 || len(tok) > MaxTokenBytes {
			return fmt.Errorf("bad token %.40q", tok)
		}
		if _, dup := t.vocab[tok]; dup {
			return fmt.Errorf("token %q twice", tok)
		}
		if len(t.vocab) >= MaxVocabSize {
			return fmt.Errorf("more than %d tokens", MaxVocabSize)
		}
		size = max(size, int(id)+1)
		t.vocab[tok] = int32(id)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("vocabulary: %w", err)
	}
	t.tokens = make([]string, size)
	for tok, id := range t.vocab {
		if t.tokens[id] != "" {
			return nil, fmt.Errorf("vocabulary: id %d used by %q and %q", id, t.tokens[id], tok)
		}
		t.tokens[id] = tok
	}
	enc := bytesToUnicode()
	dec := make(map[rune]byte, 256)
	for b, r := range enc {
		id, ok := t.vocab[string(r)]
		if !ok {
			return nil, fmt.Errorf("vocabulary lacks the token of byte 0x%02x (%q)", b, string(r))
		}
		t.byteID[b] = id
		dec[r] = byte(b)
	}
	t.raw = make([]string, size)
	var buf []byte
	for id, tok := range t.tokens {
		buf = buf[:0]
		for _, r := range tok {
			if b, ok := dec[r]; ok {
				buf = append(buf, b)
			} else {
				buf = utf8.AppendRune(buf, r) // a token outside the byte alphabet (a special) decodes as itself
			}
		}
		t.raw[id] = string(buf)
	}
	if id, ok := t.vocab[EndOfText]; ok {
		t.eot = id
		t.special[EndOfText] = id
	}

	t.merges = make(map[uint64]merge, len(t.vocab))
	rank := 0
	for ln, line := range bytes.Split(mergesTxt, []byte("\n")) {
		if len(line) > 2*MaxTokenBytes+8 {
			return nil, fmt.Errorf("merges: line %d longer than %d bytes", ln+1, 2*MaxTokenBytes+8)
		}
		if ln == 0 && bytes.HasPrefix(line, []byte("#version")) {
			continue
		}
		fields := strings.Fields(string(line))
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 {
			return nil, fmt.Errorf("merges: line %d: want two tokens, got %d", ln+1, len(fields))
		}
		a, okA := t.vocab[fields[0]]
		b, okB := t.vocab[fields[1]]
		m, okM := t.vocab[fields[0]+fields[1]]
		if !okA || !okB || !okM {
			return nil, fmt.Errorf("merges: line %d: %q %q: a part or the result is not in the vocabulary", ln+1, fields[0], fields[1])
		}
		if rank >= MaxVocabSize {
			return nil, fmt.Errorf("merges: more than %d merges", MaxVocabSize)
		}
		// A repeated pair takes its last rank, like the reference encoders' rank dictionaries.
		t.merges[pairKey(a, b)] = merge{rank: int32(rank), id: m}
		rank++
	}
	t.cache.init()
	return t, nil
}

// VocabSize returns the number of ids (the largest id + 1).
func (t *BPE) VocabSize() int { return len(t.tokens) }

// EndOfTextID returns the id of <|endoftext|> (50256 for GPT-2), or -1 if the vocabulary lacks it.
func (t *BPE) EndOfTextID() int { return int(t.eot) }

// TokenID returns the id of a token written in GPT-2's byte-to-unicode alphabet (for example
// "Ġthe" for " the"), and whether it is in the vocabulary.
func (t *BPE) TokenID(token string) (int, bool) {
	id, ok := t.vocab[token]
	return int(id), ok
}

// Token returns the vocabulary entry of id, in GPT-2's byte-to-unicode alphabet. It panics if
// id is not in the vocabulary.
func (t *BPE) Token(id int) string {
	t.checkID("Token", id)
	return t.tokens[id]
}

func (t *BPE) checkID(fn string, id int) {
	if id < 0 || id >= len(t.tokens) || t.tokens[id] == "" {
		panic(fmt.Sprintf("tokenizer: BPE.%s: id %d not in the vocabulary (size %d)", fn, id, len(t.tokens)))
	}
}

// Encode returns the token ids of text, exactly as OpenAI's GPT-2 encoder (and gpt-3-encoder)
// produce them. Special tokens get no special treatment: the literal text "<|endoftext|>" is
// encoded as ordinary text ("<", "|", "endoftext", "|>"); use EncodeSpecial to map it to its id.
// Invalid UTF-8 bytes are encoded byte by byte (pre-split like U+FFFD), so Decode gives them back.
func (t *BPE) Encode(text string) []int {
	return t.AppendEncode(make([]int, 0, len(text)/3+1), text)
}

// AppendEncode appends the token ids of text (as Encode) to dst and returns the extended slice.
func (t *BPE) AppendEncode(dst []int, text string) []int {
	var stack [64]int32
	for i := 0; i < len(text); {
		j := nextPretoken(text, i)
		piece := text[i:j]
		i = j
		if len(piece) == 1 {
			dst = append(dst, int(t.byteID[piece[0]]))
			continue
		}
		if ids, ok := t.cache.get(piece); ok {
			for _, id := range ids {
				dst = append(dst, int(id))
			}
			continue
		}
		syms := t.bpe(piece, stack[:0])
		for _, id := range syms {
			dst = append(dst, int(id))
		}
		t.cache.put(piece, syms)
	}
	return dst
}

// EncodeSpecial is Encode with special tokens: every literal occurrence of "<|endoftext|>" in
// text becomes its id (50256), as Hugging Face's GPT2Tokenizer does, and the text between
// occurrences is encoded by Encode independently. Use it only for trusted text: a user who types
// the special token's text can otherwise inject an end-of-text marker.
func (t *BPE) EncodeSpecial(text string) []int {
	out := make([]int, 0, len(text)/3+1)
	if t.eot < 0 {
		return t.AppendEncode(out, text)
	}
	for {
		k := strings.Index(text, EndOfText)
		if k < 0 {
			return t.AppendEncode(out, text)
		}
		out = t.AppendEncode(out, text[:k])
		out = append(out, int(t.eot))
		text = text[k+len(EndOfText):]
	}
}

// Decode returns the text of ids: the concatenated bytes of their tokens. It is the inverse of
// Encode for any input, including invalid UTF-8 (the bytes are returned as they were; apply
// strings.ToValidUTF8 for display, which is what JavaScript's TextDecoder does). The id of
// <|endoftext|> decodes to its literal text. Decode panics if an id is not in the vocabulary.
func (t *BPE) Decode(ids []int) string {
	n := 0
	for _, id := range ids {
		t.checkID("Decode", id)
		n += len(t.raw[id])
	}
	var b strings.Builder
	b.Grow(n)
	for _, id := range ids {
		b.WriteString(t.raw[id])
	}
	return b.String()
}

// heapThreshold is the piece length (in bytes) above which bpe merges with a priority queue
// (O(n log n)) instead of rescanning the word for every merge (O(n²), faster for short words).
const heapThreshold = 64

// bpe returns the merged token ids of one pre-token, appended to buf.
func (t *BPE) bpe(piece string, buf []int32) []int32 {
	syms := buf
	for k := 0; k < len(piece); k++ {
		syms = append(syms, t.byteID[piece[k]])
	}
	if len(syms) > heapThreshold {
		return t.mergeHeap(syms)
	}
	return t.mergeScan(syms)
}

// mergeScan is GPT-2's reference loop: find the lowest-ranked adjacent pair, merge all its
// occurrences left to right, repeat until no adjacent pair is a merge.
func (t *BPE) mergeScan(syms []int32) []int32 {
	for len(syms) > 1 {
		best, at := int32(math.MaxInt32), -1
		for k := 0; k+1 < len(syms); k++ {
			if m, ok := t.merges[pairKey(syms[k], syms[k+1])]; ok && m.rank < best {
				best, at = m.rank, k
			}
		}
		if at < 0 {
			break
		}
		a, b := syms[at], syms[at+1]
		id := t.merges[pairKey(a, b)].id
		w := at
		for k := at; k < len(syms); {
			if k+1 < len(syms) && syms[k] == a && syms[k+1] == b {
				syms[w] = id
				k += 2
			} else {
				syms[w] = syms[k]
				k++
			}
			w++
		}
		syms = syms[:w]
	}
	return syms
}

// mergeHeap gives mergeScan's result for long pieces in O(n log n): candidate pairs sit in a
// min-heap ordered by (rank, position), symbols in a doubly linked list. Popping the
// lowest-ranked pair leftmost first merges all occurrences of a pair left to right before any
// pair of a higher rank, as mergeScan does (merged tokens only form pairs of higher rank in a
// trained merge list; a test checks the two agree on GPT-2's).
func (t *BPE) mergeHeap(syms []int32) []int32 {
	n := len(syms)
	next := make([]int32, n)
	prev := make([]int32, n)
	for k := range n {
		next[k], prev[k] = int32(k+1), int32(k-1)
	}
	next[n-1] = -1
	h := candHeap(make([]cand, 0, n))
	for k := 0; k+1 < n; k++ {
		if m, ok := t.merges[pairKey(syms[k], syms[k+1])]; ok {
			h = append(h, cand{m.rank, int32(k)})
		}
	}
	h.init()
	for len(h) > 0 {
		c := h.pop()
		p := c.pos
		r := next[p]
		if syms[p] < 0 || r < 0 {
			continue
		}
		m, ok := t.merges[pairKey(syms[p], syms[r])]
		if !ok || m.rank != c.rank {
			continue // stale: one side was merged since the candidate was pushed
		}
		syms[p] = m.id
		syms[r] = -1
		nr := next[r]
		next[p] = nr
		if nr >= 0 {
			prev[nr] = p
			if m2, ok := t.merges[pairKey(m.id, syms[nr])]; ok {
				h.push(cand{m2.rank, p})
			}
		}
		if q := prev[p]; q >= 0 {
			if m2, ok := t.merges[pairKey(syms[q], m.id)]; ok {
				h.push(cand{m2.rank, q})
			}
		}
	}
	w := 0
	for k := int32(0); k >= 0; k = next[k] {
		syms[w] = syms[k]
		w++
	}
	return syms[:w]
}

type cand struct{ rank, pos int32 }

type candHeap []cand

func (h candHeap) less(i, j int) bool {
	return h[i].rank < h[j].rank || (h[i].rank == h[j].rank && h[i].pos < h[j].pos)
}

func (h candHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *candHeap) push(c cand) {
	*h = append(*h, c)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *candHeap) pop() cand {
	s := *h
	c := s[0]
	s[0] = s[len(s)-1]
	*h = s[:len(s)-1]
	h.down(0)
	return c
}

func (h candHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// Cache of encoded pieces: sharded maps under mutexes, each shard emptied when full, so the
// memory is bounded whatever the input and concurrent Encode calls rarely contend.
const (
	cacheShards      = 16
	cacheShardSize   = 4096 // entries per shard
	cacheMaxPieceLen = 48   // longer pieces are not cached
)

type pieceCache struct {
	limit  int // entries per shard
	shards [cacheShards]struct {
		mu sync.Mutex
		m  map[string][]int32
		_  [48]byte // keep shards on separate cache lines
	}
}

func (c *pieceCache) init() {
	c.limit = cacheShardSize
	for i := range c.shards {
		c.shards[i].m = make(map[string][]int32)
	}
}

var shardSeed = maphash.MakeSeed()

func shardOf(s string) int { return int(maphash.String(shardSeed, s) % cacheShards) }

func (c *pieceCache) get(s string) ([]int32, bool) {
	if len(s) > cacheMaxPieceLen {
		return nil, false
	}
	sh := &c.shards[shardOf(s)]
	sh.mu.Lock()
	v, ok := sh.m[s]
	sh.mu.Unlock()
	return v, ok
}

func (c *pieceCache) put(s string, ids []int32) {
	if len(s) > cacheMaxPieceLen {
		return
	}
	v := append([]int32(nil), ids...)
	k := strings.Clone(s)
	sh := &c.shards[shardOf(s)]
	sh.mu.Lock()
	if len(sh.m) >= c.limit {
		clear(sh.m)
	}
	sh.m[k] = v
	sh.mu.Unlock()
}

// readLines splits data into lines (LF or CRLF), rejecting lines longer than MaxTokenBytes.
func readLines(data []byte, what string) ([]string, error) {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), MaxTokenBytes+2)
	for sc.Scan() {
		lines = append(lines, strings.TrimSuffix(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("tokenizer: %s: line %d longer than %d bytes", what, len(lines)+1, MaxTokenBytes)
		}
		return nil, fmt.Errorf("tokenizer: %s: %w", what, err)
	}
	return lines, nil
}
