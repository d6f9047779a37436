package kernels

// The integer-overflow class of shape bugs: sizes, leading dimensions, mask
// lengths, causal offsets and dropout counts near MaxInt, whose products or
// sums wrap around. Every such call must either panic with the package's own
// message (before any backend runs: recover works and no memory is touched)
// or run correctly within its slices. Each case runs on every backend of
// this CPU/build (neon under qemu-aarch64) in every operand layout: NaN
// sentinels around the operands and guard pages at either end.

import (
	"fmt"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/simdformer/simdformer/internal/guard"
)

const minInt = -maxInt - 1

// watched allocates operands through an arena with known contents and checks
// afterwards that a call which panicked left them untouched (the arena
// checks the memory around them).
type watched struct {
	a    *arena
	f32  [][2][]float32
	u64s [][]uint64
}

// f returns n floats 1, 2, 3, … placed per the arena's layout.
func (w *watched) f(n int) []float32 {
	init := make([]float32, n)
	for i := range init {
		init[i] = float32(i + 1)
	}
	s := w.a.floats(n, init)
	w.f32 = append(w.f32, [2][]float32{s, init})
	return s
}

// u returns n zeroed words placed per the arena's layout.
func (w *watched) u(n int) []uint64 {
	s := w.a.uint64s(n)
	w.u64s = append(w.u64s, s)
	return s
}

func (w *watched) check(t *testing.T, what string) {
	t.Helper()
	for i, p := range w.f32 {
		if _, ok := bitsEqual(p[0], p[1]); !ok {
			t.Errorf("%s: operand %d was written before the panic", what, i)
		}
	}
	for i, s := range w.u64s {
		for _, v := range s {
			if v != 0 {
				t.Errorf("%s: mask operand %d was written before the panic", what, i)
				break
			}
		}
	}
}

type overflowCase struct {
	name string
	call func(w *watched)
	want []string // substrings of the panic message
}

// gemmOverflowCases: the reproducers, then every transpose case
// with each of lda, ldb, ldc set to values whose span wraps (or is merely
// too long for the slice), and negative/huge sizes.
func gemmOverflowCases() []overflowCase {
	cs := []overflowCase{
		{"Gemm ldc=2^62-1 (writes before C)", func(w *watched) {
			Gemm(false, false, 5, 4, 1, 1, w.f(5), 1, w.f(4), 4, 0, w.f(4), 1<<62-1)
		}, []string{"kernels.Gemm", "ldc 4611686018427387903", "C stored 5×4", "MaxInt"}},
		{"Gemm ldb=2^61 k=9 (SIGSEGV)", func(w *watched) {
			Gemm(false, false, 2, 3, 9, 1, w.f(18), 9, w.f(3), 1<<61, 0, w.f(6), 3)
		}, []string{"kernels.Gemm", "ldb 2305843009213693952", "B stored 9×3"}},
		{"Gemm lda=2^60 m=17 k=8 (SIGSEGV)", func(w *watched) {
			Gemm(false, false, 17, 2, 8, 1, w.f(8), 1<<60, w.f(16), 2, 0, w.f(34), 2)
		}, []string{"kernels.Gemm", "lda 1152921504606846976", "A stored 17×8"}},
		{"Gemm m=n=2^40 k=0", func(w *watched) {
			Gemm(false, false, 1<<40, 1<<40, 0, 1, nil, 1, nil, 1<<40, 0, w.f(4), 1<<40)
		}, []string{"kernels.Gemm", "ldc 1099511627776", "C stored 1099511627776×1099511627776"}},
		{"Gemm m=n=2^40 k=0 beta=2", func(w *watched) {
			Gemm(false, false, 1<<40, 1<<40, 0, 1, nil, 1, nil, 1<<40, 2, w.f(4), 1<<41)
		}, []string{"kernels.Gemm", "ldc 2199023255552"}},
		{"Gemm m=n=2^31 k=0 (fits, short)", func(w *watched) {
			Gemm(false, false, 1<<31, 1<<31, 0, 1, nil, 1, nil, 1<<31, 0, w.f(4), 1<<31)
		}, []string{"kernels.Gemm", "short c", "len(c) = 4", "needs 4611686018427387904"}},
		{"Gemm m=MinInt", func(w *watched) {
			Gemm(false, false, minInt, 4, 1, 1, w.f(4), 1, w.f(4), 4, 0, w.f(4), 4)
		}, []string{"kernels.Gemm", "negative size", fmt.Sprint(minInt)}},
		{"Gemm k=MaxInt", func(w *watched) {
			Gemm(false, false, 1, 1, maxInt, 1, w.f(4), maxInt, w.f(4), 1, 0, w.f(1), 1)
		}, []string{"kernels.Gemm", "short a", "needs 9223372036854775807"}},
		{"Gemm transB k=MaxInt", func(w *watched) {
			Gemm(false, true, 1, 2, maxInt, 1, w.f(4), maxInt, w.f(4), maxInt, 0, w.f(2), 2)
		}, []string{"kernels.Gemm", "short a"}},
	}
	const m, n, k = 5, 4, 3
	for tr := 0; tr < 4; tr++ {
		tA, tB := tr&1 != 0, tr&2 != 0
		ra, ca := gemmStored(tA, m, k)
		rb, cb := gemmStored(tB, k, n)
		for op := 0; op < 3; op++ {
			for _, ld := range []int{1 << 62, 1<<62 - 1, maxInt, maxInt/2 + 1, 1 << 40, -1, minInt} {
				lds := [3]int{ca, cb, n}
				lds[op] = ld
				ldName := [3]string{"lda", "ldb", "ldc"}[op]
				rows := [3]int{ra, rb, m}[op]
				cols := [3]int{ca, cb, n}[op]
				want := []string{"kernels.Gemm", fmt.Sprintf("%s %d", ldName, ld), fmt.Sprintf("%d×%d", rows, cols)}
				switch {
				case ld < cols:
					want = append(want, "bad "+ldName, fmt.Sprintf(">= %d", cols))
				case ld > (maxInt-cols)/(rows-1):
					want = append(want, "bad "+ldName, "MaxInt")
				default:
					want = append(want, "short "+[3]string{"a", "b", "c"}[op])
				}
				cs = append(cs, overflowCase{
					fmt.Sprintf("Gemm tA=%v tB=%v %s=%d", tA, tB, ldName, ld),
					func(w *watched) {
						Gemm(tA, tB, m, n, k, 1, w.f(ra*ca), lds[0], w.f(rb*cb), lds[1], 0.5, w.f(m*n), lds[2])
					}, want})
			}
		}
	}
	return cs
}

// rowOverflowCases: rows×cols, mask words and counts that wrap.
func rowOverflowCases() []overflowCase {
	const big = 1 << 32 // big×big wraps to 0
	f := func(w *watched) []float32 { return w.f(4) }
	return []overflowCase{
		{"DropoutMask n=MaxInt", func(w *watched) { DropoutMask(w.u(4), maxInt, 0.5, 1, 0) },
			[]string{"DropoutMask", "n=9223372036854775807", "needs 144115188075855872 words", "len(mask)=4"}},
		{"DropoutMask n=MaxInt p=0", func(w *watched) { DropoutMask(w.u(4), maxInt, 0, 1, 0) },
			[]string{"DropoutMask", "n=9223372036854775807", "needs 144115188075855872 words"}},
		{"DropoutMask n=MaxInt-62", func(w *watched) { DropoutMask(w.u(4), maxInt-62, 0.9, 1, 1<<64-3) },
			[]string{"DropoutMask", "n=9223372036854775745", "needs 144115188075855872 words"}},
		{"DropoutMask n=MinInt", func(w *watched) { DropoutMask(w.u(4), minInt, 0.5, 1, 0) },
			[]string{"DropoutMask", "negative n=-9223372036854775808"}},
		{"Softmax 2^32×2^32", func(w *watched) { Softmax(f(w), f(w), big, big, SoftmaxOptions{}) },
			[]string{"Softmax", "rows=4294967296", "cols=4294967296"}},
		{"Softmax MaxInt×2 causal", func(w *watched) {
			Softmax(f(w), f(w), maxInt, 2, SoftmaxOptions{Causal: true, CausalOffset: maxInt})
		}, []string{"Softmax", "rows=9223372036854775807", "cols=2"}},
		{"Softmax dropout 2^32×2^32", func(w *watched) {
			SoftmaxDropout(f(w), f(w), f(w), big, big, SoftmaxOptions{Dropout: 0.5, Offset: 1<<64 - 1})
		}, []string{"SoftmaxDropout", "rows=4294967296"}},
		{"Softmax MinInt rows", func(w *watched) { Softmax(f(w), f(w), minInt, 0, SoftmaxOptions{}) },
			[]string{"Softmax", "rows=-9223372036854775808"}},
		{"SoftmaxBackward 2^32×2^32", func(w *watched) { SoftmaxBackward(f(w), f(w), f(w), big, big, 1) },
			[]string{"SoftmaxBackward", "rows=4294967296", "cols=4294967296"}},
		{"SoftmaxDropoutBackward 2^32×2^32", func(w *watched) {
			SoftmaxDropoutBackward(f(w), f(w), f(w), big, big, 1, 0.5, 1, 1<<64-1)
		}, []string{"SoftmaxDropoutBackward", "rows=4294967296"}},
		{"LayerNorm 2^32×2^32", func(w *watched) { LayerNorm(f(w), nil, nil, f(w), nil, nil, big, big, 1e-5) },
			[]string{"LayerNorm", "rows=4294967296", "cols=4294967296"}},
		{"LayerNorm 3×(MaxInt/2)", func(w *watched) { LayerNorm(f(w), nil, nil, f(w), nil, nil, 3, maxInt/2, 1e-5) },
			[]string{"LayerNorm", "rows=3", "cols=4611686018427387903"}},
		{"LayerNormBackward 2^32×2^32", func(w *watched) {
			LayerNormBackward(f(w), nil, nil, f(w), f(w), f(w), f(w), nil, big, big)
		}, []string{"LayerNormBackward", "rows=4294967296"}},
	}
}

// TestOverflowPanics runs every wrapping case on every backend and layout:
// the package's own panic, operands unchanged, memory around them intact.
func TestOverflowPanics(t *testing.T) {
	cases := append(gemmOverflowCases(), rowOverflowCases()...)
	forEachBackend(t, func(t *testing.T) {
		forEachLayout(t, func(a *arena) {
			for _, c := range cases {
				w := &watched{a: a}
				what := c.name + " " + a.l.name
				mustPanic(t, what, func() { c.call(w) }, c.want...)
				w.check(t, what)
			}
		})
	})
}

// TestOverflowValidExtremes: extreme values that are valid run correctly
// within their slices on every backend and layout. A leading dimension is
// unused for an operand with one stored row (any ld >= cols is valid);
// CausalOffset may be any int; rows×0 returns at once however large rows is;
// dropout indices wrap modulo 2^64.
func TestOverflowValidExtremes(t *testing.T) {
	r := newRand(t)
	// Gemm: each operand with one stored row and a huge ld, against the
	// same product with the compact ld.
	type gc struct {
		tA, tB  bool
		m, n, k int
		op      int // 0: a, 1: b, 2: c
	}
	gcs := []gc{
		gc{false, false, 1, 37, 45, 0}, gc{false, true, 1, 70, 45, 0}, // A 1×k
		gc{true, false, 37, 45, 1, 0}, gc{true, true, 50, 9, 1, 0}, // Aᵀ stored 1×m
		gc{false, false, 37, 45, 1, 1}, gc{true, false, 15, 70, 1, 1}, // B 1×n
		gc{false, true, 37, 1, 45, 1}, gc{true, true, 20, 1, 33, 1}, // Bᵀ stored 1×k
		gc{false, false, 1, 70, 33, 2}, gc{false, true, 1, 40, 9, 2}, gc{true, true, 1, 17, 65, 2}, // C 1×n
	}
	lds := []int{maxInt, 1 << 62, 1<<62 - 1, 1 << 40}
	forEachBackend(t, func(t *testing.T) {
		forEachLayout(t, func(ar *arena) {
			for _, g := range gcs {
				for _, ld := range lds {
					tc := newGemmCase(r, g.tA, g.tB, g.m, g.n, g.k, 1, 0.5, 0)
					switch g.op {
					case 0:
						tc.lda = ld
					case 1:
						tc.ldb = ld
					default:
						tc.ldc = ld
					}
					tc.run(t, ar)
				}
			}
			// Empty products with huge sizes return without touching anything.
			c := ar.floats(3, []float32{1, 2, 3})
			Gemm(false, false, 1<<40, 0, 0, 1, nil, 1, nil, 1, 0, c, 1)
			Gemm(false, false, 0, 1<<40, 0, 1, nil, 1, nil, 1<<40, 0, c, 1<<40)
			Gemm(true, true, 0, 0, maxInt, 1, nil, 1, nil, maxInt, 0, c, 1)
			requireBitsEqual(t, "Gemm empty", c, []float32{1, 2, 3})
		})
	})

	// Softmax: CausalOffset near MaxInt shows every column (it used to wrap
	// and mask whole rows); near MinInt hides every column (zeros).
	const rows, cols = 5, 37
	x := mixedData(r, rows*cols, 3, false)
	var plain, zeros []float32
	reference(func() {
		plain = make([]float32, rows*cols)
		Softmax(plain, x, rows, cols, SoftmaxOptions{})
	})
	zeros = make([]float32, rows*cols)
	forEachBackend(t, func(t *testing.T) {
		forEachLayout(t, func(ar *arena) {
			for _, off := range []int{maxInt, maxInt - 1, maxInt - rows, maxInt - cols, cols, cols - 1, 1 << 62} {
				y := ar.floats(rows*cols, nil)
				Softmax(y, ar.from(x), rows, cols, SoftmaxOptions{Causal: true, CausalOffset: off})
				requireBitsEqual(t, fmt.Sprintf("Softmax CausalOffset=%d", off), y, plain)
			}
			for _, off := range []int{minInt, minInt + 1, -maxInt, -(1 << 62), -rows - 1} {
				y := ar.floats(rows*cols, nil)
				Softmax(y, ar.from(x), rows, cols, SoftmaxOptions{Causal: true, CausalOffset: off})
				requireBitsEqual(t, fmt.Sprintf("Softmax CausalOffset=%d", off), y, zeros)
			}
			// Row r sees r+off+1 columns: the boundary offsets keep working.
			y := ar.floats(rows*cols, nil)
			Softmax(y, ar.from(x), rows, cols, SoftmaxOptions{Causal: true, CausalOffset: cols - rows})
			for j := cols - rows + 1; j < cols; j++ {
				if y[j] != 0 {
					t.Fatalf("CausalOffset=%d: row 0 column %d = %v, want 0", cols-rows, j, y[j])
				}
			}
			// rows×0 with huge rows: nothing to do, returns at once.
			SoftmaxDropout(nil, nil, nil, maxInt, 0, SoftmaxOptions{Causal: true, CausalOffset: maxInt, Dropout: 0.5})
			SoftmaxBackward(nil, nil, nil, maxInt, 0, 1)
			SoftmaxDropoutBackward(nil, nil, nil, maxInt, 0, 1, 0.5, 1, 1<<64-1)
			LayerNorm(nil, nil, nil, nil, nil, nil, maxInt, 0, 1e-5)
		})
	})

	// Dropout, DropoutMask and the softmax dropout across the 2^64 index
	// wrap: element j has index offset+j mod 2^64, as DropoutKeep says.
	const n = 200
	src := mixedData(r, n, 1, false)
	for _, off := range []uint64{1<<64 - 37, 1<<64 - 1, 1<<64 - 64, 1<<64 - 130} {
		const p, seed = 0.3, 77
		want := make([]float32, n)
		scale := float32(1 / (1 - float64(float32(p))))
		for j := range want {
			m := float32(0)
			if DropoutKeep(seed, off+uint64(j), p) {
				m = scale
			}
			want[j] = float32(src[j] * m)
		}
		forEachBackend(t, func(t *testing.T) {
			forEachLayout(t, func(ar *arena) {
				y := ar.floats(n, nil)
				Dropout(y, ar.from(src), p, seed, off)
				requireBitsEqual(t, fmt.Sprintf("Dropout offset=%d", off), y, want)
				m := ar.uint64s(ceilDiv64(n))
				DropoutMask(m, n, p, seed, off)
				for j := 0; j < n; j++ {
					if maskBit(m, j) != DropoutKeep(seed, off+uint64(j), p) {
						t.Fatalf("DropoutMask offset=%d: bit %d differs from DropoutKeep", off, j)
					}
				}
				for j := n; j < len(m)*64; j++ {
					if maskBit(m, j) {
						t.Fatalf("DropoutMask offset=%d: padding bit %d set", off, j)
					}
				}
				// The fused softmax dropout uses index offset + r*cols + j.
				const sr, sc = 4, n / 4
				probs := ar.floats(n, nil)
				dd := ar.floats(n, nil)
				SoftmaxDropout(probs, dd, ar.from(src), sr, sc, SoftmaxOptions{Dropout: p, Seed: seed, Offset: off})
				wantDD := make([]float32, n)
				for j := range wantDD {
					m := float32(0)
					if DropoutKeep(seed, off+uint64(j), p) {
						m = scale
					}
					wantDD[j] = float32(probs[j] * m)
				}
				requireBitsEqual(t, fmt.Sprintf("SoftmaxDropout drop offset=%d", off), dd, wantDD)
			})
		})
	}
}

// fuzzHuge maps a fuzzer value onto the interesting integer ranges: small,
// just below MaxInt, around 2^62, powers of two from 2^31, MaxInt/d + 1
// (products with small d wrap), near MinInt, small negative, raw.
func fuzzHuge(v uint64, mode uint8) int {
	s := int(v % 70)
	switch mode % 8 {
	case 0:
		return s
	case 1:
		return maxInt - s
	case 2:
		return 1<<62 + s - 35
	case 3:
		return 1 << (31 + v%32)
	case 4:
		return maxInt/(2+s) + 1
	case 5:
		return minInt + s
	case 6:
		return -(s % 5)
	}
	return int(v)
}

// fuzzCall runs fn on every backend with faults turned into panics and
// returns each backend's panic message ("" when it returned). A panic that
// is not the package's own ("kernels…") — a runtime bounds error or a
// guard-page fault — fails t, as does a disagreement between backends.
func fuzzCall(t *testing.T, what string, fn func()) (panicked bool) {
	t.Helper()
	var first string
	for i, name := range Backends() {
		var msg string
		var p bool
		withBackend(name, func() {
			defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
			msg, p = panicMessage(fn)
		})
		if p && !strings.HasPrefix(msg, "kernels") {
			t.Fatalf("%s: backend %s: foreign panic (out of bounds?): %s", what, name, msg)
		}
		if i == 0 {
			first, panicked = msg, p
		} else if msg != first || p != panicked {
			t.Fatalf("%s: backend %s panics %v %q, %s %v %q", what, name, p, msg, Backends()[0], panicked, first)
		}
	}
	return panicked
}

// guardedFloats returns n floats 1, 2, … flush against a guard page (at
// the end, or at the start when head).
func guardedFloats(t *testing.T, n int, head bool) []float32 {
	alloc := guard.Float32s
	if head {
		alloc = guard.Float32sHead
	}
	s, free := alloc(n)
	t.Cleanup(free)
	for i := range s {
		s[i] = float32(i%7) - 3
	}
	return s
}

// FuzzGemmExtreme feeds Gemm sizes and leading dimensions from the whole
// int range (see fuzzHuge) with short guarded slices: every call must panic
// with Gemm's message or give the bits of purego on every backend.
func FuzzGemmExtreme(f *testing.F) {
	// (values, modes) per m, n, k, lda, ldb, ldc; lengths of a, b, c; flags.
	f.Add(uint64(5), uint64(4), uint64(1), uint64(1), uint64(4), uint64(0), uint32(0x01000000), uint16(5), uint16(4), uint16(4), uint8(0))         // the ldc = 2^62-1
	f.Add(uint64(2), uint64(3), uint64(9), uint64(9), uint64(30), uint64(3), uint32(0x00030000), uint16(18), uint16(3), uint16(6), uint8(0))       // ldb = 2^61, k = 9
	f.Add(uint64(17), uint64(2), uint64(8), uint64(29), uint64(2), uint64(2), uint32(0x00003000), uint16(8), uint16(16), uint16(34), uint8(4))     // lda = 2^60, m = 17
	f.Add(uint64(9), uint64(9), uint64(0), uint64(1), uint64(9), uint64(9), uint32(0x00330033), uint16(0), uint16(0), uint16(64), uint8(2))        // m = n = 2^40, k = 0
	f.Add(uint64(1), uint64(40), uint64(33), uint64(0), uint64(40), uint64(0), uint32(0x00100000), uint16(33), uint16(1320), uint16(40), uint8(3)) // C 1×40, ldc = MaxInt
	f.Add(uint64(1), uint64(40), uint64(33), uint64(0), uint64(0), uint64(0), uint32(0x00001000), uint16(33), uint16(1320), uint16(40), uint8(9))  // A 1×33, lda = MaxInt
	f.Add(uint64(3), uint64(7), uint64(5), uint64(0), uint64(0), uint64(0), uint32(0x00444000), uint16(15), uint16(35), uint16(21), uint8(7))      // MaxInt/2+1 strides
	f.Fuzz(func(t *testing.T, mv, nv, kv, ldav, ldbv, ldcv uint64, modes uint32, la, lb, lc uint16, flags uint8) {
		md := func(i int) uint8 { return uint8(modes >> (4 * i) & 0xf) }
		m, n, k := fuzzHuge(mv, md(0)), fuzzHuge(nv, md(1)), fuzzHuge(kv, md(2))
		lda, ldb, ldc := fuzzHuge(ldav, md(3)), fuzzHuge(ldbv, md(4)), fuzzHuge(ldcv, md(5))
		if modes>>24&1 != 0 { // raw 2^62-1 style strides
			ldc = 1<<62 - 1 - int(ldcv%3)
		}
		const maxLen = 1 << 11 // keeps any product that passes the checks small
		tA, tB := flags&1 != 0, flags&2 != 0
		head := flags&4 != 0
		alpha, beta := float32(1), []float32{0, 1, 0.5, 2}[flags>>3&3]
		a := guardedFloats(t, int(la)%maxLen, head)
		b := guardedFloats(t, int(lb)%maxLen, !head)
		c0 := guardedFloats(t, int(lc)%maxLen, head)
		what := fmt.Sprintf("Gemm(%v, %v, %d, %d, %d, lda=%d, ldb=%d, ldc=%d, len %d/%d/%d)",
			tA, tB, m, n, k, lda, ldb, ldc, len(a), len(b), len(c0))
		var want []float32
		reference(func() {
			want = clone(c0)
			if _, p := panicMessage(func() { Gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc) }); p {
				want = nil
			}
		})
		c := guardedFloats(t, len(c0), !head)
		panicked := fuzzCall(t, what, func() {
			copy(c, c0)
			Gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
			if want != nil {
				requireBitsEqual(t, what+" backend="+Backend(), c, want)
			}
		})
		if panicked != (want == nil) {
			t.Fatalf("%s: purego and the other backends disagree on panicking", what)
		}
	})
}

// FuzzRowsExtreme feeds the row kernels (Softmax with its options,
// SoftmaxBackward, SoftmaxDropoutBackward, LayerNorm(+Backward),
// DropoutMask) shapes, causal offsets, mask lengths, counts and offsets from
// the whole int range, with short guarded slices.
func FuzzRowsExtreme(f *testing.F) {
	f.Add(uint64(5), uint64(7), uint64(1), uint64(0), uint32(0x0100), uint16(35), uint16(7), uint8(1), uint64(1<<64-3))        // CausalOffset = MaxInt-1
	f.Add(uint64(1), uint64(1), uint64(0), uint64(0), uint32(0x0033), uint16(16), uint16(0), uint8(8), uint64(0))              // 2^32×2^32
	f.Add(uint64(3), uint64(2), uint64(5), uint64(0), uint32(0x1000), uint16(6), uint16(6), uint8(7), uint64(5))               // DropoutMask n = MaxInt
	f.Add(uint64(0), uint64(0), uint64(0), uint64(0), uint32(0x0001), uint16(0), uint16(4), uint8(11), uint64(1<<64-1))        // MaxInt×0
	f.Add(uint64(4), uint64(64), uint64(62), uint64(200), uint32(0x0500), uint16(256), uint16(64), uint8(3), uint64(1<<64-70)) // CausalOffset near MinInt
	f.Fuzz(func(t *testing.T, rv, cv, ov, nv uint64, modes uint32, ls, lm uint16, flags uint8, offset uint64) {
		md := func(i int) uint8 { return uint8(modes >> (4 * i) & 0xf) }
		rows, cols, coff, n := fuzzHuge(rv, md(0)), fuzzHuge(cv, md(1)), fuzzHuge(ov, md(2)), fuzzHuge(nv, md(3))
		const maxLen = 1 << 12
		head := flags&4 != 0
		ln := int(ls) % maxLen
		src := guardedFloats(t, ln, head)
		opt := SoftmaxOptions{Causal: flags&1 != 0, CausalOffset: coff, Seed: 9, Offset: offset}
		if flags&2 != 0 {
			opt.Mask = guardedFloats(t, int(lm)%maxLen, !head)
		}
		var drop []float32 // SoftmaxDropout's second output when set
		if flags&8 != 0 {
			opt.Dropout, drop = 0.25, guardedFloats(t, ln, !head)
		}
		softmax := func(dst []float32) {
			if drop != nil {
				SoftmaxDropout(dst, drop, src, rows, cols, opt)
			} else {
				Softmax(dst, src, rows, cols, opt)
			}
		}
		what := fmt.Sprintf("rows=%d cols=%d CausalOffset=%d n=%d len=%d mask=%d offset=%d flags=%#x",
			rows, cols, coff, n, ln, len(opt.Mask), offset, flags)
		outs := func() [][]float32 {
			return [][]float32{guardedFloats(t, ln, head), guardedFloats(t, ln, !head), guardedFloats(t, ln, head)}
		}
		var want [][]float32
		reference(func() {
			want = outs()
			if _, p := panicMessage(func() { softmax(want[0]) }); p {
				want = nil
			}
		})
		y := outs()
		fuzzCall(t, "Softmax "+what, func() {
			softmax(y[0])
			if want != nil {
				requireBitsEqual(t, what+" backend="+Backend(), y[0], want[0])
			}
		})
		fuzzCall(t, "SoftmaxBackward "+what, func() { SoftmaxBackward(y[1], src, src, rows, cols, 0.5) })
		fuzzCall(t, "SoftmaxDropoutBackward "+what, func() {
			SoftmaxDropoutBackward(y[2], src, src, rows, cols, 0.5, 0.25, 9, offset)
		})
		stats := guardedFloats(t, int(lm)%maxLen, head)
		fuzzCall(t, "LayerNorm "+what, func() { LayerNorm(y[1], stats, nil, src, nil, nil, rows, cols, 1e-5) })
		fuzzCall(t, "LayerNormBackward "+what, func() {
			LayerNormBackward(y[2], nil, nil, src, src, stats, stats, nil, rows, cols)
		})
		words, free := guard.Uint64s(int(lm) % 64)
		defer free()
		fuzzCall(t, "DropoutMask "+what, func() { DropoutMask(words, n, 0.5, 3, offset) })
	})
}

// TestShapeArithmetic pins the overflow-checked helpers of check.go at the
// edges of the int range.
func TestShapeArithmetic(t *testing.T) {
	for _, c := range []struct{ a, b, mul int }{
		{0, maxInt, 0}, {1, maxInt, maxInt}, {maxInt, 1, maxInt}, {2, maxInt / 2, maxInt - 1},
		{1 << 31, 1 << 31, 1 << 62}, {3, maxInt / 3, maxInt / 3 * 3},
	} {
		if got, ok := mulOK(c.a, c.b); !ok || got != c.mul {
			t.Errorf("mulOK(%d, %d) = %d, %v; want %d, true", c.a, c.b, got, ok, c.mul)
		}
	}
	for _, c := range [][2]int{{2, maxInt/2 + 1}, {1 << 32, 1 << 32}, {maxInt, maxInt}, {-1, 1}, {1, -1}, {minInt, 0}, {3, maxInt / 2}} {
		if got, ok := mulOK(c[0], c[1]); ok {
			t.Errorf("mulOK(%d, %d) = %d, ok; want overflow", c[0], c[1], got)
		}
	}
	if got, ok := addOK(maxInt-5, 5); !ok || got != maxInt {
		t.Errorf("addOK(MaxInt-5, 5) = %d, %v", got, ok)
	}
	for _, c := range [][2]int{{maxInt, 1}, {1, maxInt}, {-1, 0}, {0, minInt}} {
		if _, ok := addOK(c[0], c[1]); ok {
			t.Errorf("addOK(%d, %d) ok; want overflow", c[0], c[1])
		}
	}
	for _, c := range []struct {
		rows, cols, ld, span int
		ok                   bool
	}{
		{0, 5, maxInt, 0, true}, {5, 0, maxInt, 0, true}, {1, 5, maxInt, 5, true},
		{2, 1, maxInt - 1, maxInt, true}, {2, 2, maxInt - 1, 0, false},
		{5, 4, 1<<62 - 1, 0, false}, {9, 3, 1 << 61, 0, false}, {17, 8, 1 << 60, 0, false},
		{1 << 40, 1 << 40, 1 << 40, 0, false}, {1 << 31, 1 << 31, 1 << 31, 1 << 62, true},
		{-1, 3, 3, 0, false}, {3, -1, 3, 0, false}, {3, 3, -3, 0, false},
	} {
		span, ok := stridedSpan(c.rows, c.cols, c.ld)
		if ok != c.ok || ok && span != c.span {
			t.Errorf("stridedSpan(%d, %d, %d) = %d, %v; want %d, %v", c.rows, c.cols, c.ld, span, ok, c.span, c.ok)
		}
	}
	for _, c := range [][2]int{{0, 0}, {1, 1}, {64, 1}, {65, 2}, {maxInt, maxInt/64 + 1}, {maxInt - 63, maxInt / 64}} {
		if got := ceilDiv64(c[0]); got != c[1] {
			t.Errorf("ceilDiv64(%d) = %d, want %d", c[0], got, c[1])
		}
	}
}
