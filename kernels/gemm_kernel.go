package kernels

// gemmKernel is a backend's GEMM register tile (micro-kernel) on packed
// panels. For i < mr, j < nr:
//
//	acc = load ? c[i*ldc+j] : +0
//	for p := 0; p < kc; p++ { acc = fma(a[p*mr+i], b[p*nr+j], acc) }
//	c[i*ldc+j] = acc
//
// a is a packed A panel (kc×mr, alpha already applied), b a packed B panel
// (kc×nr). Every C element is one in-order FMA chain over k, which is why
// every backend and every blocking gives the same bits.
//
// Only mr, nr and kern are required; the other fields are optional
// accelerations (nil or 0 means the portable Go code in gemm.go is used) and
// every one of them computes exactly the bits of kern.
type gemmKernel struct {
	mr, nr int
	kern   func(kc int, a, b, c []float32, ldc int, load bool)

	// kc, mc, nc override the cache blocking (0 = derived from the cache
	// sizes by gemmBlocking).
	kc, mc, nc int

	// tile is kern generalised: it computes only the top-left m×n corner
	// of the tile (1 <= m <= mr, 1 <= n <= nr), reading and writing c only
	// there, with B read at row stride ldb (b[p*ldb+j]; a packed panel has
	// ldb = nr). When n < nr it may read up to nr columns of every B row, so
	// b must then be a zero-padded packed panel. nil = edge tiles go through
	// a temporary tile and B is always packed.
	tile func(m, n, kc int, a, b []float32, ldb int, c []float32, ldc int, load bool)

	// packA and packB are transposing packs: for q < panels, r < R and
	// p < kc&^7 (the caller packs the last kc%8 columns),
	//	dst[q*kc*R + p*R + r] = alpha * src[(q*R+r)*ld + p]
	// (a plain copy when alpha == 1), with R = mr for packA (A not
	// transposed) and R = nr for packB (B transposed, alpha = 1).
	// nil = Go loops.
	packA, packB func(dst, src []float32, ld, kc, panels int, alpha float32)

	// copyB packs whole panels of a row-major (not transposed) B:
	//	dst[q*kc*nr + p*nr + j] = src[p*ld + q*nr + j]
	// for q < panels, p < kc, j < nr. nil = Go copy per row.
	copyB func(dst, src []float32, ld, kc, panels int)

	// copyA is copyB for a transposed A with alpha == 1 (R = mr):
	//	dst[q*kc*mr + p*mr + i] = src[p*ld + q*mr + i]
	// nil = Go copy per row.
	copyA func(dst, src []float32, ld, kc, panels int)

	// nt is a few-row A·Bᵀ kernel that reads B (stored n×k) in place
	// instead of transposing it into panels. With S = roundUp(m, ntVec)
	// and a the packed Aᵀ (a[p*S+i] = alpha*A[i][p], zero rows up to S),
	// for i < m <= ntRows, j < n <= ntCols:
	//	acc = load ? c[i*ldc+j] : +0
	//	for p := 0; p < kc; p++ { acc = fma(a[p*S+i], b[j*ldb+p], acc) }
	//	c[i*ldc+j] = acc
	// It reads B only in those n rows and kc columns and C only in the
	// m×n window. nil = A·Bᵀ goes through packB.
	nt                    func(m, n, kc int, a, b []float32, ldb int, c []float32, ldc int, load bool)
	ntRows, ntCols, ntVec int

	// normal, when not nil, is a faster variant that is exact only when no
	// product alpha·op(A)[i][p]·op(B)[p][j] is tiny (gemmTinyProducts); Gemm
	// checks the operands and then runs the call with it.
	normal *gemmKernel
}
