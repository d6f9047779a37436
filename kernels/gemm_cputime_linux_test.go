//go:build linux

package kernels

import "golang.org/x/sys/unix"

// processCPUTime returns the CPU time (user + system) consumed by this
// process so far, in seconds (0 if unavailable). Benchmarks on a shared
// machine divide work by it to measure speed without the time other
// processes take from the cores.
func processCPUTime() float64 {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)*1e-6
}
