package tokenizer

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// TrainOptions configures TrainWordPiece.
type TrainOptions struct {
	// VocabSize is the size of the vocabulary to build, special tokens and alphabet included
	// (the alphabet alone may exceed it: it is never cut to fit).
	VocabSize int
	// MinFrequency is the smallest number of occurrences of a pair worth a merge; 0 means 2.
	MinFrequency int
	// LimitAlphabet keeps only the most frequent characters (0: all). Words with another
	// character are left out of training.
	LimitAlphabet int
	// WordPieceOptions is the normalization (case, accents, CJK) and the special tokens of the
	// tokenizer the vocabulary is for.
	WordPieceOptions
}

// TrainWordPiece builds a WordPiece vocabulary from training text, the way Hugging Face's
// tokenizers WordPieceTrainer does (byte-pair merges over words, continuation pieces marked
// "##"), deterministically:
//
//  1. every text is normalized and split into words exactly as the WordPiece tokenizer with
//     opts.WordPieceOptions does (special tokens in the text and words over
//     MaxInputCharsPerWord characters are skipped), and the words are counted;
//  2. the vocabulary starts with the special tokens ([PAD], [UNK], [CLS], [SEP], [MASK]), then
//     every character of the alphabet as a word start, then every character as a continuation
//     ("##c"), both in code point order — so any word of known characters has a tokenization;
//  3. each word is a sequence of symbols (its first character, then "##" characters); the most
//     frequent adjacent pair of symbols over all words (ties: the smaller pair of strings) is
//     merged into a new token (the left one followed by the right one without "##") and
//     appended to the vocabulary, until VocabSize tokens or no pair occurs MinFrequency times.
//
// The result, in id order, can be given to NewWordPiece or written with WriteVocab.
func TrainWordPiece(texts []string, opts TrainOptions) ([]string, error) {
	wo := opts.WordPieceOptions.withDefaults()
	if opts.VocabSize <= 0 || opts.VocabSize > MaxVocabSize {
		return nil, fmt.Errorf("tokenizer: TrainWordPiece: VocabSize %d out of range (0, %d]", opts.VocabSize, MaxVocabSize)
	}
	minFreq := int64(max(opts.MinFrequency, 1))
	if opts.MinFrequency == 0 {
		minFreq = 2
	}
	specials := []string{wo.PadToken, wo.UnkToken, wo.ClsToken, wo.SepToken, wo.MaskToken}
	norm, err := newWordPiece(specials, wo)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: TrainWordPiece: %w", err)
	}

	// 1. Count words.
	counts := map[string]int64{}
	for _, t := range texts {
		norm.words(t, func(word string, special bool) {
			if !special && utf8.RuneCountInString(word) <= wo.MaxInputCharsPerWord {
				counts[word]++
			}
		})
	}
	// 2. Alphabet.
	charCount := map[rune]int64{}
	for word, c := range counts {
		for _, r := range word {
			charCount[r] += c
		}
	}
	alphabet := make([]rune, 0, len(charCount))
	for r := range charCount {
		alphabet = append(alphabet, r)
	}
	if opts.LimitAlphabet > 0 && len(alphabet) > opts.LimitAlphabet {
		slices.SortFunc(alphabet, func(a, b rune) int {
			return cmp.Or(cmp.Compare(charCount[b], charCount[a]), cmp.Compare(a, b))
		})
		alphabet = alphabet[:opts.LimitAlphabet]
	}
	slices.Sort(alphabet)

	vocab := slices.Clone(specials)
	ids := map[string]int32{}
	for i, s := range specials {
		ids[s] = int32(i)
	}
	add := func(tok string) int32 {
		if id, ok := ids[tok]; ok {
			return id
		}
		ids[tok] = int32(len(vocab))
		vocab = append(vocab, tok)
		return int32(len(vocab) - 1)
	}
	first := map[rune]int32{}
	next := map[rune]int32{}
	for _, r := range alphabet {
		first[r] = add(string(r))
	}
	for _, r := range alphabet {
		next[r] = add(wo.ContinuingPrefix + string(r))
	}

	// 3. Words as symbol sequences, in a deterministic order.
	type word struct {
		syms  []int32
		count int64
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var words []word
outer:
	for _, k := range keys {
		syms := make([]int32, 0, len(k))
		for i, r := range k {
			m := next
			if i == 0 {
				m = first
			}
			id, ok := m[r]
			if !ok {
				continue outer // a character outside the limited alphabet
			}
			syms = append(syms, id)
		}
		words = append(words, word{syms, counts[k]})
	}

	pairCount := map[uint64]int64{}
	where := map[uint64][]int32{}
	for wi, w := range words {
		for k := 0; k+1 < len(w.syms); k++ {
			p := pairKey(w.syms[k], w.syms[k+1])
			pairCount[p] += w.count
			if l := where[p]; len(l) == 0 || l[len(l)-1] != int32(wi) {
				where[p] = append(l, int32(wi))
			}
		}
	}
	// Max-heap of pairs by count, ties by the pair's strings; stale entries are refreshed on pop.
	type entry struct {
		count int64
		pair  uint64
	}
	pairLess := func(a, b uint64) int { // order of pairs by their strings
		return cmp.Or(strings.Compare(vocab[a>>32], vocab[b>>32]), strings.Compare(vocab[uint32(a)], vocab[uint32(b)]))
	}
	before := func(x, y entry) bool {
		return x.count > y.count || (x.count == y.count && pairLess(x.pair, y.pair) < 0)
	}
	var heap []entry
	push := func(e entry) {
		heap = append(heap, e)
		for i := len(heap) - 1; i > 0; {
			p := (i - 1) / 2
			if !before(heap[i], heap[p]) {
				break
			}
			heap[i], heap[p] = heap[p], heap[i]
			i = p
		}
	}
	pop := func() entry {
		top := heap[0]
		heap[0] = heap[len(heap)-1]
		heap = heap[:len(heap)-1]
		for i := 0; ; {
			l := 2*i + 1
			if l >= len(heap) {
				break
			}
			m := l
			if r := l + 1; r < len(heap) && before(heap[r], heap[l]) {
				m = r
			}
			if !before(heap[m], heap[i]) {
				break
			}
			heap[i], heap[m] = heap[m], heap[i]
			i = m
		}
		return top
	}
	for p, c := range pairCount {
		push(entry{c, p})
	}

	seen := make([]int32, len(words)) // last merge that touched each word, to visit it once
	for merge := int32(1); len(vocab) < opts.VocabSize && len(heap) > 0; merge++ {
		top := pop()
		if c := pairCount[top.pair]; c != top.count {
			if c > 0 {
				push(entry{c, top.pair})
			}
			merge--
			continue
		}
		if top.count < minFreq {
			break
		}
		a, b := int32(top.pair>>32), int32(uint32(top.pair))
		right, _ := strings.CutPrefix(vocab[b], wo.ContinuingPrefix)
		if len(vocab[a])+len(right) > MaxTokenBytes {
			delete(pairCount, top.pair)
			merge--
			continue
		}
		m := add(vocab[a] + right)
		changed := map[uint64]bool{}
		for _, wi := range where[top.pair] {
			if seen[wi] == merge {
				continue
			}
			seen[wi] = merge
			w := &words[wi]
			has := false
			for k := 0; k+1 < len(w.syms); k++ {
				if w.syms[k] == a && w.syms[k+1] == b {
					has = true
					break
				}
			}
			if !has {
				continue
			}
			for k := 0; k+1 < len(w.syms); k++ {
				p := pairKey(w.syms[k], w.syms[k+1])
				pairCount[p] -= w.count
			}
			out := w.syms[:0]
			for k := 0; k < len(w.syms); {
				if k+1 < len(w.syms) && w.syms[k] == a && w.syms[k+1] == b {
					out = append(out, m)
					k += 2
				} else {
					out = append(out, w.syms[k])
					k++
				}
			}
			w.syms = out
			for k := 0; k+1 < len(w.syms); k++ {
				p := pairKey(w.syms[k], w.syms[k+1])
				pairCount[p] += w.count
				if w.syms[k] == m || w.syms[k+1] == m {
					changed[p] = true
					if l := where[p]; len(l) == 0 || l[len(l)-1] != wi {
						where[p] = append(l, wi)
					}
				}
			}
		}
		delete(where, top.pair)
		delete(pairCount, top.pair)
		newPairs := make([]uint64, 0, len(changed))
		for p := range changed {
			newPairs = append(newPairs, p)
		}
		slices.Sort(newPairs)
		for _, p := range newPairs {
			if c := pairCount[p]; c > 0 {
				push(entry{c, p})
			}
		}
	}
	return vocab, nil
}

// WriteVocab writes a vocabulary in vocab.txt format: one token per line, in id order. Tokens
// with a newline cannot be written.
func WriteVocab(w io.Writer, vocab []string) error {
	bw := bufio.NewWriter(w)
	for _, t := range vocab {
		if strings.ContainsAny(t, "\r\n") {
			return errors.New("tokenizer: WriteVocab: token with a line break")
		}
		bw.WriteString(t)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
