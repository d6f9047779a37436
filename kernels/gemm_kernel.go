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
type gemmKernel struct {
	mr, nr int
	kern   func(kc int, a, b, c []float32, ldc int, load bool)
}
