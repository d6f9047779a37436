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
