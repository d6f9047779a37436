// Package atomicfile writes files atomically and durably: a reader sees
// either the old content or the complete new content, never a prefix, and
// once a write returns nil the new content survives a power loss.
//
// WriteFile and WriteFunc write into a new temporary file in the
// destination's directory (created with O_EXCL under a random name), fsync
// it, rename it over the destination and fsync the directory (on platforms
// where directories can be synced: every Unix; elsewhere the rename is the
// last step). They keep an existing file's permission bits, write through
// a symbolic link to its target instead of replacing the link, and remove
// the temporary file on every error path, a panic in the caller's write function included.
//
// The functions are safe for concurrent use; concurrent writers of one path
// leave one of their complete contents (the last rename wins).
//
// Ownership, extended attributes and hard links of an existing destination
// are not carried over: the renamed file is a new inode owned by the
// writer, as with any rename-based save.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// maxLinks bounds how many symbolic links WriteFile follows (Linux's
// MAXSYMLINKS is 40).
const maxLinks = 40

// Hooks for fault-injection tests.
var (
	syncFile = (*os.File).Sync
	rename   = os.Rename
	syncDir  = syncDirectory
)

// WriteFile is os.WriteFile made atomic and durable: it replaces (or
// creates) the file at path with data; see WriteFunc.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return WriteFunc(path, perm, func(w io.Writer) error { _, err := w.Write(data); return err })
}

// WriteFunc atomically replaces (or creates) the file at path with what
// write writes, then makes the result durable; see the package comment.
//
// A new file gets perm, reduced by the process's umask as with os.WriteFile.
// An existing file keeps its own permission bits (perm is ignored). When
// path is a symbolic link (or a chain of them), the final target is written
// and the links stay; a dangling link creates its target.
//
// On any error — from write, from the file system, or a panic in write,
// which WriteFunc lets continue after cleaning up — the destination is left
// as it was and no temporary file remains (except when the final directory
// sync fails: the new file is then in place but may not survive a crash,
// and the error says so).
func WriteFunc(path string, perm fs.FileMode, write func(w io.Writer) error) (err error) {
	target, err := resolve(path)
	if err != nil {
		return err
	}
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	var keep fs.FileMode // mode of an existing destination
	exists := false
	if fi, err := os.Stat(target); err == nil {
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("atomicfile: %s is not a regular file (%v)", target, fi.Mode().Type())
		}
		keep, exists = fi.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky), true
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	createPerm := perm.Perm()
	if exists {
		createPerm = 0o600 // widened (or narrowed) to keep below, never visible wider meanwhile
	}
	f, tmp, err := createTemp(dir, base, createPerm)
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done { // error or panic: leave nothing behind
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := write(f); err != nil {
		return err
	}
	if exists {
		if err := f.Chmod(keep); err != nil {
			return err
		}
	}
	if err := syncFile(f); err != nil {
		return fmt.Errorf("atomicfile: syncing %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := rename(tmp, target); err != nil {
		return err
	}
	done = true
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("atomicfile: %s was written but syncing its directory failed (it may not survive a crash): %w", target, err)
	}
	return nil
}

// resolve follows symbolic links from path to the file they name, which
// may not exist yet.
func resolve(path string) (string, error) {
	p := path
	for range maxLinks {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return p, nil
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return p, nil
		}
		t, err := os.Readlink(p)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(t) {
			t = filepath.Join(filepath.Dir(p), t)
		}
		p = t
	}
	return "", fmt.Errorf("atomicfile: %s: too many levels of symbolic links", path)
}

// createTemp creates a new file ".base.tmp-<random>" in dir with O_EXCL.
func createTemp(dir, base string, perm fs.FileMode) (*os.File, string, error) {
	for range 10000 {
		name := filepath.Join(dir, "."+base+".tmp-"+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if err == nil {
			return f, name, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, "", err
		}
	}
	return nil, "", fmt.Errorf("atomicfile: cannot create a temporary file in %s", dir)
}
