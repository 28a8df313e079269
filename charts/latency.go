package charts

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// latencyPlots lays out latency.png: one panel per profile, side by side,
// with each class's p99 (solid) and p50 (dashed) latency over time.
// ClassSeries.P90Ms is not drawn: two lines per class stay readable.
func latencyPlots(profiles []Profile) ([][]*plot.Plot, error) {
	if len(profiles) == 0 {
		return [][]*plot.Plot{{noData("Latency")}}, nil
	}

	colors := classColors(profiles)
	row := make([]*plot.Plot, 0, len(profiles))
	for _, pr := range profiles {
		p, err := latencyPanel(pr, colors)
		if err != nil {
			return nil, fmt.Errorf("profile %q: %w", pr.Name, err)
		}
		row = append(row, p)
	}
	return [][]*plot.Plot{row}, nil
}

func latencyPanel(pr Profile, colors map[string]color.Color) (*plot.Plot, error) {
	title := "Latency, " + pr.Name
	p := newPanel(title, "latency from intended send (ms)")

	entries := 0
	for _, c := range pr.Classes {
		p99, err := line(c.T, c.P99Ms, colors[c.Class], vg.Points(1.5), nil)
		if err != nil {
			return nil, fmt.Errorf("class %q: p99: %w", c.Class, err)
		}
		p50, err := line(c.T, c.P50Ms, colors[c.Class], vg.Points(1), dashed)
		if err != nil {
			return nil, fmt.Errorf("class %q: p50: %w", c.Class, err)
		}

		if p99 != nil {
			p.Add(p99)
			p.Legend.Add(c.Class+" p99", p99)
			entries++
		}
		if p50 != nil {
			p.Add(p50)
			p.Legend.Add(c.Class+" p50", p50)
			entries++
		}
	}
	if entries == 0 {
		return noData(title), nil
	}
	fitY(p, entries)
	return p, nil
}

// classColors gives every class one color across all panels, in the order
// the classes first appear.
func classColors(profiles []Profile) map[string]color.Color {
	colors := map[string]color.Color{}
	for _, pr := range profiles {
		for _, c := range pr.Classes {
			if _, ok := colors[c.Class]; !ok {
				colors[c.Class] = colorOf(len(colors))
			}
		}
	}
	return colors
}
