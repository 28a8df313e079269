package charts

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Profile is one profile's results, as the charts need them.
type Profile struct {
	Name     string
	Classes  []ClassSeries
	Capacity CapacitySeries
	Cost     CostFigures
}

// ClassSeries is one traffic class's latency percentiles, one value per
// second; T is seconds since the run's start, and every slice has T's
// length.
type ClassSeries struct {
	Class                  string
	T, P50Ms, P90Ms, P99Ms []float64
}

// CapacitySeries is a table's consumed capacity units and throttle events
// per second, with its provisioned throughput (0 for an on-demand table).
// T is seconds since the run's start; every slice has T's length.
type CapacitySeries struct {
	T                              []float64
	ConsumedRCU, ConsumedWCU       []float64
	ReadThrottles, WriteThrottles  []float64
	ProvisionedRCU, ProvisionedWCU float64
}

// CostFigures is what a profile's run cost in US dollars: billed on demand
// for the units it consumed, or provisioned for the capacity it held, and
// the on-demand figure scaled to one hour.
type CostFigures struct {
	OnDemandUSD, ProvisionedUSD, OnDemandUSDPerHour float64
}

// File names Write produces, in the order it returns them.
const (
	LatencyFile  = "latency.png"
	CapacityFile = "capacity.png"
	CostFile     = "cost.png"
)

// Sizes of the charts: each panel is PanelWidth by PanelHeight, drawn at
// DPI dots per inch, so a panel is 576 by 384 pixels.
const (
	PanelWidth  = 6 * vg.Inch
	PanelHeight = 4 * vg.Inch
	DPI         = 96
)

// Write draws latency.png, capacity.png and cost.png into dir, creating
// dir if needed, and returns the paths it wrote in that order.
func Write(dir string, profiles []Profile) (files []string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("charts: %w", err)
	}

	charts := []struct {
		file  string
		build func([]Profile) ([][]*plot.Plot, error)
	}{
		{LatencyFile, latencyPlots},
		{CapacityFile, capacityPlots},
		{CostFile, costPlots},
	}
	for _, c := range charts {
		grid, err := c.build(profiles)
		if err != nil {
			return files, fmt.Errorf("charts: %s: %w", c.file, err)
		}
		path := filepath.Join(dir, c.file)
		if err := savePNG(path, grid); err != nil {
			return files, fmt.Errorf("charts: %s: %w", c.file, err)
		}
		files = append(files, path)
	}
	return files, nil
}

// gridSize is the image size of a grid of rows by cols panels.
func gridSize(rows, cols int) (w, h vg.Length) {
	return vg.Length(cols) * PanelWidth, vg.Length(rows) * PanelHeight
}

// savePNG draws a grid of plots, aligned so their axes line up, into one
// PNG file at path.
func savePNG(path string, grid [][]*plot.Plot) (err error) {
	rows, cols := len(grid), len(grid[0])
	w, h := gridSize(rows, cols)
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI))

	tiles := draw.Tiles{
		Rows: rows, Cols: cols,
		PadX: vg.Points(12), PadY: vg.Points(12),
		PadTop: vg.Points(6), PadBottom: vg.Points(6),
		PadLeft: vg.Points(6), PadRight: vg.Points(12),
	}
	canvases := plot.Align(grid, tiles, draw.New(img))
	for i, row := range grid {
		for j, p := range row {
			p.Draw(canvases[i][j])
		}
	}

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		return fmt.Errorf("encode png: %w", err)
	}
	return nil
}

// noData returns a panel titled title that says there is nothing to show.
func noData(title string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.HideAxes()
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1

	// NewLabels fails only on non-finite points or mismatched lengths,
	// neither possible here.
	l, _ := plotter.NewLabels(plotter.XYLabels{
		XYs:    plotter.XYs{{X: 0.5, Y: 0.5}},
		Labels: []string{"no data"},
	})
	l.TextStyle[0].XAlign = draw.XCenter
	l.TextStyle[0].YAlign = draw.YCenter
	l.TextStyle[0].Font.Size = vg.Points(16)
	l.TextStyle[0].Color = color.Gray{Y: 120}
	p.Add(l)
	return p
}

// errLength reports slices that do not match the series' times.
var errLength = errors.New("series length differs from its times")

// points pairs t with ys, leaving out points that are not finite. An empty
// ys is a series that was not recorded and gives no points; otherwise ys
// must be as long as t.
func points(t, ys []float64) (plotter.XYs, error) {
	if len(ys) == 0 {
		return nil, nil
	}
	if len(ys) != len(t) {
		return nil, fmt.Errorf("%w: %d times, %d values", errLength, len(t), len(ys))
	}
	xys := make(plotter.XYs, 0, len(t))
	for i := range t {
		if finite(t[i]) && finite(ys[i]) {
			xys = append(xys, plotter.XY{X: t[i], Y: ys[i]})
		}
	}
	return xys, nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// line builds a line of t against ys in the given style; it returns nil
// for a series with no finite points, which callers leave out.
func line(t, ys []float64, c color.Color, width vg.Length, dashes []vg.Length) (*plotter.Line, error) {
	xys, err := points(t, ys)
	if err != nil || len(xys) == 0 {
		return nil, err
	}
	l, err := plotter.NewLine(xys)
	if err != nil {
		return nil, err
	}
	l.Color = c
	l.Width = width
	l.Dashes = dashes
	return l, nil
}

// newPanel returns a plot with the look every time-series panel shares.
func newPanel(title, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "seconds since start"
	p.Y.Label.Text = yLabel
	p.Y.Min = 0
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.XOffs = vg.Points(8)
	p.Legend.YOffs = -vg.Points(4)
	p.Add(plotter.NewGrid())
	return p
}

// palette gives each name (a class, a capacity kind) one color, the same
// in every panel.
var palette = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, // blue
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, // red
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, // green
	color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, // orange
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, // purple
	color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff}, // brown
}

func colorOf(i int) color.Color { return palette[i%len(palette)] }

// dashed is the dash pattern of secondary lines (p50, provisioned limits).
var dashed = []vg.Length{vg.Points(6), vg.Points(3)}

// fitY leaves room above the data for a legend of entries lines, and keeps
// the Y axis from 0 to at least 1, so a series of zeros reads as zero
// instead of being centred on a -1..1 axis.
func fitY(p *plot.Plot, entries int) {
	p.Y.Max = math.Max(p.Y.Max, 1) * (1.05 + 0.07*float64(entries))
}

// timeSpan is the first and last finite time of t; ok is false when t has
// none.
func timeSpan(t []float64) (first, last float64, ok bool) {
	first, last = math.Inf(1), math.Inf(-1)
	for _, x := range t {
		if finite(x) {
			first, last = math.Min(first, x), math.Max(last, x)
		}
	}
	return first, last, first <= last
}
