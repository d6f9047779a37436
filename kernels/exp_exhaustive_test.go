package kernels

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"sync"
	"testing"
)

// expUlpBound is the documented accuracy of the canonical exp on
// [expLo, expHi] against float64 math.Exp (CANONICAL.md, exp32).
const expUlpBound = 1.5

// TestExpExhaustive feeds all 2^32 float32 bit patterns to every backend's
// exp and requires the pure-Go bits from each, and checks the pure-Go exp
// itself: within expUlpBound ulp of math.Exp on [expLo, expHi], exactly +0
// below expLo, exp32(expHi) above expHi (+Inf included), NaN for NaN.
//
// It takes minutes (the pure-Go exp with exact fma32 costs ~30 ns), so it
// runs only with SIMDFORMER_EXHAUSTIVE=1:
//
//	SIMDFORMER_EXHAUSTIVE=1 go test -run TestExpExhaustive -v -timeout 2h ./kernels/
func TestExpExhaustive(t *testing.T) {
	if os.Getenv("SIMDFORMER_EXHAUSTIVE") != "1" {
		t.Skip("set SIMDFORMER_EXHAUSTIVE=1 to check exp on all 2^32 inputs")
	}
	var backends []*impl
	names := Backends()
	registryMu.Lock()
	for _, name := range names {
		if name != "purego" {
			backends = append(backends, registry[name])
		}
	}
	registryMu.Unlock()
	t.Logf("backends compared with purego: %d", len(backends))

	const chunk = 1 << 16
	const chunks = 1 << 32 / chunk
	sat := exp32(expHi)

	type result struct {
		maxUlp      float64
		maxAt       uint32
		over1       int
		mismatches  int
		firstBad    string
		accuracyBad int
	}
	var (
		mu   sync.Mutex
		tot  result
		next = make(chan int, 64)
		wg   sync.WaitGroup
	)
	workers := runtime.GOMAXPROCS(0)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src := make([]float32, chunk)
			want := make([]float32, chunk)
			got := make([]float32, chunk)
			var r result
			for c := range next {
				base := uint32(c) * chunk
				for i := range src {
					src[i] = math.Float32frombits(base + uint32(i))
				}
				generic.exp(want, src)
				for _, b := range backends {
					b.exp(got, src)
					for i := range got {
						if !sameBits(got[i], want[i]) {
							if r.mismatches == 0 {
								r.firstBad = b.name + ": exp(" + fmtBits(src[i]) + ") = " + fmtBits(got[i]) + ", purego " + fmtBits(want[i])
							}
							r.mismatches++
						}
					}
				}
				for i, x := range src {
					y := want[i]
					switch {
					case x != x:
						if y == y {
							r.accuracyBad++
						}
					case x < expLo:
						if math.Float32bits(y) != 0 {
							r.accuracyBad++
						}
					case x > expHi:
						if y != sat {
							r.accuracyBad++
						}
					default:
						u := ulpDiff(y, math.Exp(float64(x)))
						if u > r.maxUlp {
							r.maxUlp, r.maxAt = u, math.Float32bits(x)
						}
						if u > 1 {
							r.over1++
						}
						if u > expUlpBound {
							r.accuracyBad++
						}
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if r.maxUlp > tot.maxUlp {
				tot.maxUlp, tot.maxAt = r.maxUlp, r.maxAt
			}
			tot.over1 += r.over1
			tot.accuracyBad += r.accuracyBad
			if tot.mismatches == 0 {
				tot.firstBad = r.firstBad
			}
			tot.mismatches += r.mismatches
		}()
	}
	for c := 0; c < chunks; c++ {
		next <- c
	}
	close(next)
	wg.Wait()

	t.Logf("purego exp on [%v, %v]: max %.4f ulp at x = %v (%#08x); %d inputs above 1 ulp",
		expLo, expHi, tot.maxUlp, math.Float32frombits(tot.maxAt), tot.maxAt, tot.over1)
	if tot.mismatches != 0 {
		t.Errorf("%d backend results differ from purego; first: %s", tot.mismatches, tot.firstBad)
	}
	if tot.accuracyBad != 0 {
		t.Errorf("%d purego results outside the documented behaviour (bound %.1f ulp)", tot.accuracyBad, expUlpBound)
	}
}

func fmtBits(x float32) string { return fmt.Sprintf("%v (%#08x)", x, math.Float32bits(x)) }
