//go:build unix

package atomicfile

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestPermissions: a new file gets perm under the umask; an existing one
// keeps its mode (a 0600 checkpoint stays 0600).
func TestPermissions(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "ckpt")
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	if err := WriteFunc(p, 0o666, writeString("new")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o644 {
		t.Fatalf("new file mode %v, want 0644 (0666 under umask 022)", fi.Mode().Perm())
	}
	for _, mode := range []fs.FileMode{0o600, 0o640, 0o755} {
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		if err := WriteFunc(p, 0o644, writeString("again")); err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != mode {
			t.Fatalf("mode %v became %v", mode, fi.Mode().Perm())
		}
	}
}
