package main

import (
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/simdformer/simdformer/internal/atomicfile"
)

// epochStats is what one epoch of one run measured.
type epochStats struct {
	trainLoss, trainAcc float64
	valLoss, valAcc     float64
}

// run is the history of one training run at one dropout rate.
type run struct {
	dropout float64
	epochs  []epochStats
}

// palette: distinguishable colours (Okabe–Ito) for up to 8 runs.
var palette = []color.Color{
	color.RGBA{0, 114, 178, 255},   // blue
	color.RGBA{213, 94, 0, 255},    // vermillion
	color.RGBA{0, 158, 115, 255},   // green
	color.RGBA{204, 121, 167, 255}, // purple
	color.RGBA{230, 159, 0, 255},   // orange
	color.RGBA{86, 180, 233, 255},  // sky blue
	color.RGBA{0, 0, 0, 255},       // black
	color.RGBA{240, 228, 66, 255},  // yellow
}

// writePlot draws two panels side by side, loss and accuracy against the
// epoch, with one colour per dropout rate: training curves dashed,
// validation curves solid. The gap between a colour's two curves is the
// overfitting that dropout narrows.
func writePlot(path string, runs []run, title string) error {
	loss := plot.New()
	loss.Title.Text = "Cross-entropy loss (dashed: train, solid: validation)"
	loss.X.Label.Text = "epoch"
	loss.Y.Label.Text = "loss"
	loss.Y.Min = 0
	acc := plot.New()
	acc.Title.Text = "Accuracy (dashed: train, solid: validation)"
	acc.X.Label.Text = "epoch"
	acc.Y.Label.Text = "accuracy"
	for _, p := range []*plot.Plot{loss, acc} {
		p.Add(plotter.NewGrid())
		p.Legend.Top = true
		p.Title.TextStyle.Font.Size = vg.Points(13)
		p.X.Label.TextStyle.Font.Size = vg.Points(12)
		p.Y.Label.TextStyle.Font.Size = vg.Points(12)
		p.Legend.TextStyle.Font.Size = vg.Points(12)
	}
	acc.Legend.XOffs = 0
	acc.Legend.Left = false
	acc.Legend.Top = false
	acc.Legend.YOffs = vg.Points(20)
	for i, r := range runs {
		col := palette[i%len(palette)]
		series := [4]plotter.XYs{}
		for e, s := range r.epochs {
			x := float64(e + 1)
			series[0] = append(series[0], plotter.XY{X: x, Y: s.trainLoss})
			series[1] = append(series[1], plotter.XY{X: x, Y: s.valLoss})
			series[2] = append(series[2], plotter.XY{X: x, Y: s.trainAcc})
			series[3] = append(series[3], plotter.XY{X: x, Y: s.valAcc})
		}
		for k, xy := range series {
			if len(xy) == 0 {
				continue
			}
			l, err := plotter.NewLine(xy)
			if err != nil {
				return err
			}
			l.Color = col
			l.Width = vg.Points(2)
			train := k%2 == 0
			if train {
				l.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
				l.Width = vg.Points(1.5)
			}
			p := loss
			if k >= 2 {
				p = acc
			}
			p.Add(l)
			if !train {
				p.Legend.Add(fmt.Sprintf("dropout %.2g", r.dropout), l)
			}
		}
	}

	const w, h = 32 * vg.Centimeter, 13 * vg.Centimeter
	img := vgimg.New(w, h)
	dc := draw.New(img)
	top := vg.Points(0)
	if title != "" {
		top = vg.Points(24)
		dc.FillText(draw.TextStyle{
			Color:   color.Black,
			Font:    font.From(plot.DefaultFont, vg.Points(14)),
			Handler: plot.DefaultTextHandler,
			XAlign:  draw.XCenter,
			YAlign:  draw.YTop,
		}, vg.Point{X: w / 2, Y: h - vg.Points(6)}, title)
	}
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Centimeter, PadTop: top + vg.Points(6),
		PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(10)}
	canvases := plot.Align([][]*plot.Plot{{loss, acc}}, tiles, dc)
	loss.Draw(canvases[0][0])
	acc.Draw(canvases[0][1])

	return atomicfile.WriteFunc(path, 0o644, func(w io.Writer) error {
		_, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w)
		return err
	})
}
