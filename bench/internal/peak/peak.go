package peak

import (
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/simdformer/simdformer/bench/internal/schema"
)

// fmaKernel issues flops FLOP per iteration of run.
type fmaKernel struct {
	isa      string
	flops    int
	run      func(iters int)
	estimate bool
}

// copyKernel copies src to dst, len(src) rounded down to a multiple of block.
type copyKernel struct {
	isa   string
	block int
	run   func(dst, src []float32)
}

// The kernels of this architecture, registered by the per-architecture
// files; the pure-Go ones are always there.
var (
	fmaKernels  []fmaKernel
	copyKernels = []copyKernel{{isa: "go", block: 1, run: func(dst, src []float32) { copy(dst, src) }}}
	// clockKernel runs 16 dependent one-cycle additions per iteration; nil
	// when this build has no assembly kernels.
	clockKernel func(iters int) uint64
)

// goFMAChains is the number of independent chains of the scalar Go estimate.
const goFMAChains = 8

var sink float32

// fmaGo is the scalar Go FMA estimate: 8 independent multiply-add chains.
// The compiler may or may not fuse them; either way one iteration counts
// 16 FLOP.
func fmaGo(iters int) {
	var a0, a1, a2, a3, a4, a5, a6, a7 float32
	x, y := float32(0.5), float32(1)
	for i := 0; i < iters; i++ {
		a0 = a0*x + y
		a1 = a1*x + y
		a2 = a2*x + y
		a3 = a3*x + y
		a4 = a4*x + y
		a5 = a5*x + y
		a6 = a6*x + y
		a7 = a7*x + y
	}
	sink = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7
}

// ISAs returns the FMA peaks Measure takes: "go" (the scalar estimate, the
// purego backend's tier) and then the SIMD kernels this build and CPU can
// run, widest last.
func ISAs() []string {
	out := []string{"go"}
	for _, k := range fmaKernels {
		out = append(out, k.isa)
	}
	return out
}

// Options controls a measurement.
type Options struct {
	Threads []int         // thread counts to measure, e.g. {1, runtime.GOMAXPROCS(0)}
	Reps    int           // repeats per measurement; the best is kept
	MinTime time.Duration // minimum duration of one repeat
	Cache   schema.Cache  // cache sizes; 0 entries get defaults
	// Progress, if not nil, is called before each measurement.
	Progress func(what string)
}

func (o *Options) fill() {
	if len(o.Threads) == 0 {
		o.Threads = []int{1}
	}
	if o.Reps < 1 {
		o.Reps = 3
	}
	if o.MinTime <= 0 {
		o.MinTime = 20 * time.Millisecond
	}
}

func (o *Options) progress(format string, args ...any) {
	if o.Progress != nil {
		o.Progress(fmt.Sprintf(format, args...))
	}
}

// Measure measures the clock, the FMA peak of every available ISA and the
// copy bandwidth at each memory level, at every thread count of opt.
func Measure(opt Options) schema.Peak {
	opt.fill()
	var p schema.Peak
	if clockKernel != nil {
		opt.progress("clock")
		p.ClockGHz = ClockGHz(opt.Reps, opt.MinTime)
	}
	// The scalar estimate is the peak of the purego backend's tier (and of
	// pure-Go peers); the SIMD kernels are each their own backend's.
	kerns := append([]fmaKernel{{isa: "go", flops: 2 * goFMAChains, run: fmaGo, estimate: true}}, fmaKernels...)
	for _, t := range opt.Threads {
		for _, k := range kerns {
			opt.progress("fma %s, %d thread(s)", k.isa, t)
			rate := best(opt.Reps, opt.MinTime, t, k.run)
			p.FMA = append(p.FMA, schema.FMAPeak{ISA: k.isa, Threads: t, GFLOPS: rate * float64(k.flops) / 1e9, Estimate: k.estimate})
		}
	}
	for _, t := range opt.Threads {
		for _, lv := range Levels(opt.Cache, t) {
			var bestPeak schema.CopyPeak
			for _, k := range copyKernels {
				opt.progress("copy %s %s, %d thread(s)", lv.Name, k.isa, t)
				gbps := copyRate(opt, k, lv.Bytes, t)
				if gbps > bestPeak.GBps {
					bestPeak = schema.CopyPeak{Level: lv.Name, Bytes: lv.Bytes, Fits: lv.Fits, ISA: k.isa, Threads: t, GBps: gbps}
				}
			}
			p.Copy = append(p.Copy, bestPeak)
		}
	}
	return p
}

// ClockGHz estimates the core clock from the dependent addition chain: one
// addition per cycle. It returns 0 when this build has no assembly kernels.
func ClockGHz(reps int, minTime time.Duration) float64 {
	if clockKernel == nil {
		return 0
	}
	rate := best(reps, minTime, 1, func(iters int) { clockKernel(iters) })
	return rate * 16 / 1e9
}

// Level is a copy working set sized to fit one memory level.
type Level struct {
	Name  string // "L1", "L2", "L3", "DRAM"
	Bytes int64  // source plus destination, per thread
	// Fits is the level's capacity per thread: the largest working set whose
	// results are compared with this level's bandwidth (0 for DRAM).
	Fits int64
}

// Levels returns the copy working sets per thread for a thread count:
// half of L1D, half of L2, a share of L3 that fits with the other threads
// (at most 64 MiB, and omitted when not clearly above L2), and a DRAM set of
// 4× L3 in total, clamped to [64 MiB, 512 MiB] and split among the threads
// (at least 8 MiB each). Unknown L1D and L2 sizes get typical defaults; an
// unknown L3 gets no level, and then results between L2 and the DRAM set
// get no fraction of peak (schema.Peak.CopyPeakFor).
func Levels(c schema.Cache, threads int) []Level {
	l1, l2, l3 := int64(c.L1D), int64(c.L2), int64(c.L3)
	if l1 <= 0 {
		l1 = 32 << 10
	}
	if l2 <= l1 {
		l2 = 1 << 20
	}
	if l3 < 0 {
		l3 = 0
	}
	threads = max(threads, 1)
	lv := []Level{{"L1", l1 / 2, l1}, {"L2", l2 / 2, l2}}
	if share := min(l3/2/int64(threads), 64<<20); share >= 2*l2 {
		lv = append(lv, Level{"L3", share, l3 / int64(threads)})
	}
	dram := max(min(4*l3, 512<<20), 64<<20) / int64(threads)
	lv = append(lv, Level{"DRAM", max(dram, 8<<20), 0})
	for i := range lv {
		lv[i].Bytes &^= 511 // two buffers, each a multiple of 256 bytes (64 floats)
	}
	return lv
}

func copyRate(opt Options, k copyKernel, bytes int64, threads int) float64 {
	n := int(bytes / 8) // floats per buffer
	type bufs struct{ src, dst []float32 }
	b := make([]bufs, threads)
	for i := range b {
		b[i] = bufs{make([]float32, n), make([]float32, n)}
		for j := range b[i].src {
			b[i].src[j] = float32(j)
		}
	}
	var mu sync.Mutex
	next := 0
	rate := best(opt.Reps, opt.MinTime, threads, func(iters int) {
		mu.Lock()
		my := b[next%threads]
		next++
		mu.Unlock()
		for i := 0; i < iters; i++ {
			k.run(my.dst, my.src)
		}
	})
	moved := float64(n/k.block*k.block) * 8 // bytes read + written per copy
	return rate * moved / 1e9
}

// best returns the highest rate, in iterations per second summed over
// threads, of running op(iters) on threads goroutines at once (each locked
// to an OS thread), over reps repeats of at least minTime each.
func best(reps int, minTime time.Duration, threads int, op func(iters int)) float64 {
	iters := calibrate(minTime, op)
	var rates []float64
	for r := 0; r < reps; r++ {
		d := runParallel(threads, iters, op)
		rates = append(rates, float64(threads*iters)/d.Seconds())
	}
	sort.Float64s(rates)
	return rates[len(rates)-1]
}

// calibrate finds an iteration count that takes about minTime on one thread.
func calibrate(minTime time.Duration, op func(iters int)) int {
	iters := 1
	for {
		start := time.Now()
		op(iters)
		d := time.Since(start)
		if d >= minTime/4 || iters >= math.MaxInt/8 {
			scaled := float64(iters) * float64(minTime) / float64(max(d, time.Microsecond))
			return max(1, int(scaled))
		}
		iters *= 4
	}
}

func runParallel(threads, iters int, op func(iters int)) time.Duration {
	if threads <= 1 {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		start := time.Now()
		op(iters)
		return time.Since(start)
	}
	var ready, done sync.WaitGroup
	startCh := make(chan struct{})
	ready.Add(threads)
	done.Add(threads)
	for t := 0; t < threads; t++ {
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			ready.Done()
			<-startCh
			op(iters)
			done.Done()
		}()
	}
	ready.Wait()
	start := time.Now()
	close(startCh)
	done.Wait()
	return time.Since(start)
}
