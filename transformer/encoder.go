package transformer

import (
	"fmt"
	"strconv"

	"github.com/simdformer/simdformer/nn"
)

// Encoder is a stack of blocks applied in order. Its children are named
// "0", "1", … like the tutorial's nn.Sequential of blocks, so a model that
// holds it as "transformer_blocks" has the tutorial's state_dict keys.
type Encoder struct {
	Blocks []*Block
}

// NewEncoder returns n blocks built from c. When c.DropPath is set, the
// stochastic-depth rate rises linearly with depth, from 0 at the first
// block to c.DropPath at the last (timm's rule: block i of n uses
// DropPath·i/(n-1)).
func NewEncoder(n int, c BlockConfig) (*Encoder, error) {
	e := &Encoder{Blocks: make([]*Block, n)}
	for i := range e.Blocks {
		bc := c
		bc.DropPath = dropPathRate(c.DropPath, i, n)
		b, err := NewBlock(bc)
		if err != nil {
			return nil, err
		}
		e.Blocks[i] = b
	}
	return e, nil
}

// dropPathRate is timm's linspace(0, rate, n)[i].
func dropPathRate(rate float32, i, n int) float32 {
	if n <= 1 || rate == 0 {
		return 0
	}
	return rate * float32(i) / float32(n-1)
}

// Forward applies every block to x (batch, seq, embed) without masks:
// ForwardWith with the zero options.
func (e *Encoder) Forward(g *nn.Graph, x *nn.Tensor) *nn.Tensor {
	return e.ForwardWith(g, x, nn.AttentionOptions{})
}

// ForwardWith applies every block to x (batch, seq, embed) with the same
// attention options (masks, key padding; the zero value for none).
func (e *Encoder) ForwardWith(g *nn.Graph, x *nn.Tensor, opt nn.AttentionOptions) *nn.Tensor {
	for _, b := range e.Blocks {
		x = b.ForwardWith(g, x, opt)
	}
	return x
}

// ForwardFirst returns the stack's output at the first position only,
// (batch, embed), as a classifier that reads the first token needs: the
// last block computes its query, residual branches and feed-forward
// sublayer for that position alone, which saves most of its work. In eval
// mode the result has the bits of Select(Forward(x, opt), 1, 0). With a
// Mask or BoolMask (which have a query dimension) the last block runs in
// full and its first position is selected.
func (e *Encoder) ForwardFirst(g *nn.Graph, x *nn.Tensor, opt nn.AttentionOptions) *nn.Tensor {
	if len(e.Blocks) == 0 {
		return g.Select(x, 1, 0)
	}
	for _, b := range e.Blocks[:len(e.Blocks)-1] {
		x = b.ForwardWith(g, x, opt)
	}
	last := e.Blocks[len(e.Blocks)-1]
	if len(x.Shape) != 3 || x.Shape[2] != last.Attn.EmbedDim {
		panic(fmt.Sprintf("transformer: Encoder.ForwardFirst: input shape %v, want (batch, seq, %d)", x.Shape, last.Attn.EmbedDim))
	}
	if opt.Mask != nil || opt.BoolMask != nil {
		return g.Select(last.ForwardWith(g, x, opt), 1, 0)
	}
	y := last.forwardFirst(g, x, opt)
	return g.Reshape(y, y.Shape[0], y.Shape[2])
}

// Visit lists the blocks as children "0", "1", ….
func (e *Encoder) Visit(_ func(string, *nn.Tensor), child func(string, nn.Module)) {
	for i, b := range e.Blocks {
		child(strconv.Itoa(i), b)
	}
}
