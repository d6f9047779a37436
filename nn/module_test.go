package nn_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/safetensors"
)

func keys(m nn.Module) string {
	var out []string
	for _, p := range nn.NamedParameters(m) {
		out = append(out, fmt.Sprintf("%s%v", p.Name, p.Tensor.Shape))
	}
	return strings.Join(out, " ")
}

// TestStateDictKeys: the named-parameter walk yields PyTorch's state_dict
// keys, in order.
func TestStateDictKeys(t *testing.T) {
	for _, tc := range []struct {
		m    nn.Module
		want string
	}{
		{nn.Must(nn.NewMultiheadAttention(nn.MHAConfig{EmbedDim: 8, NumHeads: 2})),
			"in_proj_weight[24 8] in_proj_bias[24] out_proj.weight[8 8] out_proj.bias[8]"},
		{nn.Must(nn.NewMultiheadAttention(nn.MHAConfig{EmbedDim: 8, NumHeads: 2, NoBias: true})),
			"in_proj_weight[24 8] out_proj.weight[8 8]"},
		{nn.Must(nn.NewMultiheadAttention(nn.MHAConfig{EmbedDim: 8, NumHeads: 2, KDim: 4, VDim: 6})),
			"q_proj_weight[8 8] k_proj_weight[8 4] v_proj_weight[8 6] in_proj_bias[24] out_proj.weight[8 8] out_proj.bias[8]"},
		{nn.NewSequential(nn.Must(nn.NewLinear(4, 8, true)), nn.ReLU{}, nn.Must(nn.NewDropout(0.1)), nn.Must(nn.NewLinear(8, 2, false))),
			"0.weight[8 4] 0.bias[8] 3.weight[2 8]"},
		{nn.Must(nn.NewLayerNorm(5, nn.LayerNormConfig{NoAffine: true})), ""},
		{nn.Must(nn.NewLayerNorm(5, nn.LayerNormConfig{NoBias: true})), "weight[5]"},
		{nn.Must(nn.NewEmbedding(10, 3, nn.EmbeddingConfig{})), "weight[10 3]"},
	} {
		if got := keys(tc.m); got != tc.want {
			t.Errorf("%T: keys %q, want %q", tc.m, got, tc.want)
		}
	}
}

func TestInit(t *testing.T) {
	nn.ManualSeed(3)
	lin := nn.Must(nn.NewLinear(16, 8, true))
	for _, v := range append(append([]float32{}, lin.Weight.Data...), lin.Bias.Data...) {
		if v < -0.25 || v > 0.25 {
			t.Fatalf("Linear init %v outside ±1/√16", v)
		}
	}
	ln := nn.Must(nn.NewLayerNorm(4, nn.LayerNormConfig{}))
	if ln.Weight.Data[0] != 1 || ln.Bias.Data[0] != 0 || ln.Eps != 1e-5 {
		t.Errorf("LayerNorm init: weight %v bias %v eps %v", ln.Weight.Data, ln.Bias.Data, ln.Eps)
	}
	e := nn.Must(nn.NewEmbedding(5, 4, nn.EmbeddingConfig{UsePadding: true, PaddingIdx: -1}))
	if e.PaddingIdx != 4 || countZeros(e.Weight.Data[16:]) != 4 || countZeros(e.Weight.Data[:16]) != 0 {
		t.Errorf("Embedding padding row: idx %d, weight %v", e.PaddingIdx, e.Weight.Data)
	}
	mha := nn.Must(nn.NewMultiheadAttention(nn.MHAConfig{EmbedDim: 8, NumHeads: 2}))
	if countZeros(mha.InProjBias.Data) != 24 || countZeros(mha.OutProj.Bias.Data) != 8 {
		t.Error("MultiheadAttention biases must start at zero")
	}
	nn.ManualSeed(3)
	if lin2 := nn.Must(nn.NewLinear(16, 8, true)); !equal(lin.Weight.Data, lin2.Weight.Data) {
		t.Error("ManualSeed does not reproduce the initialisation")
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	nn.ManualSeed(4)
	build := func() *nn.Sequential {
		return nn.NewSequential(nn.Must(nn.NewLinear(3, 4, true)), nn.GELU{}, nn.Must(nn.NewLayerNorm(4, nn.LayerNormConfig{})))
	}
	a, b := build(), build()
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := nn.SaveFile(path, a, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	if err := nn.LoadFile(path, b, true); err != nil {
		t.Fatal(err)
	}
	for i, p := range nn.Parameters(a) {
		if !equal(p.Data, nn.Parameters(b)[i].Data) {
			t.Fatalf("parameter %d differs after the round trip", i)
		}
	}
	var buf bytes.Buffer
	if err := nn.Save(&buf, a, nil); err != nil {
		t.Fatal(err)
	}
	ts, _, err := safetensors.Load(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	delete(ts, "2.bias")
	if err := nn.LoadStateDict(b, ts, true); err == nil || !strings.Contains(err.Error(), "missing keys [2.bias]") {
		t.Errorf("strict load with a missing key: %v", err)
	}
	if err := nn.LoadStateDict(b, ts, false); err != nil {
		t.Errorf("non-strict load: %v", err)
	}
	ts["0.weight"] = safetensors.Tensor{Shape: []int{3, 4}, F32: make([]float32, 12)}
	if err := nn.LoadStateDict(b, ts, false); err == nil || !strings.Contains(err.Error(), "0.weight") {
		t.Errorf("shape mismatch: %v", err)
	}
}

// TestShapePanics: misuse panics with the shapes in the message.
func TestShapePanics(t *testing.T) {
	lin := nn.Must(nn.NewLinear(3, 4, true))
	mha := nn.Must(nn.NewMultiheadAttention(nn.MHAConfig{EmbedDim: 8, NumHeads: 2}))
	for _, tc := range []struct {
		name, want string
		f          func()
	}{
		{"Linear", "x [2 5]", func() { lin.Forward(nil, nn.Zeros(2, 5)) }},
		{"Add", "[2 3] and [2]", func() { nn.NewGraph().Add(nn.Zeros(2, 3), nn.Zeros(2)) }},
		{"MatMul", "[2 3]", func() { nn.NewGraph().MatMul(nn.Zeros(2, 3), nn.Zeros(2, 3), nn.NoTrans) }},
		{"MHA", "query [2 3 7]", func() { x := nn.Zeros(2, 3, 7); mha.Forward(nil, x, x, x, nn.AttentionOptions{}) }},
		{"MHA mask", "Mask has 5 values", func() {
			x := nn.Zeros(2, 3, 8)
			mha.Forward(nil, x, x, x, nn.AttentionOptions{Mask: make([]float32, 5)})
		}},
		{"Reshape", "[4 4]", func() { nn.NewGraph().Reshape(nn.Zeros(3, 5), 4, 4) }},
		{"Backward", "one-element", func() {
			g := nn.NewGraph()
			p := nn.NewParam(3)
			g.Backward(g.Scale(p, 2))
		}},
	} {
		func() {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), tc.want) {
					t.Errorf("%s: panic %v, want one mentioning %q", tc.name, r, tc.want)
				}
			}()
			tc.f()
		}()
	}
}

// TestGradAccumulates: gradients add up over Backward calls until ZeroGrad,
// and an eval (NoGrad) pass records nothing.
func TestGradAccumulates(t *testing.T) {
	lin := nn.Must(nn.NewLinear(2, 1, false))
	x := nn.NewTensor([]float32{1, 2}, 1, 2)
	for i := 1; i <= 2; i++ {
		g := nn.NewGraph()
		g.Sum(lin.Forward(g, x)).Backward()
		if lin.Weight.Grad[1] != float32(2*i) {
			t.Fatalf("after %d backward passes grad = %v", i, lin.Weight.Grad)
		}
	}
	nn.ZeroGrad(lin)
	if lin.Weight.Grad[0] != 0 {
		t.Error("ZeroGrad left a gradient")
	}
	g0 := nn.NewGraph()
	g0.Sum(lin.Forward(g0, x)).Backward()
	g0.Release()
	g0.Sum(lin.Forward(g0, x)).Backward()
	nn.ZeroGrad(lin)
	if lin.Weight.Grad[0] != 0 {
		t.Error("ZeroGrad left a gradient")
	}
	g := nn.NewGraph()
	g.NoGrad = true
	y := g.Sum(lin.Forward(g, x))
	if y.RequiresGrad {
		t.Error("a NoGrad graph recorded an operation")
	}
	mustPanic(t, "Backward after NoGrad", func() { y.Backward() })
}

// TestZeroGradNoAlloc: ZeroGrad runs every training step, so it must not
// allocate (it used to build every parameter's dotted name).
func TestZeroGradNoAlloc(t *testing.T) {
	seq := nn.NewSequential(nn.Must(nn.NewLinear(8, 16, true)), &nn.ReLU{}, nn.Must(nn.NewLinear(16, 4, true)))
	for _, p := range nn.Parameters(seq) {
		p.Grad = make([]float32, len(p.Data))
		p.Grad[0] = 1
	}
	nn.ZeroGrad(seq)
	for _, p := range nn.Parameters(seq) {
		if p.Grad[0] != 0 {
			t.Fatal("ZeroGrad left a gradient")
		}
	}
	if a := testing.AllocsPerRun(10, func() { nn.ZeroGrad(seq) }); a != 0 {
		t.Errorf("ZeroGrad: %v allocations per call, want 0", a)
	}
}
