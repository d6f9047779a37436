// Command peers measures single-precision GEMM of simdformer (every kernels
// backend of this CPU), gomlx/compute's Go backend and gonum on the same
// shapes, one thread, in interleaved rounds, and prints per-implementation
// medians and their ratio to simdformer's best backend. Run it through
// bench/peers/run.sh, which also runs OpenBLAS (numpy) and names the
// toolchain this module needs:
//
//	bench/peers/run.sh                 # every shape, 5 rounds
//	bench/peers/run.sh -rounds 3 -filter 1024
//
// It is a module of its own, outside the repository's go.work: gomlx/compute
// needs Go 1.27 built with GOEXPERIMENT=simd (without the experiment it
// silently falls back to a pure-Go GEMM), which the library's toolchain
// does not have.
//
// Speed is GFLOP (2mnk per call) per second of this process's CPU time
// (getrusage), which other processes on the cores do not inflate; wall-clock
// GFLOP/s is printed too. Each measurement repeats the call for at least
// -mintime; the median over -rounds rounds is reported.
package main

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/compute/shapes"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/simdformer/simdformer/kernels"
)

// shape is C (m×n) = op(A) (m×k) · op(B) (k×n); ta/tb: A stored k×m, B n×k.
type shape struct {
	what    string
	m, n, k int
	ta, tb  bool
}

func (s shape) String() string {
	t := map[[2]bool]string{{false, false}: "A·B", {false, true}: "A·Bᵀ", {true, false}: "Aᵀ·B", {true, true}: "Aᵀ·Bᵀ"}[[2]bool{s.ta, s.tb}]
	return fmt.Sprintf("%d×%d×%d %s", s.m, s.n, s.k, t)
}

// The shapes of a transformer's training step (a Linear layer stores W
// out×in, so its forward pass is X·Wᵀ), plus squares.
var allShapes = []shape{
	{"square", 512, 512, 512, false, false},
	{"square", 1024, 1024, 1024, false, false},
	{"Linear forward X·Wᵀ, 4096 tokens", 4096, 2048, 512, false, true},
	{"Linear input grad dY·W, 4096 tokens", 4096, 512, 2048, false, false},
	{"Linear weight grad dYᵀ·X, K = 4096 tokens", 2048, 512, 4096, true, false},
	{"Linear forward, 40 tokens", 40, 2048, 512, false, true},
	{"Linear forward, 40 tokens", 40, 512, 2048, false, true},
	{"input grad, 40 tokens", 40, 2048, 512, false, false},
	{"input grad, 40 tokens", 40, 512, 2048, false, false},
	{"weight grad, K = 40 tokens", 1536, 512, 40, true, false},
	{"attention scores Q·Kᵀ, one head", 128, 128, 64, false, true},
	{"attention P·V, one head", 128, 64, 128, false, false},
}

func main() {
	rounds := flag.Int("rounds", 5, "interleaved rounds (the median is reported)")
	minTime := flag.Duration("mintime", 200*time.Millisecond, "minimum duration of one measurement")
	filter := flag.String("filter", "", "only shapes whose name (e.g. \"40×2048×512 A·Bᵀ\") matches this regular expression")
	implFlag := flag.String("impls", "", "comma-separated implementations (default: every simdformer backend, gomlx, gonum)")
	openblas := flag.String("openblas", "", "command printing OpenBLAS's figures for one round (run.sh: scripts/bench_numpy_gemm.py 1); run once per round, its column joins the table")
	flag.Parse()
	re, err := regexp.Compile(*filter)
	if err != nil {
		fail(err)
	}
	runtime.GOMAXPROCS(1)
	kernels.SetThreads(1)

	impls := append(slices.Clone(kernels.Backends()), "gomlx", "gonum")
	if *implFlag != "" {
		impls = strings.Split(*implFlag, ",")
	}
	var shapes []shape
	for _, s := range allShapes {
		if re.MatchString(s.String()) {
			shapes = append(shapes, s)
		}
	}
	header(impls)

	gm, err := newGomlx()
	if err != nil {
		fail(err)
	}
	// Set up every (shape, impl) once, checking that the peers compute
	// the same product.
	type cell struct {
		op        func()
		cpu, wall []float64 // GFLOP per CPU-second and per second, per round
	}
	cells := make([][]*cell, len(shapes))
	for i, s := range shapes {
		a, b := fill(s.m*s.k, 1), fill(s.k*s.n, 2)
		ref := make([]float32, s.m*s.n)
		withBackend(kernels.Backends()[0], func() { simdformer(s, a, b, ref)() })
		cells[i] = make([]*cell, len(impls))
		for j, impl := range impls {
			c := make([]float32, s.m*s.n)
			var op func()
			switch {
			case impl == "gomlx":
				op, err = gm.setup(s, a, b, c)
			case impl == "gonum":
				op = gonumOp(s, a, b, c)
			case slices.Contains(kernels.Backends(), impl):
				op = simdformer(s, a, b, c)
			default:
				err = fmt.Errorf("unknown implementation %q", impl)
			}
			if err != nil {
				fail(fmt.Errorf("%v, %s: %w", s, impl, err))
			}
			withBackend(impl, op)
			if d := maxRelDiff(c, ref); d > 1e-4 {
				fail(fmt.Errorf("%v: %s differs from simdformer by %.2g (relative)", s, impl, d))
			}
			cells[i][j] = &cell{op: op}
		}
	}
	var ob [][]float64 // per shape, per round: OpenBLAS GFLOP per CPU-second
	if *openblas != "" {
		ob = make([][]float64, len(shapes))
	}
	for r := 0; r < *rounds; r++ {
		fmt.Fprintf(os.Stderr, "round %d/%d\n", r+1, *rounds)
		if *openblas != "" {
			got, err := runOpenBLAS(*openblas)
			if err != nil {
				fail(err)
			}
			for i, s := range shapes {
				if v, ok := got[s.String()]; ok {
					ob[i] = append(ob[i], v)
				}
			}
		}
		for i, s := range shapes {
			work := 2 * float64(s.m) * float64(s.n) * float64(s.k)
			for j, c := range cells[i] {
				var cpu, wall float64
				withBackend(impls[j], func() { cpu, wall = measure(c.op, *minTime) })
				c.cpu = append(c.cpu, work/cpu/1e9)
				c.wall = append(c.wall, work/wall/1e9)
			}
		}
	}

	fmt.Printf("\nGFLOP per CPU-second, median of %d rounds (wall-clock GFLOP/s in brackets); ratio = simdformer's best backend / impl\n\n", *rounds)
	fmt.Printf("| %-44s |", "shape")
	for _, impl := range impls {
		fmt.Printf(" %-16s |", impl)
	}
	peers := []string{"gomlx", "gonum"}
	if ob != nil {
		fmt.Printf(" %-16s |", "openblas")
		peers = append(peers, "openblas")
	}
	fmt.Printf(" best simdformer ÷ %s |\n|%s|", strings.Join(peers, " | ÷ "), strings.Repeat("-", 46))
	for range impls {
		fmt.Printf("%s|", strings.Repeat("-", 18))
	}
	if ob != nil {
		fmt.Printf("%s|", strings.Repeat("-", 18))
	}
	fmt.Println(strings.Repeat("---|", len(peers)))
	for i, s := range shapes {
		fmt.Printf("| %-44s |", fmt.Sprintf("%v (%s)", s, s.what))
		best, peer := 0.0, map[string]float64{}
		for j, impl := range impls {
			cpu, wall := median(cells[i][j].cpu), median(cells[i][j].wall)
			fmt.Printf(" %6.1f (%6.1f)  |", cpu, wall)
			if slices.Contains(kernels.Backends(), impl) {
				best = max(best, cpu)
			} else {
				peer[impl] = cpu
			}
		}
		if ob != nil {
			v := median(ob[i])
			fmt.Printf(" %6.1f           |", v)
			peer["openblas"] = v
		}
		for _, p := range peers {
			if v, ok := peer[p]; ok && v > 0 && best > 0 {
				fmt.Printf(" %.2f |", best/v)
			} else {
				fmt.Printf(" – |")
			}
		}
		fmt.Println()
	}
}

// runOpenBLAS runs cmd (split on spaces) and reads its table rows
// "| <shape> | <GFLOP per CPU-second> (<wall>) |".
func runOpenBLAS(cmd string) (map[string]float64, error) {
	args := strings.Fields(cmd)
	c := exec.Command(args[0], args[1:]...)
	c.Stderr = os.Stderr
	c.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS=1")
	out, err := c.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cmd, err)
	}
	got := map[string]float64{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, "|")
		if len(f) < 3 {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(strings.TrimSpace(f[2]), &v); err == nil {
			got[strings.TrimSpace(f[1])] = v
		}
	}
	if len(got) == 0 {
		return nil, fmt.Errorf("%s printed no figures", cmd)
	}
	return got, nil
}

func header(impls []string) {
	exp := "(none)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "GOEXPERIMENT" {
				exp = s.Value
			}
		}
	}
	fmt.Printf("go %s, GOEXPERIMENT=%s, %s/%s, kernels backends %v (default %s), implementations %v, 1 thread\n",
		runtime.Version(), exp, runtime.GOOS, runtime.GOARCH, kernels.Backends(), kernels.Backend(), impls)
	if !strings.Contains(exp, "simd") && slices.Contains(impls, "gomlx") {
		fmt.Println("WARNING: built without GOEXPERIMENT=simd: gomlx/compute uses its pure-Go GEMM (run through run.sh)")
	}
}

// withBackend runs f with the kernels backend be selected (any backend when
// be is not one).
func withBackend(be string, f func()) {
	if !slices.Contains(kernels.Backends(), be) {
		f()
		return
	}
	prev := kernels.Backend()
	if err := kernels.SetBackend(be); err != nil {
		fail(err)
	}
	f()
	if err := kernels.SetBackend(prev); err != nil {
		fail(err)
	}
}

func simdformer(s shape, a, b, c []float32) func() {
	lda, ldb := s.k, s.n
	if s.ta {
		lda = s.m
	}
	if s.tb {
		ldb = s.k
	}
	return func() { kernels.Gemm(s.ta, s.tb, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c, s.n) }
}

func gonumOp(s shape, a, b, c []float32) func() {
	ta, tb := blas.NoTrans, blas.NoTrans
	lda, ldb := s.k, s.n
	if s.ta {
		ta, lda = blas.Trans, s.m
	}
	if s.tb {
		tb, ldb = blas.Trans, s.k
	}
	var g gonum.Implementation
	return func() { g.Sgemm(ta, tb, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c, s.n) }
}

// gomlx is gomlx/compute's Go backend with one worker: a graph of two
// float32 parameters and one DotGeneral per shape, compiled once, inputs
// uploaded once; the timed call is Execute plus handing the output buffer
// back (Finalize), as its own DotGeneral benchmark does.
type gomlx struct{ be compute.Backend }

func newGomlx() (*gomlx, error) {
	be, err := gobackend.New("parallelism=1")
	if err != nil {
		return nil, err
	}
	return &gomlx{be: be}, nil
}

func (g *gomlx) setup(s shape, a, b, c []float32) (func(), error) {
	as, bs := []int{s.m, s.k}, []int{s.k, s.n}
	ac, bc := 1, 0 // contracting axes
	if s.ta {
		as, ac = []int{s.k, s.m}, 0
	}
	if s.tb {
		bs, bc = []int{s.n, s.k}, 1
	}
	ash, bsh := shapes.Make(dtypes.Float32, as...), shapes.Make(dtypes.Float32, bs...)
	bld := g.be.Builder(fmt.Sprintf("gemm_%d_%d_%d", s.m, s.n, s.k))
	fn := bld.Main()
	pa, err := fn.Parameter("a", ash, nil)
	if err != nil {
		return nil, err
	}
	pb, err := fn.Parameter("b", bsh, nil)
	if err != nil {
		return nil, err
	}
	out, err := fn.DotGeneral(pa, []int{ac}, nil, pb, []int{bc}, nil, compute.DotGeneralConfig{})
	if err != nil {
		return nil, err
	}
	if err := fn.Return([]compute.Value{out}, nil); err != nil {
		return nil, err
	}
	exe, err := bld.Compile()
	if err != nil {
		return nil, err
	}
	ba, err := g.be.BufferFromFlatData(0, a, ash)
	if err != nil {
		return nil, err
	}
	bb, err := g.be.BufferFromFlatData(0, b, bsh)
	if err != nil {
		return nil, err
	}
	inputs := []compute.Buffer{ba, bb}
	// One call to fetch the result for the comparison.
	outs, err := exe.Execute(inputs, nil, 0)
	if err != nil {
		return nil, err
	}
	flat, err := outs[0].Data()
	if err != nil {
		return nil, err
	}
	got, ok := flat.([]float32)
	if !ok || len(got) != len(c) {
		return nil, fmt.Errorf("gomlx output %T of length %d, want []float32 of %d", flat, len(got), len(c))
	}
	copy(c, got)
	if err := outs[0].Finalize(); err != nil {
		return nil, err
	}
	return func() {
		outs, err := exe.Execute(inputs, nil, 0)
		if err != nil {
			fail(err)
		}
		for _, o := range outs {
			if err := o.Finalize(); err != nil {
				fail(err)
			}
		}
	}, nil
}

// measure runs op repeatedly for at least minTime and returns the CPU time
// and the wall time of one call, in seconds.
func measure(op func(), minTime time.Duration) (cpu, wall float64) {
	op() // warm
	n := 1
	for {
		c0, t0 := cpuTime(), time.Now()
		for i := 0; i < n; i++ {
			op()
		}
		w := time.Since(t0)
		c := cpuTime() - c0
		if w >= minTime {
			return c / float64(n), w.Seconds() / float64(n)
		}
		n = max(2*n, int(float64(n)*1.2*minTime.Seconds()/max(w.Seconds(), 1e-6)))
	}
}

func cpuTime() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fail(err)
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)*1e-6
}

func median(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func fill(n int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

func maxRelDiff(got, want []float32) float64 {
	scale, d := 0.0, 0.0
	for i := range want {
		scale = max(scale, math.Abs(float64(want[i])))
		d = max(d, math.Abs(float64(got[i])-float64(want[i])))
	}
	return d / max(scale, 1e-30)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "peers:", err)
	os.Exit(1)
}
