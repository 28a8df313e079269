package refserver

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
)

func TestBuiltinProfiles(t *testing.T) {
	for _, name := range ProfileNames() {
		t.Run(name, func(t *testing.T) {
			p, err := BuiltinProfile(name)
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != name {
				t.Errorf("Name = %q, want %q", p.Name, name)
			}
			if p.RateLimit != nil && p.RateLimit.Store == StoreRedis {
				p.RateLimit.Store = StoreMemory // Redis is tested in redis_test.go
			}
			if _, err := New(&fakeDB{}, Config{Table: testTable, Profile: p}); err != nil {
				t.Errorf("New with the built-in profile: %v", err)
			}
		})
	}

	p := mustProfile(t, ProfileProtected)
	if rl := p.RateLimit; rl.Algorithm != AlgorithmGCRA || rl.Key != KeyIP ||
		rl.Anonymous != (Limit{Requests: 20, Period: time.Second, Burst: 40}) {
		t.Errorf("protected RateLimit = %+v", *p.RateLimit)
	}
	if *p.Cache != (Cache{TTL: 5 * time.Second, NegativeTTL: 30 * time.Second, MaxEntries: 10000, Coalesce: true}) {
		t.Errorf("protected Cache = %+v", *p.Cache)
	}
	if p.ConsistentRead || !p.ConditionalWrites || p.ThrottleStatus != http.StatusServiceUnavailable {
		t.Errorf("protected = %+v", p)
	}

	sd := mustProfile(t, ProfileSeed)
	if rl := sd.RateLimit; rl.Algorithm != AlgorithmFixedWindowNaive || rl.Store != StoreRedis ||
		rl.OnStoreError != FailOpen || rl.Anonymous != (Limit{Requests: 60, Period: time.Minute}) {
		t.Errorf("seed RateLimit = %+v", *sd.RateLimit)
	}
	if sd.Cache != nil || sd.DedupeWindow != 30*time.Second || sd.ConsistentRead ||
		!sd.ConditionalWrites || sd.ThrottleStatus != http.StatusServiceUnavailable {
		t.Errorf("seed = %+v", sd)
	}

	u := mustProfile(t, ProfileUnprotected)
	if u.RateLimit != nil || u.Cache != nil || !u.ConsistentRead || u.ConditionalWrites ||
		u.ThrottleStatus != http.StatusInternalServerError {
		t.Errorf("unprotected = %+v", u)
	}
}

func TestBuiltinProfileUnknown(t *testing.T) {
	_, err := BuiltinProfile("paranoid")
	if !errors.Is(err, ErrUnknownProfile) {
		t.Fatalf("err = %v, want ErrUnknownProfile", err)
	}
	if !strings.Contains(err.Error(), "unprotected, seed, protected") {
		t.Errorf("err %q does not list the known profiles", err)
	}
}

func TestBuiltinProfilesAreCopies(t *testing.T) {
	p := mustProfile(t, ProfileProtected)
	p.RateLimit.Anonymous.Burst = 1

	if got := mustProfile(t, ProfileProtected).RateLimit.Anonymous.Burst; got != 40 {
		t.Errorf("changing a returned profile changed the built-in: burst %d", got)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name    string
		db      DynamoDB
		cfg     Config
		wantErr string
	}{
		{"no db", nil, Config{Table: "t"}, "no DynamoDB client"},
		{"no table", &fakeDB{}, Config{}, "no table"},
		{"zero requests", &fakeDB{}, Config{Table: "t", Profile: Profile{RateLimit: &RateLimit{
			Anonymous: Limit{Period: time.Second}}}}, "anonymous: requests 0"},
		{"zero period", &fakeDB{}, Config{Table: "t", Profile: Profile{RateLimit: &RateLimit{
			Anonymous: Limit{Requests: 1}}}}, "anonymous: period"},
		{"bad algorithm", &fakeDB{}, Config{Table: "t", Profile: Profile{RateLimit: &RateLimit{
			Algorithm: "leaky", Anonymous: Limit{Requests: 1, Period: time.Second}}}}, `algorithm "leaky"`},
		{"naive fails closed", &fakeDB{}, Config{Table: "t", Profile: Profile{RateLimit: &RateLimit{
			Algorithm: AlgorithmFixedWindowNaive, OnStoreError: FailClosed,
			Anonymous: Limit{Requests: 1, Period: time.Second}}}}, "fails open by construction"},
		{"forwarded without proxies", &fakeDB{}, Config{Table: "t", Profile: Profile{RateLimit: &RateLimit{
			Key: KeyForwarded, Anonymous: Limit{Requests: 1, Period: time.Second}}}}, "trusted_proxies"},
		{"bad proxy", &fakeDB{}, Config{Table: "t", Profile: Profile{RateLimit: &RateLimit{
			Key: KeyForwarded, TrustedProxies: []string{"10.0.0.0/33"},
			Anonymous: Limit{Requests: 1, Period: time.Second}}}}, `"10.0.0.0/33"`},
		{"unknown route", &fakeDB{}, Config{Table: "t", Profile: Profile{RateLimit: &RateLimit{
			Anonymous: Limit{Requests: 1, Period: time.Second},
			Routes:    map[string]RouteLimits{"items": {}}}}}, `routes "items"`},
		{"redis without client", &fakeDB{}, Config{Table: "t", Profile: Profile{RateLimit: &RateLimit{
			Store: StoreRedis, Anonymous: Limit{Requests: 1, Period: time.Second}}}}, "needs a Redis client"},
		{"bad retry mode", &fakeDB{}, Config{Table: "t", Profile: Profile{Retry: &Retry{Mode: "eager"}}}, "retry: mode"},
		{"bad shed", &fakeDB{}, Config{Table: "t", Profile: Profile{Shed: &Shed{Throttles: 0, For: time.Second}}}, "shed"},
		{"negative ttl", &fakeDB{}, Config{Table: "t", Profile: Profile{Cache: &Cache{TTL: -1}}}, "ttl"},
		{"bad throttle status", &fakeDB{}, Config{Table: "t", Profile: Profile{ThrottleStatus: 200}},
			"throttle_status"},
		{"huge body", &fakeDB{}, Config{Table: "t", Profile: Profile{MaxBodyBytes: 1 << 20}}, "max_body_bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.db, tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewFillsDefaults(t *testing.T) {
	s, err := New(&fakeDB{}, Config{Table: "t", Profile: Profile{Cache: &Cache{TTL: time.Second}}})
	if err != nil {
		t.Fatal(err)
	}

	p := s.Profile()
	if p.MaxBodyBytes != DefaultMaxBodyBytes || p.ThrottleStatus != DefaultThrottleStatus ||
		p.Cache.MaxEntries != DefaultCacheEntries {
		t.Errorf("defaults not filled: %+v, cache %+v", p, *p.Cache)
	}
	if s.key != DefaultKeyAttribute {
		t.Errorf("key attribute = %q, want %q", s.key, DefaultKeyAttribute)
	}
}

func TestLoadProfileMatchesBuiltin(t *testing.T) {
	doc := `
name: protected
description: GCRA per client, coalescing cache with negative TTL, bounded requests, load shedding
rate_limit:
  algorithm: gcra
  key: ip
  store: memory
  on_store_error: local
  max_keys: 100000
  anonymous: {requests: 20, period: 1s, burst: 40}
  keyed: {requests: 100, period: 1s, burst: 200}
  routes:
    search:
      anonymous: {requests: 1, period: 5s, burst: 2}
      keyed: {requests: 1, period: 1s, burst: 5}
cache: {ttl: 5s, negative_ttl: 30s, max_entries: 10000, coalesce: true}
consistent_read: false
conditional_writes: true
write_limit: {requests: 5, period: 1s, burst: 10}
max_body_bytes: 65536
max_page_size: 100
scan: {per_minute: 60}
request_timeout: 2s
throttle_status: 503
retry: {mode: standard, max_attempts: 3, max_backoff: 200ms}
shed: {throttles: 20, for: 1s}
`
	got, err := LoadProfile([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if want := mustProfile(t, ProfileProtected); !reflect.DeepEqual(got, want) {
		t.Errorf("decoded %+v\nwant    %+v", got, want)
	}

	back, err := yaml.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadProfile(back)
	if err != nil || !reflect.DeepEqual(again, got) {
		t.Errorf("round trip through %s = %+v, %v", back, again, err)
	}
}

func TestLoadProfileErrorsNameTheField(t *testing.T) {
	tests := []struct{ doc, want string }{
		{"name: x\nrate_limt: {}\n", "rate_limt"},
		{"name: x\ncache: {ttl: soon}\n", `invalid duration "soon"`},
		{"name: x\nrate_limit: {algorithm: leaky, anonymous: {requests: 1, period: 1s}}\n", `algorithm "leaky"`},
		{"name: x\nmax_page_size: -1\n", "max_page_size -1"},
	}
	for _, tt := range tests {
		_, err := LoadProfile([]byte(tt.doc))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("LoadProfile(%q) = %v, want an error containing %q", tt.doc, err, tt.want)
		}
	}
}
