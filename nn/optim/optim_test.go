package optim_test

import (
	"math"
	"testing"

	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/optim"
)

func param(vals ...float32) *nn.Tensor {
	p := nn.NewParam(len(vals))
	copy(p.Data, vals)
	return p
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

// TestSGD checks momentum, dampening, Nesterov and weight decay against the
// update written out in float64 (torch.optim.SGD's rule).
func TestSGD(t *testing.T) {
	for _, nesterov := range []bool{false, true} {
		p := param(1, -2)
		o, err := optim.NewSGD([]*nn.Tensor{p}, 0.1)
		if err != nil {
			t.Fatal(err)
		}
		o.Momentum, o.Dampening, o.WeightDecay, o.Nesterov = 0.9, 0.1, 0.01, nesterov
		if nesterov {
			o.Dampening = 0
		}
		theta, buf := []float64{1, -2}, []float64{0, 0}
		for step := 0; step < 4; step++ {
			grads := []float32{0.5 * float32(step+1), -0.25}
			copy(p.Grad, grads)
			o.Step()
			for j := range theta {
				d := float64(grads[j]) + 0.01*theta[j]
				if step == 0 {
					buf[j] = d
				} else {
					buf[j] = 0.9*buf[j] + (1-float64(o.Dampening))*d
				}
				if nesterov {
					d += 0.9 * buf[j]
				} else {
					d = buf[j]
				}
				theta[j] -= 0.1 * d
				if !near(float64(p.Data[j]), theta[j]) {
					t.Fatalf("nesterov=%v step %d: θ[%d] = %v, want %v", nesterov, step, j, p.Data[j], theta[j])
				}
			}
		}
	}
}

func TestConstructorsValidate(t *testing.T) {
	if _, err := optim.NewAdam([]*nn.Tensor{param(1)}, -1); err == nil {
		t.Error("negative learning rate accepted")
	}
	if _, err := optim.NewSGD([]*nn.Tensor{nn.Zeros(2)}, 0.1); err == nil {
		t.Error("a tensor without a gradient buffer accepted")
	}
}

func TestClipGradNorm(t *testing.T) {
	a, b := param(0, 0), param(0)
	copy(a.Grad, []float32{3, 0})
	copy(b.Grad, []float32{4})
	if n := optim.ClipGradNorm([]*nn.Tensor{a, b}, 1); n != 5 {
		t.Fatalf("norm = %v, want 5", n)
	}
	if !near(float64(a.Grad[0]), 0.6) || !near(float64(b.Grad[0]), 0.8) {
		t.Errorf("clipped grads %v %v, want 0.6 0.8", a.Grad, b.Grad)
	}
	optim.ClipGradNorm([]*nn.Tensor{a, b}, 10)
	if !near(float64(a.Grad[0]), 0.6) {
		t.Errorf("a norm below the limit must not be scaled: %v", a.Grad)
	}
}

func TestWarmupCosine(t *testing.T) {
	s := optim.WarmupCosine{BaseLR: 1, MinLR: 0.1, Warmup: 4, Total: 14}
	for _, c := range []struct {
		step int
		want float64
	}{{0, 0.25}, {3, 1}, {4, 1}, {9, 0.55}, {14, 0.1}, {100, 0.1}} {
		if got := s.LR(c.step); !near(float64(got), c.want) {
			t.Errorf("LR(%d) = %v, want %v", c.step, got, c.want)
		}
	}
}

func TestEarlyStopping(t *testing.T) {
	e := optim.EarlyStopping{Patience: 2, MinDelta: 0.01}
	var stops []bool
	for _, v := range []float32{1, 0.9, 0.895, 0.95, 0.8, 0.85, 0.81} {
		_, stop := e.Observe(v)
		stops = append(stops, stop)
	}
	want := []bool{false, false, false, true, false, false, true}
	for i := range want {
		if stops[i] != want[i] {
			t.Fatalf("stops = %v, want %v", stops, want)
		}
	}
	if e.Best != 0.8 || e.BestStep != 4 {
		t.Errorf("best %v at %d, want 0.8 at 4", e.Best, e.BestStep)
	}
}

// TestAdamMatchesFloat64 runs AMSGrad and AdamW for a few steps against
// the update written out in float64.
func TestAdamMatchesFloat64(t *testing.T) {
	for _, decoupled := range []bool{false, true} {
		p := param(0.5, -1.5, 2)
		o := nn.Must(optim.NewAdam([]*nn.Tensor{p}, 0.01))
		o.AMSGrad, o.Decoupled, o.WeightDecay = true, decoupled, 0.1
		theta := []float64{0.5, -1.5, 2}
		m, v, vmax := make([]float64, 3), make([]float64, 3), make([]float64, 3)
		for step := 1; step <= 5; step++ {
			grads := []float32{0.3, -0.2 * float32(step), 1 / float32(step)}
			copy(p.Grad, grads)
			o.Step()
			for j := range theta {
				g := float64(grads[j])
				if decoupled {
					theta[j] *= 1 - 0.01*0.1
				} else {
					g += 0.1 * theta[j]
				}
				m[j] = 0.9*m[j] + 0.1*g
				v[j] = 0.999*v[j] + 0.001*g*g
				vmax[j] = math.Max(vmax[j], v[j])
				bc1, bc2 := 1-math.Pow(0.9, float64(step)), 1-math.Pow(0.999, float64(step))
				theta[j] -= 0.01 / bc1 * m[j] / (math.Sqrt(vmax[j])/math.Sqrt(bc2) + 1e-8)
				if math.Abs(float64(p.Data[j])-theta[j]) > 1e-6 {
					t.Fatalf("decoupled=%v step %d θ[%d] = %v, want %v", decoupled, step, j, p.Data[j], theta[j])
				}
			}
		}
	}
}

// TestAdamWBits: Adam and AdamW without AMSGrad (the vectorised update,
// kernels.AdamUpdate) give, bit for bit, torch.optim.AdamW's float32 update
// written out step by step, on parameters long enough to be split over
// threads, for several steps.
func TestAdamWBits(t *testing.T) {
	const n = 70_000
	for _, c := range []struct {
		decoupled bool
		wd        float32
	}{{true, 0.1}, {true, 0}, {false, 0}} {
		p := nn.NewParam(n)
		o := nn.Must(optim.NewAdam([]*nn.Tensor{p}, 3e-3))
		o.Decoupled, o.WeightDecay, o.Beta2 = c.decoupled, c.wd, 0.95
		theta, m, v := make([]float32, n), make([]float32, n), make([]float32, n)
		for j := range theta {
			theta[j] = float32(math.Sin(float64(j)))
		}
		copy(p.Data, theta)
		for step := 1; step <= 4; step++ {
			for j := range p.Grad {
				p.Grad[j] = float32(math.Cos(float64(j*step))) * 1e-2
			}
			o.Step()
			bc1 := 1 - math.Pow(float64(float32(0.9)), float64(step))
			bc2sqrt := float32(math.Sqrt(1 - math.Pow(float64(float32(0.95)), float64(step))))
			stepSize := float32(float64(float32(3e-3)) / bc1)
			decay := float32(1 - float64(float32(3e-3))*float64(c.wd))
			for j, g := range p.Grad {
				th := theta[j]
				if c.decoupled {
					th = float32(decay * th)
				}
				m[j] = float32(0.9*m[j]) + float32(float32(1-float32(0.9))*g)
				v[j] = float32(0.95*v[j]) + float32(float32(float32(1-float32(0.95))*g)*g)
				den := float32(math.Sqrt(float64(v[j])))/bc2sqrt + 1e-8
				theta[j] = th - float32(stepSize*m[j])/den
				if math.Float32bits(p.Data[j]) != math.Float32bits(theta[j]) {
					t.Fatalf("decoupled=%v wd=%v step %d θ[%d] = %v, want %v", c.decoupled, c.wd, step, j, p.Data[j], theta[j])
				}
			}
		}
	}
}
