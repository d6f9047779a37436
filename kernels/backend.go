package kernels

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// impl is one backend: a table of row-level kernels. Every entry of every
// backend computes exactly the bits of the pure-Go entry (see CANONICAL.md).
// The public wrappers validate shapes, split work and call these; the
// entries themselves never allocate and may assume valid arguments.
type impl struct {
	name string

	// GEMM micro-kernel and its register-tile shape. See gemm.go.
	gemm gemmKernel

	// Elementwise, n = len(dst) (all slices have that length).
	exp              func(dst, src []float32)
	relu             func(dst, src []float32)
	reluBackward     func(dx, x, dy []float32)
	gelu             func(dst, src []float32)
	geluBackward     func(dx, x, dy []float32)
	geluTanh         func(dst, src []float32)
	geluTanhBackward func(dx, x, dy []float32)
	add              func(dst, a, b []float32)
	sub              func(dst, a, b []float32)
	mul              func(dst, a, b []float32)
	scale            func(dst, src []float32, alpha float32)
	axpy             func(alpha float32, x, y []float32)

	// Reductions with the fixed 32-lane layout.
	dot func(x, y []float32) float32
	sum func(x []float32) float32
	max func(x []float32) float32

	// Dropout on elements with flat indices lo, lo+1, ..., lo+len(dst)-1
	// (the caller guarantees no 2^32 wrap inside one call); k0 already has
	// the high index word folded in. Kept iff bits < thr; y = x * (kept ? scale : 0).
	dropout func(dst, src []float32, k0, k1, lo, thr uint32, scale float32)
	// dropoutMask writes ceil(n/64) words: bit i%64 of word i/64 is keep(lo+i);
	// bits past n in the last word are zero.
	dropoutMask func(mask []uint64, n int, k0, k1, lo, thr uint32)

	// One softmax row: cols = len(dst) = len(src); mask is nil or len cols
	// (additive); ignore is nil or len cols (true = masked); columns j >= limit
	// are masked (0 <= limit <= cols).
	softmaxRow func(dst, src, mask []float32, ignore []bool, scale float32, limit int)
	// dx = scale * y * (dy - dot(y, dy)) for one row.
	softmaxBackwardRow func(dx, y, dy []float32, scale float32)
	// Attention rows (attention.go; 0 <= limit <= len(row)): attnScoreRow sets row[j] = row[j]*scale
	// (+ add[j] when len(add) > 0) for j < limit and -Inf for j >= limit,
	// returning the NaN-ignoring max (-Inf when none); attnExpRow sets
	// row[j] = exp(row[j] - m) and returns sum32(row); attnGradRow sets
	// dp[j] = (p[j] * (dp[j] - d)) * scale.
	attnScoreRow func(row, add []float32, scale float32, limit int) float32
	attnExpRow   func(row []float32, m float32) float32
	attnGradRow  func(dp, p []float32, d, scale float32)
	// One layernorm row. gamma may be nil (no affine); beta may be nil only
	// when gamma is nil or when the layer has no bias.
	layerNormRow func(dst, src, gamma, beta []float32, eps float32) (mean, rstd float32)
	// One row of the layernorm backward: dx is overwritten; dgamma/dbeta (nil
	// allowed) are accumulated (+=).
	layerNormBackwardRow func(dx, dgamma, dbeta, dy, src, gamma []float32, mean, rstd float32)

	// One Adam/AdamW update of len(p) elements in place (adam.go).
	adamUpdate func(p, g, m, v []float32, k adamK)
}

var (
	registryMu sync.Mutex
	registry   = map[string]*impl{}
	active     atomic.Pointer[impl]
	// preference lists backend names from most to least preferred; the
	// first registered one wins at init.
	preference = []string{"avx512", "avx2", "neon", "purego"}
)

// register adds a backend. It is called from init functions only, for
// backends the running CPU supports. Entries left nil are taken from the
// pure-Go backend.
func register(b *impl) {
	registryMu.Lock()
	defer registryMu.Unlock()
	fillFrom(b, &generic)
	registry[b.name] = b
}

func init() {
	register(&generic)
	initBackends() // per-architecture dispatch files register theirs
	pick := ""
	for _, name := range preference {
		if _, ok := registry[name]; ok {
			pick = name
			break
		}
	}
	active.Store(registry[pick])
	if env := os.Getenv("SIMDFORMER_BACKEND"); env != "" {
		if err := SetBackend(env); err != nil {
			fmt.Fprintf(os.Stderr, "simdformer: SIMDFORMER_BACKEND: %v; using %q\n", err, pick)
		}
	}
}

func cur() *impl { return active.Load() }

// Backend returns the name of the backend in use: "avx512", "avx2", "neon"
// or "purego". It is what cpuid picked at init, unless SIMDFORMER_BACKEND or
// SetBackend forced another.
func Backend() string { return cur().name }

// Backends returns every backend this CPU can run, most preferred first;
// "purego" is always last.
func Backends() []string {
	registryMu.Lock()
	defer registryMu.Unlock()
	var out []string
	for _, name := range preference {
		if _, ok := registry[name]; ok {
			out = append(out, name)
		}
	}
	var extra []string
	for name := range registry {
		if !contains(preference, name) {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	return append(out, extra...)
}

// SetBackend forces the named backend for all later calls. It returns an
// error naming the valid choices when this CPU cannot run the backend.
// Every backend computes the same bits, so switching changes speed only.
// SetBackend is safe to call concurrently with kernels, but a kernel call
// already running finishes on the backend it started with.
func SetBackend(name string) error {
	registryMu.Lock()
	b, ok := registry[name]
	registryMu.Unlock()
	if !ok {
		return fmt.Errorf("kernels: backend %q is not available on this CPU (available: %s)",
			name, strings.Join(Backends(), ", "))
	}
	active.Store(b)
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
