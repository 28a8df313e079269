package refserver

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// metrics counts what the server did, for GET /metrics in the Prometheus
// text exposition format. Safe for concurrent use.
type metrics struct {
	mu       sync.Mutex
	counters map[string]*atomic.Int64 // by series: name{labels}
}

// metricHelp documents every counter family the server exports.
var metricHelp = map[string]string{
	"abusesim_http_requests_total": "HTTP requests answered, by route and status.",
	"abusesim_ratelimit_decisions_total": "Rate limiter decisions: allowed, denied, " +
		"or store_error_{open,closed,local}.",
	"abusesim_cache_requests_total":     "Item cache lookups: hit, negative_hit, miss, coalesced.",
	"abusesim_dynamodb_calls_total":     "DynamoDB operations called, by operation.",
	"abusesim_dynamodb_retries_total":   "DynamoDB attempts beyond the first, made by the SDK's retryer.",
	"abusesim_dynamodb_throttles_total": "DynamoDB calls that failed throttled, by operation.",
	"abusesim_shed_requests_total":      "Requests refused with 503 while shedding load.",
	"abusesim_writes_skipped_total":     "Writes skipped, by reason: recent_duplicate, already_exists.",
}

func newMetrics() *metrics {
	return &metrics{counters: make(map[string]*atomic.Int64)}
}

// add adds n to the series name with labels, given as name, value pairs.
func (m *metrics) add(n int64, name string, labels ...string) {
	var b strings.Builder
	b.WriteString(name)
	if len(labels) > 0 {
		b.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%s=%q", labels[i], labels[i+1])
		}
		b.WriteByte('}')
	}
	series := b.String()

	m.mu.Lock()
	c, ok := m.counters[series]
	if !ok {
		c = new(atomic.Int64)
		m.counters[series] = c
	}
	m.mu.Unlock()
	c.Add(n)
}

func (m *metrics) request(route string, status int) {
	m.add(1, "abusesim_http_requests_total", "route", route, "status", fmt.Sprint(status))
}

func (m *metrics) limiter(decision string) {
	m.add(1, "abusesim_ratelimit_decisions_total", "decision", decision)
}

func (m *metrics) cache(result string) {
	m.add(1, "abusesim_cache_requests_total", "result", result)
}

// value returns one series' count, 0 when it was never counted.
func (m *metrics) value(series string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.counters[series]; ok {
		return c.Load()
	}
	return 0
}

// write prints every family's HELP and TYPE and its series, sorted.
func (m *metrics) write(w io.Writer) error {
	m.mu.Lock()
	series := make([]string, 0, len(m.counters))
	for s := range m.counters {
		series = append(series, s)
	}
	values := make(map[string]int64, len(series))
	for _, s := range series {
		values[s] = m.counters[s].Load()
	}
	m.mu.Unlock()
	slices.Sort(series)

	families := make([]string, 0, len(metricHelp))
	for f := range metricHelp {
		families = append(families, f)
	}
	slices.Sort(families)

	var b strings.Builder
	for _, f := range families {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s counter\n", f, metricHelp[f], f)
		for _, s := range series {
			if s == f || strings.HasPrefix(s, f+"{") {
				fmt.Fprintf(&b, "%s %d\n", s, values[s])
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
