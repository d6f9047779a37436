package kernels

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

func TestThreads(t *testing.T) {
	defer SetThreads(0)
	p := runtime.GOMAXPROCS(0)
	if got := Threads(); got != p {
		t.Errorf("default Threads() = %d, want GOMAXPROCS %d", got, p)
	}
	SetThreads(1)
	if got := Threads(); got != 1 {
		t.Errorf("after SetThreads(1), Threads() = %d", got)
	}
	SetThreads(p + 5)
	if got := Threads(); got != p {
		t.Errorf("after SetThreads(%d), Threads() = %d, want it capped at %d", p+5, got, p)
	}
	SetThreads(-3)
	if got := Threads(); got != p {
		t.Errorf("after SetThreads(-3), Threads() = %d, want %d", got, p)
	}
	restore := setMaxWorkers(7)
	if got := maxWorkers(); got != 7 {
		t.Errorf("setMaxWorkers(7): maxWorkers() = %d", got)
	}
	restore()
	if workersForced() {
		t.Error("restore did not clear the forced worker count")
	}
}

// TestParallelRange checks that the ranges cover [0, n) exactly once, respect
// the grain and the worker count, for many n, grains and worker counts.
func TestParallelRange(t *testing.T) {
	for _, w := range []int{1, 2, 3, 8} {
		restore := setMaxWorkers(w)
		for _, n := range []int{0, 1, 2, 7, 64, 1000, 4099} {
			for _, grain := range []int{0, 1, 3, 100, 5000} {
				hits := make([]int32, n)
				var calls atomic.Int32
				var mu sync.Mutex
				var short []string
				parallelRange(n, grain, func(lo, hi int) {
					calls.Add(1)
					if hi-lo < max(grain, 1) && hi != n {
						mu.Lock()
						short = append(short, fmt.Sprintf("[%d,%d)", lo, hi))
						mu.Unlock()
					}
					for i := lo; i < hi; i++ {
						atomic.AddInt32(&hits[i], 1)
					}
				})
				for i, h := range hits {
					if h != 1 {
						t.Fatalf("w=%d n=%d grain=%d: index %d covered %d times", w, n, grain, i, h)
					}
				}
				if len(short) > 0 {
					t.Errorf("w=%d n=%d grain=%d: ranges shorter than the grain: %v", w, n, grain, short)
				}
				if c := int(calls.Load()); c > w {
					t.Errorf("w=%d n=%d grain=%d: %d ranges, more than the worker count", w, n, grain, c)
				}
			}
		}
		restore()
	}
}

// TestParallelRangeNested calls parallelRange (and Gemm) from inside
// parallelRange, and from several goroutines at once: it must neither
// deadlock nor lose work.
func TestParallelRangeNested(t *testing.T) {
	restore := setMaxWorkers(3)
	defer restore()
	var total atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			parallelRange(6, 1, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					parallelRange(100, 10, func(lo, hi int) { total.Add(int64(hi - lo)) })
					a, b, c := make([]float32, 4*4), make([]float32, 4*4), make([]float32, 4*4)
					Gemm(false, false, 4, 4, 4, 1, a, 4, b, 4, 0, c, 4)
				}
			})
		}()
	}
	wg.Wait()
	if got := total.Load(); got != 4*6*100 {
		t.Errorf("nested ranges covered %d elements, want %d", got, 4*6*100)
	}
}

func TestParallelRangeNoAlloc(t *testing.T) {
	if raceBuild {
		t.Skip("the race detector allocates")
	}
	restore := setMaxWorkers(2)
	defer restore()
	var sink atomic.Int64
	fn := func(lo, hi int) { sink.Add(int64(hi - lo)) } // built once, outside the measured call
	parallelRange(1000, 10, fn)
	if allocs := testing.AllocsPerRun(50, func() { parallelRange(1000, 10, fn) }); allocs != 0 {
		t.Errorf("parallelRange: %v allocs per call", allocs)
	}
}
