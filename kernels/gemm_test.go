package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// gemmNaive is CANONICAL.md's GEMM definition executed literally, one chain
// at a time with fma32: the bits every backend must return.
func gemmNaive(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			cij := c[i*ldc+j]
			var acc float32
			switch beta {
			case 0:
				acc = 0
			case 1:
				acc = cij
			default:
				acc = beta * cij
			}
			if alpha != 0 {
				for p := 0; p < k; p++ {
					var av, bv float32
					if transA {
						av = a[p*lda+i]
					} else {
						av = a[i*lda+p]
					}
					if alpha != 1 {
						av = alpha * av
					}
					if transB {
						bv = b[j*ldb+p]
					} else {
						bv = b[p*ldb+j]
					}
					acc = fma32(av, bv, acc)
				}
			}
			c[i*ldc+j] = acc
		}
	}
}

// gemmCase is one Gemm call with its inputs and the expected C storage.
type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	lda, ldb, ldc  int
	a, b, c0, want []float32
}

func (tc *gemmCase) String() string {
	return fmt.Sprintf("tA=%v tB=%v m=%d n=%d k=%d alpha=%v beta=%v lda=%d ldb=%d ldc=%d",
		tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, tc.beta, tc.lda, tc.ldb, tc.ldc)
}

// storage returns rows, cols of op(X)'s storage.
func gemmStored(trans bool, rows, cols int) (int, int) {
	if trans {
		return cols, rows
	}
	return rows, cols
}

func gemmLen(rows, cols, ld int) int {
	if rows == 0 || cols == 0 {
		return 0
	}
	return (rows-1)*ld + cols
}

// newGemmCase builds a case with random N(0,1) inputs, leading dimensions
// cols+pad, C's gaps (between rows, at stride ldc) filled with the sentinel,
// and C's window filled with NaN when beta == 0 (it must be ignored).
func newGemmCase(r *rand.Rand, transA, transB bool, m, n, k int, alpha, beta float32, pad int) *gemmCase {
	tc := &gemmCase{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta}
	ra, ca := gemmStored(transA, m, k)
	rb, cb := gemmStored(transB, k, n)
	tc.lda, tc.ldb, tc.ldc = max(ca, 1)+pad, max(cb, 1)+(pad*2)%5, max(n, 1)+(pad*3)%4
	tc.a = randNormal(r, gemmLen(ra, ca, tc.lda), 0, 1)
	tc.b = randNormal(r, gemmLen(rb, cb, tc.ldb), 0, 1)
	tc.c0 = make([]float32, gemmLen(m, n, tc.ldc))
	fillSentinel(tc.c0)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			v := float32(r.NormFloat64())
			if beta == 0 {
				v = float32(math.NaN())
			}
			tc.c0[i*tc.ldc+j] = v
		}
	}
	tc.want = clone(tc.c0)
	gemmNaive(transA, transB, m, n, k, alpha, tc.a, tc.lda, tc.b, tc.ldb, beta, tc.want, tc.ldc)
	return tc
}

// run calls Gemm on copies of the inputs placed by arena ar (nil = plain
// slices) and checks the result bits (and, through the sentinels copied from
// c0, that nothing between C's rows was written).
func (tc *gemmCase) run(t *testing.T, ar *arena) {
	t.Helper()
	a, b, c := clone(tc.a), clone(tc.b), clone(tc.c0)
	if ar != nil {
		a, b, c = ar.floats(len(tc.a), tc.a), ar.floats(len(tc.b), tc.b), ar.floats(len(tc.c0), tc.c0)
	}
	Gemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, tc.lda, b, tc.ldb, tc.beta, c, tc.ldc)
	if _, ok := bitsEqual(c, tc.want); !ok {
		requireBitsEqual(t, tc.String(), c, tc.want)
	}
}

var gemmSizes = []int{0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 65, 127, 129}

var (
	gemmAlphas = []float32{1, 0, -0.5, 2}
	gemmBetas  = []float32{0, 1, 0.5}
)

// gemmCases returns the shape sweep: every size as a cube with every
// transpose case and (alpha, beta) pair, plus ragged m, n, k combinations.
func gemmCases(t *testing.T) []*gemmCase {
	r := newRand(t)
	var cases []*gemmCase
	for si, s := range gemmSizes {
		for tr := 0; tr < 4; tr++ {
			for ai, alpha := range gemmAlphas {
				for bi, beta := range gemmBetas {
					if s > 33 && (ai+bi+tr)%3 != 0 {
						continue // big cubes: a third of the combinations
					}
					cases = append(cases, newGemmCase(r, tr&1 != 0, tr&2 != 0, s, s, s, alpha, beta, (si+ai+bi)%4))
				}
			}
		}
	}
	for i := 0; i < 160; i++ {
		m, n, k := gemmSizes[r.IntN(len(gemmSizes))], gemmSizes[r.IntN(len(gemmSizes))], gemmSizes[r.IntN(len(gemmSizes))]
		cases = append(cases, newGemmCase(r, i&1 != 0, i&2 != 0, m, n, k,
			gemmAlphas[(i/4)%4], gemmBetas[(i/16)%3], i%5))
	}
	// Several cache blocks in every dimension (kc, mc, nc) and odd tails;
	// 1100×40×1100 takes the many-row path with gemmLargeKc.
	for i, s := range [][3]int{{300, 70, 1100}, {5, 4500, 20}, {700, 20, 600}, {40, 2049, 77}, {1, 1, 3000}, {1100, 40, 1100}} {
		cases = append(cases, newGemmCase(r, i&1 != 0, i&2 != 0, s[0], s[1], s[2], gemmAlphas[i%4], gemmBetas[i%3], i))
		cases = append(cases, newGemmCase(r, i&1 == 0, i&2 == 0, s[0], s[1], s[2], gemmAlphas[(i+1)%4], gemmBetas[(i+1)%3], i+1))
	}
	return cases
}

// TestGemm checks every backend against the canonical definition, bit for
// bit, over the shape sweep.
func TestGemm(t *testing.T) {
	cases := gemmCases(t)
	forEachBackend(t, func(t *testing.T) {
		for _, tc := range cases {
			tc.run(t, nil)
		}
	})
}

// TestGemmKernels checks each backend's micro-kernel (and its optional
// variants) directly against gemmKernExact, including kc = 0.
func TestGemmKernels(t *testing.T) {
	r := newRand(t)
	forEachBackend(t, func(t *testing.T) {
		kr := &cur().gemm
		mr, nr := kr.mr, kr.nr
		for _, kc := range []int{0, 1, 2, 7, 64, 257} {
			for _, load := range []bool{false, true} {
				a := randNormal(r, kc*mr, 0, 1)
				b := randNormal(r, kc*nr, 0, 1)
				ldc := nr + 3
				c0 := randNormal(r, mr*ldc, 0, 1)
				want := clone(c0)
				gemmKernExact(mr, nr, kc, a, b, want, ldc, load)
				got := clone(c0)
				kr.kern(kc, a, b, got, ldc, load)
				requireBitsEqual(t, fmt.Sprintf("kern kc=%d load=%v", kc, load), got, want)
				if kr.normal != nil {
					// No tiny products here: the normal variant must agree,
					// also on values with few significant bits, whose float64
					// sums are often exact and on float32 midpoints.
					got := clone(c0)
					kr.normal.kern(kc, a, b, got, ldc, load)
					requireBitsEqual(t, fmt.Sprintf("normal kern kc=%d load=%v", kc, load), got, want)
					aq, bq, cq := clone(a), clone(b), clone(c0)
					for _, x := range [][]float32{aq, bq, cq} {
						for i := range x {
							x[i] = float32(math.Ldexp(float64(r.IntN(1<<13)-1<<12), r.IntN(9)-16))
						}
					}
					want := clone(cq)
					gemmKernExact(mr, nr, kc, aq, bq, want, ldc, load)
					got = clone(cq)
					kr.normal.kern(kc, aq, bq, got, ldc, load)
					requireBitsEqual(t, fmt.Sprintf("normal kern, short mantissas, kc=%d load=%v", kc, load), got, want)
				}
				if kr.tile != nil {
					// B unpacked with row stride ldb, full width.
					ldb := nr + 5
					bu := make([]float32, max(kc-1, 0)*ldb+nr)
					for p := 0; p < kc; p++ {
						copy(bu[p*ldb:p*ldb+nr], b[p*nr:p*nr+nr])
					}
					got := clone(c0)
					kr.tile(mr, nr, kc, a, bu, ldb, got, ldc, load)
					requireBitsEqual(t, fmt.Sprintf("tile ldb=%d kc=%d load=%v", ldb, kc, load), got, want)
					// Every corner m×n on the packed panel.
					for m := 1; m <= mr; m++ {
						for n := 1; n <= nr; n++ {
							got := clone(c0)
							kr.tile(m, n, kc, a, b, nr, got, ldc, load)
							w := clone(c0)
							for i := 0; i < m; i++ {
								copy(w[i*ldc:i*ldc+n], want[i*ldc:i*ldc+n])
							}
							requireBitsEqual(t, fmt.Sprintf("tile %d×%d kc=%d load=%v", m, n, kc, load), got, w)
						}
					}
				}
			}
		}
	})
}

// TestGemmSpecialValues mixes infinities, NaN, signed zeros and subnormals
// into the operands (and tiny values whose products are subnormal), so the
// fma32 slow paths and the hardware agree on the hard cases too.
func TestGemmSpecialValues(t *testing.T) {
	r := newRand(t)
	var cases []*gemmCase
	for i, s := range [][3]int{{17, 33, 9}, {40, 35, 64}, {3, 70, 130}, {29, 16, 1}} {
		tc := &gemmCase{transA: i&1 != 0, transB: i&2 != 0, m: s[0], n: s[1], k: s[2], alpha: gemmAlphas[i%4], beta: 1}
		ra, ca := gemmStored(tc.transA, tc.m, tc.k)
		rb, cb := gemmStored(tc.transB, tc.k, tc.n)
		tc.lda, tc.ldb, tc.ldc = ca, cb, tc.n
		tc.a = randNormal(r, ra*ca, 0, 1)
		tc.b = randNormal(r, rb*cb, 0, 1)
		tc.c0 = randNormal(r, tc.m*tc.n, 0, 1)
		for _, x := range [][]float32{tc.a, tc.b, tc.c0} {
			sprinkleSpecials(r, x, 0.02)
			for j := range x {
				if r.IntN(8) == 0 {
					x[j] *= 0x1p-70 // products near the subnormal range
				}
			}
		}
		tc.want = clone(tc.c0)
		gemmNaive(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, tc.a, tc.lda, tc.b, tc.ldb, tc.beta, tc.want, tc.ldc)
		cases = append(cases, tc)
	}
	forEachBackend(t, func(t *testing.T) {
		for _, tc := range cases {
			tc.run(t, nil)
		}
	})
}

// TestGemmAccuracy bounds the pure-Go result against a float64 reference:
// |C - C64| <= (k+2)·2^-24·(Σ_p |alpha·a_ip·b_pj| + |beta·c_ij|) + tiny,
// the FMA dot-product bound with one rounding each for alpha and beta.
func TestGemmAccuracy(t *testing.T) {
	r := newRand(t)
	for _, s := range [][3]int{{33, 17, 1000}, {65, 64, 129}, {7, 9, 4099}} {
		m, n, k := s[0], s[1], s[2]
		for _, ab := range [][2]float32{{1, 0}, {-0.5, 1}, {2, 0.5}} {
			alpha, beta := ab[0], ab[1]
			a, b, c := randNormal(r, m*k, 0, 1), randNormal(r, k*n, 0, 1), randNormal(r, m*n, 0, 1)
			got := clone(c)
			reference(func() { Gemm(false, false, m, n, k, alpha, a, k, b, n, beta, got, n) })
			worst := 0.0
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					exact, mag := float64(beta)*float64(c[i*n+j]), math.Abs(float64(beta)*float64(c[i*n+j]))
					for p := 0; p < k; p++ {
						t := float64(alpha) * float64(a[i*k+p]) * float64(b[p*n+j])
						exact += t
						mag += math.Abs(t)
					}
					bound := float64(k+2)*roundoff*mag + 0x1p-140
					e := math.Abs(float64(got[i*n+j]) - exact)
					if e > bound {
						t.Fatalf("m=%d n=%d k=%d alpha=%v beta=%v: C[%d][%d] = %v, float64 %v: error %g > bound %g",
							m, n, k, alpha, beta, i, j, got[i*n+j], exact, e, bound)
					}
					worst = max(worst, e/bound)
				}
			}
			t.Logf("m=%d n=%d k=%d alpha=%v beta=%v: worst error = %.3f of the bound", m, n, k, alpha, beta, worst)
		}
	}
}

// TestGemmGuard places A, B and C flush against guard pages (and inside
// NaN-padded buffers at offsets 0..3): any access outside the operands'
// extents faults or trips a sentinel.
func TestGemmGuard(t *testing.T) {
	r := newRand(t)
	var cases []*gemmCase
	for i, s := range [][3]int{{1, 1, 1}, {7, 17, 5}, {17, 33, 16}, {33, 65, 3}, {14, 32, 9}, {6, 16, 8}, {40, 47, 31}, {65, 7, 70}} {
		for tr := 0; tr < 4; tr++ {
			cases = append(cases, newGemmCase(r, tr&1 != 0, tr&2 != 0, s[0], s[1], s[2], gemmAlphas[(i+tr)%4], gemmBetas[(i+tr)%3], (i+tr)%3))
		}
	}
	forEachBackend(t, func(t *testing.T) {
		forEachLayout(t, func(ar *arena) {
			for _, tc := range cases {
				tc.run(t, ar)
			}
		})
	})
}

// TestGemmNTShapes covers the few-row A·Bᵀ (nt) kernels' edges: every m up
// to past gemmNTMaxRows (row vectors, row groups, masked last rows), column
// counts around their column tiles and chunks, odd and even depths (the
// unrolled k loop), with and without loading C, in plain and guarded layouts.
func TestGemmNTShapes(t *testing.T) {
	r := newRand(t)
	var cases []*gemmCase
	for m := 1; m <= gemmNTMaxRows+2; m++ {
		for i, n := range []int{1, 3, 4, 5, 7, 8, 9, 13, 17} {
			for _, k := range []int{0, 1, 2, 9} {
				cases = append(cases, newGemmCase(r, m%2 == 0, true, m, n, k, gemmAlphas[(m+i)%4], gemmBetas[(m+k+i)%3], (m+n+k)%3))
			}
		}
	}
	forEachBackend(t, func(t *testing.T) {
		for _, tc := range cases {
			tc.run(t, nil)
		}
		forEachLayout(t, func(ar *arena) {
			for i := 0; i < len(cases); i += 11 {
				cases[i].run(t, ar)
			}
		})
	})
}

// TestGemmWorkers checks that results do not depend on how many goroutines
// a call is split into (the split is forced even for small products).
func TestGemmWorkers(t *testing.T) {
	r := newRand(t)
	var cases []*gemmCase
	for i, s := range [][3]int{{129, 257, 65}, {40, 300, 50}, {300, 40, 33}, {3, 1000, 7}, {90, 90, 600}} {
		cases = append(cases, newGemmCase(r, i&1 != 0, i&2 != 0, s[0], s[1], s[2], gemmAlphas[i%4], gemmBetas[i%3], i%3))
	}
	forEachBackend(t, func(t *testing.T) {
		for _, w := range []int{1, 2, 3, 5} {
			restore := setMaxWorkers(w)
			for _, tc := range cases {
				tc.run(t, nil)
			}
			restore()
		}
	})
}

// TestGemmConcurrent calls Gemm from several goroutines at once (run it
// under -race), some of them forcing parallel splits.
func TestGemmConcurrent(t *testing.T) {
	r := newRand(t)
	cases := []*gemmCase{
		newGemmCase(r, false, true, 70, 90, 40, 1, 0, 1),
		newGemmCase(r, true, false, 33, 129, 64, -0.5, 1, 2),
		newGemmCase(r, false, false, 130, 20, 100, 2, 0.5, 0),
	}
	restore := setMaxWorkers(3)
	defer restore()
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := 0; it < 4; it++ {
				tc := cases[(g+it)%len(cases)]
				c := clone(tc.c0)
				Gemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, tc.a, tc.lda, tc.b, tc.ldb, tc.beta, c, tc.ldc)
				if i, ok := bitsEqual(c, tc.want); !ok {
					errs <- fmt.Sprintf("goroutine %d: %v: first difference at %d", g, tc, i)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestGemmNoAlloc checks that Gemm allocates nothing after warm-up, serial
// and split over workers.
func TestGemmNoAlloc(t *testing.T) {
	if raceBuild {
		t.Skip("the race detector allocates")
	}
	r := newRand(t)
	forEachBackend(t, func(t *testing.T) {
		for _, w := range []int{1, 2} {
			restore := setMaxWorkers(w)
			for _, s := range [][3]int{{64, 64, 64}, {40, 130, 70}} {
				m, n, k := s[0], s[1], s[2]
				a, b, c := randNormal(r, m*k, 0, 1), randNormal(r, k*n, 0, 1), make([]float32, m*n)
				for tr := 0; tr < 4; tr++ {
					tA, tB := tr&1 != 0, tr&2 != 0
					lda, ldb := k, n
					if tA {
						lda = m
					}
					if tB {
						ldb = k
					}
					allocs := testing.AllocsPerRun(10, func() {
						Gemm(tA, tB, m, n, k, 0.5, a, lda, b, ldb, 0.5, c, n)
					})
					if allocs != 0 {
						t.Errorf("workers=%d %dx%dx%d tA=%v tB=%v: %v allocs per call", w, m, n, k, tA, tB, allocs)
					}
				}
			}
			restore()
		}
	})
}

// TestGemmPanics checks argument validation and its messages.
func TestGemmPanics(t *testing.T) {
	a, b, c := make([]float32, 12), make([]float32, 20), make([]float32, 15)
	// A 3×4, B 4×5, C 3×5.
	ok := func() { Gemm(false, false, 3, 5, 4, 1, a, 4, b, 5, 0, c, 5) }
	if _, p := panicMessage(ok); p {
		t.Fatal("valid call panicked")
	}
	mustPanic(t, "m<0", func() { Gemm(false, false, -1, 5, 4, 1, a, 4, b, 5, 0, c, 5) }, "negative size", "m=-1")
	mustPanic(t, "k<0", func() { Gemm(false, false, 3, 5, -4, 1, a, 4, b, 5, 0, c, 5) }, "negative size", "k=-4")
	mustPanic(t, "lda", func() { Gemm(false, false, 3, 5, 4, 1, a, 3, b, 5, 0, c, 5) }, "lda 3", "3×4", ">= 4")
	mustPanic(t, "lda transA", func() { Gemm(true, false, 3, 5, 4, 1, a, 2, b, 5, 0, c, 5) }, "lda 2", "4×3", "transposed", ">= 3")
	mustPanic(t, "ldb", func() { Gemm(false, false, 3, 5, 4, 1, a, 4, b, 4, 0, c, 5) }, "ldb 4", "4×5", ">= 5")
	mustPanic(t, "ldb transB", func() { Gemm(false, true, 3, 5, 4, 1, a, 4, b, 3, 0, c, 5) }, "ldb 3", "5×4", ">= 4")
	mustPanic(t, "ldc", func() { Gemm(false, false, 3, 5, 4, 1, a, 4, b, 5, 0, c, 4) }, "ldc 4", "3×5", ">= 5")
	mustPanic(t, "ldc 0", func() { Gemm(false, false, 0, 0, 0, 1, nil, 1, nil, 1, 0, nil, 0) }, "ldc 0", ">= 1")
	mustPanic(t, "short a", func() { Gemm(false, false, 3, 5, 4, 1, a[:11], 4, b, 5, 0, c, 5) }, "short a", "len(a) = 11", "needs 12")
	mustPanic(t, "short b", func() { Gemm(false, false, 3, 5, 4, 1, a, 4, b[:19], 5, 0, c, 5) }, "short b", "len(b) = 19", "needs 20")
	mustPanic(t, "short c", func() { Gemm(false, false, 3, 5, 4, 1, a, 4, b, 5, 0, c[:14], 5) }, "short c", "len(c) = 14", "needs 15")
	mustPanic(t, "short c ldc", func() { Gemm(false, false, 3, 5, 4, 1, a, 4, b, 5, 0, c, 6) }, "short c", "ldc 6", "needs 17")
	// Empty operands need no storage.
	if _, p := panicMessage(func() { Gemm(false, false, 3, 5, 0, 1, nil, 1, nil, 5, 0, c, 5) }); p {
		t.Error("k=0 with empty A and B panicked")
	}
	if _, p := panicMessage(func() { Gemm(false, false, 0, 5, 4, 1, nil, 4, b, 5, 0, nil, 5) }); p {
		t.Error("m=0 with empty A and C panicked")
	}
}

// FuzzGemm compares the active backend with the canonical definition on
// random shapes, strides, transposes, scalars and values.
func FuzzGemm(f *testing.F) {
	f.Add(uint64(1), uint8(5), uint8(7), uint8(3), uint8(0), uint8(0))
	f.Add(uint64(2), uint8(40), uint8(33), uint8(17), uint8(15), uint8(3))
	f.Add(uint64(3), uint8(1), uint8(100), uint8(64), uint8(6), uint8(0xff))
	f.Fuzz(func(t *testing.T, seed uint64, m8, n8, k8, flags, pads uint8) {
		m, n, k := int(m8)%80, int(n8)%80, int(k8)%80
		r := rand.New(rand.NewPCG(seed, 7))
		alpha := []float32{1, 0, -0.5, 2, float32(r.NormFloat64())}[int(flags>>2)%5]
		beta := []float32{0, 1, 0.5, float32(r.NormFloat64())}[int(flags>>5)%4]
		tc := newGemmCase(r, flags&1 != 0, flags&2 != 0, m, n, k, alpha, beta, int(pads))
		if flags&0x80 != 0 {
			for _, x := range [][]float32{tc.a, tc.b} {
				for i := range x {
					x[i] = math.Float32frombits(r.Uint32())
				}
			}
			tc.want = clone(tc.c0)
			gemmNaive(tc.transA, tc.transB, m, n, k, alpha, tc.a, tc.lda, tc.b, tc.ldb, beta, tc.want, tc.ldc)
		}
		tc.run(t, nil)
	})
}

// TestGemmBlockingParams sanity-checks every backend's blocking.
func TestGemmBlockingParams(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		kr := &cur().gemm
		kc, mc, nc := gemmBlocking(kr)
		t.Logf("mr=%d nr=%d kc=%d mc=%d nc=%d (L1D %d, L2 %d)", kr.mr, kr.nr, kc, mc, nc, gemmL1, gemmL2)
		if kc < 1 || mc < kr.mr || mc%kr.mr != 0 || nc < kr.nr {
			t.Errorf("bad blocking kc=%d mc=%d nc=%d for %d×%d", kc, mc, nc, kr.mr, kr.nr)
		}
	})
}

// TestGemmPack checks the packing routines (asm where a backend has them)
// against the Go packing, for every transpose case, alpha, and panel/tail
// shapes, with the source flush against guard pages.
func TestGemmPack(t *testing.T) {
	r := newRand(t)
	forEachBackend(t, func(t *testing.T) {
		kr := cur().gemm
		goKr := gemmKernel{mr: kr.mr, nr: kr.nr, kern: kr.kern}
		for _, tr := range []bool{false, true} {
			for _, s := range [][2]int{{1, 1}, {kr.mr, 8}, {3*kr.mr + 1, 17}, {2 * kr.nr, 9}, {kr.nr + 5, 64}, {kr.mr - 1, 3}} {
				rows, kb := s[0], s[1]
				for _, alpha := range []float32{1, -0.5} {
					forEachLayout(t, func(ar *arena) {
						// A: rows×kb (or kb×rows stored when tr); B: kb×rows (or rows×kb).
						ld := kb + 3
						if tr {
							ld = rows + 2
						}
						ra, ca := gemmStored(tr, rows, kb)
						a := ar.floats(gemmLen(ra, ca, ld), randNormal(r, gemmLen(ra, ca, ld), 0, 1))
						g := &gemmArgs{transA: tr, transB: !tr, m: rows, n: rows, k: kb, alpha: alpha, a: a, lda: ld, b: a, ldb: ld}
						want := make([]float32, roundUp(rows, kr.mr)*kb)
						got := make([]float32, len(want))
						fillSentinel(got)
						gemmPackA(&goKr, want, g, 0, rows, 0, kb)
						gemmPackA(&kr, got, g, 0, rows, 0, kb)
						requireBitsEqual(t, fmt.Sprintf("packA tA=%v rows=%d kb=%d alpha=%v", tr, rows, kb, alpha), got, want)
						// The same storage read as B: op(B) is kb×rows.
						want = make([]float32, roundUp(rows, kr.nr)*kb)
						got = make([]float32, len(want))
						fillSentinel(got)
						gemmPackB(&goKr, want, g, 0, kb, 0, rows)
						gemmPackB(&kr, got, g, 0, kb, 0, rows)
						requireBitsEqual(t, fmt.Sprintf("packB tB=%v cols=%d kb=%d", !tr, rows, kb), got, want)
					})
				}
			}
		}
	})
}

// fmaTryNormalCheck returns fmaTryNormal's result when it vouches for it,
// else fma32.
func fmaTryNormalCheck(a, b, c float32) float32 {
	if s, ok := fmaTryNormal(float64(a), float64(b), c); ok {
		return s
	}
	return fma32(a, b, c)
}

// TestFMATryNormal checks fmaTryNormal (the step of the pure-Go kernel that
// Gemm uses when gemmTinyProducts is false) against the exact FMA wherever
// its precondition holds: every product zero or at least 2^-130 in
// magnitude. The cases aim at its weak spots: sums cancelling into the
// float32 subnormal range, subnormal and random-bit c, float32 rounding
// midpoints, Inf and NaN.
func TestFMATryNormal(t *testing.T) {
	n := 100000
	if reduced() {
		n = 20000
	}
	r := rand.New(rand.NewPCG(7, 8))
	tested := 0
	check := func(a, b, c float32) {
		t.Helper()
		if p := math.Abs(float64(a) * float64(b)); p != 0 && p < 0x1p-130 {
			return // outside the precondition
		}
		tested++
		if got, want := fmaTryNormalCheck(a, b, c), fmaExact(a, b, c); !sameBits(got, want) {
			t.Fatalf("fmaTryNormal(%v, %v, %v) = %v (%#08x), exact %v (%#08x)", a, b, c,
				got, math.Float32bits(got), want, math.Float32bits(want))
		}
	}
	for i := 0; i < n; i++ {
		check(math.Float32frombits(r.Uint32()), math.Float32frombits(r.Uint32()), math.Float32frombits(r.Uint32()))
		check(float32(r.NormFloat64()), float32(r.NormFloat64()), float32(r.NormFloat64()))
		// Products just above the bound, c cancelling most of them: the
		// sum lands in the subnormal range.
		a := float32(math.Ldexp(1+r.Float64(), -65-r.IntN(3)))
		b := float32(math.Ldexp(1+r.Float64(), -62-r.IntN(3)))
		p := float64(a) * float64(b)
		check(a, b, -float32(p*(1+math.Ldexp(r.NormFloat64(), -20-r.IntN(8)))))
		check(a, b, math.Float32frombits(r.Uint32()&0x807fffff)) // subnormal c
		// Midpoints: a·b with exactly 25 significant bits, c tiny.
		ma := float64(1<<12 | r.IntN(1<<12))
		mb := float64(1<<11 | r.IntN(1<<11))
		a = float32(math.Ldexp(ma, r.IntN(40)-20))
		b = float32(math.Ldexp(mb, r.IntN(40)-20))
		p = float64(a) * float64(b)
		check(a, b, float32(math.Ldexp(p, -30-r.IntN(90))))
		check(a, b, -float32(math.Ldexp(p, -30-r.IntN(90))))
		// Near overflow.
		check(float32(math.Ldexp(1+r.Float64(), 64)), float32(math.Ldexp(1+r.Float64(), 63)), -float32(math.Ldexp(1+r.Float64(), 126)))
	}
	for _, a := range specialValues {
		for _, b := range specialValues {
			for _, c := range specialValues {
				check(a, b, c)
			}
		}
	}
	if tested < 5*n {
		t.Fatalf("only %d cases met the precondition", tested)
	}
}

// TestGemmTinyProducts: a product below 2^-130 whose sum with a subnormal c
// is inexact in float64 and rounds onto a float32 midpoint, so that
// fmaTryNormal alone would round it the wrong way. Gemm must see the tiny
// product and keep the careful kernel, on every backend.
func TestGemmTinyProducts(t *testing.T) {
	a := float32(math.Ldexp(1+0x1p-23, -75))
	b := float32(math.Ldexp(1-0x1p-23, -75))
	c := math.Float32frombits(1<<22 + 1) // (2^22+1)·2^-149, odd
	want := fmaExact(a, b, c)
	if got, ok := fmaTryNormal(float64(a), float64(b), c); !ok || got == want {
		t.Fatalf("the case no longer defeats fmaTryNormal: got %v ok=%v, exact %v", got, ok, want)
	}
	if got := fma32(a, b, c); got != want {
		t.Fatalf("fma32 = %v, exact %v", got, want)
	}
	g := &gemmArgs{m: 1, n: 1, k: 1, alpha: 1, a: []float32{a}, lda: 1, b: []float32{b}, ldb: 1}
	if !gemmTinyProducts(g) {
		t.Fatal("gemmTinyProducts missed a product of 2^-150")
	}
	// In a tile among ordinary values, through every backend.
	const m, n, k = 9, 11, 5
	r := newRand(t)
	am, bm, c0 := randNormal(r, m*k, 0, 1), randNormal(r, k*n, 0, 1), randNormal(r, m*n, 0, 1)
	for p := 0; p < k; p++ {
		am[5*k+p], bm[p*n+7] = 0, 0
	}
	am[5*k+2], bm[2*n+7], c0[5*n+7] = a, b, c
	wantC := clone(c0)
	gemmNaive(false, false, m, n, k, 1, am, k, bm, n, 1, wantC, n)
	if wantC[5*n+7] != want {
		t.Fatalf("naive C = %v, want %v", wantC[5*n+7], want)
	}
	forEachBackend(t, func(t *testing.T) {
		got := clone(c0)
		Gemm(false, false, m, n, k, 1, am, k, bm, n, 1, got, n)
		requireBitsEqual(t, "Gemm with a tiny product", got, wantC)
	})
}

// TestGemmMinAbs covers gemmMinAbs and gemmTinyProducts on zeros, Inf, NaN,
// subnormals, strides and alpha.
func TestGemmMinAbs(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	for _, tc := range []struct {
		s    []float32
		want float64
	}{
		{[]float32{0, 0, 0, 0, 0}, 0},
		{[]float32{0, inf, nan, -inf, 0}, 0},
		{[]float32{0, 3, -2, nan, 5, 0.5, 7}, 0.5},
		{[]float32{-0x1p-140, 1, 2, 3, 4, 5, 6, 7, 8}, 0x1p-140},
		{[]float32{1, 2, 3, 4, 5, 6, 7, 8, -0x1p-100}, 0x1p-100},
		{[]float32{-math.MaxFloat32, inf}, math.MaxFloat32},
	} {
		if got := gemmMinAbs(false, 1, len(tc.s), tc.s, len(tc.s)); got != tc.want {
			t.Errorf("gemmMinAbs(%v) = %g, want %g", tc.s, got, tc.want)
		}
	}
	// Strides: the gaps between rows are not read.
	s := []float32{4, 5, 0x1p-100, 6, 7, 0x1p-100}
	if got := gemmMinAbs(false, 2, 2, s, 3); got != 4 {
		t.Errorf("strided gemmMinAbs = %g, want 4", got)
	}
	if got := gemmMinAbs(true, 2, 2, s, 3); got != 4 {
		t.Errorf("transposed gemmMinAbs = %g, want 4", got)
	}
	tiny := func(alpha, a, b float32) bool {
		return gemmTinyProducts(&gemmArgs{m: 1, n: 1, k: 1, alpha: alpha, a: []float32{a}, lda: 1, b: []float32{b}, ldb: 1})
	}
	for _, tc := range []struct {
		alpha, a, b float32
		want        bool
	}{
		{1, 1, 1, false},
		{1, 0x1p-64, 0x1p-64, false},
		{1, 0x1p-66, 0x1p-66, true},
		{0x1p-60, 1, 0x1p-60, false},
		{0x1p-60, 1, 0x1p-80, true},
		{0x1p-100, 0x1p-30, 1, true}, // alpha·a would be subnormal
		{1, 0, 0x1p-140, false},
		{1, inf, 0x1p-140, false},
		{1, 0x1p-140, nan, false},
	} {
		if got := tiny(tc.alpha, tc.a, tc.b); got != tc.want {
			t.Errorf("gemmTinyProducts(alpha=%g, a=%g, b=%g) = %v, want %v", tc.alpha, tc.a, tc.b, got, tc.want)
		}
	}
}
