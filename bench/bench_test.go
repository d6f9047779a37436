package main

import (
	"fmt"
	"testing"

	"github.com/simdformer/simdformer/bench/internal/cases"
	"github.com/simdformer/simdformer/bench/internal/schema"
)

// BenchmarkCases runs the tool's case list under `go test -bench`, one
// sub-benchmark per case and implementation, on one thread (set -cpu to
// change GOMAXPROCS for the peers; the kernels use kernels.Threads):
//
//	go test -run '^$' -bench 'Cases/gemm' ./bench
//	go test -run '^$' -bench 'Cases/softmax.*/impl=avx2' -count 6 ./bench | benchstat -col /impl -
//
// GFLOP/s cases report a GFLOP/s metric and GFLOP/cpu-s (work per second of
// this process's CPU time, robust to other processes sharing the cores);
// GB/s cases set bytes per op, so the standard MB/s column appears.
func BenchmarkCases(b *testing.B) {
	for _, c := range cases.All() {
		for _, impl := range c.Impls() {
			b.Run(fmt.Sprintf("%s/impl=%s", c.Name, impl), func(b *testing.B) {
				restore, err := cases.Prepare(impl, 1)
				if err != nil {
					b.Fatal(err)
				}
				defer restore()
				op, err := c.Setup(impl)
				if err != nil {
					b.Skip(err)
				}
				if c.Unit == schema.GBps {
					b.SetBytes(int64(c.Work))
				}
				b.ResetTimer()
				cpu0 := processCPUTime()
				for b.Loop() {
					op()
				}
				cpu := processCPUTime() - cpu0
				if c.Unit == schema.GFLOPS {
					b.ReportMetric(c.Work*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					if cpu > 0 {
						// Robust to other processes on the cores (one thread).
						b.ReportMetric(c.Work*float64(b.N)/cpu/1e9, "GFLOP/cpu-s")
					}
				}
			})
		}
	}
}
