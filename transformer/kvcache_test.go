package transformer

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/simdformer/simdformer/nn"
)

func gpt2ForDecoding(t testing.TB, name string) *LM {
	t.Helper()
	m, err := LoadGPT2(filepath.Join(gpt2Dir, name))
	if err != nil {
		t.Fatal(err)
	}
	nn.Eval(m)
	return m
}

// TestKVCacheBitIdentical: every Step's logits are bit for bit the last row
// of Forward on the whole prefix — the prompt prefilled in one call or in
// chunks, then one token at a time to the end of the context.
func TestKVCacheBitIdentical(t *testing.T) {
	for _, name := range []string{"tiny", "untied", "noscale_f16", "relu_bf16"} {
		m := gpt2ForDecoding(t, name)
		P := m.Wpe.Weight.Shape[0]
		V := m.Wte.Weight.Shape[0]
		seq := make([]int, P)
		for i := range seq {
			seq[i] = (i*31 + 7) % V
		}
		for _, chunks := range [][]int{{5}, {1, 2, 3}, {P}} {
			c := m.NewKVCache(1)
			g := nn.NewGraph()
			g.NoGrad = true
			n := 0
			for ci := 0; n < P; ci++ {
				step := 1
				if ci < len(chunks) {
					step = chunks[ci]
				}
				g.Reset()
				got := m.Step(g, c, seq[n:n+step], nil).Data
				n += step
				want := m.Forward(nil, seq[:n], 1, n).Data[(n-1)*V:]
				if !sameBits(got, want) {
					t.Fatalf("%s, chunks %v: logits at position %d differ from Forward's", name, chunks, n-1)
				}
			}
			if c.Len() != P {
				t.Fatalf("cache holds %d positions, want %d", c.Len(), P)
			}
		}
	}
}

// TestGenerateGreedyCacheMatchesRecompute: greedy decoding with the cache
// gives the tokens of recomputing the whole prefix every step.
func TestGenerateGreedyCacheMatchesRecompute(t *testing.T) {
	m := gpt2ForDecoding(t, "tiny")
	prompt := []int{3, 14, 15, 92, 65}
	opt := GenerateOptions{MaxNewTokens: 40}
	cached := m.GenerateWith(prompt, opt)
	opt.NoCache = true
	full := m.GenerateWith(prompt, opt)
	if !slices.Equal(cached, full) {
		t.Fatalf("cached %v, recomputed %v", cached, full)
	}
	if want := m.Wpe.Weight.Shape[0] - len(prompt) + 1; len(cached) != want {
		t.Fatalf("generated %d tokens, want %d (the last one from the last position)", len(cached), want)
	}
	// The older sliding-window Generate agrees while the context fits.
	if old := m.Generate(prompt, 10, 0, nil); !slices.Equal(old, cached[:10]) {
		t.Fatalf("Generate %v, GenerateWith %v", old, cached[:10])
	}
}

func TestGenerateSampling(t *testing.T) {
	m := gpt2ForDecoding(t, "tiny")
	prompt := []int{1, 2, 3}
	greedy := m.GenerateWith(prompt, GenerateOptions{MaxNewTokens: 12})
	s := GenerateOptions{MaxNewTokens: 12, Temperature: 1.5, Seed: 7}
	a, b := m.GenerateWith(prompt, s), m.GenerateWith(prompt, s)
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different samples: %v, %v", a, b)
	}
	s.Seed = 8
	if c := m.GenerateWith(prompt, s); slices.Equal(a, c) {
		t.Fatalf("seeds 7 and 8 gave the same 12 tokens %v", a)
	}
	if k1 := m.GenerateWith(prompt, GenerateOptions{MaxNewTokens: 12, Temperature: 2, TopK: 1, Seed: 3}); !slices.Equal(k1, greedy) {
		t.Fatalf("top-k 1 %v, greedy %v", k1, greedy)
	}
	if p := m.GenerateWith(prompt, GenerateOptions{MaxNewTokens: 12, Temperature: 1, TopP: 1e-6, Seed: 3}); !slices.Equal(p, greedy) {
		t.Fatalf("top-p 1e-6 %v, greedy %v", p, greedy)
	}
	// Top-k 5: every token is among the 5 most likely of its step.
	gen := m.NewGenerator()
	out := gen.Generate(nil, prompt, GenerateOptions{MaxNewTokens: 8, Temperature: 3, TopK: 5, Seed: 11})
	ctx := append([]int(nil), prompt...)
	V := m.Wte.Weight.Shape[0]
	for _, tok := range out {
		logits := m.Forward(nil, ctx, 1, len(ctx)).Data[(len(ctx)-1)*V:]
		better := 0
		for _, v := range logits {
			if v > logits[tok] {
				better++
			}
		}
		if better >= 5 {
			t.Fatalf("token %d has %d more likely tokens under top-k 5", tok, better)
		}
		ctx = append(ctx, tok)
	}
	// Stop tokens end generation and are included.
	stop := greedy[4]
	got := m.GenerateWith(prompt, GenerateOptions{MaxNewTokens: 12, StopTokens: []int{stop}})
	if i := slices.Index(greedy, stop); !slices.Equal(got, greedy[:i+1]) {
		t.Fatalf("stop at %d: got %v from %v", stop, got, greedy)
	}
}

// TestKVCacheBatchPadded: a left-padded batch decoded together gives each
// row the logits of decoding it alone (up to summation order) and of
// ForwardWith with the attention mask and position ids.
func TestKVCacheBatchPadded(t *testing.T) {
	m := gpt2ForDecoding(t, "untied")
	V := m.Wte.Weight.Shape[0]
	prompts := [][]int{{5, 6, 7, 8, 9}, {10, 11}}
	const T = 5
	ids := make([]int, 2*T)
	mask := make([]bool, 2*T)
	for b, p := range prompts {
		for i, id := range p {
			ids[b*T+T-len(p)+i] = id
			mask[b*T+T-len(p)+i] = true
		}
	}
	c := m.NewKVCache(2)
	g := nn.NewGraph()
	g.NoGrad = true
	pad := invert(mask)
	got := m.Step(g, c, ids, pad).Data
	full := m.ForwardWith(nil, Tokens{IDs: ids, Batch: 2, Seq: T, Padding: pad}, LMOptions{PositionIDs: PositionIDsFromPadding(nil, pad, 2, T)}).Data
	for b, p := range prompts {
		alone := m.Forward(nil, p, 1, len(p)).Data[(len(p)-1)*V:]
		closeTo(t, "batched row vs alone", got[b*V:(b+1)*V], alone, 1e-5, 1e-5)
		closeTo(t, "batched row vs ForwardWith", got[b*V:(b+1)*V], full[(b*T+T-1)*V:(b*T+T)*V], 1e-5, 1e-5)
	}
	// One more token each.
	next := []int{1, 2}
	g.Reset()
	got = m.Step(g, c, next, nil).Data
	for b, p := range prompts {
		seq := append(append([]int(nil), p...), next[b])
		alone := m.Forward(nil, seq, 1, len(seq)).Data[(len(seq)-1)*V:]
		closeTo(t, "second step", got[b*V:(b+1)*V], alone, 1e-5, 1e-5)
	}
}

// TestStepAllocations: decoding allocates nothing per token once warm.
func TestStepAllocations(t *testing.T) {
	m := gpt2ForDecoding(t, "tiny")
	c := m.NewKVCache(1)
	g := nn.NewGraph()
	g.NoGrad = true
	m.Step(g, c, []int{1, 2, 3}, nil)
	tok := []int{4}
	step := func() {
		if c.Len() == c.Cap() {
			c.Reset()
			g.Reset()
			m.Step(g, c, []int{1, 2, 3}, nil)
		}
		g.Reset()
		m.Step(g, c, tok, nil)
	}
	step()
	if n := testing.AllocsPerRun(20, step); n != 0 {
		t.Fatalf("%v allocations per decoded token, want 0", n)
	}
	gen := m.NewGenerator()
	opt := GenerateOptions{MaxNewTokens: 20, Temperature: 1, TopK: 10, TopP: 0.9, Seed: 1}
	prompt := []int{1, 2}
	dst := gen.Generate(nil, prompt, opt)
	allocs := testing.AllocsPerRun(5, func() { dst = gen.Generate(dst[:0], prompt, opt) })
	if allocs != 0 {
		t.Fatalf("%v allocations per Generate of 20 tokens, want 0", allocs)
	}
}

// TestConcurrentGenerators: one model in eval mode serves several
// generators at once (run with -race).
func TestConcurrentGenerators(t *testing.T) {
	m := gpt2ForDecoding(t, "tiny")
	prompt := []int{9, 8, 7}
	opt := GenerateOptions{MaxNewTokens: 15, Temperature: 0.9, TopK: 20, Seed: 5}
	want := m.GenerateWith(prompt, opt)
	done := make(chan []int)
	for range 3 {
		go func() { done <- m.GenerateWith(prompt, opt) }()
	}
	for range 3 {
		if got := <-done; !slices.Equal(got, want) {
			t.Fatalf("concurrent generation gave %v, want %v", got, want)
		}
	}
}

// TestKVCacheTruncate: rewinding to the prompt and decoding again gives
// the same logits as the first time.
func TestKVCacheTruncate(t *testing.T) {
	m := gpt2ForDecoding(t, "tiny")
	c := m.NewKVCache(1)
	g := nn.NewGraph()
	g.NoGrad = true
	m.Step(g, c, []int{5, 6, 7}, nil)
	first := m.Step(g, c, []int{8}, nil).Clone().Data
	m.Step(g, c, []int{9}, nil)
	c.Truncate(3)
	if c.Len() != 3 {
		t.Fatalf("Len after Truncate(3) = %d", c.Len())
	}
	if again := m.Step(g, c, []int{8}, nil).Data; !sameBits(again, first) {
		t.Fatal("decoding after Truncate differs")
	}
}
