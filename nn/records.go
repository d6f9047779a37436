package nn

// Backward records.
//
// Every differentiable operation declares, next to its forward, a record
// type holding exactly what its backward needs (its inputs, sizes, saved
// buffers, dropout seeds), with a backward method: the forward fills the
// record, the backward reads the same named fields, and the compiler checks
// that the two agree. A record is taken from a per-type pool on the Graph
// (record), so recording allocates nothing once the graph is warm; Reset
// returns every record to its pool.

// backwarder is a recorded operation: backward propagates out.Grad (dL/dout,
// final when it is called) into the gradients of the record's inputs.
type backwarder interface {
	backward(g *Graph, out *Tensor)
}

// recChunk is the number of records of one type allocated at a time.
const recChunk = 32

// pool hands out *T from fixed-size chunks that never move, so a pointer
// stays valid while the pool grows; reset makes every record available
// again (zeroed, so the pool keeps no tensor alive).
type pool[T any] struct {
	chunks [][]T
	n      int // records handed out since the last reset
}

// resetter is a pool that handed out records since the last Reset.
type resetter interface{ reset() }

func (p *pool[T]) get(g *Graph) *T {
	if p.n == 0 {
		g.recs.touched = append(g.recs.touched, p)
	}
	c, i := p.n/recChunk, p.n%recChunk
	if c == len(p.chunks) {
		p.chunks = append(p.chunks, make([]T, recChunk))
	}
	p.n++
	return &p.chunks[c][i]
}

func (p *pool[T]) reset() {
	for c := 0; c*recChunk < p.n; c++ {
		clear(p.chunks[c][:min(recChunk, p.n-c*recChunk)])
	}
	p.n = 0
}

// record appends a node producing out, marks out as requiring a gradient
// and returns a zeroed record from p for the caller to fill.
func record[T any, R interface {
	*T
	backwarder
}](g *Graph, p *pool[T], out *Tensor) R {
	r := R(p.get(g))
	g.nodes = append(g.nodes, node{out: out, rec: r})
	out.RequiresGrad = true
	out.g = g
	return r
}

// recordPools holds one pool per record type.
type recordPools struct {
	touched []resetter // pools used since the last Reset

	reshape   pool[reshapeRec]
	add       pool[addRec]
	sub       pool[subRec]
	mul       pool[mulRec]
	scale     pool[scaleRec]
	unary     pool[unaryRec]
	reduceAll pool[reduceAllRec]
	meanAxis  pool[meanAxisRec]
	sel       pool[selectRec]
	softmax   pool[softmaxRec]
	linear    pool[linearRec]
	matmul    pool[matmulRec]
	layerNorm pool[layerNormRec]
	embedding pool[embeddingRec]
	crossEnt  pool[crossEntropyRec]
	mse       pool[mseRec]
	dropout   pool[dropoutRec]
	block     pool[blockDropoutRec]
	locked    pool[lockedDropoutRec]
	alpha     pool[alphaDropoutRec]
	attention pool[attentionRec]
	fusedAttn pool[fusedAttentionRec]

	// math_ops.go, shape_ops.go, bce.go
	math    pool[mathRec]
	div     pool[divRec]
	permute pool[permuteRec]
	narrow  pool[narrowRec]
	concat  pool[concatRec]
	bce     pool[bceRec]
}

func (p *recordPools) reset() {
	for _, r := range p.touched {
		r.reset()
	}
	clear(p.touched)
	p.touched = p.touched[:0]
}
