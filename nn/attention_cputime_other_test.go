//go:build !unix

package nn_test

// processCPU is unavailable here: -1.
func processCPU() int64 { return -1 }
