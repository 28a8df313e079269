package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/abusesim/abusesim/target/harness"
)

// TestHelperProcess is not a test: the shard test runs the CLI in child
// processes through it.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("ABUSESIM_HELPER_PROCESS") != "1" {
		t.Skip("helper process for TestShardsMergeToSingleRun")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(execute(args, os.Stdout, os.Stderr))
}

// Three shards, each its own process, together record exactly what one
// run records: the same requests, the same answers, the same histogram
// counts.
func TestShardsMergeToSingleRun(t *testing.T) {
	// Every fifth request number gets 503, so the status counts say
	// whether the shards sent exactly the single run's requests.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		if n%5 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	args := func(out string) []string {
		return []string{"attack", "--url", srv.URL + "/{{seq}}", "--rate", "300", "--duration", "1s", "--out", out}
	}

	if code, _, stderr := runCLI(t, args(filepath.Join(dir, "single"))...); code != 0 {
		t.Fatalf("single run: exit %d: %s", code, stderr)
	}
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range 3 {
		wg.Go(func() {
			a := append(args(filepath.Join(dir, fmt.Sprint("shard", i))), "--shard", fmt.Sprintf("%d/3", i+1))
			cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestHelperProcess$", "--"}, a...)...)
			cmd.Env = append(os.Environ(), "ABUSESIM_HELPER_PROCESS=1")
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("shard %d: %v: %s", i+1, err, out)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	merged := filepath.Join(dir, "merged")
	code, _, stderr := runCLI(t, "merge", filepath.Join(dir, "shard0"), filepath.Join(dir, "shard1"),
		filepath.Join(dir, "shard2"), "--out", merged)
	if code != 0 {
		t.Fatalf("merge: exit %d: %s", code, stderr)
	}
	single, err := harness.ReadSummary(filepath.Join(dir, "single", "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := harness.ReadSummary(filepath.Join(merged, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	s, m := single.Profiles[0].Classes[0], got.Profiles[0].Classes[0]
	if m.Sent != s.Sent || m.OK != s.OK || m.Status["503"] != s.Status["503"] || s.Sent != 300 || s.Status["503"] != 60 {
		t.Errorf("merged sent %d ok %d status %v; single sent %d ok %d status %v (want 300 sent, 60×503)",
			m.Sent, m.OK, m.Status, s.Sent, s.OK, s.Status)
	}
	var reqDone int64
	for _, b := range m.ByStatusFamily {
		reqDone += b.Done
	}
	if reqDone != s.Sent || m.LatencyMs.Max == 0 || m.LatencyMs.P50 == 0 {
		t.Errorf("merged families hold %d answers, latency %+v; want %d answers and real percentiles",
			reqDone, m.LatencyMs, s.Sent)
	}
	for i := range 3 {
		sh, err := harness.ReadSummary(filepath.Join(dir, fmt.Sprint("shard", i), "summary.json"))
		if err != nil {
			t.Fatal(err)
		}
		if sh.Shard != fmt.Sprintf("%d/3", i+1) || sh.Profiles[0].Classes[0].Sent != 100 {
			t.Errorf("shard %d: label %q, sent %d; want %d/3 and 100", i+1, sh.Shard, sh.Profiles[0].Classes[0].Sent, i+1)
		}
	}
}

// merge refuses a folder given twice and warns about a set that misses
// shards.
func TestMergeChecksTheSet(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	dir := t.TempDir()
	s1 := filepath.Join(dir, "s1")
	code, _, stderr := runCLI(t, "attack", "--url", srv.URL+"/", "--rate", "20", "--duration", "200ms",
		"--shard", "1/2", "--out", s1)
	if code != 0 {
		t.Fatalf("attack: exit %d: %s", code, stderr)
	}

	code, _, stderr = runCLI(t, "merge", s1, s1, "--out", filepath.Join(dir, "m1"))
	if code != exitUsage || !strings.Contains(stderr, "same folder") {
		t.Errorf("merge s1 s1: exit %d, stderr %q; want %d and same folder", code, stderr, exitUsage)
	}
	code, _, stderr = runCLI(t, "merge", s1, "--out", s1)
	if code != exitUsage || !strings.Contains(stderr, "overwrite") {
		t.Errorf("merge s1 --out s1: exit %d, stderr %q; want %d", code, stderr, exitUsage)
	}
	code, _, stderr = runCLI(t, "merge", s1, "--out", filepath.Join(dir, "m2"))
	if code != 0 || !strings.Contains(stderr, "warning: the merge holds only shards 1/2") {
		t.Errorf("merge s1: exit %d, stderr %q; want 0 and a warning", code, stderr)
	}
}
