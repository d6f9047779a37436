//go:build purego || !(amd64 || arm64)

package kernels

// initBackends registers nothing: only the pure-Go backend exists here.
func initBackends() {}
