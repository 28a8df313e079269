package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/abusesim/abusesim/scenarios"
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

// --raw may not overwrite the scenario file or land in the output folder:
// refused before anything runs, the scenario file left as it was.
func TestRawPathRefused(t *testing.T) {
	dir := t.TempDir()
	sc := filepath.Join(dir, "s.yaml")
	src, err := scenarios.BuiltinSource("cost-amplification")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sc, src, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("keep me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, raw, want string }{
		{"the scenario file", sc, "is the scenario file"},
		{"inside --out", filepath.Join(out, "raw.csv"), "inside the output folder"},
		{"another file", filepath.Join(dir, "notes.txt"), "is not an earlier raw CSV"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, "run", sc, "--out", out, "--raw", tt.raw)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, exitUsage, tt.want)
			}
			if got, _ := os.ReadFile(sc); !bytes.Equal(got, src) {
				t.Errorf("the scenario file changed")
			}
		})
	}
}
