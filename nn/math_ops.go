package nn

import "github.com/simdformer/simdformer/kernels"

// Elementwise math: Tanh, Sigmoid, Exp, Log and Div. Each forward sits next
// to its record type (what its backward reads) and the record's backward.

// Tanh returns tanh(x) elementwise (kernels.Tanh, within 1.5 ulp). Its
// backward reads the output, dx = dy·(1 - y²): do not overwrite the result
// in place (Dropout with Inplace, Graph.DropoutInPlace) when x needs a
// gradient.
func (g *Graph) Tanh(x *Tensor) *Tensor {
	return g.mathUnary(x, kernels.Tanh, mathTanh)
}

// Sigmoid returns the logistic function 1/(1 + e^-x) elementwise
// (kernels.Sigmoid). Its backward reads the output, dx = dy·y·(1 - y): do
// not overwrite the result in place when x needs a gradient.
func (g *Graph) Sigmoid(x *Tensor) *Tensor {
	return g.mathUnary(x, kernels.Sigmoid, mathSigmoid)
}

// Exp returns e^x elementwise with the canonical exp (kernels.Exp). Its
// backward reads the output, dx = dy·y: do not overwrite the result in place
// when x needs a gradient.
func (g *Graph) Exp(x *Tensor) *Tensor {
	return g.mathUnary(x, kernels.Exp, mathExp)
}

// Log returns the natural logarithm elementwise (kernels.Log: -Inf at 0,
// NaN below 0, like torch.log). Backward: dx = dy / x.
func (g *Graph) Log(x *Tensor) *Tensor {
	return g.mathUnary(x, kernels.Log, mathLog)
}

// mathFn names the unary op of a mathRec.
type mathFn uint8

const (
	mathTanh mathFn = iota
	mathSigmoid
	mathExp
	mathLog
)

// mathRec is what the backward of Tanh, Sigmoid, Exp and Log needs: the
// input and which function it was.
type mathRec struct {
	x  *Tensor
	fn mathFn
}

func (g *Graph) mathUnary(x *Tensor, f func(dst, src []float32), fn mathFn) *Tensor {
	out := g.newTensor(x.Shape...)
	f(out.Data, x.Data)
	if g.recording(x) {
		*record(g, &g.recs.math, out) = mathRec{x, fn}
	}
	return out
}

// backward computes dx from dy = out.Grad, through the output y for tanh,
// sigmoid and exp and through x for log (dx may alias dy).
func (r *mathRec) backward(g *Graph, out *Tensor) {
	dst, done := g.gradInPlace(r.x, out)
	y, dy := out.Data, out.Grad
	switch r.fn {
	case mathTanh:
		kernels.TanhBackward(dst, y, dy)
	case mathSigmoid:
		kernels.SigmoidBackward(dst, y, dy)
	case mathExp:
		kernels.Mul(dst, dy, y)
	case mathLog:
		kernels.Div(dst, dy, r.x.Data)
	}
	done(g, r.x, dst)
}

// Div returns a / b elementwise (IEEE division). b's shape must equal a's
// or a suffix of it (b is then broadcast over a's leading dimensions, the
// rule of Add); a shape-[] b divides by a scalar. Both may require
// gradients: da = dy / b, db = -Σ dy·(a/b)/b over the broadcast dimensions.
func (g *Graph) Div(a, b *Tensor) *Tensor {
	checkSuffix("Div", a, b)
	out := g.newTensor(a.Shape...)
	nb := len(b.Data)
	if nb > 0 {
		for s := 0; s < len(a.Data); s += nb {
			kernels.Div(out.Data[s:s+nb], a.Data[s:s+nb], b.Data)
		}
	}
	if g.recording(a, b) {
		*record(g, &g.recs.div, out) = divRec{a, b}
	}
	return out
}

// divRec is what Div's backward needs: both operands (b may be a broadcast
// suffix of a).
type divRec struct{ a, b *Tensor }

func (r *divRec) backward(g *Graph, out *Tensor) {
	a, b, dy := r.a, r.b, out.Grad
	nb := len(b.Data)
	if nb == 0 {
		return
	}
	da := g.alloc(len(dy)) // dy / b
	for s := 0; s < len(dy); s += nb {
		kernels.Div(da[s:s+nb], dy[s:s+nb], b.Data)
	}
	if b.RequiresGrad {
		// db = -Σ (dy/b)·(a/b): a/b is recomputed, not read from the
		// output (which an in-place op may have overwritten).
		q := g.alloc(len(dy))
		for s := 0; s < len(dy); s += nb {
			kernels.Div(q[s:s+nb], a.Data[s:s+nb], b.Data)
		}
		kernels.Mul(q, q, da)
		db := g.gradZeroed(b)
		for s := 0; s < len(dy); s += nb {
			kernels.Sub(db, db, q[s:s+nb])
		}
	}
	if a.RequiresGrad {
		g.accumulate(a, da)
	}
}
