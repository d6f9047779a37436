//go:build !unix

package guard

// Protected reports whether the slices really abut inaccessible pages on
// this platform (true on unix, false for the plain-slice fallback).
const Protected = false

// alloc returns an ordinary slice: this platform has no mmap/mprotect, so
// out-of-bounds accesses are caught only by Go's bounds checks and by the
// sentinel checks in the tests.
func alloc[T any](n int, head bool) ([]T, func()) {
	if n < 0 {
		panic("guard: negative length")
	}
	return make([]T, n), func() {}
}
