package transformer

import (
	"fmt"
	"strings"

	"github.com/simdformer/simdformer/nn"
)

// Describe returns m's structure in the layout of PyTorch's print(model):
// one line per leaf layer with its sizes, children indented under their
// state_dict names. Parameterless children that PyTorch also lists (the
// activation, dropouts) are shown; drop-path sites only when present.
func Describe(m nn.Module) string {
	var b strings.Builder
	describe(&b, m, 0)
	return b.String()
}

func describe(b *strings.Builder, m nn.Module, depth int) {
	if leaf, ok := leafString(m); ok {
		b.WriteString(leaf)
		return
	}
	name := typeName(m)
	b.WriteString(name + "(")
	n := 0
	m.Visit(func(string, *nn.Tensor) {}, func(child string, c nn.Module) {
		if c == nil {
			return
		}
		if n == 0 {
			b.WriteByte('\n')
		}
		n++
		b.WriteString(strings.Repeat("  ", depth+1) + "(" + child + "): ")
		describe(b, c, depth+1)
		b.WriteByte('\n')
	})
	if n > 0 {
		b.WriteString(strings.Repeat("  ", depth))
	}
	b.WriteByte(')')
}

func typeName(m nn.Module) string {
	switch m := m.(type) {
	case *Block:
		if m.Keys == EncoderLayerKeys {
			return "TransformerEncoderLayer"
		}
		return "TransformerBlock"
	case *TorchEncoder:
		return "TransformerEncoder"
	case ffKeys:
		return "Sequential"
	case *Encoder, *Decoder:
		return "Sequential"
	case *Classifier:
		return "Classifier"
	case *LM:
		return "LM"
	case *Seq2Seq:
		return "Seq2Seq"
	case *DecoderBlock:
		return "DecoderBlock"
	case *nn.MultiheadAttention:
		return "MultiheadAttention"
	case *nn.Sequential:
		return "Sequential"
	}
	s := fmt.Sprintf("%T", m)
	return s[strings.LastIndexAny(s, ".*")+1:]
}

// leafString formats the layers PyTorch prints on one line.
func leafString(m nn.Module) (string, bool) {
	switch l := m.(type) {
	case *nn.Linear:
		return fmt.Sprintf("Linear(in_features=%d, out_features=%d, bias=%s)", l.Weight.Shape[1], l.Weight.Shape[0], pyBool(l.Bias != nil)), true
	case *nn.Embedding:
		return fmt.Sprintf("Embedding(%d, %d)", l.Weight.Shape[0], l.Weight.Shape[1]), true
	case *nn.LayerNorm:
		dim := 0
		if l.Weight != nil {
			dim = l.Weight.Shape[0]
		}
		return fmt.Sprintf("LayerNorm((%d,), eps=%s, elementwise_affine=%s)", dim, pyFloat(l.Eps), pyBool(l.Weight != nil)), true
	case *nn.Dropout:
		return fmt.Sprintf("Dropout(p=%s, inplace=False)", pyFloat(l.P)), true
	case *nn.DropPath:
		return fmt.Sprintf("DropPath(p=%s)", pyFloat(l.P)), true
	case nn.ReLU:
		return "ReLU()", true
	case nn.GELU:
		if l.Tanh {
			return "GELU(approximate='tanh')", true
		}
		return "GELU(approximate='none')", true
	}
	return "", false
}

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
