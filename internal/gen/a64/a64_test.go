package a64

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/arch/arm64/arm64asm"
)

// cases returns every encoder function applied to register triples that
// exercise each bit of every register field (V0, V31, V16+ and low
// registers), every lane index and a spread of shift amounts.
func cases() []Inst {
	triples := [][3]int{{0, 0, 0}, {1, 16, 0}, {31, 30, 29}, {5, 17, 8}, {16, 1, 31}, {7, 9, 15}}
	three := []func(d, n, m int) Inst{
		FADD, FSUB, FMUL, FDIV, FMAX, FMIN, FMAXNM, FMINNM, FADDP, FMAXP, FMLA, FMLS,
		FCMEQ, FCMGE, FCMGT, MUL, CMHI, CMHS, CMGT, CMGE, BIC, ORN,
	}
	two := []func(d, n int) Inst{
		FNEG, FABS, FSQRT, SCVTF, UCVTF, FCVTZS, FCVTNS, FRINTN, FRINTM, NOT,
		FCMGTZ, FCMGEZ, FCMLTZ, FMAXV, FMINV, FMAXNMV, FADDPS,
	}
	elem := []func(d, n, m, idx int) Inst{FMLAElem, FMLSElem, FMULElem}
	var out []Inst
	for _, r := range triples {
		for _, f := range three {
			out = append(out, f(r[0], r[1], r[2]))
		}
		for _, f := range two {
			out = append(out, f(r[0], r[1]))
		}
		for _, f := range elem {
			for idx := 0; idx < 4; idx++ {
				out = append(out, f(r[0], r[1], r[2], idx))
			}
		}
		for _, sh := range []int{1, 2, 13, 16, 31, 32} {
			out = append(out, SSHR(r[0], r[1], sh))
		}
	}
	return out
}

func norm(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }

// TestDecodeArm64asm decodes every word with golang.org/x/arch and compares
// the GNU syntax it prints with ours. It needs no external tools.
func TestDecodeArm64asm(t *testing.T) {
	for _, c := range cases() {
		var buf [4]byte
		binary.LittleEndian.PutUint32(buf[:], c.Word)
		inst, err := arm64asm.Decode(buf[:])
		if err != nil {
			t.Errorf("%#08x (%s): decode error %v", c.Word, c.GNU, err)
			continue
		}
		got := norm(arm64asm.GNUSyntax(inst))
		if got != norm(c.GNU) {
			t.Errorf("%#08x: arm64asm says %q, encoder says %q", c.Word, got, c.GNU)
		}
	}
}

// TestGNUAssembler assembles our GNU spellings with aarch64-linux-gnu-as and
// compares the bytes with our words. It is skipped when binutils for
// aarch64 are not installed (apt-get install binutils-aarch64-linux-gnu).
func TestGNUAssembler(t *testing.T) {
	as, err := exec.LookPath("aarch64-linux-gnu-as")
	if err != nil {
		t.Skip("aarch64-linux-gnu-as not installed")
	}
	objcopy, err := exec.LookPath("aarch64-linux-gnu-objcopy")
	if err != nil {
		t.Skip("aarch64-linux-gnu-objcopy not installed")
	}
	cs := cases()
	var src bytes.Buffer
	src.WriteString(".text\n")
	for _, c := range cs {
		fmt.Fprintf(&src, "\t%s\n", c.GNU)
	}
	dir := t.TempDir()
	s, o, bin := filepath.Join(dir, "x.s"), filepath.Join(dir, "x.o"), filepath.Join(dir, "x.bin")
	if err := os.WriteFile(s, src.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(as, "-o", o, s).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", as, err, out)
	}
	if out, err := exec.Command(objcopy, "-O", "binary", "-j", ".text", o, bin).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", objcopy, err, out)
	}
	code, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if len(code) != 4*len(cs) {
		t.Fatalf("assembled %d bytes, want %d", len(code), 4*len(cs))
	}
	for i, c := range cs {
		if w := binary.LittleEndian.Uint32(code[4*i:]); w != c.Word {
			t.Errorf("%s: GNU as gives %#08x, encoder %#08x", c.GNU, w, c.Word)
		}
	}
	t.Logf("%d instructions match GNU as", len(cs))
}

func TestRangePanics(t *testing.T) {
	for name, f := range map[string]func(){
		"reg":   func() { FADD(32, 0, 0) },
		"neg":   func() { FADD(0, -1, 0) },
		"idx":   func() { FMLAElem(0, 0, 0, 4) },
		"shift": func() { SSHR(0, 0, 0) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func TestString(t *testing.T) {
	if got, want := FMIN(1, 16, 0).String(), "WORD $0x4ea0f601 // fmin v1.4s, v16.4s, v0.4s"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
