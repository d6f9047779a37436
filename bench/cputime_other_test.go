//go:build !unix

package main

func processCPUTime() float64 { return 0 }
