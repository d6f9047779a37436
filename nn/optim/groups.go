package optim

import (
	"fmt"

	"github.com/simdformer/simdformer/nn"
)

// Group is a parameter group, PyTorch's param_groups entry: parameters
// that share a weight decay.
type Group struct {
	Params      []*nn.Tensor
	WeightDecay float32
}

// NewAdamWGroups returns AdamW (decoupled decay, PyTorch's defaults
// otherwise) over the parameters of every group, each decayed by its
// group's WeightDecay: torch.optim.AdamW([{"params": …, "weight_decay":
// …}, …], lr). The Adam field WeightDecay is then unused; GroupWeightDecay
// reports a parameter's rate. A parameter may not appear twice.
func NewAdamWGroups(groups []Group, lr float32) (*Adam, error) {
	var params []*nn.Tensor
	var wd []float32
	seen := map[*nn.Tensor]bool{}
	for gi, g := range groups {
		if !(g.WeightDecay >= 0) {
			return nil, fmt.Errorf("optim: NewAdamWGroups: group %d: invalid weight decay %v", gi, g.WeightDecay)
		}
		for _, p := range g.Params {
			if seen[p] {
				return nil, fmt.Errorf("optim: NewAdamWGroups: a parameter appears twice (group %d)", gi)
			}
			seen[p] = true
			params = append(params, p)
			wd = append(wd, g.WeightDecay)
		}
	}
	o, err := NewAdamW(params, lr)
	if err != nil {
		return nil, err
	}
	o.wd = wd
	return o, nil
}

// GroupWeightDecay returns the weight decay applied to parameter i.
func (o *Adam) GroupWeightDecay(i int) float32 {
	if o.wd != nil {
		return o.wd[i]
	}
	return o.WeightDecay
}

// DecayGroups splits m's parameters into the usual transformer fine-tuning
// groups: {weights of rank ≥ 2 other than embedding tables: weightDecay}
// and {biases, LayerNorm weights, embedding tables (nn.Embedding, hence a
// tied output head too): 0} — minGPT's and Hugging Face's recipe. Either
// group may be empty. Parameters keep nn.Parameters' order within a group.
func DecayGroups(m nn.Module, weightDecay float32) []Group {
	embed := map[*nn.Tensor]bool{}
	nn.Walk(m, func(_ string, sub nn.Module) {
		if e, ok := sub.(*nn.Embedding); ok {
			embed[e.Weight] = true
		}
	})
	decay, none := Group{WeightDecay: weightDecay}, Group{}
	for _, p := range nn.Parameters(m) {
		if len(p.Shape) >= 2 && !embed[p] {
			decay.Params = append(decay.Params, p)
		} else {
			none.Params = append(none.Params, p)
		}
	}
	return []Group{decay, none}
}
