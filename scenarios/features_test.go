package scenarios

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/abusesim/abusesim/target"
)

const full = `name: full
duration: 60s
table:
  name: Items
  billing_mode: PAY_PER_REQUEST
  items: {count: 100, key_pattern: item-%03d, size_bytes: 100}
profiles:
  - unprotected
  - {name: strict, base: protected, overrides: {rate_limit: {requests_per_second: 5, burst: 10}}}
classes:
  - name: crawler
    arrival: poisson
    clients: 10
    phases:
      - {duration: 10s, rate: 50}
      - {duration: 10s, rate: {from: 50, to: 100}}
      - {duration: 20s, step: {from: 100, to: 400, steps: 4}}
      - {duration: 10s, spike: {base: 10, peak: 1000, length: 2s}}
      - {duration: 10s, pause: true}
    requests:
      - method: GET
        path: /items/{{key}}
        headers: {X-Trace: "t-{{seq}}"}
    headers: {Accept: application/json}
    keys: {distribution: hot-key, hot_keys: 3, hot_fraction: 0.5}
    identities:
      sources: {cidr: 127.0.1.0/24, count: 10}
      forwarded_for: {cidr: 203.0.113.0/24, count: 20}
      api_keys: {prefix: key-, count: 3}
      user_agents: [bot/1, bot/2]
      assign: per-client
    client:
      keep_alive: false
      max_connections: 8
      protocol: h2c
      retry: {policy: exponential, max_attempts: 4, base_delay: 50ms, max_delay: 2s, jitter: true, honour_retry_after: true, on: [429, 503]}
    late: drop
    max_lateness: 100ms
    thresholds: {p99: 250ms, error_rate: 0.01, share_429: 0.2, min_success: 0.5, profiles: [strict]}
  - name: users
    executor: concurrency
    clients: 5
    think_time: 200ms
    requests:
      - {method: GET, path: "/items/{{key}}"}
    keys: {distribution: sequential}
`

func TestParseEveryFeature(t *testing.T) {
	s, err := Parse("full.yaml", []byte(full))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	wantSpecs := []ProfileSpec{
		{Name: "unprotected", At: Location{File: "full.yaml", Line: 8, Column: 5, Field: "profiles[0]"}},
		{Name: "strict", Base: "protected",
			Overrides: map[string]any{"rate_limit": map[string]any{"requests_per_second": uint64(5), "burst": uint64(10)}},
			At:        Location{File: "full.yaml", Line: 9, Column: 5, Field: "profiles[1]"}},
	}
	if !reflect.DeepEqual(s.ProfileSpecs, wantSpecs) || !reflect.DeepEqual(s.Profiles, []string{"unprotected", "strict"}) {
		t.Errorf("profiles %v, specs %#v", s.Profiles, s.ProfileSpecs)
	}

	c := s.Classes[0]
	sec := time.Second
	wantPhases := []target.Phase{
		{Duration: 10 * sec, StartRPS: 50, EndRPS: 50},
		{Duration: 10 * sec, StartRPS: 50, EndRPS: 100},
		{Duration: 5 * sec, StartRPS: 100, EndRPS: 100}, {Duration: 5 * sec, StartRPS: 200, EndRPS: 200},
		{Duration: 5 * sec, StartRPS: 300, EndRPS: 300}, {Duration: 5 * sec, StartRPS: 400, EndRPS: 400},
		{Duration: 4 * sec, StartRPS: 10, EndRPS: 10}, {Duration: 2 * sec, StartRPS: 1000, EndRPS: 1000},
		{Duration: 4 * sec, StartRPS: 10, EndRPS: 10},
		{Duration: 10 * sec},
	}
	if !reflect.DeepEqual(c.Rate.Phases, wantPhases) {
		t.Errorf("phases:\n got %v\nwant %v", c.Rate.Phases, wantPhases)
	}
	if c.Arrival != ArrivalPoisson || c.Late != LateDrop || c.MaxLateness != 100*time.Millisecond {
		t.Errorf("arrival %q, late %q, max lateness %v", c.Arrival, c.Late, c.MaxLateness)
	}
	if len(c.Identities.Sources) != 10 || c.Identities.Sources[9] != "127.0.1.10" ||
		len(c.Identities.ForwardedFor) != 20 || c.Identities.APIKeys[2] != "key-2" ||
		c.Identities.Assign != AssignPerClient {
		t.Errorf("identities %+v", c.Identities)
	}
	wantClient := Client{MaxConnections: 8, Protocol: ProtocolH2C, Retry: Retry{
		Policy: RetryExponential, MaxAttempts: 4, BaseDelay: 50 * time.Millisecond, MaxDelay: 2 * sec,
		Jitter: true, HonourRetryAfter: true, On: []int{429, 503}}}
	if !reflect.DeepEqual(c.Client, wantClient) {
		t.Errorf("client %+v, want %+v", c.Client, wantClient)
	}
	th := c.Thresholds
	if th == nil || th.P99 != 250*time.Millisecond || *th.ErrorRate != 0.01 || *th.Share429 != 0.2 ||
		*th.MinSuccess != 0.5 || !th.AppliesTo("strict") || th.AppliesTo("unprotected") {
		t.Errorf("thresholds %+v", th)
	}

	tc, err := c.Target(s.Table)
	if err != nil {
		t.Fatalf("Target: %v", err)
	}
	if tc.Arrival != target.ArrivalPoisson || tc.Protocol != target.ProtocolH2C || !tc.DisableKeepAlive ||
		tc.Retry.Mode != target.RetryExponential || tc.LateMode != target.LateDrop ||
		len(tc.Identities.Sources) != 10 || !tc.Identities.PerClient || tc.Clients != 10 {
		t.Errorf("target class %+v", tc)
	}
	if h := tc.Mix[0].HeaderTemplates; h["X-Trace"].String() != "t-{{seq}}" || h["Accept"].String() != "application/json" {
		t.Errorf("header templates %v", h)
	}

	u := s.Classes[1]
	ut, err := u.Target(s.Table)
	if err != nil {
		t.Fatalf("Target: %v", err)
	}
	if ut.Executor != target.Concurrency || ut.Clients != 5 || ut.ThinkTime != 200*time.Millisecond ||
		len(ut.Phases) != 0 {
		t.Errorf("closed class %+v", ut)
	}
	if _, ok := ut.Keys.(target.SequenceDist); !ok {
		t.Errorf("sequential keys are %T, want a SequenceDist", ut.Keys)
	}
}

func TestParseFeatureErrors(t *testing.T) {
	tests := []struct {
		name, old, new string
		field, msg     string
	}{
		{"misspelt executor value", "executor: concurrency", "executor: concurency",
			"classes[1].executor", `did you mean "concurrency"?`},
		{"misspelt class field", "think_time: 200ms", "thinktime: 200ms",
			"classes[1].thinktime", `did you mean "think_time"?`},
		{"rate in closed model", "think_time: 200ms", "think_time: 200ms\n    rate: 5",
			"classes[1].rate", "has no rate"},
		{"source pool outside loopback", "cidr: 127.0.1.0/24", "cidr: 10.1.0.0/24",
			"classes[0].identities.sources.cidr", "not inside 127.0.0.0/8"},
		{"source pool too small", "count: 10}\n      forwarded", "count: 300}\n      forwarded",
			"classes[0].identities.sources.count", "fewer than 300"},
		{"two shapes in a phase", "{duration: 10s, pause: true}", "{duration: 10s, pause: true, rate: 3}",
			"classes[0].phases[4]", "give one of"},
		{"spike longer than phase", "length: 2s", "length: 20s",
			"classes[0].phases[3].spike.length", "shorter than the phase"},
		{"bad retry policy", "policy: exponential", "policy: sometimes",
			"classes[0].client.retry.policy", "must be one of none, immediate, exponential"},
		{"share above 1", "error_rate: 0.01", "error_rate: 1.5",
			"classes[0].thresholds.error_rate", "between 0 and 1"},
		{"threshold profile not run", "profiles: [strict]", "profiles: [lax]",
			"classes[0].thresholds.profiles[0]", `"lax" is not among`},
		{"misspelt threshold profile", "profiles: [strict]", "profiles: [strickt]",
			"classes[0].thresholds.profiles[0]", `(did you mean "strict"?)`},
		{"misspelt distribution", "distribution: hot-key", "distribution: hot-kye",
			"classes[0].keys.distribution", `(did you mean "hot-key"?)`},
		{"lower-case method", "method: GET", "method: gte",
			"classes[0].requests[0].method", `(did you mean "GET"?)`},
		{"bad header name", "X-Trace:", "X Trace:",
			"classes[0].requests[0].headers.X Trace", "not an HTTP header name"},
		{"hot keys on zipf", "distribution: hot-key", "distribution: zipf",
			"classes[0].keys.hot_keys", "only the hot-key distribution"},
		{"status code out of range", "on: [429, 503]", "on: [429, 999]",
			"classes[0].client.retry.on[1]", "not an HTTP status code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(full, tt.old) {
				t.Fatalf("full has no %q", tt.old)
			}
			_, err := Parse("full.yaml", []byte(strings.Replace(full, tt.old, tt.new, 1)))
			if err == nil {
				t.Fatal("Parse accepted it")
			}
			found := false
			for _, p := range problems(t, err) {
				if p.Field == tt.field && strings.Contains(p.Msg, tt.msg) && p.Line > 0 && p.Column > 0 {
					found = true
				}
			}
			if !found {
				t.Errorf("got %v, want a problem at %s containing %q", err, tt.field, tt.msg)
			}
		})
	}
}
