package transformer

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simdformer/simdformer/nn"
)

// torchEncoderGolden is the configuration of testdata/transformer/torch_encoder.safetensors.
var torchEncoderGolden = TorchEncoderConfig{DModel: 32, NHead: 4, DimFeedforward: 64, Dropout: 0.1,
	Activation: GELU, LayerNormEps: 1e-5, NumLayers: 2, FinalNorm: true}

// TestGoldenTorchEncoder: nn.TransformerEncoder (2 GELU post-norm layers, a
// final LayerNorm) with a key-padding mask: output, input and parameter
// gradients against PyTorch, and PyTorch's no-grad fast path at the
// unpadded positions.
func TestGoldenTorchEncoder(t *testing.T) {
	gd := loadGolden(t, "torch_encoder.safetensors")
	e, err := NewTorchEncoder(torchEncoderGolden)
	if err != nil {
		t.Fatal(err)
	}
	kpm := gd.bools(t, "input.src_key_padding_mask")
	opt := nn.AttentionOptions{KeyPadding: kpm}
	checkModuleCase(t, gd, e, func(g *nn.Graph, x *nn.Tensor) *nn.Tensor { return e.ForwardWith(g, x, opt) })

	// PyTorch's inference fast path (nested tensors) pads the layers'
	// output with zeros before the final norm, so a padded position holds
	// LayerNorm(0) = norm.bias; every other position must agree.
	xin := gd.get(t, "input.x")
	y := e.ForwardWith(nil, nn.NewTensor(append([]float32(nil), xin.F32...), xin.Shape...), opt)
	want := gd.get(t, "output.y_nograd").F32
	bias := gd.get(t, "param.norm.bias").F32
	d := e.Config.DModel
	var got, ref []float32
	for p, pad := range kpm {
		row := want[p*d : (p+1)*d]
		if pad {
			compare(t, fmt.Sprintf("output.y_nograd (padded position %d) vs norm.bias", p), row, bias, 0, false)
			continue
		}
		got, ref = append(got, y.Data[p*d:(p+1)*d]...), append(ref, row...)
	}
	compare(t, "output.y_nograd (unpadded)", got, ref, goldenOutTol, false)
}

// TestTorchEncoderKeys: the named parameters are exactly PyTorch's
// state_dict keys, in order, with and without the final norm.
func TestTorchEncoderKeys(t *testing.T) {
	layer := []string{"self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
		"self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias",
		"norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"}
	for _, final := range []bool{false, true} {
		c := torchEncoderGolden
		c.FinalNorm = final
		e := nn.Must(NewTorchEncoder(c))
		var want []string
		for i := range c.NumLayers {
			for _, k := range layer {
				want = append(want, fmt.Sprintf("layers.%d.%s", i, k))
			}
		}
		if final {
			want = append(want, "norm.weight", "norm.bias")
		}
		var got []string
		for _, nt := range nn.NamedParameters(e) {
			got = append(got, nt.Name)
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("final norm %v: keys\n%v\nwant\n%v", final, got, want)
		}
	}
	// The golden file's parameters are the same set (torch's strict load).
	gd := loadGolden(t, "torch_encoder.safetensors")
	if n, m := len(gd.params("param.")), len(nn.NamedParameters(nn.Must(NewTorchEncoder(torchEncoderGolden)))); n != m {
		t.Errorf("golden file has %d parameters, TorchEncoder %d", n, m)
	}
}

// TestTorchEncoderMatchesBlocks: the encoder is its layers followed by the
// final norm, with the masks passed to every layer (causal and padding).
func TestTorchEncoderMatchesBlocks(t *testing.T) {
	nn.ManualSeed(3)
	c := TorchEncoderConfig{DModel: 16, NHead: 2, DimFeedforward: 24, Activation: ReLU, NormFirst: true, NumLayers: 3, FinalNorm: true}
	e := nn.Must(NewTorchEncoder(c))
	nn.Eval(e)
	x := nn.NewTensor(make([]float32, 2*4*16), 2, 4, 16)
	for i := range x.Data {
		x.Data[i] = float32(i%13)/7 - 0.8
	}
	opt := nn.AttentionOptions{Causal: true, KeyPadding: []bool{false, false, false, false, false, false, true, true}}
	y := e.ForwardWith(nil, x, opt)
	h := x
	for _, b := range e.Layers.Blocks {
		if !b.NormFirst || b.Keys != EncoderLayerKeys || b.Norm1.Eps != 1e-5 {
			t.Fatalf("layer config: norm_first %v keys %v eps %g", b.NormFirst, b.Keys, b.Norm1.Eps)
		}
		h = b.ForwardWith(nil, h, opt)
	}
	h = e.Norm.Forward(nil, h)
	if i, ok := bitsEqual32(y.Data, h.Data); !ok {
		t.Fatalf("element %d: %g, blocks + norm give %g", i, y.Data[i], h.Data[i])
	}
	if got := e.Layers.Blocks[0].Linear1.Weight.Shape; got[0] != 24 {
		t.Errorf("linear1 shape %v, want [24 16]", got)
	}
}

func bitsEqual32(a, b []float32) (int, bool) {
	if len(a) != len(b) {
		return 0, false
	}
	for i := range a {
		if a[i] != b[i] {
			return i, false
		}
	}
	return -1, true
}

// TestTorchEncoderSaveLoad: SaveTorchEncoder then LoadTorchEncoder rebuilds
// the same configuration (final norm included) and outputs; nn.LoadFile
// reads the golden file's parameters (PyTorch's keys) strictly.
func TestTorchEncoderSaveLoad(t *testing.T) {
	for _, final := range []bool{false, true} {
		nn.ManualSeed(7)
		c := TorchEncoderConfig{DModel: 8, NHead: 2, DimFeedforward: 16, Dropout: 0.2, Activation: GELUTanh,
			LayerNormEps: 1e-6, NormFirst: true, NumLayers: 2, FinalNorm: final}
		e := nn.Must(NewTorchEncoder(c))
		path := filepath.Join(t.TempDir(), "enc.safetensors")
		if err := SaveTorchEncoder(path, e); err != nil {
			t.Fatal(err)
		}
		e2, err := LoadTorchEncoder(path)
		if err != nil {
			t.Fatal(err)
		}
		if e2.Config != c {
			t.Errorf("config %+v, want %+v", e2.Config, c)
		}
		nn.Eval(e)
		nn.Eval(e2)
		x := nn.NewTensor(make([]float32, 3*5*8), 3, 5, 8)
		for i := range x.Data {
			x.Data[i] = float32(i%11)/5 - 1
		}
		if i, ok := bitsEqual32(e.Forward(nil, x).Data, e2.Forward(nil, x).Data); !ok {
			t.Errorf("final norm %v: output differs at %d after Save/Load", final, i)
		}
	}

	// A PyTorch-style state_dict (the golden file's param.* renamed) loads with nn.LoadFile.
	gd := loadGolden(t, "torch_encoder.safetensors")
	e := nn.Must(NewTorchEncoder(torchEncoderGolden))
	if err := nn.LoadStateDict(e, gd.params("param."), nn.Strict); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "torch.safetensors")
	if err := nn.SaveFile(path, e, nil); err != nil { // no config metadata, as PyTorch writes
		t.Fatal(err)
	}
	e2 := nn.Must(NewTorchEncoder(torchEncoderGolden))
	if err := nn.LoadFile(path, e2, nn.Strict); err != nil {
		t.Fatal(err)
	}
	if w := e2.Norm.Weight.Data[0]; w != gd.get(t, "param.norm.weight").F32[0] {
		t.Errorf("norm.weight[0] = %g after Load", w)
	}
	if _, err := LoadTorchEncoder(path); err == nil {
		t.Error("LoadTorchEncoder of a file without config metadata: no error")
	}
	// Without the final norm, the file's norm.* keys are unexpected (strict).
	c := torchEncoderGolden
	c.FinalNorm = false
	if err := nn.LoadFile(path, nn.Must(NewTorchEncoder(c)), nn.Strict); err == nil {
		t.Error("strict Load of norm.* into an encoder without final norm: no error")
	}
}

func TestTorchEncoderConfigErrors(t *testing.T) {
	ok := torchEncoderGolden
	for name, mod := range map[string]func(*TorchEncoderConfig){
		"nhead":      func(c *TorchEncoderConfig) { c.NHead = 5 },
		"d_model":    func(c *TorchEncoderConfig) { c.DModel = 0 },
		"layers":     func(c *TorchEncoderConfig) { c.NumLayers = -1 },
		"dropout":    func(c *TorchEncoderConfig) { c.Dropout = 1.5 },
		"activation": func(c *TorchEncoderConfig) { c.Activation = 9 },
		"ff":         func(c *TorchEncoderConfig) { c.DimFeedforward = -3 },
	} {
		c := ok
		mod(&c)
		if _, err := NewTorchEncoder(c); err == nil {
			t.Errorf("%s: no error for %+v", name, c)
		}
	}
	c := ok
	c.DimFeedforward = 0
	if e := nn.Must(NewTorchEncoder(c)); e.Layers.Blocks[0].Linear1.Weight.Shape[0] != DefaultDimFeedforward {
		t.Errorf("dim_feedforward 0: linear1 out %d, want %d", e.Layers.Blocks[0].Linear1.Weight.Shape[0], DefaultDimFeedforward)
	}
	cfg := ok.Config()
	cfg.FFNDropout = 0
	if _, err := TorchEncoderConfigFrom(cfg, true); err == nil {
		t.Error("TorchEncoderConfigFrom with unequal dropout rates: no error")
	}
	if got, err := TorchEncoderConfigFrom(ok.Config(), true); err != nil || got != ok {
		t.Errorf("TorchEncoderConfigFrom(Config()) = %+v, %v; want %+v", got, err, ok)
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "[2 5 16]") {
				t.Errorf("wrong-shape input: panic %v, want one naming the shape", r)
			}
		}()
		nn.Must(NewTorchEncoder(ok)).ForwardWith(nil, nn.Zeros(2, 5, 16), nn.AttentionOptions{})
	}()
}

// PyTorch's
//
//	nn.TransformerEncoder(nn.TransformerEncoderLayer(64, 4, 128, 0.1, "gelu",
//	    batch_first=True), 2, norm=nn.LayerNorm(64))
//
// on a padded batch: the second sequence has 2 padding tokens at the end.
// The parameters have PyTorch's state_dict keys, so Load reads
// safetensors.torch.save_file(model.state_dict(), path).
func ExampleNewTorchEncoder() {
	nn.ManualSeed(1)
	enc := nn.Must(NewTorchEncoder(TorchEncoderConfig{
		DModel: 64, NHead: 4, DimFeedforward: 128, Dropout: 0.1, Activation: GELU,
		NumLayers: 2, FinalNorm: true,
	}))
	nn.Eval(enc)
	x := nn.Zeros(2, 6, 64)
	padding := []bool{
		false, false, false, false, false, false,
		false, false, false, false, true, true,
	}
	y := enc.ForwardWith(nil, x, nn.AttentionOptions{KeyPadding: padding})
	params := nn.NamedParameters(enc)
	fmt.Println(y.Shape)
	fmt.Println(len(params), params[0].Name, params[len(params)-1].Name)
	// Output:
	// [2 6 64]
	// 26 layers.0.self_attn.in_proj_weight norm.bias
}
