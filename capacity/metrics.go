package capacity

import (
	"slices"
	"sync"
	"time"
)

// Sample is one second of a table's consumed capacity and throttle events,
// the local counterpart of CloudWatch's ConsumedReadCapacityUnits,
// ConsumedWriteCapacityUnits, ReadThrottleEvents and WriteThrottleEvents at a
// one-second period. Consumed figures are capacity units (RCU/WCU; on-demand
// tables consume the same numbers as RRU/WRU).
type Sample struct {
	Start               time.Time // the second's first instant
	ConsumedRCU         float64
	ConsumedWCU         float64
	ReadThrottleEvents  int64
	WriteThrottleEvents int64
}

// recorder keeps per-second samples for every table. It is safe for
// concurrent use.
//
// TODO: samples are kept for the whole life of the endpoint (one small
// record per table per active second); a long-lived endpoint would need a
// retention window.
type recorder struct {
	mu     sync.Mutex
	tables map[string]map[int64]*Sample // table -> Unix second -> sample
}

func newRecorder() *recorder {
	return &recorder{tables: make(map[string]map[int64]*Sample)}
}

// sample returns the record of table's second holding now; r.mu must be held.
func (r *recorder) sample(table string, now time.Time) *Sample {
	seconds := r.tables[table]
	if seconds == nil {
		seconds = make(map[int64]*Sample)
		r.tables[table] = seconds
	}
	sec := now.Unix()
	s := seconds[sec]
	if s == nil {
		s = &Sample{Start: time.Unix(sec, 0).UTC()}
		seconds[sec] = s
	}
	return s
}

// consumed adds capacity units consumed by table at now.
func (r *recorder) consumed(table string, now time.Time, rcu, wcu float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.sample(table, now)
	s.ConsumedRCU += rcu
	s.ConsumedWCU += wcu
}

// throttled counts one throttle event of table at now.
func (r *recorder) throttled(table string, now time.Time, write bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.sample(table, now)
	if write {
		s.WriteThrottleEvents++
	} else {
		s.ReadThrottleEvents++
	}
}

// samples returns copies of table's recorded seconds that start in
// [start, end), in time order. Seconds without activity are absent.
func (r *recorder) samples(table string, start, end time.Time) []Sample {
	r.mu.Lock()
	defer r.mu.Unlock()

	var out []Sample
	for _, s := range r.tables[table] {
		if !s.Start.Before(start) && s.Start.Before(end) {
			out = append(out, *s)
		}
	}
	slices.SortFunc(out, func(a, b Sample) int { return a.Start.Compare(b.Start) })
	return out
}
