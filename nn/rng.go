package nn

import (
	"hash/fnv"
	"math/rand/v2"
	"sync"
)

// The global generator: parameter initialisation and the seeds of new
// dropout sites draw from it, so ManualSeed + the same construction order
// reproduces a model exactly. It is seeded with 0 at start.
var (
	rngMu sync.Mutex
	rng   = rand.New(rand.NewPCG(0, 0x5eed))
)

// ManualSeed reseeds the global generator that parameter initialisation and
// new dropout sites draw from (like torch.manual_seed). Modules built after
// it, in the same order, get the same weights and dropout seeds.
func ManualSeed(seed uint64) {
	rngMu.Lock()
	rng = rand.New(rand.NewPCG(seed, 0x5eed))
	rngMu.Unlock()
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

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// CallSeed is the kernel seed of call number counter of the dropout site
// with seed site: splitmix64(site ^ splitmix64(counter)).
func CallSeed(site, counter uint64) uint64 {
	return splitmix64(site ^ splitmix64(counter))
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
// state_dict path (site seed = splitmix64(seed ^ fnv64a(path))) and resets
// its call counter, so a run is reproducible from one seed whatever order
// the model was built in.
func SeedDropout(m Module, seed uint64) {
	Walk(m, func(path string, m Module) {
		if s, ok := m.(Stochastic); ok {
			h := fnv.New64a()
			h.Write([]byte(path))
			s.Reseed(splitmix64(seed ^ h.Sum64()))
		}
	})
}
