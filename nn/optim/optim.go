// Package optim holds optimizers for nn parameters with PyTorch's update
// rules — SGD (momentum, Nesterov, weight decay), Adam (coupled L2), AdamW
// (decoupled decay), AMSGrad — plus global-norm gradient clipping, a warmup
// + cosine learning-rate schedule and an early-stopping helper.
//
// A training step:
//
//	opt := nn.Must(optim.NewAdamW(nn.Parameters(model), 1e-3))
//	for step := range steps {
//		g.Reset()
//		loss := ce.Forward(g, model.Forward(g, x), y)
//		opt.ZeroGrad()
//		loss.Backward()
//		optim.ClipGradNorm(opt.Params, 1)
//		opt.LR = sched.LR(step)
//		opt.Step()
//	}
//
// Constructors return an error for invalid hyperparameters, like every
// constructor in nn. Fields may be changed between steps.
package optim

import (
	"fmt"
	"math"

	"github.com/simdformer/simdformer/kernels"
	"github.com/simdformer/simdformer/nn"
)

// Optimizer is what SGD and Adam have in common.
type Optimizer interface {
	Step()
	ZeroGrad()
}

func zeroGrad(params []*nn.Tensor) {
	for _, p := range params {
		p.ZeroGrad()
	}
}

func checkParams(op string, params []*nn.Tensor, lr float32) error {
	if !(lr >= 0) {
		return fmt.Errorf("optim: %s: invalid learning rate %v", op, lr)
	}
	for i, p := range params {
		if p == nil || len(p.Grad) != len(p.Data) {
			return fmt.Errorf("optim: %s: parameter %d has no gradient buffer (use nn.NewParam)", op, i)
		}
	}
	return nil
}

// SGD is torch.optim.SGD: with weight decay wd, momentum μ, dampening τ:
// g' = g + wd·θ; b = μ·b + (1-τ)·g' (b = g' on the first step);
// g” = g' + μ·b with Nesterov, else b; θ -= lr·g”.
type SGD struct {
	Params                               []*nn.Tensor
	LR, Momentum, Dampening, WeightDecay float32
	Nesterov                             bool
	buf                                  [][]float32
	steps                                int
}

// NewSGD returns plain SGD with learning rate lr (set Momentum etc. after).
func NewSGD(params []*nn.Tensor, lr float32) (*SGD, error) {
	if err := checkParams("NewSGD", params, lr); err != nil {
		return nil, err
	}
	return &SGD{Params: params, LR: lr}, nil
}

// ZeroGrad zeroes every parameter's gradient.
func (o *SGD) ZeroGrad() { zeroGrad(o.Params) }

// Step updates every parameter from its gradient.
func (o *SGD) Step() {
	// The first step with momentum (PyTorch: no momentum buffer yet) sets
	// the buffer to d, even if Momentum was turned on after earlier steps.
	o.steps++
	first := o.buf == nil
	if o.Momentum != 0 && o.buf == nil {
		o.buf = make([][]float32, len(o.Params))
		for i, p := range o.Params {
			o.buf[i] = make([]float32, len(p.Data))
		}
	}
	for i, p := range o.Params {
		for j, gr := range p.Grad {
			d := gr
			if o.WeightDecay != 0 {
				d += float32(o.WeightDecay * p.Data[j])
			}
			if o.Momentum != 0 {
				b := &o.buf[i][j]
				if first {
					*b = d
				} else {
					*b = float32(o.Momentum**b) + float32((1-o.Dampening)*d)
				}
				if o.Nesterov {
					d += float32(o.Momentum * *b)
				} else {
					d = *b
				}
			}
			p.Data[j] -= float32(o.LR * d)
		}
	}
}

// Adam is torch.optim.Adam, or torch.optim.AdamW when Decoupled is set:
//
//	Adam:  g += wd·θ                     (coupled L2)
//	AdamW: θ *= 1 - lr·wd                (decoupled decay)
//	m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g²;  v̂ = max(v̂, v) with AMSGrad
//	θ -= lr/(1-β1ᵗ) · m / (√v/√(1-β2ᵗ) + eps)   (√v̂ with AMSGrad)
type Adam struct {
	Params                             []*nn.Tensor
	LR, Beta1, Beta2, Eps, WeightDecay float32
	AMSGrad, Decoupled                 bool
	t                                  int
	m, v, vmax                         [][]float32
	wd                                 []float32 // per-parameter weight decay (groups.go); nil: WeightDecay
}

// NewAdam returns Adam with PyTorch's defaults (betas 0.9, 0.999, eps 1e-8,
// weight decay 0) and learning rate lr.
func NewAdam(params []*nn.Tensor, lr float32) (*Adam, error) {
	if err := checkParams("NewAdam", params, lr); err != nil {
		return nil, err
	}
	return &Adam{Params: params, LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}, nil
}

// NewAdamW returns AdamW (decoupled weight decay, default 0.01) with
// learning rate lr.
func NewAdamW(params []*nn.Tensor, lr float32) (*Adam, error) {
	o, err := NewAdam(params, lr)
	if err != nil {
		return nil, err
	}
	o.WeightDecay, o.Decoupled = 0.01, true
	return o, nil
}

// ZeroGrad zeroes every parameter's gradient.
func (o *Adam) ZeroGrad() { zeroGrad(o.Params) }

// Steps returns the number of steps taken.
func (o *Adam) Steps() int { return o.t }

// Step updates every parameter from its gradient. It panics when a
// hyperparameter is out of range (betas in [0, 1), eps >= 0).
func (o *Adam) Step() {
	if !(o.Beta1 >= 0 && o.Beta1 < 1 && o.Beta2 >= 0 && o.Beta2 < 1 && o.Eps >= 0 && o.WeightDecay >= 0) {
		panic(fmt.Sprintf("optim: Adam: invalid hyperparameters betas=(%v, %v) eps=%v weight_decay=%v", o.Beta1, o.Beta2, o.Eps, o.WeightDecay))
	}
	if o.m == nil {
		o.m, o.v = make([][]float32, len(o.Params)), make([][]float32, len(o.Params))
		for i, p := range o.Params {
			o.m[i], o.v[i] = make([]float32, len(p.Data)), make([]float32, len(p.Data))
		}
	}
	if o.AMSGrad && o.vmax == nil {
		o.vmax = make([][]float32, len(o.Params))
		for i, p := range o.Params {
			o.vmax[i] = make([]float32, len(p.Data))
		}
	}
	o.t++
	b1, b2 := o.Beta1, o.Beta2
	bc1 := 1 - math.Pow(float64(b1), float64(o.t))
	bc2sqrt := float32(math.Sqrt(1 - math.Pow(float64(b2), float64(o.t))))
	stepSize := float32(float64(o.LR) / bc1)
	if o.wd != nil && len(o.wd) != len(o.Params) {
		panic(fmt.Sprintf("optim: Adam: %d parameters but %d group weight decays", len(o.Params), len(o.wd)))
	}
	for i, p := range o.Params {
		m, v := o.m[i], o.v[i]
		var vmax []float32
		if o.AMSGrad {
			vmax = o.vmax[i]
		}
		wd := o.WeightDecay
		if o.wd != nil {
			wd = o.wd[i]
		}
		decay := float32(1 - float64(float64(o.LR)*float64(wd)))
		decoupled := o.Decoupled && wd != 0
		if vmax == nil && (decoupled || wd == 0) {
			// The common case in one vectorised pass: the same operations
			// as the loop below (decay 1 leaves θ's bits unchanged).
			if !decoupled {
				decay = 1
			}
			kernels.AdamUpdate(p.Data, p.Grad, m, v, kernels.AdamCoeffs{Decay: decay, Beta1: b1, Beta2: b2,
				Bias2Sqrt: bc2sqrt, Eps: o.Eps, StepSize: stepSize})
			continue
		}
		for j, gr := range p.Grad {
			theta := p.Data[j]
			if decoupled { // AdamW: θ *= 1 - lr·wd, fused into the update pass
				theta = float32(decay * theta)
			} else if wd != 0 {
				gr += float32(wd * theta)
			}
			m[j] = float32(b1*m[j]) + float32((1-b1)*gr)
			v[j] = float32(b2*v[j]) + float32(float32((1-b2)*gr)*gr)
			vv := v[j]
			if vmax != nil {
				vmax[j] = max(vmax[j], vv)
				vv = vmax[j]
			}
			denom := float32(math.Sqrt(float64(vv)))/bc2sqrt + o.Eps
			p.Data[j] = theta - stepSize*m[j]/denom
		}
	}
}

// ClipGradNorm scales the gradients of params so that their global L2 norm
// is at most maxNorm (torch.nn.utils.clip_grad_norm_: coefficient
// maxNorm/(norm + 1e-6) when below 1) and returns the norm before clipping.
func ClipGradNorm(params []*nn.Tensor, maxNorm float32) float32 {
	var s float64
	for _, p := range params {
		s += float64(kernels.Dot(p.Grad, p.Grad))
	}
	norm := float32(math.Sqrt(s))
	if coef := maxNorm / (norm + 1e-6); coef < 1 {
		for _, p := range params {
			kernels.Scale(p.Grad, p.Grad, coef)
		}
	}
	return norm
}

// WarmupCosine is a learning-rate schedule: linear warmup from BaseLR/Warmup
// to BaseLR over the first Warmup steps, then cosine decay to MinLR at step
// Total (and MinLR after).
type WarmupCosine struct {
	BaseLR, MinLR float32
	Warmup, Total int
}

// LR returns the learning rate of step (counted from 0).
func (s WarmupCosine) LR(step int) float32 {
	if step < s.Warmup {
		return s.BaseLR * float32(step+1) / float32(s.Warmup)
	}
	span := s.Total - s.Warmup
	if span <= 0 {
		return s.MinLR
	}
	prog := min(float64(step-s.Warmup)/float64(span), 1)
	return s.MinLR + float32(0.5*float64(s.BaseLR-s.MinLR)*(1+math.Cos(math.Pi*prog)))
}

// EarlyStopping watches a validation metric (lower is better unless
// Maximize) and says when it has not improved by more than MinDelta for
// Patience observations in a row.
type EarlyStopping struct {
	Patience int
	MinDelta float32
	Maximize bool

	Best     float32 // best value seen
	BestStep int     // observation index of Best (0-based)
	n, bad   int
}

// Observe records one value and reports whether it is a new best and
// whether training should stop.
func (e *EarlyStopping) Observe(metric float32) (improved, stop bool) {
	better := e.n == 0
	if !better {
		if e.Maximize {
			better = metric > e.Best+e.MinDelta
		} else {
			better = metric < e.Best-e.MinDelta
		}
	}
	if better {
		e.Best, e.BestStep, e.bad = metric, e.n, 0
	} else {
		e.bad++
	}
	e.n++
	return better, !better && e.bad >= e.Patience
}
