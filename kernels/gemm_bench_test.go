package kernels

import (
	"fmt"
	"os"
	"runtime"
	"testing"
)

// gemmBenchShape is one benchmarked product: op(A) m×k, op(B) k×n.
type gemmBenchShape struct {
	m, n, k        int
	transA, transB bool
	big            bool // skipped with -short
}

func (s gemmBenchShape) String() string {
	t := "NN"
	switch {
	case s.transA && s.transB:
		t = "TT"
	case s.transA:
		t = "TN"
	case s.transB:
		t = "NT"
	}
	return fmt.Sprintf("%dx%dx%d_%s", s.m, s.n, s.k, t)
}

var gemmBenchShapes = []gemmBenchShape{
	{m: 64, n: 64, k: 64},
	{m: 128, n: 128, k: 128},
	{m: 512, n: 512, k: 512},
	{m: 1024, n: 1024, k: 1024},
	{m: 40, n: 2048, k: 512},
	{m: 40, n: 2048, k: 512, transB: true},
	{m: 40, n: 512, k: 2048},
	{m: 40, n: 1536, k: 512, transB: true}, // torch Linear forward, 3 heads' QKV
	{m: 40, n: 512, k: 1536},               // its dX = dY·W
	{m: 1536, n: 512, k: 40, transA: true}, // its dW = dYᵀ·X
	{m: 8, n: 512, k: 512, transB: true},
	{m: 40, n: 512, k: 512, transB: true},
	{m: 40, n: 512, k: 512},
	{m: 56, n: 2048, k: 512},
	{m: 10, n: 2048, k: 512, transB: true},
	{m: 512, n: 512, k: 40, transA: true},
	{m: 2048, n: 512, k: 40, transA: true},
	{m: 512, n: 2048, k: 40, transA: true},
	{m: 128, n: 128, k: 64, transB: true}, // one head's scores Q·Kᵀ
	{m: 128, n: 64, k: 128},               // one head's P·V
	// A Linear layer's training step at 4096 tokens (d=512, ff=2048):
	{m: 4096, n: 2048, k: 512, transB: true, big: true}, // forward X·Wᵀ
	{m: 4096, n: 512, k: 2048, big: true},               // input gradient dX = dY·W
	{m: 2048, n: 512, k: 4096, transA: true, big: true}, // weight gradient dW = dYᵀ·X, K = tokens
}

// BenchmarkGemm reports GFLOP/s (2mnk per call) for every backend, with one
// thread (GOMAXPROCS=1 for the run) and with all threads. Run it as
//
//	go test -run '^$' -bench Gemm -benchtime 20x ./kernels
//
// The comparison with gonum's pure-Go Sgemm lives in the bench module (its
// own go.mod, so the library does not require gonum):
// go run ./bench -filter gemm -impls avx512,gonum.
func BenchmarkGemm(b *testing.B) {
	for _, be := range Backends() {
		for _, threads := range []int{1, 0} {
			tname := "threads=1"
			if threads == 0 {
				tname = fmt.Sprintf("threads=%d", runtime.GOMAXPROCS(0))
			}
			for _, s := range gemmBenchShapes {
				b.Run(fmt.Sprintf("backend=%s/%s/%v", be, tname, s), func(b *testing.B) {
					if s.big && testing.Short() {
						b.Skip("-short")
					}
					if be == "purego" && s.m*s.n*s.k > 1<<27 {
						b.Skip("pure Go is slow here")
					}
					if threads > 0 {
						defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(threads))
					}
					benchGemm(b, be, s)
				})
			}
		}
	}
}

func benchGemm(b *testing.B, be string, s gemmBenchShape) {
	r := newRand(b)
	lda, ldb := s.k, s.n
	if s.transA {
		lda = s.m
	}
	if s.transB {
		ldb = s.k
	}
	a := randNormal(r, s.m*s.k, 0, 1)
	bm := randNormal(r, s.k*s.n, 0, 1)
	c := make([]float32, s.m*s.n)
	prev := Backend()
	if err := SetBackend(be); err != nil {
		b.Fatal(err)
	}
	defer SetBackend(prev)
	// Tuning aid: SIMDFORMER_GEMM_BLOCK="kc,mc,nc" overrides the blocking.
	if env := os.Getenv("SIMDFORMER_GEMM_BLOCK"); env != "" {
		kr := &cur().gemm
		saved := *kr
		fmt.Sscanf(env, "%d,%d,%d", &kr.kc, &kr.mc, &kr.nc)
		defer func() { *kr = saved }()
	}
	// SIMDFORMER_GEMM_LARGE="kc,mc" overrides the blocking of many-row blocks.
	if env := os.Getenv("SIMDFORMER_GEMM_LARGE"); env != "" {
		skc, smc := gemmLargeKc, gemmLargeMc
		fmt.Sscanf(env, "%d,%d", &gemmLargeKc, &gemmLargeMc)
		defer func() { gemmLargeKc, gemmLargeMc = skc, smc }()
	}
	// SIMDFORMER_GEMM_NTKC overrides the depth of the few-row A·Bᵀ kernel's passes.
	if env := os.Getenv("SIMDFORMER_GEMM_NTKC"); env != "" {
		saved := gemmNTKc
		fmt.Sscanf(env, "%d", &gemmNTKc)
		defer func() { gemmNTKc = saved }()
	}
	run := func() { Gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n) }
	run() // warm up buffers and workers
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPUTime()
	for i := 0; i < b.N; i++ {
		run()
	}
	cpu := processCPUTime() - cpu0
	b.StopTimer()
	flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu > 0 {
		// Work per CPU-second of this process: robust to other processes
		// sharing the cores, which the wall-clock figure is not. With
		// several threads it shows the parallel overhead (a perfect split
		// matches the one-thread figure).
		b.ReportMetric(flops/cpu/1e9, "GFLOP/cpu-s")
	}
}

// BenchmarkGemmKernel measures each backend's micro-kernel (and its normal
// variant) alone on packed panels that stay in L1/L2 (kc = 64 and 256): the
// practical peak that BenchmarkGemm's numbers are a fraction of.
func BenchmarkGemmKernel(b *testing.B) {
	for _, be := range Backends() {
		var kr gemmKernel
		withBackend(be, func() { kr = cur().gemm })
		kinds := []*gemmKernel{&kr}
		if kr.normal != nil {
			kinds = append(kinds, kr.normal)
		}
		for v, k := range kinds {
			name := be
			if v > 0 {
				name += "-normal"
			}
			for _, kc := range []int{64, 256, 512} {
				b.Run(fmt.Sprintf("backend=%s/kc=%d", name, kc), func(b *testing.B) {
					r := newRand(b)
					a := randNormal(r, kc*k.mr, 0, 0.01)
					bp := randNormal(r, kc*k.nr, 0, 0.01)
					c := make([]float32, k.mr*k.nr)
					b.ResetTimer()
					cpu0 := processCPUTime()
					for i := 0; i < b.N; i++ {
						k.kern(kc, a, bp, c, k.nr, true)
					}
					cpu := processCPUTime() - cpu0
					flops := 2 * float64(k.mr*k.nr*kc) * float64(b.N)
					b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					if cpu > 0 {
						b.ReportMetric(flops/cpu/1e9, "GFLOP/cpu-s")
					}
				})
			}
		}
	}
}
