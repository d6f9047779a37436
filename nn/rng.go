package nn

import (
	"hash/fnv"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/simdformer/simdformer/kernels"
)

// The global generator: parameter initialisation and the seeds of new
// dropout sites draw from it, so ManualSeed + the same construction order
// reproduces a model exactly. It is seeded with 0 at start.
var (
	rngMu sync.Mutex
	rng   = rand.New(rand.NewPCG(0, 0x5eed))
	// nilStep is the dropout step of calls through a nil *Graph.
	nilStep atomic.Uint64
)

// ManualSeed reseeds the global generator that parameter initialisation and
// new dropout sites draw from (like torch.manual_seed). Modules built after
// it, in the same order, get the same weights and dropout seeds. It also
// restarts the dropout step of nil-graph calls (see DropoutSite.Next).
func ManualSeed(seed uint64) {
	rngMu.Lock()
	rng = rand.New(rand.NewPCG(seed, 0x5eed))
	rngMu.Unlock()
	nilStep.Store(0)
}

func fillUniform(dst []float32, lo, hi float32) {
	rngMu.Lock()
	defer rngMu.Unlock()
	for i := range dst {
		dst[i] = lo + float32((hi-lo)*float32(rng.Float64()))
	}
}

func fillNormal(dst []float32, mean, std float32) {
	rngMu.Lock()
	defer rngMu.Unlock()
	for i := range dst {
		dst[i] = mean + float32(std*float32(rng.NormFloat64()))
	}
}

func nextSeed() uint64 {
	rngMu.Lock()
	defer rngMu.Unlock()
	return rng.Uint64()
}

// MaskSeed is the kernel seed of a dropout mask: the call-th active call
// (from 0) of the site with seed site during the pass at step of a graph
// whose dropout seed is stream:
//
//	SplitMix64(site ^ stream·0x9e3779b97f4a7c15 ^ SplitMix64(step + call·2³²))
//
// Stream 0 (a graph's default) leaves the site's stream as it is. The mask
// of element i is then kernels.DropoutKeep(MaskSeed(…), i, p).
func MaskSeed(site, stream, step uint64, call uint32) uint64 {
	return kernels.SplitMix64(site ^ stream*0x9e3779b97f4a7c15 ^ kernels.SplitMix64(step+uint64(call)<<32))
}

// Stochastic is implemented by modules that draw dropout masks
// (everything that embeds DropoutSite).
type Stochastic interface {
	SetAlwaysOn(on bool)
	Reseed(seed uint64)
}

// SetMCDropout sets AlwaysOn on every dropout site of m: with on, dropout
// stays active in Eval mode (Monte-Carlo dropout at inference).
func SetMCDropout(m Module, on bool) {
	Walk(m, func(_ string, m Module) {
		if s, ok := m.(Stochastic); ok {
			s.SetAlwaysOn(on)
		}
	})
}

// SeedDropout reseeds every dropout site of m from seed and the site's
// state_dict path (site seed = SplitMix64(seed ^ fnv64a(path))), so a run
// is reproducible from one seed whatever order the model was built in.
func SeedDropout(m Module, seed uint64) {
	Walk(m, func(path string, m Module) {
		if s, ok := m.(Stochastic); ok {
			h := fnv.New64a()
			h.Write([]byte(path))
			s.Reseed(kernels.SplitMix64(seed ^ h.Sum64()))
		}
	})
}
