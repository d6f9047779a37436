package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/simdformer/simdformer/kernels"
	"github.com/simdformer/simdformer/nn"
)

// The fused attention path (kernels.Attention / AttentionBackward behind
// Graph.Attention and MultiheadAttention.Forward) against finite
// differences and against the materialising path.

// TestGradFusedAttentionTiles: finite-difference gradients of the fused
// path on shapes that cross the kernels' tiles (128 queries × 256 keys),
// with dropout, a causal mask with offset and key padding, and with a
// float mask, a boolean mask and fully masked rows. -short and the purego
// backend keep one query tile.
func TestGradFusedAttentionTiles(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	L, S, H, d := 130, 260, 1, 1
	if slowAttention() { // one query tile
		L = 9
	}
	N := 1
	q, k, v := randTensor(r, 1, N, L, H*d), randTensor(r, 1, N, S, H*d), randTensor(r, 1, N, S, H*d)
	pad := make([]bool, N*S)
	for s := range pad {
		pad[s] = s%5 == 3 || s > S-3
	}
	mask := make([]float32, N*H*L*S)
	bmask := make([]bool, L*S)
	for i := range mask {
		mask[i] = float32(r.NormFloat64())
		if i%11 == 0 {
			mask[i] = float32(math.Inf(-1))
		}
	}
	for i := range bmask {
		bmask[i] = i%7 == 0 || i/S == 5 // row 5 is fully masked
	}
	for _, tc := range []struct {
		name string
		opt  nn.AttentionOptions
		p    float32
	}{
		{"causal-offset-padding-dropout", nn.AttentionOptions{Causal: true, CausalOffset: 250, KeyPadding: pad}, 0.3},
		{"perhead-mask-boolmask", nn.AttentionOptions{Mask: mask, BoolMask: bmask}, 0.2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gradCheck(t, []*nn.Tensor{q, k, v}, func(g *nn.Graph) *nn.Tensor {
				ctx, _ := g.Attention(q, k, v, H, tc.opt, nn.Drop{P: tc.p, Seed: 9})
				return ctx
			})
		})
	}
}

// slowAttention reports a run that keeps attention tests small: -short
// (the race detector, qemu) or the pure-Go backend.
func slowAttention() bool { return testing.Short() || kernels.Backend() == "purego" }

// attnRun is one forward + backward of Graph.Attention with upstream
// gradient up: the context and the gradients of q, k, v.
func attnRun(q, k, v *nn.Tensor, H int, opt nn.AttentionOptions, d nn.Drop, up []float32, materialise bool) (ctx, dq, dk, dv []float32) {
	nn.MaterialiseAttention(materialise)
	defer nn.MaterialiseAttention(false)
	for _, x := range []*nn.Tensor{q, k, v} {
		x.Grad = nil
	}
	g := nn.NewGraph()
	out, _ := g.Attention(q, k, v, H, opt, d)
	g.BackwardWith(out, up)
	grad := func(x *nn.Tensor) []float32 {
		if x.Grad == nil {
			return make([]float32, len(x.Data))
		}
		return append([]float32(nil), x.Grad...)
	}
	return append([]float32(nil), out.Data...), grad(q), grad(k), grad(v)
}

// closeSlices reports the first element where a and b differ by more than
// tol relative to the larger of 1 and max|b|, or NaN.
func closeSlices(a, b []float32, tol float64) error {
	scale := 1.0
	for _, x := range b {
		scale = math.Max(scale, math.Abs(float64(x)))
	}
	for i := range a {
		if e := math.Abs(float64(a[i])-float64(b[i])) / scale; !(e <= tol) {
			return fmt.Errorf("element %d: %v vs %v (error %.3g relative to %.3g)", i, a[i], b[i], e, scale)
		}
	}
	return nil
}

// TestFusedAttentionMatchesMaterialising: for every mask kind the fused
// path and the materialising one give the same context and gradients to
// float32 rounding, never NaN, zero for fully masked rows.
func TestFusedAttentionMatchesMaterialising(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	N, L, S, H, d := 2, 150, 300, 3, 8
	if testing.Short() {
		L, S = 40, 270
	}
	ninf := float32(math.Inf(-1))
	q, k, v := randTensor(r, 1, N, L, H*d), randTensor(r, 1, N, S, H*d), randTensor(r, 1, N, S, H*d)
	up := randTensor(r, 1, N, L, H*d).Data
	pad, padf := make([]bool, N*S), make([]float32, N*S)
	for i := range pad {
		pad[i] = i%4 == 1
		if i%3 == 0 {
			padf[i] = ninf
		} else {
			padf[i] = float32(r.NormFloat64())
		}
	}
	mask, maskH := make([]float32, L*S), make([]float32, N*H*L*S)
	for i := range mask {
		mask[i] = float32(r.NormFloat64())
	}
	for i := range maskH {
		maskH[i] = float32(r.NormFloat64())
		if i%5 == 0 {
			maskH[i] = ninf
		}
	}
	bmask, bmaskH := make([]bool, L*S), make([]bool, N*H*L*S)
	for i := range bmask {
		bmask[i] = i%3 == 0 || i/S == 7 // row 7 fully masked
	}
	for i := range bmaskH {
		bmaskH[i] = i%6 == 0
	}
	allPad := make([]bool, N*S)
	for s := 0; s < S; s++ {
		allPad[s] = true // batch 0: every key padded
	}
	cases := []struct {
		name string
		opt  nn.AttentionOptions
	}{
		{"none", nn.AttentionOptions{}},
		{"causal", nn.AttentionOptions{Causal: true}},
		{"causal-offset", nn.AttentionOptions{Causal: true, CausalOffset: 130}},
		{"causal-negative-offset", nn.AttentionOptions{Causal: true, CausalOffset: -3}}, // rows 0..2 fully masked
		{"keypadding", nn.AttentionOptions{KeyPadding: pad}},
		{"keypadding-float", nn.AttentionOptions{KeyPaddingFloat: padf}},
		{"mask", nn.AttentionOptions{Mask: mask, Scale: 0.3}},
		{"mask-perhead-keypadding-float", nn.AttentionOptions{Mask: maskH, KeyPaddingFloat: padf}},
		{"boolmask-keypadding", nn.AttentionOptions{BoolMask: bmask, KeyPadding: pad}},
		{"boolmask-perhead-causal", nn.AttentionOptions{BoolMask: bmaskH, Causal: true}},
		{"all-masked-batch", nn.AttentionOptions{KeyPadding: allPad, Causal: true}},
	}
	for _, tc := range cases {
		for _, p := range []float32{0, 0.25} {
			t.Run(fmt.Sprintf("%s/p=%v", tc.name, p), func(t *testing.T) {
				drop := nn.Drop{P: p, Seed: 77}
				fc, fq, fk, fv := attnRun(q, k, v, H, tc.opt, drop, up, false)
				mc, mq, mk, mv := attnRun(q, k, v, H, tc.opt, drop, up, true)
				for i, pair := range [][2][]float32{{fc, mc}, {fq, mq}, {fk, mk}, {fv, mv}} {
					if err := closeSlices(pair[0], pair[1], 2e-5); err != nil {
						t.Fatalf("%s: fused vs materialising: %v", []string{"context", "dq", "dk", "dv"}[i], err)
					}
				}
				if tc.name == "all-masked-batch" {
					for i, x := range fc[:L*H*d] {
						if x != 0 {
							t.Fatalf("fully masked batch: context[%d] = %v, want 0", i, x)
						}
					}
					for i, x := range fq[:L*H*d] {
						if x != 0 {
							t.Fatalf("fully masked batch: dq[%d] = %v, want 0", i, x)
						}
					}
				}
			})
		}
	}
}

// TestFusedAttentionDropsSameElements: with V the identity (S = dv), the
// fused context is the dropped-out probabilities themselves, which the
// materialising path returns as per-head weights: both paths drop exactly
// the same elements and the kept values agree to rounding.
func TestFusedAttentionDropsSameElements(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	N, L, S, H := 2, 140, 270, 2
	if testing.Short() {
		L = 20
	}
	q, k := randTensor(r, 1, N, L, H*4), randTensor(r, 1, N, S, H*4)
	v := nn.NewTensor(make([]float32, N*S*H*S), N, S, H*S)
	for n := 0; n < N; n++ {
		for s := 0; s < S; s++ {
			for h := 0; h < H; h++ {
				v.Data[(n*S+s)*H*S+h*S+s] = 1
			}
		}
	}
	opt := nn.AttentionOptions{Causal: true, CausalOffset: 200, Scale: 0.5}
	drop := nn.Drop{P: 0.4, Seed: 1234}
	ctx, _ := nn.NewGraph().Attention(q, k, v, H, opt, drop)
	opt.NeedWeights, opt.PerHeadWeights = true, true
	_, w := nn.NewGraph().Attention(q, k, v, H, opt, drop)
	dropped, kept := 0, 0
	for n := 0; n < N; n++ {
		for h := 0; h < H; h++ {
			for l := 0; l < L; l++ {
				for s := 0; s < S; s++ {
					got := ctx.Data[(n*L+l)*H*S+h*S+s]
					want := w.Data[((n*H+h)*L+l)*S+s]
					if (got == 0) != (want == 0) {
						t.Fatalf("(n %d, h %d, l %d, s %d): fused %v, materialising %v: different elements dropped", n, h, l, s, got, want)
					}
					if want == 0 {
						if s <= l+opt.CausalOffset {
							dropped++
						}
						continue
					}
					kept++
					if e := math.Abs(float64(got-want)) / float64(want); e > 1e-5 {
						t.Fatalf("(n %d, h %d, l %d, s %d): fused %v, materialising %v", n, h, l, s, got, want)
					}
				}
			}
		}
	}
	if frac := float64(dropped) / float64(dropped+kept); math.Abs(frac-0.4) > 0.02 {
		t.Fatalf("dropped %.3f of the visible probabilities, want about 0.4", frac)
	}
}

// TestFusedAttentionMemory: a training step of MultiheadAttention holds no
// L×S probabilities: the buffers a fresh graph takes for a forward +
// backward at L = S = 1024 (512 with -short or purego) stay under a quarter of
// N·H·L·S floats plus the activations, while the materialising path needs
// more than all of them; and a warm step allocates nothing.
func TestFusedAttentionMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	N, L, E, H := 1, 1024, 32, 8
	if slowAttention() {
		L = 512
	}
	probs := uint64(N * H * L * L * 4)
	activations := uint64(40 * N * L * E * 4) // generous: ~10 (N, L, E)-sized and 3E-sized buffers and gradients
	nn.ManualSeed(3)
	m := nn.Must(nn.NewMultiheadAttention(nn.MHAConfig{EmbedDim: E, NumHeads: H, Dropout: 0.1}))
	nn.Train(m)
	x := nn.NewTensor(make([]float32, N*L*E), N, L, E)
	for i := range x.Data {
		x.Data[i] = float32(i%13) / 13
	}
	opt := nn.AttentionOptions{Causal: true}
	step := func(g *nn.Graph) {
		g.Reset()
		out, _ := m.Forward(g, x, x, x, opt)
		g.Backward(g.Sum(out))
	}
	heap := func(materialise bool) uint64 {
		nn.MaterialiseAttention(materialise)
		defer nn.MaterialiseAttention(false)
		step(nn.NewGraph()) // warms the kernels' worker scratch and the parameters' Grad
		var a, b runtime.MemStats
		g := nn.NewGraph()
		runtime.ReadMemStats(&a)
		step(g)
		runtime.ReadMemStats(&b)
		runtime.KeepAlive(g)
		return b.TotalAlloc - a.TotalAlloc
	}
	fused, mat := heap(false), heap(true)
	t.Logf("L=%d, N·H·L·S·4 = %.1f MB: a fresh graph's step allocates %.2f MB fused, %.2f MB materialising",
		L, float64(probs)/1e6, float64(fused)/1e6, float64(mat)/1e6)
	if fused > probs/4+activations {
		t.Errorf("fused step allocated %d bytes, want at most %d (a quarter of the %d bytes of probabilities + %d of activations)",
			fused, probs/4+activations, probs, activations)
	}
	if mat < probs {
		t.Errorf("materialising step allocated %d bytes, less than the %d bytes of probabilities: the measure is broken", mat, probs)
	}
	g := nn.NewGraph()
	step(g)
	if a := testing.AllocsPerRun(3, func() { step(g) }); a > 0 {
		t.Errorf("a warm fused training step made %v allocations, want 0", a)
	}
}

// TestGradFusedAttentionSharedInputs: one tensor as query, key and value
// (and as query and key), whose gradients overlap, against finite
// differences and against the materialising path.
func TestGradFusedAttentionSharedInputs(t *testing.T) {
	r := rand.New(rand.NewPCG(61, 62))
	x, v := randTensor(r, 1, 2, 20, 6), randTensor(r, 1, 2, 20, 6)
	opt := nn.AttentionOptions{Causal: true}
	drop := nn.Drop{P: 0.2, Seed: 4}
	t.Run("xxx", func(t *testing.T) {
		gradCheck(t, []*nn.Tensor{x}, func(g *nn.Graph) *nn.Tensor {
			ctx, _ := g.Attention(x, x, x, 2, opt, drop)
			return ctx
		})
	})
	t.Run("xxv", func(t *testing.T) {
		gradCheck(t, []*nn.Tensor{x, v}, func(g *nn.Graph) *nn.Tensor {
			ctx, _ := g.Attention(x, x, v, 3, opt, drop)
			return ctx
		})
	})
	t.Run("vs-materialising", func(t *testing.T) {
		up := randTensor(r, 1, 2, 20, 6).Data
		grad := func(materialise bool) []float32 {
			nn.MaterialiseAttention(materialise)
			defer nn.MaterialiseAttention(false)
			x.Grad = nil
			g := nn.NewGraph()
			ctx, _ := g.Attention(x, x, x, 2, opt, drop)
			g.BackwardWith(ctx, up)
			return append([]float32(nil), x.Grad...)
		}
		if err := closeSlices(grad(false), grad(true), 2e-5); err != nil {
			t.Fatal(err)
		}
	})
}
