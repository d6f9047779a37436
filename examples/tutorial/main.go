// Command tutorial runs every cell of the tutorial "Dropout in Transformers
// and Deep Learning" in Go: dropout in training and evaluation mode, the
// transformer block and its shapes, three stacked blocks, the classifier's
// Adam training step, the model's structure, the causal mask and the masked
// block, and BERT's two dropout settings.
//
//	go run ./examples/tutorial
//
// The tutorial writes dropout with p the probability of KEEPING a unit;
// PyTorch, Hugging Face and this library take p as the probability of
// DROPPING one, so nn.NewDropout(0.3) drops 30% and scales the rest by 1/0.7.
package main

import (
	"encoding/json"
	"fmt"
	"log"
	"math"
	"math/rand/v2"

	"github.com/simdformer/simdformer/kernels"
	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/optim"
	"github.com/simdformer/simdformer/transformer"
)

// rng plays the role of torch.randn / torch.randint.
var rng = rand.New(rand.NewPCG(0, 42))

func randn(shape ...int) *nn.Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	data := make([]float32, n)
	for i := range data {
		data[i] = float32(rng.NormFloat64())
	}
	return nn.NewTensor(data, shape...)
}

func main() {
	log.SetFlags(0)
	nn.ManualSeed(0)
	fmt.Printf("kernels backend: %s\n\n", kernels.Backend())
	basicDropout()
	fmt.Println("===Basic Usage ===")
	basicUsage()
	fmt.Println("=== Example 2: Multiple Blocks ===")
	multiBlock()
	fmt.Println("\n=== Example 3: Training Example ===")
	model := trainingExample()
	fmt.Println("\nprint(model):")
	fmt.Println(transformer.Describe(model))
	fmt.Println("\n=== Example 4: Masked Attention ===")
	maskedAttention()
	fmt.Println("\n=== Dropout in a Hugging Face BERT config ===")
	bertConfig()
}

// basicDropout is the tutorial's first cell: nn.Dropout(p=0.3) on a 5×10
// tensor, in training mode and in evaluation mode.
func basicDropout() {
	x := randn(5, 10)
	dropout := nn.Must(nn.NewDropout(0.3)) // drop 30% of the activations
	nn.Train(dropout)
	y := dropout.Forward(nil, x)
	fmt.Println("Training:", formatTensor(y.Data, y.Shape)) // some activations are zeroed, the rest scaled by 1/0.7
	kept := 0
	for i, v := range y.Data {
		if v != 0 {
			kept++
			if r := v / x.Data[i]; math.Abs(float64(r)-1/0.7) > 1e-5 {
				log.Fatalf("kept value scaled by %v, want 1/0.7", r)
			}
		}
	}
	fmt.Printf("(kept %d of %d, each scaled by 1/(1-0.3) = %.4f)\n", kept, len(y.Data), 1/0.7)
	nn.Eval(dropout)
	y = dropout.Forward(nil, x)
	fmt.Println("Inference:", formatTensor(y.Data, y.Shape)) // no dropout: x itself
	fmt.Println("x:        ", formatTensor(x.Data, x.Shape))
	fmt.Println()
}

// basicUsage is Example 1: one block on a (4, 10, 512) input.
func basicUsage() {
	batchSize, seqLength, embedDim, numHeads, ffDim := 4, 10, 512, 8, 2048
	block := nn.Must(transformer.TutorialBlock(embedDim, numHeads, ffDim, 0.1))
	x := randn(batchSize, seqLength, embedDim)
	output := block.Forward(nil, x) // a new module is in training mode, like PyTorch's
	fmt.Printf("Input shape: %v\n", x.Shape)
	fmt.Printf("Output shape: %v\n", output.Shape)
	fmt.Printf("Input and output shapes match: %v\n", fmt.Sprint(x.Shape) == fmt.Sprint(output.Shape))
	fmt.Println(formatTensor(output.Data, output.Shape))
	fmt.Println()
}

// multiBlock is Example 2: three stacked blocks on a (2, 8, 256) input.
func multiBlock() {
	embedDim, numHeads, ffDim, numBlocks := 256, 4, 1024, 3
	blocks := nn.Must(transformer.NewEncoder(numBlocks, transformer.BlockConfig{EmbedDim: embedDim,
		NumHeads: numHeads, FFDim: ffDim, AttnDropout: 0.1, FFNDropout: 0.1, ResidDropout: 0.1}))
	x := randn(2, 8, embedDim)
	output := blocks.Forward(nil, x)
	fmt.Printf("Processed through %d transformer blocks\n", numBlocks)
	fmt.Printf("Output shape: %v\n", output.Shape)
	fmt.Println(formatTensor(output.Data, output.Shape))
}

// trainingExample is Example 3: the classifier, one Adam step on random
// token ids and labels.
func trainingExample() *transformer.Classifier {
	cfg := transformer.Config{VocabSize: 1000, EmbedDim: 128, NumHeads: 4, FFDim: 512, NumClasses: 5, NumLayers: 2}
	cfg.AttnDropout, cfg.FFNDropout, cfg.ResidDropout = 0.1, 0.1, 0.1 // the tutorial's blocks; no embedding dropout
	const seqLength, batchSize, learningRate = 20, 8, 1e-3
	model := nn.Must(transformer.NewClassifier(cfg))

	inputSeq := make([]int, batchSize*seqLength)
	for i := range inputSeq {
		inputSeq[i] = rng.IntN(cfg.VocabSize)
	}
	labels := make([]int, batchSize)
	for i := range labels {
		labels[i] = rng.IntN(cfg.NumClasses)
	}

	g := nn.NewGraph() // records the forward pass for backward
	outputs := model.Forward(g, inputSeq, batchSize, seqLength)
	fmt.Printf("Model output shape: %v\n", outputs.Shape)
	fmt.Printf("Labels shape: [%d]\n", len(labels))

	criterion := nn.NewCrossEntropyLoss()
	optimizer := nn.Must(optim.NewAdam(nn.Parameters(model), learningRate))
	optimizer.ZeroGrad()
	loss := criterion.Forward(g, outputs, labels)
	loss.Backward()
	optimizer.Step()
	fmt.Printf("Training loss: %.4f\n", loss.Item())
	return model
}

// maskedAttention is Example 4: the causal mask and the masked block.
func maskedAttention() {
	embedDim, numHeads, ffDim, seqLength := 64, 2, 128, 6
	// The causal mask for autoregressive generation: -inf above the diagonal.
	mask := make([]float32, seqLength*seqLength)
	for i := range seqLength {
		for j := i + 1; j < seqLength; j++ {
			mask[i*seqLength+j] = float32(math.Inf(-1))
		}
	}
	block := nn.Must(transformer.TutorialBlock(embedDim, numHeads, ffDim, 0.1))
	x := randn(2, seqLength, embedDim)
	output := block.ForwardWith(nil, x, nn.AttentionOptions{Mask: mask})
	fmt.Println("Causal mask:", formatTensor(mask, []int{seqLength, seqLength}))
	fmt.Printf("Masked output shape: %v\n", output.Shape)

	// The same block with Causal set needs no mask tensor; in eval mode the
	// two forms give the same numbers.
	nn.Eval(block)
	withMask := block.ForwardWith(nil, x, nn.AttentionOptions{Mask: mask}).Data
	block.Causal = true
	causal := block.Forward(nil, x).Data
	diff := 0.0
	for i := range causal {
		diff = max(diff, math.Abs(float64(causal[i]-withMask[i])))
	}
	fmt.Printf("Causal: true gives the same output as the -inf mask (max difference %g)\n", diff)
}

// bertConfigJSON holds the fields of bert-base-uncased's config.json that
// describe its shape and dropout (Hugging Face's BertConfig names).
const bertConfigJSON = `{
  "architectures": ["BertForMaskedLM"],
  "attention_probs_dropout_prob": 0.1,
  "hidden_act": "gelu",
  "hidden_dropout_prob": 0.1,
  "hidden_size": 768,
  "initializer_range": 0.02,
  "intermediate_size": 3072,
  "layer_norm_eps": 1e-12,
  "max_position_embeddings": 512,
  "model_type": "bert",
  "num_attention_heads": 12,
  "num_hidden_layers": 12,
  "type_vocab_size": 2,
  "vocab_size": 30522
}`

// bertConfig reads BERT's config with transformer.Config and prints its two
// dropout rates, as the tutorial's last cell does with Hugging Face.
func bertConfig() {
	var raw struct {
		HiddenDropoutProb         float64 `json:"hidden_dropout_prob"`
		AttentionProbsDropoutProb float64 `json:"attention_probs_dropout_prob"`
	}
	if err := json.Unmarshal([]byte(bertConfigJSON), &raw); err != nil {
		log.Fatal(err)
	}
	fmt.Println("config.hidden_dropout_prob:         ", raw.HiddenDropoutProb)         // 0.1
	fmt.Println("config.attention_probs_dropout_prob:", raw.AttentionProbsDropoutProb) // 0.1
	var cfg transformer.Config
	if err := json.Unmarshal([]byte(bertConfigJSON), &cfg); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("as transformer.Config: %d layers of embed %d, %d heads, ff %d, %s; dropout: attention %g, residual %g, embedding %g, inside the FFN %g\n",
		cfg.NumLayers, cfg.EmbedDim, cfg.NumHeads, cfg.FFDim, cfg.Activation,
		cfg.AttnDropout, cfg.ResidDropout, cfg.EmbedDropout, cfg.FFNDropout)
}
