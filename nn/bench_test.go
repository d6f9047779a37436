package nn_test

import (
	"math/rand/v2"
	"testing"

	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/optim"
)

// tinyModel is a one-block transformer classifier: embedding, pre-norm
// causal self-attention with dropout, a GELU MLP with dropout, mean pooling
// and a linear head.
type tinyModel struct {
	Emb       *nn.Embedding
	Norm1     *nn.LayerNorm
	Attn      *nn.MultiheadAttention
	Drop1     *nn.Dropout
	Norm2     *nn.LayerNorm
	FF1, FF2  *nn.Linear
	DropFF    *nn.Dropout
	Head      *nn.Linear
	N, L, Dim int
}

func newTinyModel(vocab, dim, heads, classes, n, l int, p float32) *tinyModel {
	return &tinyModel{
		Emb:    nn.Must(nn.NewEmbedding(vocab, dim, nn.EmbeddingConfig{})),
		Norm1:  nn.Must(nn.NewLayerNorm(dim, nn.LayerNormConfig{})),
		Attn:   nn.Must(nn.NewMultiheadAttention(nn.MHAConfig{EmbedDim: dim, NumHeads: heads, Dropout: p})),
		Drop1:  nn.Must(nn.NewDropout(p)),
		Norm2:  nn.Must(nn.NewLayerNorm(dim, nn.LayerNormConfig{})),
		FF1:    nn.Must(nn.NewLinear(dim, 4*dim, true)),
		FF2:    nn.Must(nn.NewLinear(4*dim, dim, true)),
		DropFF: nn.Must(nn.NewDropout(p)),
		Head:   nn.Must(nn.NewLinear(dim, classes, true)),
		N:      n, L: l, Dim: dim,
	}
}

func (m *tinyModel) Visit(param func(string, *nn.Tensor), child func(string, nn.Module)) {
	child("emb", m.Emb)
	child("norm1", m.Norm1)
	child("attn", m.Attn)
	child("drop1", m.Drop1)
	child("norm2", m.Norm2)
	child("ff1", m.FF1)
	child("drop_ff", m.DropFF)
	child("ff2", m.FF2)
	child("head", m.Head)
}

func (m *tinyModel) Forward(g *nn.Graph, ids []int) *nn.Tensor {
	x := m.Emb.Forward(g, ids, m.N, m.L)
	h := m.Norm1.Forward(g, x)
	a, _ := m.Attn.Forward(g, h, h, h, nn.AttentionOptions{Causal: true})
	x = g.Add(x, m.Drop1.Forward(g, a))
	h = m.FF2.Forward(g, m.DropFF.Forward(g, g.GELU(m.FF1.Forward(g, m.Norm2.Forward(g, x)))))
	x = g.Add(x, h)
	return m.Head.Forward(g, g.MeanAxis(x, 1))
}

// BenchmarkTrainStep measures one AdamW training step (forward, backward,
// clip, step) of tinyModel after warm-up: allocs/op and B/op show that a
// step reuses the graph's buffers.
func BenchmarkTrainStep(b *testing.B) {
	nn.ManualSeed(1)
	const vocab, dim, heads, classes, N, L = 17, 64, 4, 10, 8, 32
	m := newTinyModel(vocab, dim, heads, classes, N, L, 0.1)
	opt := nn.Must(optim.NewAdamW(nn.Parameters(m), 1e-3))
	r := rand.New(rand.NewPCG(1, 1))
	ids := make([]int, N*L)
	for i := range ids {
		ids[i] = r.IntN(vocab)
	}
	labels := make([]int, N)
	for i := range labels {
		labels[i] = r.IntN(classes)
	}
	ce := nn.NewCrossEntropyLoss()
	g := nn.NewGraph()
	step := func() {
		g.Reset()
		loss := ce.Forward(g, m.Forward(g, ids), labels)
		opt.ZeroGrad()
		loss.Backward()
		optim.ClipGradNorm(opt.Params, 1)
		opt.Step()
	}
	step()
	step()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		step()
	}
}

// TestTrainStepAllocs asserts what the benchmark reports: after warm-up a
// training step allocates no tensor storage (a few bytes of bookkeeping in
// the kernels' goroutine hand-off are tolerated).
func TestTrainStepAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	nn.ManualSeed(1)
	m := newTinyModel(11, 16, 2, 3, 2, 6, 0.1)
	opt := nn.Must(optim.NewAdamW(nn.Parameters(m), 1e-3))
	ids := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1}
	labels := []int{0, 2}
	ce := nn.NewCrossEntropyLoss()
	g := nn.NewGraph()
	step := func() {
		g.Reset()
		loss := ce.Forward(g, m.Forward(g, ids), labels)
		opt.ZeroGrad()
		loss.Backward()
		opt.Step()
	}
	step()
	if a := testing.AllocsPerRun(20, step); a > 0 {
		t.Errorf("a warm training step made %v allocations, want 0", a)
	}
	// The same with graph-local gradients added into the parameters.
	g.LocalGrads = true
	local := func() {
		g.Reset()
		loss := ce.Forward(g, m.Forward(g, ids), labels)
		opt.ZeroGrad()
		loss.Backward()
		g.AccumulateGrads()
		opt.Step()
	}
	local()
	if a := testing.AllocsPerRun(20, local); a > 0 {
		t.Errorf("a warm LocalGrads training step made %v allocations, want 0", a)
	}
}

// encoderBlock is the tutorial's post-norm encoder block built from nn
// layers: x = LN1(x + Drop(MHA(x))); x = LN2(x + Drop(FF2(Drop(ReLU(FF1(x)))))).
type encoderBlock struct {
	Attn               *nn.MultiheadAttention
	FF1, FF2           *nn.Linear
	Norm1, Norm2       *nn.LayerNorm
	Drop, Drop1, Drop2 *nn.Dropout
}

func newEncoderBlock(d, heads, ff int, p float32) *encoderBlock {
	return &encoderBlock{
		Attn: nn.Must(nn.NewMultiheadAttention(nn.MHAConfig{EmbedDim: d, NumHeads: heads, Dropout: p})),
		FF1:  nn.Must(nn.NewLinear(d, ff, true)), FF2: nn.Must(nn.NewLinear(ff, d, true)),
		Norm1: nn.Must(nn.NewLayerNorm(d, nn.LayerNormConfig{})), Norm2: nn.Must(nn.NewLayerNorm(d, nn.LayerNormConfig{})),
		Drop: nn.Must(nn.NewDropout(p)), Drop1: nn.Must(nn.NewDropout(p)), Drop2: nn.Must(nn.NewDropout(p)),
	}
}

func (b *encoderBlock) Visit(param func(string, *nn.Tensor), child func(string, nn.Module)) {
	child("self_attn", b.Attn)
	child("linear1", b.FF1)
	child("dropout", b.Drop)
	child("linear2", b.FF2)
	child("norm1", b.Norm1)
	child("norm2", b.Norm2)
	child("dropout1", b.Drop1)
	child("dropout2", b.Drop2)
}

func (b *encoderBlock) Forward(g *nn.Graph, x *nn.Tensor) *nn.Tensor {
	a, _ := b.Attn.Forward(g, x, x, x, nn.AttentionOptions{})
	x = b.Norm1.Forward(g, g.Add(x, b.Drop1.Forward(g, a)))
	h := b.FF2.Forward(g, b.Drop.Forward(g, g.ReLU(b.FF1.Forward(g, x))))
	return b.Norm2.Forward(g, g.Add(x, b.Drop2.Forward(g, h)))
}

// BenchmarkEncoderBlock is the reference "block 4×10×512, 8 heads, ff 2048"
// in train mode (p = 0.1): forward, and forward + backward of sum(y·u).
// Compare with PyTorch at -cpu 1 (one thread).
func BenchmarkEncoderBlock(b *testing.B) {
	nn.ManualSeed(1)
	const N, L, D, H, FF = 4, 10, 512, 8, 2048
	blk := newEncoderBlock(D, H, FF, 0.1)
	x := randTensor(newRand(1), 1, N, L, D)
	x.RequiresGrad = false
	up := randTensor(newRand(2), 1, N, L, D).Data
	g := nn.NewGraph()
	b.Run("forward", func(b *testing.B) {
		g.NoGrad = true
		for b.Loop() {
			g.Reset()
			blk.Forward(g, x)
		}
	})
	b.Run("forward+backward", func(b *testing.B) {
		g.NoGrad = false
		for b.Loop() {
			g.Reset()
			g.BackwardWith(blk.Forward(g, x), up)
		}
	})
}
