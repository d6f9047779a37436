package transformer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simdformer/simdformer/nn"
)

// torchDecoderGoldens are the configurations of
// testdata/transformer/torch_decoder_*.safetensors (scripts/golden_torch_decoder.py).
var torchDecoderGoldens = map[string]TorchDecoderConfig{
	"torch_decoder_post_relu": {DModel: 16, NHead: 4, DimFeedforward: 32, Dropout: 0.1, Activation: ReLU, NumLayers: 2, FinalNorm: true},
	"torch_decoder_pre_gelu":  {DModel: 16, NHead: 4, DimFeedforward: 32, Dropout: 0.1, Activation: GELU, NormFirst: true, NumLayers: 2},
	"torch_decoder_masks3d":   {DModel: 16, NHead: 4, DimFeedforward: 32, Dropout: 0.1, Activation: GELU, NumLayers: 1, FinalNorm: true},
}

// decoderMasks reads the file's masks (bool or float, by dtype).
func decoderMasks(t *testing.T, gd *golden) DecoderOptions {
	var m DecoderOptions
	for _, k := range []struct {
		key string
		f   *[]float32
		b   *[]bool
	}{
		{"tgt_mask", &m.Self.Mask, &m.Self.BoolMask},
		{"memory_mask", &m.Memory.Mask, &m.Memory.BoolMask},
		{"tgt_key_padding_mask", &m.Self.KeyPaddingFloat, &m.Self.KeyPadding},
		{"memory_key_padding_mask", &m.Memory.KeyPaddingFloat, &m.Memory.KeyPadding},
	} {
		v, ok := gd.ts["input."+k.key]
		switch {
		case !ok:
		case v.DType == "BOOL":
			*k.b = gd.bools(t, "input."+k.key)
		default:
			*k.f = v.F32
		}
	}
	return m
}

// runDecoderGolden loads the file's parameters into d, runs forward with
// masks m and backward with the file's upstream, and compares output, input
// and parameter gradients; it returns the output.
func runDecoderGolden(t *testing.T, gd *golden, d *TorchDecoder, m DecoderOptions) []float32 {
	t.Helper()
	if err := nn.LoadStateDict(d, gd.params("param."), nn.Strict); err != nil {
		t.Fatal(err)
	}
	nn.Eval(d)
	nn.ZeroGrad(d)
	leaf := func(key string) *nn.Tensor {
		v := gd.get(t, key)
		x := nn.NewTensor(append([]float32(nil), v.F32...), v.Shape...)
		x.RequiresGrad = true
		return x
	}
	tgt, mem := leaf("input.tgt"), leaf("input.memory")
	g := nn.NewGraph()
	y := d.ForwardWith(g, tgt, mem, m)
	compare(t, "output.y", y.Data, gd.get(t, "output.y").F32, goldenOutTol, false)
	g.BackwardWith(y, gd.get(t, "upstream.y").F32)
	compare(t, "grad.input.tgt", tgt.Grad, gd.get(t, "grad.input.tgt").F32, goldenGradTol, true)
	compare(t, "grad.input.memory", mem.Grad, gd.get(t, "grad.input.memory").F32, goldenGradTol, true)
	checkParamGrads(t, gd, d)
	return append([]float32(nil), y.Data...)
}

// TestGoldenTorchDecoder: nn.TransformerDecoder in eval mode with every mask
// kind (float and bool tgt_mask and memory_mask, 2-D and per batch-and-head
// 3-D, both key-padding masks): output, tgt and memory gradients and every
// parameter gradient against PyTorch. The causal tgt_mask is then replaced by
// opt.Self.Causal (tgt_is_causal), which must give the same bits.
func TestGoldenTorchDecoder(t *testing.T) {
	for name, c := range torchDecoderGoldens {
		t.Run(name, func(t *testing.T) {
			gd := loadGolden(t, name+".safetensors")
			d := nn.Must(NewTorchDecoder(c))
			m := decoderMasks(t, gd)
			y := runDecoderGolden(t, gd, d, m)
			if name == "torch_decoder_masks3d" {
				return // its tgt_mask is causal plus noise
			}
			mc := m
			mc.Self.Mask, mc.Self.BoolMask, mc.Self.Causal = nil, nil, true
			yc := d.ForwardWith(nil, gd.tensorCopy(t, "input.tgt"), gd.tensorCopy(t, "input.memory"), mc)
			if i, ok := bitsEqual32(y, yc.Data); !ok {
				t.Errorf("Self.Causal differs from the causal tgt_mask at %d: %v vs %v", i, yc.Data[i], y[i])
			}
		})
	}
}

func (g *golden) tensorCopy(t *testing.T, key string) *nn.Tensor {
	v := g.get(t, key)
	return nn.NewTensor(append([]float32(nil), v.F32...), v.Shape...)
}

// TestTorchDecoderKeys: the named parameters are exactly PyTorch's
// state_dict keys, in order, with and without the final norm, and the
// golden files hold the same set.
func TestTorchDecoderKeys(t *testing.T) {
	attn := []string{"in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"}
	var layer []string
	for _, a := range []string{"self_attn", "multihead_attn"} {
		for _, k := range attn {
			layer = append(layer, a+"."+k)
		}
	}
	layer = append(layer, "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias",
		"norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias", "norm3.weight", "norm3.bias")
	for name, c := range torchDecoderGoldens {
		d := nn.Must(NewTorchDecoder(c))
		var want []string
		for i := range c.NumLayers {
			for _, k := range layer {
				want = append(want, fmt.Sprintf("layers.%d.%s", i, k))
			}
		}
		if c.FinalNorm {
			want = append(want, "norm.weight", "norm.bias")
		}
		var got []string
		for _, nt := range nn.NamedParameters(d) {
			got = append(got, nt.Name)
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: keys\n%v\nwant\n%v", name, got, want)
		}
		if n := len(loadGolden(t, name+".safetensors").params("param.")); n != len(want) {
			t.Errorf("%s: golden file has %d parameters, want %d", name, n, len(want))
		}
	}
	desc := Describe(nn.Must(NewTorchDecoder(torchDecoderGoldens["torch_decoder_post_relu"])))
	for _, s := range []string{"TransformerDecoder(\n  (layers): ", "(1): TransformerDecoderLayer(", "(multihead_attn): ", "(norm3): LayerNorm(", "\n  (norm): LayerNorm("} {
		if !strings.Contains(desc, s) {
			t.Errorf("Describe lacks %q:\n%s", s, desc)
		}
	}
}

// TestTorchDecoderGradTrain: finite-difference gradients in training mode
// with dropout 0, pre- and post-norm, through every mask kind at once
// (causal flag, float and bool masks, float and bool padding).
func TestTorchDecoderGradTrain(t *testing.T) {
	inf := float32(math.Inf(-1))
	const N, T, S = 2, 3, 4
	m := DecoderOptions{
		Self: nn.AttentionOptions{
			Mask:       []float32{0, 0.5, 0, -0.3, 0, 1, 0.2, 0, 0},
			Causal:     true,
			KeyPadding: []bool{false, false, false, false, false, true},
		},
		Memory: nn.AttentionOptions{
			Mask:            []float32{0, inf, 0.4, 0, -1, 0, 0, 0.3, 0, 0, inf, 0},
			BoolMask:        []bool{false, false, false, true, false, false, false, false, true, false, false, false},
			KeyPaddingFloat: []float32{0, 0, 0, -0.5, 0, 0.25, 0, 0},
			KeyPadding:      []bool{false, false, false, false, false, false, false, true},
		},
	}
	for _, nf := range []bool{false, true} {
		t.Run(fmt.Sprintf("norm_first=%v", nf), func(t *testing.T) {
			nn.ManualSeed(11)
			d := nn.Must(NewTorchDecoder(TorchDecoderConfig{DModel: 8, NHead: 2, DimFeedforward: 12, Activation: GELU,
				NormFirst: nf, NumLayers: 2, FinalNorm: true}))
			nn.Train(d)
			r := rand.New(rand.NewPCG(5, 6))
			for _, p := range nn.Parameters(d) { // move zero biases and unit norms off their init
				for i := range p.Data {
					p.Data[i] += 0.1 * float32(r.NormFloat64())
				}
			}
			tgt, mem := randLeaf(r, N, T, 8), randLeaf(r, N, S, 8)
			params := nn.NamedParameters(d)
			inputs := []*nn.Tensor{tgt, mem, params[0].Tensor, params[4].Tensor, params[len(params)-1].Tensor}
			decoderGradCheck(t, inputs, func(g *nn.Graph) *nn.Tensor { return d.ForwardWith(g, tgt, mem, m) })
		})
	}
}

func randLeaf(r *rand.Rand, shape ...int) *nn.Tensor {
	x := nn.Zeros(shape...)
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	x.RequiresGrad = true
	return x
}

// decoderGradCheck compares Backward's gradient of L = Σ f ⊙ u (u fixed,
// random) with central differences of L (accumulated in float64), for every
// element of every input.
func decoderGradCheck(t *testing.T, inputs []*nn.Tensor, f func(g *nn.Graph) *nn.Tensor) {
	t.Helper()
	const h = 1e-2
	for _, x := range inputs {
		x.Grad = make([]float32, len(x.Data))
	}
	g := nn.NewGraph()
	out := f(g)
	r := rand.New(rand.NewPCG(1, 2))
	up := make([]float32, len(out.Data))
	for i := range up {
		up[i] = float32(r.NormFloat64())
	}
	g.BackwardWith(out, up)
	loss := func() float64 {
		var s float64
		for i, v := range f(nil).Data {
			s += float64(v) * float64(up[i])
		}
		return s
	}
	for k, x := range inputs {
		num := make([]float64, len(x.Data))
		scale := 1.0
		for j := range x.Data {
			v := x.Data[j]
			x.Data[j] = v + h
			lp := loss()
			x.Data[j] = v - h
			lm := loss()
			x.Data[j] = v
			num[j] = (lp - lm) / (2 * h)
			scale = math.Max(scale, math.Abs(num[j]))
		}
		for j := range num {
			if e := math.Abs(float64(x.Grad[j])-num[j]) / scale; !(e <= 5e-3) {
				t.Fatalf("input %d (shape %v) element %d: backward %v, finite difference %v (error %.3g of %.3g)",
					k, x.Shape, j, x.Grad[j], num[j], e, scale)
			}
		}
	}
}

// TestTorchDecoderSaveLoad: Save then LoadTorchDecoder rebuilds the
// configuration and the outputs; a PyTorch state_dict (the golden file's
// parameters) loads strictly with Load.
func TestTorchDecoderSaveLoad(t *testing.T) {
	for _, final := range []bool{false, true} {
		nn.ManualSeed(9)
		c := TorchDecoderConfig{DModel: 8, NHead: 2, DimFeedforward: 16, Dropout: 0.2, Activation: GELUTanh,
			LayerNormEps: 1e-6, NormFirst: true, NumLayers: 2, FinalNorm: final}
		d := nn.Must(NewTorchDecoder(c))
		path := filepath.Join(t.TempDir(), "dec.safetensors")
		if err := SaveTorchDecoder(path, d); err != nil {
			t.Fatal(err)
		}
		d2, err := LoadTorchDecoder(path)
		if err != nil {
			t.Fatal(err)
		}
		if d2.Config != c {
			t.Errorf("config %+v, want %+v", d2.Config, c)
		}
		nn.Eval(d)
		nn.Eval(d2)
		r := rand.New(rand.NewPCG(3, 4))
		tgt, mem := randLeaf(r, 2, 3, 8), randLeaf(r, 2, 5, 8)
		m := DecoderOptions{Self: nn.AttentionOptions{Causal: true}}
		if i, ok := bitsEqual32(d.ForwardWith(nil, tgt, mem, m).Data, d2.ForwardWith(nil, tgt, mem, m).Data); !ok {
			t.Errorf("final norm %v: output differs at %d after Save/Load", final, i)
		}
	}
	gd := loadGolden(t, "torch_decoder_post_relu.safetensors")
	d := nn.Must(NewTorchDecoder(torchDecoderGoldens["torch_decoder_post_relu"]))
	if err := nn.LoadStateDict(d, gd.params("param."), nn.Strict); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "torch.safetensors")
	if err := nn.SaveFile(path, d, nil); err != nil { // no config metadata, as PyTorch writes
		t.Fatal(err)
	}
	if err := nn.LoadFile(path, nn.Must(NewTorchDecoder(torchDecoderGoldens["torch_decoder_post_relu"])), nn.Strict); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTorchDecoder(path); err == nil {
		t.Error("LoadTorchDecoder of a file without config metadata: no error")
	}
	// An encoder's file is not a decoder's.
	enc := nn.Must(NewTorchEncoder(TorchEncoderConfig{DModel: 8, NHead: 2, DimFeedforward: 16, NumLayers: 1}))
	encPath := filepath.Join(t.TempDir(), "enc.safetensors")
	if err := SaveTorchEncoder(encPath, enc); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTorchDecoder(encPath); err == nil || !strings.Contains(err.Error(), "use LoadTorchEncoder") {
		t.Errorf("LoadTorchDecoder of an encoder file: %v, want an error naming LoadTorchEncoder", err)
	}
}

func TestTorchDecoderErrors(t *testing.T) {
	ok := torchDecoderGoldens["torch_decoder_post_relu"]
	for name, mod := range map[string]func(*TorchDecoderConfig){
		"nhead":      func(c *TorchDecoderConfig) { c.NHead = 5 },
		"d_model":    func(c *TorchDecoderConfig) { c.DModel = 0 },
		"layers":     func(c *TorchDecoderConfig) { c.NumLayers = -1 },
		"dropout":    func(c *TorchDecoderConfig) { c.Dropout = 1.5 },
		"activation": func(c *TorchDecoderConfig) { c.Activation = 9 },
		"ff":         func(c *TorchDecoderConfig) { c.DimFeedforward = -3 },
	} {
		c := ok
		mod(&c)
		if _, err := NewTorchDecoder(c); err == nil {
			t.Errorf("%s: no error for %+v", name, c)
		}
	}
	if got, err := TorchDecoderConfigFrom(ok.Config(), true); err != nil || got != ok {
		t.Errorf("TorchDecoderConfigFrom(Config()) = %+v, %v; want %+v", got, err, ok)
	}
	d := nn.Must(NewTorchDecoder(ok))
	for _, c := range []struct {
		name string
		f    func()
		want string
	}{
		{"tgt", func() { d.ForwardWith(nil, nn.Zeros(2, 5, 8), nn.Zeros(2, 6, 16), DecoderOptions{}) }, "tgt [2 5 8] and memory [2 6 16]"},
		{"batch", func() { d.ForwardWith(nil, nn.Zeros(2, 5, 16), nn.Zeros(3, 6, 16), DecoderOptions{}) }, "tgt [2 5 16] and memory [3 6 16]"},
		{"memory_mask", func() {
			d.ForwardWith(nil, nn.Zeros(2, 5, 16), nn.Zeros(2, 6, 16), DecoderOptions{Memory: nn.AttentionOptions{Mask: make([]float32, 25)}})
		}, "Mask has 25 values"},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), c.want) {
					t.Errorf("%s: panic %v, want one containing %q", c.name, r, c.want)
				}
			}()
			c.f()
		}()
	}
}

// PyTorch's
//
//	nn.TransformerDecoder(nn.TransformerDecoderLayer(32, 4, 64, 0.1,
//	    batch_first=True), 2, norm=nn.LayerNorm(32))
//
// decoding 4 target positions causally over 6 memory positions, the second
// memory sequence padded after 4.
func ExampleNewTorchDecoder() {
	nn.ManualSeed(1)
	dec := nn.Must(NewTorchDecoder(TorchDecoderConfig{
		DModel: 32, NHead: 4, DimFeedforward: 64, Dropout: 0.1, NumLayers: 2, FinalNorm: true,
	}))
	nn.Eval(dec)
	tgt, memory := nn.Zeros(2, 4, 32), nn.Zeros(2, 6, 32)
	y := dec.ForwardWith(nil, tgt, memory, DecoderOptions{
		Self: nn.AttentionOptions{Causal: true}, // tgt_is_causal
		Memory: nn.AttentionOptions{KeyPadding: []bool{ // memory_key_padding_mask
			false, false, false, false, false, false,
			false, false, false, false, true, true,
		}},
	})
	params := nn.NamedParameters(dec)
	fmt.Println(y.Shape)
	fmt.Println(len(params), params[4].Name, params[len(params)-1].Name)
	// Output:
	// [2 4 32]
	// 38 layers.0.multihead_attn.in_proj_weight norm.bias
}
