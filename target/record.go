package target

import (
	"slices"
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
	// RawErr is the first error writing Config.Raw, if any.
	RawErr error
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
	// they are in Status["error"] too. ErrorReasons counts them by why
	// ("timeout", "connection refused", a TLS failure, or the error's
	// message without addresses), at most ten distinct reasons and the
	// rest under "other"; nil when there were none.
	Errors       int64
	ErrorReasons map[string]int64

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

	// Lag holds microseconds from each request's intended start to its
	// actual send (first attempt): the generator's own scheduling delay
	// plus any wait for a free worker.
	Lag *hdrhistogram.Histogram

	// Retries counts the attempts made after the first, over all requests;
	// the server saw Sent + Retries requests.
	Retries int64

	// Seconds is the per-second series, one entry per second of the run.
	Seconds []Second

	// Requests breaks the totals down by entry of the class's mix, in mix
	// order; Phases by phase of its schedule (Phases, or ClientPhases in
	// the closed model), in order, empty for a closed model without
	// phases; Families by status family, in the order of
	// [StatusFamilies], families nothing fell into left out.
	Requests []Breakdown
	Phases   []Breakdown
	Families []Breakdown

	// Intervals holds one latency histogram (from the intended start) per
	// second of the run that had answers, in order: the content of an
	// HdrHistogram interval log. Encoded compressed, so a long run keeps a
	// few hundred bytes per second, not a histogram; the encoding does not
	// keep start and end times, so Offset says which second it is.
	Intervals []Interval
}

// Breakdown is one slice of a class's answers: a request name, a phase or
// a status family.
type Breakdown struct {
	Name    string
	Done    int64 // answers and transport errors recorded
	OK      int64
	Errors  int64
	Retries int64
	Status  map[string]int64
	Latency *hdrhistogram.Histogram // µs from the intended start
	Service *hdrhistogram.Histogram // µs from the actual send
}

// Interval is one second's latency histogram in compressed HdrHistogram
// form (hdrhistogram.Decode reads it).
type Interval struct {
	Offset    int
	Histogram []byte
}

// StatusFamilies names the families of ClassResult.Families.
var StatusFamilies = []string{"2xx", "3xx", "4xx", "5xx", "error"}

// StatusFamily returns the family of a status code: "2xx" to "5xx", and
// "error" for 0 (a transport error) or anything outside 200..599.
func StatusFamily(code int) string {
	return StatusFamilies[familyIndex(code)]
}

func familyIndex(code int) int {
	if code >= 200 && code < 600 {
		return code/100 - 2
	}
	return len(StatusFamilies) - 1
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

// StatusError is the Status key of transport errors: no HTTP status.
const StatusError = "error"

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
	requests []Breakdown
	phases   []Breakdown
	families []Breakdown
	open     map[int]*openSecond
	free     []*hdrhistogram.Histogram
	schedSec int // every second before this one is fully scheduled
}

// outcome is one finished request, as the recorder takes it.
type outcome struct {
	code             int // 0 for a transport error
	request, phase   int // indexes into the mix and the phases; -1: none
	retries          int64
	latency, service time.Duration
	lag              time.Duration // -1: not known
}

func newBreakdown(name string) Breakdown {
	return Breakdown{Name: name, Status: map[string]int64{}, Latency: NewHistogram(), Service: NewHistogram()}
}

func (b *Breakdown) add(key string, o *outcome, latencyUS, serviceUS int64) {
	b.Done++
	b.Status[key]++
	b.Retries += o.retries
	if o.code == 0 {
		b.Errors++
	}
	if o.code >= 200 && o.code < 300 {
		b.OK++
	}
	_ = b.Latency.RecordValue(latencyUS)
	_ = b.Service.RecordValue(serviceUS)
}

// newClassRecorder returns the recorder of class c with a breakdown per
// mix entry and per phase.
func newClassRecorder(c *Class, seconds int) *recorder {
	r := newRecorder(c.Name, seconds)
	for i, q := range c.Mix {
		name := q.Name
		if name == "" {
			name = strconv.Itoa(i + 1)
		}
		r.requests = append(r.requests, newBreakdown(name))
	}
	phases := len(c.Phases)
	if c.Executor == Concurrency {
		phases = len(c.ClientPhases)
	}
	for i := range phases {
		r.phases = append(r.phases, newBreakdown(strconv.Itoa(i+1)))
	}
	return r
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
			Lag:     NewHistogram(),
			Seconds: make([]Second, seconds),
		},
		open: map[int]*openSecond{},
	}
	for _, f := range StatusFamilies {
		r.families = append(r.families, newBreakdown(f))
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
	r.record(sec, outcome{code: code, request: -1, phase: -1, latency: latency, service: service, lag: -1})
}

// record records a finished request with everything known about it.
func (r *recorder) record(sec int, o outcome) {
	key := StatusError
	if o.code != 0 {
		key = statusKey(o.code)
	}
	ok := o.code >= 200 && o.code < 300
	latencyUS, serviceUS := clampUS(o.latency), clampUS(o.service)

	r.mu.Lock()
	defer r.mu.Unlock()

	r.res.Status[key]++
	r.res.Retries += o.retries
	if o.code == 0 {
		r.res.Errors++
	}
	if ok {
		r.res.OK++
	}
	_ = r.res.Latency.RecordValue(latencyUS) // cannot fail: clamped to the bounds
	_ = r.res.Service.RecordValue(serviceUS)
	if o.lag >= 0 {
		_ = r.res.Lag.RecordValue(clampUS(o.lag))
	}
	if o.request >= 0 && o.request < len(r.requests) {
		r.requests[o.request].add(key, &o, latencyUS, serviceUS)
	}
	if o.phase >= 0 && o.phase < len(r.phases) {
		r.phases[o.phase].add(key, &o, latencyUS, serviceUS)
	}
	r.families[familyIndex(o.code)].add(key, &o, latencyUS, serviceUS)

	if s := r.second(sec); s != nil {
		s.Status[key]++
		if ok {
			s.OK++
		}
	}
	r.finish(sec, latencyUS)
}

// pendingNow counts a closed-model request as pending in the second it
// starts, read under the lock so that a second cannot be closed between
// reading the clock and counting the request, and returns that second.
func (r *recorder) pendingNow(start time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()

	sec := int(time.Since(start) / time.Second)
	o := r.open[sec]
	if o == nil {
		o = &openSecond{hist: r.newHist()}
		r.open[sec] = o
	}
	o.pending++
	return sec
}

// aborted records a request given up on when a cancelled run stopped.
// transportError counts the reason of a request's transport error; the
// request itself is recorded by record.
func (r *recorder) transportError(err error) {
	reason := errorReason(err)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.res.ErrorReasons == nil {
		r.res.ErrorReasons = map[string]int64{}
	}
	errorReasons(r.res.ErrorReasons).add(reason)
}

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

	// Order does not matter: each second is closed into its own slot, and
	// the intervals are sorted below.
	for s := range r.open {
		r.closeSecond(s)
	}
	res := r.res
	res.Seconds = res.Seconds[:min(max(seconds, 0), len(res.Seconds))]
	res.Requests = r.requests
	res.Phases = r.phases
	for _, f := range r.families {
		if f.Done > 0 {
			res.Families = append(res.Families, f)
		}
	}
	slices.SortFunc(res.Intervals, func(a, b Interval) int { return a.Offset - b.Offset })
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
	if o.hist.TotalCount() > 0 {
		if enc, err := o.hist.Encode(hdrhistogram.V2CompressedEncodingCookieBase); err == nil {
			r.res.Intervals = append(r.res.Intervals, Interval{Offset: sec, Histogram: enc})
		}
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
