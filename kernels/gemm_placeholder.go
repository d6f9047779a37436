package kernels

// TEMPORARY: a naive genericGemm so the package compiles until the GEMM
// engineer's gemm.go lands (that engineer deletes this file).
var genericGemm = gemmKernel{mr: 1, nr: 1, kern: func(kc int, a, b, c []float32, ldc int, load bool) {
	acc := float32(0)
	if load {
		acc = c[0]
	}
	for p := 0; p < kc; p++ {
		acc = fma32(a[p], b[p], acc)
	}
	c[0] = acc
}}
