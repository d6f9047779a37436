package report_test

import (
	"os"
	"time"

	"github.com/simdformer/simdformer/bench/internal/report"
	"github.com/simdformer/simdformer/bench/internal/schema"
)

// Compare two results files: the same case on two (made-up) machines.
func ExampleCompare() {
	file := func(cpu, backend string, gflops float64) *schema.File {
		ns := 2e6 / gflops // 2 MFLOP per operation
		return &schema.File{Format: schema.Format, Version: schema.Version, Label: cpu,
			Created: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC),
			Machine: schema.Machine{CPU: cpu, GOOS: "linux", GOARCH: "amd64", Backend: backend, Backends: []string{backend, "purego"}},
			Records: []schema.Record{{Case: "gemm/100x100x100", Group: "gemm", Impl: backend, Threads: 1,
				Unit: schema.GFLOPS, Work: 2e6, Reps: 1, Iters: 1,
				NsPerOp: schema.Stats{Median: ns, Min: ns, Max: ns},
				Rate:    schema.Stats{Median: gflops, Min: gflops, Max: gflops}, PeakFraction: gflops / 200}},
		}
	}
	a, b := file("CPU one", "avx2", 100), file("CPU two", "avx512", 150)
	report.Compare([]*schema.File{a, b}, report.CompareOptions{}).Write(os.Stdout)
	// Output:
	// [A] CPU one: linux/amd64, backend avx2, 2025-06-01
	// [B] CPU two: linux/amd64, backend avx512, 2025-06-01
	//
	// case              unit     threads  impl                      [A]        [B]        [B]/[A]
	// gemm/100x100x100  GFLOP/s  1        simdformer (avx2/avx512)  100 (50%)  150 (75%)  1.50×
	//
	// geometric mean, simdformer: [B]/[A] 1.50×
}
