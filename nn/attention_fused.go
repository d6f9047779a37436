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
	// The gradients accumulate: q, k and v may be one packed tensor (three
	// disjoint column ranges), or already hold a gradient from another use.
	// Two that are the same tensor over overlapping columns (attention of
	// x over itself without projections) would be written at once, which
	// the kernel does not allow: the later one goes to a zeroed scratch
	// buffer, added to its gradient after the call.
	ts := [3]*Tensor{r.q, r.k, r.v}
	views := [3]headView{r.qv, r.kv, r.vv}
	widths := [3]int{sh.H * sh.DK, sh.H * sh.DK, Ev}
	rowsOf := [3]int{sh.L, sh.S, sh.S}
	dims := [3]int{sh.DK, sh.DK, sh.DV}
	var ops [3]kernels.AttentionOperand
	var scratch [3][]float32
	for i, t := range ts {
		if !t.RequiresGrad {
			continue
		}
		clash := false
		for j := 0; j < i; j++ {
			if ts[j] == t && ops[j].Data != nil && scratch[j] == nil &&
				views[j].off < views[i].off+widths[i] && views[i].off < views[j].off+widths[j] {
				clash = true
			}
		}
		var buf []float32
		if clash {
			buf = g.allocZero(len(t.Data))
			scratch[i] = buf
		} else {
			buf = g.gradZeroed(t)
		}
		ops[i] = attnOperand(buf, views[i], rowsOf[i], dims[i])
	}
	opt := r.opt
	opt.Accumulate = true
	ov := headView{0, Ev}
	kernels.AttentionBackward(ops[0], ops[1], ops[2], attnOperand(out.Grad, ov, sh.L, sh.DV), attnOperand(out.Data, ov, sh.L, sh.DV), r.stats,
		attnOperand(r.q.Data, r.qv, sh.L, sh.DK), attnOperand(r.k.Data, r.kv, sh.S, sh.DK), attnOperand(r.v.Data, r.vv, sh.S, sh.DV), sh, opt)
	for i, b := range scratch {
		if b != nil {
			g.accumulate(ts[i], b)
		}
	}
}
