package guard

import (
	"runtime/debug"
	"testing"
	"unsafe"
)

var sink float32

// touch reads the float32 at p (or writes it, when write is set) and
// reports whether the access faulted.
func touch(p unsafe.Pointer, write bool) (faulted bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			faulted = true
		}
	}()
	if write {
		*(*float32)(p) = 1
	} else {
		sink = *(*float32)(p)
	}
	return false
}

func readAt(p unsafe.Pointer) bool { return touch(p, false) }

func TestLayout(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 1023, 1024, 1025, 5000} {
		s, free := Float32s(n)
		if len(s) != n || cap(s) != n || s == nil {
			t.Fatalf("Float32s(%d): len %d cap %d nil %v", n, len(s), cap(s), s == nil)
		}
		for i := range s {
			if s[i] != 0 {
				t.Fatalf("Float32s(%d)[%d] = %v, want 0", n, i, s[i])
			}
			s[i] = float32(i) // every element is writable
		}
		free()
		free() // idempotent

		h, freeH := Float32sHead(n)
		if len(h) != n || cap(h) != n {
			t.Fatalf("Float32sHead(%d): len %d cap %d", n, len(h), cap(h))
		}
		for i := range h {
			h[i] = float32(i)
		}
		freeH()

		u, freeU := Uint64s(n)
		for i := range u {
			u[i] = ^uint64(0)
		}
		freeU()
		b, freeB := BoolsHead(n)
		for i := range b {
			b[i] = true
		}
		freeB()
	}
}

func TestFaultPastEnd(t *testing.T) {
	if !Protected {
		t.Skip("no guard pages on this platform")
	}
	for _, n := range []int{0, 1, 7, 1024, 4099} {
		s, free := Float32s(n)
		end := unsafe.Add(unsafe.Pointer(unsafe.SliceData(s)), 4*n) // one past the last element
		if !readAt(end) {
			t.Errorf("n=%d: reading one element past the end did not fault", n)
		}
		if !touch(end, true) {
			t.Errorf("n=%d: writing one element past the end did not fault", n)
		}
		if n > 0 && readAt(unsafe.Add(end, -4)) {
			t.Errorf("n=%d: reading the last element faulted", n)
		}
		free()

		h, freeH := Float32sHead(n)
		before := unsafe.Add(unsafe.Pointer(unsafe.SliceData(h)), -4)
		if !readAt(before) {
			t.Errorf("n=%d: reading one element before the start did not fault", n)
		}
		if !touch(before, true) {
			t.Errorf("n=%d: writing one element before the start did not fault", n)
		}
		if n > 0 && readAt(unsafe.Pointer(unsafe.SliceData(h))) {
			t.Errorf("n=%d: reading the first element faulted", n)
		}
		freeH()
	}
}
