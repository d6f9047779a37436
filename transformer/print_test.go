package transformer

import (
	"testing"

	"github.com/simdformer/simdformer/nn"
)

// custom is a user module: it names itself through nn.Describer.
type custom struct{ lin *nn.Linear }

func (c custom) Visit(_ func(string, *nn.Tensor), child func(string, nn.Module)) {
	child("proj", c.lin)
}
func (custom) Describe() string { return "MyHead" }

// bare does not describe itself: its Go type name is used.
type bare struct{}

func (bare) Visit(func(string, *nn.Tensor), func(string, nn.Module)) {}

func TestDescribeModules(t *testing.T) {
	d := nn.Must(nn.NewDropout(0.25))
	seq := nn.NewSequential(nn.Must(nn.NewLinear(3, 2, false)), d)
	want := "Sequential(\n  (0): Linear(in_features=3, out_features=2, bias=False)\n  (1): Dropout(p=0.25, inplace=False)\n)"
	if got := Describe(seq); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	d.Inplace = true
	if got := Describe(d); got != "Dropout(p=0.25, inplace=True)" {
		t.Errorf("in-place dropout: %s", got)
	}
	if got := Describe(custom{nn.Must(nn.NewLinear(2, 2, true))}); got != "MyHead(\n  (proj): Linear(in_features=2, out_features=2, bias=True)\n)" {
		t.Errorf("custom module: %s", got)
	}
	if got := Describe(bare{}); got != "bare()" {
		t.Errorf("module without Describe: %s", got)
	}
}
