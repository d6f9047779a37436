//go:build arm64 && !purego

package kernels

import (
	"os"
	"testing"
)

// TestNEONSelected fails when an arm64 build without the purego tag silently
// falls back to the pure-Go kernels: the NEON backend must be registered and
// picked at init, and must bring every kernel of the table.
func TestNEONSelected(t *testing.T) {
	if env := os.Getenv("SIMDFORMER_BACKEND"); env != "" {
		t.Skipf("SIMDFORMER_BACKEND=%s forces the backend", env)
	}
	if got := Backend(); got != "neon" {
		t.Fatalf("Backend() = %q on arm64, want \"neon\" (available: %v)", got, Backends())
	}
	if _, borrowed := ownKernels(cur()); len(borrowed) > 0 {
		t.Errorf("neon backend falls back to purego for %v", borrowed)
	}
}
