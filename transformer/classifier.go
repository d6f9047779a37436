package transformer

import (
	"fmt"
	"sync/atomic"

	"github.com/simdformer/simdformer/nn"
)

// Classifier is the tutorial's SimpleTransformerClassifier: token embedding
// (plus, optionally, a learned position embedding and embedding dropout),
// a stack of blocks, and a linear head on the first token's output.
//
// state_dict keys: embedding.weight, [pos_embedding.weight],
// transformer_blocks.{i}.… (see Block), classifier.weight, classifier.bias.
type Classifier struct {
	Embedding    *nn.Embedding // "embedding" (vocab, embed)
	PosEmbedding *nn.Embedding // "pos_embedding" (max_positions, embed); nil without positions
	EmbedDropout *nn.Dropout   // "embed_dropout": after the embeddings are summed
	Blocks       *Encoder      // "transformer_blocks"
	Head         *nn.Linear    // "classifier" (num_classes, embed)

	cfg Config
}

// Config returns the configuration m was built from.
func (m *Classifier) Config() Config { return m.cfg }

// NewClassifier builds a classifier from c: VocabSize, EmbedDim, NumHeads,
// FFDim, NumLayers and NumClasses are required; MaxPositions > 0 adds a
// learned position embedding. Initialisation is PyTorch's, drawn from nn's
// global generator in the tutorial's order (embedding, blocks, classifier),
// so the same nn.ManualSeed rebuilds the same weights.
func NewClassifier(c Config) (*Classifier, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.VocabSize <= 0 || c.NumClasses <= 0 {
		return nil, fmt.Errorf("transformer: NewClassifier: vocab_size %d and num_classes %d must be positive", c.VocabSize, c.NumClasses)
	}
	m := &Classifier{cfg: c}
	var err error
	if m.Embedding, err = nn.NewEmbedding(c.VocabSize, c.EmbedDim, nn.EmbeddingConfig{}); err != nil {
		return nil, err
	}
	if c.MaxPositions > 0 {
		if m.PosEmbedding, err = nn.NewEmbedding(c.MaxPositions, c.EmbedDim, nn.EmbeddingConfig{}); err != nil {
			return nil, err
		}
	}
	if m.EmbedDropout, err = newDropout(c.EmbedDropout); err != nil {
		return nil, err
	}
	if m.Blocks, err = NewEncoder(c.NumLayers, c.blockConfig()); err != nil {
		return nil, err
	}
	if m.Head, err = nn.NewLinear(c.EmbedDim, c.NumClasses, true); err != nil {
		return nil, err
	}
	return m, nil
}

// blockConfig is the per-block part of c.
func (c *Config) blockConfig() BlockConfig {
	act, _ := parseActivation(c.Activation) // validated by the caller
	return BlockConfig{EmbedDim: c.EmbedDim, NumHeads: c.NumHeads, FFDim: c.FFDim, Activation: act,
		AttnDropout: c.AttnDropout, FFNDropout: c.FFNDropout, ResidDropout: c.ResidDropout,
		DropPath: c.DropPath, LayerNormEps: c.eps(), NormFirst: c.NormFirst, Causal: c.Causal}
}

// Visit lists the submodules with the tutorial's names.
func (m *Classifier) Visit(_ func(string, *nn.Tensor), child func(string, nn.Module)) {
	child("embedding", m.Embedding)
	if m.PosEmbedding != nil {
		child("pos_embedding", m.PosEmbedding)
	}
	child("embed_dropout", m.EmbedDropout)
	child("transformer_blocks", m.Blocks)
	child("classifier", m.Head)
}

// Tokens is a batch of token-id sequences, the input of every model:
// Batch sequences of Seq ids each, row-major (len(IDs) = Batch·Seq). To
// batch sequences of different lengths, pad them at the end to Seq and set
// Padding (Batch·Seq, true = a padded position; nil = none): padded
// positions are ignored as attention keys (key_padding_mask), so the
// outputs at real positions do not depend on the padding. IDs must not
// change until Backward.
type Tokens struct {
	IDs        []int
	Batch, Seq int
	Padding    []bool
}

// check panics on inconsistent sizes.
func (t Tokens) check() {
	// len(IDs) == Batch·Seq, without computing a product that may wrap.
	if t.Batch <= 0 || t.Seq <= 0 || len(t.IDs)%t.Batch != 0 || len(t.IDs)/t.Batch != t.Seq {
		panic(fmt.Sprintf("transformer: %d token ids for batch %d × seq %d", len(t.IDs), t.Batch, t.Seq))
	}
	if t.Padding != nil && len(t.Padding) != len(t.IDs) {
		panic(fmt.Sprintf("transformer: padding has %d values for batch %d × seq %d", len(t.Padding), t.Batch, t.Seq))
	}
}

// Forward returns the logits (batch, num_classes) of batch sequences of
// seq token ids each (len(ids) = batch·seq, no padding): ForwardWith of
// Tokens{ids, batch, seq, nil}.
func (m *Classifier) Forward(g *nn.Graph, ids []int, batch, seq int) *nn.Tensor {
	return m.ForwardWith(g, Tokens{IDs: ids, Batch: batch, Seq: seq})
}

// ForwardWith returns the logits (batch, num_classes) of tok. The head reads
// the first token's output, so padding (tok.Padding) must come after it:
// a sequence gives the same logits alone and padded in a longer batch.
func (m *Classifier) ForwardWith(g *nn.Graph, tok Tokens) *nn.Tensor {
	x := embed(g, m.Embedding, m.PosEmbedding, tok)
	x = m.EmbedDropout.Forward(g, x)
	// Only the first token's output reaches the head: the last block
	// computes that position alone (Encoder.ForwardFirst).
	return m.Head.Forward(g, m.Blocks.ForwardFirst(g, x, nn.AttentionOptions{KeyPadding: tok.Padding}))
}

// embed returns emb[ids] (+ pos[0..seq)) as (batch, seq, embed).
func embed(g *nn.Graph, emb, pos *nn.Embedding, tok Tokens) *nn.Tensor {
	tok.check()
	seq := tok.Seq
	x := emb.Forward(g, tok.IDs, tok.Batch, seq)
	if pos == nil {
		return x
	}
	if n := pos.Weight.Shape[0]; seq > n {
		panic(fmt.Sprintf("transformer: sequence length %d exceeds the %d learned positions", seq, n))
	}
	return g.Add(x, pos.Forward(g, positionIDs(seq), seq))
}

// positionTable holds 0, 1, 2, …, shared read-only by every model and
// goroutine; it is replaced (never modified) when a longer one is needed.
var positionTable atomic.Pointer[[]int]

// positionIDs returns the position ids 0..n-1 without allocating after the
// first call for a length, and without a data race between models used
// from several goroutines.
func positionIDs(n int) []int {
	if t := positionTable.Load(); t != nil && len(*t) >= n {
		return (*t)[:n]
	}
	t := make([]int, max(n, 512))
	for i := range t {
		t[i] = i
	}
	positionTable.Store(&t)
	return t[:n]
}
