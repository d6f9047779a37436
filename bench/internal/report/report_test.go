package report

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/simdformer/simdformer/bench/internal/schema"
)

func rec(cs, impl string, threads int, rate, frac float64) schema.Record {
	ns := 1000 / rate // Work 1000 FLOP
	return schema.Record{Case: cs, Group: "gemm", Impl: impl, Threads: threads, Unit: schema.GFLOPS, Work: 1000,
		Reps: 1, Iters: 1, NsPerOp: schema.Stats{Median: ns, Min: ns, Max: ns},
		Rate: schema.Stats{Median: rate, Min: rate, Max: rate}, PeakFraction: frac}
}

// fixtures: two fake machines (never committed).
func fixtures() (a, b *schema.File) {
	a = &schema.File{Format: schema.Format, Version: schema.Version, Label: "x86 box",
		Machine: schema.Machine{CPU: "X86 CPU", GOOS: "linux", GOARCH: "amd64", Backend: "avx512",
			Backends: []string{"avx512", "avx2", "purego"}, Threads: []int{1, 2}},
		Records: []schema.Record{
			rec("gemm/x", "avx512", 1, 100, 0.9), rec("gemm/x", "avx2", 1, 90, 0.8),
			rec("gemm/x", "purego", 1, 1, 0.01), rec("gemm/x", "gonum", 1, 10, 0.1),
			rec("gemm/x", "avx512", 2, 180, 0.85), rec("gemm/y", "avx512", 1, 40, 0.4),
		}}
	b = &schema.File{Format: schema.Format, Version: schema.Version, Label: "arm box",
		Machine: schema.Machine{CPU: "ARM CPU", GOOS: "darwin", GOARCH: "arm64", Backend: "neon",
			Backends: []string{"neon", "purego"}, Threads: []int{1, 4}},
		Records: []schema.Record{
			rec("gemm/x", "neon", 1, 50, 0.7), rec("gemm/x", "purego", 1, 1, 0.02),
			rec("gemm/x", "gonum", 1, 5, 0.07), rec("gemm/x", "neon", 4, 150, 0.6),
		}}
	b.Records = append(b.Records, schema.Record{Case: "gemm/y", Group: "gemm", Impl: "neon", Threads: 1, Unit: schema.GFLOPS, Skipped: "x"})
	return a, b
}

func find(t *testing.T, c *Comparison, cs string, threads int, impl string) *Row {
	t.Helper()
	for i := range c.Rows {
		if r := &c.Rows[i]; r.Case == cs && r.Threads == threads && r.Impl == impl {
			return r
		}
	}
	t.Fatalf("no row %s %d %s in %+v", cs, threads, impl, c.Rows)
	return nil
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestCompareDefault(t *testing.T) {
	a, b := fixtures()
	c := Compare([]*schema.File{a, b}, CompareOptions{})
	var got []string
	for _, r := range c.Rows {
		got = append(got, r.Case+"/"+ThreadsLabel(r.Threads)+"/"+r.Impl)
	}
	want := "gemm/x/1/simdformer gemm/x/1/gonum gemm/x/2/simdformer gemm/x/4/simdformer gemm/y/1/simdformer"
	if strings.Join(got, " ") != want {
		t.Errorf("rows\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	r := find(t, c, "gemm/x", 1, Simdformer)
	if r.Cells[0].Impl != "avx512" || r.Cells[1].Impl != "neon" {
		t.Errorf("simdformer cells map to %s and %s", r.Cells[0].Impl, r.Cells[1].Impl)
	}
	if !near(r.Ratios[0], 1) || !near(r.Ratios[1], 0.5) {
		t.Errorf("ratios %v, want [1 0.5]", r.Ratios)
	}
	if r := find(t, c, "gemm/x", 1, "gonum"); !near(r.Ratios[1], 0.5) {
		t.Errorf("gonum ratio %v", r.Ratios[1])
	}
	// Missing on one side: NaN ratio, nil cell.
	if r := find(t, c, "gemm/x", 2, Simdformer); r.Cells[1] != nil || !math.IsNaN(r.Ratios[1]) {
		t.Errorf("2-thread row: %+v", r)
	}
	// A skipped record counts as missing.
	if r := find(t, c, "gemm/y", 1, Simdformer); r.Cells[1] != nil {
		t.Errorf("skipped record gave a cell: %+v", r.Cells[1])
	}
	// Geometric mean over rows both have: only gemm/x 1t.
	if g := c.Geomean[Simdformer]; !near(g[0], 1) || !near(g[1], 0.5) {
		t.Errorf("geomean %v", g)
	}
	var out bytes.Buffer
	c.Write(&out)
	for _, want := range []string{"[A] x86 box", "[B] arm box", "simdformer (avx512/neon)", "0.50×", "100 (90%)", "50.0 (70%)", "geometric mean, simdformer: [B]/[A] 0.50×"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	c.Markdown(&out)
	if !strings.Contains(out.String(), "| `gemm/x` | 1 | simdformer (avx512/neon) | 100 (90%) GFLOP/s | 50.0 (70%) GFLOP/s | 0.50× |") {
		t.Errorf("markdown:\n%s", out.String())
	}
}

func TestCompareThreadsAndAll(t *testing.T) {
	a, b := fixtures()
	c := Compare([]*schema.File{a, b}, CompareOptions{Threads: -1})
	r := find(t, c, "gemm/x", -1, Simdformer)
	if !near(r.Ratios[1], 150.0/180) {
		t.Errorf("largest-thread ratio %v, want %v", r.Ratios[1], 150.0/180)
	}
	if len(c.Rows) != 1 {
		t.Errorf("threads=-1 rows: %+v", c.Rows)
	}
	c = Compare([]*schema.File{a, b}, CompareOptions{All: true, Threads: 1})
	if r := find(t, c, "gemm/x", 1, "purego"); !near(r.Ratios[1], 1) {
		t.Errorf("purego ratio %v", r.Ratios[1])
	}
	if r := find(t, c, "gemm/x", 1, "avx2"); r.Cells[1] != nil || r.Cells[0].Rate != 90 {
		t.Errorf("avx2 row %+v", r)
	}
	find(t, c, "gemm/x", 1, "neon")
}

func TestLabelsDistinct(t *testing.T) {
	a, _ := fixtures()
	a2 := *a
	b := *a
	b.Label = ""
	got := Labels([]*schema.File{a, &a2, &b})
	if got[0] != "x86 box" || got[1] != "x86 box (2)" || got[2] != "X86 CPU" {
		t.Errorf("labels %q", got)
	}
}

func TestTableAndHeadline(t *testing.T) {
	a, _ := fixtures()
	a.Peak = schema.Peak{ClockGHz: 3, FMA: []schema.FMAPeak{{ISA: "avx512", Threads: 1, GFLOPS: 111}}}
	var out bytes.Buffer
	Header(&out, a)
	Table(&out, a)
	for _, want := range []string{"X86 CPU", "backend  avx512 (available: avx512, avx2, purego)", "FMA peak 1 thread: avx512 111.0 GFLOP/s (37.0 FLOP/cycle)",
		"case", "gonum", "100 (90%)", "10 ns"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	Headline(&out, a)
	if !strings.Contains(out.String(), "| case | threads | simdformer (avx512) | % of peak | gonum | purego | vs gonum |") ||
		!strings.Contains(out.String(), "| `gemm/x` | 1 | 100 GFLOP/s | 90% | 10.0 GFLOP/s | 1.00 GFLOP/s | 10.0× |") {
		t.Errorf("headline:\n%s", out.String())
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{{1234, "1234"}, {12.34, "12.3"}, {1.234, "1.23"}, {0.1234, "0.123"}} {
		if got := Rate(tc.v); got != tc.want {
			t.Errorf("Rate(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
	for _, tc := range []struct {
		ns   float64
		want string
	}{{12, "12 ns"}, {1234, "1.2 µs"}, {1.5e6, "1.50 ms"}, {2.5e9, "2.50 s"}} {
		if got := Duration(tc.ns); got != tc.want {
			t.Errorf("Duration(%v) = %q, want %q", tc.ns, got, tc.want)
		}
	}
}

// TestHeaderCoresAndCaches checks the machine lines on a VM that hides
// things: the usable CPUs (not the host's package), a measured L3 and an
// unknown one.
func TestHeaderCoresAndCaches(t *testing.T) {
	a, _ := fixtures()
	a.Machine.NumCPU, a.Machine.PhysicalCores, a.Machine.ThreadsPerCore = 2, 2, 1
	a.Machine.Cache = schema.Cache{L1D: 48 << 10, L2: 1 << 20, L3: 23726080, Measured: []string{"l3"}}
	var out bytes.Buffer
	Header(&out, a)
	for _, want := range []string{"cores    2 CPUs usable;", "caches   L1D 48 KiB, L2 1 MiB, L3 ≈22.6 MiB (measured)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("header lacks %q:\n%s", want, out.String())
		}
	}
	a.Machine.Cache = schema.Cache{L1D: 48 << 10, L2: 1 << 20}
	out.Reset()
	Header(&out, a)
	if !strings.Contains(out.String(), "L3 unknown") {
		t.Errorf("header with no L3:\n%s", out.String())
	}
}
