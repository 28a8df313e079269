package harness

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"image/png"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/abusesim/abusesim/capacity"
	"github.com/abusesim/abusesim/scenarios"
	"github.com/abusesim/abusesim/target"
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
	var raw bytes.Buffer
	sum, err := Run(t.Context(), Options{Scenario: parseSmall(t), OutDir: out, Raw: &raw})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	// Both profiles' requests stream to the one raw file, under one header.
	if n := strings.Count(raw.String(), target.RawHeader); n != 1 || !strings.HasPrefix(raw.String(), target.RawHeader) {
		t.Errorf("raw file holds the header %d times, want once, first", n)
	}
	if !strings.Contains(raw.String(), "\nunprotected,") || !strings.Contains(raw.String(), "\nprotected,") {
		t.Errorf("raw file lacks one profile's requests")
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
	// The cancel lands during the first profile's set-up or its traffic;
	// either way the second profile is skipped.
	if got := len(sum.Profiles); got > 1 {
		t.Fatalf("profiles: got %d, want at most 1 (the rest skipped)", got)
	}
	if len(sum.Profiles) == 1 && sum.Profiles[0].ElapsedS >= 30 {
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

// TestRunInterruptedWhileSeeding cancels a run whose table takes minutes
// to seed: the cancel must stop the seeding, not wait for it.
func TestRunInterruptedWhileSeeding(t *testing.T) {
	sc := parseSmall(t)
	sc.Table.Items.Count = 5_000_000
	sc.Seed = 42
	ctx, cancel := context.WithCancel(t.Context())
	started := make(chan struct{})
	go func() {
		<-started
		cancel()
	}()

	out := t.TempDir()
	sum, err := Run(ctx, Options{Scenario: sc, OutDir: out, Logger: startLogger(started)})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !sum.Interrupted || len(sum.Profiles) != 0 {
		t.Errorf("got interrupted=%v with %d profiles, want an interrupted run with none",
			sum.Interrupted, len(sum.Profiles))
	}
	data, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatalf("summary.json after an interrupted set-up: %v", err)
	}
	var doc struct {
		Profiles json.RawMessage `json:"profiles"`
		Seed     int64           `json:"seed"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if string(doc.Profiles) != "[]" || doc.Seed != 42 {
		t.Errorf("summary.json has profiles %s and seed %d, want [] and the scenario's 42", doc.Profiles, doc.Seed)
	}
}

// TestRunSeedProfileStartsItsOwnRedis runs the seed profile, whose limiter
// lives in Redis, with no Redis given: the harness starts a private
// redis-server on loopback for it.
func TestRunSeedProfileStartsItsOwnRedis(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		skipOrFailInCI(t, "redis-server not found; install it to run this test (apt-get install -y redis-server)")
	}
	sum, err := Run(t.Context(), Options{Scenario: parseSmall(t), Profiles: []string{"seed"}})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	att := sum.Profiles[0].Classes[1]
	// 60 requests per 60 s per client host: the attacker's ~300 requests
	// mostly get 429, whatever the naive limiter's race lets through.
	if att.Status["429"] < att.Sent/2 {
		t.Errorf("seed profile: attacker got %d 429s of %d sent, want most (status %v)",
			att.Status["429"], att.Sent, att.Status)
	}
}

func skipOrFailInCI(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but " + msg)
	}
	t.Skip(msg)
}

// A shard count the scenario's identity pool cannot be split over is
// refused before any stack is started or any table seeded.
func TestRunRefusesShardTooManyForPoolBeforeSeeding(t *testing.T) {
	const yaml = `
name: shards
seed: 1
duration: 1s
table:
  name: Sharded
  billing_mode: PROVISIONED
  rcu: 10
  wcu: 5
  items: {count: 10, key_pattern: "k-%d", size_bytes: 100}
profiles: [unprotected]
classes:
  - name: keyed
    rate: 5
    requests: [{method: GET, path: "/items/{{key}}"}]
    identities:
      api_keys: {prefix: key-, count: 2}
`
	sc, err := scenarios.Parse("shards.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	out := t.TempDir()
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	_, err = Run(t.Context(), Options{Scenario: sc, OutDir: out, Logger: log, Shard: target.Shard{Index: 0, Count: 3}})
	if err == nil || !strings.Contains(err.Error(), "fewer than the 3 shards") {
		t.Fatalf("Run: got %v, want the identity pool refused for 3 shards", err)
	}
	if strings.Contains(logged.String(), "profile starting") {
		t.Errorf("a profile was started before the refusal:\n%s", logged.String())
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("output folder holds %d entries after a refused run, want none", len(entries))
	}
}

// The reference server of a run speaks HTTP/2 without TLS too, so a class
// asking for h2c is answered rather than failing every request.
func TestRunServesH2C(t *testing.T) {
	const yaml = `
name: h2c
seed: 1
duration: 1s
table:
  name: H2cTable
  billing_mode: PROVISIONED
  rcu: 100
  wcu: 5
  items: {count: 10, key_pattern: "k-%d", size_bytes: 100}
profiles: [unprotected]
classes:
  - name: h2
    rate: 10
    requests: [{method: GET, path: "/items/{{key}}"}]
    client: {protocol: h2c}
`
	sc, err := scenarios.Parse("h2c.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	sum, err := Run(t.Context(), Options{Scenario: sc})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	c := sum.Profiles[0].Classes[0]
	if c.Sent == 0 || c.OK != c.Sent || c.Errors != 0 {
		t.Errorf("sent %d, ok %d, errors %d (%v); want every request answered over h2c", c.Sent, c.OK, c.Errors,
			c.ErrorReasons)
	}
}

// A scenario may provision what the local endpoint accepts, no more.
func TestScenarioCapacityLimitIsTheEndpointQuota(t *testing.T) {
	if scenarios.MaxCapacityUnits != capacity.TableQuotaUnits {
		t.Errorf("scenarios.MaxCapacityUnits = %d, capacity.TableQuotaUnits = %d: want them equal",
			scenarios.MaxCapacityUnits, capacity.TableQuotaUnits)
	}
}
