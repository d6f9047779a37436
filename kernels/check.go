package kernels

import "fmt"

// Shape checks shared by the public kernels. Messages name the function,
// the operands and their shapes, like gonum's.
//
// Every product or sum of caller-supplied sizes, leading dimensions or
// counts goes through mulOK/addOK or a helper built on them (checkMatrix;
// stridedSpan for strided operands such as Gemm's), or is computed without
// overflow (ceilDiv64, causalLimit): a combination whose arithmetic would
// wrap around is rejected with the kernel's own message before any memory
// is touched, so no backend — pure Go or assembly — ever sees an index
// computed from a wrapped size.

// mulOK returns a*b and whether it is representable (a, b >= 0).
func mulOK(a, b int) (int, bool) {
	if a < 0 || b < 0 {
		return 0, false
	}
	if a != 0 && b > maxInt/a {
		return 0, false
	}
	return a * b, true
}

// addOK returns a+b and whether it is representable (a, b >= 0).
func addOK(a, b int) (int, bool) {
	if a < 0 || b < 0 || a > maxInt-b {
		return 0, false
	}
	return a + b, true
}

// stridedSpan returns the number of elements a rows×cols matrix stored with
// row stride ld spans, (rows-1)·ld + cols (0 when it is empty), and whether
// that is representable. rows, cols and ld must be >= 0.
func stridedSpan(rows, cols, ld int) (int, bool) {
	if rows < 0 || cols < 0 || ld < 0 {
		return 0, false
	}
	if rows == 0 || cols == 0 {
		return 0, true
	}
	p, ok := mulOK(rows-1, ld)
	if !ok {
		return 0, false
	}
	return addOK(p, cols)
}

// ceilDiv64 returns ⌈n/64⌉ for n >= 0 without overflow (the number of
// 64-bit mask words of n elements).
func ceilDiv64(n int) int { return n/64 + min(n%64, 1) }

func checkLen2(fn, na string, a []float32, nb string, b []float32) {
	if len(a) != len(b) {
		panic(fmt.Sprintf("kernels: %s: len(%s)=%d != len(%s)=%d", fn, na, len(a), nb, len(b)))
	}
}

func checkLen3(fn, na string, a []float32, nb string, b []float32, nc string, c []float32) {
	if len(a) != len(b) || len(a) != len(c) {
		panic(fmt.Sprintf("kernels: %s: lengths differ: len(%s)=%d, len(%s)=%d, len(%s)=%d",
			fn, na, len(a), nb, len(b), nc, len(c)))
	}
}

// checkMatrix panics unless rows and cols are >= 0 and rows×cols is
// representable, and returns rows×cols.
func checkMatrix(fn string, rows, cols int) int {
	size, ok := mulOK(rows, cols)
	if !ok {
		panic(fmt.Sprintf("kernels: %s: invalid shape rows=%d, cols=%d (negative, or rows×cols > MaxInt)", fn, rows, cols))
	}
	return size
}

func checkLenN(fn, name string, n, want, rows, cols int) {
	if n != want {
		panic(fmt.Sprintf("kernels: %s: len(%s)=%d, want rows×cols=%d×%d=%d", fn, name, n, rows, cols, want))
	}
}

func checkVec(fn, name string, v []float32, want int, optional bool) {
	if v == nil && optional {
		return
	}
	if len(v) != want {
		panic(fmt.Sprintf("kernels: %s: len(%s)=%d, want %d", fn, name, len(v), want))
	}
}

const maxInt = int(^uint(0) >> 1)
