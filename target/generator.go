package target

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
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
		if c.Identities != nil {
			for _, a := range c.Identities.Sources {
				if !CanBind(a) {
					return nil, fmt.Errorf("target: class %s: cannot bind identity source %s on this host",
						c.Name, a)
				}
			}
		}
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	raw := newRawLog(cfg.Raw, cfg.RawTag, cfg.RawAppend)
	runs := make([]*classRun, len(cfg.Classes))
	for i := range cfg.Classes {
		runs[i] = newClassRun(&cfg, i, strings.TrimSuffix(base.String(), "/"), base.Host, logger)
		runs[i].raw = raw
	}

	start := time.Now()
	res := &Result{Start: start, Classes: make([]ClassResult, len(runs))}
	var wg sync.WaitGroup
	for i, cr := range runs {
		wg.Go(func() { res.Classes[i] = cr.run(ctx, start) })
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.RawErr = raw.close()
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
	clients  []*http.Client // by identity source; one when there is no pool
	rec      *recorder
	progress *Progress
	shard    Shard
	raw      *rawLog
	fast     bool        // plain HTTP/1.1 through fastClient, not clients
	fclient  *fastClient // when fast
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
	phase    int
	intended time.Time
}

func newClassRun(cfg *Config, index int, prefix, host string, logger *slog.Logger) *classRun {
	c := &cfg.Classes[index]
	cr := &classRun{
		class:    c,
		prefix:   prefix,
		host:     host,
		sched:    NewSchedule(c.Phases),
		runFor:   cfg.Duration,
		maxLate:  c.maxLateness(),
		rec:      newClassRecorder(c, int((cfg.Duration+time.Second-1)/time.Second)),
		progress: cfg.Progress,
		shard:    cfg.Shard,
		logger:   logger.With("class", c.Name),
		seed:     [2]uint64{splitmix64(uint64(cfg.Seed)), splitmix64(uint64(index) + 0x9e3779b97f4a7c15)},
	}
	src := c.SourceAddr
	if c.Identities != nil && len(c.Identities.Sources) > 0 {
		src = c.Identities.Sources[0]
		for _, src := range c.Identities.Sources {
			cr.clients = append(cr.clients, newClient(c, src))
		}
	} else {
		cr.clients = []*http.Client{newClient(c, c.SourceAddr)}
	}
	cr.fast = !cfg.StdClient && cr.fastOK(strings.SplitN(prefix, ":", 2)[0])
	if cr.fast {
		addr := host
		if _, _, err := net.SplitHostPort(host); err != nil {
			addr = net.JoinHostPort(strings.Trim(host, "[]"), "80")
		}
		cr.fclient = cr.newFastClient(addr, src)
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
	if cr.fast {
		// Aborting fails the requests in flight by closing their
		// connections.
		context.AfterFunc(reqCtx, cr.fclient.closeAll)
	}

	jobs := make(chan job)
	var workers sync.WaitGroup
	var stoppedAt time.Duration
	if cr.class.Executor == Concurrency {
		stoppedAt = cr.runClosed(ctx, reqCtx, start, &workers)
	} else {
		spawn := func(j job) {
			workers.Go(func() { cr.work(reqCtx, j, jobs) })
		}
		stoppedAt = cr.dispatch(ctx, start, jobs, spawn)
	}
	close(jobs)
	cr.rec.inFlight(int(stoppedAt/time.Second), cr.inFlight.Load())

	if ctx.Err() != nil {
		if !waitTimeout(&workers, min(cr.class.timeout(), cancelWait)) {
			abort(errRunStopped)
		}
	}
	workers.Wait()
	stopSampler()
	for _, c := range cr.clients {
		c.CloseIdleConnections()
	}
	if cr.fast {
		cr.fclient.hc.CloseIdleConnections()
		cr.fclient.closeAll()
	}

	res := cr.rec.result(int((stoppedAt + time.Second - 1) / time.Second))
	cr.logger.Debug("class finished", "sent", res.Sent, "ok", res.OK,
		"late", res.Late, "dropped", res.Dropped, "errors", res.Errors)
	return res
}

// dispatch hands every due request to a worker, following the rules in
// [Run]'s documentation, and returns the offset at which it stopped.
//
// It sleeps until each request's intended start with a [waker], not a
// time.Timer, whose wake-ups can be a millisecond late.
//
// TODO: one dispatcher goroutine per class sleeps once per request; past
// some tens of thousands of requests per second per class its own timer
// and lock overhead will make it fall behind. The requests it cannot start
// in time are dropped in bulk (see [classRun.dropBefore]), so the run still
// ends on time and the drops are counted, not hidden. Handing out requests
// due within the same few microseconds as a batch would lift that ceiling;
// no scenario needs it yet.
func (cr *classRun) dispatch(
	ctx context.Context, start time.Time, jobs chan<- job, spawn func(job),
) time.Duration {
	p := pool{jobs: jobs, spawn: spawn, capacity: cr.class.workers(), timer: time.NewTimer(time.Hour),
		noWait: cr.class.LateMode == LateDrop}
	defer p.timer.Stop()
	wake := newWaker(ctx)
	defer wake.close()
	scheduledSec := -1
	arrivals := cr.arrivals()
	mine := cr.shardFilter()

	for n := int64(0); ; n++ {
		at, ok := arrivals.at(n)
		if !ok || at >= cr.runFor {
			break
		}
		if behind := time.Since(start) - cr.maxLate; at < behind {
			// Every request due before behind is past its deadline: drop
			// them by the second, not one by one, so a rate the
			// dispatcher cannot follow costs nothing per request.
			n = cr.dropBefore(arrivals, n, at, min(behind, cr.runFor), mine) - 1
			continue
		}
		if !mine(n) {
			continue
		}
		j := job{n: n, sec: int(at / time.Second), phase: cr.sched.Phase(at), intended: start.Add(at)}
		if j.sec > scheduledSec {
			cr.rec.scheduled(j.sec)
			scheduledSec = j.sec
		}
		if !wake.until(ctx, j.intended) {
			return time.Since(start)
		}

		// The request counts as pending before any worker can see it, so
		// its second cannot close under it.
		cr.rec.pending(j.sec)
		switch p.handoff(ctx, j, j.intended.Add(cr.maxLate)) {
		case handedOff:
			cr.rec.sent(j.sec, false)
			cr.progress.sentOne()
		case handedOffLate:
			cr.rec.sent(j.sec, true)
			cr.progress.sentOne()
		case tooLate:
			cr.rec.dropped(j.sec)
		case cancelled:
			cr.rec.unpend(j.sec)
			return time.Since(start)
		}
	}

	cr.rec.scheduled(int(cr.runFor/time.Second) + 1)
	if !wake.until(ctx, start.Add(cr.runFor)) {
		return time.Since(start)
	}
	return cr.runFor
}

// shardFilter returns whether request n is this shard's. With per-client
// identities, a request goes to the shard of its virtual client, so shards
// share no identity; otherwise requests are dealt round robin. Either way
// the shards together send exactly the whole run's requests.
func (cr *classRun) shardFilter() func(n int64) bool {
	if cr.shard.count() == 1 {
		return func(int64) bool { return true }
	}
	ids := cr.class.Identities
	if ids == nil || !ids.PerClient || cr.class.Clients == 0 {
		return cr.shard.mine
	}
	w := newWorker()
	return func(n int64) bool { return cr.shard.mine(cr.clientOf(w, n)) }
}

// clientOf is the virtual client do will give request n: the same draws
// from the same seed.
func (cr *classRun) clientOf(w *worker, n int64) int64 {
	w.pcg.Seed(cr.seed[0], splitmix64(cr.seed[1]+uint64(n)))
	cr.pick(w.rand)
	return w.rand.Int64N(int64(cr.class.Clients))
}

// arrivals returns the intended starts of the class's requests: the
// schedule's evenly spaced starts, or a Poisson process at the same rate
// drawn from the run's seed. Both place each arrival by the integral of
// the rate, never by adding durations, so neither drifts over a long run.
func (cr *classRun) arrivals() *arrivals {
	a := &arrivals{sched: cr.sched}
	if cr.class.Arrival == ArrivalPoisson {
		a.poisson = rand.New(rand.NewPCG(cr.seed[0], splitmix64(cr.seed[1]^0x706f6973736f6e)))
	}
	return a
}

// dropBefore counts as Dropped, without sending them, request n (due at
// at) and every later request due before t, and returns the number of
// the first request due at or after t. Its cost grows with the seconds
// the stretch spans, not with the requests in it, except for a shard of
// per-client identities, which must still draw each request's client to
// know whether it is its own.
func (cr *classRun) dropBefore(
	arr *arrivals, n int64, at, t time.Duration, mine func(int64) bool,
) int64 {
	first, last := int(at/time.Second), int((t-1)/time.Second)
	for sec := first; sec <= last; sec++ {
		lo := max(at, time.Duration(sec)*time.Second)
		hi := min(t, time.Duration(sec+1)*time.Second)
		count := arr.skip(n, lo, hi, sec == first)
		if k := cr.countMine(n, n+count, mine); k > 0 {
			cr.rec.droppedMany(sec, k)
		}
		n += count
	}
	cr.rec.scheduled(last)
	return n
}

// countMine returns how many of the requests [lo, hi) are this shard's.
func (cr *classRun) countMine(lo, hi int64, mine func(int64) bool) int64 {
	if cr.shard.count() == 1 {
		return hi - lo
	}
	ids := cr.class.Identities
	if ids == nil || !ids.PerClient || cr.class.Clients == 0 {
		before := func(x int64) int64 { // how many of [0, x) are mine
			c, i := int64(cr.shard.count()), int64(cr.shard.Index)
			return max(0, (x-i+c-1)/c)
		}
		return before(hi) - before(lo)
	}
	k := int64(0)
	for m := lo; m < hi; m++ {
		if mine(m) {
			k++
		}
	}
	return k
}

// arrivals gives the intended offset of request n, called with n = 0, 1,
// 2, ... in order, or skips stretches of them; see [classRun.arrivals].
type arrivals struct {
	sched   *Schedule
	poisson *rand.Rand // nil for evenly spaced starts
	x       float64    // Poisson: the integral of the rate at the last arrival
}

func (a *arrivals) at(n int64) (time.Duration, bool) {
	if a.poisson == nil {
		return a.sched.At(n)
	}
	a.x += a.poisson.ExpFloat64()
	return a.sched.AtIntegral(a.x)
}

// skip passes over the arrivals in [lo, hi), the first of them request n
// when withN, and returns how many there were. The next call to at gives
// the first arrival at or after hi. A Poisson process is memoryless, so
// the count of a stretch is drawn alone and the process restarts at hi.
func (a *arrivals) skip(n int64, lo, hi time.Duration, withN bool) int64 {
	if a.poisson == nil {
		from := n
		if !withN {
			from = max(n, a.sched.Count(lo))
		}
		if withN {
			return max(a.sched.Count(hi)-from, 1) // at least n, due in [lo, hi)
		}
		return max(a.sched.Count(hi)-from, 0)
	}
	x := a.sched.Integral(hi)
	mean := x - max(a.x, a.sched.Integral(lo))
	a.x = x
	k := drawPoisson(a.poisson, mean)
	if withN {
		k++ // request n itself, already drawn
	}
	return k
}

// drawPoisson draws a Poisson variate of the given mean: by Knuth's
// product of uniforms when small, by its normal approximation (exact to a
// fraction of a standard deviation) when large.
func drawPoisson(r *rand.Rand, mean float64) int64 {
	if !(mean > 0) {
		return 0
	}
	if mean > 64 {
		return max(0, int64(math.Round(mean+math.Sqrt(mean)*r.NormFloat64())))
	}
	limit, p, k := math.Exp(-mean), r.Float64(), int64(0)
	for p > limit {
		p *= r.Float64()
		k++
	}
	return k
}

// droppedMany records n requests of second sec as Dropped at once; none of
// them was ever pending.
func (r *recorder) droppedMany(sec int, n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()

	r.res.Dropped += n
	if s := r.second(sec); s != nil {
		s.Dropped += n
	}
}

// pool is the dispatcher's view of a class's workers: an idle worker takes
// a job from jobs; below capacity, spawn starts a new worker with it.
type pool struct {
	jobs     chan<- job
	spawn    func(job)
	capacity int
	started  int
	timer    *time.Timer
	noWait   bool // drop at once when every worker is busy
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
	if p.noWait {
		return tooLate
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

// splitmix64 scrambles x so that nearby inputs give unrelated seeds.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
