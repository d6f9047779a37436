package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// genLNRows makes rows in different regimes by row index: N(0,1), a large
// common offset (1e4 + N(0,1)), tiny variance (N(0, 1e-3²), where eps
// matters), constant, mixed with special values, N(0, 100²).
func genLNRows(r *rand.Rand, rows, cols int) []float32 {
	x := make([]float32, rows*cols)
	for i := 0; i < rows; i++ {
		row := x[i*cols : (i+1)*cols]
		switch i % 6 {
		case 0:
			copy(row, randNormal(r, cols, 0, 1))
		case 1:
			copy(row, randNormal(r, cols, 1e4, 1))
		case 2:
			copy(row, randNormal(r, cols, 0, 1e-3))
		case 3:
			for j := range row {
				row[j] = 0.3
			}
		case 4:
			copy(row, randNormal(r, cols, 0, 2))
			for j := range row {
				if r.IntN(50) == 0 {
					row[j] = specialValues[r.IntN(len(specialValues))]
				}
			}
		default:
			copy(row, randNormal(r, cols, 5, 100))
		}
	}
	return x
}

type lnVariant struct {
	name        string
	gamma, beta bool
	stats       bool // pass mean/rstd
	eps         float32
}

var lnVariants = []lnVariant{
	{"affine", true, true, true, 1e-5},
	{"gamma-only", true, false, true, 1e-5},
	{"plain", false, false, true, 1e-5},
	{"no-stats", true, true, false, 1e-12},
	{"eps=0", true, true, true, 0},
}

// runLN runs LayerNorm with operands made by mk; dst is src when inplace.
// It returns dst, mean and rstd (nil when not requested).
func runLN(mk alloc, src, gamma, beta []float32, rows, cols int, v lnVariant, inplace bool) (dst, mean, rstd []float32) {
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
	if v.stats {
		mean, rstd = mk(make([]float32, rows)), mk(make([]float32, rows))
	}
	var ga, be []float32
	if v.gamma {
		ga = mk(gamma)
	}
	if v.beta {
		be = mk(beta)
	}
	LayerNorm(dst, mean, rstd, s, ga, be, rows, cols, v.eps)
	return dst, mean, rstd
}

// lnShapes are the (rows, cols) pairs of the cross-backend tests.
func lnShapes() [][2]int {
	var sh [][2]int
	sizes := testSizes
	if reduced() {
		sizes = sizesUpTo(1000)
	}
	for _, c := range sizes {
		if c > 0 {
			sh = append(sh, [2]int{6, c})
		}
	}
	return append(sh, [2]int{0, 5}, [2]int{4, 0}, [2]int{1, 768})
}

func TestLayerNormMatchesPurego(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		for _, sh := range lnShapes() {
			rows, cols := sh[0], sh[1]
			r := newRand(t, uint64(rows), uint64(cols))
			src := genLNRows(r, rows, cols)
			gamma, beta := randNormal(r, cols, 1, 0.5), randNormal(r, cols, 0, 0.5)
			for _, v := range lnVariants {
				for _, inplace := range []bool{false, true} {
					var want, wm, wr []float32
					reference(func() { want, wm, wr = runLN(clone, src, gamma, beta, rows, cols, v, inplace) })
					forEachLayout(t, func(a *arena) {
						what := fmt.Sprintf("%dx%d %s inplace=%v %s", rows, cols, v.name, inplace, a.l.name)
						got, gm, gr := runLN(a.from, src, gamma, beta, rows, cols, v, inplace)
						requireBitsEqual(t, "LayerNorm "+what, got, want)
						requireBitsEqual(t, "LayerNorm mean "+what, gm, wm)
						requireBitsEqual(t, "LayerNorm rstd "+what, gr, wr)
					})
				}
			}
		}
	})
}

// runLNB runs LayerNormBackward with operands made by mk. dgamma/dbeta start
// from dg0/db0 (nil: not requested); dx is dy itself when inplace.
func runLNB(mk alloc, dy, src, mean, rstd, gamma, dg0, db0 []float32, rows, cols int, inplace bool) (dx, dg, db []float32) {
	ady := mk(dy)
	if inplace {
		dx = ady
	} else {
		g := make([]float32, len(dy))
		for i := range g {
			g[i] = garbage
		}
		dx = mk(g)
	}
	dg, db = mk(dg0), mk(db0)
	LayerNormBackward(dx, dg, db, ady, mk(src), mk(mean), mk(rstd), mk(gamma), rows, cols)
	return dx, dg, db
}

func TestLayerNormBackwardMatchesPurego(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		for _, sh := range lnShapes() {
			rows, cols := sh[0], sh[1]
			r := newRand(t, uint64(rows), uint64(cols))
			src := genLNRows(r, rows, cols)
			gamma, beta := randNormal(r, cols, 1, 0.5), randNormal(r, cols, 0, 0.5)
			mean, rstd := make([]float32, rows), make([]float32, rows)
			reference(func() {
				LayerNorm(make([]float32, rows*cols), mean, rstd, src, gamma, beta, rows, cols, 1e-5)
			})
			dy := genDefault(r, rows*cols)
			dg0, db0 := randNormal(r, cols, 0, 1), randNormal(r, cols, 0, 1)
			for _, affine := range []bool{true, false} {
				g, d0, e0 := gamma, dg0, db0
				if !affine {
					g, d0, e0 = nil, nil, nil
				}
				for _, inplace := range []bool{false, true} {
					var wdx, wdg, wdb []float32
					reference(func() { wdx, wdg, wdb = runLNB(clone, dy, src, mean, rstd, g, d0, e0, rows, cols, inplace) })
					forEachLayout(t, func(a *arena) {
						what := fmt.Sprintf("%dx%d affine=%v inplace=%v %s", rows, cols, affine, inplace, a.l.name)
						dx, dg, db := runLNB(a.from, dy, src, mean, rstd, g, d0, e0, rows, cols, inplace)
						requireBitsEqual(t, "LayerNormBackward dx "+what, dx, wdx)
						requireBitsEqual(t, "LayerNormBackward dgamma "+what, dg, wdg)
						requireBitsEqual(t, "LayerNormBackward dbeta "+what, db, wdb)
					})
				}
			}
		}
	})
}

// ln64 is the float64 layernorm of one row: t, mean, rstd.
func ln64(x []float32, eps float32) (t []float64, mean, rstd float64) {
	n := float64(len(x))
	for _, v := range x {
		mean += float64(v)
	}
	mean /= n
	var vr float64
	for _, v := range x {
		vr += (float64(v) - mean) * (float64(v) - mean)
	}
	vr /= n
	rstd = 1 / math.Sqrt(vr+float64(eps))
	t = make([]float64, len(x))
	for j, v := range x {
		t[j] = (float64(v) - mean) * rstd
	}
	return t, mean, rstd
}

// lnTBound is the stated bound on the normalized value t_j = (x_j−mean)·rstd
// of the float32 kernel against float64, with K = ⌈n/32⌉:
//
//	|t32_j − t64_j| ≤ 2^-24·((K+6)·rstd·mean|x| + (K+8)·|t64_j|)
//
// The first term is the mean's rounding (a shift of every d_j, scaled by
// rstd: the large-offset case), the second the variance, sqrt, division and
// product roundings. LayerNorm's y obeys |y − y64| ≤ |γ_j|·that + 2^-24·|y64|.
func lnTBound(K, rstd, meanAbs, t float64) float64 {
	return roundoff * ((K+6)*rstd*meanAbs + (K+8)*math.Abs(t))
}

// TestLayerNormAccuracy checks the pure-Go LayerNorm against float64 within
// the bound of lnTBound, and mean/rstd outputs within
// |mean − m64| ≤ (K+5)·2^-24·mean|x| and |rstd − r64| ≤ ((K+5)/2 + 4)·2^-24·r64
// (plus the mean error's second-order effect, negligible here).
func TestLayerNormAccuracy(t *testing.T) {
	worst := 0.0
	defer func() { t.Logf("worst error %.2f of the bound", worst) }()
	sizes := append(clone(testSizes[1:]), 768, 4096, 30000)
	if reduced() {
		sizes = sizesUpTo(1000)[1:]
	}
	for _, cols := range sizes {
		r := newRand(t, uint64(cols))
		rows := 6
		src := genLNRows(r, rows, cols)
		// No special values here: the float64 reference must be finite.
		for j := 0; j < cols; j++ {
			src[4*cols+j] = float32(r.NormFloat64() * 2)
		}
		gamma, beta := randNormal(r, cols, 1, 0.5), randNormal(r, cols, 0, 0.5)
		for _, eps := range []float32{1e-5, 1e-12} {
			y := make([]float32, rows*cols)
			mean, rstd := make([]float32, rows), make([]float32, rows)
			reference(func() { LayerNorm(y, mean, rstd, src, gamma, beta, rows, cols, eps) })
			K := float64((cols + 31) / 32)
			for i := 0; i < rows; i++ {
				row := src[i*cols : (i+1)*cols]
				t64, m64, r64 := ln64(row, eps)
				var meanAbs float64
				for _, v := range row {
					meanAbs += math.Abs(float64(v))
				}
				meanAbs /= float64(cols)
				what := fmt.Sprintf("cols=%d eps=%v row %d", cols, eps, i)
				if d, b := math.Abs(float64(mean[i])-m64), (K+5)*roundoff*meanAbs; d > b {
					t.Errorf("%s: mean %v, float64 %v: error %.3g > %.3g", what, mean[i], m64, d, b)
				}
				// The rstd bound holds when the mean error does not
				// dominate the variance (rows with spread ≫ mean error).
				if i != 1 && i != 3 {
					if d, b := math.Abs(float64(rstd[i])-r64), ((K+5)/2+4)*roundoff*r64; d > b {
						t.Errorf("%s: rstd %v, float64 %v: error %.3g > %.3g", what, rstd[i], r64, d, b)
					}
				}
				for j := range row {
					ref := t64[j]*float64(gamma[j]) + float64(beta[j])
					b := math.Abs(float64(gamma[j]))*lnTBound(K, r64, meanAbs, t64[j]) + roundoff*math.Abs(ref)
					d := math.Abs(float64(y[i*cols+j]) - ref)
					worst = max(worst, d/b)
					if !(d <= b) {
						t.Fatalf("%s col %d: y=%v, float64 %v: error %.3g > bound %.3g", what, j, y[i*cols+j], ref, d, b)
					}
				}
			}
		}
	}
}

// lnGrad64 is the float64 gradient of one row: dx, and the per-row
// contributions to dgamma (dy·t) and dbeta (dy).
func lnGrad64(x, dy, gamma []float32, eps float32) (dx []float64, t []float64, rstd float64) {
	t, _, rstd = ln64(x, eps)
	n := float64(len(x))
	g := make([]float64, len(x))
	var ma, mb float64
	for j := range x {
		g[j] = float64(dy[j])
		if gamma != nil {
			g[j] *= float64(gamma[j])
		}
		ma += g[j]
		mb += g[j] * t[j]
	}
	ma /= n
	mb /= n
	dx = make([]float64, len(x))
	for j := range x {
		dx[j] = rstd * (g[j] - ma - t[j]*mb)
	}
	return dx, t, rstd
}

// TestLayerNormBackwardAccuracy checks the pure-Go backward against float64
// (the exact gradient at the float32 input). With g = dy·γ, K = ⌈n/32⌉,
// ma = mean(g), mb = mean(g·t), Δt the forward bound of lnTBound and
// εr = ((K+5)/2+4)·2^-24 the rstd bound:
//
//	|dx_j − ref_j| ≤ rstd·(|mb|·Δt_j + mean(|g|·Δt) + 2^-24·((K+5)·mean|g| +
//	                 (K+6)·|t_j|·mean|g·t| + 2|g_j − ma| + 2|g_j − ma − t_j·mb|)) + εr·|ref_j|
//
// and dgamma, dbeta within rows·2^-24·Σ_r|·| plus the Δt terms.
func TestLayerNormBackwardAccuracy(t *testing.T) {
	worst := 0.0
	defer func() { t.Logf("worst dx error %.2f of the bound", worst) }()
	sizes := append(clone(testSizes[1:]), 768, 30000)
	if reduced() {
		sizes = sizesUpTo(1000)[1:]
	}
	for _, cols := range sizes {
		r := newRand(t, uint64(cols))
		rows := 6
		src := genLNRows(r, rows, cols)
		for j := 0; j < cols; j++ {
			src[4*cols+j] = float32(r.NormFloat64() * 2)
		}
		gamma := randNormal(r, cols, 1, 0.5)
		dy := randNormal(r, rows*cols, 0, 1)
		const eps = 1e-5
		for _, affine := range []bool{true, false} {
			g := gamma
			if !affine {
				g = nil
			}
			mean, rstd := make([]float32, rows), make([]float32, rows)
			dx := make([]float32, rows*cols)
			dgamma, dbeta := make([]float32, cols), make([]float32, cols)
			reference(func() {
				LayerNorm(make([]float32, rows*cols), mean, rstd, src, g, nil, rows, cols, eps)
				LayerNormBackward(dx, dgamma, dbeta, dy, src, mean, rstd, g, rows, cols)
			})
			K := float64((cols + 31) / 32)
			epsR := ((K+5)/2 + 4) * roundoff
			dg64, db64 := make([]float64, cols), make([]float64, cols)
			dgB, dbB := make([]float64, cols), make([]float64, cols)
			for i := 0; i < rows; i++ {
				row, dyr := src[i*cols:(i+1)*cols], dy[i*cols:(i+1)*cols]
				ref, t64, r64 := lnGrad64(row, dyr, g, eps)
				var meanAbs float64
				for _, v := range row {
					meanAbs += math.Abs(float64(v))
				}
				meanAbs /= float64(cols)
				gv := make([]float64, cols)
				var ma, mb, mAbsG, mAbsGT, mGdT float64
				for j := range row {
					gv[j] = float64(dyr[j])
					if g != nil {
						gv[j] *= float64(g[j])
					}
					dt := lnTBound(K, r64, meanAbs, t64[j])
					ma += gv[j]
					mb += gv[j] * t64[j]
					mAbsG += math.Abs(gv[j])
					mAbsGT += math.Abs(gv[j] * t64[j])
					mGdT += math.Abs(gv[j]) * dt
					dg64[j] += float64(dyr[j]) * t64[j]
					db64[j] += float64(dyr[j])
					dgB[j] += math.Abs(float64(dyr[j]))*dt + float64(rows)*roundoff*math.Abs(float64(dyr[j])*t64[j])
					dbB[j] += float64(rows) * roundoff * math.Abs(float64(dyr[j]))
				}
				n := float64(cols)
				ma, mb, mAbsG, mAbsGT, mGdT = ma/n, mb/n, mAbsG/n, mAbsGT/n, mGdT/n
				if i == 1 || i == 3 {
					// Large offset and constant rows: rstd itself is only as
					// good as the mean (checked in TestLayerNormAccuracy);
					// the gradient is checked bit for bit across backends only.
					continue
				}
				for j := range row {
					dt := lnTBound(K, r64, meanAbs, t64[j])
					b := r64*(math.Abs(mb)*dt+mGdT+roundoff*((K+5)*mAbsG+(K+6)*math.Abs(t64[j])*mAbsGT+
						2*math.Abs(gv[j]-ma)+2*math.Abs(gv[j]-ma-t64[j]*mb))) + epsR*math.Abs(ref[j])
					d := math.Abs(float64(dx[i*cols+j]) - ref[j])
					worst = max(worst, d/b)
					if !(d <= b) {
						t.Fatalf("cols=%d affine=%v row %d col %d: dx=%v, float64 %v: error %.3g > bound %.3g",
							cols, affine, i, j, dx[i*cols+j], ref[j], d, b)
					}
				}
			}
			for j := 0; j < cols; j++ {
				if d := math.Abs(float64(dgamma[j]) - dg64[j]); d > 2*dgB[j]+0x1p-125 {
					t.Fatalf("cols=%d dgamma[%d]=%v, float64 %v: error %.3g > %.3g", cols, j, dgamma[j], dg64[j], d, 2*dgB[j])
				}
				if d := math.Abs(float64(dbeta[j]) - db64[j]); d > dbB[j] {
					t.Fatalf("cols=%d dbeta[%d]=%v, float64 %v: error %.3g > %.3g", cols, j, dbeta[j], db64[j], d, dbB[j])
				}
			}
		}
	}
}

// TestLayerNormGradFiniteDiff checks LayerNormBackward against central
// finite differences of L = Σ w·LayerNorm64(x; γ, β) in float64, for dx,
// dgamma and dbeta: |grad − fd| ≤ 2e-4·(1 + |fd|).
func TestLayerNormGradFiniteDiff(t *testing.T) {
	r := newRand(t)
	for _, cols := range []int{2, 3, 8, 33} {
		rows := 2
		x := randNormal(r, rows*cols, 0.5, 1.5)
		gamma, beta := randNormal(r, cols, 1, 0.5), randNormal(r, cols, 0, 0.5)
		w := randNormal(r, rows*cols, 0, 1)
		const eps = 1e-5
		L := func(x, gamma, beta []float64) float64 {
			var l float64
			for i := 0; i < rows; i++ {
				row := x[i*cols : (i+1)*cols]
				var m, v float64
				for _, a := range row {
					m += a
				}
				m /= float64(cols)
				for _, a := range row {
					v += (a - m) * (a - m)
				}
				v /= float64(cols)
				rs := 1 / math.Sqrt(v+eps)
				for j, a := range row {
					l += float64(w[i*cols+j]) * ((a-m)*rs*gamma[j] + beta[j])
				}
			}
			return l
		}
		to64 := func(a []float32) []float64 {
			o := make([]float64, len(a))
			for i, v := range a {
				o[i] = float64(v)
			}
			return o
		}
		fd := func(v []float64, j int, f func() float64) float64 {
			h := 1e-6 * max(1, math.Abs(v[j]))
			v[j] += h
			lp := f()
			v[j] -= 2 * h
			lm := f()
			v[j] += h
			return (lp - lm) / (2 * h)
		}
		forEachBackend(t, func(t *testing.T) {
			mean, rstd := make([]float32, rows), make([]float32, rows)
			LayerNorm(make([]float32, rows*cols), mean, rstd, x, gamma, beta, rows, cols, eps)
			dx := make([]float32, rows*cols)
			dg, db := make([]float32, cols), make([]float32, cols)
			LayerNormBackward(dx, dg, db, w, x, mean, rstd, gamma, rows, cols)
			x64, g64, b64 := to64(x), to64(gamma), to64(beta)
			f := func() float64 { return L(x64, g64, b64) }
			check := func(name string, got float32, want float64) {
				if d := math.Abs(float64(got) - want); d > 2e-4*(1+math.Abs(want)) {
					t.Errorf("cols=%d %s = %v, finite difference %v", cols, name, got, want)
				}
			}
			for j := range x64 {
				check(fmt.Sprintf("dx[%d]", j), dx[j], fd(x64, j, f))
			}
			for j := 0; j < cols; j++ {
				check(fmt.Sprintf("dgamma[%d]", j), dg[j], fd(g64, j, f))
				check(fmt.Sprintf("dbeta[%d]", j), db[j], fd(b64, j, f))
			}
		})
	}
}

// TestLayerNormRowSplit: rows are independent and dgamma/dbeta accumulate in
// row order, so one call over all rows equals one call per row, bit for bit.
func TestLayerNormRowSplit(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		r := newRand(t)
		rows, cols := 7, 129
		x := genLNRows(r, rows, cols)
		gamma, beta := randNormal(r, cols, 1, 0.5), randNormal(r, cols, 0, 0.5)
		dy := randNormal(r, rows*cols, 0, 1)
		y, mean, rstd := make([]float32, rows*cols), make([]float32, rows), make([]float32, rows)
		LayerNorm(y, mean, rstd, x, gamma, beta, rows, cols, 1e-5)
		dx, dg, db := make([]float32, rows*cols), randNormal(r, cols, 0, 1), randNormal(r, cols, 0, 1)
		dg2, db2 := clone(dg), clone(db)
		LayerNormBackward(dx, dg, db, dy, x, mean, rstd, gamma, rows, cols)

		y2, m2, r2, dx2 := make([]float32, rows*cols), make([]float32, rows), make([]float32, rows), make([]float32, rows*cols)
		for i := 0; i < rows; i++ {
			s := i * cols
			LayerNorm(y2[s:s+cols], m2[i:i+1], r2[i:i+1], x[s:s+cols], gamma, beta, 1, cols, 1e-5)
			LayerNormBackward(dx2[s:s+cols], dg2, db2, dy[s:s+cols], x[s:s+cols], m2[i:i+1], r2[i:i+1], gamma, 1, cols)
		}
		requireBitsEqual(t, "y", y2, y)
		requireBitsEqual(t, "mean", m2, mean)
		requireBitsEqual(t, "rstd", r2, rstd)
		requireBitsEqual(t, "dx", dx2, dx)
		requireBitsEqual(t, "dgamma", dg2, dg)
		requireBitsEqual(t, "dbeta", db2, db)
	})
}

// TestLayerNormSemantics pins simple cases: a constant row normalizes to
// zeros with rstd = 1/sqrt(eps); nil mean/rstd give the same y; no bias
// equals a zero bias (by value); [-1, 1] gives [-1, 1]·γ + β with eps = 0.
func TestLayerNormSemantics(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		c := []float32{2.5, 2.5, 2.5, 2.5}
		y, m, rs := make([]float32, 4), make([]float32, 1), make([]float32, 1)
		LayerNorm(y, m, rs, c, nil, nil, 1, 4, 0.25)
		requireBitsEqual(t, "constant row", y, []float32{0, 0, 0, 0})
		requireSame(t, "constant mean", m[0], 2.5)
		requireSame(t, "constant rstd", rs[0], 2) // 1/sqrt(0.25)

		LayerNorm(y[:2], nil, nil, []float32{-1, 1}, []float32{3, 5}, []float32{0.5, -0.5}, 1, 2, 0)
		requireBitsEqual(t, "[-1,1]", y[:2], []float32{-2.5, 4.5})

		r := newRand(t)
		x := randNormal(r, 3*40, 0, 1)
		g := randNormal(r, 40, 1, 0.3)
		a, b := make([]float32, len(x)), make([]float32, len(x))
		LayerNorm(a, make([]float32, 3), make([]float32, 3), x, g, nil, 3, 40, 1e-5)
		LayerNorm(b, nil, nil, x, g, nil, 3, 40, 1e-5)
		requireBitsEqual(t, "nil stats", b, a)
		LayerNorm(b, nil, nil, x, g, make([]float32, 40), 3, 40, 1e-5)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("no bias vs zero bias at %d: %v vs %v", i, a[i], b[i])
			}
		}
		// A NaN in a row makes that row NaN and leaves the others alone.
		x[5] = float32(math.NaN())
		LayerNorm(a, nil, nil, x, nil, nil, 3, 40, 1e-5)
		for j := 0; j < 40; j++ {
			if a[j] == a[j] {
				t.Fatalf("NaN row: y[%d] = %v, want NaN", j, a[j])
			}
			if a[40+j] != a[40+j] {
				t.Fatalf("NaN leaked into the next row at %d", j)
			}
		}
	})
}
