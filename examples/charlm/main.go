// Command charlm trains a small GPT-style causal language model with
// dropout on real text that every machine with Go has — Go source files of
// the standard library under $(go env GOROOT)/src — then prints the
// training and validation loss and a sample.
//
//	go run ./examples/charlm
//	go run ./examples/charlm -steps 2000 -dropout 0.2 -prompt "func (b *Buffer) "
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/simdformer/simdformer/kernels"
	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/optim"
	"github.com/simdformer/simdformer/transformer"
)

type options struct {
	steps, batch, ctx, embed, heads, layers, every int
	corpusBytes, sampleLen                         int
	lr, dropout, temperature                       float64
	seed                                           uint64
	goroot, prompt                                 string
}

func main() {
	log.SetFlags(0)
	var o options
	flag.IntVar(&o.steps, "steps", 1500, "training steps")
	flag.IntVar(&o.batch, "batch", 16, "sequences per step")
	flag.IntVar(&o.ctx, "ctx", 64, "context length in characters")
	flag.IntVar(&o.embed, "embed", 64, "embedding size")
	flag.IntVar(&o.heads, "heads", 4, "attention heads")
	flag.IntVar(&o.layers, "layers", 2, "transformer blocks")
	flag.IntVar(&o.every, "every", 250, "report the losses every this many steps")
	flag.IntVar(&o.corpusBytes, "corpus", 400_000, "bytes of Go source to read")
	flag.IntVar(&o.sampleLen, "n", 300, "characters to sample at the end")
	flag.Float64Var(&o.lr, "lr", 3e-3, "AdamW learning rate (peak of a warmup + cosine schedule)")
	flag.Float64Var(&o.dropout, "dropout", 0.1, "dropout rate at the embeddings, attention, FFN and residuals")
	flag.Float64Var(&o.temperature, "temperature", 0.7, "sampling temperature (0: greedy)")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the weights, batches, dropout and sampling")
	flag.StringVar(&o.goroot, "goroot", "", "Go root to read the corpus from (default: go env GOROOT)")
	flag.StringVar(&o.prompt, "prompt", "func (b *Buffer) ", "text the sample starts from")
	flag.Parse()
	if o.goroot == "" {
		o.goroot = goroot()
	}
	if err := run(o, os.Stdout); err != nil {
		log.Fatal("charlm: ", err)
	}
}

// goroot asks the go command, which `go run` guarantees is present.
func goroot() string {
	if out, err := exec.Command("go", "env", "GOROOT").Output(); err == nil {
		return strings.TrimSpace(string(out))
	}
	return os.Getenv("GOROOT")
}

func run(o options, w io.Writer) error {
	text, err := readCorpus(o.goroot, o.corpusBytes)
	if err != nil {
		return err
	}
	voc := newVocab(text)
	data := voc.encode(text)
	nVal := len(data) / 10 // the last 10% validates
	train, val := data[:len(data)-nVal], data[len(data)-nVal:]
	if len(val) < o.ctx+1 || len(train) < o.ctx+1 {
		return fmt.Errorf("corpus of %d bytes is too small for a context of %d", len(text), o.ctx)
	}

	cfg := transformer.Config{VocabSize: voc.size(), MaxPositions: o.ctx, EmbedDim: o.embed, NumHeads: o.heads,
		FFDim: 4 * o.embed, NumLayers: o.layers, Activation: "gelu"}
	cfg.SetDropout(float32(o.dropout))
	nn.ManualSeed(o.seed)
	model, err := transformer.NewLM(cfg)
	if err != nil {
		return err
	}
	nn.SeedDropout(model, o.seed)
	params := nn.Parameters(model)
	nparams := 0
	for _, p := range params {
		nparams += p.Numel()
	}
	fmt.Fprintf(w, "kernels backend: %s\n", kernels.Backend())
	fmt.Fprintf(w, "corpus: %d bytes of Go source from %s/src (%d train / %d validation characters), vocabulary %d\n",
		len(text), o.goroot, len(train), len(val), voc.size())
	fmt.Fprintf(w, "model: causal LM, %d blocks, embed %d, %d heads, context %d, dropout %g, %d parameters\n",
		o.layers, o.embed, o.heads, o.ctx, o.dropout, nparams)
	fmt.Fprintf(w, "uniform guess: loss %.3f\n", math.Log(float64(voc.size())))

	opt, err := optim.NewAdamW(params, float32(o.lr))
	if err != nil {
		return err
	}
	ce := nn.NewCrossEntropyLoss()
	g := nn.NewGraph()
	rng := rand.New(rand.NewPCG(o.seed, 3))
	ids := make([]int, o.batch*o.ctx)
	targets := make([]int, o.batch*o.ctx)
	warmup := max(1, o.steps/20)
	start := time.Now()
	var running float64
	for step := 1; step <= o.steps; step++ {
		nn.Train(model)
		for b := range o.batch {
			s := rng.IntN(len(train) - o.ctx)
			copy(ids[b*o.ctx:(b+1)*o.ctx], train[s:s+o.ctx])
			copy(targets[b*o.ctx:(b+1)*o.ctx], train[s+1:s+o.ctx+1])
		}
		opt.LR = float32(lrAt(o.lr, step, warmup, o.steps))
		g.Reset()
		loss := model.Loss(g, ce, ids, targets, o.batch, o.ctx)
		opt.ZeroGrad()
		loss.Backward()
		optim.ClipGradNorm(params, 1)
		opt.Step()
		running += float64(loss.Item())
		if step%o.every == 0 || step == o.steps {
			n := step % o.every
			if n == 0 {
				n = o.every
			}
			fmt.Fprintf(w, "step %4d/%d  train loss (dropout on) %.3f  val loss %.3f  (%.1f steps/s)\n", step, o.steps,
				running/float64(n), evalLoss(model, val, o.ctx), float64(step)/time.Since(start).Seconds())
			running = 0
		}
	}

	nn.Eval(model)
	prompt := voc.encode([]byte(o.prompt))
	srng := rand.New(rand.NewPCG(o.seed, 5))
	out := model.Generate(prompt, o.sampleLen, float32(o.temperature), srng)
	fmt.Fprintf(w, "\nsample (temperature %g):\n%s%s\n", o.temperature, o.prompt, voc.decode(out))
	return nil
}

// lrAt is a linear warmup to peak, then a cosine decay to peak/10.
func lrAt(peak float64, step, warmup, total int) float64 {
	if step <= warmup {
		return peak * float64(step) / float64(warmup)
	}
	f := float64(step-warmup) / float64(max(1, total-warmup))
	return peak * (0.1 + 0.9*0.5*(1+math.Cos(math.Pi*f)))
}

// evalLoss is the mean next-character loss over consecutive windows of
// the validation text, in eval mode (no dropout).
func evalLoss(model *transformer.LM, val []int, ctx int) float64 {
	nn.Eval(model)
	defer nn.Train(model)
	g := nn.NewGraph()
	g.NoGrad = true
	ce := nn.NewCrossEntropyLoss()
	const windows = 32
	var sum float64
	n := 0
	stride := max(ctx, (len(val)-ctx-1)/windows)
	ids := make([]int, ctx)
	for s := 0; s+ctx+1 <= len(val) && n < windows; s += stride {
		copy(ids, val[s:s+ctx])
		g.Reset()
		sum += float64(ce.Forward(g, model.Forward(g, ids, 1, ctx), val[s+1:s+ctx+1]).Item())
		n++
	}
	return sum / float64(n)
}
