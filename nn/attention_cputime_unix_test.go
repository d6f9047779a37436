//go:build unix

package nn_test

import "syscall"

// processCPU returns the user+system CPU time the process has used, in
// nanoseconds, or -1 when it cannot be read. Benchmarks on a shared
// machine report it per op: the time other processes take from the cores
// does not count.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
