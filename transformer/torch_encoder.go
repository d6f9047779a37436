package transformer

import (
	"fmt"

	"github.com/simdformer/simdformer/nn"
)

// TorchEncoderConfig mirrors the constructor arguments of PyTorch's
//
//	nn.TransformerEncoder(
//	    nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout,
//	        activation, layer_norm_eps, batch_first=True, norm_first),
//	    num_layers, norm=nn.LayerNorm(d_model, eps=layer_norm_eps) or None)
//
// Inputs and outputs are always batch-first, (batch, seq, d_model).
type TorchEncoderConfig struct {
	DModel         int        // d_model
	NHead          int        // nhead; must divide DModel
	DimFeedforward int        // dim_feedforward; 0 means PyTorch's default 2048
	Dropout        float32    // dropout: one DROP probability for the attention weights, the feed-forward hidden layer and both residual branches
	Activation     Activation // activation: ReLU (PyTorch's default) or GELU (exact erf form); GELUTanh is F.gelu(approximate="tanh")
	LayerNormEps   float32    // layer_norm_eps of every LayerNorm, the final one included; 0 means 1e-5
	NormFirst      bool       // norm_first: pre-norm layers
	NumLayers      int        // num_layers
	FinalNorm      bool       // norm=nn.LayerNorm(d_model): a LayerNorm after the last layer
}

// DefaultDimFeedforward is nn.TransformerEncoderLayer's default
// dim_feedforward, used when TorchEncoderConfig.DimFeedforward is 0.
const DefaultDimFeedforward = 2048

func (c TorchEncoderConfig) ff() int {
	if c.DimFeedforward == 0 {
		return DefaultDimFeedforward
	}
	return c.DimFeedforward
}

// blockConfig is the configuration of each layer.
func (c TorchEncoderConfig) blockConfig() BlockConfig {
	return BlockConfig{EmbedDim: c.DModel, NumHeads: c.NHead, FFDim: c.ff(), Activation: c.Activation,
		AttnDropout: c.Dropout, FFNDropout: c.Dropout, ResidDropout: c.Dropout,
		LayerNormEps: c.LayerNormEps, NormFirst: c.NormFirst, Keys: EncoderLayerKeys}
}

// Config returns c as a Config, the form SaveTorchEncoder stores in a
// file's metadata (FinalNorm is not part of it: LoadTorchEncoder reads it
// from the presence of norm.weight).
func (c TorchEncoderConfig) Config() Config {
	cfg := Config{EmbedDim: c.DModel, NumHeads: c.NHead, FFDim: c.ff(), NumLayers: c.NumLayers,
		Activation: c.Activation.String(), LayerNormEps: c.LayerNormEps, NormFirst: c.NormFirst}
	cfg.SetDropout(c.Dropout)
	cfg.EmbedDropout = 0 // nn.TransformerEncoder has no embedding
	return cfg
}

// TorchEncoderConfigFrom converts a Config (for example one read with
// ReadConfig from PyTorch's d_model, nhead, dim_feedforward,
// dropout, activation, layer_norm_eps, norm_first and num_layers names) to
// a TorchEncoderConfig with the given final norm. PyTorch has a single
// dropout rate, so AttnDropout, FFNDropout and ResidDropout must be equal;
// causal layers, stochastic depth, embeddings and a head are rejected.
func TorchEncoderConfigFrom(c Config, finalNorm bool) (TorchEncoderConfig, error) {
	if err := c.Validate(); err != nil {
		return TorchEncoderConfig{}, err
	}
	act, err := parseActivation(c.Activation)
	if err != nil {
		return TorchEncoderConfig{}, err
	}
	switch {
	case c.AttnDropout != c.FFNDropout || c.AttnDropout != c.ResidDropout:
		return TorchEncoderConfig{}, fmt.Errorf("transformer: TorchEncoderConfigFrom: attn_dropout %g, ffn_dropout %g, resid_dropout %g: nn.TransformerEncoderLayer has one dropout rate",
			c.AttnDropout, c.FFNDropout, c.ResidDropout)
	case c.Causal || c.DropPath != 0 || c.VocabSize != 0 || c.MaxPositions != 0 || c.NumClasses != 0:
		return TorchEncoderConfig{}, fmt.Errorf("transformer: TorchEncoderConfigFrom: causal %v, drop_path_rate %g, vocab_size %d, max_positions %d, num_classes %d: nn.TransformerEncoder has none of these",
			c.Causal, c.DropPath, c.VocabSize, c.MaxPositions, c.NumClasses)
	}
	return TorchEncoderConfig{DModel: c.EmbedDim, NHead: c.NumHeads, DimFeedforward: c.FFDim, Dropout: c.AttnDropout,
		Activation: act, LayerNormEps: c.LayerNormEps, NormFirst: c.NormFirst, NumLayers: c.NumLayers, FinalNorm: finalNorm}, nil
}

// TorchEncoder is PyTorch's nn.TransformerEncoder of
// nn.TransformerEncoderLayer (batch_first=True), with its state_dict keys:
//
//	layers.{i}.self_attn.in_proj_weight, layers.{i}.self_attn.in_proj_bias,
//	layers.{i}.self_attn.out_proj.weight, layers.{i}.self_attn.out_proj.bias,
//	layers.{i}.linear1.weight, layers.{i}.linear1.bias,
//	layers.{i}.linear2.weight, layers.{i}.linear2.bias,
//	layers.{i}.norm1.weight, layers.{i}.norm1.bias,
//	layers.{i}.norm2.weight, layers.{i}.norm2.bias,
//	norm.weight, norm.bias (with FinalNorm)
//
// so nn.LoadFile reads a file written by
// safetensors.torch.save_file(model.state_dict(), path) and PyTorch's
// load_state_dict(strict=True) reads one written by Save.
//
// Each layer is a Block with EncoderLayerKeys. Unlike PyTorch, which
// deep-copies one layer num_layers times (every layer starts with the same
// weights), NewTorchEncoder initialises each layer independently.
type TorchEncoder struct {
	Layers *Encoder      // "layers"
	Norm   *nn.LayerNorm // "norm"; nil without a final norm
	Config TorchEncoderConfig
}

// NewTorchEncoder builds the encoder described by c with PyTorch's
// initialisation, drawn from nn's global generator (see nn.ManualSeed).
func NewTorchEncoder(c TorchEncoderConfig) (*TorchEncoder, error) {
	cfg := c.Config() // an unknown Activation becomes a name Validate rejects
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%w (NewTorchEncoder)", err)
	}
	layers, err := NewEncoder(c.NumLayers, c.blockConfig())
	if err != nil {
		return nil, err
	}
	e := &TorchEncoder{Layers: layers, Config: c}
	if c.FinalNorm {
		if e.Norm, err = nn.NewLayerNorm(c.DModel, nn.LayerNormConfig{Eps: c.LayerNormEps}); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Visit lists the layers as "layers" (children "0", "1", …) and the final
// norm as "norm", PyTorch's registration order.
func (e *TorchEncoder) Visit(_ func(string, *nn.Tensor), child func(string, nn.Module)) {
	child("layers", e.Layers)
	if e.Norm != nil {
		child("norm", e.Norm)
	}
}

// Forward is nn.TransformerEncoder.forward(src) with no masks: ForwardWith
// with the zero options. It makes a TorchEncoder an nn.Layer.
func (e *TorchEncoder) Forward(g *nn.Graph, x *nn.Tensor) *nn.Tensor {
	return e.ForwardWith(g, x, nn.AttentionOptions{})
}

// ForwardWith is nn.TransformerEncoder.forward(src, mask, src_key_padding_mask)
// on x (batch, seq, d_model): opt.Mask (additive float) or opt.BoolMask
// (true = not allowed) is mask, (seq, seq) or (batch·nhead, seq, seq);
// opt.KeyPadding (true = padding) or opt.KeyPaddingFloat is
// src_key_padding_mask, (batch, seq); opt.Causal masks the future without a
// mask tensor (PyTorch's is_causal with the causal mask). Every layer gets
// the same masks. NeedWeights is ignored.
//
// Padded positions still produce outputs, as in PyTorch's regular path.
// PyTorch's inference fast path (eval mode under torch.no_grad, post-norm,
// with a key-padding mask and no mask) returns something else there: zeros,
// or norm.bias with a final norm (the norm of a zero row); it agrees with
// this method at every other position.
func (e *TorchEncoder) ForwardWith(g *nn.Graph, x *nn.Tensor, opt nn.AttentionOptions) *nn.Tensor {
	if len(x.Shape) != 3 || x.Shape[2] != e.Config.DModel {
		panic(fmt.Sprintf("transformer: TorchEncoder.Forward: input shape %v, want (batch, seq, %d)", x.Shape, e.Config.DModel))
	}
	x = e.Layers.ForwardWith(g, x, opt)
	if e.Norm != nil {
		x = e.Norm.Forward(g, x)
	}
	return x
}
