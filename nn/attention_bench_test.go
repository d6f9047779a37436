package nn_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/simdformer/simdformer/kernels"
	"github.com/simdformer/simdformer/nn"
)

// BenchmarkMHATrain: one training step of nn.MultiheadAttention (E = 512,
// 8 heads, batch 2, causal self-attention, dropout p on the probabilities):
// forward, then backward of the summed output into the parameters, on one
// kernel thread (kernels.SetThreads(1), like torch.set_num_threads(1) in
// scripts/bench_torch_mha.py). "fused" is the default path
// (kernels.Attention / AttentionBackward), "materialising" the path
// NeedWeights takes (per-head Gemm → softmax with dropout → Gemm, every
// head's L×S probabilities kept for backward), forced by the test hook. A
// warm step allocates nothing; pool-MB is what a fresh graph's first step
// allocates (its pooled buffers: the step's peak memory besides the
// parameters). cpu-ms/op is the process CPU time per step, steadier than
// ns/op on a shared machine. Run as
//
//	go test -run '^$' -bench MHATrain -benchtime 3x ./nn
//
// and compare the rows of one run as ratios (the machine is shared).
func BenchmarkMHATrain(b *testing.B) {
	const N, E, H = 2, 512, 8
	Ls := []int{256, 1024, 2048}
	if testing.Short() {
		Ls = Ls[:1]
	}
	for _, L := range Ls {
		for _, p := range []float32{0, 0.1} {
			for _, path := range []string{"fused", "materialising"} {
				b.Run(fmt.Sprintf("L=%d/p=%v/%s", L, p, path), func(b *testing.B) {
					defer kernels.SetThreads(kernels.Threads())
					kernels.SetThreads(1)
					nn.MaterialiseAttention(path == "materialising")
					defer nn.MaterialiseAttention(false)
					nn.ManualSeed(1)
					m := nn.Must(nn.NewMultiheadAttention(nn.MHAConfig{EmbedDim: E, NumHeads: H, Dropout: p}))
					nn.Train(m)
					x := randTensor(newRand(3), 1, N, L, E)
					x.RequiresGrad = false
					opt := nn.AttentionOptions{Causal: true}
					step := func(g *nn.Graph) {
						g.Reset()
						out, _ := m.Forward(g, x, x, x, opt)
						g.Backward(g.Sum(out))
					}
					step(nn.NewGraph()) // allocates the parameters' Grad and the kernels' scratch
					var before, after runtime.MemStats
					runtime.ReadMemStats(&before)
					g := nn.NewGraph()
					step(g) // cold: fills the graph's pool
					runtime.ReadMemStats(&after)
					b.ReportAllocs()
					b.ResetTimer()
					cpu0 := processCPU()
					for b.Loop() {
						step(g)
					}
					if cpu0 >= 0 {
						b.ReportMetric(float64(processCPU()-cpu0)/1e6/float64(b.N), "cpu-ms/op")
					}
					b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/1e6, "pool-MB")
				})
			}
		}
	}
}

// BenchmarkAttentionTrain isolates the attention of BenchmarkMHATrain:
// Graph.Attention on q, k, v (2, L, 512) requiring gradients, 8 heads,
// causal, dropout p, forward + backward of the summed context on one
// kernel thread, fused vs materialising. GFLOP/cpu-s counts 4·L·S·d per
// head for the forward, halved for causal, and 3.5× that for forward +
// backward (the convention of kernels' BenchmarkAttention). Run as
//
//	go test -run '^$' -bench AttentionTrain -benchtime 3x ./nn
func BenchmarkAttentionTrain(b *testing.B) {
	const N, E, H = 2, 512, 8
	Ls := []int{256, 1024, 2048}
	if testing.Short() {
		Ls = Ls[:1]
	}
	for _, L := range Ls {
		for _, p := range []float32{0, 0.1} {
			for _, path := range []string{"fused", "materialising"} {
				b.Run(fmt.Sprintf("L=%d/p=%v/%s", L, p, path), func(b *testing.B) {
					defer kernels.SetThreads(kernels.Threads())
					kernels.SetThreads(1)
					nn.MaterialiseAttention(path == "materialising")
					defer nn.MaterialiseAttention(false)
					r := newRand(4)
					q, k, v := randTensor(r, 1, N, L, E), randTensor(r, 1, N, L, E), randTensor(r, 1, N, L, E)
					opt := nn.AttentionOptions{Causal: true}
					drop := nn.Drop{P: p, Seed: 1}
					g := nn.NewGraph()
					step := func() {
						g.Reset()
						for _, x := range []*nn.Tensor{q, k, v} {
							clear(x.Grad)
						}
						ctx, _ := g.Attention(q, k, v, H, opt, drop)
						g.Backward(g.Sum(ctx))
					}
					step()
					b.ReportAllocs()
					b.ResetTimer()
					cpu0 := processCPU()
					for b.Loop() {
						step()
					}
					if cpu0 >= 0 {
						cpu := float64(processCPU()-cpu0) / 1e9 / float64(b.N)
						flops := 3.5 * 4 * float64(L) * float64(L) * float64(E/H) * H * N / 2
						b.ReportMetric(cpu*1e3, "cpu-ms/op")
						b.ReportMetric(flops/cpu/1e9, "GFLOP/cpu-s")
					}
				})
			}
		}
	}
}
