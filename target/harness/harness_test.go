package harness

import (
	"bytes"
	"context"
	"encoding/csv"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/abusesim/abusesim/scenarios"
)

// smallScenario is a two-second abuse run on a tiny table: the attacker
// sends many times the provisioned reads, with no burst credit.
const smallScenario = `
name: small
seed: 3
duration: 2s
table:
  name: Tiny
  billing_mode: PROVISIONED
  rcu: 30
  wcu: 5
  burst_start_seconds: 0
  items: {count: 50, key_pattern: "k-%04d", size_bytes: 500}
profiles: [unprotected, protected]
classes:
  - name: legit
    source: 127.0.0.2
    rate: 10
    requests:
      - {name: get, method: GET, path: "/items/{{key}}"}
    keys: {distribution: uniform}
  - name: attacker
    source: 127.0.0.3
    rate: 150
    requests:
      - {name: get, method: GET, path: "/items/{{key}}"}
    keys: {distribution: uniform, missing_fraction: 0.9}
`

func parseSmall(t *testing.T) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Parse("small.yaml", []byte(smallScenario))
	if err != nil {
		t.Fatalf("parse scenario: %v", err)
	}
	return sc
}

func TestRunComparesProfiles(t *testing.T) {
	out := t.TempDir()
	sum, err := Run(t.Context(), Options{Scenario: parseSmall(t), OutDir: out})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if sum.Interrupted {
		t.Fatalf("Interrupted = true for a run that was not cancelled")
	}
	if got, want := len(sum.Profiles), 2; got != want {
		t.Fatalf("profiles: got %d, want %d", got, want)
	}
	unprot, prot := sum.Profiles[0], sum.Profiles[1]

	// Unprotected: 150 missing-id reads/s on a 30 RCU table throttle.
	if unprot.Capacity.ReadThrottleEvents == 0 {
		t.Errorf("unprotected: no read throttle events: %+v", unprot.Capacity)
	}
	if got := unprot.Classes[1].Status["429"]; got != 0 {
		t.Errorf("unprotected attacker got %d 429s, want none", got)
	}
	// Protected: the attacker is rate limited, the legit class is served.
	att := prot.Classes[1]
	if share := float64(att.Status["429"]) / float64(att.Sent); share < 0.5 {
		t.Errorf("protected attacker 429 share %.2f, want > 0.5 (status %v)", share, att.Status)
	}
	if got := prot.Classes[0].SuccessRatio(); got < 0.99 {
		t.Errorf("protected legit success %.3f, want >= 0.99 (status %v)", got, prot.Classes[0].Status)
	}
	if prot.Capacity.ConsumedRCU >= unprot.Capacity.ConsumedRCU {
		t.Errorf("protected consumed %.1f RCU, unprotected %.1f: want less",
			prot.Capacity.ConsumedRCU, unprot.Capacity.ConsumedRCU)
	}
	for _, p := range sum.Profiles {
		for _, c := range p.Classes {
			if c.Sent == 0 || c.LatencyMs.P99 <= 0 || c.LatencyMs.P99 < c.ServiceLatencyMs.P50 {
				t.Errorf("%s/%s: implausible figures %+v", p.Name, c.Name, c)
			}
		}
		if p.Cost.OnDemandUSD <= 0 || p.Cost.ProvisionedUSD <= 0 {
			t.Errorf("%s: cost not computed: %+v", p.Name, p.Cost)
		}
	}

	checkFiles(t, out, sum)
}

// checkFiles reads back everything Run wrote.
func checkFiles(t *testing.T, out string, sum *Summary) {
	t.Helper()
	back, err := ReadSummary(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(back.Profiles), len(sum.Profiles); got != want {
		t.Errorf("summary.json profiles: got %d, want %d", got, want)
	}
	for _, name := range []string{"latency.png", "capacity.png", "cost.png"} {
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(data)); err != nil {
			t.Errorf("%s: not a PNG: %v", name, err)
		}
	}
	for _, p := range sum.Profiles {
		for _, name := range []string{"traffic.csv", "capacity.csv"} {
			f, err := os.Open(filepath.Join(out, p.Name, name))
			if err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(f).ReadAll()
			f.Close()
			if err != nil {
				t.Errorf("%s/%s: %v", p.Name, name, err)
			}
			if len(rows) < 2 {
				t.Errorf("%s/%s: %d rows, want a header and data", p.Name, name, len(rows))
			}
		}
	}
}

func TestRunInterruptedKeepsValidResults(t *testing.T) {
	out := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	sc := parseSmall(t)
	if err := sc.SetDuration(30 * time.Second); err != nil {
		t.Fatal(err)
	}

	// Cancel as the first profile starts: the log line for it is the
	// observable moment. (That the generator keeps what it recorded before
	// a cancel is target's own test.)
	started := make(chan struct{})
	go func() {
		<-started
		cancel()
	}()
	sum, err := Run(ctx, Options{Scenario: sc, OutDir: out, Logger: startLogger(started)})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !sum.Interrupted {
		t.Errorf("Interrupted = false after cancel")
	}
	if got, want := len(sum.Profiles), 1; got != want {
		t.Fatalf("profiles: got %d, want %d (the rest skipped)", got, want)
	}
	if sum.Profiles[0].ElapsedS >= 30 {
		t.Errorf("profile ran %.1fs despite the cancel", sum.Profiles[0].ElapsedS)
	}
	checkFiles(t, out, sum)
}

func TestRunRejectsUnknownProfile(t *testing.T) {
	_, err := Run(t.Context(), Options{Scenario: parseSmall(t), Profiles: []string{"nosuch"}})
	if err == nil {
		t.Fatal("Run with an unknown profile: no error")
	}
}
