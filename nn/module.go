package nn

import (
	"fmt"
	"strconv"
)

// Module is anything with parameters or submodules. Visit calls param for
// each parameter the module owns directly and child for each direct
// submodule, with the local names PyTorch's state_dict uses ("weight",
// "out_proj", "0", …), in PyTorch's registration order. Walkers always pass
// both callbacks; a nil parameter or child is skipped.
type Module interface {
	Visit(param func(name string, p *Tensor), child func(name string, m Module))
}

// Layer is a module with one input and one output, as Sequential chains.
type Layer interface {
	Module
	Forward(g *Graph, x *Tensor) *Tensor
}

// Trainable is implemented by modules whose behaviour depends on the mode
// (dropout). Train and Eval call SetTraining on every such module.
type Trainable interface {
	SetTraining(training bool)
}

// NamedTensor is one entry of a named-parameter walk.
type NamedTensor struct {
	Name   string
	Tensor *Tensor
}

// Walk calls fn for m and every submodule, depth first in registration
// order, with its dotted path ("" for m itself).
func Walk(m Module, fn func(path string, m Module)) {
	walk("", m, fn)
}

func walk(path string, m Module, fn func(string, Module)) {
	fn(path, m)
	m.Visit(func(string, *Tensor) {}, func(name string, c Module) {
		if c != nil {
			walk(join(path, name), c, fn)
		}
	})
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// NamedParameters returns every parameter of m with its PyTorch state_dict
// key (e.g. "layers.0.self_attn.in_proj_weight"), in PyTorch's order. Like
// state_dict, a tied tensor appears under each of its keys.
func NamedParameters(m Module) []NamedTensor {
	var out []NamedTensor
	var visit func(prefix string, m Module)
	visit = func(prefix string, m Module) {
		m.Visit(func(name string, p *Tensor) {
			if p != nil {
				out = append(out, NamedTensor{join(prefix, name), p})
			}
		}, func(name string, c Module) {
			if c != nil {
				visit(join(prefix, name), c)
			}
		})
	}
	visit("", m)
	return out
}

// Parameters returns every distinct parameter of m, in NamedParameters
// order; a tensor shared by two modules (tied weights) appears once, so an
// optimizer updates it once.
func Parameters(m Module) []*Tensor {
	var out []*Tensor
	seen := map[*Tensor]bool{}
	for _, nt := range NamedParameters(m) {
		if !seen[nt.Tensor] {
			seen[nt.Tensor] = true
			out = append(out, nt.Tensor)
		}
	}
	return out
}

// ZeroGrad zeroes the Grad of every parameter of m. It walks the modules
// without building names and allocates nothing, so it can run every step.
func ZeroGrad(m Module) { m.Visit(zeroParam, zeroChild) }

// zeroParam and zeroChild are ZeroGrad's visitors: package-level, so
// passing them to Visit allocates no closure.
var zeroParam = func(_ string, p *Tensor) {
	if p != nil {
		p.ZeroGrad()
	}
}

var zeroChild func(string, Module)

func init() {
	zeroChild = func(_ string, c Module) {
		if c != nil {
			c.Visit(zeroParam, zeroChild)
		}
	}
}

// Train puts m and all its submodules in training mode (dropout active).
func Train(m Module) { setTraining(m, true) }

// Eval puts m and all its submodules in evaluation mode (dropout off unless
// a site is AlwaysOn).
func Eval(m Module) { setTraining(m, false) }

func setTraining(m Module, on bool) {
	Walk(m, func(_ string, m Module) {
		if t, ok := m.(Trainable); ok {
			t.SetTraining(on)
		}
	})
}

// Must returns v, panicking if err is not nil: nn.Must(nn.NewLinear(4, 2, true)).
func Must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Sequential chains layers; its children are named "0", "1", … like
// PyTorch's nn.Sequential (parameterless layers such as ReLU use up an index).
type Sequential struct {
	Layers []Layer
}

// NewSequential returns a Sequential of the given layers.
func NewSequential(layers ...Layer) *Sequential {
	return &Sequential{Layers: layers}
}

// Forward applies the layers in order.
func (s *Sequential) Forward(g *Graph, x *Tensor) *Tensor {
	for _, l := range s.Layers {
		x = l.Forward(g, x)
	}
	return x
}

// Visit lists the layers as children "0", "1", ….
func (s *Sequential) Visit(param func(string, *Tensor), child func(string, Module)) {
	for i, l := range s.Layers {
		child(strconv.Itoa(i), l)
	}
}

// ReLU is the module form of Graph.ReLU.
type ReLU struct{}

// Forward returns max(x, 0).
func (ReLU) Forward(g *Graph, x *Tensor) *Tensor { return g.ReLU(x) }

// Visit lists nothing.
func (ReLU) Visit(func(string, *Tensor), func(string, Module)) {}

// GELU is nn.GELU: exact (erf) unless Tanh is set (approximate='tanh').
type GELU struct {
	Tanh bool
}

// Forward returns GELU(x).
func (a GELU) Forward(g *Graph, x *Tensor) *Tensor {
	if a.Tanh {
		return g.GELUTanh(x)
	}
	return g.GELU(x)
}

// Visit lists nothing.
func (GELU) Visit(func(string, *Tensor), func(string, Module)) {}

// shapeErr formats a shape mismatch for panics.
func shapeErr(op, what string, shape []int, want string) string {
	return fmt.Sprintf("nn: %s: %s has shape %v, want %s", op, what, shape, want)
}
