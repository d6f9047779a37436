package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// The worker pool.
//
// Parallel kernels split their output into independent tasks (GEMM: blocks
// of C; parallelRange: index ranges) and publish them as a job. The calling
// goroutine always works on its own job; idle pool workers join it. Tasks are
// claimed with an atomic counter, so a job finishes even when no worker is
// free (the caller then does every task itself), and calls from many
// goroutines at once, or nested calls from inside a task, never deadlock.
// Each task writes a disjoint part of the output and never splits a
// reduction, so results do not depend on how many goroutines took part.
//
// Workers are started lazily, up to GOMAXPROCS-1 (read at call time), and
// then live for the life of the process, parked on a channel receive when
// idle. Handing a job to a worker is a non-blocking send of a pointer on an
// unbuffered channel: it succeeds only if a worker is parked right now, and
// it allocates nothing.

// poolJob is a unit of parallel work: run claims and runs tasks until none
// are left, using w's scratch buffers.
type poolJob interface {
	run(w *workerScratch)
	finish() // called by a helper when it is done with the job
}

// workerScratch is per-goroutine scratch memory, grown on demand and reused.
type workerScratch struct {
	gemm gemmBuffers
}

var (
	threads        atomic.Int64 // SetThreads value; 0 = GOMAXPROCS
	forcedWorkers  atomic.Int64 // setMaxWorkers value (tests); 0 = off
	poolStarted    atomic.Int64 // number of helper goroutines started
	poolMu         sync.Mutex
	poolCh         = make(chan poolJob)
	callerScratchs freeList[workerScratch] // scratch of goroutines calling kernels
)

// freeList is a stack of reusable objects. Unlike sync.Pool it never drops
// them (on GC) and is not per-P, so after warm-up a kernel call finds its
// grown buffers and allocates nothing. It holds at most as many objects as
// were ever in use at once.
type freeList[T any] struct {
	mu    sync.Mutex
	items []*T
}

func (f *freeList[T]) get() *T {
	f.mu.Lock()
	if n := len(f.items); n > 0 {
		x := f.items[n-1]
		f.items[n-1] = nil
		f.items = f.items[:n-1]
		f.mu.Unlock()
		return x
	}
	f.mu.Unlock()
	return new(T)
}

func (f *freeList[T]) put(x *T) {
	f.mu.Lock()
	f.items = append(f.items, x)
	f.mu.Unlock()
}

// SetThreads sets how many goroutines (the caller included) a single kernel
// call such as Gemm may use. n <= 0 restores the default, GOMAXPROCS at call
// time. The value is capped at GOMAXPROCS. Results are bit-identical for
// every setting. SetThreads is safe to call concurrently with kernels.
func SetThreads(n int) {
	if n < 0 {
		n = 0
	}
	threads.Store(int64(n))
}

// Threads returns the number of goroutines a single kernel call may use:
// the SetThreads value capped at GOMAXPROCS, or GOMAXPROCS when unset.
func Threads() int {
	p := runtime.GOMAXPROCS(0)
	if t := int(threads.Load()); t > 0 && t < p {
		return t
	}
	return p
}

// maxWorkers is the number of goroutines a kernel call may split into: the
// forced count in tests, otherwise Threads().
func maxWorkers() int {
	if f := int(forcedWorkers.Load()); f > 0 {
		return f
	}
	return Threads()
}

// setMaxWorkers forces the number of goroutines (caller included) that
// kernel calls split into, ignoring GOMAXPROCS and the work thresholds
// that normally keep small calls serial; n <= 0 removes the override. It is
// for tests and benchmarks, which call the returned function to restore the
// previous setting.
func setMaxWorkers(n int) (restore func()) {
	if n < 0 {
		n = 0
	}
	old := forcedWorkers.Swap(int64(n))
	return func() { forcedWorkers.Store(old) }
}

// workersForced reports whether setMaxWorkers is in effect.
func workersForced() bool { return forcedWorkers.Load() > 0 }

// ensureWorkers starts helper goroutines until at least n exist.
func ensureWorkers(n int) {
	if int(poolStarted.Load()) >= n {
		return
	}
	poolMu.Lock()
	defer poolMu.Unlock()
	for int(poolStarted.Load()) < n {
		go poolWorker()
		poolStarted.Add(1)
	}
}

func poolWorker() {
	w := new(workerScratch)
	for j := range poolCh {
		j.run(w)
		j.finish()
	}
}

// runJob runs j with up to helpers idle pool workers joining the calling
// goroutine, and returns when every task of j is done. wg counts the helpers
// that joined (it must be j's own WaitGroup, whose Done is j.finish).
func runJob(j poolJob, helpers int, wg *sync.WaitGroup) {
	if helpers > 0 {
		ensureWorkers(helpers)
	send:
		for i := 0; i < helpers; i++ {
			wg.Add(1)
			select {
			case poolCh <- j:
			default:
				wg.Done()
				break send
			}
		}
	}
	w := callerScratchs.get()
	j.run(w)
	callerScratchs.put(w)
	wg.Wait()
}

// rangeJob is the job behind parallelRange.
type rangeJob struct {
	fn     func(lo, hi int)
	n      int
	chunk  int
	chunks int64
	next   atomic.Int64
	wg     sync.WaitGroup
}

var rangeJobs freeList[rangeJob]

func (r *rangeJob) run(*workerScratch) {
	for {
		t := r.next.Add(1) - 1
		if t >= r.chunks {
			return
		}
		lo := int(t) * r.chunk
		r.fn(lo, min(lo+r.chunk, r.n))
	}
}

func (r *rangeJob) finish() { r.wg.Done() }

// parallelRange calls fn on disjoint ranges [lo, hi) that together cover
// [0, n), possibly from several goroutines at once, and returns when all
// calls have returned. Each range except possibly the last has at least
// grain elements (grain < 1 counts as 1), and there are at most
// maxWorkers() ranges, so a grain of "work worth ~50 µs" keeps small calls on
// the calling goroutine. fn must only write state owned by its range; it
// must not panic (a panic in a pool goroutine ends the program). The split
// points depend on the worker count, so fn must compute the same bits for
// any split (as the row kernels do: they never reduce across rows).
//
// parallelRange itself does not allocate after warm-up; a closure passed as
// fn that captures variables costs the caller one small allocation.
// It is safe to call from many goroutines at once and from inside fn.
func parallelRange(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	grain = max(grain, 1)
	w := maxWorkers()
	chunks := min(w, (n+grain-1)/grain)
	if chunks <= 1 {
		fn(0, n)
		return
	}
	chunk := (n + chunks - 1) / chunks
	chunks = (n + chunk - 1) / chunk
	r := rangeJobs.get()
	r.fn, r.n, r.chunk, r.chunks = fn, n, chunk, int64(chunks)
	r.next.Store(0)
	runJob(r, chunks-1, &r.wg)
	r.fn = nil
	rangeJobs.put(r)
}
