package cases

import (
	"fmt"

	"github.com/simdformer/simdformer/bench/internal/schema"
	"github.com/simdformer/simdformer/kernels"
)

// Fused attention (kernels.Attention / AttentionBackward) on 8 heads of
// d = 64, batch 1, the packed (L, 3·512) QKV layout of MultiheadAttention,
// L = S. Work counts 4·L·S·d FLOPs per head for the forward (the two
// products; halved when causal) and 3.5× that for forward + backward (five
// more products). nn runs these kernels for every attention that does not
// return its weights. The peer "unfused" is nn's materialising path (taken
// with NeedWeights): per head Gemm(Q·Kᵀ)
// → Softmax with fused dropout → Gemm(P·V), and in the backward the
// probabilities of every head kept from the forward, Dropout,
// SoftmaxDropoutBackward and three Gemms (it computes the full L×S products
// even when causal).
func init() {
	for _, L := range []int{128, 512, 1024, 2048, 4096} {
		for _, causal := range []bool{false, true} {
			for _, p := range []float32{0, 0.1} {
				for _, bwd := range []bool{false, true} {
					register(attentionCase(L, causal, p, bwd, L == 512 && causal && p != 0))
				}
			}
		}
	}
}

func attentionCase(L int, causal bool, p float32, bwd, quick bool) Case {
	const H, d = 8, 64
	E := H * d
	pass := "fwd"
	if bwd {
		pass = "fwdbwd"
	}
	name := fmt.Sprintf("attention/L=%d,d=%d,h=%d,causal=%v,p=%v,%s", L, d, H, causal, p, pass)
	work := 4 * float64(L) * float64(L) * d * H
	if causal {
		work /= 2
	}
	if bwd {
		work *= 3.5
	}
	var peers []string
	if L <= 2048 { // the unfused path keeps H·L·L probabilities: 512 MiB at 4096
		peers = []string{"unfused"}
	}
	return Case{
		Name:       name,
		Group:      "attention",
		Unit:       schema.GFLOPS,
		Work:       work,
		WorkingSet: 4 * int64(L*3*E*2+L*E*2+2*H*L),
		Quick:      quick,
		Peers:      peers,
		Setup: func(impl string) (func(), error) {
			switch {
			case impl == "unfused" && peers != nil:
				return unfusedAttention(L, H, d, causal, p, bwd), nil
			case IsBackend(impl):
				return fusedAttention(L, H, d, causal, p, bwd), nil
			}
			return nil, errUnknownImpl(name, impl)
		},
	}
}

func fusedAttention(L, H, d int, causal bool, p float32, bwd bool) func() {
	E, ld := H*d, 3*H*d
	qkv, do := fill(L*ld, 30, -1, 1), fill(L*E, 31, -1, 1)
	o, dqkv, stats := make([]float32, L*E), make([]float32, L*ld), make([]float32, 2*H*L)
	sh := kernels.AttentionShape{N: 1, H: H, L: L, S: L, DK: d, DV: d}
	opt := kernels.AttentionOptions{Causal: causal, Dropout: p, Seed: 1}
	op := func(s []float32, off int) kernels.AttentionOperand {
		return kernels.AttentionOperand{Data: s[off:], BatchStride: L * ld, HeadStride: d, RowStride: ld}
	}
	q, k, v := op(qkv, 0), op(qkv, E), op(qkv, 2*E)
	dq, dk, dv := op(dqkv, 0), op(dqkv, E), op(dqkv, 2*E)
	oo := kernels.AttentionOperand{Data: o, BatchStride: L * E, HeadStride: d, RowStride: E}
	doo := kernels.AttentionOperand{Data: do, BatchStride: L * E, HeadStride: d, RowStride: E}
	return func() {
		kernels.Attention(oo, stats, q, k, v, sh, opt)
		if bwd {
			kernels.AttentionBackward(dq, dk, dv, doo, oo, stats, q, k, v, sh, opt)
		}
	}
}

func unfusedAttention(L, H, d int, causal bool, p float32, bwd bool) func() {
	E, ld, LS := H*d, 3*H*d, L*L
	qkv, do := fill(L*ld, 30, -1, 1), fill(L*E, 31, -1, 1)
	o, dqkv := make([]float32, L*E), make([]float32, L*ld)
	heads := 1
	if bwd {
		heads = H // the backward needs every head's probabilities
	}
	probs, drop, dP := make([]float32, heads*LS), make([]float32, LS), make([]float32, LS)
	scale := float32(0.125)
	return func() {
		for h := 0; h < H; h++ {
			y := probs[h%heads*LS : (h%heads+1)*LS]
			kernels.Gemm(false, true, L, L, d, 1, qkv[h*d:], ld, qkv[E+h*d:], ld, 0, y, L)
			so := kernels.SoftmaxOptions{Scale: scale, Causal: causal}
			pp := y
			if p != 0 {
				so.Dropout, so.Seed, so.Offset = p, 1, uint64(h*LS)
				pp = drop
			}
			if so.Dropout != 0 {
				kernels.SoftmaxDropout(y, drop, y, L, L, so)
			} else {
				kernels.Softmax(y, y, L, L, so)
			}
			kernels.Gemm(false, false, L, d, L, 1, pp, L, qkv[2*E+h*d:], ld, 0, o[h*d:], E)
		}
		if !bwd {
			return
		}
		clear(dqkv)
		for h := 0; h < H; h++ {
			y := probs[h*LS : (h+1)*LS]
			pp := y
			if p != 0 {
				kernels.Dropout(drop, y, p, 1, uint64(h*LS))
				pp = drop
			}
			kernels.Gemm(true, false, L, d, L, 1, pp, L, do[h*d:], E, 1, dqkv[2*E+h*d:], ld)
			kernels.Gemm(false, true, L, L, d, 1, do[h*d:], E, qkv[2*E+h*d:], ld, 0, dP, L)
			if p != 0 {
				kernels.SoftmaxDropoutBackward(dP, y, dP, L, L, scale, p, 1, uint64(h*LS))
			} else {
				kernels.SoftmaxBackward(dP, y, dP, L, L, scale)
			}
			kernels.Gemm(false, false, L, d, L, 1, dP, L, qkv[E+h*d:], ld, 1, dqkv[h*d:], ld)
			kernels.Gemm(true, false, L, d, L, 1, dP, L, qkv[h*d:], ld, 1, dqkv[E+h*d:], ld)
		}
	}
}
