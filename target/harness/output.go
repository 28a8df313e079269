package harness

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/abusesim/abusesim/charts"
)

// writeProfile writes OUT/<profile>/traffic.csv (one row per class and
// second), OUT/<profile>/capacity.csv (one row per second, when the run
// sampled capacity), histograms.json and latency.hlog (HdrHistogram
// interval log).
func writeProfile(out string, s profileSeries) error {
	dir := filepath.Join(out, s.name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, "traffic.csv"), trafficCSV(s)); err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	// An attack has no table, so no capacity series: merge then knows its
	// peaks are not there to add.
	if s.samples != nil {
		if err := writeFileAtomic(filepath.Join(dir, "capacity.csv"), capacityCSV(s)); err != nil {
			return fmt.Errorf("harness: %w", err)
		}
	}
	if err := writeHistograms(dir, s.result); err != nil {
		return err
	}
	return writeIntervalLog(dir, s.result)
}

func trafficCSV(s profileSeries) []byte {
	codes := map[string]bool{}
	for _, c := range s.result.Classes {
		for _, sec := range c.Seconds {
			for k := range sec.Status {
				codes[k] = true
			}
		}
	}
	statuses := slices.Sorted(maps.Keys(codes))

	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	head := []string{"second", "class", "sent", "ok"}
	for _, k := range statuses {
		head = append(head, "status_"+k)
	}
	head = append(head, "p50_ms", "p90_ms", "p99_ms", "in_flight")
	w.Write(head)

	for _, c := range s.result.Classes {
		for _, sec := range c.Seconds {
			row := []string{strconv.Itoa(sec.Offset), c.Name, itoa(sec.Sent), itoa(sec.OK)}
			for _, k := range statuses {
				row = append(row, itoa(sec.Status[k]))
			}
			row = append(row, ftoa(sec.LatencyP50Ms), ftoa(sec.LatencyP90Ms), ftoa(sec.LatencyP99Ms),
				itoa(sec.InFlight))
			w.Write(row)
		}
	}
	w.Flush()
	return buf.Bytes()
}

func capacityCSV(s profileSeries) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"time", "second", "consumed_rcu", "consumed_wcu", "provisioned_rcu", "provisioned_wcu",
		"read_throttle_events", "write_throttle_events"})
	c := s.summary.Capacity
	for _, x := range s.samples {
		w.Write([]string{
			// From whole milliseconds: Duration.Seconds adds the fraction
			// to the whole seconds and prints 2.6790000000000003.
			x.Start.UTC().Format(time.RFC3339), ftoa(float64(x.Start.Sub(s.start).Round(time.Millisecond).Milliseconds()) / 1000),
			ftoa(x.ConsumedRCU), ftoa(x.ConsumedWCU),
			itoa(c.ProvisionedRCU), itoa(c.ProvisionedWCU),
			itoa(x.ReadThrottleEvents), itoa(x.WriteThrottleEvents),
		})
	}
	w.Flush()
	return buf.Bytes()
}

func itoa(n int64) string   { return strconv.FormatInt(n, 10) }
func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// writeCharts draws latency, capacity and cost charts for every profile.
func writeCharts(out string, sum *Summary, series []profileSeries) error {
	var profiles []charts.Profile
	for i, s := range series {
		profiles = append(profiles, chartProfile(sum.Profiles[i], s))
	}
	if _, err := charts.Write(out, profiles); err != nil {
		return fmt.Errorf("harness: %w", err) // charts errors name themselves
	}
	return nil
}

func chartProfile(ps ProfileSummary, s profileSeries) charts.Profile {
	p := charts.Profile{
		Name: ps.Name,
		Cost: charts.CostFigures{
			OnDemandUSD:        ps.Cost.OnDemandUSD,
			ProvisionedUSD:     ps.Cost.ProvisionedUSD,
			OnDemandUSDPerHour: ps.Cost.OnDemandUSDPerHour,
		},
	}
	for _, c := range s.result.Classes {
		cs := charts.ClassSeries{Class: c.Name}
		for _, sec := range c.Seconds {
			if sec.Sent == 0 {
				continue
			}
			cs.T = append(cs.T, float64(sec.Offset))
			cs.P50Ms = append(cs.P50Ms, sec.LatencyP50Ms)
			cs.P90Ms = append(cs.P90Ms, sec.LatencyP90Ms)
			cs.P99Ms = append(cs.P99Ms, sec.LatencyP99Ms)
		}
		p.Classes = append(p.Classes, cs)
	}
	cap := &p.Capacity
	cap.ProvisionedRCU = float64(ps.Capacity.ProvisionedRCU)
	cap.ProvisionedWCU = float64(ps.Capacity.ProvisionedWCU)
	for _, x := range s.samples {
		cap.T = append(cap.T, x.Start.Sub(s.start).Seconds())
		cap.ConsumedRCU = append(cap.ConsumedRCU, x.ConsumedRCU)
		cap.ConsumedWCU = append(cap.ConsumedWCU, x.ConsumedWCU)
		cap.ReadThrottles = append(cap.ReadThrottles, float64(x.ReadThrottleEvents))
		cap.WriteThrottles = append(cap.WriteThrottles, float64(x.WriteThrottleEvents))
	}
	return p
}
