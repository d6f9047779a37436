package schema

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fixture is a small, fake results file (never committed).
func fixture() *File {
	return &File{
		Format: Format, Version: Version,
		Created: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Label:   "test machine",
		Tool:    Tool{Revision: "abc", Args: []string{"-quick"}, Quick: true},
		Machine: Machine{CPU: "Test CPU", Vendor: "AMD", Family: 25, Model: 17, Features: []string{"AVX2", "FMA3"},
			Cache: Cache{L1D: 32 << 10, L2: 1 << 20, L3: 32 << 20}, NumCPU: 2, GOMAXPROCS: 2,
			GOOS: "linux", GOARCH: "amd64", GoVersion: "go1.26.8", Backend: "avx2",
			Backends: []string{"avx2", "purego"}, Threads: []int{1, 2}},
		Peak: Peak{ClockGHz: 3.5,
			FMA: []FMAPeak{{ISA: "avx2", Threads: 1, GFLOPS: 100}, {ISA: "avx2", Threads: 2, GFLOPS: 200}},
			Copy: []CopyPeak{
				{Level: "L1", Bytes: 16 << 10, ISA: "avx2", Threads: 1, GBps: 200},
				{Level: "L2", Bytes: 512 << 10, ISA: "avx2", Threads: 1, GBps: 100},
				{Level: "DRAM", Bytes: 128 << 20, ISA: "avx2", Threads: 1, GBps: 20},
			}},
		Records: []Record{
			{Case: "gemm/8x8x8", Group: "gemm", Impl: "avx2", Threads: 1, Unit: GFLOPS, Work: 1024, WorkingSet: 768,
				Reps: 3, Iters: 10, NsPerOp: Stats{20, 19, 25}, Rate: Stats{51.2, 40.96, 53.9}, PeakFraction: 0.512, PeakRef: "fma/avx2/1t"},
			{Case: "softmax/1x8", Group: "softmax", Impl: "purego", Threads: 1, Unit: GBps, Skipped: "too slow"},
		},
	}
}

func TestRoundTrip(t *testing.T) {
	f := fixture()
	path := filepath.Join(t.TempDir(), "r.json")
	if err := f.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	g, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f, g) {
		t.Errorf("round trip changed the file:\nwrote %+v\nread  %+v", f, g)
	}
	b, _ := os.ReadFile(path)
	for _, want := range []string{`"format": "simdformer-bench"`, `"version": 1`, `"ns_per_op"`, `"peak_fraction": 0.512`, `"skipped": "too slow"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s", want)
		}
	}
}

func TestParseIgnoresUnknownFields(t *testing.T) {
	b, _ := fixture().Marshal()
	b = []byte(strings.Replace(string(b), `"label"`, `"future_field": [1, 2], "label"`, 1))
	if _, err := Parse(b); err != nil {
		t.Fatal(err)
	}
}

func TestValidate(t *testing.T) {
	for name, mutate := range map[string]func(*File){
		"format":     func(f *File) { f.Format = "other" },
		"version":    func(f *File) { f.Version = 99 },
		"duplicate":  func(f *File) { f.Records = append(f.Records, f.Records[0]) },
		"threads":    func(f *File) { f.Records[0].Threads = 0 },
		"unit":       func(f *File) { f.Records[0].Unit = "furlongs" },
		"stats":      func(f *File) { f.Records[0].NsPerOp = Stats{Median: 30, Min: 31, Max: 40} },
		"empty case": func(f *File) { f.Records[0].Case = "" },
	} {
		f := fixture()
		mutate(f)
		if err := f.Validate(); err == nil {
			t.Errorf("%s: Validate accepted a bad file", name)
		}
		b, _ := f.Marshal()
		if _, err := Parse(b); err == nil {
			t.Errorf("%s: Parse accepted a bad file", name)
		}
	}
	if err := fixture().Validate(); err != nil {
		t.Errorf("fixture: %v", err)
	}
}

// TestFractionTiers checks that every implementation is compared with its
// own tier's FMA peak, and GB/s results with the level their working set
// fits in (by capacity, so a working set between half a cache and the whole
// of it is compared with that cache, not with the next level).
func TestFractionTiers(t *testing.T) {
	p := Peak{
		FMA: []FMAPeak{{ISA: "go", Threads: 1, GFLOPS: 10, Estimate: true}, {ISA: "avx2", Threads: 1, GFLOPS: 100},
			{ISA: "avx512", Threads: 1, GFLOPS: 200}},
		Copy: []CopyPeak{
			{Level: "L1", Bytes: 24 << 10, Fits: 48 << 10, Threads: 1, GBps: 400},
			{Level: "L2", Bytes: 512 << 10, Fits: 1 << 20, Threads: 1, GBps: 100},
			{Level: "L3", Bytes: 16 << 20, Fits: 32 << 20, Threads: 1, GBps: 50},
			{Level: "DRAM", Bytes: 128 << 20, Threads: 1, GBps: 20},
		},
	}
	for _, tc := range []struct {
		r    Record
		frac float64
		ref  string
	}{
		{Record{Unit: GFLOPS, Impl: "avx2", Threads: 1, Rate: Stats{Median: 50}}, 0.5, "fma/avx2/1t"},
		{Record{Unit: GFLOPS, Impl: "avx512", Threads: 1, Rate: Stats{Median: 50}}, 0.25, "fma/avx512/1t"},
		{Record{Unit: GFLOPS, Impl: "purego", Threads: 1, Rate: Stats{Median: 5}}, 0.5, "fma/go/1t"},
		{Record{Unit: GFLOPS, Impl: "gonum", Threads: 1, Rate: Stats{Median: 5}}, 0.5, "fma/go/1t"},
		{Record{Unit: GBps, Threads: 1, WorkingSet: 40 << 10, Rate: Stats{Median: 200}}, 0.5, "copy/L1/1t"},
		{Record{Unit: GBps, Threads: 1, WorkingSet: 768 << 10, Rate: Stats{Median: 50}}, 0.5, "copy/L2/1t"},
		{Record{Unit: GBps, Threads: 1, WorkingSet: 2 << 20, Rate: Stats{Median: 25}}, 0.5, "copy/L3/1t"},
		{Record{Unit: GBps, Threads: 1, WorkingSet: 64 << 20, Rate: Stats{Median: 10}}, 0.5, "copy/DRAM/1t"},
	} {
		frac, ref := p.Fraction(&tc.r)
		if frac != tc.frac || ref != tc.ref {
			t.Errorf("Fraction(%s %s ws=%d) = %v, %q; want %v, %q", tc.r.Impl, tc.r.Unit, tc.r.WorkingSet, frac, ref, tc.frac, tc.ref)
		}
	}
}

func TestFraction(t *testing.T) {
	p := fixture().Peak
	for _, tc := range []struct {
		r    Record
		frac float64
		ref  string
	}{
		{Record{Unit: GFLOPS, Impl: "avx2", Threads: 1, Rate: Stats{Median: 50}}, 0.5, "fma/avx2/1t"},
		{Record{Unit: GFLOPS, Impl: "avx2", Threads: 2, Rate: Stats{Median: 50}}, 0.25, "fma/avx2/2t"},
		{Record{Unit: GFLOPS, Impl: "avx2", Threads: 4, Rate: Stats{Median: 50}}, 0, ""},
		// No AVX-512 or scalar peak in this file: no fraction rather than the
		// wrong tier's.
		{Record{Unit: GFLOPS, Impl: "avx512", Threads: 1, Rate: Stats{Median: 50}}, 0, ""},
		{Record{Unit: GFLOPS, Impl: "purego", Threads: 1, Rate: Stats{Median: 5}}, 0, ""},
		{Record{Unit: GBps, Threads: 1, WorkingSet: 1000, Rate: Stats{Median: 50}}, 0.25, "copy/L1/1t"},
		{Record{Unit: GBps, Threads: 1, WorkingSet: 100 << 10, Rate: Stats{Median: 50}}, 0.5, "copy/L2/1t"},
		{Record{Unit: GBps, Threads: 1, WorkingSet: 1 << 30, Rate: Stats{Median: 10}}, 0.5, "copy/DRAM/1t"},
		{Record{Unit: GBps, Threads: 1, WorkingSet: 10, Skipped: "x"}, 0, ""},
	} {
		frac, ref := p.Fraction(&tc.r)
		if frac != tc.frac || ref != tc.ref {
			t.Errorf("Fraction(%+v) = %v, %q; want %v, %q", tc.r, frac, ref, tc.frac, tc.ref)
		}
	}
}

// TestFractionUnknownL3 checks that a working set past L2 gets no fraction
// when no L3 level was measured (an unknown L3 may hold it: comparing it
// with DRAM bandwidth gave fractions over 100%), and DRAM's when it is as
// large as the DRAM set.
func TestFractionUnknownL3(t *testing.T) {
	p := Peak{Copy: []CopyPeak{
		{Level: "L1", Bytes: 24 << 10, Fits: 48 << 10, Threads: 1, GBps: 400},
		{Level: "L2", Bytes: 512 << 10, Fits: 1 << 20, Threads: 1, GBps: 100},
		{Level: "DRAM", Bytes: 64 << 20, Threads: 1, GBps: 20},
	}}
	if f, ref := p.Fraction(&Record{Unit: GBps, Threads: 1, WorkingSet: 1536 << 10, Rate: Stats{Median: 46}}); f != 0 || ref != "" {
		t.Errorf("1.5 MiB with L3 unknown: %v %q, want no fraction", f, ref)
	}
	if f, ref := p.Fraction(&Record{Unit: GBps, Threads: 1, WorkingSet: 128 << 20, Rate: Stats{Median: 10}}); f != 0.5 || ref != "copy/DRAM/1t" {
		t.Errorf("128 MiB: %v %q", f, ref)
	}
}
