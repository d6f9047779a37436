// Package schema defines the JSON file that `go run ./bench -json FILE`
// writes and `go run ./bench -compare` reads: one header describing the
// machine and its measured limits, then one record per (case, implementation,
// thread count). The format is versioned; see bench/README.md for the field
// by field documentation.
//
// Compatibility rule: Version changes only when a field changes meaning or
// is removed. New optional fields may be added without a version bump, and
// readers ignore fields they do not know.
package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/simdformer/simdformer/internal/atomicfile"
)

// Format is the value of File.Format, which identifies a results file.
const Format = "simdformer-bench"

// Version is the schema version this package reads and writes.
const Version = 1

// Units of Record.Unit.
const (
	GFLOPS = "GFLOP/s" // Record.Work counts floating-point operations (an FMA is 2)
	GBps   = "GB/s"    // Record.Work counts bytes read plus bytes written
)

// File is one run of the benchmark tool on one machine.
type File struct {
	Format  string    `json:"format"`  // always Format
	Version int       `json:"version"` // always Version when written by this package
	Created time.Time `json:"created"` // UTC time the run started
	// Label names the run in comparisons and plots. It defaults to the CPU
	// name; -label overrides it (e.g. "before", "v0.2").
	Label   string   `json:"label"`
	Tool    Tool     `json:"tool"`
	Machine Machine  `json:"machine"`
	Peak    Peak     `json:"peak"`
	Records []Record `json:"records"`
}

// Tool describes how the results were produced.
type Tool struct {
	Revision string   `json:"revision,omitempty"` // VCS revision of simdformer, when known
	Modified bool     `json:"modified,omitempty"` // the work tree had uncommitted changes
	Args     []string `json:"args"`               // command-line arguments of the run
	Quick    bool     `json:"quick,omitempty"`    // -quick was given
	Filter   string   `json:"filter,omitempty"`   // -filter, if any
	Purego   bool     `json:"purego,omitempty"`   // built with -tags purego
}

// Machine identifies the CPU and the Go runtime.
type Machine struct {
	CPU            string   `json:"cpu"`              // brand string, e.g. "AMD EPYC 9R14 96-Core Processor"
	Vendor         string   `json:"vendor,omitempty"` // e.g. "AMD", "Intel", "Apple", "ARM"
	Family         int      `json:"family"`           // cpuid family (x86) or implementer (arm64)
	Model          int      `json:"model"`            // cpuid model (x86) or part number (arm64)
	Stepping       int      `json:"stepping"`         // cpuid stepping (x86) or revision (arm64)
	Features       []string `json:"features"`         // CPU features, sorted
	Cache          Cache    `json:"cache"`
	PhysicalCores  int      `json:"physical_cores"`        // cores this process may use; 0 when unknown
	LogicalCores   int      `json:"logical_cores"`         // hardware threads this process may use; 0 when unknown
	ThreadsPerCore int      `json:"threads_per_core"`      // 0 when unknown
	NominalGHz     float64  `json:"nominal_ghz,omitempty"` // base clock reported by the CPU, when it does
	Hypervisor     bool     `json:"hypervisor,omitempty"`  // running in a virtual machine
	NumCPU         int      `json:"num_cpu"`               // runtime.NumCPU(): the CPUs in this process's affinity mask
	GOMAXPROCS     int      `json:"gomaxprocs"`            // runtime.GOMAXPROCS(0) at start
	GOOS           string   `json:"goos"`                  // runtime.GOOS
	GOARCH         string   `json:"goarch"`                // runtime.GOARCH
	GOAMD64        string   `json:"goamd64,omitempty"`     // GOAMD64 level the tool was built for
	GoVersion      string   `json:"go_version"`            // runtime.Version()
	Backend        string   `json:"backend"`               // kernels.Backend() chosen by cpuid (or SIMDFORMER_BACKEND)
	Backends       []string `json:"backends"`              // kernels.Backends(): every backend this CPU runs
	Threads        []int    `json:"threads"`               // thread counts measured
}

// Cache gives cache sizes in bytes, per core for L1 and L2 and for the whole
// package for L3; 0 means unknown. They come from cpuid, else from Linux's
// sysfs, else (L2 and L3, which virtual machines often hide) from the knees
// of a copy-bandwidth sweep, in which case Measured names them.
type Cache struct {
	L1D int `json:"l1d"`
	L1I int `json:"l1i"`
	L2  int `json:"l2"`
	L3  int `json:"l3"`
	// Measured lists the levels ("l2", "l3") whose size was measured
	// rather than reported by the CPU or the OS.
	Measured []string `json:"measured,omitempty"`
}

// Peak holds the measured limits of the machine.
type Peak struct {
	// ClockGHz is the core clock estimated from a chain of dependent
	// integer additions on one core (0 when not measured).
	ClockGHz float64 `json:"clock_ghz,omitempty"`
	// FMA is the float32 FMA throughput, one entry per ISA and thread count.
	FMA []FMAPeak `json:"fma"`
	// Copy is the copy bandwidth at working sets sized for each memory level.
	Copy []CopyPeak `json:"copy"`
	// Sweep is the one-thread copy bandwidth at growing working sets,
	// measured when the CPU and the OS did not report every cache size;
	// its knees give the missing sizes.
	Sweep []CopyPeak `json:"sweep,omitempty"`
}

// FMAPeak is a measured float32 FMA throughput.
type FMAPeak struct {
	// ISA is "avx2", "avx512", "neon" or "go" (scalar Go estimate, the tier
	// of the purego backend and of pure-Go peers).
	ISA      string  `json:"isa"`
	Threads  int     `json:"threads"` // goroutines, each locked to an OS thread
	GFLOPS   float64 `json:"gflops"`  // best of the repeats; an FMA counts 2 FLOP
	Estimate bool    `json:"estimate,omitempty"`
}

// CopyPeak is a measured copy bandwidth.
type CopyPeak struct {
	Level string `json:"level"` // "L1", "L2", "L3" or "DRAM" ("" in a sweep)
	Bytes int64  `json:"bytes"` // working set per thread: source plus destination
	// Fits is the largest working set per thread that the level holds (its
	// capacity, L3 split among the threads): results whose working set
	// fits here and not in a smaller level are compared with this
	// bandwidth. 0 for DRAM (no limit) and in files written before the
	// field existed.
	Fits    int64   `json:"fits,omitempty"`
	ISA     string  `json:"isa"`     // the kernel used: "avx512", "avx2", "neon" or "go"
	Threads int     `json:"threads"` // goroutines copying at once, each its own buffers
	GBps    float64 `json:"gbps"`    // bytes read plus bytes written per second, all threads, best of the repeats
}

// Record is the measurement of one case under one implementation at one
// thread count.
type Record struct {
	Case  string `json:"case"`  // e.g. "gemm/512x512x512", "softmax/128x512"
	Group string `json:"group"` // e.g. "gemm", "softmax", "transformer"
	// Impl is a kernels backend ("avx512", "avx2", "neon", "purego") or a
	// peer ("gonum").
	Impl    string `json:"impl"`
	Threads int    `json:"threads"`
	Unit    string `json:"unit"` // GFLOPS or GBps
	// Work is the FLOPs (GFLOPS) or bytes moved (GBps) of one operation.
	Work float64 `json:"work"`
	// WorkingSet is the number of bytes one operation touches; it selects
	// the copy peak (memory level) GB/s results are compared with.
	WorkingSet int64 `json:"working_set"`
	Reps       int   `json:"reps"`  // timed repeats
	Iters      int   `json:"iters"` // operations per repeat
	// NsPerOp are the median, fastest and slowest repeat, in ns per operation.
	NsPerOp Stats `json:"ns_per_op"`
	// Rate is Work per second in Unit: median, min (slowest repeat) and max
	// (fastest repeat).
	Rate Stats `json:"rate"`
	// PeakFraction is Rate.Median divided by PeakRef's value; 0 when no
	// peak applies.
	PeakFraction float64 `json:"peak_fraction,omitempty"`
	// PeakRef names the peak used: "fma/<isa>/<threads>t" or
	// "copy/<level>/<threads>t".
	PeakRef string `json:"peak_ref,omitempty"`
	// Skipped, when not empty, says why the case was not measured (then
	// the numbers are zero).
	Skipped string `json:"skipped,omitempty"`
}

// Stats summarises repeats.
type Stats struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// Key identifies a record within a file.
type Key struct {
	Case    string
	Impl    string
	Threads int
}

// Key returns the record's identity.
func (r *Record) Key() Key { return Key{r.Case, r.Impl, r.Threads} }

// Validate checks that f is a well-formed results file of this version.
func (f *File) Validate() error {
	if f.Format != Format {
		return fmt.Errorf("not a %s results file (format %q)", Format, f.Format)
	}
	if f.Version != Version {
		return fmt.Errorf("%s results version %d; this tool reads version %d", Format, f.Version, Version)
	}
	seen := make(map[Key]bool, len(f.Records))
	var errs []error
	for i := range f.Records {
		r := &f.Records[i]
		switch {
		case r.Case == "" || r.Impl == "":
			errs = append(errs, fmt.Errorf("record %d: empty case or impl", i))
		case r.Threads < 1:
			errs = append(errs, fmt.Errorf("record %d (%s): threads %d < 1", i, r.Case, r.Threads))
		case r.Unit != GFLOPS && r.Unit != GBps:
			errs = append(errs, fmt.Errorf("record %d (%s): unknown unit %q", i, r.Case, r.Unit))
		case seen[r.Key()]:
			errs = append(errs, fmt.Errorf("record %d: duplicate %s impl=%s threads=%d", i, r.Case, r.Impl, r.Threads))
		case r.Skipped == "" && !(r.NsPerOp.Min > 0 && r.NsPerOp.Min <= r.NsPerOp.Median && r.NsPerOp.Median <= r.NsPerOp.Max):
			errs = append(errs, fmt.Errorf("record %d (%s %s): inconsistent ns/op %+v", i, r.Case, r.Impl, r.NsPerOp))
		}
		seen[r.Key()] = true
	}
	return errors.Join(errs...)
}

// Marshal encodes f as indented JSON with a trailing newline.
func (f *File) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteFile writes f to path as JSON.
func (f *File) WriteFile(path string) error {
	b, err := f.Marshal()
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, b, 0o644)
}

// Parse decodes and validates a results file.
func Parse(data []byte) (*File, error) {
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	// Fractions of peak follow this version's rules (each backend against
	// its own tier, GB/s against the level that holds the working set),
	// also for files written by an older tool: they are recomputed from the
	// file's own measured peaks.
	if len(f.Peak.FMA) > 0 || len(f.Peak.Copy) > 0 {
		for i := range f.Records {
			r := &f.Records[i]
			r.PeakFraction, r.PeakRef = f.Peak.Fraction(r)
		}
	}
	return &f, nil
}

// ReadFile reads and validates the results file at path.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Find returns the record with key k, or nil.
func (f *File) Find(k Key) *Record {
	for i := range f.Records {
		if f.Records[i].Key() == k {
			return &f.Records[i]
		}
	}
	return nil
}

// Tier returns the FMA peak ISA an implementation is compared with: its
// own instruction set for the SIMD backends ("avx2", "avx512", "neon") and
// the scalar Go estimate ("go") for the purego backend and pure-Go peers
// such as gonum.
func Tier(impl string) string {
	switch impl {
	case "avx2", "avx512", "neon":
		return impl
	}
	return "go"
}

// FMAPeakFor returns the FMA peak of the given ISA measured at the given
// thread count, or nil when none was measured.
func (p *Peak) FMAPeakFor(isa string, threads int) *FMAPeak {
	for i := range p.FMA {
		if e := &p.FMA[i]; e.Threads == threads && e.ISA == isa {
			return e
		}
	}
	return nil
}

// CopyPeakFor returns the copy peak of the memory level that holds a
// working set of workingSet bytes per thread, at the given thread count: the
// smallest level whose Fits is at least workingSet, DRAM when none is. For
// files without Fits, the smallest level whose measured working set is at
// least workingSet (the largest when none is). Nil when none was measured.
func (p *Peak) CopyPeakFor(workingSet int64, threads int) *CopyPeak {
	var fit, largest *CopyPeak
	haveFits := false
	for i := range p.Copy {
		haveFits = haveFits || p.Copy[i].Fits > 0
	}
	for i := range p.Copy {
		e := &p.Copy[i]
		if e.Threads != threads {
			continue
		}
		if largest == nil || e.Bytes > largest.Bytes {
			largest = e
		}
		capacity := e.Bytes
		if haveFits {
			capacity = e.Fits
		}
		if capacity >= workingSet && (fit == nil || capacity < fitCap(fit, haveFits)) {
			fit = e
		}
	}
	if fit != nil {
		return fit
	}
	if haveFits && largest != nil && largest.Fits == 0 && workingSet < largest.Bytes {
		// Past every cache level measured: DRAM when an L3 level was (or
		// the working set is as large as the DRAM set); else the level is
		// unknown (an unmeasured L3 may hold it), and so is the fraction.
		for i := range p.Copy {
			if e := &p.Copy[i]; e.Threads == threads && e.Level == "L3" {
				return largest
			}
		}
		return nil
	}
	return largest
}

func fitCap(e *CopyPeak, haveFits bool) int64 {
	if haveFits {
		return e.Fits
	}
	return e.Bytes
}

// Fraction returns r's median rate as a fraction of the matching peak of p,
// and the peak's name (see Record.PeakRef); 0 and "" when p has none.
// GFLOP/s are compared with the FMA peak of the implementation's own tier
// (Tier) at r.Threads, GB/s with the copy bandwidth of the memory level that
// holds r's working set (split among the threads).
func (p *Peak) Fraction(r *Record) (float64, string) {
	if r.Skipped != "" || r.Rate.Median <= 0 {
		return 0, ""
	}
	switch r.Unit {
	case GFLOPS:
		if e := p.FMAPeakFor(Tier(r.Impl), r.Threads); e != nil && e.GFLOPS > 0 {
			return r.Rate.Median / e.GFLOPS, fmt.Sprintf("fma/%s/%dt", e.ISA, e.Threads)
		}
	case GBps:
		if e := p.CopyPeakFor(r.WorkingSet/int64(max(r.Threads, 1)), r.Threads); e != nil && e.GBps > 0 {
			return r.Rate.Median / e.GBps, fmt.Sprintf("copy/%s/%dt", e.Level, e.Threads)
		}
	}
	return 0, ""
}
