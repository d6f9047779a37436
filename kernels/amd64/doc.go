// Package amd64 holds the AVX2 and AVX-512 kernels of simdformer, generated
// by the Avo programs in asm/. Do not edit the generated files; run
// `go generate ./...` from the repository root. Use package kernels, which
// dispatches here after checking the CPU's features; calling these functions
// on a CPU without the features crashes.
//
// This file has no build constraint so that `go generate ./...` reaches the
// directives below from any host.
package amd64

//go:generate go run -C ../../asm ./amd64/gemm -out ../kernels/amd64/gemm_amd64.s -stubs ../kernels/amd64/gemm_stubs_amd64.go -pkg amd64
//go:generate go run -C ../../asm ./amd64/rows -out ../kernels/amd64/rows_amd64.s -stubs ../kernels/amd64/rows_stubs_amd64.go -pkg amd64
