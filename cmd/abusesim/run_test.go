package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// A run interrupted before any profile finished says so, rather than
// pointing at partial results above that were never printed.
func TestRunInterruptedBeforeAnyProfile(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var stdout, stderr bytes.Buffer
	opts := &runOptions{scenario: "cost-amplification", out: t.TempDir(), stdout: &stdout, stderr: &stderr,
		now: time.Now}
	if err := runRun(ctx, opts); err != nil {
		t.Fatal(err)
	}
	if msg := stderr.String(); !strings.Contains(msg, "before any profile finished") ||
		strings.Contains(msg, "results above") {
		t.Errorf("stderr %q, want it to say no profile finished", msg)
	}
}

func TestStopMessage(t *testing.T) {
	root := newRootCmd(&bytes.Buffer{}, &bytes.Buffer{})
	for _, tt := range []struct {
		args    []string
		partial bool
	}{
		{[]string{"run", "x.yaml"}, true},
		{[]string{"attack", "--url", "http://127.0.0.1:1/"}, true},
		{[]string{"serve"}, false},
		{[]string{"ddb-local"}, false},
		{[]string{"validate", "x.yaml"}, false},
	} {
		if got := strings.Contains(stopMessage(root, tt.args), "partial results"); got != tt.partial {
			t.Errorf("%v: %q, want partial results mentioned: %v", tt.args, stopMessage(root, tt.args), tt.partial)
		}
	}
}
