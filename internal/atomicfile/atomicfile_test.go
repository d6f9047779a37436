package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

// onlyFiles fails unless dir holds exactly want (no temporary files).
func onlyFiles(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("directory holds %v, want %v", got, want)
	}
}

func content(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestNewAndReplace(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	if err := WriteFunc(p, 0o644, writeString("one")); err != nil {
		t.Fatal(err)
	}
	if err := WriteFunc(p, 0o644, writeString("two")); err != nil {
		t.Fatal(err)
	}
	if got := content(t, p); got != "two" {
		t.Fatalf("content %q", got)
	}
	onlyFiles(t, dir, "a.json")
}

func TestSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	if err := os.WriteFile(real, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	link := filepath.Join(sub, "link") // relative link to a relative link
	if err := os.Symlink("../link0", link); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	if err := os.Symlink("real", filepath.Join(dir, "link0")); err != nil {
		t.Fatal(err)
	}
	if err := WriteFunc(link, 0o644, writeString("new")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v %v", fi.Mode(), err)
	}
	if got := content(t, real); got != "new" {
		t.Fatalf("target holds %q", got)
	}
	if fi, _ := os.Stat(real); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Fatalf("target mode became %v", fi.Mode().Perm())
	}
	onlyFiles(t, dir, "link0", "real", "sub")
	onlyFiles(t, sub, "link")

	// A dangling link creates its target.
	dangling := filepath.Join(dir, "dangling")
	os.Symlink("made", dangling)
	if err := WriteFunc(dangling, 0o644, writeString("x")); err != nil {
		t.Fatal(err)
	}
	if got := content(t, filepath.Join(dir, "made")); got != "x" {
		t.Fatalf("dangling target holds %q", got)
	}
	// A loop is an error, not a hang.
	os.Symlink("loop2", filepath.Join(dir, "loop1"))
	os.Symlink("loop1", filepath.Join(dir, "loop2"))
	if err := WriteFunc(filepath.Join(dir, "loop1"), 0o644, writeString("x")); err == nil {
		t.Fatal("a symlink loop was written")
	}
}

// TestFailures: every failure leaves the old file intact and no temporary
// file behind.
func TestFailures(t *testing.T) {
	boom := errors.New("injected")
	cases := []struct {
		name  string
		write func(io.Writer) error
		setup func() func()
	}{
		{"write error", func(w io.Writer) error { io.WriteString(w, "partial"); return boom }, nil},
		{"panic", func(w io.Writer) error { io.WriteString(w, "partial"); panic(boom) }, nil},
		{"fsync", writeString("new"), func() func() {
			syncFile = func(*os.File) error { return boom }
			return func() { syncFile = (*os.File).Sync }
		}},
		{"rename", writeString("new"), func() func() {
			rename = func(string, string) error { return boom }
			return func() { rename = os.Rename }
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "f")
			os.WriteFile(p, []byte("old"), 0o644)
			if c.setup != nil {
				defer c.setup()()
			}
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						if r != boom {
							t.Fatalf("panic %v", r)
						}
						err = boom
					}
				}()
				err = WriteFunc(p, 0o644, c.write)
			}()
			if !errors.Is(err, boom) {
				t.Fatalf("err = %v", err)
			}
			if got := content(t, p); got != "old" {
				t.Fatalf("old file became %q", got)
			}
			onlyFiles(t, dir, "f")
		})
	}
	t.Run("directory sync", func(t *testing.T) {
		syncDir = func(string) error { return boom }
		defer func() { syncDir = syncDirectory }()
		dir := t.TempDir()
		p := filepath.Join(dir, "f")
		if err := WriteFunc(p, 0o644, writeString("new")); !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		if got := content(t, p); got != "new" {
			t.Fatalf("file holds %q", got)
		}
		onlyFiles(t, dir, "f")
	})
	t.Run("not a regular file", func(t *testing.T) {
		dir := t.TempDir()
		if err := WriteFunc(dir, 0o644, writeString("x")); err == nil {
			t.Fatal("a directory was overwritten")
		}
	})
	t.Run("missing directory", func(t *testing.T) {
		if err := WriteFunc(filepath.Join(t.TempDir(), "no", "f"), 0o644, writeString("x")); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestSyncs(t *testing.T) {
	var files, dirs int
	syncFile = func(f *os.File) error { files++; return f.Sync() }
	syncDir = func(d string) error { dirs++; return syncDirectory(d) }
	defer func() { syncFile, syncDir = (*os.File).Sync, syncDirectory }()
	if err := WriteFunc(filepath.Join(t.TempDir(), "f"), 0o644, writeString("x")); err != nil {
		t.Fatal(err)
	}
	if files != 1 || dirs != 1 {
		t.Fatalf("%d file syncs and %d directory syncs, want 1 and 1", files, dirs)
	}
}

func TestWriteFileBytes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "b")
	if err := WriteFile(p, []byte("bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := content(t, p); got != "bytes" {
		t.Fatalf("content %q", got)
	}
}
