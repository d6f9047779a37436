// Package report prints results files as tables and compares several of
// them: the same case on two CPUs, two backends or two versions.
package report

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/simdformer/simdformer/bench/internal/schema"
)

// Simdformer is the implementation key that stands, in a comparison, for
// whichever backend a file's machine picked by default (Machine.Backend):
// that is what users of the library get on that CPU.
const Simdformer = "simdformer"

// Header writes the machine and peak summary of f.
func Header(w io.Writer, f *schema.File) {
	m := &f.Machine
	fmt.Fprintf(w, "CPU      %s", m.CPU)
	if m.Family != 0 || m.Model != 0 {
		fmt.Fprintf(w, " (family %d model %d stepping %d)", m.Family, m.Model, m.Stepping)
	}
	fmt.Fprintln(w)
	cores := fmt.Sprintf("%d CPUs usable", m.NumCPU)
	if m.PhysicalCores > 0 && m.ThreadsPerCore > 1 {
		cores += fmt.Sprintf(" (%d cores × %d threads)", m.PhysicalCores, m.ThreadsPerCore)
	}
	vm := ""
	if m.Hypervisor {
		vm = ", virtual machine"
	}
	fmt.Fprintf(w, "cores    %s%s; GOMAXPROCS %d; %s/%s %s\n", cores, vm, m.GOMAXPROCS, m.GOOS, m.GOARCH, m.GoVersion)
	fmt.Fprintf(w, "caches   L1D %s, L2 %s, L3 %s\n", cacheSize(&m.Cache, "l1d", m.Cache.L1D),
		cacheSize(&m.Cache, "l2", m.Cache.L2), cacheSize(&m.Cache, "l3", m.Cache.L3))
	fmt.Fprintf(w, "backend  %s (available: %s)\n", m.Backend, strings.Join(m.Backends, ", "))
	fmt.Fprintf(w, "features %s\n", simdFeatures(m.Features))
	p := &f.Peak
	if p.ClockGHz > 0 {
		fmt.Fprintf(w, "clock    %.2f GHz (measured)\n", p.ClockGHz)
	}
	for _, t := range m.Threads {
		var parts []string
		for _, e := range p.FMA {
			if e.Threads == t {
				s := fmt.Sprintf("%s %.1f GFLOP/s", e.ISA, e.GFLOPS)
				switch {
				case e.Estimate:
					s += " (scalar Go estimate)"
				case p.ClockGHz > 0 && t == 1:
					s += fmt.Sprintf(" (%.1f FLOP/cycle)", e.GFLOPS/p.ClockGHz)
				}
				parts = append(parts, s)
			}
		}
		if len(parts) > 0 {
			fmt.Fprintf(w, "FMA peak %s: %s\n", plural(t, "thread"), strings.Join(parts, ", "))
		}
		parts = parts[:0]
		for _, e := range p.Copy {
			if e.Threads == t {
				parts = append(parts, fmt.Sprintf("%s %s", e.Level, Rate(e.GBps)))
			}
		}
		if len(parts) > 0 {
			fmt.Fprintf(w, "copy     %s: %s GB/s (read+write)\n", plural(t, "thread"), strings.Join(parts, ", "))
		}
	}
}

func plural(n int, what string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, what)
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// simdFeatures keeps the features that matter for float kernels.
func simdFeatures(fs []string) string {
	var out []string
	for _, f := range fs {
		if strings.HasPrefix(f, "AVX") || strings.HasPrefix(f, "FMA") || strings.HasPrefix(f, "SSE4") ||
			f == "ASIMD" || f == "FP" || f == "SVE" || f == "SVE2" || f == "ASIMDHP" || f == "FPHP" || f == "BF16" || f == "I8MM" {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return "(none reported)"
	}
	return strings.Join(out, " ")
}

// cacheSize formats one cache size, saying when it was measured (from the
// knees of the copy-bandwidth sweep) or is unknown.
func cacheSize(c *schema.Cache, level string, b int) string {
	switch {
	case b <= 0:
		return "unknown"
	case slices.Contains(c.Measured, level):
		return "≈" + size(b) + " (measured)"
	}
	return size(b)
}

func size(b int) string {
	switch {
	case b <= 0:
		return "?"
	case b >= 1<<20 && b%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", b>>20)
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%d KiB", b>>10)
	}
	return fmt.Sprintf("%d B", b)
}

// Table writes the results of one file: a row per case and thread count,
// a column per implementation (rate and fraction of peak), and the time per
// operation of the default backend.
func Table(w io.Writer, f *schema.File) {
	impls := implOrder(f)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "case\tunit\tthreads\t%s\ttime (%s)\n", strings.Join(impls, "\t"), f.Machine.Backend)
	for _, k := range rowKeys(f) {
		unit := ""
		var cells []string
		for _, impl := range impls {
			r := f.Find(schema.Key{Case: k.c, Impl: impl, Threads: k.t})
			if r != nil {
				unit = r.Unit
			}
			cells = append(cells, cell(r))
		}
		t := "-"
		if r := f.Find(schema.Key{Case: k.c, Impl: f.Machine.Backend, Threads: k.t}); r != nil && r.Skipped == "" {
			t = Duration(r.NsPerOp.Median)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", k.c, unit, k.t, strings.Join(cells, "\t"), t)
	}
	tw.Flush()
}

// rowKey identifies a row of the single-file tables: a case at a thread
// count.
type rowKey struct {
	c string
	t int
}

// rowKeys lists the (case, threads) pairs of f's records in order of first
// appearance.
func rowKeys(f *schema.File) []rowKey {
	var rows []rowKey
	seen := map[rowKey]bool{}
	for _, r := range f.Records {
		k := rowKey{r.Case, r.Threads}
		if !seen[k] {
			seen[k] = true
			rows = append(rows, k)
		}
	}
	return rows
}

// implOrder lists the implementations of f: the machine's backends in
// preference order, then peers in order of appearance.
func implOrder(f *schema.File) []string {
	var impls []string
	for _, b := range f.Machine.Backends {
		impls = append(impls, b)
	}
	for _, r := range f.Records {
		if !slices.Contains(impls, r.Impl) {
			impls = append(impls, r.Impl)
		}
	}
	// Drop backends without any record (e.g. filtered out).
	return slices.DeleteFunc(impls, func(impl string) bool {
		return !slices.ContainsFunc(f.Records, func(r schema.Record) bool { return r.Impl == impl })
	})
}

// cell formats a rate with its fraction of peak, e.g. "101.2 (88%)".
func cell(r *schema.Record) string {
	switch {
	case r == nil:
		return "-"
	case r.Skipped != "":
		return "skipped"
	}
	return rateWithPeak(r.Rate.Median, r.PeakFraction)
}

// rateWithPeak formats a rate followed, when known (> 0), by its fraction
// of peak, e.g. "101.2 (88%)".
func rateWithPeak(rate, peakFraction float64) string {
	s := Rate(rate)
	if peakFraction > 0 {
		s += fmt.Sprintf(" (%.0f%%)", 100*peakFraction)
	}
	return s
}

// Rate formats a GFLOP/s or GB/s value with 3-4 significant digits.
func Rate(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3f", v)
}

// Duration formats nanoseconds as ns, µs, ms or s.
func Duration(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.2f s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

// geomean returns the geometric mean of positive xs (NaN when none).
func geomean(xs []float64) float64 {
	s, n := 0.0, 0
	for _, x := range xs {
		if x > 0 && !math.IsInf(x, 0) {
			s += math.Log(x)
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return math.Exp(s / float64(n))
}
