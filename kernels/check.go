package kernels

import "fmt"

// Shape checks shared by the public kernels. Messages name the function,
// the operands and their shapes, like gonum's.

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

func checkMatrix(fn string, rows, cols int) int {
	if rows < 0 || cols < 0 || (cols > 0 && rows > maxInt/cols) {
		panic(fmt.Sprintf("kernels: %s: invalid shape rows=%d, cols=%d", fn, rows, cols))
	}
	return rows * cols
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
