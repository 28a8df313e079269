package harness

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/abusesim/abusesim/capacity"
)

// capacitySecond is one second of a profile's capacity.csv, added over
// shards.
type capacitySecond struct {
	rcu, wcu                     float64
	readThrottles, writeThrottle int64
}

// capacitySeries is a profile's capacity per second from the start of its
// run, added over shards; nil once a shard without capacity.csv has been
// merged, since the sum would then be short.
type capacitySeries map[int]*capacitySecond

// readCapacityCSV adds the capacity.csv in dir, if there is one, to into,
// keyed by whole seconds from the shard's start. It reports false when
// there is none.
func readCapacityCSV(dir string, into capacitySeries) (bool, error) {
	path := filepath.Join(dir, "capacity.csv")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(rows) == 0 {
		return false, fmt.Errorf("read %s: want a CSV file with a header row", path)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	for _, name := range []string{"second", "consumed_rcu", "consumed_wcu", "read_throttle_events",
		"write_throttle_events"} {
		if _, ok := col[name]; !ok {
			return false, fmt.Errorf("read %s: no %s column", path, name)
		}
	}
	for line, row := range rows[1:] {
		num := func(name string) float64 {
			v, e := strconv.ParseFloat(row[col[name]], 64)
			if e != nil && err == nil {
				err = fmt.Errorf("read %s: line %d: %s %q is not a number", path, line+2, name, row[col[name]])
			}
			return v
		}
		sec := int(math.Floor(num("second")))
		s := into[sec]
		if s == nil {
			s = &capacitySecond{}
			into[sec] = s
		}
		s.rcu += num("consumed_rcu")
		s.wcu += num("consumed_wcu")
		s.readThrottles += int64(num("read_throttle_events"))
		s.writeThrottle += int64(num("write_throttle_events"))
		if err != nil {
			return false, err
		}
	}
	return true, nil
}

// applyCapacity sets p's peaks from the merged per-second series, and its
// cost from the merged consumption as a single run prices it: the
// consumed units on demand, and one table's provisioned capacity for the
// run's length.
func applyCapacity(p *ProfileSummary, series capacitySeries) {
	if series != nil {
		p.Capacity.PeakRCUPerSecond, p.Capacity.PeakWCUPerSecond = 0, 0
		for _, s := range series {
			p.Capacity.PeakRCUPerSecond = max(p.Capacity.PeakRCUPerSecond, s.rcu)
			p.Capacity.PeakWCUPerSecond = max(p.Capacity.PeakWCUPerSecond, s.wcu)
		}
	}
	p.Cost = profileCost(p.Capacity, time.Duration(p.ElapsedS*float64(time.Second)))
}

// writeMergedCapacity writes dir/capacity.csv from the merged series, as
// a single run's capacityCSV writes it.
func writeMergedCapacity(dir string, start time.Time, p ProfileSummary, series capacitySeries) error {
	samples := make([]capacity.Sample, 0, len(series))
	for _, sec := range slices.Sorted(maps.Keys(series)) {
		s := series[sec]
		samples = append(samples, capacity.Sample{Start: start.Add(time.Duration(sec) * time.Second),
			ConsumedRCU: s.rcu, ConsumedWCU: s.wcu, ReadThrottleEvents: s.readThrottles,
			WriteThrottleEvents: s.writeThrottle})
	}
	data := capacityCSV(profileSeries{start: start, samples: samples, summary: p})
	if err := writeFileAtomic(filepath.Join(dir, "capacity.csv"), data); err != nil {
		return fmt.Errorf("harness: merge: %w", err)
	}
	return nil
}

// profileCost prices a profile's capacity as every run is priced: the
// consumed units on demand, and the table's provisioned capacity for the
// run's length.
func profileCost(c CapacitySummary, elapsed time.Duration) capacity.Cost {
	return capacity.PricesUSEast1.Cost(capacity.Usage{
		ConsumedRCU:    c.ConsumedRCU,
		ConsumedWCU:    c.ConsumedWCU,
		ProvisionedRCU: c.ProvisionedRCU,
		ProvisionedWCU: c.ProvisionedWCU,
		Duration:       elapsed,
	})
}
