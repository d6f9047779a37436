package nn

import (
	"fmt"
	"math"

	"github.com/simdformer/simdformer/kernels"
)

// AttentionOptions are the masks and switches of attention: the one options
// type of Graph.Attention, MultiheadAttention.Forward and every transformer
// block, encoder, decoder and model that attends. The zero value is no mask,
// scale 1/√head_dim and no weights (PyTorch's need_weights=False).
//
// Masks are combined: a position is masked out when any of them masks it; a
// query row with every key masked gets all-zero probabilities, a zero
// context and zero gradient (never NaN). Shapes are flattened row-major;
// "L·S or N·H·L·S" means one (L, S) mask shared by every batch and head, or
// one per (batch, head) at index (n·H + h)·L·S + l·S + s.
type AttentionOptions struct {
	// Mask is PyTorch's float attn_mask, added to the scores (-Inf masks
	// out): L·S or N·H·L·S values.
	Mask []float32
	// BoolMask is PyTorch's boolean attn_mask: true masks out (the
	// opposite of SDPA's convention). L·S or N·H·L·S values.
	BoolMask []bool
	// KeyPadding is key_padding_mask (N·S): true ignores key s of batch n
	// (a padded position of variable-length input).
	KeyPadding []bool
	// KeyPaddingFloat (N·S) is the additive float form PyTorch also accepts.
	KeyPaddingFloat []float32
	// Causal masks key s for query l when s > l + CausalOffset (top-left
	// aligned, like SDPA's is_causal when L != S). It needs no Mask (unlike
	// PyTorch's is_causal hint) but combines with one.
	Causal       bool
	CausalOffset int
	// Scale multiplies the scores; 0 means 1/√head_dim.
	Scale float32
	// NeedWeights also returns the attention probabilities, averaged over
	// heads (N, L, S), or per head (N, H, L, S) with PerHeadWeights
	// (average_attn_weights=False). With dropout they are the dropped-out
	// probabilities, like PyTorch. They are not differentiable. A call
	// with NeedWeights materialises the probabilities (keeping N·H·L·S of
	// them for backward when recording); without it attention runs the
	// fused kernels in O(N·H·L) memory (package documentation, "Attention").
	NeedWeights, PerHeadWeights bool
}

// headView locates the heads of an (N, T, ·) operand: head h of batch n at
// row t starts at Data[(n·T + t)·ld + off + h·d].
type headView struct{ off, ld int }

// Attention is multi-head scaled dot-product attention on batch-first
// tensors: q (N, L, H·dk), k (N, S, H·dk), v (N, S, H·dv); it returns the
// context (N, L, H·dv) = dropout(softmax(scale·QKᵀ + masks))·V per head
// (heads are contiguous slices of the last dimension) and, with
// opt.NeedWeights, the probabilities. drop drops the probabilities (element
// index (n·H + h)·L·S + l·S + s under drop.Seed; the mask is regenerated in
// backward, never stored); the zero Drop drops nothing.
//
// Without NeedWeights (the usual case, and every transformer block) it runs
// the fused kernels kernels.Attention and kernels.AttentionBackward, for
// every mask combination: the scores are computed tile by tile with an
// online softmax, and a recorded call keeps only the context and 2·N·H·L
// softmax statistics, so training memory is O(N·H·L), not O(N·H·L·S). The
// work is split over batch × heads × query tiles on the kernels' worker
// pool, with results independent of the worker count. The backward reads
// ctx: do not modify it in place (e.g. with DropoutInPlace) while the
// graph records. With NeedWeights it materialises: per (batch, head)
// Gemm(Q·Kᵀ), the fused scaled-masked-softmax + dropout kernel and
// Gemm(P·V), keeping every head's probabilities for backward. The two paths
// drop the same elements and agree to float32 rounding (the fused one
// rescales partial sums across key tiles of 256), not bit for bit.
func (g *Graph) Attention(q, k, v *Tensor, heads int, opt AttentionOptions, drop Drop) (ctx, weights *Tensor) {
	if len(q.Shape) != 3 || len(k.Shape) != 3 || len(v.Shape) != 3 || heads <= 0 ||
		k.Shape[0] != q.Shape[0] || v.Shape[0] != q.Shape[0] || v.Shape[1] != k.Shape[1] ||
		k.Shape[2] != q.Shape[2] || q.Shape[2]%heads != 0 || v.Shape[2]%heads != 0 {
		panic(fmt.Sprintf("nn: Attention: q %v, k %v, v %v with %d heads: want (N, L, H·dk), (N, S, H·dk), (N, S, H·dv)", q.Shape, k.Shape, v.Shape, heads))
	}
	if err := checkP("Attention", drop.P); err != nil {
		panic(err.Error())
	}
	N, L, S := q.Shape[0], q.Shape[1], k.Shape[1]
	ctx, weights = g.attention(q, k, v, headView{0, q.Shape[2]}, headView{0, k.Shape[2]}, headView{0, v.Shape[2]},
		N, L, S, heads, q.Shape[2]/heads, v.Shape[2]/heads, opt, drop)
	if weights != nil && !opt.PerHeadWeights {
		weights = g.meanHeads(weights)
	}
	return ctx, weights
}

// attentionMaterialise forces the materialising path even without
// NeedWeights: a test and benchmark hook, never set by the library.
var attentionMaterialise bool

// attention computes per-head weights (N, H, L, S) when asked. Without
// opt.NeedWeights it runs the fused kernels (fusedAttention); with it, the
// materialising path below: per (batch, head) Gemm(Q·Kᵀ) → scaled masked
// softmax with dropout → Gemm(P·V), keeping the undropped probabilities of
// every head (N·H·L·S values) for backward when recording.
func (g *Graph) attention(q, k, v *Tensor, qv, kv, vv headView, N, L, S, H, dk, dv int, opt AttentionOptions, d Drop) (ctx, weights *Tensor) {
	LS := L * S
	checkMaskLen("Mask", len(opt.Mask), opt.Mask != nil, LS, N*H*LS, L, S, N, H)
	checkMaskLen("BoolMask", len(opt.BoolMask), opt.BoolMask != nil, LS, N*H*LS, L, S, N, H)
	checkMaskLen("KeyPadding", len(opt.KeyPadding), opt.KeyPadding != nil, N*S, N*S, L, S, N, H)
	checkMaskLen("KeyPaddingFloat", len(opt.KeyPaddingFloat), opt.KeyPaddingFloat != nil, N*S, N*S, L, S, N, H)
	scale := opt.Scale
	if scale == 0 {
		scale = float32(1 / math.Sqrt(float64(dk)))
	}
	if !opt.NeedWeights && !attentionMaterialise {
		return g.fusedAttention(q, k, v, qv, kv, vv, kernels.AttentionShape{N: N, H: H, L: L, S: S, DK: dk, DV: dv}, scale, opt, d), nil
	}
	Ev := H * dv
	ctx = g.newTensor(N, L, Ev)
	rec := g.recording(q, k, v)
	var probs []float32 // undropped probabilities: all heads when kept for backward
	if rec {
		probs = g.alloc(N * H * LS)
	} else {
		probs = g.alloc(LS)
	}
	if opt.NeedWeights {
		weights = g.newTensor(N, H, L, S)
	}
	var drop []float32
	if d.P != 0 && !opt.NeedWeights {
		drop = g.alloc(LS)
	}
	var fmask []float32
	if opt.KeyPaddingFloat != nil && opt.Mask != nil {
		fmask = g.alloc(LS)
	}
	var bmask []bool
	if opt.KeyPadding != nil && opt.BoolMask != nil {
		bmask = g.boolScratch(LS)
	}
	for n := 0; n < N; n++ {
		for h := 0; h < H; h++ {
			nh := n*H + h
			y := probs[:LS]
			if rec {
				y = probs[nh*LS : (nh+1)*LS]
			}
			qb := q.Data[n*L*qv.ld+qv.off+h*dk:]
			kb := k.Data[n*S*kv.ld+kv.off+h*dk:]
			vb := v.Data[n*S*vv.ld+vv.off+h*dv:]
			kernels.Gemm(false, true, L, S, dk, 1, qb, qv.ld, kb, kv.ld, 0, y, S)
			so := kernels.SoftmaxOptions{Scale: scale, Causal: opt.Causal, CausalOffset: opt.CausalOffset}
			so.Mask = pickMask(opt.Mask, nh, LS)
			if opt.KeyPaddingFloat != nil {
				kp := opt.KeyPaddingFloat[n*S : (n+1)*S]
				if so.Mask == nil {
					so.Mask = kp
				} else {
					for r := 0; r < L; r++ {
						kernels.Add(fmask[r*S:(r+1)*S], so.Mask[r*S:(r+1)*S], kp)
					}
					so.Mask = fmask
				}
			}
			so.Ignore = pickMask(opt.BoolMask, nh, LS)
			if opt.KeyPadding != nil {
				kp := opt.KeyPadding[n*S : (n+1)*S]
				if so.Ignore == nil {
					so.Ignore = kp
				} else {
					for r := 0; r < L; r++ {
						for s := 0; s < S; s++ {
							bmask[r*S+s] = so.Ignore[r*S+s] || kp[s]
						}
					}
					so.Ignore = bmask
				}
			}
			p := y
			if d.P != 0 {
				so.Dropout, so.Seed, so.Offset = d.P, d.Seed, uint64(nh*LS)
				p = drop
				if weights != nil {
					p = weights.Data[nh*LS : (nh+1)*LS]
				}
				kernels.SoftmaxDropout(y, p, y, L, S, so)
			} else {
				kernels.Softmax(y, y, L, S, so)
				if weights != nil {
					copy(weights.Data[nh*LS:(nh+1)*LS], y)
				}
			}
			kernels.Gemm(false, false, L, dv, S, 1, p, S, vb, vv.ld, 0, ctx.Data[n*L*Ev+h*dv:], Ev)
		}
	}
	if rec {
		*record(g, &g.recs.attention, ctx) = attentionRec{q: q, k: k, v: v, qv: qv, kv: kv, vv: vv,
			N: N, L: L, S: S, H: H, dk: dk, dv: dv, scale: scale, p: d.P, seed: d.Seed, probs: probs}
	}
	return ctx, weights
}

func pickMask[T any](m []T, nh, LS int) []T {
	switch {
	case m == nil:
		return nil
	case len(m) == LS:
		return m
	default:
		return m[nh*LS : (nh+1)*LS]
	}
}

func checkMaskLen(name string, got int, present bool, shared, full, L, S, N, H int) {
	if present && got != shared && got != full {
		panic(fmt.Sprintf("nn: Attention: %s has %d values; want %d or %d for N=%d, H=%d, L=%d, S=%d", name, got, shared, full, N, H, L, S))
	}
}

// attentionRec: probs holds the undropped probabilities of every (batch,
// head), (N·H, L, S); the dropout mask is regenerated from seed with
// offset (n·H + h)·L·S.
type attentionRec struct {
	q, k, v            *Tensor
	qv, kv, vv         headView
	N, L, S, H, dk, dv int
	scale, p           float32
	seed               uint64
	probs              []float32
}

func (r *attentionRec) backward(g *Graph, out *Tensor) {
	q, k, v := r.q, r.k, r.v
	N, L, S, H, dk, dv := r.N, r.L, r.S, r.H, r.dk, r.dv
	qv, kv, vv := r.qv, r.kv, r.vv
	scale, p, seed := r.scale, r.p, r.seed
	probs, dctx := r.probs, out.Grad
	LS, Ev := L*S, H*dv
	var dq, dk_, dv_ []float32
	if q.RequiresGrad {
		dq = g.gradZeroed(q)
	}
	if k.RequiresGrad {
		dk_ = g.gradZeroed(k)
	}
	if v.RequiresGrad {
		dv_ = g.gradZeroed(v)
	}
	dP := g.alloc(LS)
	var pd []float32
	if p != 0 && dv_ != nil {
		pd = g.alloc(LS)
	}
	for n := 0; n < N; n++ {
		for h := 0; h < H; h++ {
			nh := n*H + h
			y := probs[nh*LS : (nh+1)*LS]
			off := uint64(nh * LS)
			dc := dctx[n*L*Ev+h*dv:]
			qo := n*L*qv.ld + qv.off + h*dk
			ko := n*S*kv.ld + kv.off + h*dk
			vo := n*S*vv.ld + vv.off + h*dv
			if dv_ != nil { // dV += dropout(P)ᵀ·dC
				pp := y
				if p != 0 {
					kernels.Dropout(pd, y, p, seed, off)
					pp = pd
				}
				kernels.Gemm(true, false, S, dv, L, 1, pp, S, dc, Ev, 1, dv_[vo:], vv.ld)
			}
			if dq == nil && dk_ == nil {
				continue
			}
			// dP = dC·Vᵀ, then through dropout and the scaled softmax.
			kernels.Gemm(false, true, L, S, dv, 1, dc, Ev, v.Data[vo:], vv.ld, 0, dP, S)
			if p != 0 {
				kernels.SoftmaxDropoutBackward(dP, y, dP, L, S, scale, p, seed, off)
			} else {
				kernels.SoftmaxBackward(dP, y, dP, L, S, scale)
			}
			if dq != nil { // dQ += dS·K
				kernels.Gemm(false, false, L, dk, S, 1, dP, S, k.Data[ko:], kv.ld, 1, dq[qo:], qv.ld)
			}
			if dk_ != nil { // dK += dSᵀ·Q
				kernels.Gemm(true, false, S, dk, L, 1, dP, S, q.Data[qo:], qv.ld, 1, dk_[ko:], kv.ld)
			}
		}
	}
}

// MultiheadAttention is nn.MultiheadAttention with batch_first=True: inputs
// and output are (N, L, E). Parameters and state_dict keys are PyTorch's:
// "in_proj_weight" (3E, E) = [W_q; W_k; W_v] — or "q_proj_weight" (E, E),
// "k_proj_weight" (E, kdim), "v_proj_weight" (E, vdim) when kdim or vdim
// differ from E — then "in_proj_bias" (3E) and "out_proj.weight",
// "out_proj.bias". The embedded DropoutSite drops attention probabilities
// (P is PyTorch's dropout argument), active in training mode or AlwaysOn.
type MultiheadAttention struct {
	InProjWeight                          *Tensor
	QProjWeight, KProjWeight, VProjWeight *Tensor
	InProjBias                            *Tensor
	OutProj                               *Linear

	EmbedDim, NumHeads, KDim, VDim int
	DropoutSite
}

// MHAConfig configures NewMultiheadAttention; zero KDim/VDim mean EmbedDim.
type MHAConfig struct {
	EmbedDim, NumHeads int
	Dropout            float32
	NoBias             bool // bias=False: no in_proj_bias and no out_proj.bias
	KDim, VDim         int
}

// NewMultiheadAttention returns a MultiheadAttention with PyTorch's
// initialisation (xavier_uniform projections, zero biases, out_proj.weight
// like Linear). It returns an error when EmbedDim is not divisible by
// NumHeads, a size is not positive or Dropout is outside [0, 1].
func NewMultiheadAttention(cfg MHAConfig) (*MultiheadAttention, error) {
	E, H := cfg.EmbedDim, cfg.NumHeads
	if E <= 0 || H <= 0 || cfg.KDim < 0 || cfg.VDim < 0 {
		return nil, fmt.Errorf("nn: NewMultiheadAttention: embed_dim=%d, num_heads=%d, kdim=%d, vdim=%d must be positive", E, H, cfg.KDim, cfg.VDim)
	}
	if E%H != 0 {
		return nil, fmt.Errorf("nn: NewMultiheadAttention: embed_dim must be divisible by num_heads (embed_dim=%d, num_heads=%d)", E, H)
	}
	site, err := newSite("NewMultiheadAttention", cfg.Dropout)
	if err != nil {
		return nil, err
	}
	m := &MultiheadAttention{EmbedDim: E, NumHeads: H, KDim: cfg.KDim, VDim: cfg.VDim, DropoutSite: site}
	if m.KDim == 0 {
		m.KDim = E
	}
	if m.VDim == 0 {
		m.VDim = E
	}
	if m.KDim == E && m.VDim == E {
		m.InProjWeight = NewParam(3*E, E)
		xavierUniform(m.InProjWeight)
	} else {
		m.QProjWeight, m.KProjWeight, m.VProjWeight = NewParam(E, E), NewParam(E, m.KDim), NewParam(E, m.VDim)
		xavierUniform(m.QProjWeight)
		xavierUniform(m.KProjWeight)
		xavierUniform(m.VProjWeight)
	}
	if !cfg.NoBias {
		m.InProjBias = NewParam(3 * E)
	}
	m.OutProj = Must(NewLinear(E, E, !cfg.NoBias))
	if m.OutProj.Bias != nil {
		clear(m.OutProj.Bias.Data)
	}
	return m, nil
}

func xavierUniform(t *Tensor) {
	fanOut, fanIn := t.Shape[0], t.Shape[1]
	b := float32(math.Sqrt(6 / float64(fanIn+fanOut)))
	fillUniform(t.Data, -b, b)
}

// Visit lists the parameters in PyTorch's state_dict order.
func (m *MultiheadAttention) Visit(param func(string, *Tensor), child func(string, Module)) {
	if m.InProjWeight != nil {
		param("in_proj_weight", m.InProjWeight)
	} else {
		param("q_proj_weight", m.QProjWeight)
		param("k_proj_weight", m.KProjWeight)
		param("v_proj_weight", m.VProjWeight)
	}
	if m.InProjBias != nil {
		param("in_proj_bias", m.InProjBias)
	}
	child("out_proj", m.OutProj)
}

// Forward computes attention of query (N, L, E) over key (N, S, kdim) and
// value (N, S, vdim) and returns the output (N, L, E) and, when asked, the
// attention weights. When query, key and value are the same tensor and the
// projection is packed, one Gemm computes Q, K and V, and the attention
// reads its heads in place. Attention itself is Graph.Attention's: the
// fused kernels unless opt.NeedWeights.
func (m *MultiheadAttention) Forward(g *Graph, query, key, value *Tensor, opt AttentionOptions) (out, weights *Tensor) {
	E, H := m.EmbedDim, m.NumHeads
	if len(query.Shape) != 3 || len(key.Shape) != 3 || len(value.Shape) != 3 || query.Shape[2] != E ||
		key.Shape[2] != m.KDim || value.Shape[2] != m.VDim || key.Shape[0] != query.Shape[0] ||
		value.Shape[0] != query.Shape[0] || value.Shape[1] != key.Shape[1] {
		panic(fmt.Sprintf("nn: MultiheadAttention: query %v, key %v, value %v: want (N, L, %d), (N, S, %d), (N, S, %d)",
			query.Shape, key.Shape, value.Shape, E, m.KDim, m.VDim))
	}
	N, L, S := query.Shape[0], query.Shape[1], key.Shape[1]
	var drop Drop
	if m.Active() {
		drop = Drop{P: m.P, Seed: m.Next(g, "MultiheadAttention")}
	}
	var ctx *Tensor
	d := E / H
	if m.InProjWeight != nil && query == key && key == value {
		qkv := g.Linear(query, m.InProjWeight, m.InProjBias) // (N, L, 3E)
		ctx, weights = g.attention(qkv, qkv, qkv, headView{0, 3 * E}, headView{E, 3 * E}, headView{2 * E, 3 * E}, N, L, S, H, d, d, opt, drop)
	} else {
		wq, wk, wv := m.QProjWeight, m.KProjWeight, m.VProjWeight
		if m.InProjWeight != nil {
			wq, wk, wv = g.rows(m.InProjWeight, 0, E), g.rows(m.InProjWeight, E, 2*E), g.rows(m.InProjWeight, 2*E, 3*E)
		}
		var bq, bk, bv *Tensor
		if m.InProjBias != nil {
			bq, bk, bv = g.rows(m.InProjBias, 0, E), g.rows(m.InProjBias, E, 2*E), g.rows(m.InProjBias, 2*E, 3*E)
		}
		qp, kp, vp := g.Linear(query, wq, bq), g.Linear(key, wk, bk), g.Linear(value, wv, bv)
		ctx, weights = g.attention(qp, kp, vp, headView{0, E}, headView{0, E}, headView{0, E}, N, L, S, H, d, d, opt, drop)
	}
	out = m.OutProj.Forward(g, ctx)
	if weights != nil && !opt.PerHeadWeights {
		weights = g.meanHeads(weights)
	}
	return out, weights
}

// rows returns a graph-owned view of rows [r0, r1) of a parameter (1-D or
// 2-D) sharing its Data and Grad, so gradients land in the parameter.
func (g *Graph) rows(p *Tensor, r0, r1 int) *Tensor {
	c := 1
	if len(p.Shape) == 2 {
		c = p.Shape[1]
	}
	var t *Tensor
	if len(p.Shape) == 2 {
		t = g.tensor(p.Data[r0*c:r1*c], r1-r0, c)
	} else {
		t = g.tensor(p.Data[r0:r1], r1-r0)
	}
	t.RequiresGrad = p.RequiresGrad
	if g == nil || g.NoGrad || !p.RequiresGrad {
		return t // nothing records: the parameter's Grad is not touched
	}
	if g.LocalGrads {
		// The view's gradient is a slice of the parameter's local buffer.
		g.leaves = append(g.leaves, leafGrad{t: t, buf: g.localGrad(p)[r0*c : r1*c], view: true})
		return t
	}
	if p.Grad == nil {
		p.Grad = make([]float32, len(p.Data)) // a leaf's persistent gradient
	}
	t.Grad = p.Grad[r0*c : r1*c]
	return t
}

// meanHeads averages (N, H, L, S) weights over H into (N, L, S).
func (g *Graph) meanHeads(w *Tensor) *Tensor {
	N, H, L, S := w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3]
	LS := L * S
	out := g.newTensor(N, L, S)
	clear(out.Data)
	for n := 0; n < N; n++ {
		dst := out.Data[n*LS : (n+1)*LS]
		for h := 0; h < H; h++ {
			kernels.Add(dst, dst, w.Data[(n*H+h)*LS:(n*H+h+1)*LS])
		}
		kernels.Scale(dst, dst, 1/float32(H))
	}
	return out
}
