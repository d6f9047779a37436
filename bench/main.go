// Command bench measures simdformer on this CPU and compares CPUs.
//
// It identifies the machine, measures the CPU's limits with tiny generated
// kernels (peak float32 FMA throughput, copy bandwidth at each cache level
// and DRAM, the clock), then times every case (GEMM at square and
// transformer shapes, softmax, layernorm, dropout, GELU, and the
// transformer layers) under every kernels backend the CPU has and under
// gonum's pure-Go Sgemm, on one core and on all cores. It prints a table and
// writes a JSON file (schema in bench/README.md) that -compare reads back:
//
//	go run ./bench                          # a few minutes; table + bench-results/<cpu>.json
//	go run ./bench -quick                   # under a minute
//	go run ./bench -filter 'gemm|softmax'   # a subset (regular expression on case names)
//	go run ./bench -compare bench/results/<cpu>.json bench-results/<cpu>.json -plot bench-results/compare.png
//	go run ./bench -out bench/results       # regenerate the committed results of this machine
//
// Flags may come before or after the files of -compare.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/simdformer/simdformer/bench/internal/cases"
	"github.com/simdformer/simdformer/bench/internal/chart"
	"github.com/simdformer/simdformer/bench/internal/machine"
	"github.com/simdformer/simdformer/bench/internal/peak"
	"github.com/simdformer/simdformer/bench/internal/report"
	"github.com/simdformer/simdformer/bench/internal/runner"
	"github.com/simdformer/simdformer/bench/internal/schema"
	"github.com/simdformer/simdformer/internal/atomicfile"
	"github.com/simdformer/simdformer/kernels"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// DefaultDir is where a run writes its results file unless -json or -out
// says otherwise: a directory of the current directory, ignored by git in
// this repository (.gitignore), so a run from the repository root leaves no
// untracked file behind.
const DefaultDir = "bench-results"

// config holds the parsed command line.
type config struct {
	quick, compare, all, markdown, list, noPeak, verbose bool
	filter, jsonPath, label, plotPath, outDir            string
	threads, plotThreads, impls                          string
	reps                                                 int
	minTime                                              time.Duration
	vs                                                   listFlag
	files                                                []string
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func parse(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&c.quick, "quick", false, "run the quick case set with fewer, shorter repeats (under a minute)")
	fs.StringVar(&c.filter, "filter", "", "run only cases whose name matches this regular expression")
	fs.StringVar(&c.jsonPath, "json", "auto", `write results to this JSON file ("auto": bench-results/<cpu>.json; "": none)`)
	fs.StringVar(&c.outDir, "out", "", "write <cpu>.json, <cpu>.txt, <cpu>.md and <cpu>.png into this directory (the committed results)")
	fs.StringVar(&c.label, "label", "", "name of this run in comparisons (default: the CPU name)")
	fs.StringVar(&c.threads, "threads", "", `thread counts to run, e.g. "1,4" (default: 1 and GOMAXPROCS); with -compare: "1", "all" (largest) or "" (every)`)
	fs.StringVar(&c.impls, "impls", "", `run only these implementations, e.g. "avx2,gonum"`)
	fs.IntVar(&c.reps, "reps", 0, "timed repeats per measurement (default 5, -quick 3)")
	fs.DurationVar(&c.minTime, "mintime", 0, "minimum duration of one repeat (default 40ms, -quick 15ms)")
	fs.BoolVar(&c.noPeak, "nopeak", false, "skip measuring the CPU's peak FMA and copy bandwidth")
	fs.BoolVar(&c.compare, "compare", false, "compare the JSON files given as arguments (the first is the baseline)")
	fs.Var(&c.vs, "vs", "after the run, compare with this JSON file (repeatable)")
	fs.StringVar(&c.plotPath, "plot", "", "with -compare or -vs: draw the comparison to this PNG file")
	fs.StringVar(&c.plotThreads, "plot-threads", "1", `thread count drawn by -plot: "1", "all" (each machine's largest) or "" (every)`)
	fs.BoolVar(&c.all, "all", false, "with -compare: show every backend, not only each machine's default one and the peers")
	fs.BoolVar(&c.markdown, "markdown", false, "print tables as Markdown (the README headline table)")
	fs.BoolVar(&c.list, "list", false, "list the cases and exit")
	fs.BoolVar(&c.verbose, "v", false, "print each result as it is measured")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./bench [flags]\n       go run ./bench -compare [flags] base.json other.json... [-plot out.png]\n\nflags:\n")
		fs.PrintDefaults()
	}
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		c.files = append(c.files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(c.files) > 0 && !c.compare {
		return nil, fmt.Errorf("unexpected arguments %q (did you mean -compare?)", c.files)
	}
	if c.compare && len(c.files) == 0 {
		return nil, errors.New("-compare needs at least one JSON file")
	}
	return c, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	c, err := parse(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	switch {
	case c.list:
		return list(c, stdout)
	case c.compare:
		return compare(c, c.files, stdout)
	}
	f, err := measure(c, stdout, stderr)
	if err != nil {
		return err
	}
	if len(c.vs) > 0 {
		fmt.Fprintln(stdout)
		return compare(c, c.vs, stdout, f)
	}
	return nil
}

func list(c *config, w io.Writer) error {
	cs, err := cases.Select(c.quick, c.filter)
	if err != nil {
		return err
	}
	for _, k := range cs {
		q := ""
		if k.Quick {
			q = " (quick)"
		}
		fmt.Fprintf(w, "%-48s %-8s %s%s\n", k.Name, k.Unit, strings.Join(k.Impls(), ","), q)
	}
	return nil
}

// measure runs the benchmark and writes its outputs.
func measure(c *config, stdout, stderr io.Writer) (*schema.File, error) {
	cs, err := cases.Select(c.quick, c.filter)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("no case matches -filter %q", c.filter)
	}
	opt := runner.Defaults()
	if c.quick {
		opt = runner.Quick()
	}
	if c.threads != "" {
		if opt.Threads, err = parseInts(c.threads); err != nil {
			return nil, fmt.Errorf("-threads: %w", err)
		}
	}
	if c.reps > 0 {
		opt.Reps = c.reps
	}
	if c.minTime > 0 {
		opt.MinTime = c.minTime
	}
	if c.impls != "" {
		opt.Impls = strings.Split(c.impls, ",")
	}
	opt.Progress = stderr
	if c.verbose {
		opt.Progress = nil
		opt.OnRecord = func(r *schema.Record) { fmt.Fprintln(stderr, runner.Line(r)) }
	}

	rev, modified := machine.Revision()
	m := machine.Detect(kernels.Backend(), kernels.Backends())
	m.Threads = opt.Threads
	f := &schema.File{
		Format: schema.Format, Version: schema.Version,
		Created: time.Now().UTC().Truncate(time.Second),
		Label:   c.label,
		Tool: schema.Tool{Revision: rev, Modified: modified, Args: os.Args[1:], Quick: c.quick,
			Filter: c.filter, Purego: purego},
		Machine: m,
	}
	if f.Label == "" {
		f.Label = m.CPU
	}
	if !c.noPeak && needSweep(m.Cache, cs) {
		// The CPU and the OS hide a cache size (common on virtual
		// machines): find it from the knees of a copy-bandwidth sweep, so
		// that GB/s results are compared with the level that holds them.
		po := peak.Options{Reps: opt.Reps, MinTime: opt.MinTime}
		if !c.verbose {
			po.Progress = func(what string) { fmt.Fprintf(stderr, "peak: %s\n", what) }
		}
		f.Peak.Sweep = peak.Sweep(po)
		m.Cache = peak.FillCaches(m.Cache, f.Peak.Sweep)
		f.Machine.Cache = m.Cache
	}
	if !c.noPeak {
		// Peaks are maxima: more, longer repeats make them robust to a
		// moment of interference from other processes.
		po := peak.Options{Threads: opt.Threads, Reps: 2 * opt.Reps, MinTime: max(opt.MinTime, 25*time.Millisecond), Cache: m.Cache}
		if !c.verbose {
			po.Progress = func(what string) { fmt.Fprintf(stderr, "peak: %s\n", what) }
		}
		sweep := f.Peak.Sweep
		f.Peak = peak.Measure(po)
		f.Peak.Sweep = sweep
	}
	report.Header(stdout, f)
	fmt.Fprintln(stdout)

	start := time.Now()
	f.Records = runner.Run(cs, opt, &f.Peak)
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("internal error, invalid results: %w", err)
	}
	var table bytes.Buffer
	if c.markdown {
		report.Headline(&table, f)
	} else {
		report.Table(&table, f)
	}
	stdout.Write(table.Bytes())
	fmt.Fprintf(stdout, "\n%d measurements in %s.\n", len(f.Records), time.Since(start).Round(time.Second))

	slug := machine.Slug(m.CPU)
	if c.outDir != "" {
		if err := writeOut(c.outDir, slug, f, stdout); err != nil {
			return nil, err
		}
	}
	path := c.jsonPath
	if path == "auto" {
		path = ""
		if c.outDir == "" {
			path = filepath.Join(DefaultDir, slug+".json")
		}
	}
	if path != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		if err := f.WriteFile(path); err != nil {
			return nil, err
		}
		fmt.Fprintf(stdout, "wrote %s\n", path)
		if committed, _ := filepath.Glob(filepath.Join("bench", "results", "*.json")); len(committed) > 0 && len(c.vs) == 0 {
			fmt.Fprintf(stdout, "compare with the committed results:\n  go run ./bench -compare %s %s -plot %s\n",
				strings.Join(committed, " "), path, filepath.Join(filepath.Dir(path), "compare.png"))
		}
	}
	return f, nil
}

// needSweep reports whether a cache size the GB/s cases depend on is
// unknown: L2, or L3 when some case's working set is larger than L2.
func needSweep(c schema.Cache, cs []cases.Case) bool {
	return c.L2 <= 0 || (c.L3 <= 0 && slices.ContainsFunc(cs, func(k cases.Case) bool {
		return k.Unit == schema.GBps && k.WorkingSet > int64(c.L2)
	}))
}

// writeOut writes the committed-results set of files for this machine.
func writeOut(dir, slug string, f *schema.File, stdout io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	base := filepath.Join(dir, slug)
	if err := f.WriteFile(base + ".json"); err != nil {
		return err
	}
	var txt, md bytes.Buffer
	report.Header(&txt, f)
	fmt.Fprintln(&txt)
	report.Table(&txt, f)
	fmt.Fprintf(&md, "Results of `go run ./bench` on **%s** (%s/%s, %s, backend %s, %s).\n\n",
		f.Machine.CPU, f.Machine.GOOS, f.Machine.GOARCH, f.Machine.GoVersion, f.Machine.Backend, f.Created.Format("2006-01-02"))
	report.Headline(&md, f)
	for _, out := range []struct {
		path string
		data []byte
	}{{base + ".txt", txt.Bytes()}, {base + ".md", md.Bytes()}} {
		if err := atomicfile.WriteFile(out.path, out.data, 0o644); err != nil {
			return err
		}
	}
	cmp := report.Compare([]*schema.File{f}, report.CompareOptions{All: true, NoDefault: true, Threads: 1})
	if err := chart.WritePNG(base+".png", cmp); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s.{json,txt,md,png}\n", base)
	return nil
}

// compare reads files (plus already loaded extra ones) and prints, and
// optionally draws, the comparison.
func compare(c *config, paths []string, stdout io.Writer, extra ...*schema.File) error {
	var files []*schema.File
	for _, p := range paths {
		f, err := schema.ReadFile(p)
		if err != nil {
			return err
		}
		files = append(files, f)
	}
	files = append(files, extra...)
	threads, err := parseThreadsSel(c.threads)
	if err != nil {
		return fmt.Errorf("-threads: %w", err)
	}
	cmp := report.Compare(files, report.CompareOptions{All: c.all, Threads: threads})
	if c.markdown {
		if len(files) == 1 {
			report.Headline(stdout, files[0])
		} else {
			cmp.Markdown(stdout)
		}
	} else {
		cmp.Write(stdout)
	}
	if c.plotPath != "" {
		pt, err := parseThreadsSel(c.plotThreads)
		if err != nil {
			return fmt.Errorf("-plot-threads: %w", err)
		}
		pcmp := report.Compare(files, report.CompareOptions{All: c.all, Threads: pt})
		if err := chart.WritePNG(c.plotPath, pcmp); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nwrote %s\n", c.plotPath)
	}
	return nil
}

// parseThreadsSel parses a comparison thread selection: "" (every), "all"
// (each file's largest) or a number.
func parseThreadsSel(s string) (int, error) {
	switch s {
	case "":
		return 0, nil
	case "all", "max":
		return -1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("want a thread count, \"all\" or \"\", got %q", s)
	}
	return n, nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad thread count %q", part)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}
