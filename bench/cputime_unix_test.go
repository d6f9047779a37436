//go:build unix

package main

import "syscall"

// processCPUTime returns the CPU time (user + system) this process has used,
// in seconds (0 if unavailable): work per CPU-second is robust to other
// processes sharing the cores, which wall-clock speed is not.
func processCPUTime() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)*1e-6
}
