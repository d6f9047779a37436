package nn

import (
	"fmt"
	"math"

	"github.com/simdformer/simdformer/kernels"
)

// Linear returns x·wᵀ + b, PyTorch's F.linear: x is (..., in), w is
// (out, in), b is (out) or nil; the result is (..., out). The product is one
// kernels.Gemm(false, true, …) whose accumulators start from the bias.
func (g *Graph) Linear(x, w, b *Tensor) *Tensor {
	if len(w.Shape) != 2 || len(x.Shape) == 0 || x.Shape[len(x.Shape)-1] != w.Shape[1] ||
		(b != nil && (len(b.Shape) != 1 || b.Shape[0] != w.Shape[0])) {
		bs := []int(nil)
		if b != nil {
			bs = b.Shape
		}
		panic(fmt.Sprintf("nn: Linear: x %v, weight %v, bias %v: want x (..., in), weight (out, in), bias (out)", x.Shape, w.Shape, bs))
	}
	out, in := w.Shape[0], w.Shape[1]
	m := len(x.Data) / max(in, 1)
	if in == 0 {
		m = numel(x.Shape[:len(x.Shape)-1])
	}
	var buf [6]int
	shape := append(buf[:0], x.Shape...)
	shape[len(shape)-1] = out
	y := g.newTensor(shape...)
	beta := float32(0)
	if b != nil {
		for r := 0; r < m; r++ {
			copy(y.Data[r*out:(r+1)*out], b.Data)
		}
		beta = 1
	}
	kernels.Gemm(false, true, m, out, in, 1, x.Data, in, w.Data, in, beta, y.Data, out)
	if g.recording(x, w, b) {
		*record(g, &g.recs.linear, y) = linearRec{x: x, w: w, b: b, rows: m, in: in, out: out}
	}
	return y
}

// linearRec: y (rows, out) = x (rows, in)·wᵀ + b.
type linearRec struct {
	x, w, b       *Tensor // b may be nil
	rows, in, out int
}

func (r *linearRec) backward(g *Graph, y *Tensor) {
	x, w, b := r.x, r.w, r.b
	m, in, out := r.rows, r.in, r.out
	dy := y.Grad
	if x.RequiresGrad {
		dx, fresh := g.gradDst(x)
		kernels.Gemm(false, false, m, in, out, 1, dy, out, w.Data, in, beta(fresh), dx, in)
	}
	if w.RequiresGrad {
		dw, fresh := g.gradDst(w)
		kernels.Gemm(true, false, out, in, m, 1, dy, out, x.Data, in, beta(fresh), dw, in)
	}
	if b != nil && b.RequiresGrad {
		db := g.gradZeroed(b)
		for r := 0; r < m; r++ {
			kernels.Add(db, db, dy[r*out:(r+1)*out])
		}
	}
}

// beta is the Gemm beta that overwrites a fresh gradient buffer and
// accumulates into an existing one.
func beta(fresh bool) float32 {
	if fresh {
		return 0
	}
	return 1
}

// Trans selects which operands of MatMul are transposed: NoTrans, TransA,
// TransB or TransA|TransB.
type Trans uint8

const (
	NoTrans Trans = 0      // a·b
	TransA  Trans = 1 << 0 // use aᵀ (the last two dimensions swapped)
	TransB  Trans = 1 << 1 // use bᵀ
)

// MatMul returns op(a)·op(b), where op transposes the last two dimensions
// of the operands that t names (g.MatMul(q, k, nn.TransB) is q·kᵀ). a and
// b are 2-D, or 3-D with the same batch size (a batched product), or a is
// 3-D and b 2-D (b shared by every batch).
func (g *Graph) MatMul(a, b *Tensor, t Trans) *Tensor {
	transA, transB := t&TransA != 0, t&TransB != 0
	ra, rb := len(a.Shape), len(b.Shape)
	bad := ra < 2 || ra > 3 || rb < 2 || rb > 3 || (ra == 2 && rb == 3) || (ra == 3 && rb == 3 && a.Shape[0] != b.Shape[0])
	var m, k, k2, nn int
	if !bad {
		m, k = a.Shape[ra-2], a.Shape[ra-1]
		if transA {
			m, k = k, m
		}
		k2, nn = b.Shape[rb-2], b.Shape[rb-1]
		if transB {
			k2, nn = nn, k2
		}
		bad = k != k2
	}
	if bad {
		panic(fmt.Sprintf("nn: MatMul: shapes %v (trans %v) and %v (trans %v) do not multiply", a.Shape, transA, b.Shape, transB))
	}
	batch, bStride := 1, 0
	if ra == 3 {
		batch = a.Shape[0]
		if rb == 3 {
			bStride = k * nn
		}
	}
	var out *Tensor
	if ra == 3 {
		out = g.newTensor(batch, m, nn)
	} else {
		out = g.newTensor(m, nn)
	}
	lda, ldb := a.Shape[ra-1], b.Shape[rb-1]
	for i := 0; i < batch; i++ {
		kernels.Gemm(transA, transB, m, nn, k, 1, a.Data[i*m*k:], lda, b.Data[i*bStride:], ldb, 0, out.Data[i*m*nn:], nn)
	}
	if g.recording(a, b) {
		*record(g, &g.recs.matmul, out) = matmulRec{a: a, b: b, batch: batch, m: m, n: nn, k: k,
			bStride: bStride, lda: lda, ldb: ldb, transA: transA, transB: transB}
	}
	return out
}

// matmulRec: out[i] (m, n) = op(a[i]) (m, k)·op(b[i]) (k, n) for each of
// batch products; bStride 0 means one b shared by the batch.
type matmulRec struct {
	a, b                              *Tensor
	batch, m, n, k, bStride, lda, ldb int
	transA, transB                    bool
}

func (r *matmulRec) backward(g *Graph, out *Tensor) {
	a, b := r.a, r.b
	batch, m, nn, k, bStride, lda, ldb := r.batch, r.m, r.n, r.k, r.bStride, r.lda, r.ldb
	transA, transB := r.transA, r.transB
	dy := out.Grad
	if a.RequiresGrad {
		da, fresh := g.gradDst(a)
		for i := 0; i < batch; i++ {
			dyi, ai := dy[i*m*nn:], da[i*m*k:]
			bi := b.Data[i*bStride:]
			if !transA { // dA (m,k) = dY·op(B)ᵀ
				kernels.Gemm(false, !transB, m, k, nn, 1, dyi, nn, bi, ldb, beta(fresh), ai, lda)
			} else { // dA stored (k,m) = op(B)·dYᵀ
				kernels.Gemm(transB, true, k, m, nn, 1, bi, ldb, dyi, nn, beta(fresh), ai, lda)
			}
		}
	}
	if b.RequiresGrad {
		db, fresh := g.gradDst(b)
		for i := 0; i < batch; i++ {
			bt := beta(fresh)
			if bStride == 0 && i > 0 {
				bt = 1 // a 2-D b shared by the batch accumulates over it
			}
			dyi, ai, bi := dy[i*m*nn:], a.Data[i*m*k:], db[i*bStride:]
			if !transB { // dB (k,n) = op(A)ᵀ·dY
				kernels.Gemm(!transA, false, k, nn, m, 1, ai, lda, dyi, nn, bt, bi, ldb)
			} else { // dB stored (n,k) = dYᵀ·op(A)
				kernels.Gemm(true, transA, nn, k, m, 1, dyi, nn, ai, lda, bt, bi, ldb)
			}
		}
	}
}

// Linear is PyTorch's nn.Linear: y = x·Weightᵀ + Bias, Weight (out, in),
// Bias (out) or nil. state_dict keys: "weight", "bias".
type Linear struct {
	Weight *Tensor
	Bias   *Tensor
}

// NewLinear returns a Linear layer with PyTorch's default initialisation
// (weight and bias uniform in ±1/√in, drawn from the global generator, see
// ManualSeed). It returns an error if in or out is not positive.
func NewLinear(in, out int, bias bool) (*Linear, error) {
	if in <= 0 || out <= 0 {
		return nil, fmt.Errorf("nn: NewLinear: in=%d and out=%d must be positive", in, out)
	}
	l := &Linear{Weight: NewParam(out, in)}
	bound := float32(1 / math.Sqrt(float64(in)))
	fillUniform(l.Weight.Data, -bound, bound)
	if bias {
		l.Bias = NewParam(out)
		fillUniform(l.Bias.Data, -bound, bound)
	}
	return l, nil
}

// Forward returns x·Weightᵀ + Bias for x of shape (..., in).
func (l *Linear) Forward(g *Graph, x *Tensor) *Tensor { return g.Linear(x, l.Weight, l.Bias) }

// Visit lists "weight" and, when present, "bias".
func (l *Linear) Visit(param func(string, *Tensor), child func(string, Module)) {
	param("weight", l.Weight)
	if l.Bias != nil {
		param("bias", l.Bias)
	}
}
