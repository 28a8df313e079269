package target

import (
	"testing"
	"time"
)

// Errors count requests with no HTTP answer, as the summary does; 5xx
// answers are counted apart.
func TestProgressCountsErrorsApartFrom5xx(t *testing.T) {
	var p Progress
	for _, code := range []int{200, 503, 500, 0, 429} {
		p.doneOne(code, 1000)
	}
	if s := p.Snapshot(time.Now()); s.Errors != 1 || s.Status5xx != 2 || s.Done != 5 {
		t.Errorf("snapshot %+v, want 1 error, 2 5xx, 5 done", s)
	}
}

// A snapshot's rate is the sends since the previous snapshot over the time
// between them, and its p99 is of the requests that finished in between:
// the next snapshot starts afresh.
func TestProgressSnapshotRateAndP99(t *testing.T) {
	var p Progress
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p.Snapshot(t0)
	for i := range 200 {
		p.sentOne()
		p.doneOne(200, int64(1000*(i+1))) // 1 ms .. 200 ms
	}
	s := p.Snapshot(t0.Add(2 * time.Second))
	if s.RPS != 100 || s.Sent != 200 {
		t.Errorf("rate %v over 2 s with %d sent, want 100 req/s and 200", s.RPS, s.Sent)
	}
	if s.P99 < 197*time.Millisecond || s.P99 > 199*time.Millisecond {
		t.Errorf("p99 %v of 1..200 ms, want 198 ms (HDR precision aside)", s.P99)
	}
	if next := p.Snapshot(t0.Add(3 * time.Second)); next.RPS != 0 || next.P99 != 0 {
		t.Errorf("snapshot after an idle second %+v, want zero rate and p99", next)
	}
}
