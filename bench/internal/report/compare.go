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

// CompareOptions selects what a comparison shows.
type CompareOptions struct {
	// All shows every implementation; otherwise each file's default
	// backend (as Simdformer) and the peers.
	All bool
	// Threads keeps only records at that thread count; 0 keeps all.
	// "max" thread counts differ between machines, so -1 means each
	// file's largest thread count.
	Threads int
	// NoDefault omits the Simdformer rows (useful with All for a single
	// file, where they repeat the default backend's rows).
	NoDefault bool
}

// Cell is one file's measurement in a comparison row.
type Cell struct {
	Impl         string  // the implementation measured (a backend for Simdformer)
	Rate         float64 // median, in the row's unit
	PeakFraction float64 // 0 when unknown
	NsPerOp      float64 // median
}

// Row compares one case, implementation and thread count across files.
type Row struct {
	Case    string
	Group   string
	Unit    string
	Threads int // -1 for "each file's largest"
	Impl    string
	Cells   []*Cell   // one per file; nil where the file has no such record
	Ratios  []float64 // Cells[i].Rate / Cells[0].Rate; NaN where either is missing
}

// Comparison is a side-by-side table of several results files; the first
// is the baseline of the ratios.
type Comparison struct {
	Labels []string
	Files  []*schema.File
	Rows   []Row
	// Geomean[impl][i] is the geometric mean of Ratios[i] over the rows of
	// impl that both file i and the baseline have.
	Geomean map[string][]float64
	Impls   []string // row implementations, in order
}

// Labels returns a distinct display label per file: its Label (or CPU),
// with " (2)", " (3)" ... appended to repeats.
func Labels(files []*schema.File) []string {
	out := make([]string, len(files))
	count := map[string]int{}
	for i, f := range files {
		l := f.Label
		if l == "" {
			l = f.Machine.CPU
		}
		count[l]++
		if count[l] > 1 {
			l = fmt.Sprintf("%s (%d)", l, count[l])
		}
		out[i] = l
	}
	return out
}

// isBackend reports whether impl is a backend of f's machine.
func isBackend(f *schema.File, impl string) bool { return slices.Contains(f.Machine.Backends, impl) }

// Compare builds the comparison of files (at least one).
func Compare(files []*schema.File, opt CompareOptions) *Comparison {
	c := &Comparison{Labels: Labels(files), Files: files, Geomean: map[string][]float64{}}
	// Collect row keys in order of first appearance.
	type key struct {
		cs      string
		threads int
		impl    string
	}
	var keys []key
	seen := map[key]bool{}
	meta := map[string][2]string{} // case -> group, unit
	add := func(k key) {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	var caseOrder []string
	for _, f := range files {
		maxT := maxThreads(f)
		for _, r := range f.Records {
			if !slices.Contains(caseOrder, r.Case) {
				caseOrder = append(caseOrder, r.Case)
			}
			meta[r.Case] = [2]string{r.Group, r.Unit}
			t := r.Threads
			switch {
			case opt.Threads == -1 && t != maxT:
				continue
			case opt.Threads == -1:
				t = -1
			case opt.Threads > 0 && t != opt.Threads:
				continue
			}
			if r.Impl == f.Machine.Backend && !opt.NoDefault {
				add(key{r.Case, t, Simdformer})
			}
			if opt.All || !isBackend(f, r.Impl) {
				add(key{r.Case, t, r.Impl})
			}
		}
	}
	// Order: case (first appearance), threads, then Simdformer, backends, peers.
	implRank := func(impl string) int {
		if impl == Simdformer {
			return -1000
		}
		for _, f := range files {
			if i := slices.Index(f.Machine.Backends, impl); i >= 0 {
				return i - 100
			}
		}
		return 0
	}
	slices.SortStableFunc(keys, func(a, b key) int {
		if d := slices.Index(caseOrder, a.cs) - slices.Index(caseOrder, b.cs); d != 0 {
			return d
		}
		if a.threads != b.threads {
			// -1 (largest) sorts after concrete counts.
			if a.threads == -1 {
				return 1
			}
			if b.threads == -1 {
				return -1
			}
			return a.threads - b.threads
		}
		return implRank(a.impl) - implRank(b.impl)
	})
	for _, k := range keys {
		row := Row{Case: k.cs, Group: meta[k.cs][0], Unit: meta[k.cs][1], Threads: k.threads, Impl: k.impl}
		for _, f := range files {
			row.Cells = append(row.Cells, lookup(f, k.cs, k.threads, k.impl))
		}
		for i := range files {
			row.Ratios = append(row.Ratios, ratio(row.Cells[i], row.Cells[0]))
		}
		c.Rows = append(c.Rows, row)
		if !slices.Contains(c.Impls, k.impl) {
			c.Impls = append(c.Impls, k.impl)
		}
	}
	for _, impl := range c.Impls {
		g := make([]float64, len(files))
		for i := range files {
			var rs []float64
			for _, row := range c.Rows {
				if row.Impl == impl {
					rs = append(rs, row.Ratios[i])
				}
			}
			g[i] = geomean(rs)
		}
		c.Geomean[impl] = g
	}
	return c
}

func maxThreads(f *schema.File) int {
	m := 0
	for _, r := range f.Records {
		m = max(m, r.Threads)
	}
	return m
}

// lookup finds the cell of a file for a row key (nil when absent or skipped).
func lookup(f *schema.File, cs string, threads int, impl string) *Cell {
	if threads == -1 {
		threads = maxThreads(f)
	}
	actual := impl
	if impl == Simdformer {
		actual = f.Machine.Backend
	}
	r := f.Find(schema.Key{Case: cs, Impl: actual, Threads: threads})
	if r == nil || r.Skipped != "" || r.Rate.Median <= 0 {
		return nil
	}
	return &Cell{Impl: actual, Rate: r.Rate.Median, PeakFraction: r.PeakFraction, NsPerOp: r.NsPerOp.Median}
}

func ratio(a, base *Cell) float64 {
	if a == nil || base == nil {
		return math.NaN()
	}
	return a.Rate / base.Rate
}

// ThreadsLabel formats a row's thread count: the number, or "all" for -1
// (each file's largest).
func ThreadsLabel(t int) string {
	if t == -1 {
		return "all"
	}
	return fmt.Sprint(t)
}

// ImplLabel names an implementation for display: impl itself, except that
// Simdformer is followed by the backends it stands for, e.g.
// "simdformer (avx2/neon)".
func ImplLabel(impl string, backends []string) string {
	if impl != Simdformer {
		return impl
	}
	return Simdformer + " (" + strings.Join(backends, "/") + ")"
}

func (c *Comparison) implLabel(row *Row) string {
	var bs []string
	for _, cell := range row.Cells {
		if cell != nil && !slices.Contains(bs, cell.Impl) {
			bs = append(bs, cell.Impl)
		}
	}
	return ImplLabel(row.Impl, bs)
}

// Write prints the comparison as an aligned text table, followed by the
// geometric means of the ratios.
func (c *Comparison) Write(w io.Writer) {
	for i, l := range c.Labels {
		f := c.Files[i]
		cpu := ""
		if !strings.HasPrefix(l, f.Machine.CPU) {
			cpu = f.Machine.CPU + ", "
		}
		fmt.Fprintf(w, "[%c] %s: %s%s/%s, backend %s, %s\n", 'A'+rune(i%26), l, cpu,
			f.Machine.GOOS, f.Machine.GOARCH, f.Machine.Backend, f.Created.Format("2006-01-02"))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := []string{"case", "unit", "threads", "impl"}
	for i := range c.Files {
		head = append(head, fmt.Sprintf("[%c]", 'A'+rune(i%26)))
	}
	for i := 1; i < len(c.Files); i++ {
		head = append(head, fmt.Sprintf("[%c]/[A]", 'A'+rune(i%26)))
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for i := range c.Rows {
		row := &c.Rows[i]
		cols := []string{row.Case, row.Unit, ThreadsLabel(row.Threads), c.implLabel(row)}
		for _, cell := range row.Cells {
			cols = append(cols, cellString(cell))
		}
		for _, r := range row.Ratios[1:] {
			cols = append(cols, ratioString(r))
		}
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
	}
	tw.Flush()
	if len(c.Files) > 1 {
		fmt.Fprintln(w)
		for _, impl := range c.Impls {
			var parts []string
			for i, g := range c.Geomean[impl][1:] {
				parts = append(parts, fmt.Sprintf("[%c]/[A] %s", 'B'+rune(i%26), ratioString(g)))
			}
			fmt.Fprintf(w, "geometric mean, %s: %s\n", impl, strings.Join(parts, ", "))
		}
	}
}

// Markdown prints the comparison as a Markdown table (for READMEs).
func (c *Comparison) Markdown(w io.Writer) {
	head := []string{"case", "threads", "impl"}
	for _, l := range c.Labels {
		head = append(head, l)
	}
	for _, l := range c.Labels[min(1, len(c.Labels)):] {
		head = append(head, "ratio "+l)
	}
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
	for i := range c.Rows {
		row := &c.Rows[i]
		cols := []string{"`" + row.Case + "`", ThreadsLabel(row.Threads), c.implLabel(row)}
		for _, cell := range row.Cells {
			s := cellString(cell)
			if cell != nil {
				s += " " + row.Unit
			}
			cols = append(cols, s)
		}
		for _, r := range row.Ratios[1:] {
			cols = append(cols, ratioString(r))
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cols, " | "))
	}
}

func cellString(c *Cell) string {
	if c == nil {
		return "-"
	}
	return rateWithPeak(c.Rate, c.PeakFraction)
}

func ratioString(r float64) string {
	if math.IsNaN(r) {
		return "-"
	}
	return fmt.Sprintf("%.2f×", r)
}
