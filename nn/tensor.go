package nn

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/simdformer/simdformer/kernels"
)

// Tensor is a float32 array with a shape, stored contiguously in row-major
// order. Parameters (see NewParam) have RequiresGrad set and a Grad of the
// same length as Data, into which Backward accumulates. Tensors returned by
// Graph operations belong to that graph and are valid until its Reset.
type Tensor struct {
	// Data holds the values, row-major; len(Data) is the product of Shape.
	Data []float32
	// Grad holds dL/dData after Backward: persistent and accumulated (+=)
	// for parameters and other leaf tensors with RequiresGrad, graph memory
	// for intermediate results.
	Grad []float32
	// Shape lists the dimensions, outermost first; a scalar has Shape [].
	Shape []int
	// RequiresGrad marks a tensor whose gradient Backward computes. Set it
	// on a leaf (an input) to obtain the gradient with respect to it.
	RequiresGrad bool

	g        *Graph // the graph whose operation produced it; nil for leaves
	shapeBuf [6]int
}

// NewTensor wraps data (not copied) as a tensor of the given shape. It
// panics if len(data) is not the product of shape.
func NewTensor(data []float32, shape ...int) *Tensor {
	t := &Tensor{}
	t.setShape(shape)
	if n := numel(shape); n != len(data) {
		panic(fmt.Sprintf("nn: NewTensor: shape %s needs %d values, got len(data)=%d", shapeStr(shape), n, len(data)))
	}
	t.Data = data
	return t
}

// Zeros returns a new tensor of zeros.
func Zeros(shape ...int) *Tensor {
	return NewTensor(make([]float32, numel(shape)), shape...)
}

// NewParam returns a zero-filled parameter: RequiresGrad is set and Grad is
// allocated (zeros) with the same length as Data.
func NewParam(shape ...int) *Tensor {
	t := Zeros(shape...)
	t.Grad = make([]float32, len(t.Data))
	t.RequiresGrad = true
	return t
}

func (t *Tensor) setShape(shape []int) {
	for _, d := range shape {
		if d < 0 {
			panic("nn: negative dimension in shape " + shapeStr(shape))
		}
	}
	if len(shape) <= len(t.shapeBuf) {
		t.Shape = t.shapeBuf[:len(shape)]
	} else {
		t.Shape = make([]int, len(shape))
	}
	copy(t.Shape, shape)
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Numel returns the number of elements, the product of Shape.
func (t *Tensor) Numel() int { return len(t.Data) }

// Dim returns the size of dimension i; negative i counts from the end
// (Dim(-1) is the last dimension).
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.Shape)
	}
	if i < 0 || i >= len(t.Shape) {
		panic(fmt.Sprintf("nn: Dim(%d) of a tensor of shape %v", i, t.Shape))
	}
	return t.Shape[i]
}

// Item returns the value of a one-element tensor.
func (t *Tensor) Item() float32 {
	if len(t.Data) != 1 {
		panic(fmt.Sprintf("nn: Item of a tensor of shape %v", t.Shape))
	}
	return t.Data[0]
}

// Clone returns a new leaf tensor with a copy of t's data and shape (no
// gradient). Use it to keep a graph result past the graph's Reset.
func (t *Tensor) Clone() *Tensor {
	return NewTensor(append([]float32(nil), t.Data...), t.Shape...)
}

// ZeroGrad sets every element of t.Grad to zero (Grad may be nil); a large
// gradient is cleared by the kernels' worker pool (kernels.Zero).
func (t *Tensor) ZeroGrad() { kernels.Zero(t.Grad) }

// Backward computes the gradient of the scalar t with respect to every
// tensor it depends on that requires a gradient, accumulating into the
// Grad of leaves (parameters). It is Graph.Backward on t's graph.
func (t *Tensor) Backward() {
	if t.g == nil {
		panic(fmt.Sprintf("nn: Backward on a tensor of shape %v that no recording graph produced (NoGrad, nil graph or no input requires grad)", t.Shape))
	}
	t.g.Backward(t)
}

// String formats the shape and up to 8 values.
func (t *Tensor) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Tensor%v[", t.Shape)
	for i, v := range t.Data {
		if i == 8 {
			b.WriteString(" …")
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.4g", v)
	}
	b.WriteByte(']')
	return b.String()
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// rowsCols views a tensor of rank >= 1 as (rows, last dim).
func rowsCols(op string, t *Tensor) (rows, cols int) {
	if len(t.Shape) == 0 {
		panic(fmt.Sprintf("nn: %s: needs a tensor of rank >= 1, got shape %v", op, t.Shape))
	}
	cols = t.Shape[len(t.Shape)-1]
	if cols == 0 {
		return 0, 0
	}
	return len(t.Data) / cols, cols
}

// shapeStr formats a shape like %v does, without letting the slice escape
// (the shapes of graph tensors live on the caller's stack).
func shapeStr(s []int) string {
	b := []byte{'['}
	for i, d := range s {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendInt(b, int64(d), 10)
	}
	return string(append(b, ']'))
}
