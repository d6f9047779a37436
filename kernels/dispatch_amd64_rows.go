//go:build amd64 && !purego

package kernels

// setAVX2Rows and setAVX512Rows install the row and elementwise kernels of kernels/amd64.
func setAVX2Rows(b *impl)   {}
func setAVX512Rows(b *impl) {}
