// Command gpt2 trains or fine-tunes a GPT-2 (Hugging Face's layout) and
// samples from it with the KV cache.
//
//	go run ./examples/gpt2                       # a small byte-level GPT-2 from scratch on Go's source (~1 min)
//	go run ./examples/gpt2 -model DIR -data FILE # fine-tune the GPT-2 saved in DIR on FILE
//
// Without -model a small GPT-2 (bytes as tokens, vocabulary 256) is trained
// from scratch on Go source files of $(go env GOROOT)/src. With -model, DIR
// holds config.json and model.safetensors, and GPT-2's tokenizer files
// (vocab.json and merges.txt, or encoder.json and vocab.bpe) — a Hugging
// Face GPT-2 directory — or none for a byte-level model this command saved.
// Either way the run prints a progress line, the held-out loss, a sample
// decoded with the KV cache (tokens/s with and without it), and saves the
// model with SaveGPT2 (loadable by GPT2LMHeadModel.from_pretrained), the
// tokenizer files and a training checkpoint to -out.
package main

import (
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/simdformer/simdformer/kernels"
	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/optim"
	"github.com/simdformer/simdformer/tokenizer"
	"github.com/simdformer/simdformer/transformer"
)

type options struct {
	model, data, out, prompt, goroot string
	steps, batch, ctx, embed, heads  int
	layers, every, sample, topK      int
	corpus                           int
	lr, wd, temperature, topP        float64
	seed                             uint64
	quiet                            bool
}

func main() {
	log.SetFlags(0)
	var o options
	flag.StringVar(&o.model, "model", "", "Hugging Face GPT-2 directory to fine-tune (default: a new byte-level GPT-2)")
	flag.StringVar(&o.data, "data", "", "text file to train on (default: Go source from GOROOT)")
	flag.StringVar(&o.out, "out", "gpt2-out", "directory the model and the checkpoint are saved to (empty: none)")
	flag.StringVar(&o.prompt, "prompt", "func (b *Buffer) ", "text the sample starts from")
	flag.StringVar(&o.goroot, "goroot", "", "Go root to read the corpus from (default: go env GOROOT)")
	flag.IntVar(&o.steps, "steps", 700, "training steps")
	flag.IntVar(&o.batch, "batch", 16, "sequences per step")
	flag.IntVar(&o.ctx, "ctx", 64, "tokens per sequence")
	flag.IntVar(&o.embed, "embed", 96, "n_embd of a new model")
	flag.IntVar(&o.heads, "heads", 4, "n_head of a new model")
	flag.IntVar(&o.layers, "layers", 3, "n_layer of a new model")
	flag.IntVar(&o.every, "every", 100, "held-out loss every this many steps")
	flag.IntVar(&o.sample, "n", 300, "tokens to sample")
	flag.IntVar(&o.topK, "topk", 40, "top-k sampling (0: off)")
	flag.IntVar(&o.corpus, "corpus", 600_000, "bytes of Go source to read")
	flag.Float64Var(&o.lr, "lr", 3e-3, "peak AdamW learning rate (warmup + cosine)")
	flag.Float64Var(&o.wd, "wd", 0.1, "AdamW weight decay of the weight matrices (none on biases, LayerNorm, embeddings)")
	flag.Float64Var(&o.temperature, "temperature", 0.8, "sampling temperature (0: greedy)")
	flag.Float64Var(&o.topP, "topp", 0.95, "top-p sampling (1: off)")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the weights, batches, dropout and sampling")
	flag.BoolVar(&o.quiet, "q", false, "no progress line")
	flag.Parse()
	if err := run(o, os.Stdout, os.Stderr); err != nil {
		log.Fatal("gpt2: ", err)
	}
}

func run(o options, w, progress io.Writer) error {
	text, src, err := readText(o)
	if err != nil {
		return err
	}
	nn.ManualSeed(o.seed)
	var m *transformer.LM
	var tok codec = bytesCodec{}
	var tokFiles []string
	if o.model != "" {
		if m, err = transformer.LoadGPT2(o.model); err != nil {
			return err
		}
		if bpe, err := tokenizer.LoadGPT2(o.model); err == nil {
			tok, tokFiles = bpe, tokenizerFiles(o.model)
			if v := m.Wte.Weight.Shape[0]; bpe.VocabSize() > v {
				return fmt.Errorf("%s: the tokenizer has %d tokens, the model %d", o.model, bpe.VocabSize(), v)
			}
		} else if v := m.Wte.Weight.Shape[0]; v != 256 {
			return fmt.Errorf("%s has a vocabulary of %d but no GPT-2 tokenizer files (%v)", o.model, v, err)
		}
		o.ctx = min(o.ctx, m.Wpe.Weight.Shape[0])
	} else {
		c := transformer.DefaultGPT2Config()
		c.VocabSize, c.NPositions, c.NEmbd, c.NHead, c.NLayer = 256, 4*o.ctx, o.embed, o.heads, o.layers
		if m, err = transformer.NewGPT2(c); err != nil {
			return err
		}
	}
	data := tok.Encode(string(text))
	nVal := len(data) / 10
	train, val := data[:len(data)-nVal], data[len(data)-nVal:]
	if len(val) < o.ctx+1 {
		return fmt.Errorf("%d tokens of text are too few for a context of %d", len(data), o.ctx)
	}
	nn.SeedDropout(m, o.seed)
	cfg, err := m.GPT2ConfigOf()
	if err != nil {
		return err
	}
	nparams := 0
	for _, p := range nn.Parameters(m) {
		nparams += p.Numel()
	}
	fmt.Fprintf(w, "kernels backend: %s\n", kernels.Backend())
	fmt.Fprintf(w, "data: %s, %d bytes, %d tokens (%d train / %d held out)\n", src, len(text), len(data), len(train), len(val))
	fmt.Fprintf(w, "model: GPT-2, %d layers, n_embd %d, %d heads, %d positions, vocabulary %d, %d parameters, dropout %g/%g/%g\n",
		cfg.NLayer, cfg.NEmbd, cfg.NHead, cfg.NPositions, cfg.VocabSize, nparams, cfg.EmbdPdrop, cfg.AttnPdrop, cfg.ResidPdrop)
	fmt.Fprintf(w, "held-out loss before training: %.3f (uniform: %.3f)\n", heldOut(m, val, o.ctx), math.Log(float64(cfg.VocabSize)))

	opt, err := optim.NewAdamWGroups(optim.DecayGroups(m, float32(o.wd)), float32(o.lr))
	if err != nil {
		return err
	}
	sch := optim.WarmupCosine{BaseLR: float32(o.lr), MinLR: float32(o.lr / 10), Warmup: max(1, o.steps/20), Total: o.steps}
	ce := nn.NewCrossEntropyLoss()
	g := nn.NewGraph()
	rng := rand.New(rand.NewPCG(o.seed, 3))
	ids, targets := make([]int, o.batch*o.ctx), make([]int, o.batch*o.ctx)
	start := time.Now()
	var running float64
	nn.Train(m)
	for step := 0; step < o.steps; step++ {
		for b := range o.batch {
			s := rng.IntN(len(train) - o.ctx)
			copy(ids[b*o.ctx:], train[s:s+o.ctx])
			copy(targets[b*o.ctx:], train[s+1:s+o.ctx+1])
		}
		g.Reset()
		loss := ce.Forward(g, m.Forward(g, ids, o.batch, o.ctx), targets)
		opt.ZeroGrad()
		loss.Backward()
		optim.ClipGradNorm(opt.Params, 1)
		opt.LR = sch.LR(step)
		opt.Step()
		l := float64(loss.Item())
		if step == 0 {
			running = l
		}
		running = 0.95*running + 0.05*l
		el := time.Since(start)
		if !o.quiet {
			eta := time.Duration(float64(el) / float64(step+1) * float64(o.steps-step-1))
			fmt.Fprintf(progress, "\rstep %d/%d  loss %.3f  lr %.2e  %.0f tok/s  eta %s   ", step+1, o.steps, running,
				opt.LR, float64((step+1)*o.batch*o.ctx)/el.Seconds(), eta.Round(time.Second))
		}
		if (step+1)%o.every == 0 || step+1 == o.steps {
			v := heldOut(m, val, o.ctx)
			if !o.quiet {
				fmt.Fprint(progress, "\r\033[K")
			}
			fmt.Fprintf(w, "step %4d/%d  train loss (dropout on, smoothed) %.3f  held-out loss %.3f  %s\n",
				step+1, o.steps, running, v, el.Round(time.Second))
		}
	}

	nn.Eval(m)
	prompt := tok.Encode(o.prompt)
	if len(prompt) == 0 {
		return fmt.Errorf("the prompt %q has no tokens", o.prompt)
	}
	gen := m.NewGenerator()
	gopt := transformer.GenerateOptions{MaxNewTokens: o.sample, Temperature: float32(o.temperature), TopK: o.topK,
		TopP: float32(o.topP), Seed: o.seed}
	if bpe, ok := tok.(*tokenizer.BPE); ok && bpe.EndOfTextID() >= 0 {
		gopt.StopTokens = []int{bpe.EndOfTextID()}
	}
	t0 := time.Now()
	out := gen.Generate(nil, prompt, gopt)
	cached := float64(len(out)) / time.Since(t0).Seconds()
	gopt.NoCache, gopt.MaxNewTokens = true, min(o.sample, 64)
	t0 = time.Now()
	n := len(gen.Generate(nil, prompt, gopt))
	fmt.Fprintf(w, "\nsample (temperature %g, top-k %d, top-p %g; KV cache %.0f tokens/s, recomputing the prefix %.0f tokens/s):\n%s",
		o.temperature, o.topK, o.topP, cached, float64(n)/time.Since(t0).Seconds(), o.prompt)
	fmt.Fprintf(w, "%s\n", tok.Decode(out))

	if o.out != "" {
		if err := m.SaveGPT2(o.out); err != nil {
			return err
		}
		for _, f := range tokFiles {
			b, err := os.ReadFile(filepath.Join(o.model, f))
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(o.out, f), b, 0o644); err != nil {
				return err
			}
		}
		ck := filepath.Join(o.out, "checkpoint.safetensors")
		st := transformer.TrainState{Step: o.steps, DataPosition: int64(o.steps * o.batch)}
		if err := transformer.SaveCheckpoint(ck, m, opt, g, st); err != nil {
			return err
		}
		fmt.Fprintf(w, "saved %s (config.json, model.safetensors) and %s\n", o.out, ck)
	}
	return nil
}

// codec turns text into token ids and back.
type codec interface {
	Encode(text string) []int
	Decode(ids []int) string
}

// bytesCodec is the byte-level vocabulary of a model trained from scratch.
type bytesCodec struct{}

func (bytesCodec) Encode(text string) []int {
	out := make([]int, len(text))
	for i := range len(text) {
		out[i] = int(text[i])
	}
	return out
}

func (bytesCodec) Decode(ids []int) string {
	b := make([]byte, len(ids))
	for i, id := range ids {
		b[i] = byte(id)
	}
	return string(b)
}

// tokenizerFiles lists the tokenizer files of a Hugging Face directory,
// copied next to the saved model.
func tokenizerFiles(dir string) []string {
	var out []string
	for _, f := range []string{"vocab.json", "merges.txt", "encoder.json", "vocab.bpe", "tokenizer.json",
		"tokenizer_config.json", "special_tokens_map.json", "generation_config.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			out = append(out, f)
		}
	}
	return out
}

// heldOut is the mean next-token loss over up to 32 windows of val, in
// eval mode.
func heldOut(m *transformer.LM, val []int, ctx int) float64 {
	train := m.Drop.Training()
	nn.Eval(m)
	if train {
		defer nn.Train(m)
	}
	g := nn.NewGraph()
	g.NoGrad = true
	ce := nn.NewCrossEntropyLoss()
	var sum float64
	n := 0
	stride := max(ctx, (len(val)-ctx-1)/32)
	for s := 0; s+ctx+1 <= len(val) && n < 32; s += stride {
		g.Reset()
		sum += float64(ce.Forward(g, m.Forward(g, val[s:s+ctx], 1, ctx), val[s+1:s+ctx+1]).Item())
		n++
	}
	return sum / float64(n)
}

func readText(o options) ([]byte, string, error) {
	if o.data != "" {
		b, err := os.ReadFile(o.data)
		return b, o.data, err
	}
	root := o.goroot
	if root == "" {
		if out, err := exec.Command("go", "env", "GOROOT").Output(); err == nil {
			root = strings.TrimSpace(string(out))
		}
	}
	var text []byte
	for _, pkg := range []string{"bytes", "strings", "bufio", "strconv", "sort", "io", "fmt", "errors", "unicode/utf8"} {
		dir := filepath.Join(root, "src", filepath.FromSlash(pkg))
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		var names []string
		for _, e := range entries {
			if n := e.Name(); strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		for _, n := range names {
			b, err := os.ReadFile(filepath.Join(dir, n))
			if err != nil {
				return nil, "", err
			}
			text = append(text, b...)
			if len(text) >= o.corpus {
				return text[:o.corpus], "Go source from " + filepath.Join(root, "src"), nil
			}
		}
	}
	if len(text) == 0 {
		return nil, "", fmt.Errorf("no Go source under %s: %w", filepath.Join(root, "src"), fs.ErrNotExist)
	}
	return text, "Go source from " + filepath.Join(root, "src"), nil
}
