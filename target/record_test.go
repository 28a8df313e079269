package target

import (
	"testing"
	"time"
)

func TestRecorderSecondsAndTotals(t *testing.T) {
	r := newRecorder("c", 3)

	// Second 0: two answers and a transport error; one request of second 0
	// finishes only after second 1 has been scheduled.
	r.scheduled(0)
	for range 4 {
		r.pending(0)
		r.sent(0, false)
	}
	r.done(0, 200, 10*time.Millisecond, 5*time.Millisecond)
	r.done(0, 429, 20*time.Millisecond, 5*time.Millisecond)
	r.done(0, 0, 30*time.Millisecond, 30*time.Millisecond)
	r.scheduled(1)
	r.pending(1)
	r.dropped(1)
	r.done(0, 200, 2*time.Second, time.Second) // late finisher still counts for second 0
	r.inFlight(0, 4)
	r.inFlight(7, 1) // outside the run: ignored

	res := r.result(3)
	if res.Sent != 4 || res.OK != 2 || res.Errors != 1 || res.Dropped != 1 {
		t.Errorf("sent %d ok %d errors %d dropped %d, want 4 2 1 1", res.Sent, res.OK, res.Errors, res.Dropped)
	}
	for key, want := range map[string]int64{"200": 2, "429": 1, "error": 1} {
		if got := res.Status[key]; got != want {
			t.Errorf("Status[%q] = %d, want %d", key, got, want)
		}
	}
	if got := res.Latency.TotalCount(); got != 4 {
		t.Errorf("Latency holds %d values, want 4", got)
	}
	if got, want := res.Latency.Max(), int64(2_000_000); !res.Latency.ValuesAreEquivalent(got, want) {
		t.Errorf("Latency max %d µs, want %d", got, want)
	}
	if got, want := res.Service.Max(), int64(1_000_000); !res.Service.ValuesAreEquivalent(got, want) {
		t.Errorf("Service max %d µs, want %d", got, want)
	}

	s0 := res.Seconds[0]
	if s0.Sent != 4 || s0.OK != 2 || s0.Status["200"] != 2 || s0.InFlight != 4 {
		t.Errorf("second 0 = %+v, want sent 4, ok 2, 2×200, in flight 4", s0)
	}
	// Four latencies 10, 20, 30, 2000 ms: the median is the second,
	// p90 and p99 the largest.
	if s0.LatencyP50Ms < 19.9 || s0.LatencyP50Ms > 20.1 || s0.LatencyP99Ms < 1990 || s0.LatencyP99Ms > 2010 {
		t.Errorf("second 0 p50 %v ms, p99 %v ms; want 20 and 2000", s0.LatencyP50Ms, s0.LatencyP99Ms)
	}
	if s1 := res.Seconds[1]; s1.Dropped != 1 || s1.Sent != 0 || s1.LatencyP50Ms != 0 {
		t.Errorf("second 1 = %+v, want one drop and nothing else", s1)
	}
	if got := len(r.result(2).Seconds); got != 2 {
		t.Errorf("result(2) has %d seconds, want 2", got)
	}
}

// The per-second histograms are recycled: a long run keeps only the few
// seconds still open, not one histogram per second or per request.
func TestRecorderReusesHistograms(t *testing.T) {
	const seconds = 300
	r := newRecorder("c", seconds)
	for sec := range seconds {
		r.scheduled(sec)
		for i := range 50 {
			r.pending(sec)
			r.sent(sec, false)
			r.done(sec, 200, time.Duration(i+1)*time.Millisecond, time.Millisecond)
		}
	}
	r.scheduled(seconds)

	if got := len(r.open); got != 0 {
		t.Errorf("%d seconds still open, want 0", got)
	}
	if got := len(r.free); got != 1 {
		t.Errorf("%d histograms allocated for per-second percentiles, want 1", got)
	}
	res := r.result(seconds)
	if got := res.Seconds[seconds-1].LatencyP90Ms; got < 44.9 || got > 45.1 {
		t.Errorf("last second p90 = %v ms, want 45", got)
	}
}
