//go:build arm64 && !purego

package kernels

// setNEON installs the NEON kernels of kernels/arm64.
func setNEON(b *impl) {}
