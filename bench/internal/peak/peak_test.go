package peak

import (
	"testing"
	"time"

	"github.com/simdformer/simdformer/bench/internal/schema"
)

func TestCopyKernels(t *testing.T) {
	for _, k := range copyKernels {
		for _, n := range []int{0, 1, k.block - 1, k.block, 3*k.block + 5, 1000} {
			src := make([]float32, n)
			for i := range src {
				src[i] = float32(i + 1)
			}
			dst := make([]float32, n+1)
			k.run(dst, src)
			want := n / k.block * k.block
			for i := 0; i < want; i++ {
				if dst[i] != src[i] {
					t.Fatalf("%s n=%d: dst[%d] = %v, want %v", k.isa, n, i, dst[i], src[i])
				}
			}
			for i := want; i <= n; i++ {
				if dst[i] != 0 {
					t.Fatalf("%s n=%d: wrote dst[%d] = %v past the copied part", k.isa, n, i, dst[i])
				}
			}
		}
	}
}

func TestClockKernel(t *testing.T) {
	if clockKernel == nil {
		t.Skip("no assembly kernels in this build")
	}
	for _, iters := range []int{0, 1, 1000} {
		if got := clockKernel(iters); got != uint64(16*iters) {
			t.Errorf("addChain(%d) = %d, want %d", iters, got, 16*iters)
		}
	}
}

func TestFMAKernelsRun(t *testing.T) {
	for _, k := range fmaKernels {
		k.run(0)
		k.run(10)
	}
	fmaGo(10)
	if sink == 0 {
		t.Error("scalar estimate computed nothing")
	}
}

func TestLevels(t *testing.T) {
	c := schema.Cache{L1D: 32 << 10, L2: 1 << 20, L3: 32 << 20}
	lv := Levels(c, 1)
	names := ""
	for i, l := range lv {
		names += l.Name + " "
		if l.Bytes%512 != 0 || l.Bytes <= 0 {
			t.Errorf("%s: %d bytes is not a positive multiple of 512", l.Name, l.Bytes)
		}
		if i > 0 && l.Bytes <= lv[i-1].Bytes {
			t.Errorf("%s (%d) not larger than %s (%d)", l.Name, l.Bytes, lv[i-1].Name, lv[i-1].Bytes)
		}
	}
	if names != "L1 L2 L3 DRAM " {
		t.Errorf("levels %q, want L1 L2 L3 DRAM", names)
	}
	if lv[0].Bytes != 16<<10 || lv[1].Bytes != 512<<10 || lv[2].Bytes != 16<<20 || lv[3].Bytes != 128<<20 {
		t.Errorf("sizes %+v", lv)
	}
	// L3 too small to share among 16 threads: no L3 level.
	if lv := Levels(c, 16); len(lv) != 3 || lv[2].Name != "DRAM" {
		t.Errorf("16 threads: %+v", lv)
	}
	// Unknown caches get defaults.
	if lv := Levels(schema.Cache{}, 1); lv[0].Bytes != 16<<10 || lv[1].Bytes != 512<<10 || lv[len(lv)-1].Bytes != 64<<20 {
		t.Errorf("defaults: %+v", lv)
	}
}

func TestMeasureQuick(t *testing.T) {
	p := Measure(Options{Threads: []int{1, 2}, Reps: 1, MinTime: time.Millisecond,
		Cache: schema.Cache{L1D: 32 << 10, L2: 256 << 10, L3: 0}})
	if len(p.FMA) != 2*len(ISAs()) {
		t.Errorf("got %d FMA peaks for ISAs %v at 2 thread counts", len(p.FMA), ISAs())
	}
	for _, f := range p.FMA {
		if !(f.GFLOPS > 0) {
			t.Errorf("FMA peak %+v not positive", f)
		}
	}
	if len(p.Copy) != 2*3 { // L1, L2, DRAM at 2 thread counts
		t.Errorf("copy peaks %+v", p.Copy)
	}
	for _, c := range p.Copy {
		if !(c.GBps > 0) {
			t.Errorf("copy peak %+v not positive", c)
		}
	}
	if clockKernel != nil && !(p.ClockGHz > 0.05 && p.ClockGHz < 10) {
		t.Errorf("clock %.3f GHz implausible", p.ClockGHz)
	}
}

func TestLevelsHugeL3(t *testing.T) {
	// Virtual machines sometimes report the host's whole L3.
	lv := Levels(schema.Cache{L1D: 48 << 10, L2: 2 << 20, L3: 480 << 20}, 2)
	if lv[2].Name != "L3" || lv[2].Bytes != 64<<20 || lv[3].Bytes != 256<<20 {
		t.Errorf("%+v", lv)
	}
}

// sweepOf builds a synthetic sweep with the given bandwidth per working set.
func sweepOf(bw func(bytes int64) float64) []schema.CopyPeak {
	var out []schema.CopyPeak
	for b := int64(8 << 10); b <= 256<<20; b *= 2 {
		for _, x := range []int64{b, b * 1448 / 1024} {
			out = append(out, schema.CopyPeak{Bytes: x, Threads: 1, GBps: bw(x)})
		}
	}
	return out
}

func TestKneesAndFillCaches(t *testing.T) {
	// A 48 KiB L1, 1 MiB L2, 32 MiB L3, then DRAM, with a little noise and
	// a gradual fall past each cache.
	hier := func(b int64) float64 {
		noise := 1 + 0.03*float64((b>>10)%7)/7
		switch {
		case b <= 48<<10:
			return 480 * noise
		case b <= 1<<20:
			return 110 * noise
		case b <= 3<<19:
			return 60 // half in L2
		case b <= 32<<20:
			return 30 * noise
		case b <= 48<<20:
			return 20
		}
		return 13 * noise
	}
	s := sweepOf(hier)
	knees := Knees(s)
	if len(knees) != 3 {
		t.Fatalf("knees %v, want 3", knees)
	}
	for i, want := range []int64{48 << 10, 1 << 20, 32 << 20} {
		if knees[i] < want*2/3 || knees[i] > want*3/2 {
			t.Errorf("knee %d at %d bytes, want about %d", i, knees[i], want)
		}
	}
	// cpuid knew L1 and L2 but not L3 (this VM): only L3 is measured.
	c := FillCaches(schema.Cache{L1D: 48 << 10, L2: 1 << 20}, s)
	if c.L2 != 1<<20 || c.L3 < 20<<20 || c.L3 > 48<<20 || len(c.Measured) != 1 || c.Measured[0] != "l3" {
		t.Errorf("FillCaches: %+v", c)
	}
	// Nothing known but L1: L2 and L3 measured.
	c = FillCaches(schema.Cache{L1D: 48 << 10}, s)
	if c.L2 < 700<<10 || c.L2 > 1500<<10 || c.L3 < 20<<20 || len(c.Measured) != 2 {
		t.Errorf("FillCaches without L2: %+v", c)
	}
	// No L3 (L2 straight to DRAM): L3 stays unknown rather than invented.
	noL3 := sweepOf(func(b int64) float64 {
		switch {
		case b <= 64<<10:
			return 400
		case b <= 2<<20:
			return 100
		}
		return 15
	})
	if c := FillCaches(schema.Cache{L1D: 64 << 10, L2: 2 << 20}, noL3); c.L3 != 0 || len(c.Measured) != 0 {
		t.Errorf("no L3: %+v", c)
	}
}

func TestSweepRuns(t *testing.T) {
	s := sweep(Options{Reps: 1, MinTime: time.Millisecond}, 8<<10, 64<<10)
	if len(s) < 5 {
		t.Fatalf("sweep has %d points", len(s))
	}
	for i, p := range s {
		if !(p.GBps > 0) || p.Bytes%512 != 0 || (i > 0 && p.Bytes <= s[i-1].Bytes) {
			t.Errorf("point %d: %+v", i, p)
		}
	}
}
