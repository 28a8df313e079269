package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/abusesim/abusesim/target"
)

// Progress line intervals: a few times a second on a terminal, rarely
// where the output is a log (a variable so a test need not wait 10 s).
var (
	progressTerminal = 250 * time.Millisecond
	progressLog      = 10 * time.Second
)

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// startProgress prints a progress line for p until the returned stop is
// called: rewritten in place on a terminal, one line every 10 s otherwise.
func startProgress(w io.Writer, p *target.Progress, total time.Duration, now func() time.Time) (stop func()) {
	tty := isTerminal(w)
	every := progressLog
	if tty {
		every = progressTerminal
	}
	start := now()
	p.Snapshot(start)

	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				if tty {
					fmt.Fprint(w, "\r\033[K")
				}
				return
			case <-t.C:
				line := progressLine(p.Snapshot(now()), now().Sub(start), total)
				if tty {
					fmt.Fprintf(w, "\r\033[K%s", line)
				} else {
					fmt.Fprintf(w, "abusesim: %s\n", line)
				}
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// progressLine formats one progress report. Past total the run is
// waiting for its last answers, which the line says instead of an eta.
// errors are requests with no HTTP answer, as in the summary; 5xx answers
// are counted apart.
func progressLine(s target.ProgressSnapshot, elapsed, total time.Duration) string {
	eta := "eta " + max(total-elapsed, 0).Round(time.Second).String()
	if elapsed >= total {
		elapsed, eta = total, "draining"
	}
	return fmt.Sprintf("%s/%s  %.0f req/s  sent %d  5xx %d  errors %d  p99 %s  %s",
		elapsed.Round(time.Second), total.Round(time.Second), s.RPS, s.Sent, s.Status5xx, s.Errors,
		s.P99.Round(10*time.Microsecond), eta)
}
