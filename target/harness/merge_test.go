package harness

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/abusesim/abusesim/capacity"
	"github.com/abusesim/abusesim/target"
)

// writeShard writes a result folder for shard label of a one-profile,
// one-class run: sent requests, each answered in latencyUS, and the
// table's consumed RCU per second. A label of "" is a whole run.
func writeShard(t *testing.T, dir, label string, sent int64, latencyUS int64, rcu []float64) {
	t.Helper()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := target.ClassResult{Name: "c", Sent: sent, OK: sent, Status: map[string]int64{"200": sent},
		Latency: target.NewHistogram(), Service: target.NewHistogram(), Lag: target.NewHistogram()}
	for range sent {
		c.Latency.RecordValue(latencyUS)
		c.Service.RecordValue(latencyUS)
	}
	res := &target.Result{Start: start, Elapsed: 2 * time.Second, Classes: []target.ClassResult{c}}

	ps := ProfileSummary{Name: "p", ElapsedS: 2, Classes: []ClassSummary{classSummary(c, res.Elapsed)}}
	var samples []capacity.Sample
	for i, r := range rcu {
		samples = append(samples, capacity.Sample{Start: start.Add(time.Duration(i) * time.Second), ConsumedRCU: r})
	}
	table := tableSpec{Name: "t", BillingMode: "PROVISIONED", RCU: 100, WCU: 100}
	ps.Capacity = capacitySummary(table, samples)
	ps.Cost = capacity.PricesUSEast1.Cost(capacity.Usage{ConsumedRCU: ps.Capacity.ConsumedRCU,
		ProvisionedRCU: 100, ProvisionedWCU: 100, Duration: res.Elapsed})
	if err := writeProfile(dir, profileSeries{name: "p", start: start, result: res, samples: samples,
		summary: ps}); err != nil {
		t.Fatal(err)
	}
	sum := &Summary{Scenario: "s", StartedAt: start, DurationS: 2, Profiles: []ProfileSummary{ps}, Shard: label}
	if err := sum.WriteJSON(filepath.Join(dir, "summary.json")); err != nil {
		t.Fatal(err)
	}
}

// Cost is priced again from the summed consumption, and the peak is the
// peak of the per-second sums, not the sum of the peaks.
func TestMergeCapacityAndCost(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	writeShard(t, a, "1/2", 10, 1000, []float64{10, 30})
	writeShard(t, b, "2/2", 10, 1000, []float64{30, 10})

	out := filepath.Join(dir, "m")
	got, err := Merge([]string{a, b}, out)
	if err != nil {
		t.Fatal(err)
	}
	c := got.Profiles[0].Capacity
	if c.ConsumedRCU != 80 || c.PeakRCUPerSecond != 40 {
		t.Errorf("consumed %v RCU, peak %v RCU/s; want 80 and 40 (the peak of the sums)", c.ConsumedRCU,
			c.PeakRCUPerSecond)
	}
	want := capacity.PricesUSEast1.Cost(capacity.Usage{ConsumedRCU: 80, ProvisionedRCU: 100, ProvisionedWCU: 100,
		Duration: 2 * time.Second})
	if got.Profiles[0].Cost != want {
		t.Errorf("cost %+v, want %+v", got.Profiles[0].Cost, want)
	}
	for _, f := range []string{"p/histograms.json", "p/capacity.csv", "p/latency.hlog"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("merged folder: %v", err)
		}
	}
	if got.Shard != "" {
		t.Errorf("shard %q, want none for a complete set", got.Shard)
	}
}

func TestMergeRefuses(t *testing.T) {
	dir := t.TempDir()
	s1, s1again, s2, whole, of3 := filepath.Join(dir, "s1"), filepath.Join(dir, "s1b"), filepath.Join(dir, "s2"),
		filepath.Join(dir, "whole"), filepath.Join(dir, "of3")
	writeShard(t, s1, "1/2", 1, 1000, nil)
	writeShard(t, s1again, "1/2", 1, 1000, nil)
	writeShard(t, s2, "2/2", 1, 1000, nil)
	writeShard(t, whole, "", 1, 1000, nil)
	writeShard(t, of3, "1/3", 1, 1000, nil)

	tests := []struct {
		name string
		dirs []string
		out  string
		want string
	}{
		{"same folder twice", []string{s1, s1 + "/"}, filepath.Join(dir, "o1"), "same folder"},
		{"same shard twice", []string{s1, s1again}, filepath.Join(dir, "o2"), "shard 1/2 is in two"},
		{"out is an input", []string{s1, s2}, s1, "inside the input"},
		{"out inside an input", []string{s1, s2}, filepath.Join(s2, "m"), "inside the input"},
		{"whole run and a shard", []string{whole, s2}, filepath.Join(dir, "o3"), "a whole run"},
		{"different splits", []string{s1, of3}, filepath.Join(dir, "o4"), "split 3 ways"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Merge(tt.dirs, tt.out)
			if !errors.Is(err, ErrBadMerge) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want ErrBadMerge mentioning %q", err, tt.want)
			}
		})
	}
	before, _ := os.ReadFile(filepath.Join(s1, "summary.json"))
	if got, _ := ReadSummary(filepath.Join(s1, "summary.json")); got == nil || got.Shard != "1/2" ||
		len(before) == 0 {
		t.Errorf("input s1 changed: %s", before)
	}
}

// A partial merge says what it holds, and merging it with the rest gives
// the whole run.
func TestMergePartialThenRest(t *testing.T) {
	dir := t.TempDir()
	var shards []string
	for i, label := range []string{"1/3", "2/3", "3/3"} {
		shards = append(shards, filepath.Join(dir, label[:1]))
		writeShard(t, shards[i], label, int64(10*(i+1)), int64(1000*(i+1)), []float64{1})
	}
	part := filepath.Join(dir, "part")
	got, err := Merge(shards[:2], part)
	if err != nil {
		t.Fatal(err)
	}
	if got.Shard != "1,2/3" || !strings.Contains(strings.Join(got.Notes, "\n"), "shard 3 of 3 is missing") {
		t.Errorf("shard %q, notes %q; want 1,2/3 and a note on shard 3", got.Shard, got.Notes)
	}

	all, err := Merge([]string{part, shards[2]}, filepath.Join(dir, "all"))
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(all.Notes, "\n")
	if strings.Contains(notes, "incomplete") || strings.Count(notes, "merged from") != 1 {
		t.Errorf("notes of the whole: %q; want one merge note and none on missing shards", all.Notes)
	}
	c := all.Profiles[0].Classes[0]
	if all.Shard != "" || c.Sent != 60 || c.LatencyMs.Max < 2.9 || c.LatencyMs.P50 > 3.1 || c.LatencyMs.P50 < 1.9 {
		t.Errorf("shard %q, sent %d, latency %+v; want the whole run: 60 sent, p50 2 ms, max 3 ms",
			all.Shard, c.Sent, c.LatencyMs)
	}
	if _, err := Merge([]string{part, shards[0]}, filepath.Join(dir, "again")); !errors.Is(err, ErrBadMerge) {
		t.Errorf("merging shard 1 into a merge that holds it: error %v, want ErrBadMerge", err)
	}
}

func TestMergeMissingHistograms(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	writeShard(t, a, "1/2", 1, 1000, nil)
	writeShard(t, b, "2/2", 1, 1000, nil)
	os.Remove(filepath.Join(b, "p", histogramsFile))
	os.Chmod(filepath.Join(a, "p", histogramsFile), 0)

	_, err := Merge([]string{a, b}, filepath.Join(dir, "m"))
	if os.Getuid() != 0 && (err == nil || strings.Contains(err.Error(), "before")) {
		t.Errorf("unreadable histograms.json: error %v; want one that does not blame an old version", err)
	}
	os.Chmod(filepath.Join(a, "p", histogramsFile), 0o644)
	_, err = Merge([]string{a, b}, filepath.Join(dir, "m"))
	if err == nil || !strings.Contains(err.Error(), filepath.Join(b, "p", histogramsFile)) {
		t.Errorf("missing histograms.json: error %v, want one naming the file", err)
	}
}

// Thresholds are checked again against the merged whole: each shard's
// verdict was on its own slice.
func TestMergeRechecksThresholds(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	writeShard(t, a, "1/2", 10, 1000, []float64{1})  // p99 1 ms
	writeShard(t, b, "2/2", 10, 10000, []float64{1}) // p99 10 ms
	for _, shard := range []struct {
		dir    string
		p99    float64
		passed bool
	}{{a, 1, true}, {b, 10, false}} {
		path := filepath.Join(shard.dir, "summary.json")
		s, err := ReadSummary(path)
		if err != nil {
			t.Fatal(err)
		}
		s.recordThresholds([]ThresholdResult{{Profile: "p", Class: "c", Metric: "p99_ms", Limit: 5,
			Value: shard.p99, Passed: shard.passed}})
		if err := s.WriteJSON(path); err != nil {
			t.Fatal(err)
		}
	}

	got, err := Merge([]string{a, b}, filepath.Join(dir, "m"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Thresholds) != 1 {
		t.Fatalf("thresholds %+v, want the one threshold checked once", got.Thresholds)
	}
	th := got.Thresholds[0]
	if th.Passed || th.Value < 9.9 || got.ThresholdsPassed == nil || *got.ThresholdsPassed {
		t.Errorf("threshold %+v (passed %v), want p99 about 10 ms over the merged requests, failed", th,
			got.ThresholdsPassed)
	}
}

// The merged traffic.csv adds the shards' per-second counts and takes each
// second's percentiles from the merged histogram of that second.
func TestMergeTrafficPerSecond(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	shard := func(name, label string, latencyUS int64) string {
		h := target.NewHistogram()
		for range 10 {
			h.RecordValue(latencyUS)
		}
		c := target.ClassResult{Name: "c", Sent: 10, OK: 10, Status: map[string]int64{"200": 10},
			Latency: h, Service: h, Lag: target.NewHistogram(),
			Seconds:   []target.Second{{Offset: 0, Sent: 10, OK: 10, Status: map[string]int64{"200": 10}, InFlight: 1}},
			Intervals: []target.Interval{{Offset: 0, Histogram: encodeHist(h)}}}
		res := &target.Result{Start: start, Elapsed: time.Second, Classes: []target.ClassResult{c}}
		ps := ProfileSummary{Name: "p", ElapsedS: 1, Classes: []ClassSummary{classSummary(c, res.Elapsed)}}
		d := filepath.Join(dir, name)
		if err := writeProfile(d, profileSeries{name: "p", start: start, result: res, summary: ps}); err != nil {
			t.Fatal(err)
		}
		sum := &Summary{Scenario: "s", StartedAt: start, DurationS: 1, Profiles: []ProfileSummary{ps}, Shard: label}
		if err := sum.WriteJSON(filepath.Join(d, "summary.json")); err != nil {
			t.Fatal(err)
		}
		return d
	}
	a, b := shard("a", "1/2", 1000), shard("b", "2/2", 9000)
	out := filepath.Join(dir, "m")
	if _, err := Merge([]string{a, b}, out); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(out, "p", "traffic.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 || lines[0] != "second,class,sent,ok,status_200,p50_ms,p90_ms,p99_ms,in_flight" {
		t.Fatalf("traffic.csv:\n%s", data)
	}
	// 20 requests: 10 at 1 ms and 10 at 9 ms, so p50 is 1 ms and p90 9 ms.
	f := strings.Split(lines[1], ",")
	if f[0] != "0" || f[2] != "20" || f[3] != "20" || f[4] != "20" || f[8] != "2" ||
		f[5] != "1" || !strings.HasPrefix(f[6], "9.0") {
		t.Errorf("merged second: %s; want 20 sent, ok and 200, p50 about 1 ms, p90 about 9 ms, 2 in flight", lines[1])
	}
}
