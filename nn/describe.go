package nn

import (
	"fmt"
	"strings"
)

// Describer is implemented by modules that describe themselves in a printed
// model structure (transformer.Describe, PyTorch's print(model)). Describe
// returns the module's first line without its children: a leaf's whole
// repr ("Linear(in_features=4, out_features=2, bias=True)"), or a
// container's type name ("TransformerEncoderLayer"), under which the
// printer lists the children. A module without it is printed by its Go
// type name.
type Describer interface {
	Describe() string
}

// Describe is PyTorch's repr: Linear(in_features=…, out_features=…, bias=…).
func (l *Linear) Describe() string {
	return fmt.Sprintf("Linear(in_features=%d, out_features=%d, bias=%s)", l.Weight.Shape[1], l.Weight.Shape[0], pyBool(l.Bias != nil))
}

// Describe is PyTorch's repr: Embedding(num, dim[, padding_idx=…][, max_norm=…]).
func (e *Embedding) Describe() string {
	s := fmt.Sprintf("Embedding(%d, %d", e.Weight.Shape[0], e.Weight.Shape[1])
	if e.PaddingIdx >= 0 {
		s += fmt.Sprintf(", padding_idx=%d", e.PaddingIdx)
	}
	if e.MaxNorm > 0 {
		s += ", max_norm=" + pyFloat(e.MaxNorm)
	}
	return s + ")"
}

// Describe is PyTorch's repr: LayerNorm((dim,), eps=…, elementwise_affine=…).
func (l *LayerNorm) Describe() string {
	dim := 0
	if l.Weight != nil {
		dim = l.Weight.Shape[0]
	}
	return fmt.Sprintf("LayerNorm((%d,), eps=%s, elementwise_affine=%s)", dim, pyFloat(l.Eps), pyBool(l.Weight != nil))
}

// Describe is PyTorch's repr: Dropout(p=…, inplace=…), inplace as set.
func (d *Dropout) Describe() string {
	return fmt.Sprintf("Dropout(p=%s, inplace=%s)", pyFloat(d.P), pyBool(d.Inplace))
}

// Describe is PyTorch's repr: Dropout1d/2d/3d(p=…, inplace=False).
func (d *ChannelDropout) Describe() string {
	return fmt.Sprintf("Dropout%dd(p=%s, inplace=False)", d.Spatial, pyFloat(d.P))
}

// Describe is PyTorch's repr: AlphaDropout or FeatureAlphaDropout(p=…, inplace=False).
func (d *AlphaDropout) Describe() string {
	name := "AlphaDropout"
	if d.Feature {
		name = "FeatureAlphaDropout"
	}
	return fmt.Sprintf("%s(p=%s, inplace=False)", name, pyFloat(d.P))
}

// Describe returns DropPath(p=…).
func (d *DropPath) Describe() string { return fmt.Sprintf("DropPath(p=%s)", pyFloat(d.P)) }

// Describe returns LockedDropout(p=…).
func (d *LockedDropout) Describe() string { return fmt.Sprintf("LockedDropout(p=%s)", pyFloat(d.P)) }

// Describe returns ReLU().
func (ReLU) Describe() string { return "ReLU()" }

// Describe is PyTorch's repr: GELU(approximate='none' or 'tanh').
func (a GELU) Describe() string {
	if a.Tanh {
		return "GELU(approximate='tanh')"
	}
	return "GELU(approximate='none')"
}

// Describe returns the container name MultiheadAttention.
func (m *MultiheadAttention) Describe() string { return "MultiheadAttention" }

// Describe returns the container name Sequential.
func (s *Sequential) Describe() string { return "Sequential" }

func pyBool(v bool) string {
	if v {
		return "True"
	}
	return "False"
}

// pyFloat formats like Python's repr of a float: 0.1, 1e-05, 0.0.
func pyFloat(v float32) string {
	if v == 0 {
		return "0.0"
	}
	s := fmt.Sprintf("%g", v) // 0.1, 1e-05 (two exponent digits, like Python)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}
