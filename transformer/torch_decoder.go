package transformer

import (
	"fmt"

	"github.com/simdformer/simdformer/nn"
)

// TorchDecoderConfig mirrors the constructor arguments of PyTorch's
//
//	nn.TransformerDecoder(
//	    nn.TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout,
//	        activation, layer_norm_eps, batch_first=True, norm_first),
//	    num_layers, norm=nn.LayerNorm(d_model, eps=layer_norm_eps) or None)
//
// Inputs and outputs are always batch-first: tgt (batch, tgt_len, d_model),
// memory (batch, src_len, d_model).
type TorchDecoderConfig struct {
	DModel         int        // d_model
	NHead          int        // nhead; must divide DModel
	DimFeedforward int        // dim_feedforward; 0 means PyTorch's default 2048
	Dropout        float32    // dropout: one DROP probability for both attentions' weights, the feed-forward hidden layer and the three residual branches
	Activation     Activation // activation: ReLU (PyTorch's default) or GELU (exact erf form); GELUTanh is F.gelu(approximate="tanh")
	LayerNormEps   float32    // layer_norm_eps of every LayerNorm, the final one included; 0 means 1e-5
	NormFirst      bool       // norm_first: pre-norm layers
	NumLayers      int        // num_layers
	FinalNorm      bool       // norm=nn.LayerNorm(d_model): a LayerNorm after the last layer
}

// encoder returns the same arguments as a TorchEncoderConfig (the two
// layer types share them).
func (c TorchDecoderConfig) encoder() TorchEncoderConfig { return TorchEncoderConfig(c) }

// Config returns c as a Config, the form Save stores in a file's metadata
// (FinalNorm is not part of it: LoadTorchDecoder reads it from the presence
// of norm.weight).
func (c TorchDecoderConfig) Config() Config { return c.encoder().Config() }

// TorchDecoderConfigFrom converts a Config (PyTorch's d_model, nhead,
// dim_feedforward, dropout, activation, layer_norm_eps, norm_first and
// num_layers names are read by ReadConfig and LoadConfig) to a
// TorchDecoderConfig with the given final norm, with the checks of
// TorchEncoderConfigFrom (one dropout rate; no causal flag, stochastic depth,
// embeddings or head).
func TorchDecoderConfigFrom(c Config, finalNorm bool) (TorchDecoderConfig, error) {
	e, err := TorchEncoderConfigFrom(c, finalNorm)
	return TorchDecoderConfig(e), err
}

// TorchDecoder is PyTorch's nn.TransformerDecoder of
// nn.TransformerDecoderLayer (batch_first=True), with its state_dict keys:
//
//	layers.{i}.self_attn.in_proj_weight, layers.{i}.self_attn.in_proj_bias,
//	layers.{i}.self_attn.out_proj.weight, layers.{i}.self_attn.out_proj.bias,
//	layers.{i}.multihead_attn.in_proj_weight, layers.{i}.multihead_attn.in_proj_bias,
//	layers.{i}.multihead_attn.out_proj.weight, layers.{i}.multihead_attn.out_proj.bias,
//	layers.{i}.linear1.weight, layers.{i}.linear1.bias,
//	layers.{i}.linear2.weight, layers.{i}.linear2.bias,
//	layers.{i}.norm1.*, layers.{i}.norm2.*, layers.{i}.norm3.*,
//	norm.weight, norm.bias (with FinalNorm)
//
// so Load reads a file written by
// safetensors.torch.save_file(model.state_dict(), path) and PyTorch's
// load_state_dict(strict=True) reads one written by Save.
//
// Each layer is a DecoderBlock; unlike DecoderBlock.Forward (which always
// masks the future), the self-attention is causal only when asked
// (opt.Self.Causal or a tgt mask), as in PyTorch. NewTorchDecoder
// initialises each layer independently (PyTorch deep-copies one layer
// num_layers times).
type TorchDecoder struct {
	Layers *Decoder      // "layers"
	Norm   *nn.LayerNorm // "norm"; nil without a final norm
	Config TorchDecoderConfig
}

// NewTorchDecoder builds the decoder described by c with PyTorch's
// initialisation, drawn from nn's global generator (see nn.ManualSeed).
func NewTorchDecoder(c TorchDecoderConfig) (*TorchDecoder, error) {
	cfg := c.Config()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%w (NewTorchDecoder)", err)
	}
	d := &TorchDecoder{Layers: &Decoder{Blocks: make([]*DecoderBlock, c.NumLayers)}, Config: c}
	bc := c.encoder().blockConfig()
	var err error
	for i := range d.Layers.Blocks {
		if d.Layers.Blocks[i], err = NewDecoderBlock(bc); err != nil {
			return nil, err
		}
	}
	if c.FinalNorm {
		if d.Norm, err = nn.NewLayerNorm(c.DModel, nn.LayerNormConfig{Eps: c.LayerNormEps}); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// Visit lists the layers as "layers" (children "0", "1", …) and the final
// norm as "norm", PyTorch's registration order.
func (d *TorchDecoder) Visit(_ func(string, *nn.Tensor), child func(string, nn.Module)) {
	child("layers", d.Layers)
	if d.Norm != nil {
		child("norm", d.Norm)
	}
}

// Describe returns TransformerDecoder (see Describe).
func (d *TorchDecoder) Describe() string { return "TransformerDecoder" }

// Forward is nn.TransformerDecoder.forward(tgt, memory) with no masks:
// ForwardWith with the zero options.
func (d *TorchDecoder) Forward(g *nn.Graph, tgt, memory *nn.Tensor) *nn.Tensor {
	return d.ForwardWith(g, tgt, memory, DecoderOptions{})
}

// ForwardWith is nn.TransformerDecoder.forward(tgt, memory, tgt_mask,
// memory_mask, tgt_key_padding_mask, memory_key_padding_mask, tgt_is_causal,
// memory_is_causal): tgt (batch, tgt_len, d_model) attends to itself and to
// memory (batch, src_len, d_model); it returns (batch, tgt_len, d_model).
// Every layer gets the same masks:
//
//	opt.Self.Mask / BoolMask            tgt_mask (float additive / bool, true = not allowed):
//	                                    (tgt_len, tgt_len) or (batch·nhead, tgt_len, tgt_len)
//	opt.Self.KeyPadding / …Float        tgt_key_padding_mask, (batch, tgt_len)
//	opt.Self.Causal                     tgt_is_causal (see below)
//	opt.Memory.Mask / BoolMask          memory_mask: (tgt_len, src_len) or (batch·nhead, tgt_len, src_len)
//	opt.Memory.KeyPadding / …Float      memory_key_padding_mask, (batch, src_len)
//	opt.Memory.Causal                   memory_is_causal (top-left aligned)
//
// PyTorch's tgt_is_causal is a hint that tgt_mask IS the causal mask; here
// Causal applies the causal mask itself and combines it with any Mask, which
// agrees whenever the hint is true (autoregressive decoding needs only
// opt.Self.Causal). A float and a bool form of one mask may both be given;
// they combine. A query row with every key masked gets zero attention
// (PyTorch gives NaN). NeedWeights is ignored. Mask lengths are checked by
// the attention, which panics naming them.
func (d *TorchDecoder) ForwardWith(g *nn.Graph, tgt, memory *nn.Tensor, opt DecoderOptions) *nn.Tensor {
	dm := d.Config.DModel
	if len(tgt.Shape) != 3 || len(memory.Shape) != 3 || tgt.Shape[2] != dm || memory.Shape[2] != dm ||
		tgt.Shape[0] != memory.Shape[0] {
		panic(fmt.Sprintf("transformer: TorchDecoder.Forward: tgt %v and memory %v, want (batch, tgt_len, %d) and (batch, src_len, %d)",
			tgt.Shape, memory.Shape, dm, dm))
	}
	self, cross := opt.Self, opt.Memory
	self.NeedWeights, cross.NeedWeights = false, false
	x := tgt
	for _, b := range d.Layers.Blocks {
		x = torchDecoderLayer(g, b, x, memory, self, cross)
	}
	if d.Norm != nil {
		x = d.Norm.Forward(g, x)
	}
	return x
}

// torchDecoderLayer is nn.TransformerDecoderLayer.forward:
//
//	post-norm: x = norm1(x + dropout1(self_attn(x, x, x)))
//	           x = norm2(x + dropout2(multihead_attn(x, mem, mem)))
//	           x = norm3(x + dropout3(linear2(dropout(act(linear1(x))))))
//	pre-norm:  x = x + dropout1(self_attn(norm1(x), …)), and so on.
func torchDecoderLayer(g *nn.Graph, b *DecoderBlock, x, mem *nn.Tensor, self, cross nn.AttentionOptions) *nn.Tensor {
	if b.NormFirst {
		h := b.Norm1.Forward(g, x)
		a, _ := b.SelfAttn.Forward(g, h, h, h, self)
		x = g.Add(x, b.Dropout1.Forward(g, a))
		a, _ = b.CrossAttn.Forward(g, b.Norm2.Forward(g, x), mem, mem, cross)
		x = g.Add(x, b.Dropout2.Forward(g, a))
		return g.Add(x, b.Dropout3.Forward(g, b.ff(g, b.Norm3.Forward(g, x))))
	}
	a, _ := b.SelfAttn.Forward(g, x, x, x, self)
	x = b.Norm1.Forward(g, g.Add(x, b.Dropout1.Forward(g, a)))
	a, _ = b.CrossAttn.Forward(g, x, mem, mem, cross)
	x = b.Norm2.Forward(g, g.Add(x, b.Dropout2.Forward(g, a)))
	return b.Norm3.Forward(g, g.Add(x, b.Dropout3.Forward(g, b.ff(g, x))))
}
