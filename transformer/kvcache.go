package transformer

import (
	"fmt"
	"math"
	"slices"

	"github.com/simdformer/simdformer/kernels"
	"github.com/simdformer/simdformer/nn"
)

// KVCache holds the attention keys and values of every position an LM has
// processed, per layer, so that LM.Step computes only the new positions
// (incremental decoding). Its capacity is the model's max_positions. A
// cache belongs to one model and one sequence batch; it is not safe for
// concurrent use, but several goroutines may decode with one model in eval
// mode, each with its own cache and graph (Step only reads the weights).
type KVCache struct {
	batch, capacity, embed int
	k, v                   [][]float32 // per layer: (batch, capacity, embed)
	pad                    []bool      // (batch, capacity): true for a padding key
	pos                    []int       // per row: the next position id
	n                      int         // positions stored
	stats                  []float32   // attention softmax statistics (2·heads·rows)
	posScratch             []int       // position ids of the new tokens
}

// NewKVCache returns an empty cache for batch sequences decoded together.
func (m *LM) NewKVCache(batch int) *KVCache {
	if batch <= 0 {
		panic(fmt.Sprintf("transformer: LM.NewKVCache: batch %d must be positive", batch))
	}
	E, P := m.Wte.Weight.Shape[1], m.Wpe.Weight.Shape[0]
	c := &KVCache{batch: batch, capacity: P, embed: E, pad: make([]bool, batch*P), pos: make([]int, batch)}
	for range m.Blocks.Blocks {
		c.k = append(c.k, make([]float32, batch*P*E))
		c.v = append(c.v, make([]float32, batch*P*E))
	}
	return c
}

// Len returns the number of positions the cache holds.
func (c *KVCache) Len() int { return c.n }

// Cap returns the number of positions the cache can hold (max_positions).
func (c *KVCache) Cap() int { return c.capacity }

// Reset empties the cache for a new sequence batch, keeping its memory.
func (c *KVCache) Reset() {
	c.n = 0
	clear(c.pad)
	clear(c.pos)
}

// Truncate drops every position from n on (0 <= n <= Len), e.g. to
// rewind to a shared prompt and decode another continuation. Position ids
// restart from the real tokens kept.
func (c *KVCache) Truncate(n int) {
	if n < 0 || n > c.n {
		panic(fmt.Sprintf("transformer: KVCache.Truncate(%d) of a cache holding %d positions", n, c.n))
	}
	for b := 0; b < c.batch; b++ {
		row := c.pad[b*c.capacity : (b+1)*c.capacity]
		clear(row[n:])
		real := 0
		for _, p := range row[:n] {
			if !p {
				real++
			}
		}
		c.pos[b] = real
	}
	c.n = n
}

// Step runs the model on t new tokens per sequence (ids: batch·t, row
// major) after the positions already in cache, appends their keys and
// values to it and returns the logits (batch, vocab) of each sequence's
// last new token. padding (batch·t, may be nil) marks the new tokens that
// are padding (Hugging Face's attention_mask inverted), never attended to;
// position ids count the real tokens of each sequence (padding gets 1, as
// Hugging Face's generate does), so left-padded prompts decode like
// unpadded ones. The first call is the prompt (prefill), then one token at
// a time.
//
// Every position is computed with the same kernel calls, in the same
// order, as Forward computes it, so with one unpadded sequence the logits
// are bit for bit those of Forward on the whole prefix in eval mode. Step
// is inference: it applies no dropout whatever the mode, and g should have
// NoGrad set. The result is valid until g.Reset. After the first call of a
// given t, Step allocates nothing.
func (m *LM) Step(g *nn.Graph, c *KVCache, ids []int, padding []bool) *nn.Tensor {
	B := c.batch
	if len(ids) == 0 || len(ids)%B != 0 {
		panic(fmt.Sprintf("transformer: LM.Step: %d ids for a batch of %d", len(ids), B))
	}
	t := len(ids) / B
	if padding != nil && len(padding) != len(ids) {
		panic(fmt.Sprintf("transformer: LM.Step: padding of %d values for %d ids", len(padding), len(ids)))
	}
	if c.n+t > c.capacity {
		panic(fmt.Sprintf("transformer: LM.Step: %d + %d positions exceed the cache's %d (max_positions)", c.n, t, c.capacity))
	}
	E := c.embed
	if len(c.k) != len(m.Blocks.Blocks) || m.Wte.Weight.Shape[1] != E {
		panic("transformer: LM.Step: the cache was made for another model")
	}
	// Position ids and key padding of the new tokens.
	posIDs := positionScratch(c, B*t)
	for b := 0; b < B; b++ {
		for r := 0; r < t; r++ {
			i := b*t + r
			real := padding == nil || !padding[i]
			c.pad[b*c.capacity+c.n+r] = !real
			if real {
				posIDs[i] = c.pos[b]
				c.pos[b]++
			} else {
				posIDs[i] = 1
			}
		}
	}
	x := g.Add(m.Wte.Forward(g, ids, B, t), m.Wpe.Forward(g, posIDs, B, t))
	S := c.n + t
	if len(m.Blocks.Blocks) > 0 {
		if need := 2 * m.Blocks.Blocks[0].Attn.NumHeads * t; len(c.stats) < need {
			c.stats = make([]float32, need)
		}
	}
	for l, b := range m.Blocks.Blocks {
		h := b.Norm1.Forward(g, x)
		qkv := g.Linear(h, b.Attn.InProjWeight, b.Attn.InProjBias) // (B, t, 3E)
		K, V := c.k[l], c.v[l]
		for bb := 0; bb < B; bb++ {
			for r := 0; r < t; r++ {
				src := qkv.Data[(bb*t+r)*3*E:]
				dst := (bb*c.capacity + c.n + r) * E
				copy(K[dst:dst+E], src[E:2*E])
				copy(V[dst:dst+E], src[2*E:3*E])
			}
		}
		ctx := g.Zeros(B, t, E)
		m.cachedAttention(c, ctx.Data, qkv.Data, K, V, b.Attn.NumHeads, t, S)
		x = g.Add(x, b.Attn.OutProj.Forward(g, ctx))
		x = g.Add(x, b.FF(g, b.Norm2.Forward(g, x)))
	}
	c.n = S
	last := g.Select(x, 1, t-1) // (B, E)
	return g.Linear(m.LnF.Forward(g, last), m.HeadWeight(), nil)
}

// positionScratch returns an int scratch of n values owned by the cache.
func positionScratch(c *KVCache, n int) []int {
	if cap(c.posScratch) < n {
		c.posScratch = make([]int, n)
	}
	return c.posScratch[:n]
}

// cachedAttention computes the attention context (B, t, E) of the t new
// queries (in qkv, (B, t, 3E)) over the S cached keys and values with the
// fused kernel nn's attention runs (kernels.Attention: causal with offset
// c.n, key padding), one call per sequence. The kernel's key tiles start at
// key 0 whatever the queries, and the tiles a longer causal query tile
// also visits are all masked for these rows (they change nothing), so each
// row gets the bits Forward computes for it.
func (m *LM) cachedAttention(c *KVCache, ctx, qkv, K, V []float32, H, t, S int) {
	E := c.embed
	d := E / H
	scale := m.AttnScale
	if scale == 0 {
		scale = float32(1 / math.Sqrt(float64(d)))
	}
	sh := kernels.AttentionShape{N: 1, H: H, L: t, S: S, DK: d, DV: d}
	stats := c.stats[:2*H*t]
	for b := 0; b < c.batch; b++ {
		kv := b * c.capacity * E
		opt := kernels.AttentionOptions{Scale: scale, Causal: true, CausalOffset: c.n}
		if pad := c.pad[b*c.capacity : b*c.capacity+S]; slices.Contains(pad, true) {
			opt.KeyPadding = pad
		}
		kernels.Attention(kernels.AttentionOperand{Data: ctx[b*t*E:], BatchStride: t * E, HeadStride: d, RowStride: E}, stats,
			kernels.AttentionOperand{Data: qkv[b*t*3*E:], BatchStride: t * 3 * E, HeadStride: d, RowStride: 3 * E},
			kernels.AttentionOperand{Data: K[kv:], BatchStride: c.capacity * E, HeadStride: d, RowStride: E},
			kernels.AttentionOperand{Data: V[kv:], BatchStride: c.capacity * E, HeadStride: d, RowStride: E}, sh, opt)
	}
}
