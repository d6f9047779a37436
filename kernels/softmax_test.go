package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

var (
	posInf = float32(math.Inf(1))
	negInf = float32(math.Inf(-1))
)

// smVariant is one set of Softmax options for the cross-backend tests;
// Mask/Ignore are plain slices (copied into the layout by the driver) and
// The drop buffer is allocated by the driver when Dropout > 0.
type smVariant struct {
	name string
	opt  SoftmaxOptions
}

// smVariants returns the option sets checked at every shape.
func smVariants(r *rand.Rand, rows, cols int) []smVariant {
	n := rows * cols
	maskFull := randNormal(r, n, 0, 2)
	for i := range maskFull {
		if r.IntN(5) == 0 {
			maskFull[i] = negInf
		}
	}
	maskRow := randNormal(r, cols, 0, 2)
	if cols > 3 {
		maskRow[3] = negInf
	}
	ignFull := make([]bool, n)
	for i := range ignFull {
		ignFull[i] = r.IntN(4) == 0
	}
	if rows > 1 { // one fully ignored row
		for j := 0; j < cols; j++ {
			ignFull[cols+j] = true
		}
	}
	ignRow := make([]bool, cols)
	for j := range ignRow {
		ignRow[j] = j%4 == 2
	}
	return []smVariant{
		{"plain", SoftmaxOptions{}},
		{"scale", SoftmaxOptions{Scale: 0.125}},
		{"scale=-3", SoftmaxOptions{Scale: -3}},
		{"causal", SoftmaxOptions{Causal: true}},
		{"causal-2", SoftmaxOptions{Causal: true, CausalOffset: -2}},
		{"causal+1", SoftmaxOptions{Causal: true, CausalOffset: 1}},
		{"causal>cols", SoftmaxOptions{Causal: true, CausalOffset: cols + 5}},
		{"causal-all", SoftmaxOptions{Causal: true, CausalOffset: -rows - cols - 3}},
		{"mask", SoftmaxOptions{Mask: maskFull}},
		{"mask-row", SoftmaxOptions{Mask: maskRow}},
		{"ignore", SoftmaxOptions{Ignore: ignFull}},
		{"ignore-row", SoftmaxOptions{Ignore: ignRow}},
		{"dropout", SoftmaxOptions{Dropout: 0.1, Seed: 7, Offset: 123}},
		{"dropout-wrap", SoftmaxOptions{Dropout: 0.5, Seed: 1 << 63, Offset: 1<<32 - uint64(n/2) - 1}},
		{"dropout-1", SoftmaxOptions{Dropout: 1, Seed: 3}},
		{"all", SoftmaxOptions{Scale: 0.3, Causal: true, CausalOffset: 1, Mask: maskFull, Ignore: ignRow,
			Dropout: 0.25, Seed: 42, Offset: 1 << 40}},
	}
}

// genScores makes rows of attention-like scores: row 0 N(0,1), row 1 with
// special values, row 2 N(0, 20²), then repeating.
func genScores(r *rand.Rand, rows, cols int) []float32 {
	x := make([]float32, rows*cols)
	for i := 0; i < rows; i++ {
		row := x[i*cols : (i+1)*cols]
		switch i % 3 {
		case 0:
			copy(row, randNormal(r, cols, 0, 1))
		case 1:
			copy(row, randNormal(r, cols, 0, 4))
			for j := range row {
				if r.IntN(40) == 0 {
					row[j] = specialValues[r.IntN(len(specialValues))]
				}
			}
		default:
			copy(row, randNormal(r, cols, 0, 20))
		}
	}
	return x
}

// runSoftmax calls Softmax with every operand made by mk (and mkB for the
// bools); dst is src itself when inplace. It returns dst and, with Dropout,
// SoftmaxDropout's drop.
func runSoftmax(mk alloc, mkB func([]bool) []bool, src []float32, rows, cols int, opt SoftmaxOptions, inplace bool) (dst, drop []float32) {
	s := mk(src)
	if inplace {
		dst = s
	} else {
		g := make([]float32, len(src))
		for i := range g {
			g[i] = garbage
		}
		dst = mk(g)
	}
	opt.Mask = mk(opt.Mask)
	opt.Ignore = mkB(opt.Ignore)
	if opt.Dropout != 0 {
		g := make([]float32, len(src))
		for i := range g {
			g[i] = garbage
		}
		drop = mk(g)
		SoftmaxDropout(dst, drop, s, rows, cols, opt)
		return dst, drop
	}
	Softmax(dst, s, rows, cols, opt)
	return dst, nil
}

// softmaxShapes are the (rows, cols) pairs of the cross-backend tests.
func softmaxShapes() [][2]int {
	var sh [][2]int
	sizes := testSizes
	if reduced() {
		sizes = sizesUpTo(1000)
	}
	for _, c := range sizes {
		sh = append(sh, [2]int{3, c})
	}
	return append(sh, [2]int{1, 5}, [2]int{0, 7}, [2]int{7, 0}, [2]int{17, 33})
}

func TestSoftmaxMatchesPurego(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		for _, sh := range softmaxShapes() {
			rows, cols := sh[0], sh[1]
			r := newRand(t, uint64(rows), uint64(cols))
			src := genScores(r, rows, cols)
			for _, v := range smVariants(r, rows, cols) {
				for _, inplace := range []bool{false, true} {
					var want, wantDrop []float32
					reference(func() { want, wantDrop = runSoftmax(clone, clone, src, rows, cols, v.opt, inplace) })
					forEachLayout(t, func(a *arena) {
						what := fmt.Sprintf("%dx%d %s inplace=%v %s", rows, cols, v.name, inplace, a.l.name)
						got, drop := runSoftmax(a.from, a.bools, src, rows, cols, v.opt, inplace)
						requireBitsEqual(t, "Softmax "+what, got, want)
						requireBitsEqual(t, "Softmax DropDst "+what, drop, wantDrop)
					})
				}
			}
		}
	})
}

func TestSoftmaxBackwardMatchesPurego(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		for _, sh := range softmaxShapes() {
			rows, cols := sh[0], sh[1]
			r := newRand(t, uint64(rows), uint64(cols))
			var y []float32
			reference(func() { y, _ = runSoftmax(clone, clone, genScores(r, rows, cols), rows, cols, SoftmaxOptions{}, false) })
			dy := genDefault(r, rows*cols)
			for _, scale := range []float32{1, 0.125} {
				for _, p := range []float32{0, 0.2} {
					for _, inplace := range []bool{false, true} {
						run := func(mk alloc) []float32 {
							ay, ady := mk(y), mk(dy)
							dx := ady
							if !inplace {
								dx = mk(make([]float32, len(y)))
							}
							if p == 0 {
								SoftmaxBackward(dx, ay, ady, rows, cols, scale)
							} else {
								SoftmaxDropoutBackward(dx, ay, ady, rows, cols, scale, p, 99, 1<<32-7)
							}
							return dx
						}
						var want []float32
						reference(func() { want = run(clone) })
						forEachLayout(t, func(a *arena) {
							what := fmt.Sprintf("%dx%d scale=%v p=%v inplace=%v %s", rows, cols, scale, p, inplace, a.l.name)
							requireBitsEqual(t, "SoftmaxBackward "+what, run(a.from), want)
						})
					}
				}
			}
		}
	})
}

// softmax64 is the float64 softmax of the float32 scores v (already scaled
// and masked; -Inf = masked). It returns y, the row max m and
// A = Σ e_j·|v_j − m| / Σ e_j.
func softmax64(v []float32) (y []float64, m, A float64) {
	y = make([]float64, len(v))
	m = math.Inf(-1)
	for _, x := range v {
		m = math.Max(m, float64(x))
	}
	if math.IsInf(m, -1) {
		return y, m, 0
	}
	var s float64
	for j, x := range v {
		if math.IsInf(float64(x), -1) {
			continue // y[j] = 0
		}
		y[j] = math.Exp(float64(x) - m)
		s += y[j]
		A += y[j] * math.Abs(float64(x)-m)
	}
	for j := range y {
		y[j] /= s
	}
	return y, m, A / s
}

// TestSoftmaxAccuracy checks the pure-Go definition against float64 on rows
// of finite scores. With v the float32 scores (src·Scale + Mask), m their
// max, n = cols, K = ⌈n/32⌉ and A = Σ e_j|v_j−m| / Σ e_j, each element obeys
//
//	|y_j − ref_j| ≤ ref_j·2^-24·(12 + |v_j − m| + A + K) + 2^-125
//
// (exp ≤ 1.5 ulp, the rounding of v_j − m, the 32-lane sum, the reciprocal
// and the final multiply; 2^-125 covers flushed and subnormal results), and
// each row sums to 1 within (min(n−1, K+4) + 3)·2^-24.
func TestSoftmaxAccuracy(t *testing.T) {
	worstElem, worstSum := 0.0, 0.0
	defer func() {
		t.Logf("worst element error %.2f of its bound; worst row-sum error %.2f of its bound", worstElem, worstSum)
	}()
	sizes := append(clone(testSizes), 4096, 30000)
	if reduced() {
		sizes = sizesUpTo(1000)
	}
	for _, cols := range sizes {
		for _, sigma := range []float64{0.1, 1, 10, 40} {
			r := newRand(t, uint64(cols), math.Float64bits(sigma))
			rows := 4
			src := randNormal(r, rows*cols, 0, sigma)
			mask := randNormal(r, cols, 0, 1)
			if cols > 2 {
				mask[1] = negInf
			}
			for _, opt := range []SoftmaxOptions{{}, {Scale: 0.3, Mask: mask, Causal: true, CausalOffset: cols / 2}} {
				y := make([]float32, rows*cols)
				reference(func() { Softmax(y, src, rows, cols, opt) })
				K := float64((cols + 31) / 32)
				for i := 0; i < rows; i++ {
					// The float32 scores exactly as the kernel forms them.
					v := make([]float32, cols)
					for j := range v {
						x := src[i*cols+j]
						if opt.Scale != 0 {
							x = float32(x * opt.Scale)
						}
						if opt.Mask != nil {
							x += opt.Mask[j]
						}
						if opt.Causal && j > i+opt.CausalOffset {
							x = negInf
						}
						v[j] = x
					}
					ref, m, A := softmax64(v)
					row := y[i*cols : (i+1)*cols]
					var sum float64
					for j := range row {
						sum += float64(row[j])
						bound := ref[j]*roundoff*(12+math.Abs(float64(v[j])-m)+A+K) + 0x1p-125
						if math.IsInf(float64(v[j]), -1) {
							bound = 0
						}
						d := math.Abs(float64(row[j]) - ref[j])
						if bound > 0 {
							worstElem = max(worstElem, d/bound)
						}
						if !(d <= bound) {
							t.Fatalf("cols=%d sigma=%v row %d col %d: y=%v, float64 %v, error %.3g > bound %.3g",
								cols, sigma, i, j, row[j], ref[j], d, bound)
						}
					}
					if cols > 0 && !math.IsInf(m, -1) {
						bound := (math.Min(float64(cols-1), K+4) + 3) * roundoff
						d := math.Abs(sum - 1)
						worstSum = max(worstSum, d/bound)
						if d > bound {
							t.Errorf("cols=%d sigma=%v row %d: sum %.9g, |sum−1| %.3g > %.3g", cols, sigma, i, sum, d, bound)
						}
					}
				}
			}
		}
	}
}

// TestSoftmaxBackwardAccuracy checks the pure-Go SoftmaxBackward against
// float64, dx_j = scale·y_j·(dy_j − d) with d = Σ y_i·dy_i:
//
//	|dx_j − ref_j| ≤ |scale·y_j|·2^-24·((K+5)·Σ|y_i·dy_i| + 3·|dy_j − d|)·1.0001 + 2^-125
func TestSoftmaxBackwardAccuracy(t *testing.T) {
	worst := 0.0
	defer func() { t.Logf("worst error %.2f of the bound", worst) }()
	sizes := append(clone(testSizes), 30000)
	if reduced() {
		sizes = sizesUpTo(1000)
	}
	for _, cols := range sizes {
		r := newRand(t, uint64(cols))
		rows := 3
		y := make([]float32, rows*cols)
		Softmax(y, randNormal(r, rows*cols, 0, 3), rows, cols, SoftmaxOptions{})
		dy := randNormal(r, rows*cols, 0, 1)
		for _, scale := range []float32{1, 0.125, -2} {
			dx := make([]float32, rows*cols)
			reference(func() { SoftmaxBackward(dx, y, dy, rows, cols, scale) })
			K := float64((cols + 31) / 32)
			for i := 0; i < rows; i++ {
				yr, dyr := y[i*cols:(i+1)*cols], dy[i*cols:(i+1)*cols]
				var d, dAbs float64
				for j := range yr {
					d += float64(yr[j]) * float64(dyr[j])
					dAbs += math.Abs(float64(yr[j]) * float64(dyr[j]))
				}
				for j := range yr {
					ref := float64(scale) * float64(yr[j]) * (float64(dyr[j]) - d)
					bound := math.Abs(float64(scale)*float64(yr[j]))*roundoff*((K+5)*dAbs+3*math.Abs(float64(dyr[j])-d))*1.0001 + 0x1p-125
					e := math.Abs(float64(dx[i*cols+j]) - ref)
					worst = max(worst, e/bound)
					if e > bound {
						t.Fatalf("cols=%d scale=%v [%d,%d]: dx=%v float64 %v, error %.3g > %.3g", cols, scale, i, j, dx[i*cols+j], ref, e, bound)
					}
				}
			}
		}
	}
}

// TestSoftmaxGradFiniteDiff checks SoftmaxBackward against central finite
// differences of L(x) = Σ_j w_j·softmax(scale·x)_j computed in float64:
// |dx_j − fd_j| ≤ 1e-5·(1 + |fd_j|).
func TestSoftmaxGradFiniteDiff(t *testing.T) {
	r := newRand(t)
	for _, cols := range []int{1, 2, 7, 33} {
		for _, scale := range []float32{1, 0.25, -1.5} {
			x := randNormal(r, cols, 0, 1.5)
			w := randNormal(r, cols, 0, 1)
			L := func(x []float64) float64 {
				m := math.Inf(-1)
				for _, v := range x {
					m = math.Max(m, float64(scale)*v)
				}
				var s, l float64
				for j, v := range x {
					e := math.Exp(float64(scale)*v - m)
					s += e
					l += float64(w[j]) * e
				}
				return l / s
			}
			forEachBackend(t, func(t *testing.T) {
				y := make([]float32, cols)
				Softmax(y, x, 1, cols, SoftmaxOptions{Scale: scale})
				dx := make([]float32, cols)
				SoftmaxBackward(dx, y, w, 1, cols, scale)
				x64 := make([]float64, cols)
				for j := range x {
					x64[j] = float64(x[j])
				}
				for j := range x {
					h := 1e-5
					x64[j] += h
					lp := L(x64)
					x64[j] -= 2 * h
					lm := L(x64)
					x64[j] += h
					fd := (lp - lm) / (2 * h)
					if d := math.Abs(float64(dx[j]) - fd); d > 1e-5*(1+math.Abs(fd)) {
						t.Errorf("cols=%d scale=%v j=%d: dx=%v, finite difference %v", cols, scale, j, dx[j], fd)
					}
				}
			})
		}
	}
}

// TestSoftmaxOptions pins each option's meaning by an equivalent plain
// computation, bit for bit, under every backend.
func TestSoftmaxOptions(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		r := newRand(t)
		for _, sh := range [][2]int{{1, 1}, {4, 4}, {5, 17}, {9, 33}, {3, 100}} {
			rows, cols := sh[0], sh[1]
			n := rows * cols
			x := randNormal(r, n, 0, 3)
			what := fmt.Sprintf("%dx%d", rows, cols)
			softmax := func(src []float32, opt SoftmaxOptions) []float32 {
				y := make([]float32, n)
				Softmax(y, src, rows, cols, opt)
				return y
			}

			// Scale s equals pre-multiplying by s; Scale 0 means 1.
			xs := make([]float32, n)
			Scale(xs, x, 0.37)
			requireBitsEqual(t, "Scale "+what, softmax(x, SoftmaxOptions{Scale: 0.37}), softmax(xs, SoftmaxOptions{}))
			requireBitsEqual(t, "Scale 0 "+what, softmax(x, SoftmaxOptions{Scale: 0}), softmax(x, SoftmaxOptions{Scale: 1}))

			// Causal with offset o equals ignoring j > r+o; also equals an
			// additive -Inf mask on finite scores.
			for _, off := range []int{-cols - rows, -3, -1, 0, 1, 2, cols, cols + 7} {
				ign := make([]bool, n)
				addm := make([]float32, n)
				for i := 0; i < rows; i++ {
					for j := 0; j < cols; j++ {
						if j > i+off {
							ign[i*cols+j] = true
							addm[i*cols+j] = negInf
						}
					}
				}
				got := softmax(x, SoftmaxOptions{Causal: true, CausalOffset: off})
				w := fmt.Sprintf("Causal offset %d %s", off, what)
				requireBitsEqual(t, w+" vs Ignore", got, softmax(x, SoftmaxOptions{Ignore: ign}))
				requireBitsEqual(t, w+" vs -Inf mask", got, softmax(x, SoftmaxOptions{Mask: addm}))
				// Masked positions are exactly +0 and a row with nothing
				// visible is all +0.
				for i := 0; i < rows; i++ {
					for j := 0; j < cols; j++ {
						if j > i+off && math.Float32bits(got[i*cols+j]) != 0 {
							t.Fatalf("%s: masked [%d,%d] = %v, want +0", w, i, j, got[i*cols+j])
						}
					}
				}
			}

			// A broadcast (cols) mask equals the full mask with the row repeated.
			mrow := randNormal(r, cols, 0, 1)
			mrow[0] = negInf
			mfull := make([]float32, n)
			ifull := make([]bool, n)
			irow := make([]bool, cols)
			for j := range irow {
				irow[j] = j%3 == 1
			}
			for i := 0; i < rows; i++ {
				copy(mfull[i*cols:], mrow)
				copy(ifull[i*cols:], irow)
			}
			requireBitsEqual(t, "Mask broadcast "+what, softmax(x, SoftmaxOptions{Mask: mrow}), softmax(x, SoftmaxOptions{Mask: mfull}))
			requireBitsEqual(t, "Ignore broadcast "+what, softmax(x, SoftmaxOptions{Ignore: irow}), softmax(x, SoftmaxOptions{Ignore: ifull}))
			// An additive mask equals adding it to the (scaled) scores first.
			xm := make([]float32, n)
			Scale(xm, x, 0.5)
			Add(xm, xm, mfull)
			requireBitsEqual(t, "Mask additive "+what, softmax(x, SoftmaxOptions{Scale: 0.5, Mask: mrow}), softmax(xm, SoftmaxOptions{}))

			// Fused dropout: dst is the plain softmax; DropDst equals Dropout
			// of it with element index Offset + r*cols + j.
			for _, off := range []uint64{0, 5, 1<<32 - uint64(n/2) - 1, 1 << 50} {
				y := softmax(x, SoftmaxOptions{})
				dd := make([]float32, n)
				yd := make([]float32, n)
				SoftmaxDropout(yd, dd, x, rows, cols, SoftmaxOptions{Dropout: 0.3, Seed: 11, Offset: off})
				requireBitsEqual(t, "Dropout dst "+what, yd, y)
				want := make([]float32, n)
				Dropout(want, y, 0.3, 11, off)
				requireBitsEqual(t, fmt.Sprintf("Dropout drop offset %d %s", off, what), dd, want)

				// SoftmaxDropoutBackward = SoftmaxBackward(Dropout(dy)).
				dy := randNormal(r, n, 0, 1)
				got := make([]float32, n)
				SoftmaxDropoutBackward(got, y, dy, rows, cols, 0.5, 0.3, 11, off)
				ddy := make([]float32, n)
				Dropout(ddy, dy, 0.3, 11, off)
				want2 := make([]float32, n)
				SoftmaxBackward(want2, y, ddy, rows, cols, 0.5)
				requireBitsEqual(t, fmt.Sprintf("SoftmaxDropoutBackward offset %d %s", off, what), got, want2)
				// In place (dx aliasing dy) too.
				SoftmaxDropoutBackward(dy, y, dy, rows, cols, 0.5, 0.3, 11, off)
				requireBitsEqual(t, "SoftmaxDropoutBackward in place "+what, dy, want2)
			}
			// p = 0 in SoftmaxDropoutBackward is plain SoftmaxBackward.
			y := softmax(x, SoftmaxOptions{})
			dy := randNormal(r, n, 0, 1)
			a, b := make([]float32, n), make([]float32, n)
			SoftmaxDropoutBackward(a, y, dy, rows, cols, 1, 0, 1, 0)
			SoftmaxBackward(b, y, dy, rows, cols, 1)
			requireBitsEqual(t, "SoftmaxDropoutBackward p=0 "+what, a, b)
		}
	})
}

// TestSoftmaxSpecialRows pins fully masked rows, -Inf scores and NaN
// propagation.
func TestSoftmaxSpecialRows(t *testing.T) {
	nan := float32(math.NaN())
	forEachBackend(t, func(t *testing.T) {
		for _, cols := range []int{1, 5, 33, 100} {
			// Row 0: all -Inf. Row 1: all ignored. Row 2: one finite, rest -Inf.
			// Row 3: a NaN at a visible position. Row 4: a NaN at an ignored
			// position. Row 5: +Inf present.
			rows := 6
			x := make([]float32, rows*cols)
			ign := make([]bool, rows*cols)
			for j := 0; j < cols; j++ {
				x[j] = negInf
				x[cols+j] = float32(j)
				ign[cols+j] = true
				x[2*cols+j] = negInf
				x[3*cols+j] = float32(j)
				x[4*cols+j] = float32(j)
				x[5*cols+j] = float32(j)
			}
			x[2*cols+cols/2] = -3
			x[3*cols+cols-1] = nan
			x[4*cols+0] = nan
			ign[4*cols+0] = true
			x[5*cols+cols/2] = posInf
			y := make([]float32, rows*cols)
			Softmax(y, x, rows, cols, SoftmaxOptions{Ignore: ign})
			for j := 0; j < cols; j++ {
				if math.Float32bits(y[j]) != 0 || math.Float32bits(y[cols+j]) != 0 {
					t.Fatalf("cols=%d: fully masked row gives %v / %v at %d, want +0", cols, y[j], y[cols+j], j)
				}
				want := float32(0)
				if j == cols/2 {
					want = 1
				}
				requireSame(t, fmt.Sprintf("single visible cols=%d j=%d", cols, j), y[2*cols+j], want)
				// (With cols == 1 row 3 is NaN only: the max ignores NaN, so
				// the row counts as fully masked and gives 0 — see the report.)
				if v := y[3*cols+j]; v == v && cols > 1 {
					t.Fatalf("cols=%d: visible NaN did not make the row NaN: y[%d]=%v", cols, j, v)
				}
				if v := y[4*cols+j]; v != v {
					t.Fatalf("cols=%d: ignored NaN leaked into the row: y[%d]=%v", cols, j, v)
				}
				if v := y[5*cols+j]; v == v {
					t.Fatalf("cols=%d: +Inf score gives %v at %d, want NaN (like PyTorch)", cols, v, j)
				}
			}
			if cols > 1 {
				if y[4*cols] != 0 {
					t.Errorf("ignored position = %v, want 0", y[4*cols])
				}
			}
			// Zero gradient through fully masked rows (finite dy).
			dy := randNormal(newRand(t, uint64(cols)), rows*cols, 0, 1)
			dx := make([]float32, rows*cols)
			SoftmaxBackward(dx, y, dy, rows, cols, 1)
			for j := 0; j < 2*cols; j++ {
				if dx[j] != 0 {
					t.Fatalf("cols=%d: gradient %v at %d of a fully masked row, want 0", cols, dx[j], j)
				}
			}
			// -Inf scores in a normal row give exactly +0.
			z := []float32{1, negInf, 2, negInf}
			yz := make([]float32, 4)
			Softmax(yz, z, 1, 4, SoftmaxOptions{})
			if math.Float32bits(yz[1]) != 0 || math.Float32bits(yz[3]) != 0 || yz[0] <= 0 || yz[2] <= yz[0] {
				t.Fatalf("-Inf scores: %v", yz)
			}
		}
	})
}

// TestSoftmaxExactCases: a uniform row gives exactly float32(1/n) (exp(0) = 1
// and the sum n are exact).
func TestSoftmaxExactCases(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		for _, n := range []int{1, 2, 4, 32, 64, 1024} {
			x := make([]float32, n)
			for i := range x {
				x[i] = 7.5
			}
			y := make([]float32, n)
			Softmax(y, x, 1, n, SoftmaxOptions{})
			want := float32(1) / float32(n) // exp(0) = 1 exactly, sum n exactly
			for i := range y {
				requireSame(t, fmt.Sprintf("uniform n=%d", n), y[i], want)
			}
		}
	})
}
