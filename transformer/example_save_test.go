package transformer_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/transformer"
)

// Saving and loading: a model file holds the weights under PyTorch's
// state_dict keys plus the model's kind and config, so LoadLM rebuilds the
// model with nothing else; another loader refuses it, naming the kind;
// ReadConfig reads the config alone; nn.LoadFile reads weights into a model
// you built (PyTorch's own files have no config).
func ExampleSaveLM() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "lm.safetensors")

	nn.ManualSeed(1)
	cfg := transformer.Config{VocabSize: 100, MaxPositions: 32, EmbedDim: 16, NumHeads: 2, FFDim: 64, NumLayers: 2}
	model := nn.Must(transformer.NewLM(cfg))
	if err := transformer.SaveLM(path, model); err != nil { // atomic and durable
		panic(err)
	}

	back, err := transformer.LoadLM(path)
	fmt.Println("loaded:", err == nil, back.Config() == model.Config(), back.Wte.Weight.Data[0] == model.Wte.Weight.Data[0])

	_, err = transformer.LoadClassifier(path)
	msg := err.Error()
	fmt.Println(msg[strings.Index(msg, "the file"):])

	c, _ := transformer.ReadConfig(path)
	fmt.Println("config:", c.NumLayers, "layers,", c.EmbedDim, "wide")

	same := nn.Must(transformer.NewLM(c))
	fmt.Println("weights only:", nn.LoadFile(path, same, nn.Strict))
	// Output:
	// loaded: true true true
	// the file holds a model of kind "lm", not "classifier"; use LoadLM
	// config: 2 layers, 16 wide
	// weights only: <nil>
}
