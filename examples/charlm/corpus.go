package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// corpusPackages are the standard-library directories whose Go source is
// read, in order, until the corpus reaches its size limit. Every machine
// with a Go toolchain has them under $GOROOT/src.
var corpusPackages = []string{
	"strings", "bytes", "sort", "strconv", "unicode/utf8", "bufio", "fmt",
	"errors", "container/list", "container/heap", "path", "text/tabwriter",
	"encoding/csv", "encoding/hex", "math/bits", "io", "slices", "maps",
}

// readCorpus concatenates the non-test .go files of corpusPackages (file
// names sorted, so the text is the same on every run) until maxBytes.
func readCorpus(goroot string, maxBytes int) ([]byte, error) {
	if goroot == "" {
		goroot = runtime.GOROOT()
	}
	var out []byte
	for _, pkg := range corpusPackages {
		dir := filepath.Join(goroot, "src", filepath.FromSlash(pkg))
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue // an older or trimmed toolchain may lack a package
		}
		names := make([]string, 0, len(entries))
		for _, e := range entries {
			n := e.Name()
			if e.Type().IsRegular() && strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		for _, n := range names {
			b, err := os.ReadFile(filepath.Join(dir, n))
			if err != nil {
				return nil, err
			}
			out = append(out, b...)
			if len(out) >= maxBytes {
				return out[:maxBytes], nil
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no Go source found under %s: %w", filepath.Join(goroot, "src"), fs.ErrNotExist)
	}
	return out, nil
}

// vocab maps bytes to token ids and back. Bytes outside printable ASCII,
// tab and newline are folded into one "other" token.
type vocab struct {
	toID   [256]int
	toByte []byte
}

const otherByte = '?'

func newVocab(text []byte) *vocab {
	var seen [256]bool
	for _, c := range text {
		seen[fold(c)] = true
	}
	seen[otherByte] = true
	v := &vocab{}
	for c := range 256 {
		if seen[c] {
			v.toID[c] = len(v.toByte)
			v.toByte = append(v.toByte, byte(c))
		}
	}
	for c := range 256 {
		v.toID[c] = v.toID[fold(byte(c))]
	}
	return v
}

func fold(c byte) byte {
	if c == '\n' || c == '\t' || (c >= ' ' && c < 0x7f) {
		return c
	}
	return otherByte
}

func (v *vocab) size() int { return len(v.toByte) }

func (v *vocab) encode(text []byte) []int {
	ids := make([]int, len(text))
	for i, c := range text {
		ids[i] = v.toID[c]
	}
	return ids
}

func (v *vocab) decode(ids []int) string {
	var sb strings.Builder
	for _, id := range ids {
		sb.WriteByte(v.toByte[id])
	}
	return sb.String()
}
