package kernels

import (
	"fmt"
	"math"
)

// AdamCoeffs are the per-step constants of AdamUpdate (PyTorch's Adam and
// AdamW, single-tensor form, with the bias corrections of step t):
//
//	Decay     θ's multiplier before the update: 1 - lr·weight_decay for
//	          AdamW's decoupled decay, 1 for none
//	Beta1     β1; the gradient's weight is 1-β1, rounded to float32
//	Beta2     β2; the squared gradient's weight is 1-β2, rounded to float32
//	Bias2Sqrt √(1 - β2ᵗ)
//	Eps       ε, added after the bias correction
//	StepSize  lr / (1 - β1ᵗ)
type AdamCoeffs struct {
	Decay, Beta1, Beta2, Bias2Sqrt, Eps, StepSize float32
}

// AdamUpdate applies one Adam/AdamW update to the parameters param with
// gradient grad and moments m, v (all of one length), in place:
//
//	θ = Decay·θ
//	m = β1·m + (1-β1)·g
//	v = β2·v + ((1-β2)·g)·g
//	θ = θ - (StepSize·m) / (√v / Bias2Sqrt + Eps)
//
// every operation rounded to float32 in this order (no fused multiply-add,
// a correctly rounded square root and divisions), which is what
// torch.optim.AdamW computes on CPU. Large arrays are split over the worker
// pool; each element is independent, so the bits do not depend on the
// split. AdamUpdate panics if the lengths differ. It does not allocate.
func AdamUpdate(param, grad, m, v []float32, c AdamCoeffs) {
	if len(grad) != len(param) || len(m) != len(param) || len(v) != len(param) {
		panic(fmt.Sprintf("kernels: AdamUpdate: lengths differ: len(param)=%d, len(grad)=%d, len(m)=%d, len(v)=%d",
			len(param), len(grad), len(m), len(v)))
	}
	raceRW(param, grad)
	raceRW(m, v)
	raceWrite(v)
	b := cur()
	if len(param) < adamParallelMin {
		b.adamUpdate(param, grad, m, v, c.coeffs())
		return
	}
	t := adamTasks.get()
	if t.fn == nil {
		t.fn = t.run // bound once per task object: no allocation per call
	}
	t.b, t.p, t.g, t.m, t.v, t.k = b, param, grad, m, v, c.coeffs()
	parallelRange(len(param), adamParallelMin/2, t.fn)
	t.b, t.p, t.g, t.m, t.v = nil, nil, nil, nil, nil
	adamTasks.put(t)
}

// adamK is AdamCoeffs in the kernels' argument order, with 1-β1 and 1-β2.
type adamK struct {
	decay, b1, c1, b2, c2, bc2, eps, step float32
}

func (c AdamCoeffs) coeffs() adamK {
	return adamK{c.Decay, c.Beta1, 1 - c.Beta1, c.Beta2, 1 - c.Beta2, c.Bias2Sqrt, c.Eps, c.StepSize}
}

// adamParallelMin is the length from which AdamUpdate splits over the worker
// pool: the update streams 28 bytes per element, so 64K elements take
// ~100 µs, well above the cost of waking a worker.
const adamParallelMin = 1 << 16

// adamTask is one parallel AdamUpdate call; fn is its run method, bound once.
type adamTask struct {
	b          *impl
	p, g, m, v []float32
	k          adamK
	fn         func(lo, hi int)
}

var adamTasks freeList[adamTask]

func (t *adamTask) run(lo, hi int) {
	t.b.adamUpdate(t.p[lo:hi], t.g[lo:hi], t.m[lo:hi], t.v[lo:hi], t.k)
}

// adamUpdateGeneric is the reference of AdamUpdate.
func adamUpdateGeneric(p, g, m, v []float32, k adamK) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	for j, gr := range g {
		theta := float32(k.decay * p[j]) // converted: Go must not fuse it into the last subtraction
		mj := float32(k.b1*m[j]) + float32(k.c1*gr)
		vj := float32(k.b2*v[j]) + float32(float32(k.c2*gr)*gr)
		m[j], v[j] = mj, vj
		denom := float32(math.Sqrt(float64(vj)))/k.bc2 + k.eps
		p[j] = theta - float32(k.step*mj)/denom
	}
}
