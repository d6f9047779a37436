package transformer

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/optim"
)

// BenchmarkBERTTrainStep is one fine-tuning step of a BERT-base-shaped
// classifier (vocab 30522, hidden 768, 12 heads, FFN 3072, 12 layers,
// dropout 0.1, 2 labels) on batch 8 × seq 128 with one padded row: forward,
// cross-entropy, backward, AdamW. The same step in PyTorch (one thread):
//
//	/usr/bin/python3 scripts/golden_bert.py --bench
//
// Run it alone, at one thread for the comparison:
//
//	go test -run '^$' -bench 'BERTTrainStep/layers=12/threads=1' -benchtime 3x ./transformer
//
// layers=2 is the same step with two layers, for quick runs.
//
// On 2 shared vCPUs of an AMD EPYC Zen 5 (avx512 backend; PyTorch 1.13 from
// Debian with OpenBLAS, OPENBLAS_NUM_THREADS=1), one after the other, in
// CPU time per step (the machine was shared, so wall times were up to 2×
// longer): 12 layers, Go 4.4–4.5 s against PyTorch 8.9 s (2.0×); 2 layers,
// Go 0.74–0.80 s against PyTorch 2.5 s (3.2×). PyTorch's profile of the
// 2-layer step: 1.0 s of GEMM, 1.0 s in AdamW's and zero_grad's
// element-wise passes (sqrt, div, fill over 24M embedding weights). The
// loop's few allocations are one-off (about 32 in all, whatever b.N): a
// warm step allocates nothing (TestBERTTrainingStepAllocations).
func BenchmarkBERTTrainStep(b *testing.B) {
	for _, layers := range []int{12, 2} {
		withThreads(b, fmt.Sprintf("layers=%d", layers), func(b *testing.B) {
			c := DefaultBERTConfig()
			c.NumHiddenLayers = layers
			nn.ManualSeed(1)
			m, err := NewBERTClassifier(c)
			if err != nil {
				b.Fatal(err)
			}
			nn.Train(m)
			opt := nn.Must(optim.NewAdamWGroups(optim.DecayGroups(m, 0.01), 1e-4))
			const batch, seq = 8, 128
			rng := rand.New(rand.NewPCG(1, 2))
			ids, mask := make([]int, batch*seq), make([]bool, batch*seq)
			for i := range ids {
				ids[i] = 1 + rng.IntN(c.VocabSize-1)
				mask[i] = i < seq+100 || i >= 2*seq // row 1 has 100 real tokens
			}
			labels := []int{0, 1, 1, 0, 1, 0, 0, 1}
			ce := nn.NewCrossEntropyLoss()
			g := nn.NewGraph()
			step := func() {
				g.Reset()
				loss := ce.Forward(g, m.Forward(g, ids, nil, mask, batch, seq), labels)
				opt.ZeroGrad()
				loss.Backward()
				opt.Step()
			}
			step()
			loop(b, step)
		})
	}
}
