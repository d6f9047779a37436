package chart

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/simdformer/simdformer/bench/internal/report"
	"github.com/simdformer/simdformer/bench/internal/schema"
)

// fixture is a fake two-case results file (never committed).
func fixture(label, backend string, scale float64) *schema.File {
	rec := func(cs, impl, unit string, rate, frac float64) schema.Record {
		ns := 1000 / rate
		return schema.Record{Case: cs, Group: "g", Impl: impl, Threads: 1, Unit: unit, Work: 1000, Reps: 1, Iters: 1,
			NsPerOp: schema.Stats{Median: ns, Min: ns, Max: ns}, Rate: schema.Stats{Median: rate, Min: rate, Max: rate},
			PeakFraction: frac}
	}
	return &schema.File{Format: schema.Format, Version: schema.Version, Label: label,
		Machine: schema.Machine{CPU: label, Backend: backend, Backends: []string{backend, "purego"}},
		Records: []schema.Record{
			rec("gemm/a", backend, schema.GFLOPS, 100*scale, 0.9), rec("gemm/a", "gonum", schema.GFLOPS, 10*scale, 0.09),
			rec("softmax/b", backend, schema.GBps, 30*scale, 0.3),
		}}
}

func TestWritePNG(t *testing.T) {
	c := report.Compare([]*schema.File{fixture("cpu one", "avx2", 1), fixture("cpu two", "neon", 0.7)}, report.CompareOptions{})
	path := filepath.Join(t.TempDir(), "cmp.png")
	if err := WritePNG(path, c); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 500 || b.Dy() < 500 {
		t.Errorf("image is only %v", b)
	}
}

func TestWritePNGErrors(t *testing.T) {
	dir := t.TempDir()
	c := report.Compare([]*schema.File{fixture("x", "avx2", 1)}, report.CompareOptions{})
	if err := WritePNG(filepath.Join(dir, "out.svg"), c); err == nil {
		t.Error("accepted .svg")
	}
	empty := report.Compare([]*schema.File{{Format: schema.Format, Version: schema.Version}}, report.CompareOptions{})
	if err := WritePNG(filepath.Join(dir, "empty.png"), empty); err == nil {
		t.Error("drew an empty comparison")
	}
}

func TestPeakPanelSkipsUnknownPeaks(t *testing.T) {
	f := fixture("nopeak", "avx2", 1)
	for i := range f.Records {
		f.Records[i].PeakFraction = 0
	}
	c := report.Compare([]*schema.File{f}, report.CompareOptions{})
	ss := []series{{label: "a", file: 0, impl: 0}}
	ps := panels(c, ss)
	if len(ps) != 3 {
		t.Fatalf("got %d panels, want 3", len(ps))
	}
	if len(ps[0].cases) != 1 || len(ps[1].cases) != 1 {
		t.Errorf("rate panels have %d and %d cases, want 1 and 1", len(ps[0].cases), len(ps[1].cases))
	}
	if len(ps[2].cases) != 0 {
		t.Errorf("peak panel of a run without peaks has cases %q", ps[2].cases)
	}
	if err := WritePNG(filepath.Join(t.TempDir(), "nopeak.png"), c); err != nil {
		t.Fatal(err)
	}
	// With peaks known, the panel keeps them.
	c = report.Compare([]*schema.File{fixture("peak", "avx2", 1)}, report.CompareOptions{})
	if ps := panels(c, ss); len(ps[2].cases) != 2 || ps[2].values[0][0] != 90 {
		t.Errorf("peak panel %q %v, want 2 cases, first 90%%", ps[2].cases, ps[2].values)
	}
}

// TestLabelsInsideImage draws a comparison with long case names (the
// transformer cases) and checks that nothing is drawn in the outermost
// columns of the image: a clipped label would touch the edge.
func TestLabelsInsideImage(t *testing.T) {
	f := fixture("cpu one", "avx512", 1)
	long := f.Records[0]
	long.Case = "transformer/block-32x128x512/forward-backward"
	f.Records = append(f.Records, long)
	mem := f.Records[2]
	mem.Case = "layernorm-backward/128x512"
	f.Records = append(f.Records, mem)
	c := report.Compare([]*schema.File{f, fixture("a second CPU with a long name", "neon", 0.5)}, report.CompareOptions{})
	path := filepath.Join(t.TempDir(), "labels.png")
	if err := WritePNG(path, c); err != nil {
		t.Fatal(err)
	}
	r, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	img, err := png.Decode(r)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	const edge = 3 // pixels
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for _, x := range []int{b.Min.X, b.Min.X + edge - 1, b.Max.X - edge, b.Max.X - 1} {
			if r, g, bl, _ := img.At(x, y).RGBA(); r != 0xffff || g != 0xffff || bl != 0xffff {
				t.Fatalf("pixel (%d, %d) at the edge of the %v image is not white: a label is clipped", x, y, b)
			}
		}
	}
}
