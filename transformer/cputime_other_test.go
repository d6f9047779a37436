//go:build !unix

package transformer

func processCPU() int64 { return -1 }
