package transformer_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/optim"
	"github.com/simdformer/simdformer/transformer"
)

// The tutorial's block on a (4, 10, 512) input: the shape is preserved.
func ExampleTutorialBlock() {
	block := nn.Must(transformer.TutorialBlock(512, 8, 2048, 0.1))
	x := nn.Zeros(4, 10, 512)
	y := block.Forward(nil, x) // a nil graph records nothing
	fmt.Println(y.Shape)
	// Output: [4 10 512]
}

// One training step of the tutorial's classifier: forward, cross-entropy,
// backward, Adam. nn.Train turns dropout on; nn.Eval turns it off.
func ExampleClassifier() {
	nn.ManualSeed(1)
	cfg := transformer.Config{VocabSize: 1000, EmbedDim: 128, NumHeads: 4, FFDim: 512, NumClasses: 5, NumLayers: 2}
	cfg.SetDropout(0.1)
	model := nn.Must(transformer.NewClassifier(cfg))
	opt := nn.Must(optim.NewAdam(nn.Parameters(model), 1e-3))
	ce := nn.NewCrossEntropyLoss()

	const batch, seq = 8, 20
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]int, batch*seq)
	for i := range ids {
		ids[i] = rng.IntN(cfg.VocabSize)
	}
	labels := []int{0, 1, 2, 3, 4, 0, 1, 2}

	g := nn.NewGraph()
	nn.Train(model)
	logits := model.Forward(g, ids, batch, seq)
	loss := ce.Forward(g, logits, labels)
	opt.ZeroGrad()
	loss.Backward()
	opt.Step()
	fmt.Println("logits", logits.Shape, "loss finite:", loss.Item() > 0 && loss.Item() < 10)
	// Output: logits [8 5] loss finite: true
}

// A causal block: position l attends to positions ≤ l only.
func ExampleNewBlock_causal() {
	block := nn.Must(transformer.NewBlock(transformer.BlockConfig{
		EmbedDim: 64, NumHeads: 2, FFDim: 128, Causal: true,
		AttnDropout: 0.1, FFNDropout: 0.1, ResidDropout: 0.1,
	}))
	nn.Eval(block)
	y := block.ForwardWith(nil, nn.Zeros(2, 6, 64), nn.AttentionOptions{})
	fmt.Println(y.Shape)
	// Output: [2 6 64]
}

// Configs read BERT's and GPT-2's dropout names.
func ExampleConfig_UnmarshalJSON() {
	var bert, gpt2 transformer.Config
	_ = json.Unmarshal([]byte(`{"hidden_size": 768, "num_attention_heads": 12, "intermediate_size": 3072,
		"num_hidden_layers": 12, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1}`), &bert)
	_ = json.Unmarshal([]byte(`{"n_embd": 768, "n_head": 12, "n_layer": 12,
		"embd_pdrop": 0.1, "attn_pdrop": 0.1, "resid_pdrop": 0.1}`), &gpt2)
	fmt.Printf("BERT:  attn %g resid %g embed %g ffn %g pre-norm %v\n", bert.AttnDropout, bert.ResidDropout, bert.EmbedDropout, bert.FFNDropout, bert.NormFirst)
	fmt.Printf("GPT-2: attn %g resid %g embed %g ffn %g pre-norm %v ff %d\n", gpt2.AttnDropout, gpt2.ResidDropout, gpt2.EmbedDropout, gpt2.FFNDropout, gpt2.NormFirst, gpt2.FFDim)
	// Output:
	// BERT:  attn 0.1 resid 0.1 embed 0.1 ffn 0 pre-norm false
	// GPT-2: attn 0.1 resid 0.1 embed 0.1 ffn 0 pre-norm true ff 3072
}

// Describe prints a model like PyTorch's print(model).
func ExampleDescribe() {
	block := nn.Must(transformer.TutorialBlock(16, 4, 32, 0.1))
	fmt.Println(transformer.Describe(block))
	// Output:
	// TransformerBlock(
	//   (attn): MultiheadAttention(
	//     (out_proj): Linear(in_features=16, out_features=16, bias=True)
	//   )
	//   (ff): Sequential(
	//     (0): Linear(in_features=16, out_features=32, bias=True)
	//     (1): ReLU()
	//     (2): Dropout(p=0.1, inplace=True)
	//     (3): Linear(in_features=32, out_features=16, bias=True)
	//   )
	//   (dropout1): Dropout(p=0.1, inplace=True)
	//   (dropout2): Dropout(p=0.1, inplace=True)
	//   (norm1): LayerNorm((16,), eps=1e-05, elementwise_affine=True)
	//   (norm2): LayerNorm((16,), eps=1e-05, elementwise_affine=True)
	// )
}

// A GPT-style language model generates from a prompt.
func ExampleLM_Generate() {
	nn.ManualSeed(1)
	cfg := transformer.Config{VocabSize: 10, MaxPositions: 16, EmbedDim: 32, NumHeads: 4, FFDim: 64, NumLayers: 2}
	cfg.SetDropout(0.1)
	lm := nn.Must(transformer.NewLM(cfg))
	nn.Eval(lm)
	out := lm.Generate([]int{1, 2, 3}, 5, 0, nil) // greedy
	fmt.Println(len(out))
	// Output: 5
}
