package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"testing"

	"github.com/simdformer/simdformer/internal/guard"
)

// attnCase is one attention problem: Q (N, L, qld), K and V (N, S, kld/vld)
// with the heads as column slices (like nn's projections), padded row
// strides, and options.
type attnCase struct {
	name          string
	sh            AttentionShape
	opt           AttentionOptions
	qld, kld, vld int
	q, k, v, do   []float32
}

func (c *attnCase) operands(q, k, v []float32) (AttentionOperand, AttentionOperand, AttentionOperand) {
	sh := c.sh
	return AttentionOperand{q, sh.L * c.qld, sh.DK, c.qld},
		AttentionOperand{k, sh.S * c.kld, sh.DK, c.kld},
		AttentionOperand{v, sh.S * c.vld, sh.DV, c.vld}
}

// outOperand is the (N, L, H·DV) context layout (also dO's).
func (c *attnCase) outOperand(o []float32) AttentionOperand {
	sh := c.sh
	return AttentionOperand{o, sh.L * sh.H * sh.DV, sh.DV, sh.H * sh.DV}
}

func newAttnCase(r *rand.Rand, name string, sh AttentionShape, opt AttentionOptions, pad int) *attnCase {
	c := &attnCase{name: name, sh: sh, opt: opt}
	c.qld, c.kld, c.vld = sh.H*sh.DK+pad, sh.H*sh.DK+2*pad, sh.H*sh.DV+pad
	c.q = randNormal(r, sh.N*sh.L*c.qld, 0, 1)
	c.k = randNormal(r, sh.N*sh.S*c.kld, 0, 1)
	c.v = randNormal(r, sh.N*sh.S*c.vld, 0, 1)
	c.do = randNormal(r, sh.N*sh.L*sh.H*sh.DV, 0, 1)
	return c
}

// run calls Attention and AttentionBackward on copies placed by mk.
func (c *attnCase) run(mk func([]float32) []float32) (o, stats, dq, dk, dv []float32) {
	sh := c.sh
	q, k, v := mk(c.q), mk(c.k), mk(c.v)
	qo, ko, vo := c.operands(q, k, v)
	o = mk(make([]float32, sh.N*sh.L*sh.H*sh.DV))
	stats = mk(make([]float32, 2*sh.N*sh.H*sh.L))
	Attention(c.outOperand(o), stats, qo, ko, vo, sh, c.opt)
	dq, dk, dv = mk(make([]float32, len(c.q))), mk(make([]float32, len(c.k))), mk(make([]float32, len(c.v)))
	dqo, dko, dvo := c.operands(dq, dk, dv)
	AttentionBackward(dqo, dko, dvo, c.outOperand(mk(c.do)), c.outOperand(o), stats, qo, ko, vo, sh, c.opt)
	return
}

// attnCases covers tile tails (63/64/65, 1), L != S, every mask kind,
// causal offsets (including rows with no visible key) and dropout.
func attnCases(r *rand.Rand) []*attnCase {
	var cs []*attnCase
	add := func(name string, sh AttentionShape, opt AttentionOptions, pad int) {
		cs = append(cs, newAttnCase(r, name, sh, opt, pad))
	}
	// Tile tails and several tiles each way: Br = 128, Bc = 256.
	shapes := []AttentionShape{{1, 1, 1, 1, 1, 1}, {2, 2, 5, 7, 3, 4}, {1, 2, 65, 63, 16, 8}, {1, 1, 129, 513, 3, 5}, {1, 1, 300, 257, 4, 2}}
	if !reduced() {
		shapes = append(shapes, AttentionShape{2, 1, 130, 64, 32, 32}, AttentionShape{1, 2, 260, 300, 64, 32})
	}
	for _, sh := range shapes {
		LS, NS := sh.L*sh.S, sh.N*sh.S
		add(fmt.Sprintf("plain %v", sh), sh, AttentionOptions{}, 1)
		add(fmt.Sprintf("causal %v", sh), sh, AttentionOptions{Causal: true, Scale: 0.3}, 0)
		add(fmt.Sprintf("causal-3 dropout %v", sh), sh, AttentionOptions{Causal: true, CausalOffset: -3, Dropout: 0.2, Seed: 9, Offset: 1<<32 - 50}, 3)
		add(fmt.Sprintf("causal+70 dropout %v", sh), sh, AttentionOptions{Causal: true, CausalOffset: 70, Dropout: 0.5, Seed: 3}, 2)
		mask := randFloats(r, LS, -2, 2)
		for i := range mask {
			if r.IntN(7) == 0 {
				mask[i] = float32(math.Inf(-1))
			}
		}
		ign := make([]bool, sh.N*sh.H*LS)
		for i := range ign {
			ign[i] = r.IntN(5) == 0
		}
		kp := make([]bool, NS)
		for i := range kp {
			kp[i] = r.IntN(4) == 0
		}
		if sh.N > 1 {
			for s := 0; s < sh.S; s++ {
				kp[s] = true // batch 0: every key padded (fully masked rows)
			}
		}
		kpf := randFloats(r, NS, -1, 1)
		add(fmt.Sprintf("masks %v", sh), sh, AttentionOptions{Mask: mask, Ignore: ign, KeyPadding: kp, KeyPaddingFloat: kpf, Dropout: 0.1, Seed: 5}, 1)
		add(fmt.Sprintf("key masks %v", sh), sh, AttentionOptions{Mask: randFloats(r, sh.S, -1, 1), Ignore: kp[:sh.S], Causal: true, CausalOffset: 1}, 0)
		full := randFloats(r, sh.N*sh.H*LS, -3, 3)
		add(fmt.Sprintf("per-head mask %v", sh), sh, AttentionOptions{Mask: full, KeyPaddingFloat: kpf}, 0)
	}
	return cs
}

// TestAttentionMatchesPurego: every backend, in every operand layout (offsets
// and guard pages), gives the pure-Go bits for the forward and the backward.
func TestAttentionMatchesPurego(t *testing.T) {
	r := newRand(t)
	cases := attnCases(r)
	wants := make([][5][]float32, len(cases))
	reference(func() {
		for i, c := range cases {
			w := &wants[i]
			w[0], w[1], w[2], w[3], w[4] = c.run(clone)
		}
	})
	forEachBackend(t, func(t *testing.T) {
		if Backend() == "purego" {
			return
		}
		for ci, c := range cases {
			want := wants[ci]
			layouts := testLayouts[len(testLayouts)-2:] // guard pages at both ends
			if !reduced() && ci%2 == 0 {
				layouts = testLayouts // and every misalignment
			}
			for _, l := range layouts {
				a := newArena(t, l)
				var got [5][]float32
				got[0], got[1], got[2], got[3], got[4] = c.run(a.from)
				for i, name := range []string{"o", "stats", "dq", "dk", "dv"} {
					requireBitsEqual(t, fmt.Sprintf("%s %s %s", c.name, name, l.name), got[i], want[i])
				}
				a.done()
			}
		}
	})
}

// TestAttentionWorkers: results do not depend on the worker count.
func TestAttentionWorkers(t *testing.T) {
	r := newRand(t)
	sh := AttentionShape{2, 3, 270, 300, 8, 8}
	c := newAttnCase(r, "workers", sh, AttentionOptions{Causal: true, Dropout: 0.1, Seed: 1}, 1)
	var want [5][]float32
	func() {
		defer setMaxWorkers(1)()
		want[0], want[1], want[2], want[3], want[4] = c.run(clone)
	}()
	for _, w := range []int{2, 3, 7} {
		func() {
			defer setMaxWorkers(w)()
			var got [5][]float32
			got[0], got[1], got[2], got[3], got[4] = c.run(clone)
			for i := range got {
				requireBitsEqual(t, fmt.Sprintf("workers=%d output %d", w, i), got[i], want[i])
			}
		}()
	}
}

// attnRef64 is the float64 reference of one case: the context, the
// gradients and, per element, a magnitude the rounding error scales with.
type attnRef64 struct {
	o, dq, dk, dv             []float64
	oMag, dqMag, dkMag, dvMag []float64
	masked                    []bool // per (n, h, l): every key masked
}

// attnVisible reports the float64 score v of (n, h, l, s) or false when masked.
func (c *attnCase) score64(n, h, l, s int) (float64, bool) {
	sh, opt := c.sh, c.opt
	if opt.Causal && s > l+opt.CausalOffset {
		return 0, false
	}
	nh, LS := n*sh.H+h, sh.L*sh.S
	idx := func(m int) int {
		switch m {
		case LS:
			return l*sh.S + s
		case sh.S:
			return s
		}
		return nh*LS + l*sh.S + s
	}
	if opt.Ignore != nil && opt.Ignore[idx(len(opt.Ignore))] {
		return 0, false
	}
	if opt.KeyPadding != nil && opt.KeyPadding[n*sh.S+s] {
		return 0, false
	}
	dot := 0.0
	for d := 0; d < sh.DK; d++ {
		dot += float64(c.q[n*sh.L*c.qld+l*c.qld+h*sh.DK+d]) * float64(c.k[n*sh.S*c.kld+s*c.kld+h*sh.DK+d])
	}
	scale := float64(c.opt.Scale)
	if scale == 0 {
		scale = float64(float32(1 / math.Sqrt(float64(sh.DK))))
	}
	v := dot * scale
	if opt.Mask != nil {
		v += float64(opt.Mask[idx(len(opt.Mask))])
	}
	if opt.KeyPaddingFloat != nil {
		v += float64(opt.KeyPaddingFloat[n*sh.S+s])
	}
	if math.IsInf(v, -1) {
		return 0, false
	}
	return v, true
}

func (c *attnCase) ref64() *attnRef64 {
	sh, opt := c.sh, c.opt
	ref := &attnRef64{
		o: make([]float64, sh.N*sh.L*sh.H*sh.DV), oMag: make([]float64, sh.N*sh.L*sh.H*sh.DV),
		dq: make([]float64, len(c.q)), dqMag: make([]float64, len(c.q)),
		dk: make([]float64, len(c.k)), dkMag: make([]float64, len(c.k)),
		dv: make([]float64, len(c.v)), dvMag: make([]float64, len(c.v)),
		masked: make([]bool, sh.N*sh.H*sh.L),
	}
	scale := float64(c.opt.Scale)
	if scale == 0 {
		scale = float64(float32(1 / math.Sqrt(float64(sh.DK))))
	}
	dscale := 1.0
	if opt.Dropout != 0 {
		_, ds := dropoutParams("test", opt.Dropout)
		dscale = float64(ds)
	}
	p, keep, dp := make([]float64, sh.S), make([]float64, sh.S), make([]float64, sh.S)
	ld := sh.H * sh.DV
	for n := 0; n < sh.N; n++ {
		for h := 0; h < sh.H; h++ {
			nh := n*sh.H + h
			vAt := func(s, d int) float64 { return float64(c.v[n*sh.S*c.vld+s*c.vld+h*sh.DV+d]) }
			kAt := func(s, d int) float64 { return float64(c.k[n*sh.S*c.kld+s*c.kld+h*sh.DK+d]) }
			for l := 0; l < sh.L; l++ {
				m, any := math.Inf(-1), false
				for s := 0; s < sh.S; s++ {
					v, ok := c.score64(n, h, l, s)
					p[s] = math.Inf(-1)
					if ok {
						p[s], any = v, true
						m = math.Max(m, v)
					}
				}
				if !any {
					ref.masked[nh*sh.L+l] = true
					continue
				}
				sum := 0.0
				for s := range p {
					p[s] = math.Exp(p[s] - m)
					sum += p[s]
				}
				for s := range p {
					p[s] /= sum
					keep[s] = 1
					if opt.Dropout != 0 {
						keep[s] = 0
						if DropoutKeep(opt.Seed, opt.Offset+uint64(nh*sh.L*sh.S+l*sh.S+s), opt.Dropout) {
							keep[s] = dscale
						}
					}
				}
				orow := n*sh.L*ld + l*ld + h*sh.DV
				dO := func(d int) float64 { return float64(c.do[orow+d]) }
				D := 0.0
				for d := 0; d < sh.DV; d++ {
					o, mag := 0.0, 0.0
					for s := range p {
						o += p[s] * keep[s] * vAt(s, d)
						mag += math.Abs(p[s] * keep[s] * vAt(s, d))
					}
					ref.o[orow+d], ref.oMag[orow+d] = o, mag
					D += dO(d) * o
				}
				qrow := n*sh.L*c.qld + l*c.qld + h*sh.DK
				for s := range p {
					dpt, mag := 0.0, 0.0
					for d := 0; d < sh.DV; d++ {
						dpt += dO(d) * vAt(s, d)
						mag += math.Abs(dO(d) * vAt(s, d))
						vi := n*sh.S*c.vld + s*c.vld + h*sh.DV + d
						ref.dv[vi] += p[s] * keep[s] * dO(d)
						ref.dvMag[vi] += math.Abs(p[s] * keep[s] * dO(d))
					}
					dp[s] = dpt * keep[s]
					_ = mag
				}
				for s := range p {
					ds := p[s] * (dp[s] - D) * scale
					dsMag := p[s] * (math.Abs(dp[s]) + math.Abs(D)) * scale
					for d := 0; d < sh.DK; d++ {
						ref.dq[qrow+d] += ds * kAt(s, d)
						ref.dqMag[qrow+d] += dsMag * math.Abs(kAt(s, d))
						ki := n*sh.S*c.kld + s*c.kld + h*sh.DK + d
						ref.dk[ki] += ds * float64(c.q[qrow+d])
						ref.dkMag[ki] += dsMag * math.Abs(float64(c.q[qrow+d]))
					}
				}
			}
		}
	}
	return ref
}

// requireClose64 checks |got − want| ≤ tol·mag + 1e-6·tol for every element.
func requireClose64(t *testing.T, what string, got []float32, want, mag []float64, tol float64) {
	t.Helper()
	worst, at := 0.0, -1
	for i := range want {
		g := float64(got[i])
		if math.IsNaN(g) || math.IsInf(g, 0) {
			t.Fatalf("%s: element %d is %v (want %v)", what, i, g, want[i])
		}
		if e := math.Abs(g-want[i]) / (mag[i] + 1e-6); e > worst {
			worst, at = e, i
		}
	}
	if worst > tol {
		t.Errorf("%s: element %d: got %v, want %v (error %.3g × magnitude %.3g, tol %.3g)", what, at, got[at], want[at], worst, mag[at], tol)
	}
}

// attnTol is the relative error bound (to the magnitude of the products
// summed, from the float64 reference) of the float32 results: a few hundred
// float32 roundings, each ≤ 2^-24, in the canonical exp, the sums and chains.
const attnTol = 2e-5

// TestAttentionAccuracy compares the fused kernels with a float64 reference
// (same masks and dropout mask) and with nn's unfused path (Gemm → Softmax
// with dropout → Gemm, and the matching backward).
func TestAttentionAccuracy(t *testing.T) {
	r := newRand(t)
	for _, c := range attnCases(r) {
		ref := c.ref64()
		o, stats, dq, dk, dv := c.run(clone)
		requireClose64(t, c.name+" o", o, ref.o, ref.oMag, attnTol)
		requireClose64(t, c.name+" dq", dq, ref.dq, ref.dqMag, attnTol)
		requireClose64(t, c.name+" dk", dk, ref.dk, ref.dkMag, attnTol)
		requireClose64(t, c.name+" dv", dv, ref.dv, ref.dvMag, attnTol)
		uo, udq, udk, udv := c.unfused()
		requireClose64(t, c.name+" unfused o", uo, ref.o, ref.oMag, attnTol)
		requireClose64(t, c.name+" unfused dq", udq, ref.dq, ref.dqMag, attnTol)
		requireClose64(t, c.name+" unfused dk", udk, ref.dk, ref.dkMag, attnTol)
		requireClose64(t, c.name+" unfused dv", udv, ref.dv, ref.dvMag, attnTol)
		sh := c.sh
		for i, masked := range ref.masked {
			m, l := stats[2*i], stats[2*i+1]
			if masked != math.IsInf(float64(m), -1) || masked && l != 0 {
				t.Fatalf("%s: row %d: masked=%v but stats (%v, %v)", c.name, i, masked, m, l)
			}
			if masked { // fully masked: exactly +0 context
				n, h, row := i/(sh.H*sh.L), i/sh.L%sh.H, i%sh.L
				for d := 0; d < sh.DV; d++ {
					if x := o[(n*sh.L+row)*sh.H*sh.DV+h*sh.DV+d]; math.Float32bits(x) != 0 {
						t.Fatalf("%s: fully masked row %d: o = %v", c.name, i, x)
					}
				}
			}
		}
	}
}

// unfused computes the case through nn's path: per head Gemm(Q·Kᵀ), the
// fused Softmax with dropout, Gemm(P·V); backward Gemm(dO·Vᵀ),
// SoftmaxDropoutBackward, three Gemms.
func (c *attnCase) unfused() (o, dq, dk, dv []float32) {
	sh, opt := c.sh, c.opt
	LS, ld := sh.L*sh.S, sh.H*sh.DV
	o = make([]float32, sh.N*sh.L*ld)
	dq, dk, dv = make([]float32, len(c.q)), make([]float32, len(c.k)), make([]float32, len(c.v))
	y, drop, dP := make([]float32, LS), make([]float32, LS), make([]float32, LS)
	fm, bm := make([]float32, LS), make([]bool, LS)
	scale := opt.Scale
	if scale == 0 {
		scale = float32(1 / math.Sqrt(float64(sh.DK)))
	}
	pick := func(n, nh int) (mask []float32, ign []bool) {
		for l := 0; l < sh.L; l++ {
			for s := 0; s < sh.S; s++ {
				i := l*sh.S + s
				mi := func(m int) int {
					switch m {
					case LS:
						return i
					case sh.S:
						return s
					}
					return nh*LS + i
				}
				if opt.Mask != nil || opt.KeyPaddingFloat != nil {
					switch {
					case opt.KeyPaddingFloat == nil:
						fm[i] = opt.Mask[mi(len(opt.Mask))]
					case opt.Mask == nil:
						fm[i] = opt.KeyPaddingFloat[n*sh.S+s]
					default:
						fm[i] = opt.Mask[mi(len(opt.Mask))] + opt.KeyPaddingFloat[n*sh.S+s]
					}
					mask = fm
				}
				if opt.Ignore != nil || opt.KeyPadding != nil {
					bm[i] = opt.Ignore != nil && opt.Ignore[mi(len(opt.Ignore))] || opt.KeyPadding != nil && opt.KeyPadding[n*sh.S+s]
					ign = bm
				}
			}
		}
		return
	}
	for n := 0; n < sh.N; n++ {
		for h := 0; h < sh.H; h++ {
			nh := n*sh.H + h
			qo, ko, vo := n*sh.L*c.qld+h*sh.DK, n*sh.S*c.kld+h*sh.DK, n*sh.S*c.vld+h*sh.DV
			oo := n*sh.L*ld + h*sh.DV
			Gemm(false, true, sh.L, sh.S, sh.DK, 1, c.q[qo:], c.qld, c.k[ko:], c.kld, 0, y, sh.S)
			so := SoftmaxOptions{Scale: scale, Causal: opt.Causal, CausalOffset: opt.CausalOffset}
			so.Mask, so.Ignore = pick(n, nh)
			p := y
			if opt.Dropout != 0 {
				so.Dropout, so.Seed, so.Offset = opt.Dropout, opt.Seed, opt.Offset+uint64(nh*LS)
				p = drop
			}
			if so.Dropout != 0 {
				SoftmaxDropout(y, drop, y, sh.L, sh.S, so)
			} else {
				Softmax(y, y, sh.L, sh.S, so)
			}
			Gemm(false, false, sh.L, sh.DV, sh.S, 1, p, sh.S, c.v[vo:], c.vld, 0, o[oo:], ld)
			Gemm(true, false, sh.S, sh.DV, sh.L, 1, p, sh.S, c.do[oo:], ld, 1, dv[vo:], c.vld)
			Gemm(false, true, sh.L, sh.S, sh.DV, 1, c.do[oo:], ld, c.v[vo:], c.vld, 0, dP, sh.S)
			if opt.Dropout != 0 {
				SoftmaxDropoutBackward(dP, y, dP, sh.L, sh.S, scale, opt.Dropout, opt.Seed, so.Offset)
			} else {
				SoftmaxBackward(dP, y, dP, sh.L, sh.S, scale)
			}
			Gemm(false, false, sh.L, sh.DK, sh.S, 1, dP, sh.S, c.k[ko:], c.kld, 1, dq[qo:], c.qld)
			Gemm(true, false, sh.S, sh.DK, sh.L, 1, dP, sh.S, c.q[qo:], c.qld, 1, dk[ko:], c.kld)
		}
	}
	return
}

// TestAttentionGradFiniteDiff checks the gradients against central
// differences of the loss Σ dO ∘ O through the float32 forward itself.
func TestAttentionGradFiniteDiff(t *testing.T) {
	r := newRand(t)
	sh := AttentionShape{1, 2, 5, 6, 3, 4}
	if !reduced() {
		sh = AttentionShape{1, 1, 20, 270, 2, 2}
	}
	for _, opt := range []AttentionOptions{{Causal: true}, {Dropout: 0.3, Seed: 4, Causal: true, CausalOffset: 1}} {
		c := newAttnCase(r, "fd", sh, opt, 1)
		_, _, dq, dk, dv := c.run(clone)
		loss := func() float64 {
			o := make([]float32, sh.N*sh.L*sh.H*sh.DV)
			qo, ko, vo := c.operands(c.q, c.k, c.v)
			Attention(c.outOperand(o), make([]float32, 2*sh.N*sh.H*sh.L), qo, ko, vo, sh, c.opt)
			s := 0.0
			for i := range o {
				s += float64(o[i]) * float64(c.do[i])
			}
			return s
		}
		for _, x := range []struct {
			name string
			in   []float32
			grad []float32
		}{{"q", c.q, dq}, {"k", c.k, dk}, {"v", c.v, dv}} {
			for i := range x.in {
				old := x.in[i]
				const eps = 1e-2
				x.in[i] = old + eps
				up := loss()
				x.in[i] = old - eps
				down := loss()
				x.in[i] = old
				fd := (up - down) / (2 * eps)
				if math.Abs(fd-float64(x.grad[i])) > 2e-3*(1+math.Abs(fd)) {
					t.Errorf("%+v d%s[%d]: analytic %v, finite difference %v", opt, x.name, i, x.grad[i], fd)
				}
			}
		}
	}
}

// TestAttentionDropoutMask: the fused kernel drops exactly the elements the
// unfused Softmax drops (element index (n·H + h)·L·S + l·S + s + Offset).
// With V the identity (DV = S), O row l is the dropped probability row.
func TestAttentionDropoutMask(t *testing.T) {
	r := newRand(t)
	sh := AttentionShape{2, 2, 70, 267, 8, 267}
	c := newAttnCase(r, "mask", sh, AttentionOptions{Dropout: 0.25, Seed: 77, Offset: 1<<32 - 9000}, 0)
	clear(c.v)
	for n := 0; n < sh.N; n++ {
		for h := 0; h < sh.H; h++ {
			for s := 0; s < sh.S; s++ {
				c.v[n*sh.S*c.vld+s*c.vld+h*sh.DV+s] = 1
			}
		}
	}
	o, _, _, _, _ := c.run(clone)
	LS := sh.L * sh.S
	y, drop := make([]float32, LS), make([]float32, LS)
	dropped := 0
	for n := 0; n < sh.N; n++ {
		for h := 0; h < sh.H; h++ {
			nh := n*sh.H + h
			Gemm(false, true, sh.L, sh.S, sh.DK, 1, c.q[n*sh.L*c.qld+h*sh.DK:], c.qld, c.k[n*sh.S*c.kld+h*sh.DK:], c.kld, 0, y, sh.S)
			SoftmaxDropout(y, drop, y, sh.L, sh.S, SoftmaxOptions{Scale: float32(1 / math.Sqrt(float64(sh.DK))), Dropout: c.opt.Dropout,
				Seed: c.opt.Seed, Offset: c.opt.Offset + uint64(nh*LS)})
			for l := 0; l < sh.L; l++ {
				for s := 0; s < sh.S; s++ {
					got := o[(n*sh.L+l)*sh.H*sh.DV+h*sh.DV+s]
					if (got == 0) != (drop[l*sh.S+s] == 0) {
						t.Fatalf("(%d,%d,%d,%d): fused %v, unfused %v", n, h, l, s, got, drop[l*sh.S+s])
					}
					if got == 0 {
						dropped++
					}
				}
			}
		}
	}
	if frac := float64(dropped) / float64(sh.N*sh.H*LS); frac < 0.2 || frac > 0.3 {
		t.Errorf("dropped fraction %v, want about 0.25", frac)
	}
}

// TestAttentionAccumulate: with Accumulate the gradients are added.
func TestAttentionAccumulate(t *testing.T) {
	r := newRand(t)
	sh := AttentionShape{1, 2, 9, 270, 5, 6}
	c := newAttnCase(r, "acc", sh, AttentionOptions{Causal: true, CausalOffset: 2}, 1)
	o, stats, dq, dk, dv := c.run(clone)
	qo, ko, vo := c.operands(c.q, c.k, c.v)
	opt := c.opt
	opt.Accumulate = true
	a2, b2, c2 := clone(dq), clone(dk), clone(dv)
	g2q, g2k, g2v := c.operands(a2, b2, c2)
	AttentionBackward(g2q, g2k, g2v, c.outOperand(c.do), c.outOperand(o), stats, qo, ko, vo, sh, opt)
	for i := range dq {
		if math.Abs(float64(a2[i]-2*dq[i])) > 1e-6*(1+math.Abs(float64(dq[i]))) {
			t.Fatalf("dq[%d]: accumulated %v, want ≈ %v", i, a2[i], 2*dq[i])
		}
	}
	for i := range dk {
		if math.Abs(float64(b2[i]-2*dk[i])) > 1e-6*(1+math.Abs(float64(dk[i]))) {
			t.Fatalf("dk[%d]: accumulated %v, want ≈ %v", i, b2[i], 2*dk[i])
		}
	}
	for i := range dv {
		if math.Abs(float64(c2[i]-2*dv[i])) > 1e-6*(1+math.Abs(float64(dv[i]))) {
			t.Fatalf("dv[%d]: accumulated %v, want ≈ %v", i, c2[i], 2*dv[i])
		}
	}
}

func TestAttentionPanics(t *testing.T) {
	q := make([]float32, 64)
	op := AttentionOperand{q, 16, 4, 8}
	st := make([]float32, 16)
	sh := AttentionShape{2, 2, 2, 2, 4, 4}
	mustPanic(t, "short", func() { Attention(AttentionOperand{q[:30], 16, 4, 8}, st, op, op, op, sh, AttentionOptions{}) }, "Attention", "short o")
	mustPanic(t, "stats", func() { Attention(op, st[:7], op, op, op, sh, AttentionOptions{}) }, "len(stats)=7")
	mustPanic(t, "negative", func() { Attention(op, st, op, op, op, AttentionShape{2, 2, -1, 2, 4, 4}, AttentionOptions{}) }, "negative size")
	mustPanic(t, "overlap", func() { Attention(op, st, AttentionOperand{q, 16, 4, 2}, op, op, sh, AttentionOptions{}) }, "rows would overlap")
	mustPanic(t, "overflow", func() {
		Attention(op, st, AttentionOperand{q, maxInt / 2, 4, 8}, op, op, AttentionShape{4, 2, 2, 2, 4, 4}, AttentionOptions{})
	}, "overflow")
	mustPanic(t, "mask", func() { Attention(op, st, op, op, op, sh, AttentionOptions{Mask: make([]float32, 3)}) }, "len(Mask)=3")
	mustPanic(t, "kp", func() { Attention(op, st, op, op, op, sh, AttentionOptions{KeyPadding: make([]bool, 3)}) }, "len(KeyPadding)=3")
	mustPanic(t, "dropout", func() { Attention(op, st, op, op, op, sh, AttentionOptions{Dropout: 1.5}) }, "dropout probability")
	mustPanic(t, "backward do", func() {
		AttentionBackward(op, op, op, AttentionOperand{q[:10], 16, 4, 8}, op, st, op, op, op, sh, AttentionOptions{})
	}, "AttentionBackward", "short do")
}

func TestAttentionZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's shadow bookkeeping may allocate")
	}
	r := newRand(t)
	sh := AttentionShape{1, 2, 140, 270, 8, 8}
	if reduced() {
		sh = AttentionShape{1, 2, 130, 260, 4, 4}
	}
	c := newAttnCase(r, "allocs", sh, AttentionOptions{Causal: true, Dropout: 0.1, Seed: 1, Mask: randFloats(r, sh.S, -1, 1)}, 1)
	qo, ko, vo := c.operands(c.q, c.k, c.v)
	o := make([]float32, sh.N*sh.L*sh.H*sh.DV)
	st := make([]float32, 2*sh.N*sh.H*sh.L)
	dq, dk, dv := make([]float32, len(c.q)), make([]float32, len(c.k)), make([]float32, len(c.v))
	dqo, dko, dvo := c.operands(dq, dk, dv)
	fwd := func() { Attention(c.outOperand(o), st, qo, ko, vo, sh, c.opt) }
	bwd := func() {
		AttentionBackward(dqo, dko, dvo, c.outOperand(c.do), c.outOperand(o), st, qo, ko, vo, sh, c.opt)
	}
	forEachBackend(t, func(t *testing.T) {
		for _, w := range []int{1, 2} {
			restore := setMaxWorkers(w)
			for range 3 { // every pool worker grows its scratch
				fwd()
				bwd()
			}
			if n := testing.AllocsPerRun(3, fwd); n != 0 {
				t.Errorf("Attention (workers=%d): %v allocations", w, n)
			}
			if n := testing.AllocsPerRun(3, bwd); n != 0 {
				t.Errorf("AttentionBackward (workers=%d): %v allocations", w, n)
			}
			restore()
		}
	})
}

// TestImplAttentionRows: the attention row entries of every SIMD backend
// against the pure-Go ones, every tail, special values, every limit kind,
// with and without the additive mask, in place, and at guard pages.
func TestImplAttentionRows(t *testing.T) {
	forEachImpl(t, func(t *testing.T, b *impl) {
		r := newRand(t)
		for _, n := range rowSizes() {
			for _, specials := range []bool{false, true} {
				x := mixedData(r, n, 4, specials)
				var zeros []float32
				if n > 0 {
					zeros = make([]float32, n)
					zeros[r.IntN(n)] = float32(math.Copysign(0, -1)) // the sign of a zero max is fixed
				}
				for _, add := range [][]float32{nil, mixedData(r, n, 1, specials)} {
					for _, limit := range []int{n, r.IntN(n + 1), 0} {
						scale := []float32{1, 0.125, float32(r.Float64() * 3)}[r.IntN(3)]
						for _, src := range [][]float32{x, zeros} {
							got, want := clone(src), clone(src)
							mg := b.attnScoreRow(got, add, scale, limit)
							mw := generic.attnScoreRow(want, add, scale, limit)
							requireBitsEqual(t, fmt.Sprintf("attnScoreRow n=%d limit=%d", n, limit), got, want)
							requireSame(t, fmt.Sprintf("attnScoreRow max n=%d limit=%d", n, limit), mg, mw)
						}
					}
				}
				for _, m := range []float32{0, 3, float32(r.NormFloat64() * 4), float32(math.Inf(-1))} {
					got, want := clone(x), clone(x)
					sg, sw := b.attnExpRow(got, m), generic.attnExpRow(want, m)
					requireBitsEqual(t, fmt.Sprintf("attnExpRow n=%d m=%v", n, m), got, want)
					requireSame(t, fmt.Sprintf("attnExpRow sum n=%d m=%v", n, m), sg, sw)
				}
				p := mixedData(r, n, 1, specials)
				d, scale := float32(r.NormFloat64()), float32(r.Float64()*2)
				got, want := clone(x), clone(x)
				b.attnGradRow(got, p, d, scale)
				generic.attnGradRow(want, p, d, scale)
				requireBitsEqual(t, fmt.Sprintf("attnGradRow n=%d", n), got, want)
			}
		}
		if !guard.Protected {
			return
		}
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		for _, head := range []bool{false, true} {
			f32 := guard.Float32s
			if head {
				f32 = guard.Float32sHead
			}
			for n := 0; n <= 70; n++ {
				x, f1 := f32(n)
				y, f2 := f32(n)
				copy(x, mixedData(r, n, 2, false))
				copy(y, mixedData(r, n, 2, false))
				b.attnScoreRow(x, y, 0.5, n)
				b.attnScoreRow(x, nil, 0.5, n/2)
				b.attnExpRow(x, 1)
				b.attnGradRow(x, y, 0.5, 2)
				f1()
				f2()
			}
		}
	})
}
