package kernels

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/klauspost/cpuid/v2"
)

// Gemm computes C = alpha·op(A)·op(B) + beta·C for row-major float32
// matrices, where op(X) is X or Xᵀ as transA/transB say, op(A) is m×k, op(B)
// is k×n and C is m×n. lda, ldb and ldc are the row strides of A, B and C as
// stored (A is m×k, or k×m when transA; B is k×n, or n×k when transB).
//
// Semantics are BLAS's, made exact (CANONICAL.md): with beta == 0 C is not
// read (NaN in C does not propagate); alpha == 0 or k == 0 gives C = beta·C;
// otherwise every C[i][j] is the chain acc = (beta == 0 ? +0 : beta·C[i][j]),
// acc = fma(alpha·op(A)[i][p], op(B)[p][j], acc) for p = 0, 1, …, k-1 in
// order. Every backend and every thread count return the same bits.
//
// Gemm panics on negative sizes, too-small leading dimensions, too-short
// slices and sizes/leading dimensions whose span (rows-1)·ld+cols would
// overflow an int, naming the argument and the shapes, before touching any
// memory: no backend reads or writes outside a, b and c. It does not allocate after
// warm-up, splits large products over up to Threads() goroutines, and is
// safe to call from many goroutines at once (C must not overlap A, B or
// another call's C).
func Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemmCheck(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	// An operand with one stored row never uses its stride: normalise it so
	// that no kernel forms an address from a huge (valid but unused) one.
	lda = gemmStride(transA, m, k, lda)
	ldb = gemmStride(transB, k, n, ldb)
	if m == 1 {
		ldc = n
	}
	if alpha == 0 || k == 0 {
		gemmScaleC(m, n, beta, c, ldc)
		return
	}
	if beta != 0 && beta != 1 {
		gemmScaleC(m, n, beta, c, ldc)
	}
	gemmRace(transA, m, k, a, lda, false)
	gemmRace(transB, k, n, b, ldb, false)
	gemmRace(false, m, n, c, ldc, true)
	gemmRun(&cur().gemm, &gemmArgs{
		transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
		a: a, lda: lda, b: b, ldb: ldb, load: beta != 0, c: c, ldc: ldc,
	})
}

// gemmCheck validates Gemm's arguments like gonum's Sgemm does.
func gemmCheck(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels.Gemm: negative size m=%d n=%d k=%d", m, n, k))
	}
	ra, ca := m, k
	if transA {
		ra, ca = k, m
	}
	rb, cb := k, n
	if transB {
		rb, cb = n, k
	}
	gemmCheckOperand("a", "lda", "A", transA, ra, ca, a, lda)
	gemmCheckOperand("b", "ldb", "B", transB, rb, cb, b, ldb)
	gemmCheckOperand("c", "ldc", "C", false, m, n, c, ldc)
}

func gemmCheckOperand(name, ldName, mat string, trans bool, rows, cols int, s []float32, ld int) {
	t := ""
	if trans {
		t = " (transposed)"
	}
	if ld < max(1, cols) {
		panic(fmt.Sprintf("kernels.Gemm: bad %s %d: %s is stored %d×%d%s, so %s must be >= %d",
			ldName, ld, mat, rows, cols, t, ldName, max(1, cols)))
	}
	need, ok := stridedSpan(rows, cols, ld)
	if !ok {
		panic(fmt.Sprintf("kernels.Gemm: bad %s %d: %s stored %d×%d%s with %s %d spans (rows-1)·%s+cols > MaxInt elements, len(%s) = %d",
			ldName, ld, mat, rows, cols, t, ldName, ld, ldName, name, len(s)))
	}
	if len(s) < need {
		panic(fmt.Sprintf("kernels.Gemm: short %s: len(%s) = %d, but %s stored %d×%d%s with %s %d needs %d",
			name, name, len(s), mat, rows, cols, t, ldName, ld, need))
	}
}

// gemmStride returns ld, or the row length when op(X) (rows×cols, stored
// transposed when trans) has a single stored row and ld is unused.
func gemmStride(trans bool, rows, cols, ld int) int {
	if trans {
		rows, cols = cols, rows
	}
	if rows == 1 {
		return max(cols, 1)
	}
	return ld
}

// gemmRace tells the race detector, which cannot see the assembly kernels'
// accesses, which rows of an operand (op(X) rows×cols, stored with leading
// dimension ld) Gemm reads or writes. Row by row, so that concurrent calls
// on disjoint column blocks of one matrix are not reported. No-op unless
// built with -race.
func gemmRace(trans bool, rows, cols int, s []float32, ld int, write bool) {
	if !raceBuild || rows == 0 || cols == 0 {
		return
	}
	if trans {
		rows, cols = cols, rows
	}
	for i := 0; i < rows; i++ {
		if write {
			raceWrite(s[i*ld : i*ld+cols])
		} else {
			raceRead(s[i*ld : i*ld+cols])
		}
	}
}

// gemmScaleC sets C = beta·C (beta == 0 writes +0 without reading C).
func gemmScaleC(m, n int, beta float32, c []float32, ldc int) {
	switch beta {
	case 1:
	case 0:
		for i := 0; i < m; i++ {
			clear(c[i*ldc : i*ldc+n])
		}
	default:
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				row[j] = beta * row[j]
			}
		}
	}
}

// gemmArgs is one GEMM after argument checking and beta pre-scaling: C
// (+)= alpha·op(A)·op(B), where load says whether the chains start from C.
type gemmArgs struct {
	transA, transB bool
	m, n, k        int
	alpha          float32
	a              []float32
	lda            int
	b              []float32
	ldb            int
	load           bool
	c              []float32
	ldc            int
}

// gemmBuffers is one goroutine's packing scratch, grown on demand.
type gemmBuffers struct {
	a, b, tile []float32
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// growTo is grow that allocates at least bound elements when it must
// allocate. gemmBlock passes the largest packing size its blocking can ask
// for, so a worker's scratch reaches its final size the first time it
// grows: which worker takes which block varies between calls, and a warm
// training step must not allocate whatever the schedule.
func growTo(s []float32, n, bound int) []float32 {
	if cap(s) < n {
		return make([]float32, n, max(n, bound))
	}
	return s[:n]
}

// Cache sizes, read once.
var gemmCache = func() (l1, l2, l3 int) {
	l1, l2, l3 = cpuid.CPU.Cache.L1D, cpuid.CPU.Cache.L2, cpuid.CPU.Cache.L3
	if l1 <= 0 {
		l1 = 32 << 10
	}
	if l2 <= 0 {
		l2 = 512 << 10
	}
	if l3 <= 0 {
		l3 = 8 << 20
	}
	return min(l1, 64<<10), min(l2, 2<<20), l3
}

var gemmL1, gemmL2, gemmL3 = gemmCache()

// gemmBlocking returns the cache blocking for kr: kc (the depth of one packed
// panel pass), mc (rows of A packed at once) and nc (columns of B packed at
// once). The packed B micro-panel (kc×nr) aims at two thirds of L1 (but kc
// stays in [256, 512]: a deeper pass amortises the C tile's loads and
// stores, and a B micro-panel streamed from L2 still keeps the FMA units
// busy), the packed A block (mc×kc) at half of L2, the B panel (kc×nc) at a
// quarter of L3 (nc in [1024, 4096]).
//
// Measured on a 2-core Sapphire-Rapids-class Xeon (L1D 48 KiB, L2 2 MiB),
// single thread, GFLOP per CPU-second: AVX-512 kc = 192/256/384/512 gave
// 151/177/181/176 at 1024³ and 116/130/114/107 at 40×2048×512; AVX2 was flat
// (±5%) over 256..512.
func gemmBlocking(kr *gemmKernel) (kc, mc, nc int) {
	kc, mc, nc = kr.kc, kr.mc, kr.nc
	if kc == 0 {
		kc = min(max(gemmL1*2/3/(4*kr.nr)/64*64, 256), 512)
	}
	if mc == 0 {
		mc = max(gemmL2/2/(4*kc)/kr.mr, 1) * kr.mr
	}
	if nc == 0 {
		nc = min(max(gemmL3/4/(4*kc)/kr.nr*kr.nr, 1024), 4096)
	}
	return kc, mc, nc
}

// gemmLargeKc is the depth kc of the blocks with more rows than one mc
// block (and k > gemmBlocking's kc), whose mc is then gemmLargeMc or, when
// 0, derived from it like gemmBlocking does (A block at half of L2). A
// deeper pass halves the C tile's loads and stores; the few-row (fused)
// blocks keep gemmBlocking's kc (512 hurt 40×2048×512 by ~10%). Only the
// AVX-512 kernel's derived kc (256) is below 512. Measured on a 2-core
// Sapphire-Rapids-class Xeon, AVX-512, GFLOP per CPU-second, 10 interleaved
// runs each, kc 256 → 512: 1024³ 144 → 151 (1 thread), 4096×2048×512 A·Bᵀ
// 138 → 148 (1 thread) and +6–8% on 2 threads; mc 336 or 252 or kc 384
// were no better. A blocking set in the gemmKernel (kc != 0) wins.
var gemmLargeKc, gemmLargeMc = 512, 0

// gemmMinWork is the number of FMAs each goroutine must get for a Gemm
// call to be split (≈ 180 µs on one AVX-512 core). Handing a job to a
// parked pool worker costs far more in practice than a bare wake-up of an
// idle core (≈ 11 µs): the woken worker is queued on the caller's P,
// another P steals it only after a delay, and a 2-task split then waits
// for the late half. Measured on a 2-core Xeon (go test -bench GemmSplit
// ./kernels): with 2^21 FMAs, 256³ and the 16…160-row products of small
// transformers ran 1.2–1.7×
// slower on 2 threads than on 1; with 2^24 they stay serial, while 512³
// and up still split (1024³ 1.8–1.9×).
const gemmMinWork = 1 << 24

// gemmJob is one parallel Gemm: C split into sm×sn blocks (tasks).
type gemmJob struct {
	kr     *gemmKernel
	g      gemmArgs
	sm, sn int // grid
	bm, bn int // block size (multiples of mr, nr)
	// ap, when not nil, is the packed Aᵀ of all m rows (m <= ntRows) and
	// the whole depth, shared by the tasks, which then run the nt kernel
	// on their columns.
	ap   []float32
	next atomic.Int64
	wg   sync.WaitGroup
}

var gemmJobs freeList[gemmJob]

func (j *gemmJob) run(w *workerScratch) {
	tasks := int64(j.sm * j.sn)
	for {
		t := j.next.Add(1) - 1
		if t >= tasks {
			return
		}
		ti, tj := int(t)/j.sn, int(t)%j.sn
		i0, j0 := ti*j.bm, tj*j.bn
		if j.ap != nil {
			gemmNTCols(j.kr, &j.g, j.ap, 0, j.g.m, 0, j.g.k, j0, min(j0+j.bn, j.g.n))
			continue
		}
		gemmBlock(j.kr, &j.g, &w.gemm, i0, min(i0+j.bm, j.g.m), j0, min(j0+j.bn, j.g.n))
	}
}

func (j *gemmJob) finish() { j.wg.Done() }

// gemmRun computes g with kernel kr, in parallel when it is big enough.
func gemmRun(kr *gemmKernel, g *gemmArgs) {
	if kr.normal != nil && !gemmTinyProducts(g) {
		kr = kr.normal
	}
	w := maxWorkers()
	work := g.m * g.n * g.k
	if !workersForced() {
		w = min(w, max(work/gemmMinWork, 1))
	}
	tm, tn := (g.m+kr.mr-1)/kr.mr, (g.n+kr.nr-1)/kr.nr // micro-tiles
	w = min(w, tm*tn)
	if w <= 1 {
		s := callerScratchs.get()
		gemmBlock(kr, g, &s.gemm, 0, g.m, 0, g.n)
		callerScratchs.put(s)
		return
	}
	if g.m <= kr.ntRows && g.k <= gemmNTKc && gemmUseNT(kr, g, g.m) {
		// Few-row A·Bᵀ: pack Aᵀ once, split the columns into a few tasks
		// per worker (dynamic balancing on a shared machine).
		s := callerScratchs.get()
		sa := roundUp(g.m, kr.ntVec)
		s.gemm.a = grow(s.gemm.a, sa*g.k)
		gemmPackAT(s.gemm.a, g, 0, g.m, sa, 0, g.k)
		j := gemmJobs.get()
		j.kr, j.g, j.ap = kr, *g, s.gemm.a
		j.bm, j.sm = g.m, 1
		j.bn = max(roundUp(ceilDiv(g.n, 4*w), kr.ntCols), gemmNTMinCols)
		j.sn = ceilDiv(g.n, j.bn)
		j.next.Store(0)
		runJob(j, min(w, j.sn)-1, &j.wg)
		j.g, j.kr, j.ap = gemmArgs{}, nil, nil
		gemmJobs.put(j)
		callerScratchs.put(s)
		return
	}
	// Split C into sm×sn blocks, sm*sn <= w. Splitting the rows into sm
	// parts packs B sm times; splitting the columns packs A sn times: pick
	// the grid with the least packing, then the most tasks.
	sm, sn, best := 1, 1, -1
	for pm := 1; pm <= w; pm++ {
		pn := w / pm
		if pm > tm || pn > tn {
			continue
		}
		cost := pm*g.n + pn*g.m
		if best < 0 || pm*pn > sm*sn || (pm*pn == sm*sn && cost < best) {
			sm, sn, best = pm, pn, cost
		}
	}
	j := gemmJobs.get()
	j.kr, j.g, j.sm, j.sn = kr, *g, sm, sn
	j.bm = (tm + sm - 1) / sm * kr.mr
	j.bn = (tn + sn - 1) / sn * kr.nr
	j.sm = (g.m + j.bm - 1) / j.bm
	j.sn = (g.n + j.bn - 1) / j.bn
	j.next.Store(0)
	runJob(j, j.sm*j.sn-1, &j.wg)
	j.g = gemmArgs{}
	j.kr = nil
	gemmJobs.put(j)
}

// gemmBlock computes rows [i0, i1) × columns [j0, j1) of C over all of k:
// the BLIS loops jc → pc → pack B → ic → pack A → jr → ir → micro-kernel.
// When the rows fit one ic block (always for the few-row products of a
// transformer), B is instead packed one kc×nr micro-panel at a time right
// before its micro-kernels, so it never leaves L1, or not packed at all
// when it is row-major and the kernel can read it in place. A·Bᵀ with at
// most gemmNTMaxRows rows uses the kernel's nt variant when it has one
// (Aᵀ packed, B read in place: no transposing pack of B).
func gemmBlock(kr *gemmKernel, g *gemmArgs, buf *gemmBuffers, i0, i1, j0, j1 int) {
	mr, nr := kr.mr, kr.nr
	kc, mc, nc := gemmBlocking(kr)
	// The largest packed A and B any block of this kernel can need.
	boundA, boundB := roundUp(mc, mr)*kc, roundUp(nc, nr)*kc
	if gemmLargeKc > 0 && kr.kc == 0 {
		lmc := gemmLargeMc
		if lmc == 0 {
			lmc = max(gemmL2/2/(4*gemmLargeKc)/mr, 1) * mr
		}
		boundA = max(boundA, roundUp(lmc, mr)*gemmLargeKc)
		boundB = max(boundB, roundUp(nc, nr)*gemmLargeKc)
		if i1-i0 > mc && g.k > kc {
			kc, mc = gemmLargeKc, lmc
		}
	}
	// Balance the blocks so that no pass is a thin remainder.
	kc = ceilDiv(g.k, ceilDiv(g.k, kc))
	mc = roundUp(ceilDiv(i1-i0, ceilDiv(i1-i0, mc)), mr)
	nc = roundUp(ceilDiv(j1-j0, ceilDiv(j1-j0, nc)), nr)
	buf.tile = grow(buf.tile, mr*nr)
	if gemmUseNT(kr, g, i1-i0) {
		gemmNTBlock(kr, g, buf, i0, i1, j0, j1)
		return
	}
	fused := i1-i0 <= mc
	// Read B in place (row stride ldb) when few row panels share it.
	direct := fused && !g.transB && kr.tile != nil && i1-i0 <= gemmDirectRows*mr
	for jc := j0; jc < j1; jc += nc {
		nb := min(nc, j1-jc)
		for pc := 0; pc < g.k; pc += kc {
			kb := min(kc, g.k-pc)
			load := g.load || pc > 0
			if fused {
				mb := i1 - i0
				buf.a = growTo(buf.a, roundUp(mb, mr)*kb, boundA)
				gemmPackA(kr, buf.a, g, i0, mb, pc, kb)
				if direct {
					for jr := 0; jr < nb; jr += nr {
						cols := min(nr, nb-jr)
						bp, ldb := g.b[pc*g.ldb+jc+jr:], g.ldb
						if cols < nr {
							buf.b = growTo(buf.b, nr*kb, boundB)
							gemmPackB(kr, buf.b, g, pc, kb, jc+jr, cols)
							bp, ldb = buf.b, nr
						}
						gemmPanel(kr, kb, buf.a, mb, bp, ldb, cols, g.c[i0*g.ldc+jc+jr:], g.ldc, load, buf.tile)
					}
					continue
				}
				// Pack B in chunks: a transposed B one micro-panel at a
				// time (it stays in L1; the transposing pack reads each row
				// of Bᵀ sequentially anyway), a row-major B in L2-sized
				// chunks packed row by row (long sequential reads).
				chunk := nr
				if !g.transB {
					chunk = max(gemmL2/2/(4*kb)/nr, 1) * nr
				}
				buf.b = growTo(buf.b, min(chunk, roundUp(nb, nr))*kb, boundB)
				for jq := 0; jq < nb; jq += chunk {
					cw := min(chunk, nb-jq)
					gemmPackB(kr, buf.b, g, pc, kb, jc+jq, cw)
					for jr := 0; jr < cw; jr += nr {
						gemmPanel(kr, kb, buf.a, mb, buf.b[jr*kb:], nr, min(nr, cw-jr), g.c[i0*g.ldc+jc+jq+jr:], g.ldc, load, buf.tile)
					}
				}
				continue
			}
			buf.b = growTo(buf.b, roundUp(nb, nr)*kb, boundB)
			gemmPackB(kr, buf.b, g, pc, kb, jc, nb)
			for ic := i0; ic < i1; ic += mc {
				mb := min(mc, i1-ic)
				buf.a = growTo(buf.a, roundUp(mb, mr)*kb, boundA)
				gemmPackA(kr, buf.a, g, ic, mb, pc, kb)
				for jr := 0; jr < nb; jr += nr {
					gemmPanel(kr, kb, buf.a, mb, buf.b[jr*kb:], nr, min(nr, nb-jr), g.c[ic*g.ldc+jc+jr:], g.ldc, load, buf.tile)
				}
			}
		}
	}
}

// gemmNTMaxRows is the number of rows up to which A·Bᵀ uses the kernel's
// nt variant (B read in place), when it has one.
const gemmNTMaxRows = 64

// gemmNTMinCols is the fewest columns of one parallel nt task.
const gemmNTMinCols = 64

// gemmNTKc is the depth of one pass of the nt kernel (the packed Aᵀ block,
// kc×roundUp(rows, ntVec), stays in L1/L2; each further pass reloads C).
var gemmNTKc = 1 << 30

// gemmNTBlock computes rows [i0, i1) × columns [j0, j1) of C = A·Bᵀ with
// the nt kernel: Aᵀ packed ntRows rows at a time, B read in place.
func gemmNTBlock(kr *gemmKernel, g *gemmArgs, buf *gemmBuffers, i0, i1, j0, j1 int) {
	kc := ceilDiv(g.k, ceilDiv(g.k, gemmNTKc))
	for ib := i0; ib < i1; ib += kr.ntRows {
		rows := min(kr.ntRows, i1-ib)
		s := roundUp(rows, kr.ntVec)
		for pc := 0; pc < g.k; pc += kc {
			kb := min(kc, g.k-pc)
			buf.a = grow(buf.a, s*kb)
			gemmPackAT(buf.a, g, ib, rows, s, pc, kb)
			gemmNTCols(kr, g, buf.a, ib, rows, pc, kb, j0, j1)
		}
	}
}

// gemmNTCols runs the nt kernel on rows [ib, ib+rows) × columns [j0, j1)
// of C over depth [pc, pc+kb), with ap the packed Aᵀ of those rows and depths.
func gemmNTCols(kr *gemmKernel, g *gemmArgs, ap []float32, ib, rows, pc, kb, j0, j1 int) {
	load := g.load || pc > 0
	for jb := j0; jb < j1; jb += kr.ntCols {
		kr.nt(rows, min(kr.ntCols, j1-jb), kb, ap, g.b[jb*g.ldb+pc:], g.ldb, g.c[ib*g.ldc+jb:], g.ldc, load)
	}
}

// gemmUseNT reports whether rows [i0, i1) of g go through the nt kernel.
func gemmUseNT(kr *gemmKernel, g *gemmArgs, rows int) bool {
	return g.transB && kr.nt != nil && rows <= gemmNTMaxRows && g.ldc <= math.MaxInt32/kr.ntRows
}

// gemmPackAT packs rows [i0, i0+rows) × depth [p0, p0+kb) of alpha·op(A)
// transposed: dst[p*s+i] = alpha*op(A)[i0+i][p0+p], zero for rows <= i < s.
func gemmPackAT(dst []float32, g *gemmArgs, i0, rows, s, p0, kb int) {
	alpha, lda := g.alpha, g.lda
	dst = dst[:s*kb]
	if g.transA {
		for p := 0; p < kb; p++ {
			d := dst[p*s : p*s+s]
			src := g.a[(p0+p)*lda+i0:][:rows]
			if alpha == 1 {
				copy(d, src)
			} else {
				for i, v := range src {
					d[i] = alpha * v
				}
			}
			clear(d[rows:])
		}
		return
	}
	for i := 0; i < rows; i++ {
		src := g.a[(i0+i)*lda+p0:][:kb]
		if alpha == 1 {
			for p, v := range src {
				dst[p*s+i] = v
			}
		} else {
			for p, v := range src {
				dst[p*s+i] = alpha * v
			}
		}
	}
	if rows < s {
		for p := 0; p < kb; p++ {
			clear(dst[p*s+rows : p*s+s])
		}
	}
}

// gemmDirectRows is the number of row panels (of mr rows) up to which a
// row-major B is read in place rather than packed: packing costs a copy of
// every B element, reading in place a strided stream per panel. Measured on
// Zen 5, 1 thread, GFLOP/cpu-s, 3 interleaved rounds, 2 → 4: AVX-512
// 40×2048×512 A·B 141 → 173, 56×2048×512 155 → 166, 40×512×2048 130 → 160;
// for AVX2 (6-row panels) reading 7 or more panels in place lost 30%.
const gemmDirectRows = 4

// gemmPanel runs the micro-kernels of one column panel: the packed A block
// ap (mb rows, in panels of mr) times the B panel bp (kb×nr at row stride
// ldb, of which cols columns count) into C rows 0..mb-1, columns 0..cols-1
// of c.
func gemmPanel(kr *gemmKernel, kb int, ap []float32, mb int, bp []float32, ldb, cols int, c []float32, ldc int, load bool, tile []float32) {
	mr, nr := kr.mr, kr.nr
	for ir := 0; ir < mb; ir += mr {
		a := ap[ir*kb : (ir+mr)*kb]
		rows := min(mr, mb-ir)
		cc := c[ir*ldc:]
		switch {
		case rows == mr && cols == nr && ldb == nr:
			kr.kern(kb, a, bp[:nr*kb], cc, ldc, load)
		case kr.tile != nil:
			kr.tile(rows, cols, kb, a, bp, ldb, cc, ldc, load)
		default:
			gemmEdge(kr, rows, cols, kb, a, bp[:nr*kb], cc, ldc, load, tile)
		}
	}
}

// gemmEdge runs the micro-kernel on a partial rows×cols tile through a
// temporary tile (for kernels without a tile variant).
func gemmEdge(kr *gemmKernel, rows, cols, kb int, ap, bp, c []float32, ldc int, load bool, tile []float32) {
	nr := kr.nr
	if load {
		for i := 0; i < rows; i++ {
			copy(tile[i*nr:i*nr+cols], c[i*ldc:i*ldc+cols])
		}
	}
	kr.kern(kb, ap, bp, tile, nr, load)
	for i := 0; i < rows; i++ {
		copy(c[i*ldc:i*ldc+cols], tile[i*nr:i*nr+cols])
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
func roundUp(a, b int) int { return (a + b - 1) / b * b }

// gemmPackA packs rows [i0, i0+mb) × depth [p0, p0+kb) of alpha·op(A) into
// dst as consecutive kb×mr panels (dst[q*kb*mr + p*mr + i]), zero-padding
// the last panel's missing rows.
func gemmPackA(kr *gemmKernel, dst []float32, g *gemmArgs, i0, mb, p0, kb int) {
	mr, alpha, lda := kr.mr, g.alpha, g.lda
	full, k8 := mb/mr, kb&^7
	if !g.transA && kr.packA != nil && full > 0 && k8 > 0 {
		kr.packA(dst, g.a[i0*lda+p0:], lda, kb, full, alpha)
		// The asm packed columns [0, k8) of the whole panels.
		for ir := 0; ir < full*mr; ir += mr {
			panel := dst[ir*kb : ir*kb+mr*kb]
			for i := 0; i < mr; i++ {
				src := g.a[(i0+ir+i)*lda+p0:][k8:kb]
				for p, v := range src {
					if alpha != 1 {
						v = alpha * v
					}
					panel[(k8+p)*mr+i] = v
				}
			}
		}
	} else if g.transA && alpha == 1 && kr.copyA != nil && full > 0 {
		kr.copyA(dst, g.a[p0*lda+i0:], lda, kb, full)
	} else {
		full = 0
	}
	for ir := full * mr; ir < mb; ir += mr {
		rows := min(mr, mb-ir)
		panel := dst[ir*kb : ir*kb+mr*kb]
		if !g.transA {
			for i := 0; i < rows; i++ {
				src := g.a[(i0+ir+i)*lda+p0:][:kb]
				if alpha == 1 {
					for p, v := range src {
						panel[p*mr+i] = v
					}
				} else {
					for p, v := range src {
						panel[p*mr+i] = alpha * v
					}
				}
			}
		} else {
			for p := 0; p < kb; p++ {
				src := g.a[(p0+p)*lda+i0+ir:][:rows]
				d := panel[p*mr : p*mr+rows]
				if alpha == 1 {
					copy(d, src)
				} else {
					for i, v := range src {
						d[i] = alpha * v
					}
				}
			}
		}
		if rows < mr {
			for p := 0; p < kb; p++ {
				clear(panel[p*mr+rows : p*mr+mr])
			}
		}
	}
}

// gemmPackB packs depth [p0, p0+kb) × columns [j0, j0+nb) of op(B) into dst
// as consecutive kb×nr panels (dst[q*kb*nr + p*nr + j]), zero-padding the
// last panel's missing columns.
func gemmPackB(kr *gemmKernel, dst []float32, g *gemmArgs, p0, kb, j0, nb int) {
	nr, ldb := kr.nr, g.ldb
	full, k8 := nb/nr, kb&^7
	if g.transB && kr.packB != nil && full > 0 && k8 > 0 {
		kr.packB(dst, g.b[j0*ldb+p0:], ldb, kb, full, 1)
		for jr := 0; jr < full*nr; jr += nr {
			panel := dst[jr*kb : jr*kb+nr*kb]
			for j := 0; j < nr; j++ {
				src := g.b[(j0+jr+j)*ldb+p0:][k8:kb]
				for p, v := range src {
					panel[(k8+p)*nr+j] = v
				}
			}
		}
	} else if !g.transB && kr.copyB != nil && full > 0 {
		kr.copyB(dst, g.b[p0*ldb+j0:], ldb, kb, full)
	} else {
		full = 0
	}
	for jr := full * nr; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		panel := dst[jr*kb : jr*kb+nr*kb]
		if !g.transB {
			for p := 0; p < kb; p++ {
				copy(panel[p*nr:p*nr+cols], g.b[(p0+p)*ldb+j0+jr:][:cols])
			}
		} else {
			for j := 0; j < cols; j++ {
				src := g.b[(j0+jr+j)*ldb+p0:][:kb]
				for p, v := range src {
					panel[p*nr+j] = v
				}
			}
		}
		if cols < nr {
			for p := 0; p < kb; p++ {
				clear(panel[p*nr+cols : p*nr+nr])
			}
		}
	}
}
