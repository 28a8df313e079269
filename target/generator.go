package target

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxLateness is how long after its intended start a request may
// still wait for a free worker before it is Dropped.
const DefaultMaxLateness = time.Second

// cancelWait bounds how long a cancelled run waits for in-flight requests
// (never longer than the class timeout) before aborting them.
const cancelWait = time.Second

// userAgent is sent unless a class or request sets its own.
const userAgent = "abusesim"

// errRunStopped aborts the requests still in flight when a cancelled run
// stops waiting for them.
var errRunStopped = errors.New("target: run stopped")

// Run plays cfg against its target and returns what it recorded.
//
// Every class runs concurrently from the same start for cfg.Duration, then
// Run waits for the requests still in flight, which each class's Timeout
// bounds. Scheduling is open loop, per class:
//   - request n is due at [Schedule.At](n) after the start, whether or not
//     earlier requests have finished;
//   - at most Workers requests are in flight; when all are busy, a due
//     request waits for the first free worker and is counted Late, its
//     latency still measured from its intended start;
//   - a request that cannot start within MaxLateness of its intended start,
//     for want of a worker or because the dispatcher itself fell behind, is
//     Dropped and never sent. So after a stall only the requests of the
//     last MaxLateness are sent late, and only as fast as workers free up:
//     there is no unbounded burst to catch up.
//
// When ctx is cancelled Run stops scheduling at once, waits up to one
// second (or the class timeout, if shorter) for in-flight requests, aborts
// the rest (counted Aborted) and returns the partial result with a nil
// error. Errors are for an invalid cfg only.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	base, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	for i := range cfg.Classes {
		c := &cfg.Classes[i]
		if c.SourceAddr.IsValid() && !CanBind(c.SourceAddr) {
			return nil, fmt.Errorf("target: class %s: cannot bind source address %s on this host",
				c.Name, c.SourceAddr)
		}
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	runs := make([]*classRun, len(cfg.Classes))
	for i := range cfg.Classes {
		runs[i] = newClassRun(&cfg, i, strings.TrimSuffix(base.String(), "/"), base.Host, logger)
	}

	start := time.Now()
	res := &Result{Start: start, Classes: make([]ClassResult, len(runs))}
	var wg sync.WaitGroup
	for i, cr := range runs {
		wg.Go(func() { res.Classes[i] = cr.run(ctx, start) })
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	return res, nil
}

// classRun is the state of one class during a run.
type classRun struct {
	class    *Class
	prefix   string // base URL without a trailing slash
	host     string // host[:port] every request must go to
	sched    *Schedule
	runFor   time.Duration
	maxLate  time.Duration
	client   *http.Client
	rec      *recorder
	logger   *slog.Logger
	seed     [2]uint64
	mixCum   []int // running sums of the mix weights
	inFlight atomic.Int64
	warned   atomic.Bool
}

// job is one due request on its way to a worker.
type job struct {
	n        int64
	sec      int
	intended time.Time
}

func newClassRun(cfg *Config, index int, prefix, host string, logger *slog.Logger) *classRun {
	c := &cfg.Classes[index]
	cr := &classRun{
		class:   c,
		prefix:  prefix,
		host:    host,
		sched:   NewSchedule(c.Phases),
		runFor:  cfg.Duration,
		maxLate: c.maxLateness(),
		client:  newClient(c),
		rec:     newRecorder(c.Name, int((cfg.Duration+time.Second-1)/time.Second)),
		logger:  logger.With("class", c.Name),
		seed:    [2]uint64{splitmix64(uint64(cfg.Seed)), splitmix64(uint64(index) + 0x9e3779b97f4a7c15)},
	}
	sum := 0
	for _, r := range c.Mix {
		sum += r.Weight
		cr.mixCum = append(cr.mixCum, sum)
	}
	return cr
}

func (c *Class) maxLateness() time.Duration {
	if c.MaxLateness == 0 {
		return DefaultMaxLateness
	}
	return c.MaxLateness
}

// run schedules the class until the run ends or ctx is cancelled, waits for
// its in-flight requests and returns its result.
func (cr *classRun) run(ctx context.Context, start time.Time) ClassResult {
	reqCtx, abort := context.WithCancelCause(context.WithoutCancel(ctx))
	defer abort(nil)
	stopSampler := cr.sampleInFlight(start)

	jobs := make(chan job)
	var workers sync.WaitGroup
	spawn := func(j job) {
		workers.Go(func() { cr.work(reqCtx, j, jobs) })
	}
	stoppedAt := cr.dispatch(ctx, start, jobs, spawn)
	close(jobs)
	cr.rec.inFlight(int(stoppedAt/time.Second), cr.inFlight.Load())

	if ctx.Err() != nil {
		if !waitTimeout(&workers, min(cr.class.timeout(), cancelWait)) {
			abort(errRunStopped)
		}
	}
	workers.Wait()
	stopSampler()
	cr.client.CloseIdleConnections()

	res := cr.rec.result(int((stoppedAt + time.Second - 1) / time.Second))
	cr.logger.Debug("class finished", "sent", res.Sent, "ok", res.OK,
		"late", res.Late, "dropped", res.Dropped, "errors", res.Errors)
	return res
}

// dispatch hands every due request to a worker, following the rules in
// [Run]'s documentation, and returns the offset at which it stopped.
//
// TODO: one dispatcher goroutine per class sleeps once per request; past
// some tens of thousands of requests per second per class its own timer
// and lock overhead will make it fall behind (counted as drops, not hidden).
// Handing out requests due within the same few microseconds as a batch
// would lift that ceiling; no scenario needs it yet.
func (cr *classRun) dispatch(
	ctx context.Context, start time.Time, jobs chan<- job, spawn func(job),
) time.Duration {
	p := pool{jobs: jobs, spawn: spawn, capacity: cr.class.workers(), timer: time.NewTimer(time.Hour)}
	defer p.timer.Stop()
	scheduledSec := -1

	for n := int64(0); ; n++ {
		at, ok := cr.sched.At(n)
		if !ok || at >= cr.runFor {
			break
		}
		j := job{n: n, sec: int(at / time.Second), intended: start.Add(at)}
		if j.sec > scheduledSec {
			cr.rec.scheduled(j.sec)
			scheduledSec = j.sec
		}
		if !sleepUntil(ctx, p.timer, j.intended) {
			return time.Since(start)
		}

		// The request counts as pending before any worker can see it, so
		// its second cannot close under it.
		cr.rec.pending(j.sec)
		switch p.handoff(ctx, j, j.intended.Add(cr.maxLate)) {
		case handedOff:
			cr.rec.sent(j.sec, false)
		case handedOffLate:
			cr.rec.sent(j.sec, true)
		case tooLate:
			cr.rec.dropped(j.sec)
		case cancelled:
			cr.rec.unpend(j.sec)
			return time.Since(start)
		}
	}

	cr.rec.scheduled(int(cr.runFor/time.Second) + 1)
	if !sleepUntil(ctx, p.timer, start.Add(cr.runFor)) {
		return time.Since(start)
	}
	return cr.runFor
}

// pool is the dispatcher's view of a class's workers: an idle worker takes
// a job from jobs; below capacity, spawn starts a new worker with it.
type pool struct {
	jobs     chan<- job
	spawn    func(job)
	capacity int
	started  int
	timer    *time.Timer
}

type handoffResult int

const (
	handedOff     handoffResult = iota // a worker was free
	handedOffLate                      // a worker freed up before the deadline
	tooLate                            // the deadline passed first
	cancelled                          // the run was cancelled first
)

// handoff gives j to a worker, waiting for one until deadline. A job whose
// deadline has already passed (the dispatcher itself fell behind) is not
// sent at all, so a stalled dispatcher cannot burst to catch up.
func (p *pool) handoff(ctx context.Context, j job, deadline time.Time) handoffResult {
	wait := time.Until(deadline)
	if wait <= 0 {
		return tooLate
	}
	select {
	case p.jobs <- j:
		return handedOff
	default:
	}
	if p.started < p.capacity {
		p.started++
		p.spawn(j)
		return handedOff
	}

	p.timer.Reset(wait)
	defer p.timer.Stop()
	select {
	case p.jobs <- j:
		return handedOffLate
	case <-p.timer.C:
		return tooLate
	case <-ctx.Done():
		return cancelled
	}
}

// sleepUntil waits until t and reports false if ctx ended first.
func sleepUntil(ctx context.Context, timer *time.Timer, t time.Time) bool {
	if ctx.Err() != nil {
		return false
	}
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	timer.Reset(d)
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		timer.Stop()
		return false
	}
}

// waitTimeout waits for wg up to d and reports whether it finished.
func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-done:
		return true
	case <-timer.C:
		return false
	}
}

// sampleInFlight records the in-flight count at the end of every second
// of the run until the returned stop is called.
func (cr *classRun) sampleInFlight(start time.Time) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		timer := time.NewTimer(time.Hour)
		defer timer.Stop()
		for sec := 0; time.Duration(sec)*time.Second < cr.runFor; sec++ {
			if !sleepUntil(ctx, timer, start.Add(time.Duration(sec+1)*time.Second)) {
				return
			}
			cr.rec.inFlight(sec, cr.inFlight.Load())
		}
	})
	return func() {
		cancel()
		wg.Wait()
	}
}

// worker is what one worker goroutine reuses from request to request.
type worker struct {
	pcg  *rand.PCG
	rand *rand.Rand
	url  []byte
}

// work runs first, then every job from jobs until it is closed.
func (cr *classRun) work(ctx context.Context, first job, jobs <-chan job) {
	pcg := rand.NewPCG(0, 0)
	w := &worker{pcg: pcg, rand: rand.New(pcg)}
	cr.do(ctx, w, first)
	for j := range jobs {
		cr.do(ctx, w, j)
	}
}

// do sends one request and records its outcome.
//
// The worker's random source is reseeded from the run seed, the class
// index and the request number, so request n of a class draws the same
// mix entry, key and ids in every run with the same seed, whichever worker
// sends it.
func (cr *classRun) do(ctx context.Context, w *worker, j job) {
	cr.inFlight.Add(1)
	defer cr.inFlight.Add(-1)

	w.pcg.Seed(cr.seed[0], splitmix64(cr.seed[1]+uint64(j.n)))
	req := cr.pick(w.rand)
	tc := TemplateContext{Rand: w.rand, Seq: j.n, Class: cr.class.Name}
	if cr.class.Keys != nil && (req.Path.UsesKey() || (req.Body != nil && req.Body.UsesKey())) {
		tc.Key = cr.class.Keys.Key(w.rand)
	}

	rctx, cancel := context.WithTimeout(ctx, cr.class.timeout())
	defer cancel()
	send := time.Now()
	tc.Now = send
	code, err := cr.send(rctx, w, req, &tc)
	end := time.Now()

	if err != nil && errors.Is(context.Cause(rctx), errRunStopped) {
		cr.rec.aborted(j.sec)
		return
	}
	if err != nil && cr.warned.CompareAndSwap(false, true) {
		cr.logger.Warn("first transport error of the class; later ones are only counted", "err", err)
	}
	cr.rec.done(j.sec, code, end.Sub(j.intended), end.Sub(send))
}

// send builds and sends req and drains its answer. It returns the status
// code, or an error for a transport failure (a timeout included).
func (cr *classRun) send(ctx context.Context, w *worker, req *Request, tc *TemplateContext) (int, error) {
	w.url = req.Path.Append(append(w.url[:0], cr.prefix...), tc)
	var body io.Reader
	if req.Body != nil {
		// A fresh slice: the transport may read a body after Do returns.
		body = bytes.NewReader(req.Body.Append(nil, tc))
	}
	hreq, err := http.NewRequestWithContext(ctx, req.method(), string(w.url), body)
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	if hreq.URL.Host != cr.host {
		return 0, fmt.Errorf("build request: path %q leaves the target host", req.Path)
	}

	hreq.Header.Set("User-Agent", userAgent)
	if req.Body != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}
	for k, v := range cr.class.Headers {
		hreq.Header.Set(k, v)
	}
	for k, v := range req.Headers {
		hreq.Header.Set(k, v)
	}

	resp, err := cr.client.Do(hreq)
	if err != nil {
		return 0, err
	}
	if err := drain(resp.Body); err != nil {
		return 0, fmt.Errorf("read response body: %w", err)
	}
	return resp.StatusCode, nil
}

// pick chooses a request of the mix by weight.
func (cr *classRun) pick(r *rand.Rand) *Request {
	x := r.IntN(cr.mixCum[len(cr.mixCum)-1])
	for i, c := range cr.mixCum {
		if x < c {
			return &cr.class.Mix[i]
		}
	}
	return &cr.class.Mix[len(cr.class.Mix)-1]
}

// splitmix64 scrambles x so that nearby inputs give unrelated seeds.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
