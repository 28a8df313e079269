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

// recorder keeps per-second statistics of every metric series. It is safe
// for concurrent use.
//
// TODO: statistics are kept for the whole life of the endpoint (one small
// record per series per active second); a long-lived endpoint would need a
// retention window like CloudWatch's.
type recorder struct {
	mu   sync.Mutex
	data map[series]map[int64]*stat // series -> Unix second -> statistics
}

func newRecorder() *recorder {
	return &recorder{data: make(map[series]map[int64]*stat)}
}

// observe adds one observation of value to s at now; r.mu must be held.
func (r *recorder) observe(s series, now time.Time, value float64) {
	seconds := r.data[s]
	if seconds == nil {
		seconds = make(map[int64]*stat)
		r.data[s] = seconds
	}
	sec := now.Unix()
	st := seconds[sec]
	if st == nil {
		st = &stat{}
		seconds[sec] = st
	}
	st.add(value)
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
	if r.data[read][now.Unix()] != nil {
		return
	}
	r.observe(read, now, float64(rcu))
	r.observe(series{metric: metricProvisionedWrite, table: table, index: index}, now, float64(wcu))
}

// throttled records one throttled request of op on table at now: one
// ThrottledRequests, and events throttle events (one per item the request
// asked for) in the read or write metric and the reason's own metric.
func (r *recorder) throttled(table, index, op string, now time.Time, write bool, events int, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.observe(series{metric: metricThrottled, table: table, op: op}, now, 1)
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
// minute for periods of a minute or more (to the second otherwise).
func (r *recorder) points(s series, start, end time.Time, period int64) []point {
	origin := start.Unix()
	if period%60 == 0 {
		origin -= ((origin % 60) + 60) % 60
	}
	r.mu.Lock()
	defer r.mu.Unlock()

	buckets := map[int64]*stat{}
	for sec, st := range r.data[s] {
		if sec < origin || !time.Unix(sec, 0).Before(end) {
			continue
		}
		b := origin + (sec-origin)/period*period
		if buckets[b] == nil {
			buckets[b] = &stat{}
		}
		buckets[b].merge(*st)
	}
	out := make([]point, 0, len(buckets))
	for b, st := range buckets {
		out = append(out, point{start: time.Unix(b, 0).UTC(), stat: *st})
	}
	slices.SortFunc(out, func(a, b point) int { return a.start.Compare(b.start) })
	return out
}

// list returns every series recorded, in a stable order.
func (r *recorder) list() []series {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]series, 0, len(r.data))
	for s := range r.data {
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
