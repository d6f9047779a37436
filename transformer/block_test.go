package transformer

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/simdformer/simdformer/nn"
)

func randn(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

func TestBlockShapesAndKeys(t *testing.T) {
	nn.ManualSeed(1)
	b, err := TutorialBlock(16, 4, 32, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x := nn.NewTensor(randn(rng, 2*5*16), 2, 5, 16)
	y := b.ForwardWith(nn.NewGraph(), x, nn.AttentionOptions{})
	if got := y.Shape; len(got) != 3 || got[0] != 2 || got[1] != 5 || got[2] != 16 {
		t.Fatalf("output shape %v, want [2 5 16]", got)
	}
	var keys []string
	for _, nt := range nn.NamedParameters(b) {
		keys = append(keys, nt.Name)
	}
	want := "attn.in_proj_weight attn.in_proj_bias attn.out_proj.weight attn.out_proj.bias ff.0.weight ff.0.bias ff.3.weight ff.3.bias norm1.weight norm1.bias norm2.weight norm2.bias"
	if got := strings.Join(keys, " "); got != want {
		t.Errorf("tutorial keys:\n got %s\nwant %s", got, want)
	}
	b.Keys = EncoderLayerKeys
	keys = keys[:0]
	for _, nt := range nn.NamedParameters(b) {
		keys = append(keys, nt.Name)
	}
	want = "self_attn.in_proj_weight self_attn.in_proj_bias self_attn.out_proj.weight self_attn.out_proj.bias linear1.weight linear1.bias linear2.weight linear2.bias norm1.weight norm1.bias norm2.weight norm2.bias"
	if got := strings.Join(keys, " "); got != want {
		t.Errorf("encoder-layer keys:\n got %s\nwant %s", got, want)
	}
}

// TestBlockTrainEval: in eval mode the block is deterministic; in training
// mode dropout makes two calls differ; with every rate 0 train equals eval.
func TestBlockTrainEval(t *testing.T) {
	for _, normFirst := range []bool{false, true} {
		nn.ManualSeed(2)
		b, err := NewBlock(BlockConfig{EmbedDim: 8, NumHeads: 2, FFDim: 16, AttnDropout: 0.2, FFNDropout: 0.2,
			ResidDropout: 0.2, DropPath: 0.1, NormFirst: normFirst, Activation: GELU})
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(3, 4))
		x := nn.NewTensor(randn(rng, 3*4*8), 3, 4, 8)
		nn.Eval(b)
		e1 := b.Forward(nil, x).Data
		e2 := b.Forward(nil, x).Data
		if !equal(e1, e2) {
			t.Fatal("eval mode is not deterministic")
		}
		nn.Train(b)
		t1 := b.Forward(nil, x).Data
		t2 := b.Forward(nil, x).Data
		if equal(t1, t2) || equal(t1, e1) {
			t.Fatal("training mode did not drop anything")
		}
		for _, d := range []*nn.DropoutSite{&b.Attn.DropoutSite, &b.FFDropout.DropoutSite, &b.Dropout1.DropoutSite,
			&b.Dropout2.DropoutSite, &b.DropPath1.DropoutSite, &b.DropPath2.DropoutSite} {
			d.P = 0
		}
		if t3 := b.Forward(nil, x).Data; !equal(t3, e1) {
			t.Fatal("training mode with every rate 0 differs from eval mode")
		}
	}
}

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestBlockCausal: with Causal set, the output at position l does not
// depend on the input at positions > l.
func TestBlockCausal(t *testing.T) {
	nn.ManualSeed(3)
	b, err := NewBlock(BlockConfig{EmbedDim: 8, NumHeads: 2, FFDim: 16, Causal: true})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	x := randn(rng, 1*6*8)
	y1 := b.ForwardWith(nil, nn.NewTensor(x, 1, 6, 8), nn.AttentionOptions{}).Data
	x2 := append([]float32(nil), x...)
	for i := 4 * 8; i < len(x2); i++ { // change positions 4 and 5
		x2[i] += 1
	}
	y2 := b.ForwardWith(nil, nn.NewTensor(x2, 1, 6, 8), nn.AttentionOptions{}).Data
	if !equal(y1[:4*8], y2[:4*8]) {
		t.Fatal("a future position changed an earlier output")
	}
	if equal(y1[4*8:], y2[4*8:]) {
		t.Fatal("changing positions 4 and 5 changed nothing")
	}
}

func TestEncoderDropPathRates(t *testing.T) {
	e, err := NewEncoder(5, BlockConfig{EmbedDim: 8, NumHeads: 2, FFDim: 16, DropPath: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	if e.Blocks[0].DropPath1 != nil {
		t.Error("block 0 has a DropPath; its rate is 0")
	}
	for i, want := range []float32{0, 0.05, 0.1, 0.15, 0.2} {
		if i == 0 {
			continue
		}
		if got := e.Blocks[i].DropPath1.P; math.Abs(float64(got-want)) > 1e-7 {
			t.Errorf("block %d drop-path rate %g, want %g", i, got, want)
		}
	}
	if n := len(nn.NamedParameters(e)); n != 5*12 {
		t.Errorf("%d parameters, want 60", n)
	}
}

// TestForwardFirst: the first-position shortcut has the bits of the full
// stack's first position in eval mode, for post- and pre-norm, causal or not,
// and its gradients match the full path's.
func TestForwardFirst(t *testing.T) {
	for _, normFirst := range []bool{false, true} {
		for _, causal := range []bool{false, true} {
			nn.ManualSeed(8)
			e, err := NewEncoder(2, BlockConfig{EmbedDim: 16, NumHeads: 4, FFDim: 32, NormFirst: normFirst, Causal: causal,
				AttnDropout: 0.1, FFNDropout: 0.1, ResidDropout: 0.1, Activation: GELU})
			if err != nil {
				t.Fatal(err)
			}
			nn.Eval(e)
			rng := rand.New(rand.NewPCG(8, 9))
			x := nn.NewTensor(randn(rng, 3*7*16), 3, 7, 16)
			up := randn(rng, 3*16)

			g := nn.NewGraph()
			full := g.Select(e.Forward(g, x), 1, 0)
			g.BackwardWith(full, up)
			wantGrads := map[string][]float32{}
			for _, nt := range nn.NamedParameters(e) {
				wantGrads[nt.Name] = append([]float32(nil), nt.Tensor.Grad...)
			}
			want := append([]float32(nil), full.Data...)
			nn.ZeroGrad(e)

			g2 := nn.NewGraph()
			got := e.ForwardFirst(g2, x, nn.AttentionOptions{})
			if len(got.Shape) != 2 || got.Shape[0] != 3 || got.Shape[1] != 16 {
				t.Fatalf("shape %v, want [3 16]", got.Shape)
			}
			if !equal(got.Data, want) {
				t.Fatalf("normFirst=%v causal=%v: ForwardFirst differs from Forward's first position", normFirst, causal)
			}
			g2.BackwardWith(got, up)
			for _, nt := range nn.NamedParameters(e) {
				compare(t, nt.Name, nt.Tensor.Grad, wantGrads[nt.Name], 1e-5, true)
			}
		}
	}
}
