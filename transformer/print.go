package transformer

import (
	"fmt"
	"strings"

	"github.com/simdformer/simdformer/nn"
)

// Describe returns m's structure in the layout of PyTorch's print(model):
// one line per leaf layer with its sizes, children indented under their
// state_dict names. Parameterless children that PyTorch also lists (the
// activation, dropouts) are shown; drop-path sites only when present. Each
// module names itself through nn.Describer; one that does not is shown by
// its Go type name.
func Describe(m nn.Module) string {
	var b strings.Builder
	describe(&b, m, 0)
	return b.String()
}

func describe(b *strings.Builder, m nn.Module, depth int) {
	head := typeName(m)
	if d, ok := m.(nn.Describer); ok {
		head = d.Describe()
	}
	n := 0
	m.Visit(func(string, *nn.Tensor) {}, func(child string, c nn.Module) {
		if c == nil {
			return
		}
		if n == 0 {
			b.WriteString(head + "(\n")
		}
		n++
		b.WriteString(strings.Repeat("  ", depth+1) + "(" + child + "): ")
		describe(b, c, depth+1)
		b.WriteByte('\n')
	})
	switch {
	case n > 0:
		b.WriteString(strings.Repeat("  ", depth) + ")")
	case strings.HasSuffix(head, ")"): // a leaf's whole line
		b.WriteString(head)
	default: // a container without children
		b.WriteString(head + "()")
	}
}

// typeName is the Go type name of a module that does not describe itself.
func typeName(m nn.Module) string {
	s := fmt.Sprintf("%T", m)
	return s[strings.LastIndexAny(s, ".*")+1:]
}

// Describe returns TransformerEncoderLayer or, with the tutorial's keys,
// TransformerBlock.
func (b *Block) Describe() string {
	if b.Keys == EncoderLayerKeys {
		return "TransformerEncoderLayer"
	}
	return "TransformerBlock"
}

// Describe returns TransformerEncoder.
func (e *TorchEncoder) Describe() string { return "TransformerEncoder" }

// Describe returns Sequential: the tutorial's feed-forward nn.Sequential.
func (ffKeys) Describe() string { return "Sequential" }

// Describe returns Sequential, like the tutorial's nn.Sequential of blocks.
func (e *Encoder) Describe() string { return "Sequential" }

// Describe returns Sequential.
func (s *Decoder) Describe() string { return "Sequential" }

// Describe returns TransformerDecoderLayer.
func (d *DecoderBlock) Describe() string { return "TransformerDecoderLayer" }
