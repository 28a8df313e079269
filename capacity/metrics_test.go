package capacity

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestRecorderSamples(t *testing.T) {
	r := newRecorder(func() time.Time { return t0 })
	r.consumed("T", "", sec(0).Add(100*time.Millisecond), 1, 0)
	r.consumed("T", "", sec(0).Add(900*time.Millisecond), 0.5, 2)
	r.throttled("T", "", "PutItem", sec(0).Add(999*time.Millisecond), true, 1, reasonWriteExceeded)
	r.throttled("T", "", "GetItem", sec(3), false, 1, reasonReadExceeded)
	r.throttled("T", "", "GetItem", sec(3), false, 1, reasonReadExceeded)
	r.consumed("U", "", sec(1), 7, 7)

	for _, tc := range []struct {
		name       string
		start, end time.Time
		want       []Sample
	}{
		{"all", sec(0), sec(10), []Sample{
			{Start: sec(0), ConsumedRCU: 1.5, ConsumedWCU: 2, WriteThrottleEvents: 1},
			{Start: sec(3), ReadThrottleEvents: 2},
		}},
		{"end is exclusive", sec(0), sec(3), []Sample{
			{Start: sec(0), ConsumedRCU: 1.5, ConsumedWCU: 2, WriteThrottleEvents: 1},
		}},
		{"start is inclusive", sec(3), sec(4), []Sample{{Start: sec(3), ReadThrottleEvents: 2}}},
		{"empty range", sec(1), sec(3), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := r.samples("T", tc.start, tc.end)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("samples = %v, want %v", got, tc.want)
			}
		})
	}

	if got := r.samples("nope", sec(0), sec(10)); got != nil {
		t.Errorf("unknown table samples = %v, want none", got)
	}
}

func TestEndpointSamplesHonoursContext(t *testing.T) {
	e := NewEndpoint(EndpointConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Samples(ctx, "T", sec(0), sec(1)); err == nil {
		t.Error("Samples with a cancelled context succeeded")
	}
}

// TestRecorderRetention: seconds are kept for three hours and then answer
// only periods of whole minutes, exactly; minutes are kept for 15 days and
// then nothing is answered or listed, and nothing is held.
func TestRecorderRetention(t *testing.T) {
	clock := newFakeClock(t0)
	r := newRecorder(clock.Now)
	s := series{metric: metricConsumedRead, table: "T"}
	r.consumed("T", "", sec(0), 1, 0)
	r.consumed("T", "", sec(30), 2, 0)
	r.consumed("T", "", sec(61), 4, 0)
	minutes := []point{
		{start: sec(0), stat: stat{sum: 3, min: 1, max: 2, count: 2}},
		{start: sec(60), stat: stat{sum: 4, min: 4, max: 4, count: 1}},
	}
	query := func(period int64) []point { return r.points(s, t0, clock.Now().Add(time.Hour), period) }
	if got := query(60); fmt.Sprint(got) != fmt.Sprint(minutes) {
		t.Fatalf("per-minute points while fresh = %v, want %v", got, minutes)
	}
	if got := query(1); len(got) != 3 {
		t.Fatalf("per-second points while fresh = %v, want 3", got)
	}

	// 3 h after second 61 ends, every second has rolled into its minute.
	clock.Advance(SecondRetention + 62*time.Second)
	if got := query(1); len(got) != 0 {
		t.Errorf("per-second points past 3 hours = %v, want none", got)
	}
	if got := query(60); fmt.Sprint(got) != fmt.Sprint(minutes) {
		t.Errorf("per-minute points past 3 hours = %v, want %v", got, minutes)
	}
	if n := len(r.seconds.order); n != 0 {
		t.Errorf("%d seconds held past 3 hours, want 0", n)
	}

	// A period spanning both tiers adds fresh seconds to rolled minutes.
	r.consumed("T", "", clock.Now(), 8, 0)
	long := r.points(s, t0, clock.Now().Add(time.Minute), 6*3600)
	if len(long) != 1 || long[0].sum != 15 || long[0].count != 4 || long[0].max != 8 {
		t.Errorf("6-hour point over both tiers = %v, want sum 15 of 4 observations", long)
	}

	clock.Advance(MinuteRetention)
	if got := query(60); len(got) != 0 {
		t.Errorf("per-minute points past 15 days = %v, want none", got)
	}
	if got := r.list(); len(got) != 0 {
		t.Errorf("series listed past 15 days = %v, want none", got)
	}
	if len(r.minutes.order) != 0 || len(r.last) != 0 {
		t.Errorf("held past 15 days: %d minutes, %d series; want none", len(r.minutes.order), len(r.last))
	}
}

// TestRecorderMemoryIsBounded: a request every second for four hours
// leaves at most three hours of seconds and the minutes before them.
func TestRecorderMemoryIsBounded(t *testing.T) {
	clock := newFakeClock(t0)
	r := newRecorder(clock.Now)
	const run = 4 * 3600
	for i := range run {
		r.consumed("T", "", sec(i), 1, 1)
	}
	keep := int(SecondRetention / time.Second)
	if n := len(r.seconds.order); n != keep {
		t.Errorf("%d seconds held, want %d", n, keep)
	}
	if n, want := len(r.minutes.order), (run-keep)/60; n != want {
		t.Errorf("%d minutes held, want %d", n, want)
	}
	got := r.points(series{metric: metricConsumedWrite, table: "T"}, t0, sec(run), 3600)
	if len(got) != 4 {
		t.Fatalf("hourly points = %v, want 4", got)
	}
	for _, p := range got {
		if p.sum != 3600 || p.count != 3600 {
			t.Errorf("hour %v: sum %v of %d, want 3600 of 3600", p.start, p.sum, p.count)
		}
	}
}
