package nn_test

import (
	"fmt"

	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/optim"
)

func ExampleLinear() {
	lin := nn.Must(nn.NewLinear(3, 2, true))
	copy(lin.Weight.Data, []float32{1, 0, -1, 0.5, 0.5, 0.5}) // (out=2, in=3), like torch
	copy(lin.Bias.Data, []float32{0, 1})

	g := nn.NewGraph()
	x := g.Tensor([]float32{1, 2, 3, 4, 5, 6}, 2, 3) // a batch of 2 rows
	y := lin.Forward(g, x)
	fmt.Println(y.Shape, y.Data)

	loss := g.Sum(y)
	loss.Backward()
	fmt.Println("dL/dW:", lin.Weight.Grad)
	fmt.Println("dL/db:", lin.Bias.Grad)
	for _, p := range nn.NamedParameters(lin) {
		fmt.Println(p.Name, p.Tensor.Shape)
	}
	// Output:
	// [2 2] [-2 4 -2 8.5]
	// dL/dW: [5 7 9 5 7 9]
	// dL/db: [2 2]
	// weight [2 3]
	// bias [2]
}

func ExampleDropout() {
	nn.ManualSeed(1)
	d := nn.Must(nn.NewDropout(0.5)) // p is the DROP probability
	x := nn.NewTensor([]float32{1, 1, 1, 1, 1, 1, 1, 1}, 8)

	fmt.Println("train:", d.Forward(nil, x).Data) // kept values scaled by 1/(1-p)
	fmt.Println("again:", d.Forward(nil, x).Data) // every call draws a fresh mask

	nn.Eval(d)
	fmt.Println("eval: ", d.Forward(nil, x).Data) // identity

	nn.SetMCDropout(d, true) // Monte-Carlo dropout: active even in Eval
	fmt.Println("mc:   ", d.Forward(nil, x).Data)
	// Output:
	// train: [2 0 2 0 0 2 2 2]
	// again: [0 0 0 2 2 2 2 2]
	// eval:  [1 1 1 1 1 1 1 1]
	// mc:    [0 0 2 2 2 2 0 0]
}

func ExampleMultiheadAttention() {
	nn.ManualSeed(1)
	mha := nn.Must(nn.NewMultiheadAttention(nn.MHAConfig{EmbedDim: 4, NumHeads: 2}))
	for _, p := range nn.NamedParameters(mha) {
		fmt.Println(p.Name, p.Tensor.Shape)
	}
	// A batch of 1 sequence of 3 tokens, batch_first (N, L, E); the third
	// key is padding.
	x := nn.NewTensor([]float32{1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1}, 1, 3, 4)
	out, w := mha.Forward(nil, x, x, x, nn.AttentionOptions{
		Causal:      true,
		KeyPadding:  []bool{false, false, true},
		NeedWeights: true, // averaged over heads: (N, L, S)
	})
	fmt.Println(out.Shape, w.Shape)
	for l := 0; l < 3; l++ {
		fmt.Printf("query %d attends %.3f\n", l, w.Data[l*3:(l+1)*3])
	}
	// Output:
	// in_proj_weight [12 4]
	// in_proj_bias [12]
	// out_proj.weight [4 4]
	// out_proj.bias [4]
	// [1 3 4] [1 3 3]
	// query 0 attends [1.000 0.000 0.000]
	// query 1 attends [0.477 0.523 0.000]
	// query 2 attends [0.435 0.565 0.000]
}

// Example_training fits a small MLP with AdamW, a warmup + cosine schedule
// and gradient clipping; the graph's buffers are reused at every step.
func Example_training() {
	nn.ManualSeed(7)
	model := nn.NewSequential(
		nn.Must(nn.NewLinear(2, 16, true)),
		nn.GELU{},
		nn.Must(nn.NewDropout(0.1)),
		nn.Must(nn.NewLinear(16, 2, true)),
	)
	// XOR as a 2-class problem.
	x := nn.NewTensor([]float32{0, 0, 0, 1, 1, 0, 1, 1}, 4, 2)
	y := []int{0, 1, 1, 0}

	opt := nn.Must(optim.NewAdamW(nn.Parameters(model), 0.05))
	sched := optim.WarmupCosine{BaseLR: 0.05, MinLR: 0.001, Warmup: 10, Total: 300}
	ce := nn.NewCrossEntropyLoss()
	g := nn.NewGraph()
	for step := 0; step < 300; step++ {
		g.Reset()
		loss := ce.Forward(g, model.Forward(g, x), y)
		opt.ZeroGrad()
		loss.Backward()
		optim.ClipGradNorm(opt.Params, 1)
		opt.LR = sched.LR(step)
		opt.Step()
		if step%50 == 0 {
			fmt.Printf("step %d loss %.4f\n", step, loss.Item())
		}
	}

	nn.Eval(model)
	g.Reset()
	g.NoGrad = true
	logits := model.Forward(g, x)
	for i := 0; i < 4; i++ {
		pred := 0
		if logits.Data[2*i+1] > logits.Data[2*i] {
			pred = 1
		}
		fmt.Print(pred, " ")
	}
	fmt.Println()
	// Output:
	// step 0 loss 0.7242
	// step 50 loss 0.0005
	// step 100 loss 0.0003
	// step 150 loss 0.0003
	// step 200 loss 0.0004
	// step 250 loss 0.0001
	// 0 1 1 0
}
