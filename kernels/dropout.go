package kernels

import (
	"fmt"
	"math"
)

// Mix32 is the "lowbias32" xorshift-multiply finalizer: a bijection on
// uint32 with good avalanche. Dropout's hash is Mix32(Mix32(i^k0) + k1).
func Mix32(x uint32) uint32 {
	x ^= x >> 16
	x *= 0x7feb352d
	x ^= x >> 15
	x *= 0x846ca68b
	x ^= x >> 16
	return x
}

// SplitMix64 is Steele, Lea and Flood's SplitMix64 output function, the
// seed mixer of every counter-based stream (Dropout's keys, package nn's
// per-call dropout seeds).
func SplitMix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// dropoutBits is the mask hash of the element with low index word lo, under
// keys (k0, k1) where k0 already has the high index word folded in
// (k0 ^ Mix32(hi)). The element is kept iff the result is below the
// threshold.
func dropoutBits(k0, k1, lo uint32) uint32 { return Mix32(Mix32(lo^k0) + k1) }

// dropoutBitsAt is dropoutBits for the full 64-bit element index i.
func dropoutBitsAt(k0, k1 uint32, i uint64) uint32 {
	return dropoutBits(k0^Mix32(uint32(i>>32)), k1, uint32(i))
}

// dropoutKeys derives the two 32-bit hash keys from a 64-bit seed.
func dropoutKeys(seed uint64) (k0, k1 uint32) {
	z := SplitMix64(seed)
	return uint32(z), uint32(z >> 32)
}

// dropoutParams returns the keep threshold and the scale 1/(1-p) for the
// drop probability p, panicking (with the caller's name) when p is not in
// [0, 1].
func dropoutParams(fn string, p float32) (thr uint32, scale float32) {
	if !(p >= 0 && p <= 1) {
		panic(fmt.Sprintf("kernels: %s: dropout probability has to be between 0 and 1, but got %v", fn, p))
	}
	keep := 1 - float64(p)
	t := math.Round(keep * (1 << 32))
	if t > math.MaxUint32 {
		t = math.MaxUint32
	}
	return uint32(t), float32(1 / keep)
}

// DropoutKeep reports whether element index i is kept by Dropout and
// DropoutMask with drop probability p and seed. It is the scalar definition of
// the mask: bits = Mix32(Mix32(lo ^ k0 ^ Mix32(hi)) + k1) < round((1-p)·2^32)
// with (k0, k1) from splitmix64(seed) and lo, hi the 32-bit halves of i.
func DropoutKeep(seed, i uint64, p float32) bool {
	thr, _ := dropoutParams("DropoutKeep", p)
	if p == 0 {
		return true
	}
	k0, k1 := dropoutKeys(seed)
	return dropoutBitsAt(k0, k1, i) < thr
}

func dropoutGeneric(dst, src []float32, k0, k1, lo, thr uint32, scale float32) {
	src = src[:len(dst)]
	for j, x := range src {
		m := float32(0)
		if dropoutBits(k0, k1, lo+uint32(j)) < thr {
			m = scale
		}
		dst[j] = float32(x * m)
	}
}

func dropoutMaskGeneric(mask []uint64, n int, k0, k1, lo, thr uint32) {
	for w := 0; w*64 < n; w++ {
		var word uint64
		for b := 0; b < 64 && w*64+b < n; b++ {
			if dropoutBits(k0, k1, lo+uint32(w*64+b)) < thr {
				word |= 1 << b
			}
		}
		mask[w] = word
	}
}

// dropoutSpan applies dropout to src (element indices offset, offset+1, …)
// on backend b, splitting the call where the low 32 bits of the index wrap.
func dropoutSpan(b *impl, dst, src []float32, k0, k1, thr uint32, scale float32, offset uint64) {
	for len(dst) > 0 {
		lo, hi := uint32(offset), uint32(offset>>32)
		n := len(dst)
		if room := uint64(1<<32) - uint64(lo); uint64(n) > room {
			n = int(room)
		}
		b.dropout(dst[:n], src[:n], k0^Mix32(hi), k1, lo, thr, scale)
		dst, src, offset = dst[n:], src[n:], offset+uint64(n)
	}
}

// Dropout writes dst[j] = src[j] * (keep(offset+j) ? 1/(1-p) : 0), where p is
// the DROP probability (PyTorch's convention) and keep is the counter-based
// hash of DropoutKeep: the mask depends only on (seed, element index), never
// on chunking, SIMD width or threads, so a call on a slice equals any split
// into calls with offsets continued, and backward is the same call applied
// to the upstream gradient (no mask is stored).
//
// p == 0 copies src; p == 1 multiplies by zero. The mask is applied by
// multiplication, like PyTorch: a dropped NaN stays NaN and a dropped ±Inf
// becomes NaN, so non-finite inputs are never hidden. dst may alias src.
// Dropout panics if p is outside [0, 1] or the lengths differ.
func Dropout(dst, src []float32, p float32, seed, offset uint64) {
	checkLen2("Dropout", "dst", dst, "src", src)
	thr, scale := dropoutParams("Dropout", p)
	if p == 0 {
		copy(dst, src)
		return
	}
	raceRW(dst, src)
	k0, k1 := dropoutKeys(seed)
	b := cur()
	if len(dst) < dropoutParallelMin {
		dropoutSpan(b, dst, src, k0, k1, thr, scale, offset)
		return
	}
	// Large arrays are memory-bound: split them over the worker pool. The
	// mask depends only on (seed, index), so any split gives the same bits.
	t := dropoutTasks.get()
	if t.fn == nil {
		t.fn = t.run // bound once per task object: no allocation per call
	}
	t.b, t.dst, t.src, t.k0, t.k1, t.thr, t.scale, t.offset = b, dst, src, k0, k1, thr, scale, offset
	parallelRange(len(dst), dropoutParallelMin/2, t.fn)
	t.b, t.dst, t.src = nil, nil, nil
	dropoutTasks.put(t)
}

// dropoutParallelMin is the size from which Dropout splits over the worker
// pool. Waking a parked worker costs tens of µs in practice (gemmMinWork), so
// a 1M-element call (≈ 0.3 ms) is faster alone; at 64M elements two threads
// halve the time (DRAM-bound: 50.6 → 25.8 ms on the 2-core Xeon dev VM).
const dropoutParallelMin = 1 << 22

// dropoutTask is one parallel Dropout call; fn is its run method, bound
// once so that reusing the task allocates nothing.
type dropoutTask struct {
	b           *impl
	dst, src    []float32
	k0, k1, thr uint32
	scale       float32
	offset      uint64
	fn          func(lo, hi int)
}

var dropoutTasks freeList[dropoutTask]

func (t *dropoutTask) run(lo, hi int) {
	dropoutSpan(t.b, t.dst[lo:hi], t.src[lo:hi], t.k0, t.k1, t.thr, t.scale, t.offset+uint64(lo))
}

// DropoutMask writes the keep mask of n elements starting at element index
// offset: bit j%64 of mask[j/64] is set when element offset+j is kept by
// Dropout with the same p and seed. Bits past n in the last word are zero.
// len(mask) must be at least (n+63)/64.
func DropoutMask(mask []uint64, n int, p float32, seed, offset uint64) {
	if n < 0 || len(mask) < (n+63)/64 {
		panic(fmt.Sprintf("kernels: DropoutMask: n=%d needs %d words, len(mask)=%d", n, (n+63)/64, len(mask)))
	}
	thr, _ := dropoutParams("DropoutMask", p)
	words := (n + 63) / 64
	if p == 0 {
		for w := 0; w < words; w++ {
			mask[w] = ^uint64(0)
		}
		if r := n % 64; r != 0 {
			mask[words-1] = 1<<r - 1
		}
		return
	}
	raceWriteWords(mask[:words])
	k0, k1 := dropoutKeys(seed)
	b := cur()
	for n > 0 {
		lo, hi := uint32(offset), uint32(offset>>32)
		room := uint64(1<<32) - uint64(lo)
		if uint64(n) <= room {
			b.dropoutMask(mask, n, k0^Mix32(hi), k1, lo, thr)
			return
		}
		// The index wraps inside this call: whole words before the wrap on
		// the backend, the word that straddles it here, then continue.
		full := int(room / 64)
		if full > 0 {
			b.dropoutMask(mask[:full], full*64, k0^Mix32(hi), k1, lo, thr)
		}
		j0 := full * 64
		cnt := min(64, n-j0)
		var word uint64
		for j := 0; j < cnt; j++ {
			if dropoutBitsAt(k0, k1, offset+uint64(j0+j)) < thr {
				word |= 1 << j
			}
		}
		mask[full] = word
		mask = mask[full+1:]
		offset += uint64(j0 + cnt)
		n -= j0 + cnt
	}
}
