package kernels

import (
	"runtime"
	"slices"
	"testing"

	"github.com/simdformer/simdformer/kernels/amd64"
	"github.com/simdformer/simdformer/kernels/arm64"
)

// TestAsmGuards checks that the exported guards of the assembly packages
// agree with the backends package kernels registered: a caller that checks
// amd64.SupportsAVX2 (or SupportsAVX512, arm64.Supported) calls exactly the
// functions kernels itself would use on this CPU and build.
func TestAsmGuards(t *testing.T) {
	bs := Backends()
	for _, c := range []struct {
		backend string
		guard   bool
	}{
		{"avx2", amd64.SupportsAVX2()},
		{"avx512", amd64.SupportsAVX512()},
		{"neon", arm64.Supported()},
	} {
		if got := slices.Contains(bs, c.backend); got != c.guard {
			t.Errorf("%s/%s: guard says %v, backend %s registered: %v", runtime.GOOS, runtime.GOARCH, c.guard, c.backend, got)
		}
	}
}
