package target

import (
	"strconv"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram bounds: values are microseconds from 1 µs to 60 s, kept to
// three significant digits. Longer latencies are recorded as 60 s.
const (
	histLowestUS  = 1
	histHighestUS = 60_000_000
	histDigits    = 3
)

// NewHistogram returns an empty latency histogram with the bounds every
// histogram of a [Result] has, so they merge without loss.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowestUS, histHighestUS, histDigits)
}

// Result is what a run recorded.
type Result struct {
	Start   time.Time
	Elapsed time.Duration // real run time, including the wait for in-flight requests
	Classes []ClassResult
}

// ClassResult is what one traffic class recorded. Every request the
// schedule held by the end of the run is either Sent or Dropped.
type ClassResult struct {
	Name string

	// Sent counts requests handed to a worker; OK counts the 2xx answers.
	Sent, OK int64

	// Late counts sent requests that waited for a free worker past their
	// intended start; their latency includes the wait.
	Late int64

	// Dropped counts requests that found every worker busy and could not
	// start within the class's MaxLateness of their intended start.
	Dropped int64

	// Errors counts transport errors (no HTTP status, timeouts included);
	// they are in Status["error"] too.
	Errors int64

	// Aborted counts requests still in flight when a cancelled run stopped
	// waiting for them. They have no status and no latency.
	Aborted int64

	// Status counts answers by status code ("200", "429", ...) and
	// transport errors as "error".
	Status map[string]int64

	// Latency holds microseconds from the intended start to the end of the
	// response body (coordinated omission corrected); Service the same
	// from the actual send.
	Latency *hdrhistogram.Histogram
	Service *hdrhistogram.Histogram

	// Seconds is the per-second series, one entry per second of the run.
	Seconds []Second
}

// Second is one second of a class's run. Requests belong to the second of
// their intended start, whenever they finish.
type Second struct {
	Offset  int // seconds since Result.Start
	Sent    int64
	OK      int64
	Dropped int64
	Status  map[string]int64

	// Latency percentiles of the second, in milliseconds from the intended
	// start; 0 when nothing finished.
	LatencyP50Ms, LatencyP90Ms, LatencyP99Ms float64

	// InFlight is the number of requests in flight at the end of the second.
	InFlight int64
}

// statusError is the Status key of transport errors.
const statusError = "error"

var statusKeys = func() []string {
	keys := make([]string, 600)
	for code := range keys {
		keys[code] = strconv.Itoa(code)
	}
	return keys
}()

func statusKey(code int) string {
	if code >= 0 && code < len(statusKeys) {
		return statusKeys[code]
	}
	return strconv.Itoa(code)
}

// recorder accumulates one class's results. It is safe for concurrent use.
//
// Per-second latency percentiles come from a histogram per second that is
// still open; a second closes once the schedule has moved past it and its
// last request has finished, and its histogram is reset and reused. So the
// histograms alive at once are bounded by how many seconds a request can
// span (lateness plus timeout), never by the request count.
type recorder struct {
	mu       sync.Mutex
	res      ClassResult
	open     map[int]*openSecond
	free     []*hdrhistogram.Histogram
	schedSec int // every second before this one is fully scheduled
}

type openSecond struct {
	hist    *hdrhistogram.Histogram
	pending int64 // sent, not yet finished
}

func newRecorder(name string, seconds int) *recorder {
	r := &recorder{
		res: ClassResult{
			Name:    name,
			Status:  map[string]int64{},
			Latency: NewHistogram(),
			Service: NewHistogram(),
			Seconds: make([]Second, seconds),
		},
		open: map[int]*openSecond{},
	}
	for i := range r.res.Seconds {
		r.res.Seconds[i] = Second{Offset: i, Status: map[string]int64{}}
	}
	return r
}

// scheduled tells the recorder that every request intended before second
// sec has been sent or dropped, so earlier seconds can close.
func (r *recorder) scheduled(sec int) {
	r.mu.Lock()
	defer r.mu.Unlock()

	r.schedSec = max(r.schedSec, sec)
	for s, o := range r.open {
		if s < r.schedSec && o.pending == 0 {
			r.closeSecond(s)
		}
	}
}

// pending counts a due request against its second before any worker can
// finish it; sent, dropped or unpend then settles it.
func (r *recorder) pending(sec int) {
	r.mu.Lock()
	defer r.mu.Unlock()

	o := r.open[sec]
	if o == nil {
		o = &openSecond{hist: r.newHist()}
		r.open[sec] = o
	}
	o.pending++
}

func (r *recorder) sent(sec int, late bool) {
	r.mu.Lock()
	defer r.mu.Unlock()

	r.res.Sent++
	if late {
		r.res.Late++
	}
	if s := r.second(sec); s != nil {
		s.Sent++
	}
}

// unpend takes back a pending request that was neither sent nor dropped
// because the run was cancelled.
func (r *recorder) unpend(sec int) {
	r.mu.Lock()
	defer r.mu.Unlock()

	r.finish(sec, -1)
}

func (r *recorder) dropped(sec int) {
	r.mu.Lock()
	defer r.mu.Unlock()

	r.res.Dropped++
	if s := r.second(sec); s != nil {
		s.Dropped++
	}
	r.finish(sec, -1)
}

// done records a finished request: its status code (0 for a transport
// error), its latency from the intended start and from the send.
func (r *recorder) done(sec, code int, latency, service time.Duration) {
	key := statusError
	if code != 0 {
		key = statusKey(code)
	}
	ok := code >= 200 && code < 300
	latencyUS := clampUS(latency)

	r.mu.Lock()
	defer r.mu.Unlock()

	r.res.Status[key]++
	if code == 0 {
		r.res.Errors++
	}
	if ok {
		r.res.OK++
	}
	_ = r.res.Latency.RecordValue(latencyUS) // cannot fail: clamped to the bounds
	_ = r.res.Service.RecordValue(clampUS(service))

	if s := r.second(sec); s != nil {
		s.Status[key]++
		if ok {
			s.OK++
		}
	}
	r.finish(sec, latencyUS)
}

// aborted records a request given up on when a cancelled run stopped.
func (r *recorder) aborted(sec int) {
	r.mu.Lock()
	defer r.mu.Unlock()

	r.res.Aborted++
	r.finish(sec, -1)
}

// finish takes a request off its second's pending count, recording its
// latency unless latencyUS < 0, and closes the second if it is complete.
func (r *recorder) finish(sec int, latencyUS int64) {
	o := r.open[sec]
	if o == nil {
		return
	}
	if latencyUS >= 0 {
		_ = o.hist.RecordValue(latencyUS)
	}
	o.pending--
	if o.pending == 0 && sec < r.schedSec {
		r.closeSecond(sec)
	}
}

func (r *recorder) inFlight(sec int, n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()

	if s := r.second(sec); s != nil {
		s.InFlight = n
	}
}

// result closes every open second and returns the class result, its series
// cut to the first seconds seconds.
func (r *recorder) result(seconds int) ClassResult {
	r.mu.Lock()
	defer r.mu.Unlock()

	for s := range r.open {
		r.closeSecond(s)
	}
	res := r.res
	res.Seconds = res.Seconds[:min(max(seconds, 0), len(res.Seconds))]
	return res
}

func (r *recorder) closeSecond(sec int) {
	o := r.open[sec]
	delete(r.open, sec)
	if s := r.second(sec); s != nil && o.hist.TotalCount() > 0 {
		s.LatencyP50Ms = float64(o.hist.ValueAtQuantile(50)) / 1000
		s.LatencyP90Ms = float64(o.hist.ValueAtQuantile(90)) / 1000
		s.LatencyP99Ms = float64(o.hist.ValueAtQuantile(99)) / 1000
	}
	o.hist.Reset()
	r.free = append(r.free, o.hist)
}

func (r *recorder) newHist() *hdrhistogram.Histogram {
	if n := len(r.free); n > 0 {
		h := r.free[n-1]
		r.free = r.free[:n-1]
		return h
	}
	return NewHistogram()
}

func (r *recorder) second(sec int) *Second {
	if sec < 0 || sec >= len(r.res.Seconds) {
		return nil
	}
	return &r.res.Seconds[sec]
}

func clampUS(d time.Duration) int64 {
	return min(max(d.Microseconds(), 0), histHighestUS)
}
