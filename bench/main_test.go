package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simdformer/simdformer/bench/internal/cases"
	"github.com/simdformer/simdformer/bench/internal/schema"
)

// TestSmokeQuick runs the tool end to end on a tiny case set: measure,
// write JSON, read it back, compare it with a modified copy and plot.
func TestSmokeQuick(t *testing.T) {
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "run.json")
	var stdout, stderr bytes.Buffer
	err := run([]string{"-quick", "-filter", "^(gemm/256x256x256|softmax/128x512)$", "-reps", "1",
		"-mintime", "1ms", "-threads", "1", "-label", "smoke", "-json", jsonPath}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"CPU ", "backend ", "FMA peak 1 thread", "gemm/256x256x256", "softmax/128x512", "gonum", "wrote " + jsonPath} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr.String(), "softmax/128x512") {
		t.Errorf("no progress line on stderr:\n%s", stderr.String())
	}
	f, err := schema.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	backends := len(f.Machine.Backends)
	if want := 2*backends + 1; len(f.Records) != want { // both cases × backends, plus gonum for GEMM
		t.Errorf("%d records, want %d", len(f.Records), want)
	}
	if f.Label != "smoke" || !f.Tool.Quick || len(f.Peak.FMA) == 0 || len(f.Peak.Copy) == 0 {
		t.Errorf("header %+v", f)
	}
	for _, r := range f.Records {
		if r.Skipped != "" || r.PeakRef != "" {
			continue
		}
		// A GB/s row has no reference when no measured copy level holds its
		// working set (cache sizes hidden and the sweep's knees unclear, as
		// under an emulator); a GFLOP/s row always has its tier's peak.
		if r.Unit == schema.GBps && f.Peak.CopyPeakFor(r.WorkingSet/int64(max(r.Threads, 1)), r.Threads) == nil {
			t.Logf("%s %s: no copy level holds its working set on this machine", r.Case, r.Impl)
			continue
		}
		t.Errorf("%s %s has no peak fraction", r.Case, r.Impl)
	}

	// A second "machine": the same numbers, twice as fast.
	g := *f
	g.Label = "twice as fast"
	g.Records = append([]schema.Record(nil), f.Records...)
	for i := range g.Records {
		g.Records[i].Rate.Median *= 2
		g.Records[i].NsPerOp.Median /= 2
		g.Records[i].NsPerOp.Min = g.Records[i].NsPerOp.Median
	}
	fast := filepath.Join(dir, "fast.json")
	if err := g.WriteFile(fast); err != nil {
		t.Fatal(err)
	}
	plotPath := filepath.Join(dir, "cmp.png")
	stdout.Reset()
	if err := run([]string{"-compare", jsonPath, fast, "-plot", plotPath}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "geometric mean, simdformer: [B]/[A] 2.00×") {
		t.Errorf("compare output:\n%s", stdout.String())
	}
	pf, err := os.Open(plotPath)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	if _, err := png.Decode(pf); err != nil {
		t.Errorf("plot: %v", err)
	}
}

func TestOutDir(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := run([]string{"-quick", "-filter", "^dropout/128x512$", "-reps", "1", "-mintime", "1ms", "-threads", "1",
		"-nopeak", "-impls", "purego", "-out", dir}, &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*"))
	exts := map[string]bool{}
	for _, m := range matches {
		exts[filepath.Ext(m)] = true
	}
	for _, e := range []string{".json", ".txt", ".md", ".png"} {
		if !exts[e] {
			t.Errorf("-out wrote %v, no %s", matches, e)
		}
	}
}

func TestArgs(t *testing.T) {
	var stdout, stderr bytes.Buffer
	for _, args := range [][]string{
		{"stray.json"},         // files without -compare
		{"-compare"},           // -compare without files
		{"-filter", "("},       // bad regexp
		{"-filter", "nothing"}, // no case
		{"-threads", "0", "-filter", "nothing"},
		{"-compare", "/no/such/file.json"},
	} {
		if err := run(args, &stdout, &stderr); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
	stdout.Reset()
	if err := run([]string{"-list", "-quick"}, &stdout, &stderr); err != nil || !strings.Contains(stdout.String(), "gemm/256x256x256") {
		t.Errorf("-list: %v\n%s", err, stdout.String())
	}
}

// TestCommittedResults checks that the committed results files parse.
func TestCommittedResults(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("results", "*.json"))
	if len(files) == 0 {
		t.Skip("no committed results yet")
	}
	for _, p := range files {
		if _, err := schema.ReadFile(p); err != nil {
			t.Error(err)
		}
	}
}

func TestNeedSweep(t *testing.T) {
	cs, err := cases.Select(false, "")
	if err != nil {
		t.Fatal(err)
	}
	small, err := cases.Select(false, "^softmax/128x512$")
	if err != nil {
		t.Fatal(err)
	}
	known := schema.Cache{L1D: 48 << 10, L2: 1 << 20, L3: 32 << 20}
	noL3 := schema.Cache{L1D: 48 << 10, L2: 1 << 20}
	for _, tc := range []struct {
		c    schema.Cache
		cs   []cases.Case
		want bool
	}{
		{known, cs, false},
		{noL3, cs, true},     // dropout/16384x1024 and friends are past L2
		{noL3, small, false}, // 512 KiB fits the known L2
		{schema.Cache{}, small, true},
	} {
		if got := needSweep(tc.c, tc.cs); got != tc.want {
			t.Errorf("needSweep(%+v, %d cases) = %v, want %v", tc.c, len(tc.cs), got, tc.want)
		}
	}
}
