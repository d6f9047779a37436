//go:build amd64 && !purego

package kernels

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/cpuid/v2"
)

// avoISA maps the ISA names Avo writes in "// Requires:" comments to cpuid
// features. Names missing here fail the test (add them when Avo starts
// emitting them).
var avoISA = map[string]cpuid.FeatureID{
	"AVX": cpuid.AVX, "AVX2": cpuid.AVX2, "FMA3": cpuid.FMA3, "F16C": cpuid.F16C,
	"AVX512F": cpuid.AVX512F, "AVX512BW": cpuid.AVX512BW, "AVX512DQ": cpuid.AVX512DQ,
	"AVX512VL": cpuid.AVX512VL, "AVX512CD": cpuid.AVX512CD, "AVX512VNNI": cpuid.AVX512VNNI,
	"AVX512BF16": cpuid.AVX512BF16, "BMI": cpuid.BMI1, "BMI2": cpuid.BMI2, "LZCNT": cpuid.LZCNT,
	"POPCNT": cpuid.POPCNT, "SSE3": cpuid.SSE3, "SSSE3": cpuid.SSSE3, "SSE4.1": cpuid.SSE4,
	"SSE4.2": cpuid.SSE42, "MOVBE": cpuid.MOVBE,
}

// amd64Baseline are the ISAs every amd64 CPU has (GOAMD64=v1). Avo files
// PREFETCHT0/T1/T2/NTA under "MMX+" (AMD's name for that SSE subset).
var amd64Baseline = []string{"SSE", "SSE2", "CMOV", "MMX+"}

// TestRequiresWithinTier checks every generated amd64 function against the
// cpuid gate of the tier that calls it: the features in Avo's "// Requires:"
// comment of a function named *AVX2 must all be in avx2Features, of one named
// *AVX512 in avx512Features, and of any other (shared helpers) in both.
//
// Avo derives that comment from the instruction forms before register
// allocation, so it says "AVX" for a VEX-looking packed op on X/Y registers
// that the allocator then numbered 16-31, which only exists as an EVEX
// encoding (AVX512VL). The test adds AVX512VL for such lines (and AVX512F for
// scalar ones), and rejects any Z or K register outside *AVX512 functions.
func TestRequiresWithinTier(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("amd64", "*.s"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no generated assembly in kernels/amd64 (%v)", err)
	}
	highXY := regexp.MustCompile(`\b[XY](1[6-9]|2[0-9]|3[01])\b`)
	zk := regexp.MustCompile(`\b(Z[0-9]+|K[1-7])\b`)
	total := 0
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(src), "\n")
		var (
			fn       string
			requires []string // of fn
			pending  []string // the last Requires comment, for the next TEXT
			extra    map[string]bool
		)
		finish := func() {
			if fn == "" {
				return
			}
			total++
			var allowed [][]cpuid.FeatureID
			var tierName string
			switch {
			case strings.HasSuffix(fn, "AVX512"):
				tierName, allowed = "avx512Features", [][]cpuid.FeatureID{avx512Features}
			case strings.HasSuffix(fn, "AVX2"):
				tierName, allowed = "avx2Features", [][]cpuid.FeatureID{avx2Features}
			default:
				tierName, allowed = "avx2Features and avx512Features", [][]cpuid.FeatureID{avx2Features, avx512Features}
			}
			need := slices.Clone(requires)
			for isa := range extra {
				need = append(need, isa)
			}
			for _, isa := range need {
				if slices.Contains(amd64Baseline, isa) {
					continue
				}
				id, ok := avoISA[isa]
				if !ok {
					t.Errorf("%s: %s needs ISA %q, which this test cannot map to a cpuid feature", filepath.Base(file), fn, isa)
					continue
				}
				for _, list := range allowed {
					if !slices.Contains(list, id) {
						t.Errorf("%s: %s needs %s, which is not in %s (dispatch_amd64.go)", filepath.Base(file), fn, isa, tierName)
					}
				}
			}
		}
		for _, line := range lines {
			switch {
			case strings.HasPrefix(line, "// Requires:"):
				pending = nil
				for _, isa := range strings.Split(strings.TrimPrefix(line, "// Requires:"), ",") {
					pending = append(pending, strings.TrimSpace(isa))
				}
			case strings.HasPrefix(line, "TEXT "):
				finish()
				fn = strings.TrimPrefix(strings.Fields(line)[1], "·")
				fn = fn[:strings.Index(fn, "(")]
				requires, pending = pending, nil
				extra = map[string]bool{}
			case strings.HasPrefix(line, "\t") && fn != "":
				code := strings.TrimSpace(line)
				if strings.HasPrefix(code, "//") {
					continue
				}
				if zk.MatchString(code) {
					if !strings.HasSuffix(fn, "AVX512") {
						t.Errorf("%s: %s (not an AVX-512 function) uses a ZMM or opmask register: %s", filepath.Base(file), fn, code)
					}
					extra["AVX512F"] = true
				}
				if highXY.MatchString(code) {
					op := strings.Fields(code)[0]
					if strings.HasSuffix(op, "SS") || strings.HasSuffix(op, "SD") {
						extra["AVX512F"] = true // EVEX scalar form
					} else {
						extra["AVX512VL"] = true // EVEX 128/256-bit form
					}
				}
			}
		}
		finish()
	}
	if total == 0 {
		t.Fatal("no TEXT symbols found")
	}
	t.Logf("checked %d functions in %d files", total, len(files))
}

// TestNoLegacySSE rejects legacy-SSE instructions (Avo's "SSE"/"SSE2" in a
// Requires comment: MOVSS, CVTSQ2SS, ... as written by Avo's Load/Store of a
// float32 argument) in the generated AVX code. Mixing them with dirty upper
// vector state costs a state-transition penalty or a false dependency:
// measured on Zen 4, one MOVSS made LayerNormRowAVX512 2.9× slower. Use the
// VEX forms (VMOVSS, VCVTSI2SSQ, ...).
func TestNoLegacySSE(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("amd64", "*.s"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no generated assembly in kernels/amd64 (%v)", err)
	}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var requires string
		for _, line := range strings.Split(string(src), "\n") {
			if r, ok := strings.CutPrefix(line, "// Requires:"); ok {
				requires = r
				continue
			}
			if !strings.HasPrefix(line, "TEXT ") {
				continue
			}
			isas := strings.Split(requires, ",")
			requires = ""
			var avx, sse bool
			for _, isa := range isas {
				switch strings.TrimSpace(isa) {
				case "AVX", "AVX2", "AVX512F":
					avx = true
				case "SSE", "SSE2", "SSE3", "SSSE3", "SSE4.1", "SSE4.2":
					sse = true
				}
			}
			if avx && sse {
				t.Errorf("%s: %s mixes legacy SSE with AVX instructions", filepath.Base(file), strings.Fields(line)[1])
			}
		}
	}
}
