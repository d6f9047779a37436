// Command bert fine-tunes a BERT (Hugging Face's layout) as a sequence
// classifier, with dropout, and saves it as a Hugging Face directory.
//
//	go run ./examples/bert                          # a small BERT on telling Go, Python and C apart (~1 min)
//	go run ./examples/bert -model DIR -data FILE    # fine-tune the BERT in DIR on FILE
//
// Without -model a small BERT is built, a WordPiece vocabulary is trained
// on the training text (tokenizer.TrainWordPiece), and the model learns to
// tell which language a snippet of a few source lines is written in: Go
// (from $(go env GOROOT)/src), Python (the standard library under
// /usr/lib/python3*) and C (GOROOT's .c files and /usr/include's headers);
// a language missing on this machine is skipped. It trains once per
// dropout rate of -rates (by default 0.1, then 0: no dropout) from the
// same initial weights and batches, and prints the validation accuracy of
// each after every epoch.
//
// With -model, DIR holds config.json, model.safetensors and vocab.txt (a
// Hugging Face BERT directory); a BertForSequenceClassification with the
// data's labels keeps its head, any other gets a new one. -data is a text
// file of "label<TAB>text" lines, split into training and validation
// (-val).
//
// Either way the run prints a progress line (examples/s, loss, ETA), the
// validation accuracy per epoch, and saves the (first) model to -out with
// SaveBERTClassifier plus vocab.txt and tokenizer_config.json, so
// BertForSequenceClassification.from_pretrained(out) and
// BertTokenizer.from_pretrained(out) load it.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/simdformer/simdformer/kernels"
	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/optim"
	"github.com/simdformer/simdformer/tokenizer"
	"github.com/simdformer/simdformer/transformer"
)

type options struct {
	model, data, out, goroot, rates string
	epochs, batch, maxLen, vocab    int
	hidden, heads, layers, ff       int
	perLang, lines                  int
	lr, wd, val                     float64
	seed                            uint64
	quiet                           bool
}

func main() {
	log.SetFlags(0)
	var o options
	flag.StringVar(&o.model, "model", "", "Hugging Face BERT directory (config.json, model.safetensors, vocab.txt) to fine-tune (default: a new small BERT)")
	flag.StringVar(&o.data, "data", "", "label<TAB>text file to train on (default: the built-in Go/Python/C task)")
	flag.StringVar(&o.out, "out", "bert-out", "directory the (first) model is saved to (empty: none)")
	flag.StringVar(&o.goroot, "goroot", "", "Go root to read Go and C source from (default: go env GOROOT)")
	flag.StringVar(&o.rates, "rates", "", "comma-separated dropout rates to train with, each from the same start (hidden, attention and classifier dropout); default 0.1,0 for a new model, the checkpoint's own for -model")
	flag.IntVar(&o.epochs, "epochs", 8, "epochs")
	flag.IntVar(&o.batch, "batch", 32, "examples per step")
	flag.IntVar(&o.maxLen, "maxlen", 64, "tokens per example, [CLS] and [SEP] included (longer ones are truncated)")
	flag.IntVar(&o.vocab, "vocab", 2000, "WordPiece vocabulary size of a new model")
	flag.IntVar(&o.hidden, "hidden", 64, "hidden_size of a new model")
	flag.IntVar(&o.heads, "heads", 4, "num_attention_heads of a new model")
	flag.IntVar(&o.layers, "layers", 2, "num_hidden_layers of a new model")
	flag.IntVar(&o.ff, "ff", 256, "intermediate_size of a new model")
	flag.IntVar(&o.perLang, "n", 1200, "snippets per language (built-in task)")
	flag.IntVar(&o.lines, "lines", 6, "non-blank source lines per snippet (built-in task)")
	flag.Float64Var(&o.lr, "lr", 2e-3, "peak AdamW learning rate (warmup + cosine); 3e-5 suits a pretrained BERT")
	flag.Float64Var(&o.wd, "wd", 0.01, "AdamW weight decay of the weight matrices (none on biases, LayerNorm, embeddings)")
	flag.Float64Var(&o.val, "val", 0.1, "fraction of -data kept for validation")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the weights, data, batches and dropout")
	flag.BoolVar(&o.quiet, "q", false, "no progress line")
	flag.Parse()
	if err := run(o, os.Stdout, os.Stderr); err != nil {
		log.Fatal("bert: ", err)
	}
}

// result is one training run's outcome.
type result struct {
	rate     string
	accs     []float64 // validation accuracy after each epoch
	loss     float64   // training loss of the last epoch
	valLoss  float64   // validation loss after the last epoch
	duration time.Duration
}

func run(o options, w, progress io.Writer) error {
	if o.quiet {
		progress = io.Discard
	}
	start := time.Now()
	fmt.Fprintf(w, "kernels backend: %s\n", kernels.Backend())
	d, err := loadData(o, w)
	if err != nil {
		return err
	}
	if len(d.train) == 0 || len(d.val) == 0 {
		return fmt.Errorf("%d training and %d validation examples: need both", len(d.train), len(d.val))
	}
	fmt.Fprintf(w, "%d training and %d validation examples, labels %v\n", len(d.train), len(d.val), d.labels)

	tok, base, err := buildModel(o, d, w)
	if err != nil {
		return err
	}
	train, val := encode(tok, d.train, o.maxLen), encode(tok, d.val, o.maxLen)
	rates, err := parseRates(o.rates, o.model == "")
	if err != nil {
		return err
	}
	initial := snapshot(base)
	var results []result
	var first *transformer.BERTClassifier
	for i, rate := range rates {
		m := base
		if i > 0 {
			m = clone(base, initial)
		}
		name := "checkpoint's"
		if rate >= 0 {
			setDropout(m, float32(rate))
			name = strconv.FormatFloat(rate, 'g', -1, 64)
		}
		fmt.Fprintf(w, "\ntraining with dropout %s: %s\n", name, describeRates(m))
		r := fit(o, m, train, val, tok.PadID(), w, progress)
		r.rate = name
		results = append(results, r)
		if i == 0 {
			first = m
		}
	}
	fmt.Fprintf(w, "\nvalidation accuracy by epoch (%d examples):\n%-10s", len(val.labels), "dropout")
	for e := 1; e <= o.epochs; e++ {
		fmt.Fprintf(w, " %7s", "epoch "+strconv.Itoa(e))
	}
	fmt.Fprintf(w, " %10s %8s %8s\n", "train loss", "val loss", "time")
	for _, r := range results {
		fmt.Fprintf(w, "%-10s", r.rate)
		for _, a := range r.accs {
			fmt.Fprintf(w, " %6.1f%%", 100*a)
		}
		fmt.Fprintf(w, " %10.4f %8.4f %8s\n", r.loss, r.valLoss, r.duration.Round(100*time.Millisecond))
	}
	if o.out != "" {
		if err := save(o.out, first, tok); err != nil {
			return err
		}
		fmt.Fprintf(w, "saved the dropout-%s model to %s (config.json, model.safetensors, vocab.txt)\n", results[0].rate, o.out)
	}
	fmt.Fprintf(w, "total time %s\n", time.Since(start).Round(100*time.Millisecond))
	return nil
}

// loadData reads -data or builds the built-in task.
func loadData(o options, w io.Writer) (dataset, error) {
	if o.data != "" {
		f, err := os.Open(o.data)
		if err != nil {
			return dataset{}, err
		}
		defer f.Close()
		labels, exs, err := parseLabelled(f)
		if err != nil {
			return dataset{}, fmt.Errorf("%s: %w", o.data, err)
		}
		train, val := splitExamples(exs, o.val, o.seed)
		return dataset{labels: labels, train: train, val: val}, nil
	}
	goroot := o.goroot
	if goroot == "" {
		goroot = goRoot()
	}
	d, skipped, err := codeDataset(goroot, o.perLang, o.lines, o.seed)
	if len(skipped) > 0 {
		fmt.Fprintf(w, "no source files found for %v: skipped\n", skipped)
	}
	return d, err
}

// goRoot asks the go command, falling back to the toolchain this binary
// was built with.
func goRoot() string {
	if out, err := exec.Command("go", "env", "GOROOT").Output(); err == nil {
		if s := strings.TrimSpace(string(out)); s != "" {
			return s
		}
	}
	return runtime.GOROOT()
}

// buildModel loads -model (with its vocab.txt) or builds a new small BERT
// with a WordPiece vocabulary trained on the training text.
func buildModel(o options, d dataset, w io.Writer) (*tokenizer.WordPiece, *transformer.BERTClassifier, error) {
	nn.ManualSeed(o.seed)
	if o.model != "" {
		tok, err := tokenizer.LoadWordPiece(filepath.Join(o.model, "vocab.txt"), wordPieceOptions(o.model))
		if err != nil {
			return nil, nil, err
		}
		m, err := loadClassifier(o.model, d.labels)
		if err != nil {
			return nil, nil, err
		}
		if v := m.BERT.Embeddings.Word.Weight.Shape[0]; tok.VocabSize() > v {
			return nil, nil, fmt.Errorf("%s: vocab.txt has %d tokens, the model %d", o.model, tok.VocabSize(), v)
		}
		if n := m.BERT.Embeddings.Position.Weight.Shape[0]; o.maxLen > n {
			return nil, nil, fmt.Errorf("-maxlen %d exceeds the model's %d positions", o.maxLen, n)
		}
		fmt.Fprintf(w, "loaded %s: %d layers, hidden %d, vocabulary %d\n", o.model, len(m.BERT.Layers),
			m.BERT.Config.HiddenSize, tok.VocabSize())
		return tok, m, nil
	}
	texts := make([]string, len(d.train))
	for i, x := range d.train {
		texts[i] = x.text
	}
	t0 := time.Now()
	vocab, err := tokenizer.TrainWordPiece(texts, tokenizer.TrainOptions{VocabSize: o.vocab})
	if err != nil {
		return nil, nil, err
	}
	tok, err := tokenizer.NewWordPiece(vocab, tokenizer.WordPieceOptions{})
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(w, "trained a WordPiece vocabulary of %d tokens in %s\n", len(vocab), time.Since(t0).Round(time.Millisecond))
	c := transformer.DefaultBERTConfig()
	c.VocabSize, c.HiddenSize, c.NumAttentionHeads = len(vocab), o.hidden, o.heads
	c.NumHiddenLayers, c.IntermediateSize, c.MaxPositionEmbeddings = o.layers, o.ff, max(o.maxLen, 8)
	c.PadTokenID = tok.PadID()
	c.NumLabels, c.ID2Label = len(d.labels), d.labels
	m, err := transformer.NewBERTClassifier(c)
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(w, "new BERT: %d layers, hidden %d, %d heads, FFN %d, %d parameters\n", o.layers, o.hidden, o.heads, o.ff, numParams(m))
	return tok, m, nil
}

// wordPieceOptions reads do_lower_case from tokenizer_config.json (true
// when absent, like bert-base-uncased).
func wordPieceOptions(dir string) tokenizer.WordPieceOptions {
	var tc struct {
		DoLowerCase *bool `json:"do_lower_case"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, "tokenizer_config.json")); err == nil {
		json.Unmarshal(b, &tc)
	}
	return tokenizer.WordPieceOptions{Cased: tc.DoLowerCase != nil && !*tc.DoLowerCase}
}

// loadClassifier loads dir as a classifier for labels: a
// BertForSequenceClassification whose id2label are these labels keeps its
// head; otherwise the BERT gets a new head.
func loadClassifier(dir string, labels []string) (*transformer.BERTClassifier, error) {
	var cfg struct {
		Architectures []string `json:"architectures"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, "config.json")); err == nil {
		json.Unmarshal(b, &cfg)
	}
	var b *transformer.BERT
	if len(cfg.Architectures) == 1 && cfg.Architectures[0] == "BertForSequenceClassification" {
		m, err := transformer.LoadBERTClassifier(dir)
		if err != nil {
			return nil, err
		}
		if equalStrings(m.BERT.Config.ID2Label, labels) {
			return m, nil
		}
		b = m.BERT
	} else {
		var err error
		if b, err = transformer.LoadBERT(dir); err != nil {
			return nil, err
		}
	}
	b.Config.NumLabels, b.Config.ID2Label = len(labels), labels
	delete(b.Config.Extra, "label2id")
	return transformer.NewBERTClassifierFrom(b)
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// parseRates reads -rates; -1 stands for "the checkpoint's own rates".
func parseRates(s string, newModel bool) ([]float64, error) {
	if s == "" {
		if newModel {
			return []float64{0.1, 0}, nil
		}
		return []float64{-1}, nil
	}
	var rates []float64
	for _, f := range strings.Split(s, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || r < 0 || r >= 1 {
			return nil, fmt.Errorf("-rates: %q is not a dropout rate in [0, 1)", f)
		}
		rates = append(rates, r)
	}
	return rates, nil
}

// setDropout sets every dropout of m (embeddings, attention probabilities,
// attention and FFN outputs, classifier) to p, and the config to match.
func setDropout(m *transformer.BERTClassifier, p float32) {
	nn.Walk(m, func(_ string, sub nn.Module) {
		if d, ok := sub.(*nn.Dropout); ok {
			d.P = p
		}
	})
	m.BERT.Config.ClassifierDropout = nil
}

// describeRates names the model's dropout rates.
func describeRates(m *transformer.BERTClassifier) string {
	l0 := m.BERT.Embeddings.Dropout.P
	a := float32(0)
	if len(m.BERT.Layers) > 0 {
		a = m.BERT.Layers[0].AttnDropout.P
	}
	return fmt.Sprintf("hidden_dropout_prob %g, attention_probs_dropout_prob %g, classifier dropout %g", l0, a, m.Dropout.P)
}

func numParams(m nn.Module) int {
	n := 0
	for _, p := range nn.Parameters(m) {
		n += len(p.Data)
	}
	return n
}

// snapshot copies every parameter of m.
func snapshot(m nn.Module) [][]float32 {
	var s [][]float32
	for _, p := range nn.Parameters(m) {
		s = append(s, append([]float32(nil), p.Data...))
	}
	return s
}

// clone returns a new classifier of m's config holding the weights in
// snap (m's initial weights).
func clone(m *transformer.BERTClassifier, snap [][]float32) *transformer.BERTClassifier {
	c := nn.Must(transformer.NewBERTClassifierFrom(nn.Must(transformer.NewBERT(m.BERT.Config))))
	for i, p := range nn.Parameters(c) {
		copy(p.Data, snap[i])
	}
	return c
}

// fit trains m for o.epochs and evaluates it on val after each epoch. The
// dropout masks depend only on the seed, so runs at different rates see
// the same batches and masks drawn from the same streams.
func fit(o options, m *transformer.BERTClassifier, train, val encoded, pad int, w, progress io.Writer) result {
	nn.SeedDropout(m, 1)
	opt := nn.Must(optim.NewAdamWGroups(optim.DecayGroups(m, float32(o.wd)), float32(o.lr)))
	n := len(train.labels)
	stepsPerEpoch := (n + o.batch - 1) / o.batch
	total := stepsPerEpoch * o.epochs
	sched := optim.WarmupCosine{BaseLR: float32(o.lr), MinLR: float32(o.lr) / 20, Warmup: max(1, total/10), Total: total}
	ce := nn.NewCrossEntropyLoss()
	g := nn.NewGraph()
	g.SetSeed(o.seed)
	bt := batcher{pad: pad}
	rng := rand.New(rand.NewPCG(o.seed, 3))
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	var r result
	start := time.Now()
	step, seen := 0, 0
	var shown time.Duration // when the progress line was last written
	for epoch := 1; epoch <= o.epochs; epoch++ {
		nn.Train(m)
		rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
		sum, count := 0.0, 0
		for s := 0; s < n; s += o.batch {
			idx := order[s:min(s+o.batch, n)]
			bs, seq := bt.batch(train, idx)
			g.Reset()
			loss := ce.Forward(g, m.Forward(g, bt.ids, bt.types, bt.mask, bs, seq), bt.labels)
			opt.ZeroGrad()
			loss.Backward()
			optim.ClipGradNorm(opt.Params, 1)
			opt.LR = sched.LR(step)
			opt.Step()
			step++
			sum += float64(loss.Item()) * float64(bs)
			count += bs
			seen += bs
			el := time.Since(start)
			if el-shown < 200*time.Millisecond && count < n {
				continue
			}
			shown = el
			eta := time.Duration(float64(el) / float64(step) * float64(total-step))
			fmt.Fprintf(progress, "\repoch %d/%d  %d/%d examples  %.0f examples/s  loss %.4f  eta %s   ", epoch, o.epochs,
				count, n, float64(seen)/el.Seconds(), sum/float64(count), eta.Round(time.Second))
		}
		fmt.Fprint(progress, "\r\033[K")
		r.loss = sum / float64(count)
		acc, vl := evaluate(m, val, o.batch, pad)
		r.accs, r.valLoss = append(r.accs, acc), vl
		fmt.Fprintf(w, "epoch %d/%d: train loss %.4f, validation loss %.4f, accuracy %.1f%% (%s)\n", epoch, o.epochs, r.loss, vl, 100*acc,
			time.Since(start).Round(100*time.Millisecond))
	}
	r.duration = time.Since(start)
	return r
}

// evaluate returns the fraction of e that m (in eval mode) labels
// correctly and the mean cross-entropy.
func evaluate(m *transformer.BERTClassifier, e encoded, batch, pad int) (acc, loss float64) {
	nn.Eval(m)
	defer nn.Train(m)
	g := nn.NewGraph()
	g.NoGrad = true
	bt := batcher{pad: pad}
	right := 0
	ce := nn.NewCrossEntropyLoss()
	idx := make([]int, 0, batch)
	for s := 0; s < len(e.labels); s += batch {
		idx = idx[:0]
		for i := s; i < min(s+batch, len(e.labels)); i++ {
			idx = append(idx, i)
		}
		bs, seq := bt.batch(e, idx)
		g.Reset()
		logits := m.Forward(g, bt.ids, bt.types, bt.mask, bs, seq)
		loss += float64(ce.Forward(g, logits, bt.labels).Item()) * float64(bs)
		for i, p := range argmaxRows(logits.Data, logits.Shape[1]) {
			if p == bt.labels[i] {
				right++
			}
		}
	}
	n := float64(len(e.labels))
	return float64(right) / n, loss / n
}

// save writes the classifier with its vocabulary and tokenizer config.
func save(dir string, m *transformer.BERTClassifier, tok *tokenizer.WordPiece) error {
	if err := m.SaveBERTClassifier(dir); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "vocab.txt"))
	if err != nil {
		return err
	}
	if err := tokenizer.WriteVocab(f, tok.Vocab()); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	tc, _ := json.MarshalIndent(map[string]any{"tokenizer_class": "BertTokenizer", "do_lower_case": !tok.Options().Cased,
		"model_max_length": m.BERT.Embeddings.Position.Weight.Shape[0]}, "", "  ")
	return os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), append(tc, '\n'), 0o644)
}
