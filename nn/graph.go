package nn

import (
	"fmt"

	"github.com/simdformer/simdformer/kernels"
)

// Graph is the autograd tape and the memory pool of one forward/backward
// pass, and the dropout stream of its passes (SetSeed, Step). Operations
// (its methods) compute their result, and when an input requires a gradient
// and NoGrad is false they record a node: the output and a typed record of
// what backward needs. Backward replays the nodes in reverse.
//
// Tensors a graph returns, and their gradients, live in the graph's pool and
// stay valid until Reset, which returns every buffer to the pool; the next
// pass reuses them, so a steady training loop allocates no tensor storage.
//
// A nil *Graph is valid everywhere: it records nothing and allocates results
// with make. A Graph is not safe for concurrent use: use one per goroutine
// (see the package documentation's Concurrency section).
type Graph struct {
	// NoGrad disables recording: operations compute their results only and
	// keep no activations for backward (inference, evaluation).
	NoGrad bool

	// LocalGrads makes Backward accumulate the gradients of leaf tensors
	// (parameters, inputs with RequiresGrad) into buffers owned by the graph
	// instead of into their Grad. Several goroutines can then run forward
	// and Backward on one shared model at once, each with its own graph:
	// nothing they write is shared. Read a leaf's gradient with Grad, and add
	// them all into the leaves' Grad with AccumulateGrads — from one
	// goroutine at a time, before Reset (which returns the buffers to the
	// pool).
	LocalGrads bool

	nodes []node
	recs  recordPools // one pool per record type, reused after Reset
	tens  []*Tensor   // Tensor structs handed out since Reset are tens[:nt]
	nt    int
	free  map[int][][]float32 // pooled buffers by exact length
	used  [][]float32         // buffers handed out since Reset
	bools []bool              // scratch for combined boolean masks
	words []uint64            // scratch for dropout bit masks

	// The dropout stream (see SetSeed): seed and step of the current pass,
	// whether it drew a mask, and each site's calls in it.
	seed, step uint64
	drew       bool
	calls      []siteCount

	leaves []leafGrad // LocalGrads: the leaves' gradients in this pass
}

// leafGrad is a leaf's gradient buffer under LocalGrads. A view (the rows
// of a parameter, see rows) aliases part of its parent's buffer.
type leafGrad struct {
	t    *Tensor
	buf  []float32
	view bool
}

// node is one recorded operation: its output and the typed record of what
// its backward needs (see records.go).
type node struct {
	out *Tensor
	rec backwarder
}

// NewGraph returns an empty graph that records operations.
func NewGraph() *Graph {
	return &Graph{free: map[int][][]float32{}}
}

// Reset forgets the recorded operations and returns every buffer and record
// handed out since the last Reset to the pool. Tensors produced by the graph
// (and LocalGrads buffers) must not be used afterwards. Parameters and their
// Grad are not touched. When the pass drew a dropout mask, Reset advances
// the dropout step (see Step), so the next pass draws fresh masks.
func (g *Graph) Reset() {
	if g == nil {
		return
	}
	clear(g.nodes)
	g.nodes = g.nodes[:0]
	g.recs.reset()
	if g.drew {
		g.step++
		g.drew = false
	}
	clear(g.calls)
	g.calls = g.calls[:0]
	clear(g.leaves)
	g.leaves = g.leaves[:0]
	for _, t := range g.tens[:g.nt] {
		*t = Tensor{}
	}
	g.nt = 0
	for _, b := range g.used {
		g.free[len(b)] = append(g.free[len(b)], b)
	}
	clear(g.used)
	g.used = g.used[:0]
}

// Release resets g and drops its pooled buffers, for a graph that ran a
// larger pass than it will run again (the pool keeps one set of buffers
// for every size a pass asked for).
func (g *Graph) Release() {
	if g == nil {
		return
	}
	g.Reset()
	clear(g.free)
	g.tens, g.bools, g.words = nil, nil, nil
	g.nodes, g.calls, g.leaves = nil, nil, nil
	g.recs = recordPools{}
}

// recording reports whether an operation with these inputs must record a node.
func (g *Graph) recording(ts ...*Tensor) bool {
	if g == nil || g.NoGrad {
		return false
	}
	for _, t := range ts {
		if t != nil && t.RequiresGrad {
			return true
		}
	}
	return false
}

// alloc returns an uninitialised buffer of n floats from the pool.
func (g *Graph) alloc(n int) []float32 {
	if g == nil {
		return make([]float32, n)
	}
	if g.free == nil {
		g.free = map[int][][]float32{}
	}
	var b []float32
	if l := g.free[n]; len(l) > 0 {
		b = l[len(l)-1]
		l[len(l)-1] = nil
		g.free[n] = l[:len(l)-1]
	} else {
		b = make([]float32, n)
	}
	g.used = append(g.used, b)
	return b
}

// allocZero returns a zeroed buffer of n floats from the pool.
func (g *Graph) allocZero(n int) []float32 {
	b := g.alloc(n)
	clear(b)
	return b
}

// boolScratch returns a scratch []bool of length n, valid until the next call.
func (g *Graph) boolScratch(n int) []bool {
	if g == nil {
		return make([]bool, n)
	}
	if cap(g.bools) < n {
		g.bools = make([]bool, n)
	}
	return g.bools[:n]
}

// wordScratch returns a scratch []uint64 of length n, valid until the next call.
func (g *Graph) wordScratch(n int) []uint64 {
	if g == nil {
		return make([]uint64, n)
	}
	if cap(g.words) < n {
		g.words = make([]uint64, n)
	}
	return g.words[:n]
}

// tensor returns a graph-owned tensor struct with the given shape and data.
func (g *Graph) tensor(data []float32, shape ...int) *Tensor {
	var t *Tensor
	if g == nil {
		t = &Tensor{}
	} else {
		if g.nt == len(g.tens) {
			g.tens = append(g.tens, &Tensor{})
		}
		t = g.tens[g.nt]
		g.nt++
	}
	t.setShape(shape)
	t.Data = data
	return t
}

// newTensor returns a graph-owned tensor with uninitialised data.
func (g *Graph) newTensor(shape ...int) *Tensor {
	return g.tensor(g.alloc(numel(shape)), shape...)
}

// Tensor wraps data (not copied) as a leaf tensor whose struct is owned by
// the graph (valid until Reset); it allocates nothing once the graph is warm.
// It panics if len(data) is not the product of shape.
func (g *Graph) Tensor(data []float32, shape ...int) *Tensor {
	if n := numel(shape); n != len(data) {
		panic(fmt.Sprintf("nn: Graph.Tensor: shape %s needs %d values, got len(data)=%d", shapeStr(shape), n, len(data)))
	}
	return g.tensor(data, shape...)
}

// Zeros returns a graph-owned leaf tensor of zeros.
func (g *Graph) Zeros(shape ...int) *Tensor {
	return g.tensor(g.allocZero(numel(shape)), shape...)
}

// Backward seeds dL/dloss = 1 for the one-element tensor loss and walks the
// tape in reverse, accumulating into the Grad of every leaf that requires a
// gradient. Calling it twice without Reset accumulates twice into the
// leaves (like retain_graph=True in PyTorch).
func (g *Graph) Backward(loss *Tensor) {
	if len(loss.Data) != 1 {
		panic(fmt.Sprintf("nn: Backward needs a one-element loss, got shape %v (use BackwardWith)", loss.Shape))
	}
	g.BackwardWith(loss, nil)
}

// BackwardWith is Backward with an explicit upstream gradient dL/dout
// (len(grad) == out.Numel(); nil means ones).
func (g *Graph) BackwardWith(out *Tensor, grad []float32) {
	if g == nil || out.g != g || !out.RequiresGrad {
		panic(fmt.Sprintf("nn: Backward: the tensor of shape %v was not produced by a recording operation of this graph", out.Shape))
	}
	if grad != nil && len(grad) != len(out.Data) {
		panic(fmt.Sprintf("nn: BackwardWith: grad has %d values for a tensor of shape %v", len(grad), out.Shape))
	}
	for i := range g.nodes {
		g.nodes[i].out.Grad = nil
	}
	out.Grad = g.alloc(len(out.Data))
	if grad == nil {
		for i := range out.Grad {
			out.Grad[i] = 1
		}
	} else {
		copy(out.Grad, grad)
	}
	for i := len(g.nodes) - 1; i >= 0; i-- {
		n := &g.nodes[i]
		if n.out.Grad != nil {
			n.rec.backward(g, n.out)
		}
	}
}

// gradDst returns the buffer that dL/dt accumulates into. fresh reports an
// uninitialised buffer that the caller must overwrite completely (the first
// contribution to an intermediate); otherwise the caller adds to it.
func (g *Graph) gradDst(t *Tensor) (buf []float32, fresh bool) {
	if t.g == nil && g.LocalGrads {
		return g.localGrad(t), false
	}
	if t.Grad != nil {
		return t.Grad, false
	}
	if t.g == nil { // a leaf that asked for its gradient: persistent, zeroed
		t.Grad = make([]float32, len(t.Data))
		return t.Grad, false
	}
	t.Grad = g.alloc(len(t.Data))
	return t.Grad, true
}

// gradZeroed is gradDst for callers that scatter-add.
func (g *Graph) gradZeroed(t *Tensor) []float32 {
	b, fresh := g.gradDst(t)
	if fresh {
		clear(b)
	}
	return b
}

// accumulate adds src into dL/dt.
func (g *Graph) accumulate(t *Tensor, src []float32) {
	b, fresh := g.gradDst(t)
	if fresh {
		copy(b, src)
	} else {
		kernels.Add(b, b, src)
	}
}

// gradInPlace returns a buffer for dL/din that the caller fills from dy (it
// may alias dy = out.Grad); then the caller calls done. When in is an
// intermediate without a gradient yet, out's gradient buffer is handed over
// (out's gradient is final once its node runs), so elementwise backwards
// cost no buffer and no add.
func (g *Graph) gradInPlace(in, out *Tensor) (dst []float32, done func(g *Graph, in *Tensor, dst []float32)) {
	if in.Grad == nil && in.g != nil && len(in.Data) == len(out.Grad) {
		in.Grad = out.Grad
		return in.Grad, noop
	}
	return g.alloc(len(in.Data)), (*Graph).accumulate
}

// passThrough adds out's gradient to in's (same length), handing the
// buffer over when in has no gradient yet.
func (g *Graph) passThrough(in, out *Tensor) {
	if in.Grad == nil && in.g != nil {
		in.Grad = out.Grad
		return
	}
	g.accumulate(in, out.Grad)
}

func noop(*Graph, *Tensor, []float32) {}

// localGrad returns the LocalGrads buffer of leaf t (zeroed when new). A
// pass touches few leaves, so a linear scan is cheap and allocates nothing
// once warm.
func (g *Graph) localGrad(t *Tensor) []float32 {
	for i := range g.leaves {
		if g.leaves[i].t == t {
			return g.leaves[i].buf
		}
	}
	b := g.allocZero(len(t.Data))
	g.leaves = append(g.leaves, leafGrad{t: t, buf: b})
	return b
}

// Grad returns the gradient of leaf t that Backward accumulated in g under
// LocalGrads (nil when this pass gave t none). It is valid until Reset.
func (g *Graph) Grad(t *Tensor) []float32 {
	for i := range g.leaves {
		if g.leaves[i].t == t {
			return g.leaves[i].buf
		}
	}
	return nil
}

// AccumulateGrads adds every leaf gradient g holds under LocalGrads into
// the leaf's Grad (allocating a missing Grad) and zeroes g's buffers, so a
// second call adds nothing. It writes the shared Grad: call it from one
// goroutine at a time (under a mutex, or after the workers finished; in a
// fixed order of graphs for reproducible sums).
func (g *Graph) AccumulateGrads() {
	if g == nil {
		return
	}
	for _, l := range g.leaves {
		if l.view {
			continue
		}
		if l.t.Grad == nil {
			l.t.Grad = make([]float32, len(l.t.Data))
		}
		kernels.Add(l.t.Grad, l.t.Grad, l.buf)
		clear(l.buf)
	}
}
