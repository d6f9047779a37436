package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/arch/arm64/arm64asm"
)

const outDir = "../../kernels/arm64"

// generated runs the generator with the arguments of the //go:generate line
// in kernels/arm64/doc.go.
func generated(t *testing.T) (asm, stubs []byte, outName, stubsName string) {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(outDir, "doc.go"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^//go:generate go run \S*internal/gen (.*)$`).FindSubmatch(doc)
	if m == nil {
		t.Fatal("kernels/arm64/doc.go has no //go:generate line for internal/gen")
	}
	args := strings.Fields(string(m[1]))
	outName, stubsName, pkg := "neon_arm64.s", "neon_stubs_arm64.go", "arm64"
	for i := 0; i+1 < len(args); i += 2 {
		switch args[i] {
		case "-out":
			outName = args[i+1]
		case "-stubs":
			stubsName = args[i+1]
		case "-pkg":
			pkg = args[i+1]
		}
	}
	asm, stubs, err = generate(pkg, string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	return asm, stubs, outName, stubsName
}

// TestUpToDate fails when the committed assembly or stubs differ from what
// the generator writes now (run `go generate ./kernels/arm64`).
func TestUpToDate(t *testing.T) {
	asm, stubs, outName, stubsName := generated(t)
	for name, want := range map[string][]byte{outName: asm, stubsName: stubs} {
		got, err := os.ReadFile(filepath.Join(outDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("kernels/arm64/%s is stale: run `go generate ./kernels/arm64`", name)
		}
	}
}

// TestDeterministic generates twice and compares.
func TestDeterministic(t *testing.T) {
	a1, s1, err := generate("arm64", "x")
	if err != nil {
		t.Fatal(err)
	}
	a2, s2, _ := generate("arm64", "x")
	if !bytes.Equal(a1, a2) || !bytes.Equal(s1, s2) {
		t.Fatal("two runs of the generator differ")
	}
}

// TestAssemblyDiscipline checks the generated text: no reserved registers
// (R18 platform, R26-R30 Go/ABI), no approximate reciprocal instructions,
// and every WORD's comment is what golang.org/x/arch decodes it to.
func TestAssemblyDiscipline(t *testing.T) {
	asm, _, _, _ := generated(t)
	reserved := regexp.MustCompile(`\bR(18|2[6-9]|30)\b`)
	word := regexp.MustCompile(`^\tWORD \$0x([0-9a-f]{8}) // (.*)$`)
	words, funcs := 0, 0
	for i, line := range strings.Split(string(asm), "\n") {
		if strings.HasPrefix(line, "TEXT ") {
			funcs++
		}
		code, _, _ := strings.Cut(line, "//")
		if m := reserved.FindString(code); m != "" {
			t.Errorf("line %d uses reserved register %s: %s", i+1, m, line)
		}
		if l := strings.ToLower(line); strings.Contains(l, "frecpe") || strings.Contains(l, "frsqrte") ||
			strings.Contains(l, "frecps") || strings.Contains(l, "frsqrts") {
			t.Errorf("line %d uses an approximate reciprocal: %s", i+1, line)
		}
		m := word.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		words++
		w, _ := strconv.ParseUint(m[1], 16, 32)
		var buf [4]byte
		binary.LittleEndian.PutUint32(buf[:], uint32(w))
		inst, err := arm64asm.Decode(buf[:])
		if err != nil {
			t.Errorf("line %d: %v", i+1, err)
			continue
		}
		if got := arm64asm.GNUSyntax(inst); got != m[2] {
			t.Errorf("line %d: WORD decodes to %q, comment says %q", i+1, got, m[2])
		}
	}
	if funcs != 26 {
		t.Errorf("%d functions, want 26 (one per impl entry)", funcs)
	}
	t.Logf("%d functions, %d WORD instructions checked", funcs, words)
}

func TestLayout(t *testing.T) {
	for sig, want := range map[string]int{
		"func(x []float32) float32": 28,
		"func(dst, src, gamma, beta []float32, eps float32) (mean, rstd float32)": 112,
		"func(kc int, a, b, c []float32, ldc int, load bool)":                     89,
		"func(dst, src []float32, k0, k1, lo, thr uint32, scale float32)":         68,
	} {
		if got := layout(sig, map[string]arg{}); got != want {
			t.Errorf("%s: arg size %d, want %d", sig, got, want)
		}
	}
}
