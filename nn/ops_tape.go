package nn

// Tape glue of the ops in math_ops.go, shape_ops.go and bce.go: each
// record type is stored in a node and rebuilt for its backward. (This file
// goes away when records are stored as typed values.)

func recordMath(g *Graph, out *Tensor, r mathRec) {
	g.record(mathBackward, out, r.x).i[0] = int(r.fn)
}

func mathBackward(g *Graph, n *node) {
	r := mathRec{n.in[0], mathFn(n.i[0])}
	r.backward(g, n.out)
}

func recordDiv(g *Graph, out *Tensor, r divRec) { g.record(divBackward, out, r.a, r.b) }

func divBackward(g *Graph, n *node) {
	r := divRec{n.in[0], n.in[1]}
	r.backward(g, n.out)
}

func recordPermute(g *Graph, out *Tensor, r permuteRec) {
	n := g.record(permuteBackward, out, r.x)
	n.i[0] = r.rank
	copy(n.i[1:], r.perm[:r.rank])
}

func permuteBackward(g *Graph, n *node) {
	r := permuteRec{x: n.in[0], rank: n.i[0]}
	copy(r.perm[:r.rank], n.i[1:1+r.rank])
	r.backward(g, n.out)
}

func recordNarrow(g *Graph, out *Tensor, r narrowRec) {
	n := g.record(narrowBackward, out, r.x)
	n.i[0], n.i[1], n.i[2], n.i[3], n.i[4] = r.outer, r.mid, r.inner, r.start, r.length
}

func narrowBackward(g *Graph, n *node) {
	r := narrowRec{n.in[0], n.i[0], n.i[1], n.i[2], n.i[3], n.i[4]}
	r.backward(g, n.out)
}

func recordConcat(g *Graph, out *Tensor, r concatRec) {
	n := g.record(concatBackward, out, r.x)
	n.i[0], n.i[1], n.i[2], n.i[3] = r.outer, r.row, r.off, r.blk
}

func concatBackward(g *Graph, n *node) {
	r := concatRec{n.in[0], n.i[0], n.i[1], n.i[2], n.i[3]}
	r.backward(g, n.out)
}

func recordBCE(g *Graph, out *Tensor, r bceRec) {
	n := g.record(bceBackward, out, r.x, r.t, r.weight)
	n.t = r.posWeight
	n.i[0] = int(r.red)
	if r.logits {
		n.i[1] = 1
	}
}

func bceBackward(g *Graph, n *node) {
	r := bceRec{n.in[0], n.in[1], n.in[2], n.t, Reduction(n.i[0]), n.i[1] != 0}
	r.backward(g, n.out)
}
