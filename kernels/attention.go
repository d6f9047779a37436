package kernels

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
)

// Fused multi-head attention (FlashAttention-2 style, CANONICAL.md
// "Attention"): scores are computed one attnBr×attnBc tile at a time with an
// online softmax, so neither pass ever holds an L×S matrix; the dropout mask
// is regenerated from (seed, element index), never stored.

// Tile sizes of the canonical definition (not of any SIMD width): query rows
// per tile and keys per tile. attnBc fixes where the online softmax rescales,
// so changing it changes bits; attnBr only decides which key tiles a causal
// query tile skips.
//
// Measured (fused forward+backward, L = S = 1024, 8 heads, d = 64, p = 0.1,
// one AVX-512 thread, GFLOP per CPU-second): Br×Bc = 64×64: 68, 64×256: 88,
// 112×256: 89, 128×256: 96, 128×512: 81, 256×256: 77. Larger tiles amortise
// the packing of the small products and the per-row calls; beyond 128×256
// the three score-sized tiles of a worker (384 KiB) leave L2.
const (
	attnBr = 128
	attnBc = 256
)

// AttentionOperand is one operand of Attention or AttentionBackward, read or
// written in place through strides: element c of row t of head h of batch n
// is Data[n*BatchStride + h*HeadStride + t*RowStride + c]. For the packed
// (N, L, 3E) output of a QKV projection, Q is {qkv, L*3E, dk, 3E}, K is
// {qkv[E:], L*3E, dk, 3E} and V is {qkv[2E:], L*3E, dv, 3E}: heads are
// slices of the last dimension, nothing is transposed or copied.
type AttentionOperand struct {
	Data                               []float32
	BatchStride, HeadStride, RowStride int
}

// AttentionShape gives the sizes of an attention call: N batches of H heads,
// L queries and S keys per head, DK features of a query/key, DV of a value.
type AttentionShape struct {
	N, H, L, S, DK, DV int
}

// AttentionOptions are the variants of Attention and AttentionBackward (pass
// the same options to both). Masks combine: a score is masked out when any
// of them masks it. A query row whose every key is masked gets a zero
// context and zero gradients, never NaN.
type AttentionOptions struct {
	// Scale multiplies every dot product before masking; 0 means
	// float32(1/√DK).
	Scale float32
	// Causal masks key s for query l when s > l + CausalOffset (top-left
	// aligned, like SDPA's is_causal when L != S).
	Causal       bool
	CausalOffset int
	// Mask is an additive float mask (-Inf masks out): L·S values shared by
	// every batch and head, N·H·L·S values (index (n·H + h)·L·S + l·S + s),
	// or S values shared by every row. KeyPaddingFloat (N·S) is added to the
	// scores of key s of batch n; with both, Mask + KeyPaddingFloat is added
	// (one add, then one add to the score: the order of nn's unfused path).
	Mask            []float32
	KeyPaddingFloat []float32
	// Ignore masks out where true (MultiheadAttention's boolean attn_mask):
	// L·S, N·H·L·S or S values like Mask. KeyPadding (N·S) ignores key s of
	// batch n where true.
	Ignore     []bool
	KeyPadding []bool
	// Dropout is the drop probability of the attention probabilities
	// (dropout(softmax(scores))·V, PyTorch's semantics): element (n, h, l, s)
	// has dropout index Offset + (n·H + h)·L·S + l·S + s under Seed, the
	// index of SoftmaxDropout's drop output in nn's unfused path.
	Dropout      float32
	Seed, Offset uint64
	// Accumulate makes AttentionBackward add the gradients to DQ, DK and DV
	// instead of overwriting them (each gradient chain then starts from the
	// stored value). Attention ignores it.
	Accumulate bool
}

// Attention computes, for every batch n and head h,
//
//	O = dropout(softmax(Scale·Q·Kᵀ + masks))·V
//
// with Q (L×DK), K (S×DK), V (S×DV) and O (L×DV) read and written in place
// through their strides, by the tiled online softmax of CANONICAL.md
// ("Attention"). stats (2·N·H·L values) receives the cache the backward
// needs: for row l of head (n, h), at index 2·((n·H + h)·L + l), the row's
// final running max m and the undropped normaliser ℓ = Σ exp(v − m) (m = -Inf,
// ℓ = 0 for a fully masked row). Nothing else is kept: the memory of a
// forward+backward pair is O(N·H·L) besides the operands, and each worker's
// scratch is a few tiles plus the K and V of one head packed for the
// products ((S+255)/256·256·(DK+DV) values, rounded to the micro-kernel's
// panels), packed once per head and worker rather than once per query tile.
//
// Work is split over batch × heads × query tiles on the worker pool; every
// backend and every worker count give the same bits. O must not overlap Q, K,
// V or itself across heads. Attention panics, naming the operand, on
// negative sizes or strides, rows that overlap, too-short slices and bad mask
// lengths. It does not allocate after warm-up and is safe to call from many
// goroutines at once.
func Attention(o AttentionOperand, stats []float32, q, k, v AttentionOperand, sh AttentionShape, opt AttentionOptions) {
	const fn = "Attention"
	a := attnPrepare(fn, sh, opt, q, k, v)
	attnCheckOperand(fn, "o", o, sh.N, sh.H, sh.L, sh.DV, true)
	if want := attnMul(fn, 2, a.rowsTotal); len(stats) != want {
		panic(fmt.Sprintf("kernels: %s: len(stats)=%d, want 2·N·H·L=%d (N=%d, H=%d, L=%d)", fn, len(stats), want, sh.N, sh.H, sh.L))
	}
	a.o, a.stats = o, stats
	attnRaceOperand(o, sh.N, sh.H, sh.L, sh.DV, true)
	raceWrite(stats)
	attnRun(a, false)
	a.attnArgs = attnArgs{}
	attnJobs.put(a)
}

// AttentionBackward computes the gradients of Attention with respect to Q, K
// and V from dO, the forward's O and stats and the same inputs and options.
// It recomputes the scores tile by tile (FlashAttention-2: P = exp(v − m)/ℓ
// from the stats; D = rowsum(dO ∘ O); dS = (P ∘ (dP − D))·Scale with dP =
// dropout(dO·Vᵀ)), regenerates the dropout mask and writes (or, with
// opt.Accumulate, adds)
//
//	dV = dropout(P)ᵀ·dO,  dK = dSᵀ·Q,  dQ = dS·K
//
// as the in-order chains of CANONICAL.md. A gradient whose Data is nil is
// skipped. Work is split over batch × heads (one worker owns a head, so dK
// and dV accumulate over query tiles in a fixed order); scratch is a few
// tiles, L values and the head's Q, K, V and dO packed once for the
// products (O((L+S)·(DK+DV)) values) per worker. Every backend and worker count give the
// same bits. The gradients must not overlap each other or the inputs.
// Panics, allocation and goroutine safety are as for Attention.
func AttentionBackward(dq, dk, dv AttentionOperand, do, o AttentionOperand, stats []float32,
	q, k, v AttentionOperand, sh AttentionShape, opt AttentionOptions) {
	const fn = "AttentionBackward"
	a := attnPrepare(fn, sh, opt, q, k, v)
	attnCheckOperand(fn, "do", do, sh.N, sh.H, sh.L, sh.DV, false)
	attnCheckOperand(fn, "o", o, sh.N, sh.H, sh.L, sh.DV, false)
	if want := attnMul(fn, 2, a.rowsTotal); len(stats) != want {
		panic(fmt.Sprintf("kernels: %s: len(stats)=%d, want 2·N·H·L=%d (N=%d, H=%d, L=%d)", fn, len(stats), want, sh.N, sh.H, sh.L))
	}
	if dq.Data != nil {
		attnCheckOperand(fn, "dq", dq, sh.N, sh.H, sh.L, sh.DK, true)
		attnRaceOperand(dq, sh.N, sh.H, sh.L, sh.DK, true)
	}
	if dk.Data != nil {
		attnCheckOperand(fn, "dk", dk, sh.N, sh.H, sh.S, sh.DK, true)
		attnRaceOperand(dk, sh.N, sh.H, sh.S, sh.DK, true)
	}
	if dv.Data != nil {
		attnCheckOperand(fn, "dv", dv, sh.N, sh.H, sh.S, sh.DV, true)
		attnRaceOperand(dv, sh.N, sh.H, sh.S, sh.DV, true)
	}
	attnRaceOperand(do, sh.N, sh.H, sh.L, sh.DV, false)
	attnRaceOperand(o, sh.N, sh.H, sh.L, sh.DV, false)
	raceRead(stats)
	a.do, a.o, a.stats = do, o, stats
	a.dq, a.dk, a.dv = dq, dk, dv
	a.accumulate = opt.Accumulate
	attnRun(a, true)
	a.attnArgs = attnArgs{}
	attnJobs.put(a)
}

// attnArgs is one validated Attention or AttentionBackward call.
type attnArgs struct {
	b              *impl
	sh             AttentionShape
	q, k, v, o     AttentionOperand
	do, dq, dk, dv AttentionOperand
	stats          []float32
	rowsTotal      int // N·H·L
	ls             uint64
	scale          float32
	causal         bool
	off            int
	mask, kpf      []float32
	ign, kpb       []bool
	maskHS, maskRS int // strides of Mask/Ignore per head and per row
	ignHS, ignRS   int
	dropout        bool
	k0, k1, thr    uint32
	dscale         float32
	offset         uint64
	accumulate     bool
	nq             int // query tiles per head
	gen            uint64
}

// attnJob is one call on the worker pool: tasks claimed with an atomic
// counter (forward: one per (batch, head, query tile); backward: one per
// (batch, head)).
type attnJob struct {
	attnArgs
	backward bool
	tasks    int
	next     atomic.Int64
	wg       sync.WaitGroup
}

var attnJobs freeList[attnJob]

// attnScratch is one worker's tiles.
type attnScratch struct {
	s, p, dp []float32 // attnBr×attnBc
	z        []float32 // attnBr×attnBc (backward with dropout: the keep multipliers)
	ones     []float32 // attnBc ones
	add      []float32 // attnBc
	m, l, mt []float32 // attnBr
	d        []float32 // L (backward: rowsum(dO ∘ O) of one head)

	// Operands of one head packed as Gemm's B panels tile by tile on first
	// use (attnPack.tile), so that the query (or key) tiles of the head
	// that this worker computes share one packing. Valid while gen and nh
	// match the call and head.
	kT, vB  attnPack // K as Bᵀ (scores), V as B (P·V, dQ's K)
	vT, kB  attnPack // backward: V as Bᵀ (dP), K as B (dQ)
	qB, doB attnPack // backward: Q as B (dK), dO as B (dV)
	gen     uint64
	nh      int
	ap      []float32 // a packed A operand (a Q block or a P block)
}

// attnGens numbers the Attention and AttentionBackward calls, so that a
// worker's packed K and V are never taken for another call's.
var attnGens atomic.Uint64

var attnScratches freeList[attnScratch]

func (s *attnScratch) grow(L int, backward bool) {
	if backward {
		s.z = grow(s.z, attnBr*attnBc)
	}
	s.s = grow(s.s, attnBr*attnBc)
	s.p = grow(s.p, attnBr*attnBc)
	s.dp = grow(s.dp, attnBr*attnBc)
	if len(s.ones) == 0 {
		s.ones = make([]float32, attnBc)
		for i := range s.ones {
			s.ones[i] = 1
		}
	}
	s.add = grow(s.add, attnBc)
	s.m = grow(s.m, attnBr)
	s.l = grow(s.l, attnBr)
	s.mt = grow(s.mt, attnBr)
	s.d = grow(s.d, L)
}

// attnMul returns a·b for non-negative a and b, panicking on overflow.
func attnMul(fn string, a, b int) int {
	if a < 0 || b < 0 || (b != 0 && a > maxInt/b) {
		panic(fmt.Sprintf("kernels: %s: size overflow: %d·%d", fn, a, b))
	}
	return a * b
}

// attnAdd returns a+b for non-negative a and b, panicking on overflow.
func attnAdd(fn string, a, b int) int {
	if a < 0 || b < 0 || a > maxInt-b {
		panic(fmt.Sprintf("kernels: %s: size overflow: %d+%d", fn, a, b))
	}
	return a + b
}

// attnCheckOperand validates an operand of n×h heads of rows×cols: strides
// non-negative, rows not overlapping (RowStride >= cols when rows > 1), and
// Data long enough for the last element, with every product checked for
// overflow.
func attnCheckOperand(fn, name string, op AttentionOperand, n, h, rows, cols int, write bool) {
	if op.BatchStride < 0 || op.HeadStride < 0 || op.RowStride < 0 {
		panic(fmt.Sprintf("kernels: %s: %s has negative strides (batch %d, head %d, row %d)",
			fn, name, op.BatchStride, op.HeadStride, op.RowStride))
	}
	if rows > 1 && cols > 0 && op.RowStride < cols {
		panic(fmt.Sprintf("kernels: %s: %s row stride %d < %d columns: rows would overlap", fn, name, op.RowStride, cols))
	}
	if write && cols > 0 && rows > 0 && (h > 1 && op.HeadStride == 0 || n > 1 && op.BatchStride == 0) {
		panic(fmt.Sprintf("kernels: %s: output %s has a zero batch or head stride: heads would overlap", fn, name))
	}
	if n == 0 || h == 0 || rows == 0 || cols == 0 {
		return
	}
	need := attnAdd(fn, attnMul(fn, n-1, op.BatchStride), attnMul(fn, h-1, op.HeadStride))
	need = attnAdd(fn, need, attnMul(fn, rows-1, op.RowStride))
	need = attnAdd(fn, need, cols)
	if len(op.Data) < need {
		panic(fmt.Sprintf("kernels: %s: short %s: len=%d, but N=%d, H=%d, %d×%d with strides (%d, %d, %d) need %d",
			fn, name, len(op.Data), n, h, rows, cols, op.BatchStride, op.HeadStride, op.RowStride, need))
	}
}

// attnRaceOperand tells the race detector which rows the (assembly) kernels
// read or write. No-op unless built with -race.
func attnRaceOperand(op AttentionOperand, n, h, rows, cols int, write bool) {
	if !raceBuild || cols == 0 {
		return
	}
	for b := 0; b < n; b++ {
		for hh := 0; hh < h; hh++ {
			for t := 0; t < rows; t++ {
				i := b*op.BatchStride + hh*op.HeadStride + t*op.RowStride
				if write {
					raceWrite(op.Data[i : i+cols])
				} else {
					raceRead(op.Data[i : i+cols])
				}
			}
		}
	}
}

// attnMaskStrides returns the head and row strides of an optional mask of n
// values: L·S (shared), N·H·L·S (per head) or S (per key).
func attnMaskStrides(fn, name string, n int, present bool, sh AttentionShape, ls, full int) (hs, rs int) {
	if !present {
		return 0, 0
	}
	switch n {
	case full:
		return ls, sh.S
	case ls:
		return 0, sh.S
	case sh.S:
		return 0, 0
	}
	panic(fmt.Sprintf("kernels: %s: len(%s)=%d, want L·S=%d, N·H·L·S=%d or S=%d (N=%d, H=%d, L=%d, S=%d)",
		fn, name, n, ls, full, sh.S, sh.N, sh.H, sh.L, sh.S))
}

// attnPrepare validates the shape, options and inputs shared by both passes.
func attnPrepare(fn string, sh AttentionShape, opt AttentionOptions, q, k, v AttentionOperand) *attnJob {
	if sh.N < 0 || sh.H < 0 || sh.L < 0 || sh.S < 0 || sh.DK < 0 || sh.DV < 0 {
		panic(fmt.Sprintf("kernels: %s: negative size N=%d H=%d L=%d S=%d DK=%d DV=%d", fn, sh.N, sh.H, sh.L, sh.S, sh.DK, sh.DV))
	}
	attnCheckOperand(fn, "q", q, sh.N, sh.H, sh.L, sh.DK, false)
	attnCheckOperand(fn, "k", k, sh.N, sh.H, sh.S, sh.DK, false)
	attnCheckOperand(fn, "v", v, sh.N, sh.H, sh.S, sh.DV, false)
	nh := attnMul(fn, sh.N, sh.H)
	ls := attnMul(fn, sh.L, sh.S)
	full := attnMul(fn, nh, ls)
	rowsTotal := attnMul(fn, nh, sh.L)
	ns := attnMul(fn, sh.N, sh.S)
	a := attnJobs.get()
	a.attnArgs = attnArgs{b: cur(), sh: sh, q: q, k: k, v: v, rowsTotal: rowsTotal, ls: uint64(ls)}
	a.maskHS, a.maskRS = attnMaskStrides(fn, "Mask", len(opt.Mask), opt.Mask != nil, sh, ls, full)
	a.ignHS, a.ignRS = attnMaskStrides(fn, "Ignore", len(opt.Ignore), opt.Ignore != nil, sh, ls, full)
	if opt.KeyPaddingFloat != nil && len(opt.KeyPaddingFloat) != ns {
		panic(fmt.Sprintf("kernels: %s: len(KeyPaddingFloat)=%d, want N·S=%d", fn, len(opt.KeyPaddingFloat), ns))
	}
	if opt.KeyPadding != nil && len(opt.KeyPadding) != ns {
		panic(fmt.Sprintf("kernels: %s: len(KeyPadding)=%d, want N·S=%d", fn, len(opt.KeyPadding), ns))
	}
	a.mask, a.kpf, a.ign, a.kpb = opt.Mask, opt.KeyPaddingFloat, opt.Ignore, opt.KeyPadding
	a.scale = opt.Scale
	if a.scale == 0 {
		a.scale = float32(1 / math.Sqrt(float64(sh.DK)))
		if sh.DK == 0 {
			a.scale = 1
		}
	}
	a.causal, a.off = opt.Causal, opt.CausalOffset
	thr, dscale := dropoutParams(fn, opt.Dropout)
	if opt.Dropout != 0 {
		a.dropout, a.thr, a.dscale = true, thr, dscale
		a.k0, a.k1 = dropoutKeys(opt.Seed)
	}
	a.offset = opt.Offset
	a.nq = ceilDiv(sh.L, attnBr)
	a.gen = attnGens.Add(1)
	raceRead(opt.Mask)
	raceRead(opt.KeyPaddingFloat)
	attnRaceOperand(q, sh.N, sh.H, sh.L, sh.DK, false)
	attnRaceOperand(k, sh.N, sh.H, sh.S, sh.DK, false)
	attnRaceOperand(v, sh.N, sh.H, sh.S, sh.DV, false)
	return a
}

// attnKeyEnd is the end of the key range that query rows [i0, i0+rows) can
// see: the key tiles starting before it are processed, the others skipped.
func (a *attnArgs) attnKeyEnd(i0, rows int) int {
	if !a.causal {
		return a.sh.S
	}
	return attnLimit(i0+rows-1, a.off, a.sh.S)
}

// attnLimit is the number of keys row l sees under the causal mask with
// offset off: min(max(l + off + 1, 0), S), computed without overflow.
func attnLimit(l, off, S int) int {
	if off >= S { // l + off + 1 > S for every l >= 0
		return S
	}
	if off < -l-1 { // l + off + 1 < 0
		return 0
	}
	return min(l+off+1, S)
}

// attnRun runs the tasks of a on the worker pool: one per (batch, head,
// query tile) in the forward, one per (batch, head) in the backward.
func attnRun(a *attnJob, backward bool) {
	sh := a.sh
	nh := sh.N * sh.H
	a.backward = backward
	if backward {
		a.tasks = nh
	} else {
		a.tasks = nh * a.nq
	}
	if a.tasks == 0 {
		return
	}
	w := maxWorkers()
	if !workersForced() {
		// Same threshold as Gemm: tens of µs to wake a worker.
		work := float64(nh) * float64(sh.L) * float64(sh.S) * float64(sh.DK+sh.DV+8)
		if backward {
			work *= 2.5
		}
		w = min(w, max(int(work/gemmMinWork), 1))
	}
	w = min(w, a.tasks)
	a.next.Store(0)
	runJob(a, w-1, &a.wg)
}

func (a *attnJob) finish() { a.wg.Done() }

func (a *attnJob) run(w *workerScratch) {
	s := attnScratches.get()
	s.grow(a.sh.L, a.backward && a.dropout)
	s.growPacks(&a.attnArgs, a.backward)
	for {
		t := int(a.next.Add(1) - 1)
		if t >= a.tasks {
			break
		}
		if a.backward {
			a.backwardHead(w, s, t)
			continue
		}
		// Heaviest (last, under a causal mask) query tiles first.
		nh, qt := t/a.nq, a.nq-1-t%a.nq
		a.forwardTile(w, s, nh, qt)
	}
	attnScratches.put(s)
}

// base returns the offset of row t of head (n, h) of op.
func base(op AttentionOperand, n, h, t int) int {
	return n*op.BatchStride + h*op.HeadStride + t*op.RowStride
}

// scores computes the scores of query rows [i0, i0+rows) and keys
// [j0, j0+cols) of head nh into rows [b0, b0+rows) of the tile s.s (row
// stride attnBc): the Gemm chains acc = fma(q[l][c], k[s][c], acc),
// c = 0..DK-1 from +0, then v = acc·scale (+ mask), or -Inf where masked;
// the NaN-ignoring max of each row goes to s.mt[b0:].
func (a *attnArgs) scores(w *workerScratch, s *attnScratch, nh, i0, b0, rows, j0, cols int) {
	sh := a.sh
	n, h := nh/sh.H, nh%sh.H
	st := s.s[b0*attnBc : (b0+rows)*attnBc]
	mt := s.mt[b0 : b0+rows]
	if sh.DK == 0 {
		clear(st)
	} else {
		// Gemm's micro-kernels on the Q rows packed as A panels and the
		// K tile's cached Bᵀ panels (depth DK in one pass).
		kr := &a.b.gemm
		kp := a.tile(s, &s.kT, a.k, nh, sh.S, attnBc, sh.DK, true, j0/attnBc)
		ap := attnPackA(kr, s, a.q.Data[base(a.q, n, h, i0):], a.q.RowStride, false, rows, sh.DK)
		attnProduct(kr, w, ap, rows, sh.DK, kp, sh.DK, cols, st, attnBc, false)
	}
	for r := 0; r < rows; r++ {
		l := i0 + r
		row := st[r*attnBc : r*attnBc+cols]
		add := a.addend(s, n, nh, l, j0, cols)
		lim := cols
		if a.causal {
			lim = min(max(attnLimit(l, a.off, sh.S)-j0, 0), cols)
		}
		if a.ign == nil && a.kpb == nil {
			mt[r] = a.b.attnScoreRow(row, add, a.scale, lim)
			continue
		}
		var ign, kp []bool
		if a.ign != nil {
			ign = a.ign[nh*a.ignHS+l*a.ignRS+j0:][:cols]
		}
		if a.kpb != nil {
			kp = a.kpb[n*sh.S+j0:][:cols]
		}
		mt[r] = attnScoreRowBools(row, add, ign, kp, a.scale, lim)
	}
}

// attnScoreRowGeneric is the canonical score row: v = x·scale (+ add) for
// j < limit, -Inf beyond; it returns max v (NaN ignored, -Inf when none).
func attnScoreRowGeneric(row, add []float32, scale float32, limit int) float32 {
	return attnScoreRowBools(row, add, nil, nil, scale, limit)
}

// attnScoreRowBools is attnScoreRowGeneric with the boolean masks (true =
// -Inf) of Ignore and KeyPadding; nil or empty slices mask nothing. The max
// uses the canonical 32-lane layout of Max (lane op m = (v > m) ? v : m,
// tree keeping the lower lane on ties), so even the sign of a zero max is
// fixed; NaN scores are skipped.
func attnScoreRowBools(row, add []float32, ign, kp []bool, scale float32, limit int) float32 {
	ninf := float32(math.Inf(-1))
	var m [32]float32
	for l := range m {
		m[l] = ninf
	}
	for c, x := range row {
		v := ninf
		if c < limit && !(len(ign) > 0 && ign[c]) && !(len(kp) > 0 && kp[c]) {
			v = float32(x * scale)
			if len(add) > 0 {
				v = v + add[c]
			}
		}
		row[c] = v
		if v > m[c&31] {
			m[c&31] = v
		}
	}
	for w := 16; w >= 1; w /= 2 {
		for j := 0; j < w; j++ {
			if m[j+w] > m[j] {
				m[j] = m[j+w]
			}
		}
	}
	return m[0]
}

// attnExpRowGeneric sets row[j] = exp(row[j] - m) and returns their sum32.
func attnExpRowGeneric(row []float32, m float32) float32 {
	var acc [32]float32
	for j, v := range row {
		e := exp32(v - m)
		row[j] = e
		acc[j&31] = acc[j&31] + e
	}
	return tree32(&acc)
}

// attnGradRowGeneric sets dp[j] = (p[j] * (dp[j] - d)) * scale: the
// softmax backward of one row given d = rowsum(P ∘ dP).
func attnGradRowGeneric(dp, p []float32, d, scale float32) {
	p = p[:len(dp)]
	for j, y := range p {
		t := dp[j] - d
		u := float32(y * t)
		dp[j] = float32(u * scale)
	}
}

// addend returns the additive mask of row l, keys [j0, j0+cols) of head nh
// of batch n: Mask, KeyPaddingFloat, their sum (into s.add) or nil.
func (a *attnArgs) addend(s *attnScratch, n, nh, l, j0, cols int) []float32 {
	var m, kp []float32
	if a.mask != nil {
		m = a.mask[nh*a.maskHS+l*a.maskRS+j0:][:cols]
	}
	if a.kpf != nil {
		kp = a.kpf[n*a.sh.S+j0:][:cols]
	}
	switch {
	case m == nil:
		return kp
	case kp == nil:
		return m
	}
	add := s.add[:cols]
	a.b.add(add, m, kp)
	return add
}

// dropoutRow applies the dropout mask of row l, keys [j0, j0+len(dst)) of
// head nh to src.
func (a *attnArgs) dropoutRow(dst, src []float32, nh, l, j0 int) {
	idx := a.offset + uint64(nh)*a.ls + uint64(l)*uint64(a.sh.S) + uint64(j0)
	dropoutSpan(a.b, dst, src, a.k0, a.k1, a.thr, a.dscale, idx)
}

// attnSub is the row block of a key tile the causal mask cuts: each block
// of attnSub query rows stops at its own last row's limit (the keys beyond
// are masked for all its rows), so the products skip most of the masked
// triangle.
const attnSub = 32

// attnBlock returns the row block [r0, r1) of query tile rows [i0,
// i0+rows) starting at r0 for key tile j0 of at most cols keys, and its
// key count ce (<= 0: the block sees no key of the tile, nor of any later
// one). Without a causal cut the block is the whole tile.
func (a *attnArgs) attnBlock(i0, rows, r0, j0, cols int) (r1, ce int) {
	if !a.causal || attnLimit(i0, a.off, a.sh.S) >= j0+cols {
		return rows, cols // the first row sees the whole tile: every row does
	}
	r1 = min(r0+attnSub, rows)
	return r1, min(cols, attnLimit(i0+r1-1, a.off, a.sh.S)-j0)
}

// forwardTile computes query tile qt of head nh: the online softmax over
// the key tiles in order, O accumulated in place.
func (a *attnArgs) forwardTile(w *workerScratch, s *attnScratch, nh, qt int) {
	sh := a.sh
	b := a.b
	n, h := nh/sh.H, nh%sh.H
	i0 := qt * attnBr
	rows := min(attnBr, sh.L-i0)
	ob := a.o.Data[base(a.o, n, h, i0):]
	ldo := a.o.RowStride
	ninf := float32(math.Inf(-1))
	m, lsum := s.m[:rows], s.l[:rows]
	for r := range m {
		m[r], lsum[r] = ninf, 0
	}
	kend := a.attnKeyEnd(i0, rows)
	for j0 := 0; j0 < kend; j0 += attnBc {
		cols := min(attnBc, kend-j0) // a causal tile stops at the last row's limit
		for r0, r1 := 0, 0; r0 < rows; r0 = r1 {
			var ce int
			r1, ce = a.attnBlock(i0, rows, r0, j0, cols)
			if ce <= 0 {
				continue
			}
			a.forwardBlock(w, s, nh, i0, r0, r1, j0, ce, ob, ldo)
		}
	}
	st := a.stats[2*(nh*sh.L+i0):]
	for r := 0; r < rows; r++ {
		orow := ob[r*ldo : r*ldo+sh.DV]
		if m[r] == ninf {
			clear(orow)
			st[2*r], st[2*r+1] = ninf, 0
			continue
		}
		b.scale(orow, orow, 1/lsum[r])
		st[2*r], st[2*r+1] = m[r], lsum[r]
	}
}

// forwardBlock is one online-softmax step of rows [r0, r1) of the query
// tile at i0 over keys [j0, j0+cols).
func (a *attnArgs) forwardBlock(w *workerScratch, s *attnScratch, nh, i0, r0, r1, j0, cols int, ob []float32, ldo int) {
	sh := a.sh
	b := a.b
	ninf := float32(math.Inf(-1))
	m, lsum := s.m, s.l
	a.scores(w, s, nh, i0+r0, r0, r1-r0, j0, cols)
	pt := s.s // p overwrites the scores in place (dropout too: e is summed before)
	for r := r0; r < r1; r++ {
		row := s.s[r*attnBc : r*attnBc+cols]
		prow := row
		mt := s.mt[r]
		mold, mnew := m[r], m[r]
		if mt > mold {
			mnew = mt
		}
		if mnew == ninf { // nothing visible yet: p = 0, no rescale
			clear(prow)
			continue
		}
		alpha := exp32(mold - mnew)
		rs := b.attnExpRow(row, mnew)
		lsum[r] = float32(lsum[r]*alpha) + rs
		m[r] = mnew
		if a.dropout {
			a.dropoutRow(prow, row, nh, i0+r, j0)
		}
		if j0 > 0 && alpha != 1 {
			orow := ob[r*ldo : r*ldo+sh.DV]
			b.scale(orow, orow, alpha)
		}
	}
	if sh.DV > 0 { // O += P·V: the P rows packed as A panels, V's cached B panels
		kr := &b.gemm
		vp := a.tile(s, &s.vB, a.v, nh, sh.S, attnBc, sh.DV, false, j0/attnBc)
		ap := attnPackA(kr, s, pt[r0*attnBc:], attnBc, false, r1-r0, cols)
		attnProduct(kr, w, ap, r1-r0, cols, vp, min(attnBc, sh.S-j0), sh.DV, ob[r0*ldo:], ldo, j0 > 0)
	}
}

// attnPackSize is the length of one packed tile of T rows × feat columns.
func attnPackSize(T, feat, nr int, trans bool) int {
	if trans {
		return roundUp(T, nr) * feat
	}
	return T * roundUp(feat, nr)
}

// growPacks sizes the packed operands a call's tasks use before the first
// task, so that a worker first given a task in a later (warm) call does
// not allocate.
func (s *attnScratch) growPacks(a *attnArgs, backward bool) {
	sh := a.sh
	nr := a.b.gemm.nr
	nk, nq := ceilDiv(sh.S, attnBc), ceilDiv(sh.L, attnBr)
	s.kT.buf = grow(s.kT.buf, nk*attnPackSize(attnBc, sh.DK, nr, true))
	if !backward {
		s.vB.buf = grow(s.vB.buf, nk*attnPackSize(attnBc, sh.DV, nr, false))
		return
	}
	s.vT.buf = grow(s.vT.buf, nk*attnPackSize(attnBc, sh.DV, nr, true))
	s.kB.buf = grow(s.kB.buf, nk*attnPackSize(attnBc, sh.DK, nr, false))
	s.qB.buf = grow(s.qB.buf, nq*attnPackSize(attnBr, sh.DK, nr, false))
	s.doB.buf = grow(s.doB.buf, nq*attnPackSize(attnBr, sh.DV, nr, false))
}

// attnPack is one operand of a head packed as Gemm's B panels, tile by
// tile: tile t covers the operand's rows [t·T, t·T+T) (T = attnBc or
// attnBr). As Bᵀ (trans), its rows become the product's columns, one panel
// per nr rows, feat deep; as B, its rows are the depth and its feat
// columns go in panels of nr. These are the panels gemmBlock packs, so the
// products keep Gemm's chains and bits.
type attnPack struct {
	buf  []float32
	done int // tiles packed
}

// tile returns tile t of operand op of head nh (rows in all, tiles of T
// rows, feat columns) packed as Bᵀ panels (trans) or B panels, packing the
// missing tiles up to t first. A B tile's panels are min(T, rows − t·T)
// deep, at stride depth·nr.
func (a *attnArgs) tile(s *attnScratch, p *attnPack, op AttentionOperand, nh, rows, T, feat int, trans bool, t int) []float32 {
	kr := &a.b.gemm
	nr := kr.nr
	size := attnPackSize(T, feat, nr, trans)
	if s.gen != a.gen || s.nh != nh {
		s.gen, s.nh = a.gen, nh
		for _, q := range []*attnPack{&s.kT, &s.vB, &s.vT, &s.kB, &s.qB, &s.doB} {
			q.done = 0
		}
	}
	if p.done == 0 {
		p.buf = grow(p.buf, ceilDiv(rows, T)*size)
	}
	n, h := nh/a.sh.H, nh%a.sh.H
	for ; p.done <= t; p.done++ {
		r0 := p.done * T
		g := gemmArgs{transB: trans, b: op.Data[base(op, n, h, r0):], ldb: op.RowStride}
		if trans {
			gemmPackB(kr, p.buf[p.done*size:], &g, 0, feat, 0, min(T, rows-r0))
		} else {
			gemmPackB(kr, p.buf[p.done*size:], &g, 0, min(T, rows-r0), 0, feat)
		}
	}
	return p.buf[t*size : (t+1)*size]
}

// attnPackA packs rows×depth of A (stored row-major at lda, or transposed
// when trans) as Gemm's A panels into s.ap.
func attnPackA(kr *gemmKernel, s *attnScratch, a []float32, lda int, trans bool, rows, depth int) []float32 {
	s.ap = grow(s.ap, roundUp(rows, kr.mr)*depth)
	gemmPackA(kr, s.ap, &gemmArgs{transA: trans, a: a, lda: lda, alpha: 1}, 0, rows, 0, depth)
	return s.ap
}

// attnProduct runs Gemm's micro-kernels for C (mb×n at ldc) = A·B, or
// C += A·B when load: ap is the packed A (mb rows, kb deep), bp the B (or
// Bᵀ) panels of depth stride kt >= kb, of which the first kb rows count.
// Every C element is Gemm's in-order chain over the kb products.
func attnProduct(kr *gemmKernel, w *workerScratch, ap []float32, mb, kb int, bp []float32, kt, n int, c []float32, ldc int, load bool) {
	w.gemm.tile = grow(w.gemm.tile, kr.mr*kr.nr)
	for jr := 0; jr < n; jr += kr.nr {
		gemmPanel(kr, kb, ap, mb, bp[jr*kt:], kr.nr, min(kr.nr, n-jr), c[jr:], ldc, load, w.gemm.tile)
	}
}
