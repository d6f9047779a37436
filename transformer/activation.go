package transformer

import (
	"fmt"
	"strings"
)

// Activation names the feed-forward non-linearity.
type Activation int

const (
	ReLU     Activation = iota // max(0, x): the tutorial's and PyTorch's default
	GELU                       // x·Φ(x), exact (erf) form: BERT's "gelu", PyTorch's activation="gelu"
	GELUTanh                   // tanh approximation: GPT-2's "gelu_new", PyTorch's approximate="tanh"
)

// String returns the PyTorch name of a.
func (a Activation) String() string {
	switch a {
	case ReLU:
		return "relu"
	case GELU:
		return "gelu"
	case GELUTanh:
		return "gelu_tanh"
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// parseActivation maps a config name to an Activation. The empty name is ReLU.
func parseActivation(name string) (Activation, error) {
	switch strings.ToLower(name) {
	case "", "relu":
		return ReLU, nil
	case "gelu":
		return GELU, nil
	case "gelu_tanh", "gelu_new", "gelu_pytorch_tanh", "gelu_fast":
		return GELUTanh, nil
	}
	return 0, fmt.Errorf("transformer: activation %q: want relu, gelu or gelu_tanh (gelu_new)", name)
}
