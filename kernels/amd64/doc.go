// Package amd64 holds the AVX2 and AVX-512 kernels of simdformer, generated
// by the Avo programs in asm/. Do not edit the generated files; run
// `go generate ./...` from the repository root.
//
// This package is the assembly behind package kernels and is not meant to
// be called directly: use package kernels, which validates every argument,
// splits the work and dispatches here only after checking the CPU. The
// functions check nothing themselves — the lengths and indices they are
// given must be valid — and they execute AVX2/FMA (the *AVX2 functions) or
// AVX-512 (the *AVX512 functions) instructions unconditionally, so calling
// one on a CPU without those features kills the process with SIGILL. Code
// that calls them anyway must first check SupportsAVX2 or SupportsAVX512.
// The functions exist only on amd64 builds without the purego tag.
//
// This file has no build constraint so that `go generate ./...` reaches the
// directives below from any host.
package amd64

import "github.com/klauspost/cpuid/v2"

//go:generate go run -C ../../asm ./amd64/gemm -out ../kernels/amd64/gemm_amd64.s -stubs ../kernels/amd64/gemm_stubs_amd64.go -pkg amd64
//go:generate go run -C ../../asm ./amd64/rows -out ../kernels/amd64/rows_amd64.s -stubs ../kernels/amd64/rows_stubs_amd64.go -pkg amd64

// AVX2Features returns the CPU features the *AVX2 functions use: AVX, AVX2
// and FMA3 (cpuid also checks that the OS saves the YMM registers). Package
// kernels registers its "avx2" backend only when the CPU has all of them.
func AVX2Features() []cpuid.FeatureID {
	return []cpuid.FeatureID{cpuid.AVX, cpuid.AVX2, cpuid.FMA3}
}

// AVX512Features returns the CPU features the *AVX512 functions use:
// AVX-512 Foundation, AVX-512 VL (EVEX forms on XMM/YMM registers) and AVX
// (VEX-encoded instructions such as VZEROUPPER). Package kernels registers
// its "avx512" backend only when the CPU has all of them.
func AVX512Features() []cpuid.FeatureID {
	return []cpuid.FeatureID{cpuid.AVX, cpuid.AVX512F, cpuid.AVX512VL}
}

// SupportsAVX2 reports whether this build has the *AVX2 functions and this
// CPU (and OS) can run them.
func SupportsAVX2() bool { return haveAsm && cpuid.CPU.Supports(AVX2Features()...) }

// SupportsAVX512 reports whether this build has the *AVX512 functions and
// this CPU (and OS) can run them.
func SupportsAVX512() bool { return haveAsm && cpuid.CPU.Supports(AVX512Features()...) }
