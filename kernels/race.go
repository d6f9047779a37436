//go:build race

package kernels

import (
	"runtime"
	"unsafe"
)

// The race detector cannot see memory touched by assembly, so the public
// wrappers announce every slice a kernel reads or writes.

func raceRead(s []float32) {
	if len(s) > 0 {
		runtime.RaceReadRange(unsafe.Pointer(&s[0]), len(s)*4)
	}
}

func raceWrite(s []float32) {
	if len(s) > 0 {
		runtime.RaceWriteRange(unsafe.Pointer(&s[0]), len(s)*4)
	}
}

func raceWriteWords(s []uint64) {
	if len(s) > 0 {
		runtime.RaceWriteRange(unsafe.Pointer(&s[0]), len(s)*8)
	}
}

// raceRW announces a write of dst and a read of src.
func raceRW(dst, src []float32) {
	raceWrite(dst)
	raceRead(src)
}
