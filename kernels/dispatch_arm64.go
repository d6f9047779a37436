//go:build arm64 && !purego

package kernels

func initBackends() {
	// Every arm64 CPU Go supports has Advanced SIMD (NEON).
	b := &impl{name: "neon"}
	setNEON(b)
	register(b)
}
