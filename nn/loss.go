package nn

import (
	"fmt"
	"math"

	"github.com/simdformer/simdformer/kernels"
)

// Reduction selects how a loss reduces its per-element values.
type Reduction int

const (
	ReduceMean Reduction = iota // mean (PyTorch's default 'mean')
	ReduceSum                   // 'sum'
	ReduceNone                  // 'none': one value per element/row
)

// String returns PyTorch's name of the reduction ("mean", "sum", "none").
func (r Reduction) String() string {
	switch r {
	case ReduceMean:
		return "mean"
	case ReduceSum:
		return "sum"
	case ReduceNone:
		return "none"
	}
	return fmt.Sprintf("Reduction(%d)", int(r))
}

// CrossEntropyLoss is nn.CrossEntropyLoss over logits whose LAST dimension
// holds the C classes (PyTorch's class dimension is 1; for (N, C) inputs
// they agree, for sequences pass (N, L, C) logits and (N, L) targets).
//
// With class-index targets, rows whose target equals IgnoreIndex contribute
// nothing and are excluded from the mean's count (every row ignored gives
// NaN under ReduceMean, like PyTorch). With LabelSmoothing ε the target
// distribution is (1-ε)·onehot + ε/C. Probability targets (ForwardProbs)
// are mixed the same way.
type CrossEntropyLoss struct {
	IgnoreIndex    int
	Reduction      Reduction
	LabelSmoothing float32
}

// NewCrossEntropyLoss returns PyTorch's defaults: ignore_index -100, mean,
// no label smoothing.
func NewCrossEntropyLoss() *CrossEntropyLoss {
	return &CrossEntropyLoss{IgnoreIndex: -100}
}

// Forward returns the loss of logits (..., C) against class indices
// (one per row; len(targets) = numel/C). targets must not change until
// Backward. It panics on a target outside [0, C) that is not IgnoreIndex.
func (l *CrossEntropyLoss) Forward(g *Graph, logits *Tensor, targets []int) *Tensor {
	M, C := rowsCols("CrossEntropyLoss", logits)
	if len(targets) != M {
		panic(fmt.Sprintf("nn: CrossEntropyLoss: logits %v need %d targets, got %d", logits.Shape, M, len(targets)))
	}
	for _, t := range targets {
		if t != l.IgnoreIndex && (t < 0 || t >= C) {
			panic(fmt.Sprintf("nn: CrossEntropyLoss: target %d out of range for %d classes", t, C))
		}
	}
	return l.forward(g, logits, targets, nil)
}

// ForwardProbs returns the loss of logits (..., C) against probability
// targets of the same shape (ReduceMean divides by the number of rows).
func (l *CrossEntropyLoss) ForwardProbs(g *Graph, logits, target *Tensor) *Tensor {
	rowsCols("CrossEntropyLoss", logits)
	checkSame("CrossEntropyLoss", logits, target)
	return l.forward(g, logits, nil, target)
}

func (l *CrossEntropyLoss) forward(g *Graph, x *Tensor, targets []int, probs *Tensor) *Tensor {
	M, C := rowsCols("CrossEntropyLoss", x)
	eps := l.LabelSmoothing
	if !(eps >= 0 && eps <= 1) {
		panic(fmt.Sprintf("nn: CrossEntropyLoss: label_smoothing=%v must be in [0, 1]", eps))
	}
	tmp := g.alloc(C)
	per := g.alloc(M)
	count := 0
	for r := 0; r < M; r++ {
		row := x.Data[r*C : (r+1)*C]
		m := kernels.Max(row)
		for j, v := range row {
			tmp[j] = v - m
		}
		kernels.Exp(tmp, tmp)
		z := float64(m) + math.Log(float64(kernels.Sum(tmp)))
		var sumX float64 // only the smoothing term reads Σx
		if eps != 0 {
			sumX = float64(kernels.Sum(row))
		}
		if probs != nil {
			t := probs.Data[r*C : (r+1)*C]
			st, dt := float64(kernels.Sum(t)), float64(kernels.Dot(t, row))
			e := float64(eps)
			// Σ q'(lse - x) with q' = (1-ε)t + ε/C
			per[r] = float32(float64((1-e)*(float64(z*st)-dt)) + float64(e*(z-sumX/float64(C))))
			count++
			continue
		}
		if targets[r] == l.IgnoreIndex {
			per[r] = 0
			continue
		}
		count++
		nll := z - float64(row[targets[r]])
		smooth := z - sumX/float64(C)
		per[r] = float32(float64((1-float64(eps))*nll) + float64(float64(eps)*smooth))
	}
	out := l.reduce(g, x.Shape[:len(x.Shape)-1], per, count)
	if g.recording(x) { // targets get no gradient
		*record(g, &g.recs.crossEnt, out) = crossEntropyRec{x: x, targets: targets, probs: probs, eps: eps,
			reduction: l.Reduction, ignore: l.IgnoreIndex, count: count, rows: M, classes: C}
	}
	return out
}

// reduce builds the loss tensor from per-row values.
func (l *CrossEntropyLoss) reduce(g *Graph, rowShape []int, per []float32, count int) *Tensor {
	switch l.Reduction {
	case ReduceNone:
		return g.tensor(per, rowShape...)
	case ReduceSum, ReduceMean:
		out := g.newTensor()
		var s float64
		for _, v := range per {
			s += float64(v)
		}
		if l.Reduction == ReduceMean {
			s /= float64(count) // 0/0 = NaN when every row is ignored, like PyTorch
		}
		out.Data[0] = float32(s)
		return out
	}
	panic(fmt.Sprintf("nn: CrossEntropyLoss: unknown reduction %v", l.Reduction))
}

// crossEntropyRec: x holds rows×classes logits; exactly one of targets
// (class indices) and probs (probability targets) is set. count is the
// number of rows the mean divides by.
type crossEntropyRec struct {
	x                            *Tensor
	targets                      []int
	probs                        *Tensor
	eps                          float32
	reduction                    Reduction
	ignore, count, rows, classes int
}

func (r *crossEntropyRec) backward(g *Graph, out *Tensor) {
	x := r.x
	red, ignore, count, M, C := r.reduction, r.ignore, r.count, r.rows, r.classes
	eps, targets, probs := r.eps, r.targets, r.probs
	dy := out.Grad
	dx, fresh := g.gradDst(x)
	buf := dx
	if !fresh {
		buf = g.alloc(len(dx))
	}
	kernels.Softmax(buf, x.Data, M, C, kernels.SoftmaxOptions{})
	for r := 0; r < M; r++ {
		row := buf[r*C : (r+1)*C]
		var w float32
		switch red {
		case ReduceNone:
			w = dy[r]
		case ReduceSum:
			w = dy[0]
		default:
			w = dy[0] / float32(count)
		}
		if probs != nil { // dL/dx = p·Σq' - q'
			t := probs.Data[r*C : (r+1)*C]
			st := float32((1-eps)*kernels.Sum(t)) + eps
			kernels.Scale(row, row, st)
			kernels.Axpy(-(1 - eps), t, row)
		} else {
			if targets[r] == ignore {
				clear(row)
				continue
			}
			row[targets[r]] -= 1 - eps
		}
		if eps != 0 {
			u := eps / float32(C)
			for j := range row {
				row[j] -= u
			}
		}
		kernels.Scale(row, row, w)
	}
	if !fresh {
		kernels.Add(dx, dx, buf)
	}
}

// MSE returns the mean squared error between x and target (same shapes),
// reduced by r; both may require gradients.
func (g *Graph) MSE(x, target *Tensor, r Reduction) *Tensor {
	checkSame("MSE", x, target)
	diff := g.alloc(len(x.Data))
	kernels.Sub(diff, x.Data, target.Data)
	var out *Tensor
	switch r {
	case ReduceNone:
		out = g.newTensor(x.Shape...)
		kernels.Mul(out.Data, diff, diff)
	case ReduceSum, ReduceMean:
		out = g.newTensor()
		s := kernels.Dot(diff, diff)
		if r == ReduceMean {
			s /= float32(len(diff))
		}
		out.Data[0] = s
	default:
		panic(fmt.Sprintf("nn: MSE: unknown reduction %v", r))
	}
	if g.recording(x, target) {
		*record(g, &g.recs.mse, out) = mseRec{x: x, target: target, diff: diff, reduction: r}
	}
	return out
}

// mseRec: diff = x - target from the forward.
type mseRec struct {
	x, target *Tensor
	diff      []float32
	reduction Reduction
}

func (r *mseRec) backward(g *Graph, out *Tensor) {
	x, t := r.x, r.target
	diff, dy := r.diff, out.Grad
	d := g.alloc(len(diff))
	switch r.reduction {
	case ReduceNone:
		kernels.Mul(d, diff, dy)
		kernels.Scale(d, d, 2)
	case ReduceSum:
		kernels.Scale(d, diff, 2*dy[0])
	default:
		kernels.Scale(d, diff, 2*dy[0]/float32(len(diff)))
	}
	if x.RequiresGrad {
		g.accumulate(x, d)
	}
	if t.RequiresGrad {
		kernels.Scale(d, d, -1)
		g.accumulate(t, d)
	}
}
