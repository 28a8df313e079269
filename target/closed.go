package target

import (
	"context"
	"sync"
	"time"
)

// closedClients returns how many clients the closed model has: Clients,
// or with ClientPhases and no Clients the most the phases have active.
func (c *Class) closedClients() int {
	switch {
	case c.Clients > 0:
		return c.Clients
	case len(c.ClientPhases) > 0:
		return newClientSchedule(c.ClientPhases).peak()
	}
	return 1
}

// clientSchedule returns the class's closed-model schedule: its
// ClientPhases, or every client for the whole run.
func (cr *classRun) clientSchedule() *clientSchedule {
	if len(cr.class.ClientPhases) > 0 {
		return newClientSchedule(cr.class.ClientPhases)
	}
	n := cr.class.closedClients()
	return newClientSchedule([]ClientPhase{{Duration: cr.runFor, StartClients: n, EndClients: n}})
}

// runClosed plays the closed model: each client active in the class's
// schedule sends a request, waits for its answer, thinks for ThinkTime and
// sends the next, until the run ends or ctx is cancelled (see
// [clientSchedule.playClient]). It returns the offset at which it stopped
// starting requests. Requests are numbered in the order they start, across
// clients.
//
// A closed model has no schedule to fall behind: each request's intended
// start is its actual start, so its latency is its service time and
// nothing is Late or Dropped. That is the model's blind spot (a slow
// server slows its own load down), which is why the open model is the
// default.
func (cr *classRun) runClosed(
	ctx, reqCtx context.Context, start time.Time, workers *sync.WaitGroup,
) time.Duration {
	var (
		mu   sync.Mutex
		next int64
	)
	number := func() int64 {
		mu.Lock()
		defer mu.Unlock()
		next++
		return next - 1
	}
	stopTick := cr.closeSeconds(ctx, start)
	defer stopTick()

	sched := cr.clientSchedule()
	perPhase := len(cr.class.ClientPhases) > 0
	for c := range cr.class.closedClients() {
		if !cr.shard.mine(int64(c)) {
			continue
		}
		workers.Go(func() {
			w := newWorker()
			clk := &wallClock{start: start, timer: time.NewTimer(time.Hour)}
			defer clk.timer.Stop()
			sched.playClient(ctx, c, cr.runFor, cr.class.ThinkTime, clk, func(at time.Duration) {
				sec := cr.rec.pendingNow(start)
				cr.rec.sent(sec, false)
				cr.progress.sentOne()
				j := job{n: number(), sec: sec, phase: -1, intended: start.Add(at)}
				if perPhase {
					j.phase = sched.phase(at)
				}
				cr.do(reqCtx, w, j, int64(c))
			})
		})
	}

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	if !sleepUntil(ctx, timer, start.Add(cr.runFor)) {
		return time.Since(start)
	}
	return cr.runFor
}

// wallClock is the closedClock of a real run: offsets from start.
type wallClock struct {
	start time.Time
	timer *time.Timer
}

func (w *wallClock) now() time.Duration { return time.Since(w.start) }

func (w *wallClock) sleepUntil(ctx context.Context, t time.Duration) bool {
	return sleepUntil(ctx, w.timer, w.start.Add(t))
}

// closeSeconds tells the recorder, at each second boundary, that the
// seconds before it are fully started, until the returned stop is called.
func (cr *classRun) closeSeconds(ctx context.Context, start time.Time) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		timer := time.NewTimer(time.Hour)
		defer timer.Stop()
		for sec := 1; ; sec++ {
			if !sleepUntil(ctx, timer, start.Add(time.Duration(sec)*time.Second)) {
				return
			}
			cr.rec.scheduled(sec)
		}
	})
	return func() {
		cancel()
		wg.Wait()
		cr.rec.scheduled(int(cr.runFor/time.Second) + 1)
	}
}
