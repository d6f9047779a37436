package safetensors_test

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/simdformer/simdformer/nn/safetensors"
)

// Save writes tensors with PyTorch state_dict names; Load reads them back.
func Example() {
	weights := map[string]safetensors.Tensor{
		"classifier.weight": {Shape: []int{2, 3}, F32: []float32{1, 2, 3, 4, 5, 6}},
		"classifier.bias":   {Shape: []int{2}, F32: []float32{0.5, -0.5}},
	}
	var buf bytes.Buffer
	if err := safetensors.Save(&buf, weights, map[string]string{"format": "pt"}); err != nil {
		log.Fatal(err)
	}
	tensors, meta, err := safetensors.Load(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		log.Fatal(err)
	}
	w := tensors["classifier.weight"]
	fmt.Println(w.DType, w.Shape, w.F32, meta["format"])
	// Output: F32 [2 3] [1 2 3 4 5 6] pt
}

// LoadFile reads a file from disk; F16 and BF16 tensors arrive as float32.
func ExampleLoadFile() {
	path := filepath.Join(os.TempDir(), "example.safetensors")
	defer os.Remove(path)
	half := map[string]safetensors.Tensor{
		"embedding.weight": {DType: "F16", Shape: []int{2, 2}, F32: []float32{0.1, 1, 65504, 1e-7}},
	}
	if err := safetensors.SaveFile(path, half, nil); err != nil {
		log.Fatal(err)
	}
	tensors, _, err := safetensors.LoadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	e := tensors["embedding.weight"]
	fmt.Println(e.DType, e.Shape, e.F32)
	// Output: F16 [2 2] [0.099975586 1 65504 1.1920929e-07]
}
