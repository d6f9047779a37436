//go:build !linux

package kernels

// processCPUTime is unavailable here.
func processCPUTime() float64 { return 0 }
