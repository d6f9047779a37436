//go:build !race

package kernels

// raceBuild reports whether the race detector is on (see gemmRace).
const raceBuild = false
