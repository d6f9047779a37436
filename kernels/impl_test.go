package kernels

// Entry-level checks of every SIMD backend (avx2, avx512, neon; whichever
// this CPU registers): each impl entry called directly against the pure-Go
// entry on random data with special values, every variant of the row
// kernels, in-place calls, the GEMM micro-kernel against gemmKernExact, and
// guard pages at both ends. With no SIMD backend (purego tag, other
// architectures) the tests skip. Sizes stay at or below 64K elements because
// the arm64 run usually goes through qemu-aarch64. Arch-specific checks (the
// generated assembly's register use, the NEON selection at init) live in the
// _amd64 / _arm64 test files.

import (
	"fmt"
	"math"
	"runtime/debug"
	"testing"

	"github.com/simdformer/simdformer/internal/guard"
)

// implTiles is the GEMM register tile (mr×nr) each SIMD backend must use.
var implTiles = map[string][2]int{"avx2": {6, 16}, "avx512": {14, 32}, "neon": {8, 12}}

func TestImplComplete(t *testing.T) {
	forEachImpl(t, func(t *testing.T, b *impl) {
		own, borrowed := ownKernels(b)
		if len(borrowed) > 0 {
			t.Errorf("%s borrows %v from purego", b.name, borrowed)
		}
		if tile, ok := implTiles[b.name]; ok && (b.gemm.mr != tile[0] || b.gemm.nr != tile[1]) {
			t.Errorf("%s GEMM tile %d×%d, want %d×%d", b.name, b.gemm.mr, b.gemm.nr, tile[0], tile[1])
		}
		t.Logf("%s kernels: %v", b.name, own)
	})
}

func TestImplElementwise(t *testing.T) {
	type un = func(dst, src []float32)
	type bin = func(dst, a, b []float32)
	forEachImpl(t, func(t *testing.T, b *impl) {
		unary := []struct {
			name string
			f    [2]un
		}{
			{"exp", [2]un{b.exp, generic.exp}}, {"relu", [2]un{b.relu, generic.relu}},
			{"gelu", [2]un{b.gelu, generic.gelu}}, {"geluTanh", [2]un{b.geluTanh, generic.geluTanh}},
		}
		binary := []struct {
			name string
			f    [2]bin
		}{
			{"reluBackward", [2]bin{b.reluBackward, generic.reluBackward}},
			{"geluBackward", [2]bin{b.geluBackward, generic.geluBackward}},
			{"geluTanhBackward", [2]bin{b.geluTanhBackward, generic.geluTanhBackward}},
			{"add", [2]bin{b.add, generic.add}}, {"sub", [2]bin{b.sub, generic.sub}}, {"mul", [2]bin{b.mul, generic.mul}},
		}
		r := newRand(t)
		for _, n := range rowSizes() {
			for _, sigma := range []float64{3, 60} {
				x, y := mixedData(r, n, sigma, true), mixedData(r, n, sigma, true)
				for _, u := range unary {
					got, want := make([]float32, n), make([]float32, n)
					u.f[0](got, x)
					u.f[1](want, x)
					requireBitsEqual(t, u.name, got, want)
					inplace := clone(x)
					u.f[0](inplace, inplace)
					requireBitsEqual(t, u.name+" in place", inplace, want)
				}
				for _, o := range binary {
					got, want := make([]float32, n), make([]float32, n)
					o.f[0](got, x, y)
					o.f[1](want, x, y)
					requireBitsEqual(t, o.name, got, want)
					inplace := clone(y)
					o.f[0](inplace, x, inplace)
					requireBitsEqual(t, o.name+" in place", inplace, want)
				}
				alpha := float32(r.NormFloat64())
				got, want := make([]float32, n), make([]float32, n)
				b.scale(got, x, alpha)
				generic.scale(want, x, alpha)
				requireBitsEqual(t, "scale", got, want)
				got, want = clone(y), clone(y)
				b.axpy(alpha, x, got)
				generic.axpy(alpha, x, want)
				requireBitsEqual(t, "axpy", got, want)
				requireSame(t, "sum", b.sum(x), generic.sum(x))
				requireSame(t, "dot", b.dot(x, y), generic.dot(x, y))
				requireSame(t, "max", b.max(x), generic.max(x))
				xc, yc := mixedData(r, n, sigma, false), mixedData(r, n, sigma, false)
				requireSame(t, "sum finite", b.sum(xc), generic.sum(xc))
				requireSame(t, "dot finite", b.dot(xc, yc), generic.dot(xc, yc))
				requireSame(t, "max finite", b.max(xc), generic.max(xc))
			}
		}
	})
}

// TestImplExpBits runs exp and the GELU family over 64K bit patterns: every
// exponent, both signs, NaN payloads and infinities.
func TestImplExpBits(t *testing.T) {
	forEachImpl(t, func(t *testing.T, b *impl) {
		const n = 1 << 16
		x := make([]float32, n)
		r := newRand(t)
		for i := range x {
			x[i] = math.Float32frombits(uint32(i)<<16 | uint32(r.IntN(1<<16)))
		}
		for _, f := range []struct {
			name string
			f    [2]func(dst, src []float32)
		}{
			{"exp", [2]func(dst, src []float32){b.exp, generic.exp}},
			{"gelu", [2]func(dst, src []float32){b.gelu, generic.gelu}},
			{"geluTanh", [2]func(dst, src []float32){b.geluTanh, generic.geluTanh}},
		} {
			got, want := make([]float32, n), make([]float32, n)
			f.f[0](got, x)
			f.f[1](want, x)
			requireBitsEqual(t, f.name, got, want)
		}
		dy := randNormal(r, n, 0, 1)
		got, want := make([]float32, n), make([]float32, n)
		b.geluBackward(got, x, dy)
		generic.geluBackward(want, x, dy)
		requireBitsEqual(t, "geluBackward", got, want)
		b.geluTanhBackward(got, x, dy)
		generic.geluTanhBackward(want, x, dy)
		requireBitsEqual(t, "geluTanhBackward", got, want)
	})
}

// TestImplMaxZeros pins the canonical lane order of Max on signed zeros.
func TestImplMaxZeros(t *testing.T) {
	forEachImpl(t, func(t *testing.T, b *impl) {
		negz := float32(math.Copysign(0, -1))
		for n := 1; n <= 70; n++ {
			for k := 0; k < n; k++ {
				x := make([]float32, n)
				for i := range x {
					x[i] = negz
				}
				x[k] = 0
				requireSame(t, "max zeros", b.max(x), generic.max(x))
				x[k] = float32(math.NaN())
				requireSame(t, "max NaN", b.max(x), generic.max(x))
			}
		}
		requireSame(t, "max empty", b.max(nil), float32(math.Inf(-1)))
	})
}

func TestImplDropout(t *testing.T) {
	forEachImpl(t, func(t *testing.T, b *impl) {
		r := newRand(t)
		for _, n := range rowSizes() {
			x := mixedData(r, n, 2, true)
			for _, thr := range []uint32{0, 1, 1 << 31, 0xe6666666, 0xffffffff, r.Uint32()} {
				k0, k1, lo := r.Uint32(), r.Uint32(), r.Uint32()
				if r.IntN(4) == 0 {
					lo = 0xffffffff - uint32(r.IntN(70)) // wraps inside the call
				}
				scale := float32(1 / (1 - float64(thr)/(1<<32)))
				got, want := make([]float32, n), make([]float32, n)
				b.dropout(got, x, k0, k1, lo, thr, scale)
				generic.dropout(want, x, k0, k1, lo, thr, scale)
				requireBitsEqual(t, "dropout", got, want)
				inplace := clone(x)
				b.dropout(inplace, inplace, k0, k1, lo, thr, scale)
				requireBitsEqual(t, "dropout in place", inplace, want)

				words := (n + 63) / 64
				gm, wm := make([]uint64, words+1), make([]uint64, words+1)
				gm[words], wm[words] = 42, 42
				b.dropoutMask(gm, n, k0, k1, lo, thr)
				generic.dropoutMask(wm, n, k0, k1, lo, thr)
				for w := range gm {
					if gm[w] != wm[w] {
						t.Fatalf("dropoutMask n=%d thr=%#x lo=%#x word %d: got %#x, want %#x", n, thr, lo, w, gm[w], wm[w])
					}
				}
			}
		}
	})
}

func TestImplSoftmax(t *testing.T) {
	forEachImpl(t, func(t *testing.T, b *impl) {
		r := newRand(t)
		for _, n := range rowSizes() {
			for variant := 0; variant < 4; variant++ {
				for _, specials := range []bool{false, true} {
					x := mixedData(r, n, 4, specials)
					var mask []float32
					var ign []bool
					if variant&1 != 0 {
						mask = mixedData(r, n, 1, false)
						for j := range mask {
							if r.IntN(5) == 0 {
								mask[j] = float32(math.Inf(-1))
							}
						}
					}
					if variant&2 != 0 {
						ign = make([]bool, n)
						all := r.IntN(8) == 0
						for j := range ign {
							ign[j] = all || r.IntN(3) == 0
						}
					}
					for _, limit := range []int{n, r.IntN(n + 1), 0} {
						scale := []float32{1, 0.125, float32(r.Float64() * 3)}[r.IntN(3)]
						got, want := make([]float32, n), make([]float32, n)
						b.softmaxRow(got, x, mask, ign, scale, limit)
						generic.softmaxRow(want, x, mask, ign, scale, limit)
						requireBitsEqual(t, "softmaxRow", got, want)
						inplace := clone(x) // dst aliasing src
						b.softmaxRow(inplace, inplace, mask, ign, scale, limit)
						requireBitsEqual(t, "softmaxRow in place", inplace, want)

						dy := mixedData(r, n, 1, specials)
						got2, want2 := make([]float32, n), make([]float32, n)
						b.softmaxBackwardRow(got2, want, dy, scale)
						generic.softmaxBackwardRow(want2, want, dy, scale)
						requireBitsEqual(t, "softmaxBackwardRow", got2, want2)
						alias := clone(dy) // dx aliasing dy
						b.softmaxBackwardRow(alias, want, alias, scale)
						requireBitsEqual(t, "softmaxBackwardRow in place", alias, want2)
					}
				}
			}
		}
	})
}

func TestImplLayerNorm(t *testing.T) {
	forEachImpl(t, func(t *testing.T, b *impl) {
		r := newRand(t)
		for _, n := range rowSizes() {
			for _, specials := range []bool{false, true} {
				x := mixedData(r, n, 3, specials)
				for i := range x {
					x[i] += 5 // a mean far from 0
				}
				gamma, beta := mixedData(r, n, 1, specials), mixedData(r, n, 1, specials)
				for variant := 0; variant < 3; variant++ {
					g, be := gamma, beta
					if variant >= 1 {
						be = nil
					}
					if variant == 2 {
						g = nil
					}
					eps := []float32{1e-5, 0, 1}[r.IntN(3)]
					got, want := make([]float32, n), make([]float32, n)
					gm, gr := b.layerNormRow(got, x, g, be, eps)
					wm, wr := generic.layerNormRow(want, x, g, be, eps)
					requireBitsEqual(t, "layerNormRow", got, want)
					requireSame(t, "layerNormRow mean", gm, wm)
					requireSame(t, "layerNormRow rstd", gr, wr)
					inplace := clone(x) // dst aliasing src
					b.layerNormRow(inplace, inplace, g, be, eps)
					requireBitsEqual(t, "layerNormRow in place", inplace, want)
				}
				dy := mixedData(r, n, 1, specials)
				mean, rstd := float32(r.NormFloat64()), float32(r.Float64()+0.1)
				for variant := 0; variant < 8; variant++ {
					g := gamma
					if variant&1 == 0 {
						g = nil
					}
					var dg0, db0 []float32
					if variant&2 != 0 {
						dg0 = mixedData(r, n, 1, false)
					}
					if variant&4 != 0 {
						db0 = mixedData(r, n, 1, false)
					}
					gdx, wdx := make([]float32, n), make([]float32, n)
					gdg, wdg, gdb, wdb := clone(dg0), clone(dg0), clone(db0), clone(db0)
					b.layerNormBackwardRow(gdx, gdg, gdb, dy, x, g, mean, rstd)
					generic.layerNormBackwardRow(wdx, wdg, wdb, dy, x, g, mean, rstd)
					requireBitsEqual(t, "layerNormBackwardRow dx", gdx, wdx)
					requireBitsEqual(t, "layerNormBackwardRow dgamma", gdg, wdg)
					requireBitsEqual(t, "layerNormBackwardRow dbeta", gdb, wdb)
					alias, adg, adb := clone(dy), clone(dg0), clone(db0) // dx aliasing dy
					b.layerNormBackwardRow(alias, adg, adb, alias, x, g, mean, rstd)
					requireBitsEqual(t, "layerNormBackwardRow dx in place", alias, wdx)
					requireBitsEqual(t, "layerNormBackwardRow dgamma (dx in place)", adg, wdg)
					requireBitsEqual(t, "layerNormBackwardRow dbeta (dx in place)", adb, wdb)
				}
			}
		}
	})
}

// TestImplGemmKernel checks each backend's mr×nr micro-kernel against
// gemmKernExact for several kc (unrolled loops, odd tail, zero), both load
// modes, a C stride wider than the tile, special values, and sentinels in
// the gaps between the tile's rows.
func TestImplGemmKernel(t *testing.T) {
	forEachImpl(t, func(t *testing.T, b *impl) {
		mr, nr := b.gemm.mr, b.gemm.nr
		r := newRand(t)
		for _, kc := range []int{0, 1, 2, 3, 7, 64, 257} {
			for _, load := range []bool{false, true} {
				for _, specials := range []bool{false, true} {
					a, bp := mixedData(r, kc*mr, 1, specials), mixedData(r, kc*nr, 1, specials)
					ldc := nr + 5
					c0 := mixedData(r, (mr-1)*ldc+nr, 1, specials)
					for i := 0; i < mr-1; i++ { // the gaps between rows must survive
						for j := nr; j < ldc; j++ {
							c0[i*ldc+j] = math.Float32frombits(sentinelBits)
						}
					}
					got, want := clone(c0), clone(c0)
					b.gemm.kern(kc, a, bp, got, ldc, load)
					gemmKernExact(mr, nr, kc, a, bp, want, ldc, load)
					requireBitsEqual(t, fmt.Sprintf("gemm kern kc=%d load=%v specials=%v", kc, load, specials), got, want)
				}
			}
		}
	})
}

// TestImplGuard runs every kernel with every operand flush against a
// PROT_NONE page after its end and then before its start: a masked tail that
// touches a byte outside the operand faults.
func TestImplGuard(t *testing.T) {
	if !guard.Protected {
		t.Skip("no guard pages on this platform")
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	forEachImpl(t, func(t *testing.T, b *impl) {
		r := newRand(t)
		for _, head := range []bool{false, true} {
			f32, bools, u64 := guard.Float32s, guard.Bools, guard.Uint64s
			if head {
				f32, bools, u64 = guard.Float32sHead, guard.BoolsHead, guard.Uint64sHead
			}
			for n := 0; n <= 70; n++ {
				var frees []func()
				mk := func(init []float32) []float32 {
					s, free := f32(len(init))
					frees = append(frees, free)
					copy(s, init)
					return s
				}
				x, y, d := mk(mixedData(r, n, 2, false)), mk(mixedData(r, n, 2, false)), mk(make([]float32, n))
				g1, g2 := mk(mixedData(r, n, 2, false)), mk(mixedData(r, n, 2, false))
				ign, freeIgn := bools(n)
				frees = append(frees, freeIgn)
				for j := range ign {
					ign[j] = j%3 == 0
				}
				mw, freeM := u64((n + 63) / 64)
				frees = append(frees, freeM)

				for _, f := range []func(dst, src []float32){b.exp, b.relu, b.gelu, b.geluTanh} {
					f(d, x)
				}
				for _, f := range []func(dst, a, b []float32){b.reluBackward, b.geluBackward, b.geluTanhBackward, b.add, b.sub, b.mul} {
					f(d, x, y)
				}
				b.scale(d, x, 3)
				b.axpy(2, x, d)
				b.sum(x)
				b.dot(x, y)
				b.max(x)
				b.dropout(d, x, 1, 2, 3, 1<<31, 2)
				b.dropoutMask(mw, n, 1, 2, 3, 1<<31)
				b.softmaxRow(d, x, y, ign, 1, n)
				b.softmaxRow(d, x, nil, ign, 1, n/2)
				b.softmaxRow(d, x, y, nil, 1, n)
				b.softmaxBackwardRow(d, x, y, 1)
				b.layerNormRow(d, x, g1, g2, 1e-5)
				b.layerNormRow(d, x, g1, nil, 1e-5)
				b.layerNormBackwardRow(d, g1, g2, y, x, g1, 0.5, 2)
				b.layerNormBackwardRow(d, g1, nil, y, x, nil, 0.5, 2)
				b.layerNormBackwardRow(d, nil, g2, y, x, nil, 0.5, 2)
				for _, f := range frees {
					f()
				}
			}
			// The GEMM tile with C, A and B ending (or starting) at a guard page.
			mr, nr := b.gemm.mr, b.gemm.nr
			for _, kc := range []int{0, 1, 4} {
				a, free1 := f32(kc * mr)
				bp, free2 := f32(kc * nr)
				c, free3 := f32(mr * nr)
				b.gemm.kern(kc, a, bp, c, nr, true)
				free1()
				free2()
				free3()
			}
		}
	})
}
