package harness

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/abusesim/abusesim/scenarios"
	"github.com/abusesim/abusesim/target"
)

func TestIntervalLogReadsBack(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	res := &target.Result{Start: start}
	for ci, name := range []string{"legit", "attacker"} {
		c := target.ClassResult{Name: name}
		for sec := range 3 {
			h := target.NewHistogram()
			for v := range 10 * (sec + 1) {
				_ = h.RecordValue(int64(1000 * (v + 1 + ci)))
			}
			enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
			if err != nil {
				t.Fatal(err)
			}
			c.Intervals = append(c.Intervals, target.Interval{Offset: sec, Histogram: enc})
		}
		res.Classes = append(res.Classes, c)
	}

	data, err := intervalLog(res)
	if err != nil {
		t.Fatalf("intervalLog: %v", err)
	}
	r := hdrhistogram.NewHistogramLogReader(bytes.NewReader(data))
	var got []string
	counts := map[string]int64{}
	for {
		h, err := r.NextIntervalHistogram()
		if err == io.EOF || h == nil {
			break
		}
		if err != nil {
			t.Fatalf("read log: %v\n%s", err, data)
		}
		off := (h.StartTimeMs() - start.UnixMilli()) / 1000
		got = append(got, h.Tag())
		counts[h.Tag()] += h.TotalCount()
		if off < 0 || off > 2 || h.EndTimeMs()-h.StartTimeMs() != 1000 {
			t.Errorf("interval %s at %d..%d ms, want a whole second of the run", h.Tag(), h.StartTimeMs(), h.EndTimeMs())
		}
	}
	if len(got) != 6 || counts["legit"] != 60 || counts["attacker"] != 60 {
		t.Errorf("read %d intervals %v with counts %v, want 3 per class holding 60 each\n%s", len(got), got, counts, data)
	}
}

func TestCheckThresholds(t *testing.T) {
	share := func(f float64) *float64 { return &f }
	sc := &scenarios.Scenario{Classes: []scenarios.Class{
		{Name: "legit", Thresholds: &scenarios.Thresholds{
			P99: 100 * time.Millisecond, ErrorRate: share(0.01), Share429: share(0.1), MinSuccess: share(0.99),
			Profiles: []string{"protected"},
		}},
		{Name: "attacker"},
	}}
	ps := ProfileSummary{Name: "protected", Classes: []ClassSummary{
		{Name: "legit", Sent: 1000, OK: 995, Errors: 1, Status: map[string]int64{"200": 995, "503": 4, "error": 1},
			LatencyMs: Percentiles{P99: 150}},
		{Name: "attacker", Sent: 10},
	}}
	got := checkThresholds(sc, ps)
	want := map[string]bool{"p99_ms": false, "error_rate": true, "share_429": true, "min_success": true}
	if len(got) != len(want) {
		t.Fatalf("got %d results %v, want %d", len(got), got, len(want))
	}
	for _, r := range got {
		if r.Passed != want[r.Metric] {
			t.Errorf("%s: passed %v, want %v (%s)", r.Metric, r.Passed, want[r.Metric], r)
		}
	}
	if r := got[1]; r.Value != 0.005 {
		t.Errorf("error rate %v, want 5 of 1000 (4×503 + 1 transport error)", r.Value)
	}

	var sum Summary
	sum.recordThresholds(got)
	if sum.ThresholdsPassed == nil || *sum.ThresholdsPassed || len(sum.FailedThresholds()) != 1 {
		t.Errorf("summary passed %v with %d failed, want false with 1", sum.ThresholdsPassed, len(sum.FailedThresholds()))
	}
	if other := checkThresholds(sc, ProfileSummary{Name: "unprotected", Classes: ps.Classes}); len(other) != 0 {
		t.Errorf("thresholds for protected only were checked on unprotected: %v", other)
	}
}
