package nn

import (
	"fmt"

	"github.com/simdformer/simdformer/kernels"
)

// Reshape returns x viewed with another shape of the same number of
// elements (the data is shared). One dimension may be -1 (inferred).
func (g *Graph) Reshape(x *Tensor, shape ...int) *Tensor {
	var buf [6]int
	s := append(buf[:0], shape...)
	infer, known := -1, 1
	for i, d := range s {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			panic(fmt.Sprintf("nn: Reshape: bad shape %s for a tensor of shape %v", shapeStr(shape), x.Shape))
		default:
			known *= d
		}
	}
	if infer >= 0 && known > 0 {
		s[infer] = len(x.Data) / known
	}
	if numel(s) != len(x.Data) {
		panic(fmt.Sprintf("nn: Reshape: shape %s does not fit a tensor of shape %v", shapeStr(shape), x.Shape))
	}
	out := g.tensor(x.Data, s...)
	if g.recording(x) {
		record(g, &g.recs.reshape, out).x = x
	}
	return out
}

// reshapeRec: a view's gradient is its input's.
type reshapeRec struct{ x *Tensor }

func (r *reshapeRec) backward(g *Graph, out *Tensor) { g.passThrough(r.x, out) }

// Add returns a + b. b's shape must equal a's or a suffix of it (then b is
// broadcast over a's leading dimensions, e.g. a bias or position table).
func (g *Graph) Add(a, b *Tensor) *Tensor {
	checkSuffix("Add", a, b)
	out := g.newTensor(a.Shape...)
	nb := len(b.Data)
	if nb > 0 {
		for s := 0; s < len(a.Data); s += nb {
			kernels.Add(out.Data[s:s+nb], a.Data[s:s+nb], b.Data)
		}
	}
	if g.recording(a, b) {
		*record(g, &g.recs.add, out) = addRec{a, b}
	}
	return out
}

func checkSuffix(op string, a, b *Tensor) {
	ok := len(b.Shape) <= len(a.Shape)
	if ok {
		off := len(a.Shape) - len(b.Shape)
		for i, d := range b.Shape {
			if a.Shape[off+i] != d {
				ok = false
			}
		}
	}
	if !ok {
		panic(fmt.Sprintf("nn: %s: shapes %v and %v: the second must equal the first or a suffix of it", op, a.Shape, b.Shape))
	}
}

// addRec: b may be a broadcast suffix of a.
type addRec struct{ a, b *Tensor }

func (r *addRec) backward(g *Graph, out *Tensor) {
	a, b, dy := r.a, r.b, out.Grad
	if b.RequiresGrad {
		db := g.gradZeroed(b)
		nb := len(db)
		if nb > 0 {
			for s := 0; s < len(dy); s += nb {
				kernels.Add(db, db, dy[s:s+nb])
			}
		}
	}
	if a.RequiresGrad {
		g.passThrough(a, out)
	}
}

// Sub returns a - b (same shapes).
func (g *Graph) Sub(a, b *Tensor) *Tensor {
	checkSame("Sub", a, b)
	out := g.newTensor(a.Shape...)
	kernels.Sub(out.Data, a.Data, b.Data)
	if g.recording(a, b) {
		*record(g, &g.recs.sub, out) = subRec{a, b}
	}
	return out
}

func checkSame(op string, a, b *Tensor) {
	if !sameShape(a.Shape, b.Shape) {
		panic(fmt.Sprintf("nn: %s: shapes %v and %v differ", op, a.Shape, b.Shape))
	}
}

type subRec struct{ a, b *Tensor }

func (r *subRec) backward(g *Graph, out *Tensor) {
	a, b, dy := r.a, r.b, out.Grad
	if b.RequiresGrad {
		db, fresh := g.gradDst(b)
		if fresh {
			kernels.Scale(db, dy, -1)
		} else {
			kernels.Sub(db, db, dy)
		}
	}
	if a.RequiresGrad {
		g.accumulate(a, dy)
	}
}

// Mul returns the elementwise product a ⊙ b (same shapes).
func (g *Graph) Mul(a, b *Tensor) *Tensor {
	checkSame("Mul", a, b)
	out := g.newTensor(a.Shape...)
	kernels.Mul(out.Data, a.Data, b.Data)
	if g.recording(a, b) {
		*record(g, &g.recs.mul, out) = mulRec{a, b}
	}
	return out
}

type mulRec struct{ a, b *Tensor }

func (r *mulRec) backward(g *Graph, out *Tensor) {
	a, b, dy := r.a, r.b, out.Grad
	tmp := g.alloc(len(dy))
	if a.RequiresGrad {
		kernels.Mul(tmp, dy, b.Data)
		g.accumulate(a, tmp)
	}
	if b.RequiresGrad {
		kernels.Mul(tmp, dy, a.Data)
		g.accumulate(b, tmp)
	}
}

// Scale returns alpha·x.
func (g *Graph) Scale(x *Tensor, alpha float32) *Tensor {
	out := g.newTensor(x.Shape...)
	kernels.Scale(out.Data, x.Data, alpha)
	if g.recording(x) {
		*record(g, &g.recs.scale, out) = scaleRec{x, alpha}
	}
	return out
}

type scaleRec struct {
	x     *Tensor
	alpha float32
}

func (r *scaleRec) backward(g *Graph, out *Tensor) {
	dst, done := g.gradInPlace(r.x, out)
	kernels.Scale(dst, out.Grad, r.alpha)
	done(g, r.x, dst)
}

// ReLU returns max(x, 0) elementwise (gradient 0 at x = 0, like PyTorch).
func (g *Graph) ReLU(x *Tensor) *Tensor {
	return g.unary(x, kernels.ReLU, kernels.ReLUBackward)
}

// GELU returns x·Φ(x) with the exact (erf) Φ: nn.GELU().
func (g *Graph) GELU(x *Tensor) *Tensor {
	return g.unary(x, kernels.GELU, kernels.GELUBackward)
}

// GELUTanh returns the tanh approximation of GELU: nn.GELU(approximate='tanh').
func (g *Graph) GELUTanh(x *Tensor) *Tensor {
	return g.unary(x, kernels.GELUTanh, kernels.GELUTanhBackward)
}

func (g *Graph) unary(x *Tensor, f func(dst, src []float32), grad func(dx, x, dy []float32)) *Tensor {
	out := g.newTensor(x.Shape...)
	f(out.Data, x.Data)
	if g.recording(x) {
		*record(g, &g.recs.unary, out) = unaryRec{x, grad}
	}
	return out
}

// unaryRec: an elementwise activation whose derivative kernel reads x.
type unaryRec struct {
	x    *Tensor
	grad func(dx, x, dy []float32) // kernels.ReLUBackward, …
}

func (r *unaryRec) backward(g *Graph, out *Tensor) {
	dst, done := g.gradInPlace(r.x, out)
	r.grad(dst, r.x.Data, out.Grad)
	done(g, r.x, dst)
}

// Sum returns the sum of all elements as a one-element tensor of shape [].
func (g *Graph) Sum(x *Tensor) *Tensor {
	return g.reduceAll(x, 1)
}

// Mean returns the mean of all elements as a tensor of shape [].
func (g *Graph) Mean(x *Tensor) *Tensor {
	return g.reduceAll(x, 1/float32(len(x.Data)))
}

func (g *Graph) reduceAll(x *Tensor, scale float32) *Tensor {
	out := g.newTensor()
	out.Data[0] = kernels.Sum(x.Data) * scale
	if g.recording(x) {
		*record(g, &g.recs.reduceAll, out) = reduceAllRec{x, scale}
	}
	return out
}

// reduceAllRec: out = scale·Σx.
type reduceAllRec struct {
	x     *Tensor
	scale float32
}

func (r *reduceAllRec) backward(g *Graph, out *Tensor) {
	x := r.x
	v := float32(out.Grad[0] * r.scale)
	dx, fresh := g.gradDst(x)
	if fresh {
		for i := range dx {
			dx[i] = v
		}
		return
	}
	for i := range dx {
		dx[i] += v
	}
}

// axes splits x's shape around axis into (outer, mid, inner).
func axes(op string, x *Tensor, axis int) (outer, mid, inner, ax int) {
	if axis < 0 {
		axis += len(x.Shape)
	}
	if axis < 0 || axis >= len(x.Shape) {
		panic(fmt.Sprintf("nn: %s: axis %d out of range for shape %v", op, axis, x.Shape))
	}
	outer, inner = numel(x.Shape[:axis]), numel(x.Shape[axis+1:])
	return outer, x.Shape[axis], inner, axis
}

// dropAxis returns shape without dimension ax, in buf.
func dropAxis(buf *[6]int, shape []int, ax int) []int {
	s := append(buf[:0], shape[:ax]...)
	return append(s, shape[ax+1:]...)
}

// MeanAxis returns the mean over one axis, which is removed from the shape
// (e.g. mean pooling (N, L, D) -> (N, D) with axis 1).
func (g *Graph) MeanAxis(x *Tensor, axis int) *Tensor {
	outer, mid, inner, ax := axes("MeanAxis", x, axis)
	var buf [6]int
	out := g.newTensor(dropAxis(&buf, x.Shape, ax)...)
	clear(out.Data)
	for o := 0; o < outer; o++ {
		dst := out.Data[o*inner : (o+1)*inner]
		for m := 0; m < mid; m++ {
			s := (o*mid + m) * inner
			kernels.Add(dst, dst, x.Data[s:s+inner])
		}
		if mid > 0 {
			kernels.Scale(dst, dst, 1/float32(mid))
		}
	}
	if g.recording(x) {
		*record(g, &g.recs.meanAxis, out) = meanAxisRec{x, outer, mid, inner}
	}
	return out
}

// meanAxisRec: x viewed as (outer, mid, inner), averaged over mid.
type meanAxisRec struct {
	x                 *Tensor
	outer, mid, inner int
}

func (r *meanAxisRec) backward(g *Graph, out *Tensor) {
	outer, mid, inner := r.outer, r.mid, r.inner
	dx := g.gradZeroed(r.x)
	dy := out.Grad
	w := 1 / float32(mid)
	for o := 0; o < outer; o++ {
		for m := 0; m < mid; m++ {
			s := (o*mid + m) * inner
			kernels.Axpy(w, dy[o*inner:(o+1)*inner], dx[s:s+inner])
		}
	}
}

// Select returns x[..., index, ...] along axis, removing that axis (e.g. the
// first token (N, L, D) -> (N, D) with axis 1, index 0).
func (g *Graph) Select(x *Tensor, axis, index int) *Tensor {
	outer, mid, inner, ax := axes("Select", x, axis)
	if index < 0 || index >= mid {
		panic(fmt.Sprintf("nn: Select: index %d out of range for axis %d of shape %v", index, axis, x.Shape))
	}
	var buf [6]int
	out := g.newTensor(dropAxis(&buf, x.Shape, ax)...)
	for o := 0; o < outer; o++ {
		s := (o*mid + index) * inner
		copy(out.Data[o*inner:(o+1)*inner], x.Data[s:s+inner])
	}
	if g.recording(x) {
		*record(g, &g.recs.sel, out) = selectRec{x, outer, mid, inner, index}
	}
	return out
}

// selectRec: x viewed as (outer, mid, inner), row index of mid taken.
type selectRec struct {
	x                        *Tensor
	outer, mid, inner, index int
}

func (r *selectRec) backward(g *Graph, out *Tensor) {
	outer, mid, inner, index := r.outer, r.mid, r.inner, r.index
	dx := g.gradZeroed(r.x)
	dy := out.Grad
	for o := 0; o < outer; o++ {
		s := (o*mid + index) * inner
		kernels.Add(dx[s:s+inner], dx[s:s+inner], dy[o*inner:(o+1)*inner])
	}
}

// Softmax returns the softmax over the last dimension.
func (g *Graph) Softmax(x *Tensor) *Tensor {
	return g.SoftmaxWith(x, kernels.SoftmaxOptions{})
}

// SoftmaxWith returns the softmax over the last dimension with the fused
// kernel's options (scale, additive Mask, Ignore, Causal; the rows are all
// leading dimensions flattened). With opt.Dropout > 0 the result is the
// dropped-out probabilities (kernels.SoftmaxDropout, element index
// opt.Offset + flat position under opt.Seed; the mask is regenerated in
// backward, never stored). A fully masked row gives zeros and zero gradient.
func (g *Graph) SoftmaxWith(x *Tensor, opt kernels.SoftmaxOptions) *Tensor {
	rows, cols := rowsCols("Softmax", x)
	y := g.newTensor(x.Shape...)
	out := y
	if opt.Dropout != 0 {
		out = g.newTensor(x.Shape...)
		kernels.SoftmaxDropout(y.Data, out.Data, x.Data, rows, cols, opt)
	} else {
		kernels.Softmax(y.Data, x.Data, rows, cols, opt)
	}
	if g.recording(x) {
		*record(g, &g.recs.softmax, out) = softmaxRec{x: x, y: y.Data, rows: rows, cols: cols,
			scale: opt.Scale, p: opt.Dropout, seed: opt.Seed, offset: opt.Offset}
	}
	return out
}

// softmaxRec: y is the undropped softmax; with p > 0 the dropout mask is
// regenerated from (seed, offset).
type softmaxRec struct {
	x          *Tensor
	y          []float32
	rows, cols int
	scale, p   float32
	seed       uint64
	offset     uint64
}

func (r *softmaxRec) backward(g *Graph, out *Tensor) {
	scale := r.scale
	if scale == 0 {
		scale = 1
	}
	dst, done := g.gradInPlace(r.x, out)
	if r.p != 0 {
		kernels.SoftmaxDropoutBackward(dst, r.y, out.Grad, r.rows, r.cols, scale, r.p, r.seed, r.offset)
	} else {
		kernels.SoftmaxBackward(dst, r.y, out.Grad, r.rows, r.cols, scale)
	}
	done(g, r.x, dst)
}
