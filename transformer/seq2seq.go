package transformer

import (
	"fmt"

	"github.com/simdformer/simdformer/nn"
)

// Seq2Seq is an encoder–decoder transformer (the tutorial's "use as
// encoder/decoder blocks"): source and target token embeddings share one
// learned position table; an Encoder reads the source, a Decoder attends
// causally to the target prefix and across to the encoder's output; a
// linear head gives the next target token's logits.
//
// state_dict keys: src_embedding.weight, tgt_embedding.weight,
// pos_embedding.weight, encoder.{i}.… (Block, EncoderLayerKeys),
// decoder.{i}.… (DecoderBlock), generator.weight, generator.bias.
type Seq2Seq struct {
	SrcEmbedding *nn.Embedding
	TgtEmbedding *nn.Embedding
	PosEmbedding *nn.Embedding
	EmbedDropout *nn.Dropout
	Encoder      *Encoder
	Decoder      *Decoder
	Generator    *nn.Linear

	cfg Config
}

// Config returns the configuration m was built from.
func (m *Seq2Seq) Config() Config { return m.cfg }

// NewSeq2Seq builds an encoder–decoder model with c.NumLayers encoder and
// c.NumLayers decoder blocks over one vocabulary of c.VocabSize tokens and
// sequences of up to c.MaxPositions tokens.
func NewSeq2Seq(c Config) (*Seq2Seq, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.VocabSize <= 0 || c.MaxPositions <= 0 {
		return nil, fmt.Errorf("transformer: NewSeq2Seq: vocab_size %d and max_positions %d must be positive", c.VocabSize, c.MaxPositions)
	}
	m := &Seq2Seq{cfg: c}
	var err error
	for _, e := range []**nn.Embedding{&m.SrcEmbedding, &m.TgtEmbedding, &m.PosEmbedding} {
		n := c.VocabSize
		if e == &m.PosEmbedding {
			n = c.MaxPositions
		}
		if *e, err = nn.NewEmbedding(n, c.EmbedDim, nn.EmbeddingConfig{}); err != nil {
			return nil, err
		}
	}
	if m.EmbedDropout, err = newDropout(c.EmbedDropout); err != nil {
		return nil, err
	}
	bc := c.blockConfig()
	bc.Causal = false
	bc.Keys = EncoderLayerKeys
	if m.Encoder, err = NewEncoder(c.NumLayers, bc); err != nil {
		return nil, err
	}
	m.Decoder = &Decoder{Blocks: make([]*DecoderBlock, c.NumLayers)}
	for i := range m.Decoder.Blocks {
		if m.Decoder.Blocks[i], err = NewDecoderBlock(bc); err != nil {
			return nil, err
		}
	}
	if m.Generator, err = nn.NewLinear(c.EmbedDim, c.VocabSize, true); err != nil {
		return nil, err
	}
	return m, nil
}

// Visit lists the submodules.
func (m *Seq2Seq) Visit(_ func(string, *nn.Tensor), child func(string, nn.Module)) {
	child("src_embedding", m.SrcEmbedding)
	child("tgt_embedding", m.TgtEmbedding)
	child("pos_embedding", m.PosEmbedding)
	child("embed_dropout", m.EmbedDropout)
	child("encoder", m.Encoder)
	child("decoder", m.Decoder)
	child("generator", m.Generator)
}

// Encode returns the memory (batch, srcLen, embed) of the source sequences
// (src.Padding, true = padding, may be nil).
func (m *Seq2Seq) Encode(g *nn.Graph, src Tokens) *nn.Tensor {
	x := m.EmbedDropout.Forward(g, embed(g, m.SrcEmbedding, m.PosEmbedding, src))
	return m.Encoder.ForwardWith(g, x, nn.AttentionOptions{KeyPadding: src.Padding})
}

// Decode returns the logits (batch, tgtLen, vocab) of the next token after
// each prefix of tgt, attending over memory, whose padded positions
// memoryPadding (the source's Padding, batch·srcLen) marks.
func (m *Seq2Seq) Decode(g *nn.Graph, memory *nn.Tensor, memoryPadding []bool, tgt Tokens) *nn.Tensor {
	y := m.EmbedDropout.Forward(g, embed(g, m.TgtEmbedding, m.PosEmbedding, tgt))
	y = m.Decoder.ForwardWith(g, y, memory, DecoderOptions{
		Self:   nn.AttentionOptions{KeyPadding: tgt.Padding},
		Memory: nn.AttentionOptions{KeyPadding: memoryPadding},
	})
	return m.Generator.Forward(g, y)
}

// Loss is the teacher-forced training loss: the decoder reads tgtIn (the
// target shifted right, starting with a BOS token) and is scored against
// tgtOut (the target, ending with EOS; ce.IgnoreIndex marks padding).
func (m *Seq2Seq) Loss(g *nn.Graph, ce *nn.CrossEntropyLoss, src, tgtIn Tokens, tgtOut []int) *nn.Tensor {
	memory := m.Encode(g, src)
	return ce.Forward(g, m.Decode(g, memory, src.Padding, tgtIn), tgtOut)
}

// GreedyOptions are Seq2Seq.Greedy's token ids and length limit.
type GreedyOptions struct {
	BOS, EOS int // the start and end tokens
	MaxLen   int // tokens generated per sequence at most
}

// Greedy decodes each source sequence of src: starting from opt.BOS it
// appends the most likely next token until every sequence has produced
// opt.EOS or opt.MaxLen tokens. It returns src.Batch·MaxLen tokens (after a
// sequence's EOS, EOS repeats). Call nn.Eval first to turn dropout off.
func (m *Seq2Seq) Greedy(src Tokens, opt GreedyOptions) []int {
	batch, bos, eos, maxLen := src.Batch, opt.BOS, opt.EOS, opt.MaxLen
	if maxLen+1 > m.PosEmbedding.Weight.Shape[0] {
		panic(fmt.Sprintf("transformer: Greedy: maxLen %d needs %d positions, the model has %d", maxLen, maxLen+1, m.PosEmbedding.Weight.Shape[0]))
	}
	g := nn.NewGraph()
	g.NoGrad = true
	memory := m.Encode(g, src).Clone() // survives the per-step Reset
	vocab := m.Generator.Weight.Shape[0]
	out := make([]int, batch*maxLen)
	prefix := make([]int, 0, batch*(maxLen+1))
	done := make([]bool, batch)
	for t := 0; t < maxLen; t++ {
		// prefix holds, for each sequence, bos then its t tokens so far.
		prefix = prefix[:0]
		for b := range batch {
			prefix = append(prefix, bos)
			prefix = append(prefix, out[b*maxLen:b*maxLen+t]...)
		}
		g.Reset()
		logits := m.Decode(g, memory, src.Padding, Tokens{IDs: prefix, Batch: batch, Seq: t + 1})
		all := true
		for b := range batch {
			tok := eos
			if !done[b] {
				row := logits.Data[(b*(t+1)+t)*vocab : (b*(t+1)+t+1)*vocab]
				tok = sample(row, 0, nil, nil)
				done[b] = tok == eos
			}
			out[b*maxLen+t] = tok
			all = all && done[b]
		}
		if all {
			for b := range batch {
				for j := t + 1; j < maxLen; j++ {
					out[b*maxLen+j] = eos
				}
			}
			break
		}
	}
	return out
}
