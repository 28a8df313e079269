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
			if _, err := New(&fakeDB{}, Config{Table: testTable, Profile: p}); err != nil {
				t.Errorf("New with the built-in profile: %v", err)
			}
		})
	}

	p := mustProfile(t, ProfileProtected)
	if *p.RateLimit != (RateLimit{RequestsPerSecond: 20, Burst: 40, MaxClients: DefaultMaxClients}) {
		t.Errorf("protected RateLimit = %+v", *p.RateLimit)
	}
	if *p.Cache != (Cache{TTL: 5 * time.Second, NegativeTTL: 30 * time.Second, MaxEntries: 10000}) {
		t.Errorf("protected Cache = %+v", *p.Cache)
	}
	if p.ConsistentRead || !p.ConditionalWrites || p.ThrottleStatus != http.StatusServiceUnavailable {
		t.Errorf("protected = %+v", p)
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
	if !strings.Contains(err.Error(), "unprotected, protected") {
		t.Errorf("err %q does not list the known profiles", err)
	}
}

func TestBuiltinProfilesAreCopies(t *testing.T) {
	p := mustProfile(t, ProfileProtected)
	p.RateLimit.Burst = 1

	if got := mustProfile(t, ProfileProtected).RateLimit.Burst; got != 40 {
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
		{"zero rate", &fakeDB{}, Config{Table: "t", Profile: Profile{RateLimit: &RateLimit{Burst: 1}}},
			"requests_per_second"},
		{"zero burst", &fakeDB{}, Config{Table: "t", Profile: Profile{RateLimit: &RateLimit{RequestsPerSecond: 1}}},
			"burst"},
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

func TestProfileYAMLTags(t *testing.T) {
	doc := `
name: protected
rate_limit: {requests_per_second: 20, burst: 40, max_clients: 100000}
cache: {ttl: 5s, negative_ttl: 30s, max_entries: 10000}
consistent_read: false
conditional_writes: true
throttle_status: 503
max_body_bytes: 65536
`
	var got Profile
	if err := yaml.Unmarshal([]byte(doc), &got); err != nil {
		t.Fatal(err)
	}
	if want := mustProfile(t, ProfileProtected); !reflect.DeepEqual(got, want) {
		t.Errorf("decoded %+v\nwant    %+v", got, want)
	}

	back, err := yaml.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var again Profile
	if err := yaml.Unmarshal(back, &again); err != nil || !reflect.DeepEqual(again, got) {
		t.Errorf("round trip through %s = %+v, %v", back, again, err)
	}
}
