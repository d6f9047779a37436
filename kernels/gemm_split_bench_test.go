package kernels

import (
	"fmt"
	"testing"
)

// BenchmarkGemmSplit compares 1 and 2 threads on the mid-size products of
// small transformers, where splitting may cost more than it gains.
func BenchmarkGemmSplit(b *testing.B) {
	shapes := []gemmBenchShape{
		{m: 16, n: 1024, k: 256, transB: true},
		{m: 16, n: 256, k: 1024, transB: true},
		{m: 16, n: 1024, k: 256},
		{m: 1024, n: 256, k: 16, transA: true},
		{m: 160, n: 512, k: 128},
		{m: 160, n: 512, k: 128, transB: true},
		{m: 512, n: 128, k: 160, transA: true},
		{m: 160, n: 128, k: 384},
		{m: 256, n: 256, k: 256},
		{m: 512, n: 512, k: 512},
	}
	for _, s := range shapes {
		for _, th := range []int{1, 2} {
			b.Run(fmt.Sprintf("%v/t%d", s, th), func(b *testing.B) {
				SetThreads(th)
				defer SetThreads(0)
				benchGemm(b, Backend(), s)
			})
		}
	}
}
