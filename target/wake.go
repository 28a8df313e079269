package target

import (
	"context"
	"time"
)

// A waker puts one goroutine to sleep until an instant, more precisely
// than a time.Timer can.
//
// Go's timers are precise while the process is busy, but an idle process
// waits for its next timer in epoll_wait, whose timeout is whole
// milliseconds: a sleep of 100 µs then lasts a millisecond. At 10,000
// requests a second that made the dispatcher up to a millisecond late
// whenever no answer happened to wake it first. On Linux a waker arms a
// timerfd instead and reads it through the runtime's poller, so the kernel
// wakes the goroutine at the instant (tens of microseconds on an idle
// machine) without a thread spinning; elsewhere, or if the timerfd cannot
// be made, it falls back to a time.Timer.
//
// A waker is for one goroutine at a time; close releases it.
type waker struct {
	timer *time.Timer // the fallback; nil until first needed
	sys   sysWaker
}

// newWaker returns a waker whose sleeps end early, reporting false, when
// ctx ends.
func newWaker(ctx context.Context) *waker {
	w := &waker{}
	w.sys.init(ctx)
	return w
}

// until waits until t and reports false if ctx ended first. It returns at
// once when t has passed.
func (w *waker) until(ctx context.Context, t time.Time) bool {
	if ctx.Err() != nil {
		return false
	}
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	if w.sys.sleep(d) {
		return ctx.Err() == nil
	}
	if ctx.Err() != nil {
		return false
	}
	if w.timer == nil {
		w.timer = time.NewTimer(time.Hour)
	}
	return sleepUntil(ctx, w.timer, t)
}

func (w *waker) close() {
	if w.timer != nil {
		w.timer.Stop()
	}
	w.sys.close()
}
