package harness

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/abusesim/abusesim/target"
)

// trafficSeries holds one profile's per-second traffic counts, added over
// shards: class -> second -> counts.
type trafficSeries map[string]map[int]*target.Second

// readTraffic adds a shard's traffic.csv to into. The counts add up; the
// percentile columns are dropped, as the merged ones come from the merged
// per-second histograms. A shard without the file adds nothing.
func readTraffic(path string, into trafficSeries) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	r := csv.NewReader(bytes.NewReader(data))
	head, err := r.Read()
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, need := range []string{"second", "class", "sent", "ok", "in_flight"} {
		if _, ok := col[need]; !ok {
			return fmt.Errorf("read %s: no %s column", path, need)
		}
	}
	status := map[string]int{} // status code -> column
	for name, i := range col {
		if code, ok := strings.CutPrefix(name, "status_"); ok {
			status[code] = i
		}
	}
	for line := 2; ; line++ {
		row, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		num := func(name string) (int64, error) {
			n, err := strconv.ParseInt(row[col[name]], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("read %s:%d: %s: %w", path, line, name, err)
			}
			return n, nil
		}
		sec, err := num("second")
		if err != nil {
			return err
		}
		class := row[col["class"]]
		if into[class] == nil {
			into[class] = map[int]*target.Second{}
		}
		s := into[class][int(sec)]
		if s == nil {
			s = &target.Second{Offset: int(sec), Status: map[string]int64{}}
			into[class][int(sec)] = s
		}
		for _, f := range []struct {
			name string
			dst  *int64
		}{{"sent", &s.Sent}, {"ok", &s.OK}, {"in_flight", &s.InFlight}} {
			n, err := num(f.name)
			if err != nil {
				return err
			}
			*f.dst += n
		}
		for code, i := range status {
			n, err := strconv.ParseInt(row[i], 10, 64)
			if err != nil {
				return fmt.Errorf("read %s:%d: status_%s: %w", path, line, code, err)
			}
			s.Status[code] += n
		}
	}
}

// mergedTrafficCSV is traffic.csv of the merged run: the shards' counts
// added second by second, and each second's percentiles from its merged
// histogram (latency from the intended start, as a single run reports).
func mergedTrafficCSV(traffic trafficSeries, logs map[string]map[int64]*hdrhistogram.Histogram) []byte {
	res := &target.Result{}
	for _, class := range slices.Sorted(maps.Keys(traffic)) {
		c := target.ClassResult{Name: class}
		for _, off := range slices.Sorted(maps.Keys(traffic[class])) {
			s := *traffic[class][off]
			p := percentiles(logs[class][int64(off)*1000])
			s.LatencyP50Ms, s.LatencyP90Ms, s.LatencyP99Ms = p.P50, p.P90, p.P99
			c.Seconds = append(c.Seconds, s)
		}
		res.Classes = append(res.Classes, c)
	}
	return trafficCSV(profileSeries{result: res})
}

// writeMergedTraffic writes dir/traffic.csv when any shard had one.
func writeMergedTraffic(dir string, traffic trafficSeries, logs map[string]map[int64]*hdrhistogram.Histogram) error {
	if len(traffic) == 0 {
		return nil
	}
	if err := writeFileAtomic(filepath.Join(dir, "traffic.csv"), mergedTrafficCSV(traffic, logs)); err != nil {
		return fmt.Errorf("harness: merge: %w", err)
	}
	return nil
}
