package nn

import (
	"fmt"

	"github.com/simdformer/simdformer/kernels"
)

// Shape operations: Transpose, Permute, Narrow (and Slice), Concat. Each
// returns a new contiguous tensor (PyTorch returns views for the first
// three; here the copy is the price of keeping every tensor row-major).
// Each forward sits next to its record type (what its backward reads) and
// the record's backward.

// maxPermuteRank is the largest rank Permute and Transpose accept.
const maxPermuteRank = 8

// permuteRec is what Permute's backward needs: the input and the
// permutation (output dimension i is input dimension perm[i]).
type permuteRec struct {
	x    *Tensor
	rank int
	perm [maxPermuteRank]int
}

// Transpose returns x with dimensions d0 and d1 swapped (torch.transpose;
// negative dimensions count from the end).
func (g *Graph) Transpose(x *Tensor, d0, d1 int) *Tensor {
	r := len(x.Shape)
	a, b := d0, d1
	if a < 0 {
		a += r
	}
	if b < 0 {
		b += r
	}
	if a < 0 || a >= r || b < 0 || b >= r {
		panic(fmt.Sprintf("nn: Transpose: dimensions %d and %d out of range for shape %v", d0, d1, x.Shape))
	}
	if r > maxPermuteRank {
		panic(fmt.Sprintf("nn: Transpose: shape %v has rank %d; at most %d is supported", x.Shape, r, maxPermuteRank))
	}
	rec := permuteRec{x: x, rank: r}
	for i := range r {
		rec.perm[i] = i
	}
	rec.perm[a], rec.perm[b] = b, a
	return g.permute(x, rec)
}

// Permute returns x with its dimensions reordered: output dimension i is
// input dimension dims[i] (torch.permute; negative entries count from the
// end). dims must be a permutation of x's dimensions.
func (g *Graph) Permute(x *Tensor, dims ...int) *Tensor {
	r := len(x.Shape)
	if len(dims) != r || r > maxPermuteRank {
		panic(fmt.Sprintf("nn: Permute: dims %s for shape %v: want a permutation of its %d dimensions (rank at most %d)",
			shapeStr(dims), x.Shape, r, maxPermuteRank))
	}
	rec := permuteRec{x: x, rank: r}
	var seen [maxPermuteRank]bool
	for i, d := range dims {
		if d < 0 {
			d += r
		}
		if d < 0 || d >= r || seen[d] {
			panic(fmt.Sprintf("nn: Permute: dims %s are not a permutation of the %d dimensions of shape %v", shapeStr(dims), r, x.Shape))
		}
		seen[d] = true
		rec.perm[i] = d
	}
	return g.permute(x, rec)
}

func (g *Graph) permute(x *Tensor, rec permuteRec) *Tensor {
	var shape [maxPermuteRank]int
	for i := range rec.rank {
		shape[i] = x.Shape[rec.perm[i]]
	}
	out := g.newTensor(shape[:rec.rank]...)
	permuteCopy(out.Data, x.Data, x.Shape, rec.perm[:rec.rank], false)
	if g.recording(x) {
		*record(g, &g.recs.permute, out) = rec
	}
	return out
}

func (r *permuteRec) backward(g *Graph, out *Tensor) {
	var inv [maxPermuteRank]int // output dimension inv[k] is input dimension k
	for i := range r.rank {
		inv[r.perm[i]] = i
	}
	dx, fresh := g.gradDst(r.x)
	// dy has the output's shape; permuting it by inv gives x's layout.
	permuteCopy(dx, out.Grad, out.Shape, inv[:r.rank], !fresh)
}

// permuteCopy writes dst = src (of shape srcShape) with its dimensions
// reordered by perm (dst dimension i is src dimension perm[i]), or adds it
// into dst with accumulate. It walks dst in row-major order; runs that are
// contiguous in src (an unpermuted last dimension) are copied or added as
// slices.
func permuteCopy(dst, src []float32, srcShape []int, perm []int, accumulate bool) {
	r := len(perm)
	if len(dst) == 0 {
		return
	}
	if r == 0 {
		if accumulate {
			dst[0] += src[0]
		} else {
			dst[0] = src[0]
		}
		return
	}
	var sstride, dshape, stride [maxPermuteRank]int
	s := 1
	for k := r - 1; k >= 0; k-- {
		sstride[k] = s
		s *= srcShape[k]
	}
	for i, p := range perm {
		dshape[i] = srcShape[p]
		stride[i] = sstride[p] // src step of dst dimension i
	}
	inner, step := dshape[r-1], stride[r-1]
	var idx [maxPermuteRank]int
	off := 0 // src offset of dst[o : o+inner]
	for o := 0; o < len(dst); o += inner {
		d := dst[o : o+inner]
		switch {
		case step == 1 && accumulate:
			kernels.Add(d, d, src[off:off+inner])
		case step == 1:
			copy(d, src[off:off+inner])
		case accumulate:
			for j, p := 0, off; j < inner; j, p = j+1, p+step {
				d[j] += src[p]
			}
		default:
			for j, p := 0, off; j < inner; j, p = j+1, p+step {
				d[j] = src[p]
			}
		}
		for k := r - 2; k >= 0; k-- { // advance the outer dimensions
			idx[k]++
			off += stride[k]
			if idx[k] < dshape[k] {
				break
			}
			off -= idx[k] * stride[k]
			idx[k] = 0
		}
	}
}

// narrowRec is what Narrow's backward needs: x viewed as (outer, mid,
// inner) around the axis; the output kept [start, start+length) of mid.
type narrowRec struct {
	x                                *Tensor
	outer, mid, inner, start, length int
}

// Narrow returns the length entries of axis starting at start
// (torch.narrow: x.narrow(axis, start, length)); negative axis and start
// count from the end. The result is a copy.
func (g *Graph) Narrow(x *Tensor, axis, start, length int) *Tensor {
	outer, mid, inner, ax := axes("Narrow", x, axis)
	s := start
	if s < 0 {
		s += mid
	}
	if s < 0 || length < 0 || s+length > mid {
		panic(fmt.Sprintf("nn: Narrow: start %d, length %d out of range for axis %d (size %d) of shape %v", start, length, axis, mid, x.Shape))
	}
	rec := narrowRec{x, outer, mid, inner, s, length}
	var buf [6]int
	shape := append(buf[:0], x.Shape...)
	shape[ax] = length
	out := g.newTensor(shape...)
	blk := length * inner
	for o := range outer {
		copy(out.Data[o*blk:(o+1)*blk], x.Data[(o*mid+s)*inner:])
	}
	if g.recording(x) {
		*record(g, &g.recs.narrow, out) = rec
	}
	return out
}

// Slice returns x[..., start:end, ...] along axis (end exclusive, the
// Python slice without a step; negative start and end count from the end):
// Narrow(x, axis, start, end-start).
func (g *Graph) Slice(x *Tensor, axis, start, end int) *Tensor {
	_, mid, _, _ := axes("Slice", x, axis)
	s, e := start, end
	if s < 0 {
		s += mid
	}
	if e < 0 {
		e += mid
	}
	if s < 0 || e < s || e > mid {
		panic(fmt.Sprintf("nn: Slice: [%d:%d] out of range for axis %d (size %d) of shape %v", start, end, axis, mid, x.Shape))
	}
	return g.Narrow(x, axis, s, e-s)
}

func (r *narrowRec) backward(g *Graph, out *Tensor) {
	dx := g.gradZeroed(r.x)
	dy := out.Grad
	blk := r.length * r.inner
	for o := range r.outer {
		d := dx[(o*r.mid+r.start)*r.inner:][:blk]
		kernels.Add(d, d, dy[o*blk:(o+1)*blk])
	}
}

// concatRec is what the backward of one Concat input needs: the output is
// outer rows of row values, and input x fills [off, off+blk) of each.
type concatRec struct {
	x                    *Tensor
	outer, row, off, blk int
}

// Concat joins xs along axis (torch.cat(xs, dim=axis); negative axis counts
// from the end): every tensor has the same rank and the same sizes in every
// other dimension. One tape record is kept per input that needs a gradient.
func (g *Graph) Concat(axis int, xs ...*Tensor) *Tensor {
	if len(xs) == 0 {
		panic("nn: Concat: no tensors")
	}
	x0 := xs[0]
	outer, _, inner, ax := axes("Concat", x0, axis)
	total := 0
	for _, x := range xs {
		ok := len(x.Shape) == len(x0.Shape)
		for d := 0; ok && d < len(x.Shape); d++ {
			ok = d == ax || x.Shape[d] == x0.Shape[d]
		}
		if !ok {
			panic(fmt.Sprintf("nn: Concat: shapes %v and %v differ outside axis %d", x0.Shape, x.Shape, axis))
		}
		total += x.Shape[ax]
	}
	var buf [6]int
	shape := append(buf[:0], x0.Shape...)
	shape[ax] = total
	out := g.newTensor(shape...)
	row := total * inner
	off := 0
	for _, x := range xs {
		blk := x.Shape[ax] * inner
		for o := range outer {
			copy(out.Data[o*row+off:o*row+off+blk], x.Data[o*blk:(o+1)*blk])
		}
		if g.recording(x) {
			*record(g, &g.recs.concat, out) = concatRec{x, outer, row, off, blk}
		}
		off += blk
	}
	return out
}

func (r *concatRec) backward(g *Graph, out *Tensor) {
	dx, fresh := g.gradDst(r.x)
	dy := out.Grad
	for o := range r.outer {
		d, s := dx[o*r.blk:(o+1)*r.blk], dy[o*r.row+r.off:o*r.row+r.off+r.blk]
		if fresh {
			copy(d, s)
		} else {
			kernels.Add(d, d, s)
		}
	}
}
