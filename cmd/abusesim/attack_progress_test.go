package main

import (
	"strings"
	"testing"
	"time"

	"github.com/abusesim/abusesim/target"
)

func TestProgressLine(t *testing.T) {
	snap := target.ProgressSnapshot{Sent: 1234, Errors: 5, Status5xx: 2, RPS: 99.6, P99: 12345 * time.Microsecond}
	tests := []struct {
		name           string
		elapsed, total time.Duration
		want           string
	}{
		{"running", 7*time.Second + 400*time.Millisecond, 30 * time.Second,
			"7s/30s  100 req/s  sent 1234  5xx 2  errors 5  p99 12.35ms  eta 23s"},
		{"draining", 10 * time.Second, 4 * time.Second,
			"4s/4s  100 req/s  sent 1234  5xx 2  errors 5  p99 12.35ms  draining"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := progressLine(snap, tt.elapsed, tt.total); got != tt.want {
				t.Errorf("progressLine = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestProgressSnapshotRates(t *testing.T) {
	var p target.Progress
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p.Snapshot(t0)
	if s := p.Snapshot(t0.Add(time.Second)); s.RPS != 0 || s.P99 != 0 {
		t.Errorf("idle snapshot %+v, want zero rate and p99", s)
	}
}

// Not a terminal: the progress line goes out as plain log lines.
func TestProgressNotTerminal(t *testing.T) {
	var b strings.Builder
	stop := startProgress(&b, &target.Progress{}, time.Second, time.Now)
	stop()
	if strings.Contains(b.String(), "\r") {
		t.Errorf("wrote terminal control codes to a non-terminal: %q", b.String())
	}
}
