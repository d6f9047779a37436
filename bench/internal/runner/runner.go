// Package runner times benchmark cases: a warm-up, a calibration of how many
// operations make one repeat, then repeats summarised as median, min and max.
package runner

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/simdformer/simdformer/bench/internal/cases"
	"github.com/simdformer/simdformer/bench/internal/schema"
)

// Options controls the timing.
type Options struct {
	Threads []int         // thread counts, e.g. {1, GOMAXPROCS}
	Reps    int           // timed repeats per measurement (fewer when Budget is exceeded)
	MinTime time.Duration // minimum duration of one repeat
	// Budget caps the timed part of one measurement: slow operations get
	// fewer repeats (at least one).
	Budget time.Duration
	// MaxOp skips a measurement whose warm-up operation took longer.
	MaxOp time.Duration
	// Impls, when not empty, restricts the implementations measured.
	Impls []string
	// Progress receives a progress line per measurement (nil: none).
	Progress io.Writer
	// OnRecord, when not nil, is called by Run with each record (measured
	// or skipped) as soon as it is complete, peak fraction included.
	OnRecord func(*schema.Record)
}

// Defaults for a normal run.
func Defaults() Options {
	return Options{
		Threads: threadCounts(),
		Reps:    5,
		MinTime: 40 * time.Millisecond,
		Budget:  1500 * time.Millisecond,
		MaxOp:   4 * time.Second,
	}
}

// Quick returns options for a sub-minute run.
func Quick() Options {
	o := Defaults()
	o.Reps = 3
	o.MinTime = 15 * time.Millisecond
	o.Budget = 300 * time.Millisecond
	o.MaxOp = 300 * time.Millisecond
	return o
}

// threadCounts is {1, GOMAXPROCS}, or {1} on one core.
func threadCounts() []int {
	if p := runtime.GOMAXPROCS(0); p > 1 {
		return []int{1, p}
	}
	return []int{1}
}

type job struct {
	c       *cases.Case
	impl    string
	threads int
}

// Run measures every case under each of its implementations at each thread
// count, and returns one record per measurement, with its fraction of peak
// filled in from p (which may be nil).
func Run(cs []cases.Case, opt Options, p *schema.Peak) []schema.Record {
	var jobs []job
	for i := range cs {
		for _, impl := range cs[i].Impls() {
			if len(opt.Impls) > 0 && !slices.Contains(opt.Impls, impl) {
				continue
			}
			for _, t := range opt.Threads {
				jobs = append(jobs, job{&cs[i], impl, t})
			}
		}
	}
	pr := newProgress(opt.Progress, len(jobs))
	var recs []schema.Record
	// best[impl] is the highest GFLOP/s seen so far: a slow implementation
	// (pure Go) is skipped on big cases without paying for a warm-up that
	// would take longer than MaxOp.
	best := map[string]float64{}
	for _, j := range jobs {
		pr.step(fmt.Sprintf("%s %s %dt", j.c.Name, j.impl, j.threads))
		var r schema.Record
		if est := estimate(j.c, best[j.impl]); opt.MaxOp > 0 && est > opt.MaxOp {
			r = schema.Record{Case: j.c.Name, Group: j.c.Group, Impl: j.impl, Threads: j.threads,
				Unit: j.c.Unit, Work: j.c.Work, WorkingSet: j.c.WorkingSet,
				Skipped: fmt.Sprintf("estimated %v per operation, over the %v limit", est.Round(time.Millisecond), opt.MaxOp)}
		} else {
			r = Measure(j.c, j.impl, j.threads, opt)
			if r.Skipped == "" && r.Unit == schema.GFLOPS {
				best[j.impl] = max(best[j.impl], r.Rate.Max)
			}
			if p != nil {
				r.PeakFraction, r.PeakRef = p.Fraction(&r)
			}
		}
		recs = append(recs, r)
		if opt.OnRecord != nil {
			opt.OnRecord(&recs[len(recs)-1])
		}
	}
	pr.done()
	return recs
}

// estimate predicts the time of one operation of c from the best GFLOP/s
// its implementation reached so far (0 when unknown).
func estimate(c *cases.Case, bestGFLOPS float64) time.Duration {
	if c.Unit != schema.GFLOPS || bestGFLOPS <= 0 {
		return 0
	}
	return time.Duration(c.Work / bestGFLOPS) // FLOP / (FLOP/ns) = ns
}

// Measure times one case under impl at a thread count.
func Measure(c *cases.Case, impl string, threads int, opt Options) (rec schema.Record) {
	rec = schema.Record{
		Case: c.Name, Group: c.Group, Impl: impl, Threads: threads,
		Unit: c.Unit, Work: c.Work, WorkingSet: c.WorkingSet,
	}
	restore, err := cases.Prepare(impl, threads)
	if err != nil {
		rec.Skipped = err.Error()
		return rec
	}
	defer restore()
	defer func() {
		if e := recover(); e != nil {
			rec = schema.Record{Case: c.Name, Group: c.Group, Impl: impl, Threads: threads,
				Unit: c.Unit, Work: c.Work, WorkingSet: c.WorkingSet, Skipped: fmt.Sprintf("panic: %v", e)}
		}
	}()
	op, err := c.Setup(impl)
	if err != nil {
		rec.Skipped = err.Error()
		return rec
	}
	runtime.GC()
	ns, iters, skip := Time(op, opt)
	if skip != "" {
		rec.Skipped = skip
		return rec
	}
	rec.Reps, rec.Iters = len(ns), iters
	rec.NsPerOp = Summarize(ns)
	rec.Rate = schema.Stats{
		Median: c.Work / rec.NsPerOp.Median, // work per ns = G-work per s
		Min:    c.Work / rec.NsPerOp.Max,
		Max:    c.Work / rec.NsPerOp.Min,
	}
	return rec
}

// Time runs op once to warm up, calibrates the operations per repeat, and
// returns the ns per operation of each repeat. skip is not empty when the
// warm-up exceeded opt.MaxOp.
func Time(op func(), opt Options) (nsPerOp []float64, iters int, skip string) {
	start := time.Now()
	op()
	t0 := time.Since(start)
	if opt.MaxOp > 0 && t0 > opt.MaxOp {
		return nil, 0, fmt.Sprintf("one operation took %v, over the %v limit", t0.Round(time.Millisecond), opt.MaxOp)
	}
	// Calibrate: grow iters until a run takes a quarter of MinTime.
	iters = 1
	per := t0
	for per*time.Duration(iters) < opt.MinTime/4 {
		iters = int(min(int64(iters)*8, int64(opt.MinTime/4/max(per, time.Nanosecond))+1))
		d := timeN(op, iters)
		per = d / time.Duration(iters)
	}
	iters = max(1, int(opt.MinTime/max(per, time.Nanosecond)))
	reps := max(opt.Reps, 1)
	if opt.Budget > 0 {
		if fit := int(opt.Budget / max(per*time.Duration(iters), time.Nanosecond)); fit < reps {
			reps = max(fit, 1)
		}
	}
	nsPerOp = make([]float64, reps)
	for r := range nsPerOp {
		nsPerOp[r] = float64(timeN(op, iters).Nanoseconds()) / float64(iters)
	}
	return nsPerOp, iters, ""
}

func timeN(op func(), n int) time.Duration {
	start := time.Now()
	for i := 0; i < n; i++ {
		op()
	}
	return time.Since(start)
}

// Summarize returns the median, min and max of xs (which it sorts).
func Summarize(xs []float64) schema.Stats {
	if len(xs) == 0 {
		return schema.Stats{}
	}
	slices.Sort(xs)
	n := len(xs)
	med := xs[n/2]
	if n%2 == 0 {
		med = (xs[n/2-1] + xs[n/2]) / 2
	}
	return schema.Stats{Median: med, Min: xs[0], Max: xs[n-1]}
}

// progress prints "[ i/n] elapsed what" lines; on a terminal they overwrite
// each other.
type progress struct {
	w     io.Writer
	tty   bool
	n, i  int
	start time.Time
}

func newProgress(w io.Writer, n int) *progress {
	p := &progress{w: w, n: n, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) step(what string) {
	p.i++
	if p.w == nil {
		return
	}
	line := fmt.Sprintf("[%*d/%d %5.1fs] %s", len(fmt.Sprint(p.n)), p.i, p.n, time.Since(p.start).Seconds(), what)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
}

func (p *progress) done() {
	if p.w != nil && p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// Line formats a one-line description of a record, for logs.
func Line(r *schema.Record) string {
	if r.Skipped != "" {
		return fmt.Sprintf("%s %s %dt: skipped (%s)", r.Case, r.Impl, r.Threads, r.Skipped)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %dt: %.3g %s", r.Case, r.Impl, r.Threads, r.Rate.Median, r.Unit)
	if r.PeakFraction > 0 {
		fmt.Fprintf(&b, " (%.0f%% of %s)", 100*r.PeakFraction, r.PeakRef)
	}
	return b.String()
}
