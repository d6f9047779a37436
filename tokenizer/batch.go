package tokenizer

import "fmt"

// Encoding is one model input: token ids, token type ids (segment ids: 0 for [CLS], the first
// text and its [SEP]; 1 for the second text and the last [SEP]; 0 for padding) and the
// attention mask (1 for real tokens, 0 for padding). The three slices have the same length.
type Encoding struct {
	IDs           []int
	TypeIDs       []int
	AttentionMask []int
}

// Len returns the number of positions.
func (e Encoding) Len() int { return len(e.IDs) }

// Padding chooses how EncodeBatch pads.
type Padding int8

const (
	// NoPadding leaves every encoding at its own length.
	NoPadding Padding = iota
	// PadLongest pads every encoding to the longest of the batch (padding=True).
	PadLongest
	// PadMaxLength pads every encoding to BatchOptions.MaxLength (padding="max_length").
	PadMaxLength
)

// BatchOptions configures EncodeBatch.
type BatchOptions struct {
	// MaxLength is the length, special tokens included, that truncation cuts to and
	// PadMaxLength pads to. 0 means no limit (and no truncation).
	MaxLength int
	// Truncate cuts encodings longer than MaxLength with Hugging Face's longest_first strategy.
	Truncate bool
	// Padding chooses the padding; pads go on the right.
	Padding Padding
}

// EncodeSingle returns [CLS] text [SEP] with its type ids (all 0) and attention mask (all 1).
func (w *WordPiece) EncodeSingle(text string) Encoding {
	return w.assemble(w.Encode(text), nil, false)
}

// EncodePair returns [CLS] a [SEP] b [SEP] with type ids 0 up to the first [SEP] and 1 after it.
func (w *WordPiece) EncodePair(a, b string) Encoding {
	return w.assemble(w.Encode(a), w.Encode(b), true)
}

func (w *WordPiece) assemble(a, b []int, pair bool) Encoding {
	n := len(a) + 2
	if pair {
		n += len(b) + 1
	}
	e := Encoding{IDs: make([]int, 0, n), TypeIDs: make([]int, n), AttentionMask: make([]int, n)}
	e.IDs = append(e.IDs, int(w.cls))
	e.IDs = append(e.IDs, a...)
	e.IDs = append(e.IDs, int(w.sep))
	if pair {
		e.IDs = append(e.IDs, b...)
		e.IDs = append(e.IDs, int(w.sep))
		for i := len(a) + 2; i < n; i++ {
			e.TypeIDs[i] = 1
		}
	}
	for i := range e.AttentionMask {
		e.AttentionMask[i] = 1
	}
	return e
}

// TruncateLongestFirst returns how many tokens of two sequences of lengths n1 and n2 to keep
// so that they fit in limit (the length left after the special tokens), as Hugging Face's
// longest_first truncation does (tokenizers' truncate_encodings): if only the longer sequence
// must shrink it alone is cut; otherwise both are cut to limit/2, the longer one (the second on
// a tie) getting the odd token.
func TruncateLongestFirst(n1, n2, limit int) (k1, k2 int) {
	if n1+n2 <= limit {
		return n1, n2
	}
	if limit <= 0 {
		return 0, 0
	}
	swap := n1 > n2
	if swap {
		n1, n2 = n2, n1
	}
	if n1 > limit {
		n2 = n1
	} else {
		n2 = limit - n1
		if n2 < n1 {
			n2 = n1
		}
	}
	if n1+n2 > limit {
		n1 = limit / 2
		n2 = n1 + limit%2
	}
	if swap {
		n1, n2 = n2, n1
	}
	return n1, n2
}

// EncodeBatch encodes texts, each paired with pairs[i] if pairs is not nil, as [CLS] a [SEP]
// (b [SEP]), truncating and padding as opts say. It is what calling a Hugging Face BERT
// tokenizer on a batch returns (input_ids, token_type_ids, attention_mask). It panics if pairs
// is not nil and has another length than texts, or if truncation is asked with a MaxLength too
// small for the special tokens.
func (w *WordPiece) EncodeBatch(texts, pairs []string, opts BatchOptions) []Encoding {
	if pairs != nil && len(pairs) != len(texts) {
		panic(fmt.Sprintf("tokenizer: WordPiece.EncodeBatch: %d texts but %d pairs", len(texts), len(pairs)))
	}
	specials := 2
	if pairs != nil {
		specials = 3
	}
	if opts.Truncate && opts.MaxLength > 0 && opts.MaxLength < specials {
		panic(fmt.Sprintf("tokenizer: WordPiece.EncodeBatch: MaxLength %d leaves no room for the %d special tokens", opts.MaxLength, specials))
	}
	if opts.Padding == PadMaxLength && opts.MaxLength <= 0 {
		panic("tokenizer: WordPiece.EncodeBatch: PadMaxLength needs MaxLength > 0")
	}
	out := make([]Encoding, len(texts))
	longest := 0
	for i, t := range texts {
		a := w.Encode(t)
		var b []int
		if pairs != nil {
			b = w.Encode(pairs[i])
		}
		if opts.Truncate && opts.MaxLength > 0 {
			k1, k2 := TruncateLongestFirst(len(a), len(b), opts.MaxLength-specials)
			a, b = a[:k1], b[:k2]
		}
		out[i] = w.assemble(a, b, pairs != nil)
		longest = max(longest, out[i].Len())
	}
	target := 0
	switch opts.Padding {
	case PadLongest:
		target = longest
	case PadMaxLength:
		target = opts.MaxLength
	}
	for i := range out {
		out[i] = w.Pad(out[i], target)
	}
	return out
}

// Pad returns e padded on the right to length n with [PAD] ids, type id 0 and mask 0 (e itself
// if it is already that long or longer).
func (w *WordPiece) Pad(e Encoding, n int) Encoding {
	for e.Len() < n {
		e.IDs = append(e.IDs, int(w.pad))
		e.TypeIDs = append(e.TypeIDs, 0)
		e.AttentionMask = append(e.AttentionMask, 0)
	}
	return e
}
