package kernels

// Zero sets every element of dst to +0. Arrays from zeroParallelMin
// elements are split over the worker pool (clearing is bound by memory
// bandwidth, which one core does not saturate). It does not allocate.
func Zero(dst []float32) {
	raceWrite(dst)
	if len(dst) < zeroParallelMin || maxWorkers() == 1 {
		clear(dst)
		return
	}
	t := zeroTasks.get()
	if t.fn == nil {
		t.fn = t.run // bound once per task object: no allocation per call
	}
	t.dst = dst
	parallelRange(len(dst), zeroParallelMin/2, t.fn)
	t.dst = nil
	zeroTasks.put(t)
}

// zeroParallelMin is the length from which Zero splits: 4 MB take ~0.4 ms
// on one core, well above the cost of waking a worker.
const zeroParallelMin = 1 << 20

// zeroTask is one parallel Zero call; fn is its run method, bound once.
type zeroTask struct {
	dst []float32
	fn  func(lo, hi int)
}

var zeroTasks freeList[zeroTask]

func (t *zeroTask) run(lo, hi int) { clear(t.dst[lo:hi]) }
