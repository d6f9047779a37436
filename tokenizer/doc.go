// Package tokenizer holds the tokenizers of GPT-2 and BERT: GPT-2's byte-level byte-pair
// encoding (BPE, loaded by LoadGPT2) and BERT's WordPiece (LoadWordPiece, NewWordPiece), with a
// trainer that builds a WordPiece vocabulary from text (TrainWordPiece).
//
// # GPT-2
//
// LoadGPT2 reads OpenAI's encoder.json and vocab.bpe or Hugging Face's vocab.json and
// merges.txt. Encode gives the ids of OpenAI's encoder (checked against the gpt-3-encoder npm
// package on a varied corpus): the text is pre-split by GPT-2's pattern
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// (implemented by hand, Go's regexp having no lookahead; \s is JavaScript's set, which differs
// from unicode.IsSpace on U+0085 and U+FEFF, and from Python's str.isspace, used by OpenAI's
// original encoder, on U+001C–U+001F and U+0085 as well), then every piece's bytes are merged by
// rank. Letters and numbers are Go's Unicode tables (15.0): a character assigned in a later
// Unicode version is classed as other here, while a newer JavaScript engine may class it as a
// letter. Pieces up to 48 bytes are cached. Decode(Encode(s)) == s for every s, including invalid
// UTF-8, whose bytes are kept (and pre-split like U+FFFD). Encode treats "<|endoftext|>" in the
// text as plain text, like OpenAI's encoder; EncodeSpecial maps it to its id (50256), like
// Hugging Face's GPT2Tokenizer.
//
// # BERT
//
// WordPiece reproduces Hugging Face's BertTokenizer (checked against transformers.js's
// BertTokenizer on vocabularies built by TrainWordPiece): cleaning, CJK splitting, lower-casing
// and accent stripping for uncased models, punctuation splitting, greedy longest-match-first
// pieces with "##", [UNK] for unmatched words or words over 100 characters; EncodePair builds
// [CLS] a [SEP] b [SEP] with token type ids and EncodeBatch truncates (longest_first) and pads
// with attention masks. The known differences between Hugging Face's implementations are
// settled as follows: accents are stripped after lower-casing (transformers.js and the Python
// tokenizer; the Rust one strips first), unassigned code points are removed as control
// characters (Python and Rust; transformers.js keeps them), CJK ideographs outside the Basic
// Multilingual Plane are split (Python and Rust; transformers.js does not), and truncation
// follows the Rust tokenizer's longest_first (transformers.js cuts the assembled sequence).
//
// # Concurrency and limits
//
// Both tokenizers are safe for concurrent use. Loaders return errors, never panic, on malformed
// files and bound memory: files over MaxVocabFileBytes, vocabularies over MaxVocabSize tokens
// and tokens or lines over MaxTokenBytes are rejected. Methods panic, naming themselves, only on
// misuse such as an id outside the vocabulary.
package tokenizer
