package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/abusesim/abusesim/target/harness"
)

func TestAttackUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"non-loopback refused", []string{"--url", "http://example.com/", "--rate", "1", "--duration", "1s"}, "--allow-host"},
		{"rate 0 needs concurrency", []string{"--url", "http://127.0.0.1:1/", "--rate", "0", "--duration", "1s"}, "--concurrency"},
		{"bad rate unit", []string{"--url", "http://127.0.0.1:1/", "--rate", "5/fortnight", "--duration", "1s"}, "unit"},
		{"no duration", []string{"--url", "http://127.0.0.1:1/", "--rate", "5"}, "--duration"},
		{"bad shard", []string{"--url", "http://127.0.0.1:1/", "--rate", "5", "--duration", "1s", "--shard", "4/3"}, "i/N"},
		{"bad header", []string{"--url", "http://127.0.0.1:1/", "--rate", "5", "--duration", "1s", "--header", "nocolon"}, "Name: value"},
		{"rate over the cap", []string{"--url", "http://127.0.0.1:1/", "--rate", "1e8", "--duration", "1s"}, "--rate 1e8: at most 1000000"},
		{"ftp url", []string{"--url", "ftp://127.0.0.1:1/", "--rate", "5", "--duration", "1s"}, "http or https"},
		{"credentials in url", []string{"--url", "http://user@127.0.0.1:1/", "--rate", "5", "--duration", "1s"}, "credentials"},
		{"schedule with no request", []string{"--url", "http://127.0.0.1:1/", "--rate", "10/h", "--duration", "1s"}, "holds no request"},
		{"header twice", []string{"--url", "http://127.0.0.1:1/", "--rate", "5", "--duration", "1s",
			"--header", "X-Api-Key: a", "--header", "x-api-key: b"}, "given twice"},
		{"h2 over http", []string{"--url", "http://127.0.0.1:1/", "--rate", "5", "--duration", "1s", "--protocol", "h2"},
			"needs an https:// target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append([]string{"attack", "--out", t.TempDir()}, tt.args...)...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d mentioning %q", code, stderr, exitUsage, tt.want)
			}
		})
	}
}

func TestAttackWritesSummary(t *testing.T) {
	var (
		mu  sync.Mutex
		got []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("X-Test"))
	}))
	defer srv.Close()
	dir := t.TempDir()
	body := filepath.Join(dir, "body.json")
	os.WriteFile(body, []byte(`{"a":1}`), 0o644)

	code, stdout, stderr := runCLI(t, "attack", "--url", srv.URL+"/p?q={{seq}}", "--rate", "1200/m",
		"--duration", "500ms", "--method", "post", "--header", "X-Test: yes", "--body", body, "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	sum, err := harness.ReadSummary(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	c := sum.Profiles[0].Classes[0]
	if sum.Profiles[0].Name != "attack" || c.Sent != 10 || c.OK != 10 {
		t.Errorf("summary %+v, want 10 sent at 20/s for 0.5 s", c)
	}
	if len(got) != 10 || !strings.HasPrefix(got[0], "POST /p?q=") || !strings.HasSuffix(got[0], " yes") {
		t.Errorf("server saw %q", got)
	}
	for _, f := range []string{"attack/traffic.csv", "attack/latency.hlog", "attack/histograms.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	if !strings.Contains(stdout, "latency from intended start") {
		t.Errorf("stdout %q has no latency line", stdout)
	}
}

func TestValidateAndScenarios(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("name: bad\nduraton: 5s\n"), 0o644)

	code, stdout, stderr := runCLI(t, "validate", "cost-amplification", bad)
	if code != exitError || !strings.Contains(stdout, "cost-amplification: ok") ||
		!strings.Contains(stderr, `bad.yaml:2:1: duraton: unknown field "duraton" (did you mean "duration"?)`) {
		t.Errorf("validate: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	code, stdout, _ = runCLI(t, "scenarios")
	if code != 0 || !strings.Contains(stdout, "cost-amplification") {
		t.Errorf("scenarios: exit %d, %q", code, stdout)
	}
	code, stdout, _ = runCLI(t, "scenarios", "cost-amplification")
	if code != 0 || !strings.HasPrefix(stdout, "# cost-amplification") {
		t.Errorf("scenarios NAME: exit %d, %.80q", code, stdout)
	}
	code, stdout, _ = runCLI(t, "scenarios", "--schema")
	if code != 0 || !strings.Contains(stdout, `"$schema"`) {
		t.Errorf("scenarios --schema: exit %d", code)
	}
}

func TestFailedThresholdsExitCode(t *testing.T) {
	passed := false
	sum := &harness.Summary{ThresholdsPassed: &passed, Thresholds: []harness.ThresholdResult{
		{Profile: "protected", Class: "legit", Metric: "p99_ms", Limit: 100, Value: 150},
	}}
	var out strings.Builder
	err := checkThresholds(&out, sum)
	var errOut strings.Builder
	if code := exitCode(t.Context(), &errOut, err); code != exitThresholds {
		t.Errorf("exit code %d, want %d", code, exitThresholds)
	}
	if !strings.Contains(out.String(), "protected/legit: p99_ms 150 (at most 100): FAILED") {
		t.Errorf("printed %q", out.String())
	}
	if err := checkThresholds(&out, &harness.Summary{}); err != nil {
		t.Errorf("no thresholds gave %v", err)
	}
}

// A bad --out is refused before a single request is sent.
func TestAttackChecksOutFirst(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)

	for name, out := range map[string]string{"existing file": file, "folder under a file": filepath.Join(file, "sub")} {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := runCLI(t, "attack", "--url", srv.URL+"/", "--rate", "100", "--duration", "200ms",
				"--out", out)
			if code != exitUsage || !strings.Contains(stderr, "--out") {
				t.Errorf("exit %d, stderr %q; want %d naming --out", code, stderr, exitUsage)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("server saw %d requests, want none", n)
	}
}
