// Command digits trains the tutorial's transformer classifier on real
// handwritten digits (UCI, 8×8 images read as sequences of 64 pixel tokens)
// at several dropout rates, prints per-epoch training and validation loss
// and accuracy, a final table, and writes a PNG of the learning curves.
//
//	go run ./examples/digits                      # dropout 0, 0.1 and 0.3
//	go run ./examples/digits -rates 0,0.2 -epochs 40 -out curves.png
//
// The training set is deliberately small (-train images; the rest of the
// 1,797 validate) so that the model overfits without dropout: the gap
// between the dashed (train) and solid (validation) curves is what dropout
// narrows.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/simdformer/simdformer/kernels"
	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/optim"
	"github.com/simdformer/simdformer/transformer"
)

type options struct {
	epochs, batch, nTrain    int
	nVal                     int // 0: every image not in the training set
	embed, heads, ff, layers int
	lr                       float64
	seed                     uint64
	rates                    []float32
	out                      string
	quiet                    bool
	tok                      tokenizer
}

func main() {
	log.SetFlags(0)
	var o options
	var rates string
	flag.IntVar(&o.epochs, "epochs", 35, "training epochs per dropout rate")
	flag.IntVar(&o.batch, "batch", 16, "minibatch size")
	flag.IntVar(&o.nTrain, "train", 1000, "training images (the rest of the 1,797 validate)")
	flag.IntVar(&o.nVal, "val", 0, "validation images (0: all the images not used for training)")
	flag.IntVar(&o.embed, "embed", 32, "embedding size")
	flag.IntVar(&o.heads, "heads", 4, "attention heads")
	flag.IntVar(&o.ff, "ff", 64, "feed-forward hidden size")
	flag.IntVar(&o.layers, "layers", 2, "transformer blocks")
	flag.Float64Var(&o.lr, "lr", 2e-3, "Adam learning rate")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the split, the initial weights, the batches and the dropout masks")
	flag.StringVar(&rates, "rates", "0,0.1,0.3", "comma-separated dropout rates (drop probabilities) to compare")
	flag.StringVar(&o.out, "out", "digits_curves.png", "PNG file for the learning curves (empty: none)")
	flag.BoolVar(&o.quiet, "q", false, "print only the final table")
	flag.Parse()
	o.tok = pixelTokens
	for _, s := range strings.Split(rates, ",") {
		p, err := strconv.ParseFloat(strings.TrimSpace(s), 32)
		if err != nil || p < 0 || p >= 1 {
			log.Fatalf("digits: bad dropout rate %q: want a number in [0, 1)", s)
		}
		o.rates = append(o.rates, float32(p))
	}
	if err := runAll(o, os.Stdout); err != nil {
		log.Fatal("digits: ", err)
	}
}

func runAll(o options, w io.Writer) error {
	all, err := loadDigits(digitsCSV)
	if err != nil {
		return err
	}
	train, val := split(all, o.nTrain, o.seed)
	if o.nVal > 0 && o.nVal < len(val) {
		val = val[:o.nVal]
	}
	fmt.Fprintf(w, "kernels backend: %s (available: %s)\n", kernels.Backend(), strings.Join(kernels.Backends(), ", "))
	fmt.Fprintf(w, "UCI handwritten digits: %d images, %d train / %d validation, %d tokens each (CLS + 8×8 pixels)\n",
		len(all), len(train), len(val), o.tok.seqLen)
	fmt.Fprintf(w, "model: tutorial classifier, embed %d, %d heads, ff %d, %d blocks, learned positions; Adam lr %g, batch %d, %d epochs\n",
		o.embed, o.heads, o.ff, o.layers, o.lr, o.batch, o.epochs)

	var runs []run
	start := time.Now()
	for _, p := range o.rates {
		r, err := trainOne(o, p, train, val, w)
		if err != nil {
			return err
		}
		runs = append(runs, r)
	}

	fmt.Fprintf(w, "\nfinal results after %d epochs (%s in all):\n", o.epochs, time.Since(start).Round(time.Second))
	fmt.Fprintf(w, "%-8s %10s %10s %10s %10s %10s %10s\n", "dropout", "train loss", "val loss", "train acc", "val acc", "gap (loss)", "best val")
	for _, r := range runs {
		last := r.epochs[len(r.epochs)-1]
		best := 0.0
		for _, e := range r.epochs {
			best = max(best, e.valAcc)
		}
		fmt.Fprintf(w, "%-8.2g %10.4f %10.4f %9.1f%% %9.1f%% %10.4f %9.1f%%\n", r.dropout, last.trainLoss, last.valLoss,
			100*last.trainAcc, 100*last.valAcc, last.valLoss-last.trainLoss, 100*best)
	}
	if len(runs) > 1 {
		fmt.Fprint(w, "overfitting gap (validation − training loss) by dropout rate:")
		for _, r := range runs {
			last := r.epochs[len(r.epochs)-1]
			fmt.Fprintf(w, "  %.2g: %.3f", r.dropout, last.valLoss-last.trainLoss)
		}
		fmt.Fprintln(w)
	}
	if o.out != "" {
		title := fmt.Sprintf("Transformer on UCI digits: %d training images, %d validation", len(train), len(val))
		if err := writePlot(o.out, runs, title); err != nil {
			return err
		}
		fmt.Fprintf(w, "learning curves written to %s\n", o.out)
	}
	return nil
}

// trainOne trains a fresh model (the same initial weights for every rate)
// with dropout p at every place the tutorial puts it.
func trainOne(o options, p float32, train, val []sample, w io.Writer) (run, error) {
	seqLen := o.tok.seqLen
	cfg := transformer.Config{VocabSize: o.tok.vocab, MaxPositions: seqLen, EmbedDim: o.embed, NumHeads: o.heads,
		FFDim: o.ff, NumLayers: o.layers, NumClasses: numDigits}
	cfg.SetDropout(p)
	nn.ManualSeed(o.seed)
	model, err := transformer.NewClassifier(cfg)
	if err != nil {
		return run{}, err
	}
	nn.SeedDropout(model, o.seed)
	opt, err := optim.NewAdam(nn.Parameters(model), float32(o.lr))
	if err != nil {
		return run{}, err
	}
	ce := nn.NewCrossEntropyLoss()
	g := nn.NewGraph()
	rng := rand.New(rand.NewPCG(o.seed, 7))
	order := make([]int, len(train))
	for i := range order {
		order[i] = i
	}
	ids := make([]int, o.batch*seqLen)
	labels := make([]int, o.batch)
	r := run{dropout: float64(p)}
	if !o.quiet {
		fmt.Fprintf(w, "\n== dropout %.2g ==\n", p)
	}
	for epoch := 1; epoch <= o.epochs; epoch++ {
		t0 := time.Now()
		nn.Train(model)
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for s := 0; s < len(order); s += o.batch {
			idx := order[s:min(s+o.batch, len(order))]
			n := len(idx)
			o.tok.batch(train, idx, ids, labels)
			g.Reset()
			loss := ce.Forward(g, model.Forward(g, ids[:n*seqLen], n, seqLen), labels[:n])
			opt.ZeroGrad()
			loss.Backward()
			opt.Step()
		}
		nn.Eval(model)
		var s epochStats
		s.trainLoss, s.trainAcc = evaluate(model, &o.tok, train)
		s.valLoss, s.valAcc = evaluate(model, &o.tok, val)
		r.epochs = append(r.epochs, s)
		if !o.quiet {
			fmt.Fprintf(w, "epoch %2d/%d  train loss %.4f acc %5.1f%%  val loss %.4f acc %5.1f%%  (%s)\n", epoch, o.epochs,
				s.trainLoss, 100*s.trainAcc, s.valLoss, 100*s.valAcc, time.Since(t0).Round(10*time.Millisecond))
		}
	}
	return r, nil
}

// evaluate returns the mean loss and the accuracy of model on samples, in
// eval mode and without recording a graph.
func evaluate(model *transformer.Classifier, tk *tokenizer, samples []sample) (loss, acc float64) {
	const bs = 128
	seqLen := tk.seqLen
	g := nn.NewGraph()
	g.NoGrad = true
	ce := nn.NewCrossEntropyLoss()
	ce.Reduction = nn.ReduceSum
	ids := make([]int, bs*seqLen)
	labels := make([]int, bs)
	idx := make([]int, 0, bs)
	correct := 0
	for s := 0; s < len(samples); s += bs {
		idx = idx[:0]
		for i := s; i < min(s+bs, len(samples)); i++ {
			idx = append(idx, i)
		}
		n := len(idx)
		tk.batch(samples, idx, ids, labels)
		g.Reset()
		logits := model.Forward(g, ids[:n*seqLen], n, seqLen)
		loss += float64(ce.Forward(g, logits, labels[:n]).Item())
		for b := range n {
			row := logits.Data[b*numDigits : (b+1)*numDigits]
			best := 0
			for c, v := range row {
				if v > row[best] {
					best = c
				}
			}
			if best == labels[b] {
				correct++
			}
		}
	}
	return loss / float64(len(samples)), float64(correct) / float64(len(samples))
}
