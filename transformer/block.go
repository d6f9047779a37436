package transformer

import (
	"fmt"

	"github.com/simdformer/simdformer/nn"
)

// KeyStyle selects the state_dict names a Block gives its parameters.
type KeyStyle int

const (
	// TutorialKeys are the names PyTorch gives the tutorial's TransformerBlock:
	// attn.in_proj_weight, attn.out_proj.*, ff.0.* (first Linear), ff.3.*
	// (second Linear; ff.1 is the activation, ff.2 the dropout), norm1.*,
	// norm2.*.
	TutorialKeys KeyStyle = iota
	// EncoderLayerKeys are nn.TransformerEncoderLayer's names:
	// self_attn.*, linear1.*, linear2.*, norm1.*, norm2.*.
	EncoderLayerKeys
)

// Block is one transformer encoder block. In its default post-norm form it
// is the tutorial's TransformerBlock (and nn.TransformerEncoderLayer):
//
//	x = Norm1(x + DropPath(Dropout1(Attn(x, x, x))))
//	x = Norm2(x + DropPath(Dropout2(FF(x))))
//	FF(x) = Linear2(FFDropout(Act(Linear1(x))))
//
// With NormFirst (pre-norm, GPT-2 style):
//
//	x = x + DropPath(Dropout1(Attn(Norm1(x))))
//	x = x + DropPath(Dropout2(FF(Norm2(x))))
//
// Attention probabilities are dropped inside Attn (Attn.P). With Causal set,
// position l attends only to positions ≤ l (the tutorial's
// MaskedTransformerBlock). The input and output shapes are (batch, seq, embed).
type Block struct {
	Attn               *nn.MultiheadAttention
	Linear1, Linear2   *nn.Linear
	Act                nn.Layer // nn.ReLU{} or nn.GELU{...}
	FFDropout          *nn.Dropout
	Dropout1, Dropout2 *nn.Dropout
	Norm1, Norm2       *nn.LayerNorm
	// DropPath1 and DropPath2 drop a whole sample's attention or
	// feed-forward branch (stochastic depth); nil when the rate is 0.
	DropPath1, DropPath2 *nn.DropPath

	NormFirst bool
	Causal    bool
	Keys      KeyStyle
}

// BlockConfig configures NewBlock. Rates are drop probabilities.
type BlockConfig struct {
	EmbedDim, NumHeads, FFDim int
	Activation                Activation
	AttnDropout               float32 // attention probabilities
	FFNDropout                float32 // feed-forward hidden layer, after the activation
	ResidDropout              float32 // each branch's output, before the residual add
	DropPath                  float32 // stochastic depth of both branches
	LayerNormEps              float32 // 0 means 1e-5
	NormFirst, Causal         bool
	Keys                      KeyStyle
}

// TutorialBlock returns the tutorial's TransformerBlock(embedDim, numHeads,
// ffDim, dropout): post-norm, ReLU, every dropout rate equal to dropout.
func TutorialBlock(embedDim, numHeads, ffDim int, dropout float32) (*Block, error) {
	return NewBlock(BlockConfig{EmbedDim: embedDim, NumHeads: numHeads, FFDim: ffDim,
		AttnDropout: dropout, FFNDropout: dropout, ResidDropout: dropout})
}

// NewBlock returns a block with PyTorch's initialisation, drawing from nn's
// global generator (see nn.ManualSeed).
func NewBlock(c BlockConfig) (*Block, error) {
	if c.EmbedDim <= 0 || c.FFDim <= 0 || c.NumHeads <= 0 || c.EmbedDim%c.NumHeads != 0 {
		return nil, fmt.Errorf("transformer: NewBlock: embed_dim %d, num_heads %d, ff_dim %d: need positive sizes and embed_dim divisible by num_heads",
			c.EmbedDim, c.NumHeads, c.FFDim)
	}
	b := &Block{NormFirst: c.NormFirst, Causal: c.Causal, Keys: c.Keys}
	var err error
	// Construction order follows the tutorial's __init__ so that the same
	// nn.ManualSeed draws the weights in the same order.
	if b.Attn, err = nn.NewMultiheadAttention(nn.MHAConfig{EmbedDim: c.EmbedDim, NumHeads: c.NumHeads, Dropout: c.AttnDropout}); err != nil {
		return nil, err
	}
	if b.Linear1, err = nn.NewLinear(c.EmbedDim, c.FFDim, true); err != nil {
		return nil, err
	}
	switch c.Activation {
	case ReLU:
		b.Act = nn.ReLU{}
	case GELU:
		b.Act = nn.GELU{}
	case GELUTanh:
		b.Act = nn.GELU{Tanh: true}
	default:
		return nil, fmt.Errorf("transformer: NewBlock: unknown activation %v", c.Activation)
	}
	if b.FFDropout, err = newDropout(c.FFNDropout); err != nil {
		return nil, err
	}
	if b.Linear2, err = nn.NewLinear(c.FFDim, c.EmbedDim, true); err != nil {
		return nil, err
	}
	if b.Dropout1, err = newDropout(c.ResidDropout); err != nil {
		return nil, err
	}
	if b.Dropout2, err = newDropout(c.ResidDropout); err != nil {
		return nil, err
	}
	ln := nn.LayerNormConfig{Eps: c.LayerNormEps}
	if b.Norm1, err = nn.NewLayerNorm(c.EmbedDim, ln); err != nil {
		return nil, err
	}
	if b.Norm2, err = nn.NewLayerNorm(c.EmbedDim, ln); err != nil {
		return nil, err
	}
	if c.DropPath != 0 {
		if b.DropPath1, err = nn.NewDropPath(c.DropPath); err != nil {
			return nil, err
		}
		if b.DropPath2, err = nn.NewDropPath(c.DropPath); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// newDropout returns a Dropout that writes in place: every producer it
// follows here (Linear, ReLU, GELU) needs only its input for backward.
func newDropout(p float32) (*nn.Dropout, error) {
	d, err := nn.NewDropout(p)
	if err != nil {
		return nil, err
	}
	d.Inplace = true
	return d, nil
}

// Visit lists the block's parameters and submodules under the names of
// b.Keys, in PyTorch's registration order.
func (b *Block) Visit(param func(string, *nn.Tensor), child func(string, nn.Module)) {
	if b.Keys == EncoderLayerKeys {
		child("self_attn", b.Attn)
		child("linear1", b.Linear1)
		child("dropout", b.FFDropout)
		child("linear2", b.Linear2)
		child("norm1", b.Norm1)
		child("norm2", b.Norm2)
		child("dropout1", b.Dropout1)
		child("dropout2", b.Dropout2)
	} else {
		child("attn", b.Attn)
		child("ff", ffKeys{b})
		child("dropout1", b.Dropout1)
		child("dropout2", b.Dropout2)
		child("norm1", b.Norm1)
		child("norm2", b.Norm2)
	}
	if b.DropPath1 != nil {
		child("drop_path1", b.DropPath1)
		child("drop_path2", b.DropPath2)
	}
}

// ffKeys names the feed-forward layers like the tutorial's nn.Sequential.
type ffKeys struct{ b *Block }

func (f ffKeys) Visit(_ func(string, *nn.Tensor), child func(string, nn.Module)) {
	child("0", f.b.Linear1)
	child("1", f.b.Act)
	child("2", f.b.FFDropout)
	child("3", f.b.Linear2)
}

// Forward applies the block to x (batch, seq, embed) without masks (beyond
// the causal one when b.Causal): ForwardWith with the zero options. It makes
// a Block an nn.Layer.
func (b *Block) Forward(g *nn.Graph, x *nn.Tensor) *nn.Tensor {
	return b.ForwardWith(g, x, nn.AttentionOptions{})
}

// ForwardWith applies the block to x (batch, seq, embed) with the attention
// options opt: an additive or boolean attn_mask, the key padding of
// variable-length input (the zero value for none). b.Causal adds the causal
// mask to them; NeedWeights is ignored.
func (b *Block) ForwardWith(g *nn.Graph, x *nn.Tensor, opt nn.AttentionOptions) *nn.Tensor {
	if len(x.Shape) != 3 || x.Shape[2] != b.Attn.EmbedDim {
		panic(fmt.Sprintf("transformer: Block.Forward: input shape %v, want (batch, seq, %d)", x.Shape, b.Attn.EmbedDim))
	}
	opt.Causal = opt.Causal || b.Causal
	opt.NeedWeights = false
	if b.NormFirst {
		h := b.Norm1.Forward(g, x)
		a, _ := b.Attn.Forward(g, h, h, h, opt)
		x = g.Add(x, b.branch(g, b.Dropout1, b.DropPath1, a))
		h = b.Norm2.Forward(g, x)
		return g.Add(x, b.branch(g, b.Dropout2, b.DropPath2, b.FF(g, h)))
	}
	a, _ := b.Attn.Forward(g, x, x, x, opt)
	x = b.Norm1.Forward(g, g.Add(x, b.branch(g, b.Dropout1, b.DropPath1, a)))
	return b.Norm2.Forward(g, g.Add(x, b.branch(g, b.Dropout2, b.DropPath2, b.FF(g, x))))
}

// forwardFirst is Forward restricted to the output of the first position:
// it returns (batch, 1, embed), what Forward's [:, 0:1, :] would be (the
// same bits in eval mode), computing the attention query, the residual
// branches and the feed-forward sublayer for that one position only. Every
// position still serves as a key and value. Dropout masks are drawn over
// the smaller tensors, so in training mode they differ from Forward's. opt
// may hold key-padding masks and Causal only (masks with a query dimension
// need the full Forward).
func (b *Block) forwardFirst(g *nn.Graph, x *nn.Tensor, opt nn.AttentionOptions) *nn.Tensor {
	n, d := x.Shape[0], x.Shape[2]
	first := func(t *nn.Tensor) *nn.Tensor { return g.Reshape(g.Select(t, 1, 0), n, 1, d) }
	opt.Causal = opt.Causal || b.Causal // position 0 sees key 0 only when causal
	opt.NeedWeights = false
	if b.NormFirst {
		h := b.Norm1.Forward(g, x)
		a, _ := b.Attn.Forward(g, first(h), h, h, opt)
		q := g.Add(first(x), b.branch(g, b.Dropout1, b.DropPath1, a))
		return g.Add(q, b.branch(g, b.Dropout2, b.DropPath2, b.FF(g, b.Norm2.Forward(g, q))))
	}
	q := first(x)
	a, _ := b.Attn.Forward(g, q, x, x, opt)
	q = b.Norm1.Forward(g, g.Add(q, b.branch(g, b.Dropout1, b.DropPath1, a)))
	return b.Norm2.Forward(g, g.Add(q, b.branch(g, b.Dropout2, b.DropPath2, b.FF(g, q))))
}

// FF is the feed-forward sublayer: Linear2(FFDropout(Act(Linear1(x)))).
func (b *Block) FF(g *nn.Graph, x *nn.Tensor) *nn.Tensor {
	return feedForward(g, b.Linear1, b.Act, b.FFDropout, b.Linear2, x)
}

// feedForward is the feed-forward sublayer of encoder and decoder blocks:
// l2(drop(act(l1(x)))).
func feedForward(g *nn.Graph, l1 *nn.Linear, act nn.Layer, drop *nn.Dropout, l2 *nn.Linear, x *nn.Tensor) *nn.Tensor {
	return l2.Forward(g, drop.Forward(g, act.Forward(g, l1.Forward(g, x))))
}

func (b *Block) branch(g *nn.Graph, d *nn.Dropout, dp *nn.DropPath, y *nn.Tensor) *nn.Tensor {
	y = d.Forward(g, y)
	if dp != nil {
		y = dp.Forward(g, y)
	}
	return y
}
