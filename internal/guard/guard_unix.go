//go:build unix

package guard

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Protected reports whether the slices really abut inaccessible pages on
// this platform (true on unix, false for the plain-slice fallback).
const Protected = true

// alloc maps n elements rounded up to whole pages plus one extra page, makes
// the extra page PROT_NONE and places the elements flush against it: after
// it when head is true, before it otherwise.
func alloc[T any](n int, head bool) ([]T, func()) {
	if n < 0 {
		panic(fmt.Sprintf("guard: negative length %d", n))
	}
	var zero T
	size := int(unsafe.Sizeof(zero))
	page := os.Getpagesize()
	data := (n*size + page - 1) / page * page
	if data == 0 {
		data = page // keep a readable page next to the guard even for n == 0
	}
	mem, err := unix.Mmap(-1, 0, data+page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		panic(fmt.Sprintf("guard: mmap of %d bytes: %v", data+page, err))
	}
	var guardPage []byte
	var start int
	if head {
		guardPage = mem[:page]
		start = page
	} else {
		guardPage = mem[data:]
		start = data - n*size
	}
	if err := unix.Mprotect(guardPage, unix.PROT_NONE); err != nil {
		unix.Munmap(mem)
		panic(fmt.Sprintf("guard: mprotect: %v", err))
	}
	s := unsafe.Slice((*T)(unsafe.Pointer(&mem[start])), n)
	freed := false
	free := func() {
		if freed {
			return
		}
		freed = true
		if err := unix.Munmap(mem); err != nil {
			panic(fmt.Sprintf("guard: munmap: %v", err))
		}
	}
	return s, free
}
