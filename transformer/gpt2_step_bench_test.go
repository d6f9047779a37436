package transformer

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/optim"
)

// gpt2StepFLOPs is the arithmetic of one GPT-2 training step on batch×seq
// tokens, counted as multiply-adds×2 of the matrix products:
//
//	6·(L·12·d² + V·d)·B·T   every weight matrix (attention c_attn, c_proj,
//	                        MLP c_fc, c_proj and the tied head), forward 2,
//	                        backward 4 FLOPs per weight per token
//	+ 12·L·B·T²·d           attention scores QKᵀ and the context P·V over
//	                        the full T×T square, forward and backward
//
// Biases, LayerNorm, GELU, softmax, dropout, the loss and AdamW are left out
// (they are O(params + B·T·d) and memory-bound). GPT-2 small at B=4, T=64:
// 6·(84.9M + 38.6M)·256 + 1.8G ≈ 191.5 GFLOP.
func gpt2StepFLOPs(c GPT2Config, batch, seq int) float64 {
	L, d, V := float64(c.NLayer), float64(c.NEmbd), float64(c.VocabSize)
	tok := float64(batch * seq)
	return 6*(L*12*d*d+V*d)*tok + 12*L*float64(batch)*float64(seq)*float64(seq)*d
}

// BenchmarkGPT2SmallTrainStep: one AdamW training step of a randomly
// initialised GPT-2 small (124M parameters, Hugging Face layout through
// NewGPT2, every dropout 0.1) on B=4 sequences of T=64 tokens: forward,
// cross-entropy over the 50257-token vocabulary, backward, and AdamW
// (lr 6e-4, weight decay 0.1 on the weight matrices, none on biases,
// LayerNorms and embeddings: optim.DecayGroups). Run
//
//	go test -run '^$' -bench GPT2SmallTrainStep -benchtime 5x ./transformer/
//
// Reported besides ns/op: GFLOP/s (gpt2StepFLOPs per wall second),
// cpu-ns/op, the wall time of each phase (fwd-ms: forward and loss,
// zerograd-ms, bwd-ms: backward, adamw-ms: the optimizer step), heap-MB (the Go heap in use after a warm step: the graph's
// pool keeps every buffer a step used, and a warm step allocates nothing,
// so this is the step's peak heap) and peak-rss-MB (the process's VmHWM:
// the number to put beside PyTorch's ru_maxrss; it covers everything the
// process ran, so run this benchmark alone). The PyTorch peer is
// scripts/bench_torch_gpt2_step.py.
func BenchmarkGPT2SmallTrainStep(b *testing.B) {
	if testing.Short() {
		b.Skip("GPT-2 small training needs 2 GB (weights, gradients, AdamW moments)")
	}
	const B, T = 4, 64
	cfg := DefaultGPT2Config()
	nn.ManualSeed(1)
	m := nn.Must(NewGPT2(cfg))
	nn.Train(m)
	adamw := nn.Must(optim.NewAdamWGroups(optim.DecayGroups(m, 0.1), 6e-4))
	ce := nn.NewCrossEntropyLoss()
	ids := make([]int, B*T)
	for i := range ids {
		ids[i] = (i*7919 + 13) % cfg.VocabSize
	}
	targets := ShiftLabels(nil, ids, B, T)
	g := nn.NewGraph()
	var tFwd, tZero, tBwd, tOpt time.Duration // phase times, for the breakdown metrics
	step := func() {
		t0 := time.Now()
		g.Reset()
		loss := m.Loss(g, ce, ids, targets, B, T)
		t1 := time.Now()
		adamw.ZeroGrad()
		t2 := time.Now()
		loss.Backward()
		t3 := time.Now()
		adamw.Step()
		t4 := time.Now()
		tFwd, tZero, tBwd, tOpt = tFwd+t1.Sub(t0), tZero+t2.Sub(t1), tBwd+t3.Sub(t2), tOpt+t4.Sub(t3)
	}
	flops := gpt2StepFLOPs(cfg, B, T)
	withThreads(b, "B=4,T=64", func(b *testing.B) {
		// Warm: the first step fills the graph's pool, AdamW's moments and
		// the kernels' scratch; the second Reset grows the pool's free lists.
		step()
		step()
		tFwd, tZero, tBwd, tOpt = 0, 0, 0, 0
		loop(b, step)
		per := func(d time.Duration) float64 { return d.Seconds() * 1e3 / float64(b.N) }
		b.ReportMetric(per(tFwd), "fwd-ms")
		b.ReportMetric(per(tBwd), "bwd-ms")
		b.ReportMetric(per(tZero), "zerograd-ms")
		b.ReportMetric(per(tOpt), "adamw-ms")
		b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
		if kb := vmHWM(); kb > 0 {
			b.ReportMetric(float64(kb)/1024, "peak-rss-MB")
		}
	})
}

// vmHWM returns the process's peak resident set size in KiB from
// /proc/self/status (Linux), or -1.
func vmHWM() int64 {
	s, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range bytes.Split(s, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			v = bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(v), []byte("kB")))
			if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
				return n
			}
		}
	}
	return -1
}
