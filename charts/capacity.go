package charts

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Colors of the read and write series in capacity.png.
var (
	readColor  = colorOf(0)
	writeColor = colorOf(3)
)

// capacityPlots lays out capacity.png: one column per profile; on top the
// consumed RCU and WCU per second against the provisioned throughput
// (dashed), below the read and write throttle events per second.
func capacityPlots(profiles []Profile) ([][]*plot.Plot, error) {
	if len(profiles) == 0 {
		return [][]*plot.Plot{{noData("Capacity")}, {noData("Throttle events")}}, nil
	}

	units := make([]*plot.Plot, 0, len(profiles))
	throttles := make([]*plot.Plot, 0, len(profiles))
	for _, pr := range profiles {
		u, err := unitsPanel(pr)
		if err != nil {
			return nil, fmt.Errorf("profile %q: capacity: %w", pr.Name, err)
		}
		th, err := throttlePanel(pr)
		if err != nil {
			return nil, fmt.Errorf("profile %q: throttle events: %w", pr.Name, err)
		}
		units = append(units, u)
		throttles = append(throttles, th)
	}
	return [][]*plot.Plot{units, throttles}, nil
}

func unitsPanel(pr Profile) (*plot.Plot, error) {
	c := pr.Capacity
	title := "Capacity, " + pr.Name
	p := newPanel(title, "capacity units per second")

	entries, err := addSeries(p, c.T, []series{
		{"consumed RCU", c.ConsumedRCU, readColor},
		{"consumed WCU", c.ConsumedWCU, writeColor},
	})
	if err != nil {
		return nil, err
	}
	if entries == 0 {
		return noData(title), nil
	}

	for _, limit := range []series{
		{"provisioned RCU", []float64{c.ProvisionedRCU}, readColor},
		{"provisioned WCU", []float64{c.ProvisionedWCU}, writeColor},
	} {
		if l := limitLine(c.T, limit.values[0], limit.color); l != nil {
			p.Add(l)
			p.Legend.Add(limit.name, l)
			entries++
		}
	}
	fitY(p, entries)
	return p, nil
}

func throttlePanel(pr Profile) (*plot.Plot, error) {
	c := pr.Capacity
	title := "Throttle events, " + pr.Name
	p := newPanel(title, "throttle events per second")

	entries, err := addSeries(p, c.T, []series{
		{"read throttles", c.ReadThrottles, readColor},
		{"write throttles", c.WriteThrottles, writeColor},
	})
	if err != nil {
		return nil, err
	}
	if entries == 0 {
		return noData(title), nil
	}
	fitY(p, entries)
	return p, nil
}

// series is one named per-second series of a panel.
type series struct {
	name   string
	values []float64
	color  color.Color
}

// addSeries draws each series as steps held over its second, and returns
// how many had points (and so a legend entry).
func addSeries(p *plot.Plot, t []float64, ss []series) (entries int, err error) {
	for _, s := range ss {
		l, err := line(t, s.values, s.color, vg.Points(1.5), nil)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", s.name, err)
		}
		if l == nil {
			continue
		}
		// Each value holds for its whole second, the last one included.
		l.StepStyle = plotter.PostStep
		end := l.XYs[len(l.XYs)-1]
		l.XYs = append(l.XYs, plotter.XY{X: end.X + 1, Y: end.Y})
		p.Add(l)
		p.Legend.Add(s.name, l)
		entries++
	}
	return entries, nil
}

// limitLine is a dashed horizontal line at units across the seconds of t, or
// nil when there is no limit (an on-demand table) or no time to span.
func limitLine(t []float64, units float64, c color.Color) *plotter.Line {
	first, last, ok := timeSpan(t)
	if !ok || !(units > 0) || !finite(units) {
		return nil
	}

	// NewLine fails only on non-finite points, excluded above.
	l, _ := plotter.NewLine(plotter.XYs{{X: first, Y: units}, {X: last + 1, Y: units}})
	l.Color = c
	l.Width = vg.Points(1)
	l.Dashes = dashed
	return l
}
