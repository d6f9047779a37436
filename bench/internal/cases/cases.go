// Package cases is the one list of benchmark cases, shared by the bench
// tool (`go run ./bench`) and the `go test -bench` benchmarks in bench/.
//
// A case is one operation at one shape (a GEMM, a softmax over a batch of
// rows, a transformer block's forward pass, ...). It runs under every
// kernels backend the CPU has and under its peers (gonum's Sgemm for GEMM).
// The caller selects the backend (kernels.SetBackend) and the thread count
// before calling Setup; see Prepare.
package cases

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"runtime"
	"slices"

	"github.com/simdformer/simdformer/kernels"
)

// Case is one benchmark case.
type Case struct {
	Name  string // unique, e.g. "gemm/512x512x512"
	Group string // "gemm", "softmax", "layernorm", "dropout", "gelu", "transformer"
	Unit  string // schema.GFLOPS or schema.GBps
	// Work is the FLOPs or bytes (read + written) of one operation.
	Work float64
	// WorkingSet is the bytes one operation touches.
	WorkingSet int64
	// Quick marks the cases of the -quick set.
	Quick bool
	// Peers lists implementations other than the kernels backends, e.g.
	// "gonum".
	Peers []string
	// Setup allocates and fills the inputs and returns the operation to
	// time for impl (a backend name or one of Peers). For a backend, the
	// caller has already selected it. The operation must not allocate.
	Setup func(impl string) (op func(), err error)
}

// Impls returns the implementations c runs on this machine: every
// available kernels backend, then the peers.
func (c *Case) Impls() []string {
	return append(kernels.Backends(), c.Peers...)
}

// IsBackend reports whether impl is a kernels backend (as opposed to a peer).
func IsBackend(impl string) bool { return slices.Contains(kernels.Backends(), impl) }

var registry []Case

// register adds cases to the list; it panics on a duplicate name.
func register(cs ...Case) {
	for _, c := range cs {
		for _, o := range registry {
			if o.Name == c.Name {
				panic("cases: duplicate case " + c.Name)
			}
		}
		registry = append(registry, c)
	}
}

// All returns every case, in a stable order.
func All() []Case { return slices.Clone(registry) }

// Select returns the cases of the quick set (when quick) whose name matches
// the regular expression filter (all when filter is empty).
func Select(quick bool, filter string) ([]Case, error) {
	var re *regexp.Regexp
	if filter != "" {
		var err error
		if re, err = regexp.Compile(filter); err != nil {
			return nil, fmt.Errorf("-filter: %w", err)
		}
	}
	var out []Case
	for _, c := range registry {
		if quick && !c.Quick {
			continue
		}
		if re != nil && !re.MatchString(c.Name) {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// Prepare selects impl's backend (when impl is a backend) and the thread
// count, and returns a function that restores the previous state. Threads
// sets both GOMAXPROCS (so peers and the Go runtime use that many cores) and
// kernels.SetThreads.
func Prepare(impl string, threads int) (restore func(), err error) {
	prevBackend := kernels.Backend()
	prevProcs := runtime.GOMAXPROCS(0)
	prevThreads := kernels.Threads()
	if IsBackend(impl) {
		if err := kernels.SetBackend(impl); err != nil {
			return nil, err
		}
	}
	runtime.GOMAXPROCS(threads)
	kernels.SetThreads(threads)
	return func() {
		_ = kernels.SetBackend(prevBackend)
		runtime.GOMAXPROCS(prevProcs)
		kernels.SetThreads(prevThreads)
	}, nil
}

// fill returns n pseudo-random float32 in [lo, hi), the same for every run.
func fill(n int, seed uint64, lo, hi float32) []float32 {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	s := make([]float32, n)
	for i := range s {
		s[i] = lo + (hi-lo)*r.Float32()
	}
	return s
}

func errUnknownImpl(c, impl string) error {
	return fmt.Errorf("case %s: no implementation %q", c, impl)
}
