package nn

import (
	"fmt"

	"github.com/simdformer/simdformer/kernels"
)

// BCELoss is nn.BCELoss: the binary cross-entropy between probabilities x
// in [0, 1] and targets t of the same shape,
//
//	ℓ = -w·(t·max(ln x, -100) + (1-t)·max(ln(1-x), -100))
//
// (PyTorch clamps each log at -100, so x = 0 or 1 gives a finite loss).
// Weight (nil = 1) rescales each element; its shape must be a suffix of the
// input's (broadcast over the leading dimensions) or it holds one value, and
// it gets no gradient.
// Both x and t may require gradients: dx = w·(x-t)/max(x·(1-x), 1e-12),
// dt = w·(max(ln(1-x), -100) - max(ln x, -100)).
type BCELoss struct {
	Weight    *Tensor
	Reduction Reduction
}

// NewBCELoss returns PyTorch's defaults: no weight, mean reduction.
func NewBCELoss() *BCELoss { return &BCELoss{} }

// BCEWithLogitsLoss is nn.BCEWithLogitsLoss: sigmoid and binary
// cross-entropy in one numerically stable expression of the logits x,
//
//	ℓ = w·((1-t)·x + (1 + (p-1)·t)·softplus(-x)),
//	softplus(-x) = max(-x, 0) + ln(1 + e^-|x|)
//
// (no overflow for any x, like PyTorch's). PosWeight p (nil = 1) weighs the
// positive term, per class: its shape must be a suffix of the input's, e.g.
// (C) for (N, C) logits, or it holds one value. Weight (nil = 1) rescales
// each element, with the same rule. Neither gets a gradient. Both x and t may require
// gradients: dx = w·((1 + (p-1)·t)·σ(x) - p·t), dt = w·((p-1)·softplus(-x) - x).
type BCEWithLogitsLoss struct {
	Weight, PosWeight *Tensor
	Reduction         Reduction
}

// NewBCEWithLogitsLoss returns PyTorch's defaults: no weights, mean
// reduction.
func NewBCEWithLogitsLoss() *BCEWithLogitsLoss { return &BCEWithLogitsLoss{} }

// bceRec is what the backward of both losses needs: input x, target t,
// the weights (constants, nil = 1), the reduction and which loss it was.
type bceRec struct {
	x, t, weight, posWeight *Tensor
	red                     Reduction
	logits                  bool
}

func checkBCEArgs(op string, x, t, w, pw *Tensor, red Reduction) {
	checkSame(op, x, t)
	checkWeight(op, "weight", x, w)
	checkWeight(op, "pos_weight", x, pw)
	if red != ReduceMean && red != ReduceSum && red != ReduceNone {
		panic(fmt.Sprintf("nn: %s: unknown reduction %v", op, red))
	}
}

// checkWeight panics unless w is nil, holds one value or has a suffix of
// x's shape.
func checkWeight(op, name string, x, w *Tensor) {
	if w == nil || len(w.Data) == 1 {
		return
	}
	ok := len(w.Shape) <= len(x.Shape)
	for i := 0; ok && i < len(w.Shape); i++ {
		ok = w.Shape[i] == x.Shape[len(x.Shape)-len(w.Shape)+i]
	}
	if !ok {
		panic(fmt.Sprintf("nn: %s: input shape %v and %s shape %v: the %s must have a suffix of the input's shape or one value",
			op, x.Shape, name, w.Shape, name))
	}
}

// bcast returns element i of a suffix-broadcast tensor (1 for nil).
func bcast(w *Tensor, i int) float32 {
	if w == nil {
		return 1
	}
	return w.Data[i%len(w.Data)]
}

// bceLogs writes lx = max(ln x, -100) and l1x = max(ln(1-x), -100).
func bceLogs(lx, l1x, x []float32) {
	kernels.Log(lx, x)
	kernels.Scale(l1x, x, -1)
	kernels.Log1p(l1x, l1x)
	for i := range lx {
		lx[i] = max(lx[i], -100)
		l1x[i] = max(l1x[i], -100)
	}
}

// Forward returns the loss of probabilities x against targets t (same
// shape). It panics when an element of x is outside [0, 1] (or NaN), as
// PyTorch raises.
func (l *BCELoss) Forward(g *Graph, x, t *Tensor) *Tensor {
	checkBCEArgs("BCELoss", x, t, l.Weight, nil, l.Reduction)
	for i, v := range x.Data {
		if !(v >= 0 && v <= 1) {
			panic(fmt.Sprintf("nn: BCELoss: input[%d] = %v of input shape %v is outside [0, 1]", i, v, x.Shape))
		}
	}
	n := len(x.Data)
	per := g.alloc(n)
	l1x := g.alloc(n)
	bceLogs(per, l1x, x.Data)
	for i, tv := range t.Data {
		a := float32(tv * per[i])
		b := float32((tv - 1) * l1x[i])
		per[i] = float32((b - a) * bcast(l.Weight, i))
	}
	out := reduceLoss(g, per, x.Shape, l.Reduction)
	if g.recording(x, t) {
		*record(g, &g.recs.bce, out) = bceRec{x: x, t: t, weight: l.Weight, red: l.Reduction}
	}
	return out
}

// Forward returns the loss of logits x against targets t (same shape).
func (l *BCEWithLogitsLoss) Forward(g *Graph, x, t *Tensor) *Tensor {
	checkBCEArgs("BCEWithLogitsLoss", x, t, l.Weight, l.PosWeight, l.Reduction)
	n := len(x.Data)
	per := g.alloc(n)
	softplusNeg(per, x.Data)
	for i, xv := range x.Data {
		tv := t.Data[i]
		lw := fma32(bcast(l.PosWeight, i)-1, tv, 1)
		v := float32((1 - tv) * xv)
		v = fma32(lw, per[i], v)
		per[i] = float32(v * bcast(l.Weight, i))
	}
	out := reduceLoss(g, per, x.Shape, l.Reduction)
	if g.recording(x, t) {
		*record(g, &g.recs.bce, out) = bceRec{x: x, t: t, weight: l.Weight, posWeight: l.PosWeight, red: l.Reduction, logits: true}
	}
	return out
}

// softplusNeg writes dst = softplus(-x) = max(-x, 0) + ln(1 + e^-|x|).
func softplusNeg(dst, x []float32) {
	for i, v := range x {
		dst[i] = -abs32(v)
	}
	kernels.Exp(dst, dst)
	kernels.Log1p(dst, dst)
	for i, v := range x {
		dst[i] += max(-v, 0)
	}
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v // +0, -0 (sign irrelevant here) and NaN
}

// fma32 is a*b+c rounded once, like the kernels' FMA (float64 holds a*b
// exactly; the second rounding to float32 can differ from a true FMA only
// on exact float32 midpoints, which does not matter for these losses and is
// the same on every platform).
func fma32(a, b, c float32) float32 {
	return float32(float64(a)*float64(b) + float64(c))
}

// reduceLoss builds a loss tensor from per-element values: the values
// themselves (shape of the input) or their sum or mean (shape []),
// accumulated in float64 in index order.
func reduceLoss(g *Graph, per []float32, shape []int, red Reduction) *Tensor {
	if red == ReduceNone {
		return g.tensor(per, shape...)
	}
	out := g.newTensor()
	var s float64
	for _, v := range per {
		s += float64(v)
	}
	if red == ReduceMean {
		s /= float64(len(per)) // 0/0 = NaN for an empty input, like PyTorch
	}
	out.Data[0] = float32(s)
	return out
}

// backward: c[i] = dy[i] (none), dy (sum) or dy/n (mean), times w[i];
// then dx and dt as in the loss types' comments.
func (r *bceRec) backward(g *Graph, out *Tensor) {
	x, t, dy := r.x, r.t, out.Grad
	n := len(x.Data)
	c := g.alloc(n)
	for i := range c {
		var u float32
		switch r.red {
		case ReduceNone:
			u = dy[i]
		case ReduceSum:
			u = dy[0]
		default:
			u = dy[0] / float32(n)
		}
		c[i] = float32(u * bcast(r.weight, i))
	}
	var dt []float32
	if t.RequiresGrad {
		dt = g.alloc(n)
		if r.logits { // (p-1)·softplus(-x) - x
			softplusNeg(dt, x.Data)
			for i, xv := range x.Data {
				dt[i] = float32(c[i] * fma32(bcast(r.posWeight, i)-1, dt[i], -xv))
			}
		} else { // max(ln(1-x), -100) - max(ln x, -100)
			lx := g.alloc(n)
			bceLogs(lx, dt, x.Data)
			for i := range dt {
				dt[i] = float32(c[i] * (dt[i] - lx[i]))
			}
		}
	}
	if x.RequiresGrad {
		dx := g.alloc(n)
		if r.logits { // (1 + (p-1)·t)·σ(x) - p·t
			kernels.Sigmoid(dx, x.Data)
			for i, tv := range t.Data {
				p := bcast(r.posWeight, i)
				lw := fma32(p-1, tv, 1)
				dx[i] = float32(c[i] * fma32(lw, dx[i], -float32(p*tv)))
			}
		} else { // (x - t)/max(x·(1-x), 1e-12)
			for i, xv := range x.Data {
				den := max(float32(xv*(1-xv)), 1e-12)
				dx[i] = float32(c[i] * ((xv - t.Data[i]) / den))
			}
		}
		g.accumulate(x, dx)
	}
	if dt != nil {
		g.accumulate(t, dt)
	}
}
