package nn

import "github.com/simdformer/simdformer/kernels"

// The fused attention path: kernels.Attention and kernels.AttentionBackward
// (tiled online softmax, FlashAttention-2 style) compute the context and the
// gradients without ever holding an L×S matrix. A recorded call keeps only
// the context (its output, which the backward reads) and 2·N·H·L softmax
// statistics; the dropout mask is regenerated from (seed, element index)
// with the element index (n·H + h)·L·S + l·S + s of the materialising path,
// so both paths drop the same elements.
//
// Every mask of AttentionOptions maps onto the kernels' options one to one
// (Mask and BoolMask of L·S or N·H·L·S values, KeyPadding,
// KeyPaddingFloat, Causal with CausalOffset, combined in the same order as
// the materialising path), so the only case that materialises is
// NeedWeights: the probabilities are the result asked for.

// attnOperand views the heads of an (N, T, ·) tensor data as a kernels
// operand: head h of batch n at row t starts at data[(n·T + t)·ld + off +
// h·d]. An empty tensor gives an empty view (the kernels check nothing of
// an operand with no rows).
func attnOperand(data []float32, hv headView, T, d int) kernels.AttentionOperand {
	return kernels.AttentionOperand{Data: data[min(hv.off, len(data)):], BatchStride: T * hv.ld, HeadStride: d, RowStride: hv.ld}
}

// fusedAttention is the fused path of attention: the context (N, L, H·dv),
// and a fusedAttentionRec when recording.
func (g *Graph) fusedAttention(q, k, v *Tensor, qv, kv, vv headView, sh kernels.AttentionShape, scale float32, opt AttentionOptions, d Drop) *Tensor {
	N, H, L, S := sh.N, sh.H, sh.L, sh.S
	Ev := H * sh.DV
	ctx := g.newTensor(N, L, Ev)
	stats := g.alloc(2 * N * H * L)
	kopt := kernels.AttentionOptions{
		Scale: scale, Causal: opt.Causal, CausalOffset: opt.CausalOffset,
		Mask: opt.Mask, KeyPaddingFloat: opt.KeyPaddingFloat,
		Ignore: opt.BoolMask, KeyPadding: opt.KeyPadding,
		Dropout: d.P, Seed: d.Seed,
	}
	if d.P == 0 {
		kopt.Seed = 0
	}
	qo, ko, vo := attnOperand(q.Data, qv, L, sh.DK), attnOperand(k.Data, kv, S, sh.DK), attnOperand(v.Data, vv, S, sh.DV)
	kernels.Attention(attnOperand(ctx.Data, headView{0, Ev}, L, sh.DV), stats, qo, ko, vo, sh, kopt)
	if g.recording(q, k, v) {
		*record(g, &g.recs.fusedAttn, ctx) = fusedAttentionRec{q: q, k: k, v: v, qv: qv, kv: kv, vv: vv,
			sh: sh, opt: kopt, stats: stats}
	}
	return ctx
}

// fusedAttentionRec: the inputs and their head views, the kernels' shape
// and options (masks, scale, dropout seed) and the softmax statistics
// (2·N·H·L); the context is the node's output.
type fusedAttentionRec struct {
	q, k, v    *Tensor
	qv, kv, vv headView
	sh         kernels.AttentionShape
	opt        kernels.AttentionOptions
	stats      []float32
}

func (r *fusedAttentionRec) backward(g *Graph, out *Tensor) {
	sh := r.sh
	Ev := sh.H * sh.DV
	// The gradients accumulate: q, k and v may be one packed tensor (its
	// three column ranges), or already hold a gradient from another use.
	var dq, dk, dv kernels.AttentionOperand
	if r.q.RequiresGrad {
		dq = attnOperand(g.gradZeroed(r.q), r.qv, sh.L, sh.DK)
	}
	if r.k.RequiresGrad {
		dk = attnOperand(g.gradZeroed(r.k), r.kv, sh.S, sh.DK)
	}
	if r.v.RequiresGrad {
		dv = attnOperand(g.gradZeroed(r.v), r.vv, sh.S, sh.DV)
	}
	opt := r.opt
	opt.Accumulate = true
	ov := headView{0, Ev}
	kernels.AttentionBackward(dq, dk, dv, attnOperand(out.Grad, ov, sh.L, sh.DV), attnOperand(out.Data, ov, sh.L, sh.DV), r.stats,
		attnOperand(r.q.Data, r.qv, sh.L, sh.DK), attnOperand(r.k.Data, r.kv, sh.S, sh.DK), attnOperand(r.v.Data, r.vv, sh.S, sh.DV), sh, opt)
}
