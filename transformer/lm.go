package transformer

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/simdformer/simdformer/nn"
)

// LM is a GPT-style causal language model: token plus position embeddings
// with embedding dropout, pre-norm causal blocks, a final LayerNorm and an
// output head, by default tied to the token embedding (logits = h·Wteᵀ).
//
// state_dict keys: wte.weight, wpe.weight, h.{i}.… (see Block), ln_f.weight,
// ln_f.bias, and lm_head.weight when the head is untied (a tied head has no
// key of its own). LoadGPT2 and SaveGPT2 read and write Hugging Face's
// GPT-2 layout instead.
type LM struct {
	Wte    *nn.Embedding // "wte" (vocab, embed)
	Wpe    *nn.Embedding // "wpe" (max_positions, embed)
	Drop   *nn.Dropout   // "drop": embd_pdrop
	Blocks *Encoder      // "h"
	LnF    *nn.LayerNorm // "ln_f"

	cfg Config
	// Head is the output projection (vocab, embed), "lm_head.weight", when
	// it is not tied to Wte (GPT-2's tie_word_embeddings: false); nil ties.
	Head *nn.Tensor
	// AttnScale multiplies the attention scores; 0 means 1/√head_dim
	// (GPT-2's scale_attn_weights: false is 1).
	AttnScale float32
	// GPT2 is the Hugging Face config LoadGPT2 read (nil for NewLM);
	// SaveGPT2 writes its fields back.
	GPT2 *GPT2Config
}

// Config returns the configuration m was built from, with NormFirst and
// Causal set (an LM's blocks are always pre-norm and causal).
func (m *LM) Config() Config { return m.cfg }

// NewLM builds a causal LM from c (VocabSize, MaxPositions, EmbedDim,
// NumHeads, FFDim, NumLayers required). The blocks are pre-norm and causal
// whatever c says about NormFirst and Causal. Embeddings are initialised
// N(0, 0.02²) as GPT-2 does.
func NewLM(c Config) (*LM, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.VocabSize <= 0 || c.MaxPositions <= 0 {
		return nil, fmt.Errorf("transformer: NewLM: vocab_size %d and max_positions %d must be positive", c.VocabSize, c.MaxPositions)
	}
	c.NormFirst, c.Causal = true, true
	m := &LM{cfg: c}
	var err error
	if m.Wte, err = nn.NewEmbedding(c.VocabSize, c.EmbedDim, nn.EmbeddingConfig{}); err != nil {
		return nil, err
	}
	if m.Wpe, err = nn.NewEmbedding(c.MaxPositions, c.EmbedDim, nn.EmbeddingConfig{}); err != nil {
		return nil, err
	}
	for _, w := range []*nn.Tensor{m.Wte.Weight, m.Wpe.Weight} {
		for i := range w.Data {
			w.Data[i] *= 0.02 // nn.Embedding draws N(0, 1)
		}
	}
	if m.Drop, err = newDropout(c.EmbedDropout); err != nil {
		return nil, err
	}
	if m.Blocks, err = NewEncoder(c.NumLayers, c.blockConfig()); err != nil {
		return nil, err
	}
	if m.LnF, err = nn.NewLayerNorm(c.EmbedDim, nn.LayerNormConfig{Eps: c.eps()}); err != nil {
		return nil, err
	}
	return m, nil
}

// Visit lists the submodules with GPT-2's top-level names.
func (m *LM) Visit(_ func(string, *nn.Tensor), child func(string, nn.Module)) {
	child("wte", m.Wte)
	child("wpe", m.Wpe)
	child("drop", m.Drop)
	child("h", m.Blocks)
	child("ln_f", m.LnF)
	if m.Head != nil {
		child("lm_head", headWeight{m.Head})
	}
}

// Forward returns the next-token logits (batch, seq, vocab) of batch
// sequences of seq token ids each (len(ids) = batch·seq, no padding).
// ForwardWith takes padding (Tokens.Padding) and position ids.
func (m *LM) Forward(g *nn.Graph, ids []int, batch, seq int) *nn.Tensor {
	return m.ForwardWith(g, Tokens{IDs: ids, Batch: batch, Seq: seq}, LMOptions{})
}

// Loss returns the mean cross-entropy of predicting targets[i] from
// ids[..i] (targets is the ids shifted left by one, batch·seq values;
// ce.IgnoreIndex marks positions to skip). LossWith takes padded Tokens.
func (m *LM) Loss(g *nn.Graph, ce *nn.CrossEntropyLoss, ids, targets []int, batch, seq int) *nn.Tensor {
	return m.LossWith(g, ce, Tokens{IDs: ids, Batch: batch, Seq: seq}, targets, LMOptions{})
}

// LossWith is Loss of ForwardWith(g, tok, opt): padded positions are ignored
// as keys; mark them in targets with ce.IgnoreIndex too.
func (m *LM) LossWith(g *nn.Graph, ce *nn.CrossEntropyLoss, tok Tokens, targets []int, opt LMOptions) *nn.Tensor {
	return ce.Forward(g, m.ForwardWith(g, tok, opt), targets)
}

// Generate extends prompt by n tokens and returns them. Each token is drawn
// from softmax(logits/temperature) with rng, or is the most likely one when
// temperature <= 0 (greedy). The context is the last max_positions tokens.
// Dropout follows the model's mode: call nn.Eval first for plain sampling.
func (m *LM) Generate(prompt []int, n int, temperature float32, rng *rand.Rand) []int {
	if len(prompt) == 0 {
		panic("transformer: LM.Generate needs a non-empty prompt")
	}
	maxLen := m.Wpe.Weight.Shape[0]
	vocab := m.Wte.Weight.Shape[0]
	ctx := append(make([]int, 0, len(prompt)+n), prompt...)
	g := nn.NewGraph()
	g.NoGrad = true
	probs := make([]float64, vocab)
	for range n {
		window := ctx[max(0, len(ctx)-maxLen):]
		logits := m.Forward(g, window, 1, len(window))
		last := logits.Data[(len(window)-1)*vocab:]
		ctx = append(ctx, sample(last, temperature, rng, probs))
		g.Reset()
	}
	return ctx[len(prompt):]
}

// sample picks an index from logits: argmax when temperature <= 0 or rng is
// nil, otherwise a draw from softmax(logits/temperature).
func sample(logits []float32, temperature float32, rng *rand.Rand, probs []float64) int {
	best := 0
	for i, v := range logits {
		if v > logits[best] {
			best = i
		}
	}
	if temperature <= 0 || rng == nil {
		return best
	}
	var sum float64
	for i, v := range logits {
		probs[i] = math.Exp(float64(v-logits[best]) / float64(temperature))
		sum += probs[i]
	}
	u := rng.Float64() * sum
	for i, p := range probs[:len(logits)] {
		u -= p
		if u < 0 {
			return i
		}
	}
	return best
}
