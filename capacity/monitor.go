package capacity

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Source is where a Monitor reads per-second samples: the local Endpoint
// now, CloudWatch later. Samples returns the seconds of table that start in
// [start, end), in time order; seconds without data may be absent.
type Source interface {
	Samples(ctx context.Context, table string, start, end time.Time) ([]Sample, error)
}

// Monitor defaults.
const (
	// DefaultMonitorInterval is how often a Monitor polls when Interval is 0.
	DefaultMonitorInterval = time.Second
	// DefaultMonitorLookback is how far back each poll re-reads when
	// Lookback is 0, so seconds still being written are read again.
	DefaultMonitorLookback = 5 * time.Second
	// finalPollTimeout bounds the last poll, made after ctx has ended.
	finalPollTimeout = 5 * time.Second
)

// Monitor polls a Source for one table every Interval until its context
// ends, then returns the whole per-second series. Configure it through its
// fields; the zero value of each optional field means its default. A Monitor
// runs once at a time.
type Monitor struct {
	Source   Source
	Table    string
	Interval time.Duration    // 0 -> DefaultMonitorInterval
	Lookback time.Duration    // 0 -> DefaultMonitorLookback
	Now      func() time.Time // nil -> time.Now
	Logger   *slog.Logger     // nil -> discard
}

// Run polls until ctx ends and returns one Sample per second from the second
// Run started in to the second it ended in, seconds the Source had no data
// for as zero samples. When ctx ends it polls once more, so the last seconds
// are not lost. A failed poll is logged and retried at the next tick; only a
// failure of the final poll is returned, with the series gathered so far.
func (m *Monitor) Run(ctx context.Context) ([]Sample, error) {
	if m.Source == nil {
		return nil, fmt.Errorf("capacity: monitor: no source")
	}
	now := m.Now
	if now == nil {
		now = time.Now
	}
	interval := m.Interval
	if interval <= 0 {
		interval = DefaultMonitorInterval
	}
	logger := m.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	p := &poller{m: m, now: now, first: now().Truncate(time.Second), got: map[int64]Sample{}}
	p.from = p.first

	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalPollTimeout)
			defer cancel()
			err := p.poll(final)
			if err != nil {
				err = fmt.Errorf("capacity: monitor: table %s: final poll: %w", m.Table, err)
			}
			return p.series(), err
		case <-ticker.C:
			if err := p.poll(ctx); err != nil && ctx.Err() == nil {
				logger.Warn("capacity monitor poll failed; retrying at the next tick",
					"table", m.Table, "err", err)
			}
		}
	}
}

// poller holds one Run's state.
type poller struct {
	m     *Monitor
	now   func() time.Time
	first time.Time        // the second Run started in
	from  time.Time        // the first second the next poll reads
	last  time.Time        // the latest second seen by a poll
	got   map[int64]Sample // Unix second -> sample
}

// poll reads [from, the current second] and moves from to the lookback
// window before the current second.
func (p *poller) poll(ctx context.Context) error {
	current := p.now().Truncate(time.Second)
	if current.After(p.last) {
		p.last = current
	}
	samples, err := p.m.Source.Samples(ctx, p.m.Table, p.from, current.Add(time.Second))
	if err != nil {
		return err
	}
	for _, s := range samples {
		p.got[s.Start.Unix()] = s
	}

	lookback := p.m.Lookback
	if lookback <= 0 {
		lookback = DefaultMonitorLookback
	}
	if next := current.Add(-lookback); next.After(p.from) {
		p.from = next
	}
	return nil
}

// series lays the samples out one per second, gaps as zeros.
func (p *poller) series() []Sample {
	last := p.last
	if last.Before(p.first) {
		last = p.first
	}
	out := make([]Sample, 0, int(last.Sub(p.first)/time.Second)+1)
	for t := p.first; !t.After(last); t = t.Add(time.Second) {
		s, ok := p.got[t.Unix()]
		if !ok {
			s = Sample{Start: t.UTC()}
		}
		out = append(out, s)
	}
	return out
}
