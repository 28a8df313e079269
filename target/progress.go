package target

import (
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Progress follows a run as it goes, for a live display: give one to
// Config.Progress and call Snapshot from another goroutine. The zero value
// is ready to use; it is safe for concurrent use.
type Progress struct {
	sent, done, errors, status5xx atomic.Int64

	mu     sync.Mutex
	recent *hdrhistogram.Histogram // latencies since the last Snapshot
	last   ProgressSnapshot
}

// ProgressSnapshot is a run's state at one instant.
type ProgressSnapshot struct {
	At     time.Time
	Sent   int64 // requests sent so far, all classes
	Done   int64 // answers and transport errors so far
	Errors int64 // requests that got no HTTP answer (transport errors) so far
	// Status5xx counts the 5xx answers so far: server errors, but answers.
	Status5xx int64
	// RPS is the rate of sends since the previous snapshot.
	RPS float64
	// P99 is the latency p99 (from the intended start) of the requests that
	// finished since the previous snapshot; 0 when none did.
	P99 time.Duration
}

func (p *Progress) sentOne() {
	if p != nil {
		p.sent.Add(1)
	}
}

func (p *Progress) doneOne(code int, latencyUS int64) {
	if p == nil {
		return
	}
	p.done.Add(1)
	switch {
	case code == 0:
		p.errors.Add(1)
	case code >= 500:
		p.status5xx.Add(1)
	}
	p.mu.Lock()
	if p.recent == nil {
		p.recent = NewHistogram()
	}
	_ = p.recent.RecordValue(latencyUS)
	p.mu.Unlock()
}

// Snapshot returns the state at now and starts a new interval for RPS and
// P99.
func (p *Progress) Snapshot(now time.Time) ProgressSnapshot {
	p.mu.Lock()
	defer p.mu.Unlock()

	s := ProgressSnapshot{At: now, Sent: p.sent.Load(), Done: p.done.Load(), Errors: p.errors.Load(),
		Status5xx: p.status5xx.Load()}
	if p.recent != nil && p.recent.TotalCount() > 0 {
		s.P99 = time.Duration(p.recent.ValueAtQuantile(99)) * time.Microsecond
		p.recent.Reset()
	}
	if !p.last.At.IsZero() {
		if dt := now.Sub(p.last.At).Seconds(); dt > 0 {
			s.RPS = float64(s.Sent-p.last.Sent) / dt
		}
	}
	p.last = s
	return s
}
