// Command rows generates the AVX2 and AVX-512 versions of every non-GEMM
// kernel of package kernels (elementwise ops, exp, GELU, reductions,
// dropout, softmax and layernorm rows) into kernels/amd64.
//
// Each kernel is written once against a tier (tier.go) and emitted twice:
// NameAVX2 (YMM, VMASKMOVPS tails) and NameAVX512 (ZMM, K-masked tails). Every
// function executes exactly the IEEE operations of the pure-Go reference in
// package kernels (kernels/CANONICAL.md), so all backends return the same
// bits: FMA exactly where the reference calls fma32, the fixed 32-lane
// reduction layout (lane l = element index mod 32, in index order, then the
// fixed tree), +0 padding of partial blocks, no approximate reciprocals.
//
// Run through go generate in kernels/amd64 (see its doc.go).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	. "github.com/mmcloughlin/avo/build"
)

func main() {
	if err := dryRun(); err != nil {
		fmt.Fprintln(os.Stderr, "rows:", err)
		os.Exit(1)
	}
	ConstraintExpr("!purego")
	for _, t := range []*tier{newAVX2(), newAVX512()} {
		t.genElementwise()
		t.genReduce()
		t.genDropout()
		t.genSoftmax()
		t.genAttention()
		t.genLayerNorm()
		t.genAdam()
	}
	Generate()
	if err := checkAVX2Registers(flag.Lookup("out").Value.String()); err != nil {
		fmt.Fprintln(os.Stderr, "rows:", err)
		os.Exit(1)
	}
}

// dryRun runs this generator once more into a temporary directory and
// reports whether that succeeded. Avo truncates the -out and -stubs files as
// soon as it parses its flags, so a failure inside Generate (say, register
// allocation) would leave empty files and a package that no longer compiles
// for everyone sharing the tree; the dry run keeps the old outputs instead.
func dryRun() error {
	if os.Getenv("ROWS_DRY_RUN") != "" {
		return nil
	}
	dir, err := os.MkdirTemp("", "rows")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, "-out", filepath.Join(dir, "rows.s"), "-stubs", filepath.Join(dir, "stubs.go"), "-pkg", "amd64")
	cmd.Env = append(os.Environ(), "ROWS_DRY_RUN=1")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("generation failed (%v); outputs left untouched", err)
	}
	return nil
}

// checkAVX2Registers fails when an AVX2 function of the generated file names
// a ZMM, opmask or X/Y16-31 register. Avo's allocator treats YMM as a
// 32-register file, so a function with more than 16 live vectors silently
// gets EVEX-only registers that fault on CPUs without AVX-512.
func checkAVX2Registers(path string) error {
	if path == "" || path == "-" {
		return nil
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	bad := regexp.MustCompile(`\b([XY](1[6-9]|2[0-9]|3[01])|Z[0-9]+|K[0-7])\b`)
	fn := ""
	for i, line := range strings.Split(string(src), "\n") {
		if strings.HasPrefix(line, "TEXT ") {
			fn = line
			continue
		}
		if strings.Contains(fn, "AVX2(SB)") && bad.MatchString(line) {
			return fmt.Errorf("%s:%d: AVX2 function uses an AVX-512 register (too many live vectors): %s",
				path, i+1, strings.TrimSpace(line))
		}
	}
	return nil
}
