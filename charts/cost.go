package charts

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// costPlots lays out cost.png: on the left each profile's on-demand cost
// per hour; on the right what the run itself cost billed on demand and
// billed provisioned, side by side per profile.
func costPlots(profiles []Profile) ([][]*plot.Plot, error) {
	if len(profiles) == 0 {
		return [][]*plot.Plot{{noData("On-demand cost per hour"), noData("Cost of the run")}}, nil
	}

	names := make([]string, len(profiles))
	perHour := make(plotter.Values, len(profiles))
	onDemand := make(plotter.Values, len(profiles))
	provisioned := make(plotter.Values, len(profiles))
	for i, pr := range profiles {
		c := pr.Cost
		for _, v := range []float64{c.OnDemandUSDPerHour, c.OnDemandUSD, c.ProvisionedUSD} {
			if !finite(v) || v < 0 {
				return nil, fmt.Errorf("profile %q: cost %v is not a finite amount >= 0", pr.Name, v)
			}
		}
		names[i] = pr.Name
		perHour[i], onDemand[i], provisioned[i] = c.OnDemandUSDPerHour, c.OnDemandUSD, c.ProvisionedUSD
	}

	hourly, err := barPanel("On-demand cost per hour", "USD per hour", names, []bars{
		{"on demand", perHour},
	})
	if err != nil {
		return nil, fmt.Errorf("cost per hour: %w", err)
	}
	run, err := barPanel("Cost of the run", "USD", names, []bars{
		{"on demand", onDemand},
		{"provisioned", provisioned},
	})
	if err != nil {
		return nil, fmt.Errorf("cost of the run: %w", err)
	}
	return [][]*plot.Plot{{hourly, run}}, nil
}

// bars is one group member: a value per profile.
type bars struct {
	name   string
	values plotter.Values
}

// barPanel draws groups of bars, one group per name, each bar labelled
// with its amount in dollars.
func barPanel(title, yLabel string, names []string, groups []bars) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = yLabel
	p.Y.Min = 0
	p.Legend.Top = true
	p.NominalX(names...)
	p.Add(plotter.NewGrid())

	width := barWidth(len(names), len(groups))
	top := 0.0
	for i, g := range groups {
		b, err := plotter.NewBarChart(g.values, width)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", g.name, err)
		}
		b.Color = colorOf(i)
		b.LineStyle.Width = 0
		b.Offset = vg.Length(float64(i)-float64(len(groups)-1)/2) * width
		p.Add(b)
		if len(groups) > 1 {
			p.Legend.Add(g.name, b)
		}

		labels, err := amountLabels(g.values, b.Offset)
		if err != nil {
			return nil, fmt.Errorf("%s: labels: %w", g.name, err)
		}
		p.Add(labels)
		_, max := plotter.Range(g.values)
		top = math.Max(top, max)
	}

	// Room above the tallest bar for its label and the legend; a panel of
	// zeros still gets an axis from 0 to 1. Half a slot either side keeps
	// the outer bars off the panel's edges.
	p.Y.Max = top * 1.35
	if top == 0 {
		p.Y.Max = 1
	}
	p.X.Min, p.X.Max = -0.5, float64(len(names))-0.5
	return p, nil
}

// barWidth shares a panel's width among the bars, leaving a gap between
// groups.
func barWidth(groups, perGroup int) vg.Length {
	w := PanelWidth * 0.6 / vg.Length(groups*perGroup)
	return min(w, vg.Points(60))
}

// amountLabels puts each bar's amount just above it.
func amountLabels(values plotter.Values, offset vg.Length) (*plotter.Labels, error) {
	xys := make(plotter.XYs, len(values))
	text := make([]string, len(values))
	for i, v := range values {
		xys[i] = plotter.XY{X: float64(i), Y: v}
		text[i] = usd(v)
	}
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: text})
	if err != nil {
		return nil, err
	}
	for i := range l.TextStyle {
		l.TextStyle[i].XAlign = draw.XCenter
	}
	l.Offset = vg.Point{X: offset, Y: vg.Points(3)}
	return l, nil
}

// usd formats a dollar amount with enough digits for the small figures of
// a short run.
func usd(v float64) string {
	switch {
	case v == 0:
		return "$0"
	case v < 0.01:
		return fmt.Sprintf("$%.5f", v)
	case v < 100:
		return fmt.Sprintf("$%.3f", v)
	default:
		return fmt.Sprintf("$%.0f", v)
	}
}
