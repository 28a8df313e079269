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

// AWS/DynamoDB metric names, as CloudWatch spells them ("DynamoDB metrics and
// dimensions", DynamoDB Developer Guide).
const (
	metricConsumedRead     = "ConsumedReadCapacityUnits"
	metricConsumedWrite    = "ConsumedWriteCapacityUnits"
	metricProvisionedRead  = "ProvisionedReadCapacityUnits"
	metricProvisionedWrite = "ProvisionedWriteCapacityUnits"
	metricReadThrottles    = "ReadThrottleEvents"
	metricWriteThrottles   = "WriteThrottleEvents"
	metricThrottled        = "ThrottledRequests"
	metricLatency          = "SuccessfulRequestLatency"
)

// reasonMetrics maps a throttling reason to the reason-specific throttle
// event metric DynamoDB publishes for it.
var reasonMetrics = map[string]string{
	"TableReadProvisionedThroughputExceeded":  "ReadProvisionedThroughputThrottleEvents",
	"TableWriteProvisionedThroughputExceeded": "WriteProvisionedThroughputThrottleEvents",
	"IndexReadProvisionedThroughputExceeded":  "ReadProvisionedThroughputThrottleEvents",
	"IndexWriteProvisionedThroughputExceeded": "WriteProvisionedThroughputThrottleEvents",
	"TableReadKeyRangeThroughputExceeded":     "ReadKeyRangeThroughputThrottleEvents",
	"TableWriteKeyRangeThroughputExceeded":    "WriteKeyRangeThroughputThrottleEvents",
	"IndexReadKeyRangeThroughputExceeded":     "ReadKeyRangeThroughputThrottleEvents",
	"IndexWriteKeyRangeThroughputExceeded":    "WriteKeyRangeThroughputThrottleEvents",
	"TableReadAccountLimitExceeded":           "ReadAccountLimitThrottleEvents",
	"TableWriteAccountLimitExceeded":          "WriteAccountLimitThrottleEvents",
	"IndexReadAccountLimitExceeded":           "ReadAccountLimitThrottleEvents",
	"IndexWriteAccountLimitExceeded":          "WriteAccountLimitThrottleEvents",
	"TableReadMaxOnDemandThroughputExceeded":  "ReadMaxOnDemandThroughputThrottleEvents",
	"TableWriteMaxOnDemandThroughputExceeded": "WriteMaxOnDemandThroughputThrottleEvents",
	"IndexReadMaxOnDemandThroughputExceeded":  "ReadMaxOnDemandThroughputThrottleEvents",
	"IndexWriteMaxOnDemandThroughputExceeded": "WriteMaxOnDemandThroughputThrottleEvents",
}

// series names one metric stream: a metric and its dimension values. An
// empty index or op means the dimension is absent.
type series struct {
	metric string
	table  string // TableName
	index  string // GlobalSecondaryIndexName
	op     string // Operation
}

// stat aggregates the observations of one series in one second, as
// CloudWatch's statistics see them.
type stat struct {
	sum, min, max float64
	count         int64
}

func (s *stat) add(v float64) {
	if s.count == 0 || v < s.min {
		s.min = v
	}
	if s.count == 0 || v > s.max {
		s.max = v
	}
	s.sum += v
	s.count++
}

func (s *stat) merge(o stat) {
	if o.count == 0 {
		return
	}
	if s.count == 0 || o.min < s.min {
		s.min = o.min
	}
	if s.count == 0 || o.max > s.max {
		s.max = o.max
	}
	s.sum += o.sum
	s.count += o.count
}

// How long the recorder keeps statistics, as CloudWatch retains metric
// data (CloudWatch API Reference, GetMetricStatistics and GetMetricData:
// "Data points with a period of less than 60 seconds are available for 3
// hours", "with a period of 60 seconds (1-minute) are available for 15
// days"; data published at a shorter period is aggregated for long-term
// storage). CloudWatch keeps 5-minute points for 63 days and 1-hour points
// for 455 days; the recorder keeps nothing past 15 days.
const (
	// SecondRetention is how long per-second statistics are kept; older
	// seconds are rolled into their minute.
	SecondRetention = 3 * time.Hour
	// MinuteRetention is how long per-minute statistics are kept.
	MinuteRetention = 15 * 24 * time.Hour
)

// recorder keeps statistics of every metric series: per second for
// SecondRetention, then per minute for MinuteRetention, then nothing. Its
// memory is bounded by the number of series times the seconds and minutes
// they are active within those windows. It is safe for concurrent use.
type recorder struct {
	mu      sync.Mutex
	now     func() time.Time
	seconds tier             // Unix second -> series -> statistics
	minutes tier             // Unix second starting a minute -> series -> statistics
	latest  int64            // the latest Unix second seen, by clock or observation
	last    map[series]int64 // per series, the last second it had data
}

// tier holds one resolution of statistics: per period start, per series.
type tier struct {
	at    map[int64]map[series]*stat
	order []int64 // the keys of at, ascending
}

// get returns the statistics of s in the period starting at start,
// creating them, and whether it created them.
func (t *tier) get(start int64, s series) (*stat, bool) {
	if t.at == nil {
		t.at = make(map[int64]map[series]*stat)
	}
	bySeries := t.at[start]
	if bySeries == nil {
		bySeries = make(map[series]*stat)
		t.at[start] = bySeries
		i, _ := slices.BinarySearch(t.order, start)
		t.order = slices.Insert(t.order, i, start)
	}
	if st := bySeries[s]; st != nil {
		return st, false
	}
	st := &stat{}
	bySeries[s] = st
	return st, true
}

// expire removes every period starting before cutoff, oldest first,
// handing each to gone.
func (t *tier) expire(cutoff int64, gone func(start int64, bySeries map[series]*stat)) {
	n := 0
	for n < len(t.order) && t.order[n] < cutoff {
		start := t.order[n]
		gone(start, t.at[start])
		delete(t.at, start)
		n++
	}
	t.order = t.order[n:]
}

// newRecorder returns an empty recorder whose retention windows end at the
// later of now() (when queried) and the latest observation; nil now means
// time.Now.
func newRecorder(now func() time.Time) *recorder {
	if now == nil {
		now = time.Now
	}
	return &recorder{now: now, last: make(map[series]int64)}
}

// advance moves the recorder's present to sec, rolling seconds older than
// SecondRetention into their minutes and dropping minutes older than
// MinuteRetention; r.mu must be held. Queries advance to the clock first,
// so what they see has aged even when nothing was recorded for a while.
func (r *recorder) advance(sec int64) {
	if sec <= r.latest {
		return
	}
	r.latest = sec
	r.seconds.expire(sec-int64(SecondRetention/time.Second)+1, func(start int64, bySeries map[series]*stat) {
		for s, st := range bySeries {
			minute, _ := r.minutes.get(minuteOf(start), s)
			minute.merge(*st)
		}
	})
	cutoff := sec - int64(MinuteRetention/time.Second) + 1
	r.minutes.expire(cutoff, func(_ int64, bySeries map[series]*stat) {
		for s := range bySeries {
			if r.last[s] < cutoff {
				delete(r.last, s)
			}
		}
	})
}

// minuteOf returns the first second of the minute holding sec.
func minuteOf(sec int64) int64 { return sec - ((sec%60)+60)%60 }

// observe adds one observation of value to s at now; r.mu must be held.
// An observation older than the retention windows is dropped.
func (r *recorder) observe(s series, now time.Time, value float64) {
	sec := now.Unix()
	r.advance(sec)
	var st *stat
	var fresh bool
	switch {
	case sec > r.latest-int64(SecondRetention/time.Second):
		st, fresh = r.seconds.get(sec, s)
	case sec > r.latest-int64(MinuteRetention/time.Second):
		st, fresh = r.minutes.get(minuteOf(sec), s)
	default:
		return
	}
	st.add(value)
	if fresh {
		r.last[s] = max(r.last[s], sec)
	}
}

// consumed records one request's consumption on table (index "" for the
// table itself) at now. A zero figure is not an observation.
func (r *recorder) consumed(table, index string, now time.Time, rcu, wcu float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rcu > 0 {
		r.observe(series{metric: metricConsumedRead, table: table, index: index}, now, rcu)
	}
	if wcu > 0 {
		r.observe(series{metric: metricConsumedWrite, table: table, index: index}, now, wcu)
	}
}

// provisioned records a table's (or index's) provisioned throughput in the
// second holding now, once per second: later calls in that second are ignored.
func (r *recorder) provisioned(table, index string, now time.Time, rcu, wcu int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	read := series{metric: metricProvisionedRead, table: table, index: index}
	if r.seconds.at[now.Unix()][read] != nil {
		return
	}
	r.observe(read, now, float64(rcu))
	r.observe(series{metric: metricProvisionedWrite, table: table, index: index}, now, float64(wcu))
}

// throttled records one throttled request of op on table at now: one
// ThrottledRequests, and events throttle events (one per item the request
// asked for) in the read or write metric and the reason's own metric.
func (r *recorder) throttled(table, index, op string, now time.Time, write bool, events int, reason string) {
	r.throttledRequest(table, op, now)
	r.throttleEvents(table, index, now, write, events, reason)
}

// throttledRequest counts one ThrottledRequests of op on table at now.
func (r *recorder) throttledRequest(table, op string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.observe(series{metric: metricThrottled, table: table, op: op}, now, 1)
}

// throttleEvents counts events throttle events on table (or its global
// index) at now, refused for reason, in ReadThrottleEvents or
// WriteThrottleEvents and the reason's own metric.
func (r *recorder) throttleEvents(table, index string, now time.Time, write bool, events int, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	metric := metricReadThrottles
	if write {
		metric = metricWriteThrottles
	}
	r.observe(series{metric: metric, table: table, index: index}, now, float64(events))
	if m, ok := reasonMetrics[reason]; ok {
		r.observe(series{metric: m, table: table, index: index}, now, float64(events))
	}
}

// latency records a successful request's latency.
func (r *recorder) latency(table, op string, now time.Time, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.observe(series{metric: metricLatency, table: table, op: op}, now, float64(d)/float64(time.Millisecond))
}

// point is one period of a series: its first second and its statistics.
type point struct {
	start time.Time
	stat
}

// points returns s aggregated over periods of period seconds whose start
// lies in [start, end), in time order; periods without data are absent. As
// in CloudWatch, periods are counted from start, rounded down to the whole
// minute for periods of a minute or more (to the second otherwise). A
// period of a whole number of minutes is answered from per-second and
// per-minute statistics alike, and so exactly over MinuteRetention; a
// shorter one only from per-second statistics, so seconds older than
// SecondRetention are absent, as CloudWatch returns no high-resolution
// data points past 3 hours.
func (r *recorder) points(s series, start, end time.Time, period int64) []point {
	origin := start.Unix()
	if period%60 == 0 {
		origin = minuteOf(origin)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.advance(r.now().Unix())

	buckets := map[int64]*stat{}
	collect := func(t *tier) {
		from, _ := slices.BinarySearch(t.order, origin)
		for _, sec := range t.order[from:] {
			if !time.Unix(sec, 0).Before(end) {
				break
			}
			st := t.at[sec][s]
			if st == nil {
				continue
			}
			b := origin + (sec-origin)/period*period
			if buckets[b] == nil {
				buckets[b] = &stat{}
			}
			buckets[b].merge(*st)
		}
	}
	collect(&r.seconds)
	if period%60 == 0 {
		collect(&r.minutes)
	}

	out := make([]point, 0, len(buckets))
	for b, st := range buckets {
		out = append(out, point{start: time.Unix(b, 0).UTC(), stat: *st})
	}
	slices.SortFunc(out, func(a, b point) int { return a.start.Compare(b.start) })
	return out
}

// list returns every series with data still kept, in a stable order.
func (r *recorder) list() []series {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.advance(r.now().Unix())
	out := make([]series, 0, len(r.last))
	for s := range r.last {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b series) int {
		for _, c := range [][2]string{{a.metric, b.metric}, {a.table, b.table}, {a.index, b.index}, {a.op, b.op}} {
			if c[0] != c[1] {
				if c[0] < c[1] {
					return -1
				}
				return 1
			}
		}
		return 0
	})
	return out
}

// samples returns table's seconds that start in [start, end), in time
// order. Seconds without consumption or throttle events are absent.
func (r *recorder) samples(table string, start, end time.Time) []Sample {
	bySecond := map[int64]*Sample{}
	get := func(t time.Time) *Sample {
		s := bySecond[t.Unix()]
		if s == nil {
			s = &Sample{Start: t}
			bySecond[t.Unix()] = s
		}
		return s
	}
	for _, p := range r.points(series{metric: metricConsumedRead, table: table}, start, end, 1) {
		get(p.start).ConsumedRCU = p.sum
	}
	for _, p := range r.points(series{metric: metricConsumedWrite, table: table}, start, end, 1) {
		get(p.start).ConsumedWCU = p.sum
	}
	for _, p := range r.points(series{metric: metricReadThrottles, table: table}, start, end, 1) {
		get(p.start).ReadThrottleEvents = int64(p.sum)
	}
	for _, p := range r.points(series{metric: metricWriteThrottles, table: table}, start, end, 1) {
		get(p.start).WriteThrottleEvents = int64(p.sum)
	}

	var out []Sample
	for _, s := range bySecond {
		out = append(out, *s)
	}
	sortSamples(out)
	return out
}

// sortSamples puts samples in time order.
func sortSamples(s []Sample) {
	slices.SortFunc(s, func(a, b Sample) int { return a.Start.Compare(b.Start) })
}
