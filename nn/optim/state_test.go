package optim_test

import (
	"math"
	"slices"
	"testing"

	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/optim"
)

// statefulOpt is what Adam and SGD offer for checkpoints.
type statefulOpt interface {
	optim.Optimizer
	State() optim.State
	SetState(optim.State) error
}

// stepper builds an optimizer over fresh copies of the same parameters.
type stepper func(ps []*nn.Tensor) statefulOpt

func freshParams() []*nn.Tensor {
	return []*nn.Tensor{param(1, -2, 0.5), param(0.25), param(3, 4)}
}

func setGrads(ps []*nn.Tensor, step int) {
	for i, p := range ps {
		for j := range p.Grad {
			p.Grad[j] = float32(math.Sin(float64(step*7+i*3+j))) * 0.3
		}
	}
}

func bits(ps []*nn.Tensor) []uint32 {
	var out []uint32
	for _, p := range ps {
		for _, v := range p.Data {
			out = append(out, math.Float32bits(v))
		}
	}
	return out
}

// TestStateResume: k steps, State, a new optimizer with SetState and the
// rest of the steps equal an uninterrupted run bit for bit.
func TestStateResume(t *testing.T) {
	makers := map[string]stepper{
		"adamw": func(ps []*nn.Tensor) statefulOpt {
			return nn.Must(optim.NewAdamW(ps, 0.01))
		},
		"amsgrad": func(ps []*nn.Tensor) statefulOpt {
			o := nn.Must(optim.NewAdam(ps, 0.01))
			o.AMSGrad, o.WeightDecay = true, 0.1
			return o
		},
		"sgd-momentum": func(ps []*nn.Tensor) statefulOpt {
			o := nn.Must(optim.NewSGD(ps, 0.1))
			o.Momentum, o.Nesterov = 0.9, true
			return o
		},
	}
	for name, mk := range makers {
		ref := freshParams()
		o := mk(ref)
		for s := range 5 {
			setGrads(ref, s)
			o.Step()
		}
		ps := freshParams()
		o1 := mk(ps)
		for s := range 2 {
			setGrads(ps, s)
			o1.Step()
		}
		st := o1.State()
		if st.Step != 2 {
			t.Fatalf("%s: State().Step = %d, want 2", name, st.Step)
		}
		st.Buffers[st.Names()[0]][0] += 0 // State returns copies: editing them is harmless
		o2 := mk(ps)
		if err := o2.SetState(st); err != nil {
			t.Fatal(err)
		}
		for s := 2; s < 5; s++ {
			setGrads(ps, s)
			o2.Step()
		}
		if !slices.Equal(bits(ps), bits(ref)) {
			t.Fatalf("%s: resumed parameters differ from the uninterrupted run", name)
		}
		// Bad states are refused.
		bad := o1.State()
		bad.Buffers[bad.Names()[0]] = []float32{1}
		if err := mk(freshParams()).SetState(bad); err == nil {
			t.Fatalf("%s: a buffer of the wrong size was accepted", name)
		}
		bad = o1.State()
		bad.Buffers["nonsense.0"] = []float32{1}
		if err := mk(freshParams()).SetState(bad); err == nil {
			t.Fatalf("%s: an unknown buffer was accepted", name)
		}
	}
}

// TestAdamWGroups: per-group decay is PyTorch's param_groups: equal to
// separate AdamW optimizers with each group's decay, bit for bit.
func TestAdamWGroups(t *testing.T) {
	a, b := freshParams(), freshParams()
	grouped := nn.Must(optim.NewAdamWGroups([]optim.Group{{Params: a[:2], WeightDecay: 0.1}, {Params: a[2:]}}, 0.01))
	sep1 := nn.Must(optim.NewAdamW(b[:2], 0.01))
	sep1.WeightDecay = 0.1
	sep2 := nn.Must(optim.NewAdamW(b[2:], 0.01))
	sep2.WeightDecay = 0
	for s := range 3 {
		setGrads(a, s)
		setGrads(b, s)
		grouped.Step()
		sep1.Step()
		sep2.Step()
	}
	if !slices.Equal(bits(a), bits(b)) {
		t.Fatal("grouped AdamW differs from one AdamW per group")
	}
	if grouped.GroupWeightDecay(0) != 0.1 || grouped.GroupWeightDecay(2) != 0 {
		t.Fatal("GroupWeightDecay")
	}
	if _, err := optim.NewAdamWGroups([]optim.Group{{Params: a}, {Params: a[:1]}}, 0.01); err == nil {
		t.Fatal("a parameter in two groups was accepted")
	}
}

// TestDecayGroups: weights decay; biases, LayerNorm and embeddings do not.
func TestDecayGroups(t *testing.T) {
	lin := nn.Must(nn.NewLinear(3, 4, true))
	ln := nn.Must(nn.NewLayerNorm(4, nn.LayerNormConfig{}))
	emb := nn.Must(nn.NewEmbedding(5, 3, nn.EmbeddingConfig{}))
	m := nn.NewSequential(lin, ln)
	model := struct{ nn.Module }{moduleOf(func(param func(string, *nn.Tensor), child func(string, nn.Module)) {
		child("emb", emb)
		child("seq", m)
	})}
	gs := optim.DecayGroups(model, 0.05)
	if len(gs) != 2 || gs[0].WeightDecay != 0.05 || gs[1].WeightDecay != 0 {
		t.Fatalf("groups %+v", gs)
	}
	if !slices.Equal(gs[0].Params, []*nn.Tensor{lin.Weight}) {
		t.Fatalf("decayed %v, want only the Linear weight", gs[0].Params)
	}
	if !slices.Equal(gs[1].Params, []*nn.Tensor{emb.Weight, lin.Bias, ln.Weight, ln.Bias}) {
		t.Fatalf("not decayed: %d tensors", len(gs[1].Params))
	}
}

type moduleOf func(param func(string, *nn.Tensor), child func(string, nn.Module))

func (f moduleOf) Visit(param func(string, *nn.Tensor), child func(string, nn.Module)) {
	f(param, child)
}
