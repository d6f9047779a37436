package main

import (
	"io"
	"os"
	"strings"
	"testing"
)

// TestTutorial runs every cell and checks the lines the tutorial prints.
func TestTutorial(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the 4×10×512 block and the classifier")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	main()
	os.Stdout = stdout
	w.Close()
	out := <-done
	for _, want := range []string{
		"kernels backend:",
		"(kept ", "each scaled by 1/(1-0.3) = 1.4286)",
		"Input shape: [4 10 512]", "Output shape: [4 10 512]", "Input and output shapes match: true",
		"Processed through 3 transformer blocks", "Output shape: [2 8 256]",
		"Model output shape: [8 5]", "Labels shape: [8]", "Training loss: ",
		"(transformer_blocks): Sequential(", "(2): Dropout(p=0.1, inplace=True)",
		"Causal mask: tensor([[0.0000,   -inf,", "Masked output shape: [2 6 64]",
		"same output as the -inf mask (max difference 0)",
		"config.hidden_dropout_prob:          0.1", "config.attention_probs_dropout_prob: 0.1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}
