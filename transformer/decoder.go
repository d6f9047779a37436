package transformer

import (
	"fmt"
	"strconv"

	"github.com/simdformer/simdformer/nn"
)

// DecoderBlock is a transformer decoder block (nn.TransformerDecoderLayer):
// causal self-attention, cross-attention over the encoder's output (the
// memory, with its own key-padding mask), and the feed-forward sublayer,
// each followed by dropout before its residual add. Post-norm by default:
//
//	x = Norm1(x + Dropout1(SelfAttn(x, causal)))
//	x = Norm2(x + Dropout2(CrossAttn(x, memory, memory)))
//	x = Norm3(x + Dropout3(Linear2(FFDropout(Act(Linear1(x))))))
//
// With NormFirst each sublayer reads NormK(x) and x is updated by the plain
// residual sum. Attention probabilities are dropped inside both attentions.
// state_dict keys are PyTorch's: self_attn.*, multihead_attn.*, linear1.*,
// linear2.*, norm1.*, norm2.*, norm3.*.
type DecoderBlock struct {
	SelfAttn, CrossAttn          *nn.MultiheadAttention
	Linear1, Linear2             *nn.Linear
	Act                          nn.Layer
	FFDropout                    *nn.Dropout
	Norm1, Norm2, Norm3          *nn.LayerNorm
	Dropout1, Dropout2, Dropout3 *nn.Dropout
	NormFirst                    bool
}

// NewDecoderBlock builds a decoder block from c (Causal is implied; Keys and
// DropPath are ignored).
func NewDecoderBlock(c BlockConfig) (*DecoderBlock, error) {
	// A decoder block is an encoder block plus a cross-attention and a third
	// norm and dropout: build the shared part with NewBlock.
	c.DropPath = 0
	b, err := NewBlock(c)
	if err != nil {
		return nil, err
	}
	d := &DecoderBlock{SelfAttn: b.Attn, Linear1: b.Linear1, Linear2: b.Linear2, Act: b.Act,
		FFDropout: b.FFDropout, Norm1: b.Norm1, Norm2: b.Norm2, Dropout1: b.Dropout1, Dropout2: b.Dropout2,
		NormFirst: c.NormFirst}
	if d.CrossAttn, err = nn.NewMultiheadAttention(nn.MHAConfig{EmbedDim: c.EmbedDim, NumHeads: c.NumHeads, Dropout: c.AttnDropout}); err != nil {
		return nil, err
	}
	if d.Norm3, err = nn.NewLayerNorm(c.EmbedDim, nn.LayerNormConfig{Eps: c.LayerNormEps}); err != nil {
		return nil, err
	}
	if d.Dropout3, err = newDropout(c.ResidDropout); err != nil {
		return nil, err
	}
	return d, nil
}

// Visit lists the submodules in nn.TransformerDecoderLayer's order.
func (d *DecoderBlock) Visit(_ func(string, *nn.Tensor), child func(string, nn.Module)) {
	child("self_attn", d.SelfAttn)
	child("multihead_attn", d.CrossAttn)
	child("linear1", d.Linear1)
	child("dropout", d.FFDropout)
	child("linear2", d.Linear2)
	child("norm1", d.Norm1)
	child("norm2", d.Norm2)
	child("norm3", d.Norm3)
	child("dropout1", d.Dropout1)
	child("dropout2", d.Dropout2)
	child("dropout3", d.Dropout3)
}

// DecoderOptions are the attention options of a decoder's two attentions
// (the zero value: no masks).
type DecoderOptions struct {
	// Self applies to the self-attention over the target, whose causal mask
	// is always added: Self.KeyPadding (batch·tgt_len, true = padding) is
	// the target's padding (tgt_key_padding_mask), Self.Mask tgt_mask.
	Self nn.AttentionOptions
	// Memory applies to the cross-attention over the memory:
	// Memory.KeyPadding (batch·src_len) is the source's padding
	// (memory_key_padding_mask), Memory.Mask memory_mask.
	Memory nn.AttentionOptions
}

// Forward applies the block to x (batch, tgt_len, embed) attending over
// memory (batch, src_len, embed) with no masks beyond the causal one:
// ForwardWith with the zero options.
func (d *DecoderBlock) Forward(g *nn.Graph, x, memory *nn.Tensor) *nn.Tensor {
	return d.ForwardWith(g, x, memory, DecoderOptions{})
}

// ForwardWith applies the block to x (batch, tgt_len, embed) attending over
// memory (batch, src_len, embed) with the masks of opt.
func (d *DecoderBlock) ForwardWith(g *nn.Graph, x, memory *nn.Tensor, opt DecoderOptions) *nn.Tensor {
	if len(x.Shape) != 3 || len(memory.Shape) != 3 || x.Shape[0] != memory.Shape[0] ||
		x.Shape[2] != d.SelfAttn.EmbedDim || memory.Shape[2] != d.SelfAttn.EmbedDim {
		panic(fmt.Sprintf("transformer: DecoderBlock.Forward: x %v and memory %v, want (batch, len, %d) each",
			x.Shape, memory.Shape, d.SelfAttn.EmbedDim))
	}
	self, cross := opt.Self, opt.Memory
	self.Causal, self.NeedWeights, cross.NeedWeights = true, false, false
	if d.NormFirst {
		h := d.Norm1.Forward(g, x)
		a, _ := d.SelfAttn.Forward(g, h, h, h, self)
		x = g.Add(x, d.Dropout1.Forward(g, a))
		h = d.Norm2.Forward(g, x)
		a, _ = d.CrossAttn.Forward(g, h, memory, memory, cross)
		x = g.Add(x, d.Dropout2.Forward(g, a))
		h = d.Norm3.Forward(g, x)
		return g.Add(x, d.Dropout3.Forward(g, d.ff(g, h)))
	}
	a, _ := d.SelfAttn.Forward(g, x, x, x, self)
	x = d.Norm1.Forward(g, g.Add(x, d.Dropout1.Forward(g, a)))
	a, _ = d.CrossAttn.Forward(g, x, memory, memory, cross)
	x = d.Norm2.Forward(g, g.Add(x, d.Dropout2.Forward(g, a)))
	return d.Norm3.Forward(g, g.Add(x, d.Dropout3.Forward(g, d.ff(g, x))))
}

func (d *DecoderBlock) ff(g *nn.Graph, x *nn.Tensor) *nn.Tensor {
	return feedForward(g, d.Linear1, d.Act, d.FFDropout, d.Linear2, x)
}

// Decoder is a stack of decoder blocks, children "0", "1", ….
type Decoder struct {
	Blocks []*DecoderBlock
}

// Visit lists the blocks as children "0", "1", ….
func (s *Decoder) Visit(_ func(string, *nn.Tensor), child func(string, nn.Module)) {
	for i, b := range s.Blocks {
		child(strconv.Itoa(i), b)
	}
}

// Forward applies every block with no masks beyond the causal one.
func (s *Decoder) Forward(g *nn.Graph, x, memory *nn.Tensor) *nn.Tensor {
	return s.ForwardWith(g, x, memory, DecoderOptions{})
}

// ForwardWith applies every block with the same options.
func (s *Decoder) ForwardWith(g *nn.Graph, x, memory *nn.Tensor, opt DecoderOptions) *nn.Tensor {
	for _, b := range s.Blocks {
		x = b.ForwardWith(g, x, memory, opt)
	}
	return x
}
