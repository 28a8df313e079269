package capacity

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

type window struct {
	start, end time.Time
	live       bool // the context passed was not done
}

// fakeSource serves fixed samples for the seconds that have begun on its
// clock, advances the clock by step on every call, fails the calls listed in
// fail and cancels the run after cancelAfter calls.
type fakeSource struct {
	mu          sync.Mutex
	clock       *fakeClock
	step        time.Duration
	data        []Sample
	fail        map[int]bool
	cancelAfter int
	cancel      context.CancelFunc
	calls       []window
}

func (f *fakeSource) Samples(ctx context.Context, table string, start, end time.Time) ([]Sample, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if table != "T" {
		return nil, fmt.Errorf("table %q", table)
	}
	f.calls = append(f.calls, window{start, end, ctx.Err() == nil})
	n := len(f.calls)
	now := f.clock.Now()
	f.clock.Advance(f.step)
	if n == f.cancelAfter {
		f.cancel()
	}
	if f.fail[n] {
		return nil, errors.New("source unavailable")
	}

	var out []Sample
	for _, s := range f.data {
		if !s.Start.Before(start) && s.Start.Before(end) && !s.Start.After(now) {
			out = append(out, s)
		}
	}
	return out, nil
}

func TestMonitorRun(t *testing.T) {
	clock := newFakeClock(t0.Add(400 * time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := &fakeSource{
		clock: clock, step: 2 * time.Second, cancelAfter: 3, cancel: cancel, fail: map[int]bool{3: true},
		data: []Sample{
			{Start: sec(1), ConsumedRCU: 3},
			{Start: sec(4), ConsumedWCU: 2, WriteThrottleEvents: 7},
		},
	}
	m := &Monitor{Source: src, Table: "T", Interval: time.Millisecond, Lookback: time.Second, Now: clock.Now}

	got, err := m.Run(ctx)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}

	want := []Sample{
		{Start: sec(0)},
		{Start: sec(1), ConsumedRCU: 3},
		{Start: sec(2)},
		{Start: sec(3)},
		{Start: sec(4), ConsumedWCU: 2, WriteThrottleEvents: 7},
		{Start: sec(5)},
		{Start: sec(6)},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("series =\n%v\nwant\n%v", got, want)
	}

	wantCalls := []window{
		{sec(0), sec(1), true}, // at 0.4 s
		{sec(0), sec(3), true}, // at 2.4 s; from moves to 1 s (lookback 1 s)
		{sec(1), sec(5), true}, // at 4.4 s, fails; from stays
		{sec(1), sec(7), true}, // the final poll at 6.4 s, after cancel, on a live context
	}
	if fmt.Sprint(src.calls) != fmt.Sprint(wantCalls) {
		t.Errorf("calls =\n%v\nwant\n%v", src.calls, wantCalls)
	}
}

func TestMonitorFinalPollError(t *testing.T) {
	clock := newFakeClock(t0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := &fakeSource{
		clock: clock, step: time.Second, cancelAfter: 1, cancel: cancel, fail: map[int]bool{2: true},
		data: []Sample{{Start: sec(0), ConsumedRCU: 1}},
	}
	m := &Monitor{Source: src, Table: "T", Interval: time.Millisecond, Now: clock.Now}

	got, err := m.Run(ctx)
	if err == nil {
		t.Fatal("Run succeeded, want the final poll's error")
	}
	want := []Sample{{Start: sec(0), ConsumedRCU: 1}, {Start: sec(1)}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("series = %v, want %v", got, want)
	}
}

func TestMonitorNoSource(t *testing.T) {
	if _, err := (&Monitor{Table: "T"}).Run(context.Background()); err == nil {
		t.Error("Run without a source succeeded")
	}
}

// TestMonitorWithEndpoint reads the endpoint's own records through Source.
func TestMonitorWithEndpoint(t *testing.T) {
	clock := newFakeClock(t0)
	e := NewEndpoint(EndpointConfig{Now: clock.Now})
	e.rec.consumed("T", "", sec(0), 1.5, 0)
	e.rec.consumed("T", "", sec(2), 0, 4)
	e.rec.throttled("T", "", "GetItem", sec(2), false, 1, reasonReadExceeded)
	e.rec.consumed("other", "", sec(1), 9, 9)
	clock.Advance(2500 * time.Millisecond)

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // only the final poll runs
	got, err := (&Monitor{Source: e, Table: "T", Now: clock.Now}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Run started at 2.5 s, so its series starts at second 2.
	want := []Sample{{Start: sec(2), ConsumedWCU: 4, ReadThrottleEvents: 1}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("series = %v, want %v", got, want)
	}
}
