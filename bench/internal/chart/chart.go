// Package chart draws a comparison of results files as a PNG: horizontal
// grouped bars, one group per case and one bar per file and implementation,
// in three panels: GFLOP/s, GB/s, and the fraction of the machine's peak
// (FMA throughput or copy bandwidth), which is what makes different CPUs
// comparable.
package chart

import (
	"fmt"
	"image/color"
	"io"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/simdformer/simdformer/bench/internal/report"
	"github.com/simdformer/simdformer/bench/internal/schema"
	"github.com/simdformer/simdformer/internal/atomicfile"
)

// series is one bar colour: one file under one implementation.
type series struct {
	label      string
	file, impl int // index into c.Files, c.Impls
}

// panel is one bar chart of the figure.
type panel struct {
	title, xlabel string
	cases         []string
	values        [][]float64 // [series][case]
}

const (
	width     = 11 * vg.Inch
	barHeight = 7 * vg.Millimeter / 2
	minPanel  = 1.6 * vg.Inch
	// Margins around each panel, so that no label touches the image edge.
	leftMargin  = 8 * vg.Millimeter
	rightMargin = 4 * vg.Millimeter
)

// WritePNG draws c to a PNG file at path.
func WritePNG(path string, c *report.Comparison) error {
	if !strings.EqualFold(filepath.Ext(path), ".png") {
		return fmt.Errorf("plot %s: only .png is supported", path)
	}
	var ss []series
	for fi := range c.Files {
		for ii, impl := range c.Impls {
			label := fmt.Sprintf("[%c] %s: %s", 'A'+rune(fi%26), c.Labels[fi], report.ImplLabel(impl, []string{c.Files[fi].Machine.Backend}))
			ss = append(ss, series{label: label, file: fi, impl: ii})
		}
	}
	// Keep series with at least one value.
	var kept []series
	for _, s := range ss {
		for i := range c.Rows {
			if r := &c.Rows[i]; r.Impl == c.Impls[s.impl] && r.Cells[s.file] != nil {
				kept = append(kept, s)
				break
			}
		}
	}
	ss = kept
	if len(ss) == 0 {
		return fmt.Errorf("plot %s: nothing to draw", path)
	}
	panels := panels(c, ss)
	legendH := vg.Length(len(ss))*16 + 24
	heights := []vg.Length{legendH}
	total := legendH
	for _, p := range panels {
		h := vg.Length(0)
		if len(p.cases) > 0 {
			h = max(minPanel, vg.Length(len(p.cases))*(vg.Length(len(ss))*barHeight+6)+80)
		}
		heights = append(heights, h)
		total += h
	}
	img := vgimg.New(width, total)
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())

	// Legend: one entry per series, at the top left.
	leg := plot.NewLegend()
	leg.Top, leg.Left = true, true
	leg.XOffs, leg.YOffs = 12, -10
	for si, s := range ss {
		bc, err := plotter.NewBarChart(plotter.Values{0}, barHeight)
		if err != nil {
			return err
		}
		bc.Color = plotutil.Color(si)
		bc.LineStyle.Width = 0
		leg.Add(s.label, bc)
	}
	leg.Draw(draw.Crop(dc, 0, 0, total-legendH, 0))

	top := legendH
	for i, p := range panels {
		h := heights[i+1]
		if h == 0 {
			continue
		}
		pl, err := p.plot(ss)
		if err != nil {
			return err
		}
		// gonum/plot reserves a little less room than the widest case name
		// takes on the left; the margin keeps every name inside the image
		// (TestLabelsInsideImage).
		pl.Draw(draw.Crop(dc, leftMargin, -rightMargin, total-top-h, -top-12))
		top += h
	}
	return atomicfile.WriteFunc(path, 0o644, func(w io.Writer) error {
		_, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w)
		return err
	})
}

// panels builds the three panels of the figure: GFLOP/s, GB/s and the
// fraction of peak (only the cells whose peak is known).
func panels(c *report.Comparison, ss []series) []panel {
	return []panel{
		build(c, ss, "Compute-bound kernels", "GFLOP/s (higher is better)", func(r *report.Row, cell *report.Cell) (float64, bool) {
			return cell.Rate, r.Unit == schema.GFLOPS
		}),
		build(c, ss, "Memory-bound kernels", "GB/s, bytes read + written (higher is better)", func(r *report.Row, cell *report.Cell) (float64, bool) {
			return cell.Rate, r.Unit == schema.GBps
		}),
		build(c, ss, "Fraction of this CPU's peak", "% of FMA peak (GFLOP/s cases) or of copy bandwidth at the working set's memory level (GB/s cases)",
			func(r *report.Row, cell *report.Cell) (float64, bool) {
				return 100 * cell.PeakFraction, cell.PeakFraction > 0
			}),
	}
}

// build collects a panel's values; pick returns the value of a cell and
// whether the row belongs in the panel.
func build(c *report.Comparison, ss []series, title, xlabel string, pick func(*report.Row, *report.Cell) (float64, bool)) panel {
	p := panel{title: title, xlabel: xlabel, values: make([][]float64, len(ss))}
	index := map[string]int{}
	for i := range c.Rows {
		r := &c.Rows[i]
		name := r.Case
		if r.Threads != 1 {
			name += fmt.Sprintf(" ×%sT", report.ThreadsLabel(r.Threads))
		}
		for si, s := range ss {
			if r.Impl != c.Impls[s.impl] || r.Cells[s.file] == nil {
				continue
			}
			v, ok := pick(r, r.Cells[s.file])
			if !ok {
				continue
			}
			j, seen := index[name]
			if !seen {
				j = len(p.cases)
				index[name] = j
				p.cases = append(p.cases, name)
				for k := range p.values {
					p.values[k] = append(p.values[k], 0)
				}
			}
			p.values[si][j] = v
		}
	}
	return p
}

func (p *panel) plot(ss []series) (*plot.Plot, error) {
	pl := plot.New()
	pl.Title.Text = p.title
	pl.X.Label.Text = p.xlabel
	pl.X.Min = 0
	n := len(p.cases)
	// Cases top to bottom: case j sits at y = n-1-j.
	names := make([]string, n)
	for j, c := range p.cases {
		names[n-1-j] = c
	}
	vmax := 0.0
	for si := range ss {
		vals := make(plotter.Values, n)
		var xys plotter.XYs
		var labels []string
		for j := range p.cases {
			v := p.values[si][j]
			vals[n-1-j] = v
			vmax = max(vmax, v)
			if v > 0 {
				xys = append(xys, plotter.XY{X: v, Y: float64(n - 1 - j)})
				labels = append(labels, report.Rate(v))
			}
		}
		bc, err := plotter.NewBarChart(vals, barHeight)
		if err != nil {
			return nil, err
		}
		bc.Horizontal = true
		bc.Color = plotutil.Color(si)
		bc.LineStyle.Width = 0
		// The first series on top of each group.
		bc.Offset = vg.Length(float64(len(ss)-1)/2-float64(si)) * barHeight
		pl.Add(bc)
		if len(xys) > 0 {
			lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
			if err != nil {
				return nil, err
			}
			for i := range lb.TextStyle {
				lb.TextStyle[i].Font.Size = 7
				lb.TextStyle[i].YAlign = -0.5
			}
			lb.Offset = vg.Point{X: 2, Y: bc.Offset}
			pl.Add(lb)
		}
	}
	pl.Add(plotter.NewGrid())
	pl.NominalY(names...)
	pl.X.Max = vmax * 1.12 // room for the value labels
	return pl, nil
}
