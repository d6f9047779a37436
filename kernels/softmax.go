package kernels

import (
	"fmt"
	"math"
)

// SoftmaxOptions selects the variants of Softmax. The zero value is a plain
// softmax over each row.
type SoftmaxOptions struct {
	// Scale multiplies every score before masking (for attention,
	// 1/sqrt(head_dim)). 0 means 1.
	Scale float32
	// Mask is an additive float mask added after scaling: rows*cols values,
	// or cols values broadcast to every row. -Inf masks a position out.
	Mask []float32
	// Ignore masks positions out where true (PyTorch MultiheadAttention's
	// boolean attn_mask / key_padding_mask convention): rows*cols or cols.
	Ignore []bool
	// Causal masks column j of row r when j > r + CausalOffset.
	Causal       bool
	CausalOffset int
	// Dropout is SoftmaxDropout's drop probability (Softmax panics when it
	// is set): the element index of (r, j) is Offset + r*cols + j under
	// Seed; SoftmaxDropoutBackward regenerates the mask.
	Dropout      float32
	Seed, Offset uint64
}

func softmaxRowGeneric(dst, src, mask []float32, ignore []bool, scale float32, limit int) {
	src = src[:len(dst)]
	ninf := float32(math.Inf(-1))
	m := ninf
	for j, x := range src {
		v := float32(x * scale)
		if mask != nil {
			v = v + mask[j]
		}
		if j >= limit || (ignore != nil && ignore[j]) {
			v = ninf
		}
		dst[j] = v
		if v > m {
			m = v
		}
	}
	if m == ninf { // fully masked: zeros, never NaN
		clear(dst)
		return
	}
	var acc [32]float32
	for j, v := range dst {
		e := exp32(v - m)
		dst[j] = e
		acc[j&31] = acc[j&31] + e
	}
	inv := 1 / tree32(&acc)
	for j, e := range dst {
		dst[j] = float32(e * inv)
	}
}

// softmaxBackwardRowGeneric: dx = ((dy - <y,dy>) * y) * scale; dx may alias dy.
func softmaxBackwardRowGeneric(dx, y, dy []float32, scale float32) {
	y, dy = y[:len(dx)], dy[:len(dx)]
	d := dotGeneric(y, dy)
	for j := range dx {
		t := dy[j] - d
		u := float32(y[j] * t)
		dx[j] = float32(u * scale)
	}
}

// Softmax writes to dst the softmax of each of the rows of src (rows×cols,
// row-major): y = exp(v - max v) / Σ exp(v - max v) with
// v = src*Scale + Mask, masked positions (Mask -Inf, Ignore, Causal) giving
// exactly 0. A row with every position masked gives zeros (never NaN); a NaN
// at an unmasked position makes its row NaN, except in a row whose only
// unmasked scores are NaN: that row counts as fully masked and gives zeros
// (the max that detects masked rows skips NaN). It panics when
// opt.Dropout is set: the fused dropout is SoftmaxDropout. dst may alias src.
func Softmax(dst, src []float32, rows, cols int, opt SoftmaxOptions) {
	if opt.Dropout != 0 {
		panic(fmt.Sprintf("kernels: Softmax: Dropout=%v needs SoftmaxDropout (the dropped-out probabilities need their own buffer)", opt.Dropout))
	}
	softmax("Softmax", dst, nil, src, rows, cols, opt)
}

// SoftmaxDropout is Softmax fused with dropout of its result (the attention
// kernel): dst gets the probabilities y, which the backward needs, and drop
// (rows×cols, not aliasing dst) gets dropout(y) with drop probability
// opt.Dropout (a copy of y when it is 0). dst may alias src.
func SoftmaxDropout(dst, drop, src []float32, rows, cols int, opt SoftmaxOptions) {
	size := checkMatrix("SoftmaxDropout", rows, cols)
	checkLenN("SoftmaxDropout", "drop", len(drop), size, rows, cols)
	softmax("SoftmaxDropout", dst, drop, src, rows, cols, opt)
	if opt.Dropout == 0 {
		copy(drop, dst)
	}
}

func softmax(op string, dst, drop, src []float32, rows, cols int, opt SoftmaxOptions) {
	size := checkMatrix(op, rows, cols)
	checkLenN(op, "dst", len(dst), size, rows, cols)
	checkLenN(op, "src", len(src), size, rows, cols)
	maskStride := optStride(op, "Mask", len(opt.Mask), opt.Mask != nil, rows, cols)
	ignStride := optStride(op, "Ignore", len(opt.Ignore), opt.Ignore != nil, rows, cols)
	scale := opt.Scale
	if scale == 0 {
		scale = 1
	}
	var dscale float32
	var k0, k1, ithr uint32
	if opt.Dropout != 0 {
		ithr, dscale = dropoutParams(op, opt.Dropout)
		k0, k1 = dropoutKeys(opt.Seed)
		raceRW(drop, nil)
	}
	raceRW(dst, src)
	raceRead(opt.Mask)
	b := cur()
	for r := 0; r < rows; r++ {
		var mask []float32
		if opt.Mask != nil {
			mask = opt.Mask[r*maskStride : r*maskStride+cols]
		}
		var ign []bool
		if opt.Ignore != nil {
			ign = opt.Ignore[r*ignStride : r*ignStride+cols]
		}
		limit := cols
		if opt.Causal {
			limit = min(max(r+opt.CausalOffset+1, 0), cols)
		}
		b.softmaxRow(dst[r*cols:(r+1)*cols], src[r*cols:(r+1)*cols], mask, ign, scale, limit)
	}
	if opt.Dropout != 0 {
		// Element (r, j) has index Offset + r*cols + j: the rows form one
		// contiguous index range, so one call covers them all (the rows
		// are still in cache for short rows, and tiny rows avoid a call each).
		dropoutSpan(b, drop, dst, k0, k1, ithr, dscale, opt.Offset)
	}
}

// SoftmaxBackward writes dx = scale · y ⊙ (dy − ⟨y, dy⟩) row by row: the
// gradient through y = Softmax(src) with Scale scale (pass 1 for none).
// Masked positions have y = 0 and so get zero gradient. dx may alias dy.
func SoftmaxBackward(dx, y, dy []float32, rows, cols int, scale float32) {
	size := checkMatrix("SoftmaxBackward", rows, cols)
	checkLenN("SoftmaxBackward", "dx", len(dx), size, rows, cols)
	checkLenN("SoftmaxBackward", "y", len(y), size, rows, cols)
	checkLenN("SoftmaxBackward", "dy", len(dy), size, rows, cols)
	raceRW(dx, y)
	raceRead(dy)
	b := cur()
	for r := 0; r < rows; r++ {
		s := r * cols
		b.softmaxBackwardRow(dx[s:s+cols], y[s:s+cols], dy[s:s+cols], scale)
	}
}

// SoftmaxDropoutBackward is the backward of Softmax with Dropout p: dy is the
// gradient with respect to DropDst, y the undropped probabilities (Softmax's
// dst). It regenerates the dropout mask from (seed, offset) — nothing was
// stored — and then applies SoftmaxBackward. dx may alias dy.
func SoftmaxDropoutBackward(dx, y, dy []float32, rows, cols int, scale, p float32, seed, offset uint64) {
	size := checkMatrix("SoftmaxDropoutBackward", rows, cols)
	checkLenN("SoftmaxDropoutBackward", "dx", len(dx), size, rows, cols)
	checkLenN("SoftmaxDropoutBackward", "y", len(y), size, rows, cols)
	checkLenN("SoftmaxDropoutBackward", "dy", len(dy), size, rows, cols)
	thr, dscale := dropoutParams("SoftmaxDropoutBackward", p)
	k0, k1 := dropoutKeys(seed)
	raceRW(dx, y)
	raceRead(dy)
	b := cur()
	if p != 0 {
		dropoutSpan(b, dx, dy, k0, k1, thr, dscale, offset)
	} else {
		copy(dx, dy)
	}
	for r := 0; r < rows; r++ {
		row := dx[r*cols : (r+1)*cols]
		b.softmaxBackwardRow(row, y[r*cols:(r+1)*cols], row, scale)
	}
}

// optStride validates an optional per-row (rows*cols) or broadcast (cols)
// operand and returns its row stride.
func optStride(fn, name string, n int, present bool, rows, cols int) int {
	if !present {
		return 0
	}
	switch n {
	case rows * cols:
		return cols
	case cols:
		return 0
	}
	panic(fmt.Sprintf("kernels: %s: len(%s)=%d, want rows*cols=%d×%d=%d or cols=%d",
		fn, name, n, rows, cols, rows*cols, cols))
}
