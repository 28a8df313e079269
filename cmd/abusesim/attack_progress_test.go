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

// Not a terminal: the progress goes out as plain log lines, one per
// interval, each a whole line with the program's prefix.
func TestProgressNotTerminal(t *testing.T) {
	defer func(d time.Duration) { progressLog = d }(progressLog)
	progressLog = 10 * time.Millisecond
	var b syncBuffer
	var p target.Progress
	stop := startProgress(&b, &p, time.Second, time.Now)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(b.String(), "\n") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	out := b.String()
	first, _, ok := strings.Cut(out, "\n")
	if !ok || !strings.HasPrefix(first, "abusesim: ") || !strings.Contains(first, "req/s") {
		t.Fatalf("output %q, want log lines like \"abusesim: 0s/1s  0 req/s ...\"", out)
	}
	if strings.Contains(out, "\r") || strings.Contains(out, "\033") {
		t.Errorf("wrote terminal control codes to a non-terminal: %q", out)
	}
}
