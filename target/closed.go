package target

import (
	"context"
	"sync"
	"time"
)

func (c *Class) closedClients() int {
	if c.Clients == 0 {
		return 1
	}
	return c.Clients
}

// runClosed plays the closed model: Clients clients, each sending a
// request, waiting for its answer, thinking for ThinkTime and sending the
// next, until the run ends or ctx is cancelled. It returns the offset at
// which it stopped starting requests. Requests are numbered in the order
// they start, across clients.
//
// A closed model has no schedule to fall behind: each request's intended
// start is its actual start, so its latency is its service time and
// nothing is Late or Dropped. That is the model's blind spot (a slow
// server slows its own load down), which is why the open model is the
// default.
func (cr *classRun) runClosed(
	ctx, reqCtx context.Context, start time.Time, workers *sync.WaitGroup,
) time.Duration {
	end := start.Add(cr.runFor)
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

	for c := range cr.class.closedClients() {
		if !cr.shard.mine(int64(c)) {
			continue
		}
		workers.Go(func() {
			w := newWorker()
			timer := time.NewTimer(time.Hour)
			defer timer.Stop()
			for ctx.Err() == nil && time.Now().Before(end) {
				sec := cr.rec.pendingNow(start)
				cr.rec.sent(sec, false)
				cr.progress.sentOne()
				at := time.Since(start)
				j := job{n: number(), sec: sec, phase: cr.sched.Phase(at), intended: time.Now()}
				cr.do(reqCtx, w, j, int64(c))
				if cr.class.ThinkTime > 0 && !sleepUntil(ctx, timer, time.Now().Add(cr.class.ThinkTime)) {
					return
				}
			}
		})
	}

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	if !sleepUntil(ctx, timer, end) {
		return time.Since(start)
	}
	return cr.runFor
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
