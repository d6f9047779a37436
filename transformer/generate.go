package transformer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/simdformer/simdformer/nn"
)

// GenerateOptions configures LM.GenerateWith and Generator.
type GenerateOptions struct {
	// MaxNewTokens is the most tokens generated (fewer at a stop token or
	// when the context reaches max_positions).
	MaxNewTokens int
	// Temperature divides the logits; 0 is greedy decoding (argmax, the
	// lowest id on ties) and ignores TopK, TopP and Seed.
	Temperature float32
	// TopK keeps the K most likely tokens (0: all); TopP keeps the smallest
	// set of most likely tokens whose probability reaches TopP (0 or 1: all),
	// after TopK, like Hugging Face's TopK then TopP warpers.
	TopK int
	TopP float32
	// Seed seeds the sampling generator (PCG): same seed, same tokens.
	Seed uint64
	// StopTokens end generation when produced (the stop token is included
	// in the output, as Hugging Face's eos_token_id is).
	StopTokens []int
	// NoCache recomputes the whole prefix for every token with Forward
	// instead of using the KV cache (the reference the cache is tested
	// against; much slower).
	NoCache bool
}

// Generator decodes one sequence at a time with a KV cache, reusing its
// cache, graph and scratch between calls: after the first token of the
// first call it allocates nothing per token. Not safe for concurrent use;
// use one Generator per goroutine (the model may be shared in eval mode).
type Generator struct {
	m      *LM
	cache  *KVCache
	g      *nn.Graph
	rng    *rand.Rand
	pcg    *rand.PCG
	probs  []float64
	idx    []int
	window []int
	one    [1]int
}

// NewGenerator returns a Generator for m. Call nn.Eval(m) first for
// sampling without dropout (Step never applies attention dropout).
func (m *LM) NewGenerator() *Generator {
	pcg := rand.NewPCG(0, 0)
	g := nn.NewGraph()
	g.NoGrad = true
	V := m.Wte.Weight.Shape[0]
	return &Generator{m: m, cache: m.NewKVCache(1), g: g, pcg: pcg, rng: rand.New(pcg),
		probs: make([]float64, V), idx: make([]int, V)}
}

// GenerateWith extends prompt and returns the new tokens (see
// GenerateOptions); it is NewGenerator().Generate.
func (m *LM) GenerateWith(prompt []int, opt GenerateOptions) []int {
	return m.NewGenerator().Generate(nil, prompt, opt)
}

// Generate appends the tokens generated after prompt to dst and returns
// it. The prompt (non-empty, at most max_positions tokens) is processed in
// one Step, then one token per Step; generation stops after MaxNewTokens,
// at a stop token, or when the context is full.
func (gen *Generator) Generate(dst, prompt []int, opt GenerateOptions) []int {
	m := gen.m
	P := gen.cache.Cap()
	if len(prompt) == 0 || len(prompt) > P {
		panic(fmt.Sprintf("transformer: Generator.Generate: prompt of %d tokens; want 1 to %d", len(prompt), P))
	}
	if opt.MaxNewTokens < 0 || opt.TopK < 0 || !(opt.TopP >= 0 && opt.TopP <= 1) || !(opt.Temperature >= 0) {
		panic(badOptions(opt))
	}
	gen.pcg.Seed(opt.Seed, 0x9e3779b97f4a7c15)
	gen.cache.Reset()
	gen.window = append(gen.window[:0], prompt...)
	input := prompt
	for range opt.MaxNewTokens {
		if gen.cache.Len()+len(input) > P || len(gen.window) > P {
			break
		}
		gen.g.Reset()
		var logits []float32
		if opt.NoCache {
			out := m.ForwardWith(gen.g, Tokens{IDs: gen.window, Batch: 1, Seq: len(gen.window)}, LMOptions{})
			V := out.Shape[2]
			logits = out.Data[(len(gen.window)-1)*V:]
		} else {
			logits = m.Step(gen.g, gen.cache, input, nil).Data
		}
		tok := gen.pick(logits, opt)
		dst = append(dst, tok)
		gen.window = append(gen.window, tok)
		gen.one[0] = tok
		input = gen.one[:]
		if slices.Contains(opt.StopTokens, tok) {
			break
		}
	}
	gen.g.Reset()
	return dst
}

// badOptions formats the panic message; a separate function so that opt
// does not escape to the heap on every call.
//
//go:noinline
func badOptions(opt GenerateOptions) string {
	return fmt.Sprintf("transformer: Generator.Generate: invalid options %+v", opt)
}

// pick chooses the next token from logits.
func (gen *Generator) pick(logits []float32, opt GenerateOptions) int {
	best := 0
	for i, v := range logits {
		if v > logits[best] {
			best = i
		}
	}
	if opt.Temperature == 0 {
		return best
	}
	// Candidates sorted by decreasing logit (ties: lower id first), cut to
	// TopK; probabilities of softmax(logits/T) over them, cut to TopP.
	idx := gen.idx[:len(logits)]
	for i := range idx {
		idx[i] = i
	}
	k := len(idx)
	if opt.TopK > 0 && opt.TopK < k {
		k = opt.TopK
	}
	sortTop(idx, logits, k)
	idx = idx[:k]
	probs := gen.probs[:k]
	top := float64(logits[idx[0]])
	var sum float64
	for i, id := range idx {
		probs[i] = math.Exp((float64(logits[id]) - top) / float64(opt.Temperature))
		sum += probs[i]
	}
	if opt.TopP > 0 && opt.TopP < 1 {
		var c float64
		for i, p := range probs {
			c += p
			if c >= float64(opt.TopP)*sum { // keep up to and including the token crossing TopP
				probs, idx = probs[:i+1], idx[:i+1]
				sum = c
				break
			}
		}
	}
	u := gen.rng.Float64() * sum
	for i, p := range probs {
		u -= p
		if u < 0 {
			return idx[i]
		}
	}
	return idx[len(idx)-1]
}

// sortTop orders idx so that its first k entries are the k largest logits
// in decreasing order (ties: lower id first).
func sortTop(idx []int, logits []float32, k int) {
	less := func(a, b int) int {
		la, lb := logits[a], logits[b]
		switch {
		case la > lb:
			return -1
		case la < lb:
			return 1
		}
		return a - b
	}
	if k < len(idx) {
		// Keep a sorted top-k prefix; insert each better candidate into it.
		slices.SortFunc(idx[:k], less)
		for i := k; i < len(idx); i++ {
			v := idx[i]
			if less(v, idx[k-1]) >= 0 {
				continue
			}
			j := k - 1
			idx[i] = idx[j] // the evicted candidate takes v's place
			for j > 0 && less(v, idx[j-1]) < 0 {
				idx[j] = idx[j-1]
				j--
			}
			idx[j] = v
		}
		return
	}
	slices.SortFunc(idx, less)
}
