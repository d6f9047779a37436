package transformer

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/optim"
)

func TestLMKeysCausalAndGeneration(t *testing.T) {
	nn.ManualSeed(5)
	c := Config{VocabSize: 6, MaxPositions: 12, EmbedDim: 16, NumHeads: 2, FFDim: 32, NumLayers: 2, Activation: "gelu"}
	c.SetDropout(0.1)
	m, err := NewLM(c)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, nt := range nn.NamedParameters(m) {
		keys = append(keys, nt.Name)
	}
	joined := strings.Join(keys, " ")
	if keys[0] != "wte.weight" || keys[1] != "wpe.weight" || !strings.Contains(joined, "h.1.attn.in_proj_weight") ||
		keys[len(keys)-1] != "ln_f.bias" || strings.Contains(joined, "head") {
		t.Fatalf("keys %v", keys)
	}
	if !m.Blocks.Blocks[0].NormFirst || !m.Blocks.Blocks[0].Causal {
		t.Fatal("LM blocks must be pre-norm and causal")
	}

	// Causality: logits at positions < 5 ignore the tokens from position 5 on.
	nn.Eval(m)
	a := []int{1, 2, 3, 4, 5, 0, 1, 2}
	b := []int{1, 2, 3, 4, 5, 3, 3, 3}
	la, lb := m.Forward(nil, a, 1, 8).Data, m.Forward(nil, b, 1, 8).Data
	if !equal(la[:5*6], lb[:5*6]) {
		t.Fatal("a later token changed an earlier position's logits")
	}

	// Learn the cycle 0 1 2 3 4 5 0 1 …, then continue it greedily.
	nn.Train(m)
	opt, err := optim.NewAdam(nn.Parameters(m), 1e-2)
	if err != nil {
		t.Fatal(err)
	}
	ce := nn.NewCrossEntropyLoss()
	g := nn.NewGraph()
	const batch, seq = 6, 12
	ids := make([]int, batch*seq)
	targets := make([]int, batch*seq)
	for s := range batch {
		for i := range seq {
			ids[s*seq+i] = (s + i) % 6
			targets[s*seq+i] = (s + i + 1) % 6
		}
	}
	var loss float32
	for range 150 {
		g.Reset()
		l := m.Loss(g, ce, ids, targets, batch, seq)
		loss = l.Item()
		opt.ZeroGrad()
		l.Backward()
		opt.Step()
	}
	if loss > 0.3 {
		t.Fatalf("loss %g after training on a cycle", loss)
	}
	nn.Eval(m)
	got := m.Generate([]int{2, 3}, 14, 0, nil) // longer than the context: the window slides
	for i, v := range got {
		if want := (4 + i) % 6; v != want {
			t.Fatalf("greedy continuation %v, want the cycle from 4", got)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	if s := m.Generate([]int{0}, 5, 1.0, rng); len(s) != 5 {
		t.Fatalf("sampled %d tokens, want 5", len(s))
	}
}

// TestSeq2SeqReverse trains the encoder–decoder to reverse short sequences
// (teacher forcing, padded sources) and checks greedy decoding.
func TestSeq2SeqReverse(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	const (
		pad, bos, eos = 0, 1, 2
		vocab         = 8 // symbols 3..7
		srcLen        = 5
		tgtLen        = srcLen + 1
	)
	nn.ManualSeed(9)
	c := Config{VocabSize: vocab, MaxPositions: tgtLen + 1, EmbedDim: 32, NumHeads: 4, FFDim: 64, NumLayers: 1}
	c.SetDropout(0.05)
	m, err := NewSeq2Seq(c)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, nt := range nn.NamedParameters(m) {
		keys[nt.Name] = true
	}
	for _, k := range []string{"encoder.0.self_attn.in_proj_weight", "decoder.0.self_attn.in_proj_weight",
		"decoder.0.multihead_attn.in_proj_weight", "decoder.0.norm3.weight", "generator.weight"} {
		if !keys[k] {
			t.Errorf("no parameter %s", k)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	const batch = 32
	// makeBatch: sources of 3..5 symbols, padded; targets are the reversal.
	makeBatch := func(src []int, srcPad []bool, tgtIn, tgtOut []int) {
		for b := range batch {
			n := 3 + rng.IntN(3)
			for i := range srcLen {
				src[b*srcLen+i], srcPad[b*srcLen+i] = pad, i >= n
				if i < n {
					src[b*srcLen+i] = 3 + rng.IntN(vocab-3)
				}
			}
			tgtIn[b*tgtLen] = bos
			for i := range tgtLen {
				out := -100 // ignored
				switch {
				case i < n:
					out = src[b*srcLen+n-1-i]
				case i == n:
					out = eos
				}
				tgtOut[b*tgtLen+i] = out
				if i+1 < tgtLen {
					tgtIn[b*tgtLen+i+1] = max(out, pad)
				}
			}
		}
	}
	src := make([]int, batch*srcLen)
	srcPad := make([]bool, batch*srcLen)
	tgtIn := make([]int, batch*tgtLen)
	tgtOut := make([]int, batch*tgtLen)
	opt, err := optim.NewAdam(nn.Parameters(m), 3e-3)
	if err != nil {
		t.Fatal(err)
	}
	ce := nn.NewCrossEntropyLoss()
	g := nn.NewGraph()
	var loss float32
	for range 300 {
		makeBatch(src, srcPad, tgtIn, tgtOut)
		g.Reset()
		l := m.Loss(g, ce, Tokens{IDs: src, Batch: batch, Seq: srcLen, Padding: srcPad}, Tokens{IDs: tgtIn, Batch: batch, Seq: tgtLen}, tgtOut)
		loss = l.Item()
		opt.ZeroGrad()
		l.Backward()
		opt.Step()
	}
	nn.Eval(m)
	makeBatch(src, srcPad, tgtIn, tgtOut)
	out := m.Greedy(Tokens{IDs: src, Batch: batch, Seq: srcLen, Padding: srcPad}, GreedyOptions{BOS: bos, EOS: eos, MaxLen: tgtLen})
	correct := 0
	for b := range batch {
		ok := true
		for i := range tgtLen {
			if w := tgtOut[b*tgtLen+i]; w >= 0 && out[b*tgtLen+i] != w {
				ok = false
			}
		}
		if ok {
			correct++
		}
	}
	t.Logf("teacher-forced loss %.4f, %d/%d reversed exactly by greedy decoding", loss, correct, batch)
	if correct < batch*3/4 {
		t.Fatalf("only %d of %d sequences reversed (loss %g)", correct, batch, loss)
	}
}

// TestTrainingStepDoesNotAllocate: once warm, a classifier training step
// (forward with dropout, loss, backward, Adam) allocates nothing.
func TestTrainingStepDoesNotAllocate(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	nn.ManualSeed(4)
	c := Config{VocabSize: 30, MaxPositions: 9, EmbedDim: 16, NumHeads: 2, FFDim: 32, NumClasses: 3, NumLayers: 2, DropPath: 0.1}
	c.SetDropout(0.1)
	m, err := NewClassifier(c)
	if err != nil {
		t.Fatal(err)
	}
	opt, err := optim.NewAdam(nn.Parameters(m), 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int, 4*9)
	for i := range ids {
		ids[i] = i % 30
	}
	labels := []int{0, 1, 2, 0}
	ce := nn.NewCrossEntropyLoss()
	g := nn.NewGraph()
	step := func() {
		g.Reset()
		loss := ce.Forward(g, m.Forward(g, ids, 4, 9), labels)
		opt.ZeroGrad()
		loss.Backward()
		opt.Step()
	}
	step()
	if n := testing.AllocsPerRun(10, step); n != 0 {
		t.Fatalf("%v allocations per training step, want 0", n)
	}
}

// TestPaddingIgnored: a sequence gives the same outputs alone and padded at
// the end of a longer batch (the key-padding mask hides the padding), for
// the classifier (first-token head) and the LM (every real position).
func TestPaddingIgnored(t *testing.T) {
	nn.ManualSeed(9)
	c := Config{VocabSize: 20, MaxPositions: 16, EmbedDim: 16, NumHeads: 2, FFDim: 32, NumLayers: 2, NumClasses: 3}
	cls := nn.Must(NewClassifier(c))
	lm := nn.Must(NewLM(c))
	nn.Eval(cls)
	nn.Eval(lm)
	short := []int{4, 7, 1}
	// Batch of 2, Seq 6: the short sentence padded with junk ids, and a
	// full-length one.
	ids := []int{4, 7, 1, 9, 9, 9, 3, 5, 8, 2, 6, 11}
	pad := []bool{false, false, false, true, true, true, false, false, false, false, false, false}
	alone := Tokens{IDs: short, Batch: 1, Seq: 3}
	batch := Tokens{IDs: ids, Batch: 2, Seq: 6, Padding: pad}
	close := func(what string, got, want []float32) {
		t.Helper()
		for i := range want {
			if d := got[i] - want[i]; d > 1e-5 || d < -1e-5 {
				t.Fatalf("%s: padded %v, alone %v", what, got[:len(want)], want)
			}
		}
	}
	close("Classifier", cls.ForwardWith(nil, batch).Data[:3], cls.ForwardWith(nil, alone).Data)
	got := lm.ForwardWith(nil, batch, LMOptions{}).Data
	want := lm.ForwardWith(nil, alone, LMOptions{}).Data
	close("LM", got[:3*20], want)
	// Without the mask the padding leaks into the classifier's logits.
	batch.Padding = nil
	if d := cls.ForwardWith(nil, batch).Data[0] - cls.ForwardWith(nil, alone).Data[0]; d < 1e-4 && d > -1e-4 {
		t.Error("the padding changed nothing even unmasked: the test proves nothing")
	}
}
