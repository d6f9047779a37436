package kernels

import (
	"bufio"
	"fmt"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// specKeep is the dropout keep decision written out independently of the
// package code, straight from CANONICAL.md (splitmix64 keys, two keyed
// lowbias32 rounds, the high index word folded into k0, threshold
// min(round((1−p)·2^32), 2^32−1)).
func specKeep(seed, i uint64, p float32) bool {
	if p == 0 {
		return true
	}
	mix := func(x uint32) uint32 {
		x ^= x >> 16
		x *= 0x7feb352d
		x ^= x >> 15
		x *= 0x846ca68b
		x ^= x >> 16
		return x
	}
	z := seed + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	k0, k1 := uint32(z), uint32(z>>32)
	thr := math.Round((1 - float64(p)) * (1 << 32))
	if thr > math.MaxUint32 {
		thr = math.MaxUint32
	}
	return mix(mix(uint32(i)^k0^mix(uint32(i>>32)))+k1) < uint32(thr)
}

// maskBit reports bit j of a DropoutMask result.
func maskBit(m []uint64, j int) bool { return m[j/64]>>(j%64)&1 == 1 }

var dropoutPs = []float32{0.1, 0.5, 0.9, 0, 1, 1e-7, 0.9999999}

var dropoutOffsets = []uint64{0, 5, 1<<32 - 7, 1<<40 + 3, math.MaxUint64 - 5000}

func TestDropoutMatchesPurego(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		for _, n := range testSizes {
			r := newRand(t, uint64(n))
			x := genDefault(r, n)
			for _, p := range dropoutPs {
				for _, off := range dropoutOffsets {
					seed := r.Uint64()
					for _, inplace := range []bool{false, true} {
						run := func(mk alloc) []float32 {
							src := mk(x)
							dst := src
							if !inplace {
								g := make([]float32, n)
								for i := range g {
									g[i] = garbage
								}
								dst = mk(g)
							}
							Dropout(dst, src, p, seed, off)
							return dst
						}
						var want []float32
						reference(func() { want = run(clone) })
						forEachLayout(t, func(a *arena) {
							requireBitsEqual(t, fmt.Sprintf("Dropout n=%d p=%v off=%d inplace=%v %s", n, p, off, inplace, a.l.name), run(a.from), want)
						})
					}
					// DropoutMask, same layouts.
					words := (n + 63) / 64
					wantMask := make([]uint64, words)
					reference(func() { DropoutMask(wantMask, n, p, seed, off) })
					forEachLayout(t, func(a *arena) {
						m := a.uint64s(words)
						for i := range m {
							m[i] = 0xa5a5a5a5a5a5a5a5 // garbage: every word must be written
						}
						DropoutMask(m, n, p, seed, off)
						for i := range m {
							if m[i] != wantMask[i] {
								t.Fatalf("DropoutMask n=%d p=%v off=%d %s: word %d = %#x, want %#x", n, p, off, a.l.name, i, m[i], wantMask[i])
							}
						}
					})
				}
			}
		}
	})
}

// TestDropoutSpec checks Dropout, DropoutMask and DropoutKeep against the
// independent specKeep, and the kept values against x·float32(1/(1−p)).
func TestDropoutSpec(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		r := newRand(t)
		n := 3000
		x := randNormal(r, n, 0, 1)
		for i := range x {
			if x[i] == 0 {
				x[i] = 1
			}
		}
		for _, p := range []float32{0.1, 0.5, 0.9, 1e-7, 0.9999999, 1} {
			for _, seed := range []uint64{0, 1, 42, 1<<63 + 5} {
				for _, off := range dropoutOffsets {
					y := make([]float32, n)
					Dropout(y, x, p, seed, off)
					m := make([]uint64, (n+63)/64)
					DropoutMask(m, n, p, seed, off)
					scale := float32(1 / (1 - float64(p)))
					for j := 0; j < n; j++ {
						keep := specKeep(seed, off+uint64(j), p)
						if DropoutKeep(seed, off+uint64(j), p) != keep {
							t.Fatalf("DropoutKeep(seed=%d, i=%d, p=%v) != spec", seed, off+uint64(j), p)
						}
						if maskBit(m, j) != keep {
							t.Fatalf("DropoutMask(p=%v seed=%d off=%d) bit %d = %v, spec %v", p, seed, off, j, maskBit(m, j), keep)
						}
						want := float32(0)
						if keep {
							want = float32(x[j] * scale)
						} else if x[j] < 0 {
							want = float32(math.Copysign(0, -1)) // x·0 keeps the sign
						}
						if !sameBits(y[j], want) {
							t.Fatalf("Dropout(p=%v seed=%d off=%d)[%d] = %v, want %v (keep=%v)", p, seed, off, j, y[j], want, keep)
						}
					}
				}
			}
		}
	})
}

// TestDropoutEdgeP pins p == 0 (exact copy), p == 1 (zeros: x·0, so NaN stays
// NaN and ±Inf becomes NaN, like PyTorch's mask multiply) and the tiny/huge p
// thresholds.
func TestDropoutEdgeP(t *testing.T) {
	nan := float32(math.NaN())
	forEachBackend(t, func(t *testing.T) {
		x := []float32{1, -2, 0, float32(math.Copysign(0, -1)), nan, posInf, negInf, math.SmallestNonzeroFloat32, 3e38}
		y := make([]float32, len(x))
		Dropout(y, x, 0, 7, 0)
		requireBitsEqual(t, "p=0 copies", y, x)
		Dropout(y, x, 1, 7, 0)
		nz := float32(math.Copysign(0, -1))
		requireBitsEqual(t, "p=1 zeros", y, []float32{0, nz, 0, nz, nan, nan, nan, 0, 0})
		m := []uint64{^uint64(0)}
		DropoutMask(m, len(x), 1, 7, 0)
		if m[0] != 0 {
			t.Errorf("DropoutMask p=1 = %#x, want 0", m[0])
		}
		DropoutMask(m, len(x), 0, 7, 0)
		if m[0] != 1<<len(x)-1 {
			t.Errorf("DropoutMask p=0 = %#x, want %#x", m[0], uint64(1<<len(x)-1))
		}
		// Tiny p keeps (nearly) everything, scale rounds to 1.
		big := ones(10000)
		Dropout(big, big, 1e-9, 3, 0)
		for i, v := range big {
			if v != 1 {
				t.Fatalf("p=1e-9: y[%d] = %v, want 1", i, v)
			}
		}
		// A dropped NaN stays NaN; a dropped finite value is ±0.
		in := make([]float32, 256)
		for i := range in {
			in[i] = nan
		}
		out := make([]float32, 256)
		Dropout(out, in, 0.5, 9, 0)
		for i, v := range out {
			if v == v {
				t.Fatalf("dropout of NaN at %d = %v, want NaN", i, v)
			}
		}
	})
}

// goldenPath holds the committed dropout masks.
var goldenPath = filepath.Join("testdata", "dropout_masks.golden")

var (
	goldenSeeds   = []uint64{0, 1, 42, 1<<63 + 5}
	goldenOffsets = []uint64{0, 1, 1<<32 - 10, 1<<40 + 3}
	goldenPs      = []float32{0.1, 0.5, 0.9}
)

const goldenBits = 4096

// TestDropoutGolden compares DropoutMask (and Dropout's zero pattern) with
// the committed masks. The bits must never change silently: a change breaks
// every saved seed's reproducibility. Regenerate (after review!) with
// go test -run TestDropoutGolden -update ./kernels/
func TestDropoutGolden(t *testing.T) {
	type key struct {
		seed, off uint64
		p         float32
	}
	gen := func() map[key]string {
		out := map[key]string{}
		reference(func() {
			for _, seed := range goldenSeeds {
				for _, off := range goldenOffsets {
					for _, p := range goldenPs {
						m := make([]uint64, goldenBits/64)
						DropoutMask(m, goldenBits, p, seed, off)
						var b strings.Builder
						for _, w := range m {
							fmt.Fprintf(&b, "%016x", w)
						}
						out[key{seed, off, p}] = b.String()
					}
				}
			}
		})
		return out
	}
	if *update {
		cur := gen()
		var b strings.Builder
		b.WriteString("# simdformer dropout golden masks: DropoutMask(mask, 4096, p, seed, offset) from the purego backend.\n")
		b.WriteString("# One line per case: seed offset p, then the 64 mask words as 16 hex digits each (word w holds\n")
		b.WriteString("# elements 64w..64w+63, element 64w+b in bit b). Regenerate only on purpose: go test -run TestDropoutGolden -update\n")
		for _, seed := range goldenSeeds {
			for _, off := range goldenOffsets {
				for _, p := range goldenPs {
					fmt.Fprintf(&b, "%d %d %v %s\n", seed, off, p, cur[key{seed, off, p}])
				}
			}
		}
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenPath, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", goldenPath)
	}
	f, err := os.Open(goldenPath)
	if err != nil {
		t.Fatalf("%v (generate it with -update)", err)
	}
	defer f.Close()
	golden := map[key][]uint64{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<16)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) != 4 || len(fs[3]) != goldenBits/4 {
			t.Fatalf("malformed golden line %q", line)
		}
		seed, err1 := strconv.ParseUint(fs[0], 10, 64)
		off, err2 := strconv.ParseUint(fs[1], 10, 64)
		p, err3 := strconv.ParseFloat(fs[2], 32)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("malformed golden line %q", line)
		}
		words := make([]uint64, goldenBits/64)
		for w := range words {
			words[w], err = strconv.ParseUint(fs[3][16*w:16*w+16], 16, 64)
			if err != nil {
				t.Fatalf("malformed golden line %q: %v", line, err)
			}
		}
		golden[key{seed, off, float32(p)}] = words
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if want := len(goldenSeeds) * len(goldenOffsets) * len(goldenPs); len(golden) != want {
		t.Fatalf("%s has %d cases, want %d", goldenPath, len(golden), want)
	}
	forEachBackend(t, func(t *testing.T) {
		src := ones(goldenBits)
		y := make([]float32, goldenBits)
		m := make([]uint64, goldenBits/64)
		for k, want := range golden {
			DropoutMask(m, goldenBits, k.p, k.seed, k.off)
			Dropout(y, src, k.p, k.seed, k.off)
			for j := 0; j < goldenBits; j++ {
				wb := maskBit(want, j)
				if maskBit(m, j) != wb {
					t.Fatalf("seed=%d offset=%d p=%v: DropoutMask bit %d = %v, golden %v", k.seed, k.off, k.p, j, !wb, wb)
				}
				if (y[j] != 0) != wb {
					t.Fatalf("seed=%d offset=%d p=%v: Dropout element %d = %v, golden keep=%v", k.seed, k.off, k.p, j, y[j], wb)
				}
				if wb != specKeep(k.seed, k.off+uint64(j), k.p) {
					t.Fatalf("seed=%d offset=%d p=%v: golden bit %d disagrees with the spec", k.seed, k.off, k.p, j)
				}
			}
		}
	})
}

// statN is the sample size of the statistical tests: 2^20 natively, 2^18
// in -short mode or under emulation.
func statN() int {
	if reduced() {
		return 1 << 18
	}
	return 1 << 20
}

// TestDropoutKeepRate: the fraction kept is within 4σ of 1−p (binomial σ)
// for several p, seeds and offsets, and the scale is exactly float32(1/(1−p)).
func TestDropoutKeepRate(t *testing.T) {
	n := statN()
	m := make([]uint64, n/64)
	for _, p := range []float32{0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99} {
		for _, seed := range []uint64{0, 12345, 1<<63 + 5} {
			for _, off := range []uint64{0, 1<<32 - uint64(n/2)} {
				DropoutMask(m, n, p, seed, off)
				kept := 0
				for _, w := range m {
					kept += bits.OnesCount64(w)
				}
				q := 1 - float64(p)
				z := (float64(kept) - float64(n)*q) / math.Sqrt(float64(n)*q*(1-q))
				if math.Abs(z) > 4 {
					t.Errorf("p=%v seed=%d offset=%d: kept %d of %d (z = %.2f)", p, seed, off, kept, n, z)
				}
			}
		}
	}
}

// TestDropoutAutocorrelation: for each lag L the correlation r of mask bits i
// and i+L gives z = r·√N, N(0,1) for independent bits. On 2^20 samples and
// lags 1..4096 (p = 0.5; 1..1024 for p = 0.1, 0.9; 2^18 samples and lags
// 1..512 under -short or emulation) the test asserts every |z| ≤ 5 — with
// 4096 lags about one |z| > 4 is expected by chance, so 5σ is the honest
// family-wise bound (false-alarm rate ≈ 0.2%) — and that the mean of z² is
// within 4σ of 1 (a chi-square test over all lags).
func TestDropoutAutocorrelation(t *testing.T) {
	n := statN()
	for _, c := range []struct {
		p      float32
		seed   uint64
		off    uint64
		maxLag int
	}{{0.5, 1, 0, 4096}, {0.1, 42, 1<<32 - 12345, 1024}, {0.9, 1<<63 + 5, 1 << 40, 1024}} {
		maxLag := c.maxLag
		if n < 1<<20 {
			maxLag = min(maxLag, 512)
		}
		m := make([]uint64, n/64+1)
		DropoutMask(m, n, c.p, c.seed, c.off)
		q := 1 - float64(c.p)
		worst, worstLag, sumZ2, over4 := 0.0, 0, 0.0, 0
		// prefix[k] = kept count of bits [0, 64k).
		prefix := make([]int, len(m)+1)
		for k, w := range m {
			prefix[k+1] = prefix[k] + bits.OnesCount64(w)
		}
		kept := func(lo, hi int) int { return countBits(m, prefix, hi) - countBits(m, prefix, lo) }
		for lag := 1; lag <= maxLag; lag++ {
			// N pairs (i, i+lag) for i < N = n−lag: both = popcount of
			// bits i and i+lag set; first/second = kept counts of the two
			// windows.
			N := n - lag
			o, sh := lag/64, uint(lag%64)
			both := 0
			full := N / 64
			for k := 0; k < full; k++ {
				v := m[k+o] >> sh
				if sh != 0 {
					v |= m[k+o+1] << (64 - sh)
				}
				both += bits.OnesCount64(m[k] & v)
			}
			if rem := N % 64; rem != 0 {
				v := shiftedWord(m, full*64+lag)
				both += bits.OnesCount64(m[full] & v & (1<<rem - 1))
			}
			first, second := kept(0, N), kept(lag, n)
			// Σ (b_i − q)(b_{i+L} − q) = both − q·(first+second) + N·q².
			cov := float64(both) - q*float64(first+second) + float64(N)*q*q
			z := cov / (float64(N) * q * (1 - q)) * math.Sqrt(float64(N))
			sumZ2 += z * z
			if math.Abs(z) > 4 {
				over4++
			}
			if math.Abs(z) > math.Abs(worst) {
				worst, worstLag = z, lag
			}
		}
		meanZ2 := sumZ2 / float64(maxLag)
		sdMean := math.Sqrt(2 / float64(maxLag))
		t.Logf("p=%v seed=%d: worst z=%.2f at lag %d, %d lags beyond 4σ, mean z²=%.3f", c.p, c.seed, worst, worstLag, over4, meanZ2)
		if math.Abs(worst) > 5 {
			t.Errorf("p=%v seed=%d: autocorrelation z=%.2f at lag %d", c.p, c.seed, worst, worstLag)
		}
		if math.Abs(meanZ2-1) > 4*sdMean {
			t.Errorf("p=%v seed=%d: mean z² over %d lags = %.3f, want 1 ± %.3f", c.p, c.seed, maxLag, meanZ2, 4*sdMean)
		}
	}
}

// countBits returns the number of set bits of m in [0, i).
func countBits(m []uint64, prefix []int, i int) int {
	c := prefix[i/64]
	if r := i % 64; r != 0 {
		c += bits.OnesCount64(m[i/64] & (1<<r - 1))
	}
	return c
}

// shiftedWord returns mask bits i..i+63 as one word (bits past the end 0).
func shiftedWord(m []uint64, i int) uint64 {
	w, s := i/64, uint(i%64)
	v := m[w] >> s
	if s != 0 && w+1 < len(m) {
		v |= m[w+1] << (64 - s)
	}
	return v
}

// TestDropoutSeedsIndependent: masks of neighbouring seeds agree on about
// q² + (1−q)² of the positions (within 4σ), i.e. they are unrelated.
func TestDropoutSeedsIndependent(t *testing.T) {
	n := statN()
	a, b := make([]uint64, n/64), make([]uint64, n/64)
	for _, seed := range []uint64{0, 1, 2, 1 << 32, 1<<63 + 5} {
		for _, other := range []uint64{seed + 1, seed + 3, seed ^ 1<<32} {
			DropoutMask(a, n, 0.5, seed, 0)
			DropoutMask(b, n, 0.5, other, 0)
			same := 0
			for i := range a {
				same += 64 - bits.OnesCount64(a[i]^b[i])
			}
			z := (float64(same) - float64(n)/2) / math.Sqrt(float64(n)/4)
			if math.Abs(z) > 4 {
				t.Errorf("seeds %d and %d: masks agree on %d of %d (z=%.2f)", seed, other, same, n, z)
			}
		}
	}
	// The same seed at shifted offsets must not be a shifted copy either.
	DropoutMask(a, n, 0.5, 7, 0)
	DropoutMask(b, n, 0.5, 7, 1<<32)
	same := 0
	for i := range a {
		same += 64 - bits.OnesCount64(a[i]^b[i])
	}
	if z := (float64(same) - float64(n)/2) / math.Sqrt(float64(n)/4); math.Abs(z) > 4 {
		t.Errorf("offsets 0 and 2^32 agree on %d of %d (z=%.2f)", same, n, z)
	}
}

// TestDropoutChunked: one call equals any split into calls with the offset
// continued (arbitrary chunk boundaries, including ones crossing 2^32 and the
// uint64 wrap), for Dropout and DropoutMask.
func TestDropoutChunked(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		r := newRand(t)
		n := 5000
		x := randNormal(r, n, 0, 1)
		for _, off := range []uint64{0, 1<<32 - 2500, 1<<33 - 1, math.MaxUint64 - 2499} {
			for _, p := range []float32{0.1, 0.5} {
				whole := make([]float32, n)
				Dropout(whole, x, p, 77, off)
				wm := make([]uint64, (n+63)/64)
				DropoutMask(wm, n, p, 77, off)
				for trial := 0; trial < 20; trial++ {
					got := make([]float32, n)
					for s := 0; s < n; {
						c := min(n-s, 1+r.IntN(700))
						if trial == 0 {
							c = min(n-s, 1) // element by element
						}
						Dropout(got[s:s+c], x[s:s+c], p, 77, off+uint64(s))
						// The chunk's mask equals the whole mask's bits.
						cm := make([]uint64, (c+63)/64)
						DropoutMask(cm, c, p, 77, off+uint64(s))
						for j := 0; j < c; j++ {
							if maskBit(cm, j) != maskBit(wm, s+j) {
								t.Fatalf("off=%d p=%v: chunk [%d,+%d) mask bit %d differs", off, p, s, c, j)
							}
						}
						s += c
					}
					requireBitsEqual(t, fmt.Sprintf("chunked off=%d p=%v trial %d", off, p, trial), got, whole)
				}
			}
		}
	})
}

// TestDropout2to32: a call crossing element index 2^32 equals two calls split
// exactly at 2^32, and the halves use different keys (the high word).
func TestDropout2to32(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		x := ones(1000)
		for _, before := range []int{1, 100, 999} {
			off := uint64(1<<32 - before)
			one := make([]float32, 1000)
			Dropout(one, x, 0.5, 3, off)
			two := make([]float32, 1000)
			Dropout(two[:before], x[:before], 0.5, 3, off)
			Dropout(two[before:], x[before:], 0.5, 3, 1<<32)
			requireBitsEqual(t, fmt.Sprintf("2^32 split before=%d", before), one, two)
		}
		// Index 2^32+j must not reuse the mask of index j.
		a, b := make([]float32, 4096), make([]float32, 4096)
		Dropout(a, ones(4096), 0.5, 3, 0)
		Dropout(b, ones(4096), 0.5, 3, 1<<32)
		if _, same := bitsEqual(a, b); same {
			t.Error("indices 2^32+j repeat the mask of indices j")
		}
	})
}

// TestDropoutBackwardIdentity: Dropout applied to dy is the backward pass,
// dx = dy·mask·scale, with the mask from DropoutMask (bit for bit).
func TestDropoutBackwardIdentity(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		r := newRand(t)
		for _, n := range []int{1, 63, 64, 65, 1000, 4099} {
			dy := genDefault(r, n)
			for _, p := range []float32{0.1, 0.5, 0.9} {
				off := r.Uint64()
				dx := make([]float32, n)
				Dropout(dx, dy, p, 5, off)
				m := make([]uint64, (n+63)/64)
				DropoutMask(m, n, p, 5, off)
				scale := float32(1 / (1 - float64(p)))
				want := make([]float32, n)
				for j := range want {
					k := float32(0)
					if maskBit(m, j) {
						k = scale
					}
					want[j] = float32(dy[j] * k)
				}
				requireBitsEqual(t, fmt.Sprintf("backward n=%d p=%v", n, p), dx, want)
			}
		}
	})
}

func TestDropoutPanics(t *testing.T) {
	x := make([]float32, 4)
	for _, p := range []float32{-0.1, 1.5, float32(math.NaN()), posInf, negInf} {
		ps := fmt.Sprint(p)
		mustPanic(t, "Dropout p="+ps, func() { Dropout(x, x, p, 1, 0) }, "Dropout", "probability", ps)
		mustPanic(t, "DropoutMask p="+ps, func() { DropoutMask(make([]uint64, 1), 4, p, 1, 0) }, "DropoutMask", "probability", ps)
		mustPanic(t, "DropoutKeep p="+ps, func() { DropoutKeep(1, 0, p) }, "probability", ps)
		mustPanic(t, "Softmax Dropout p="+ps, func() {
			SoftmaxDropout(x, make([]float32, 4), x, 2, 2, SoftmaxOptions{Dropout: p})
		}, "SoftmaxDropout", "probability", ps)
		mustPanic(t, "SoftmaxDropoutBackward p="+ps, func() {
			SoftmaxDropoutBackward(x, x, x, 2, 2, 1, p, 1, 0)
		}, "SoftmaxDropoutBackward", "probability", ps)
	}
	mustPanic(t, "Dropout lengths", func() { Dropout(make([]float32, 3), make([]float32, 5), 0.5, 1, 0) }, "Dropout", "3", "5")
	mustPanic(t, "Dropout lengths p=0", func() { Dropout(make([]float32, 3), make([]float32, 5), 0, 1, 0) }, "Dropout", "3", "5")
	mustPanic(t, "DropoutMask short", func() { DropoutMask(make([]uint64, 1), 65, 0.5, 1, 0) }, "DropoutMask", "65", "2", "1")
	mustPanic(t, "DropoutMask negative", func() { DropoutMask(nil, -1, 0.5, 1, 0) }, "DropoutMask", "-1")
}

// TestDropoutParallel: a Dropout large enough to split over the worker pool
// gives the bits of one serial pass for any worker count (also when a split
// point and the 2^32 index wrap fall inside the call), and allocates
// nothing after warm-up.
func TestDropoutParallel(t *testing.T) {
	n := dropoutParallelMin + 12345
	if reduced() {
		n = dropoutParallelMin + 33
	}
	x := randNormal(newRand(t), n, 0, 1)
	forEachBackend(t, func(t *testing.T) {
		for _, off := range []uint64{0, 1<<32 - uint64(n)/3} {
			want := make([]float32, n)
			dropoutSpanRef(want, x, 0.1, 9, off)
			for _, w := range []int{1, 2, 3} {
				restore := setMaxWorkers(w)
				got := make([]float32, n)
				Dropout(got, x, 0.1, 9, off)
				requireBitsEqual(t, fmt.Sprintf("off=%d workers=%d", off, w), got, want)
				if !raceEnabled {
					if a := testing.AllocsPerRun(3, func() { Dropout(got, x, 0.1, 9, off) }); a != 0 {
						t.Errorf("workers=%d: %v allocations per call, want 0", w, a)
					}
				}
				restore()
			}
		}
	})
}

// dropoutSpanRef is Dropout as one serial pass on the active backend.
func dropoutSpanRef(dst, src []float32, p float32, seed, off uint64) {
	thr, scale := dropoutParams("test", p)
	k0, k1 := dropoutKeys(seed)
	dropoutSpan(cur(), dst, src, k0, k1, thr, scale, off)
}
