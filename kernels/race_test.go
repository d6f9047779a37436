//go:build race

package kernels

// raceEnabled: built with -race (its instrumentation allocates, so the
// allocation tests skip).
const raceEnabled = true
