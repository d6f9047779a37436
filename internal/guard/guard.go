// Package guard allocates slices that sit flush against inaccessible memory,
// so a kernel that reads or writes one element past either end of its
// operand faults at once instead of silently touching a neighbour.
//
// Float32s(n) returns a slice whose last element ends exactly where a
// PROT_NONE page begins; Float32sHead(n) returns one that starts exactly where
// a PROT_NONE page ends. Tests call both for every input and output of a
// kernel. Combine with debug.SetPanicOnFault(true) to turn the fault into a
// recoverable panic rather than a crash of the test binary.
//
// On unix the memory comes from mmap and is not managed by the Go garbage
// collector: call free when done (it is idempotent). Elsewhere (windows,
// js/wasm, plan9, ...) the functions return ordinary zeroed slices and
// Protected reports false.
//
// The slices returned have len == cap == n and zeroed contents. A slice of
// length 0 is non-nil and still abuts the guard page.
package guard

// Float32s returns n zeroed float32s whose last element ends flush against
// an inaccessible page (on unix), and a function that releases the memory.
func Float32s(n int) (s []float32, free func()) { return alloc[float32](n, false) }

// Float32sHead returns n zeroed float32s whose first element starts right
// after an inaccessible page (on unix), and a function that releases the memory.
func Float32sHead(n int) (s []float32, free func()) { return alloc[float32](n, true) }

// Uint64s is Float32s for uint64 (e.g. dropout bit masks).
func Uint64s(n int) (s []uint64, free func()) { return alloc[uint64](n, false) }

// Uint64sHead is Float32sHead for uint64.
func Uint64sHead(n int) (s []uint64, free func()) { return alloc[uint64](n, true) }

// Bools is Float32s for bool (e.g. softmax ignore masks).
func Bools(n int) (s []bool, free func()) { return alloc[bool](n, false) }

// BoolsHead is Float32sHead for bool.
func BoolsHead(n int) (s []bool, free func()) { return alloc[bool](n, true) }
