package kernels

import (
	"fmt"
	"runtime"
	"testing"
)

// BenchmarkAttention: the fused kernels against nn's unfused path (per head
// Gemm → Softmax with dropout → Gemm; backward Gemm, SoftmaxDropoutBackward,
// three Gemms, keeping every head's probabilities) on 8 heads of d = 64,
// batch 1, the packed (L, 3·8·64) QKV layout. GFLOP/s counts 4·L·S·d per
// head for the forward (halved when causal) and 3.5× that for forward +
// backward (two products forward, five backward). Run as
//
//	go test -run '^$' -bench 'Attention/' -benchtime 5x ./kernels
//
// and compare rows of one run (the machine is shared).
func BenchmarkAttention(b *testing.B) {
	Ls := []int{128, 512, 1024, 2048}
	if testing.Short() {
		Ls = Ls[:2]
	}
	for _, L := range Ls {
		for _, causal := range []bool{false, true} {
			for _, p := range []float32{0, 0.1} {
				for _, bwd := range []bool{false, true} {
					for _, impl := range []string{"fused", "unfused"} {
						for _, threads := range []int{1, 0} {
							tn := "threads=1"
							if threads == 0 {
								tn = fmt.Sprintf("threads=%d", runtime.GOMAXPROCS(0))
							}
							pass := "fwd"
							if bwd {
								pass = "fwdbwd"
							}
							name := fmt.Sprintf("%s/L=%d,causal=%v,p=%v/%s/%s", impl, L, causal, p, pass, tn)
							b.Run(name, func(b *testing.B) {
								if threads > 0 {
									defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(threads))
								}
								benchAttention(b, L, causal, p, bwd, impl == "fused")
							})
						}
					}
				}
			}
		}
	}
}

func benchAttention(b *testing.B, L int, causal bool, p float32, bwd, fused bool) {
	const H, d, N = 8, 64, 1
	E := H * d
	r := newRand(b)
	qkv := randNormal(r, N*L*3*E, 0, 1)
	do := randNormal(r, N*L*E, 0, 1)
	o := make([]float32, N*L*E)
	dqkv := make([]float32, len(qkv))
	sh := AttentionShape{N, H, L, L, d, d}
	opt := AttentionOptions{Causal: causal, Dropout: p, Seed: 1}
	ld := 3 * E
	q := AttentionOperand{qkv, L * ld, d, ld}
	k := AttentionOperand{qkv[E:], L * ld, d, ld}
	v := AttentionOperand{qkv[2*E:], L * ld, d, ld}
	dq := AttentionOperand{dqkv, L * ld, d, ld}
	dk := AttentionOperand{dqkv[E:], L * ld, d, ld}
	dv := AttentionOperand{dqkv[2*E:], L * ld, d, ld}
	oo := AttentionOperand{o, L * E, d, E}
	doo := AttentionOperand{do, L * E, d, E}
	stats := make([]float32, 2*N*H*L)
	var run func()
	if fused {
		run = func() {
			Attention(oo, stats, q, k, v, sh, opt)
			if bwd {
				AttentionBackward(dq, dk, dv, doo, oo, stats, q, k, v, sh, opt)
			}
		}
	} else {
		LS := L * L
		probs, drop, dP := make([]float32, H*LS), make([]float32, LS), make([]float32, LS)
		scale := float32(0.125)
		run = func() {
			for h := 0; h < H; h++ {
				y := probs[h*LS : (h+1)*LS]
				Gemm(false, true, L, L, d, 1, qkv[h*d:], ld, qkv[E+h*d:], ld, 0, y, L)
				so := SoftmaxOptions{Scale: scale, Causal: causal}
				pp := y
				if p != 0 {
					so.Dropout, so.Seed, so.Offset = p, 1, uint64(h*LS)
					pp = drop
				}
				if so.Dropout != 0 {
					SoftmaxDropout(y, drop, y, L, L, so)
				} else {
					Softmax(y, y, L, L, so)
				}
				Gemm(false, false, L, d, L, 1, pp, L, qkv[2*E+h*d:], ld, 0, o[h*d:], E)
			}
			if !bwd {
				return
			}
			clear(dqkv)
			for h := 0; h < H; h++ {
				y := probs[h*LS : (h+1)*LS]
				pp := y
				if p != 0 {
					Dropout(drop, y, p, 1, uint64(h*LS))
					pp = drop
				}
				Gemm(true, false, L, d, L, 1, pp, L, do[h*d:], E, 1, dqkv[2*E+h*d:], ld)
				Gemm(false, true, L, L, d, 1, do[h*d:], E, qkv[2*E+h*d:], ld, 0, dP, L)
				if p != 0 {
					SoftmaxDropoutBackward(dP, y, dP, L, L, scale, p, 1, uint64(h*LS))
				} else {
					SoftmaxBackward(dP, y, dP, L, L, scale)
				}
				Gemm(false, false, L, d, L, 1, dP, L, qkv[E+h*d:], ld, 1, dqkv[h*d:], ld)
				Gemm(true, false, L, d, L, 1, dP, L, qkv[h*d:], ld, 1, dqkv[E+h*d:], ld)
			}
		}
	}
	run()
	flops := 4 * float64(L) * float64(L) * d * H * N
	if causal {
		flops /= 2
	}
	if bwd {
		flops *= 3.5
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPUTime()
	for b.Loop() {
		run()
	}
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu := processCPUTime() - cpu0; cpu > 0 {
		b.ReportMetric(flops*float64(b.N)/cpu/1e9, "GFLOP/cpu-s")
	}
}
