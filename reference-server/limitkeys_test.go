package refserver

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func TestForwardedClient(t *testing.T) {
	trusted, err := parsePrefixes([]string{"10.0.0.0/8", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"untrusted peer: header ignored", "192.0.2.9:1", []string{"203.0.113.5"}, "192.0.2.9"},
		{"untrusted peer: spoofed chain ignored", "192.0.2.9:1", []string{"1.1.1.1, 10.0.0.1"}, "192.0.2.9"},
		{"trusted proxy: client", "127.0.0.1:1", []string{"203.0.113.5"}, "203.0.113.5"},
		{"rightmost untrusted hop", "127.0.0.1:1", []string{"6.6.6.6, 203.0.113.5, 10.1.2.3"}, "203.0.113.5"},
		{"several headers", "10.0.0.2:1", []string{"6.6.6.6", "203.0.113.5"}, "203.0.113.5"},
		{"no header", "127.0.0.1:1", nil, "127.0.0.1"},
		{"malformed hop ends the walk", "127.0.0.1:1", []string{"203.0.113.5, junk"}, "127.0.0.1"},
		{"all trusted", "127.0.0.1:1", []string{"10.0.0.3, 10.0.0.4"}, "10.0.0.3"},
		{"mapped v4", "127.0.0.1:1", []string{"::ffff:203.0.113.5"}, "203.0.113.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/items/x", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := forwardedClient(r, trusted); got != netip.MustParseAddr(tt.want) {
				t.Errorf("forwardedClient = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSpoofedForwardedForKeepsTheBucket: an untrusted client that writes a
// fresh X-Forwarded-For on every request still spends one bucket; the same
// header from the trusted proxy names distinct clients.
func TestSpoofedForwardedForKeepsTheBucket(t *testing.T) {
	p := Profile{Name: "behind-proxy", RateLimit: &RateLimit{
		Key: KeyForwarded, TrustedProxies: []string{"127.0.0.1/32"},
		Anonymous: Limit{Requests: 5, Period: time.Minute},
	}}
	s, err := New(&fakeDB{}, Config{Table: testTable, Profile: p, Now: newFakeClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	send := func(remote, xff string) int {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/items/x", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		s.ServeHTTP(w, r)
		return w.Code
	}
	spoofs := []string{"1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4", "5.5.5.5", "6.6.6.6", "7.7.7.7"}

	var untrusted []int
	for _, ip := range spoofs {
		untrusted = append(untrusted, send("192.0.2.9:4000", ip))
	}
	if untrusted[4] != http.StatusNotFound || untrusted[5] != http.StatusTooManyRequests {
		t.Errorf("untrusted peer with a new X-Forwarded-For each time: statuses %v, "+
			"want 5 answers then 429 (one bucket for the peer)", untrusted)
	}

	for _, ip := range spoofs {
		if got := send("127.0.0.1:4000", ip); got != http.StatusNotFound {
			t.Errorf("via the trusted proxy as %s: status %d, want 404 (its own bucket)", ip, got)
		}
	}
}

func TestLimitsPerRouteAndKeyClass(t *testing.T) {
	p := Profile{Name: "classes", RateLimit: &RateLimit{
		Key:       KeyAPIKey,
		Anonymous: Limit{Requests: 2, Period: time.Minute},
		Keyed:     &Limit{Requests: 4, Period: time.Minute},
		Routes: map[string]RouteLimits{
			RouteSearch: {Anonymous: &Limit{Requests: 1, Period: time.Minute}},
		},
	}}
	s, err := New(&fakeDB{}, Config{Table: testTable, Profile: p, Now: newFakeClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	passed := func(path, key string, n int) int {
		ok := 0
		for range n {
			w := httptest.NewRecorder()
			r := httptest.NewRequest("GET", path, nil)
			r.RemoteAddr = "192.0.2.1:1"
			if key != "" {
				r.Header.Set(DefaultAPIKeyHeader, key)
			}
			s.ServeHTTP(w, r)
			if w.Code != http.StatusTooManyRequests {
				ok++
			}
			if w.Header().Get("RateLimit-Policy") == "" || w.Header().Get("RateLimit") == "" {
				t.Fatalf("%s: no RateLimit headers: %v", path, w.Header())
			}
		}
		return ok
	}

	if got := passed("/search?q=a", "", 3); got != 1 {
		t.Errorf("anonymous search: %d passed, want 1 (the route's own limit)", got)
	}
	if got := passed("/items/x", "", 3); got != 2 {
		t.Errorf("anonymous items: %d passed, want 2 (the default bucket, untouched by search)", got)
	}
	if got := passed("/items/x", "k1", 6); got != 4 {
		t.Errorf("keyed items: %d passed, want 4", got)
	}
	if got := passed("/search?q=a", "k1", 6); got != 0 {
		t.Errorf("keyed search: %d passed, want 0 (no keyed route limit: the keyed default bucket, spent)", got)
	}
	if got := passed("/items/x", "k2", 6); got != 4 {
		t.Errorf("another key: %d passed, want 4", got)
	}
}

func TestRateLimitHeaders(t *testing.T) {
	p := Profile{Name: "h", RateLimit: &RateLimit{Anonymous: Limit{Requests: 2, Period: 10 * time.Second}}}
	s, err := New(&fakeDB{}, Config{Table: testTable, Profile: p, Now: newFakeClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	var got []http.Header
	for range 3 {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest("GET", "/items/x", nil))
		got = append(got, w.Header())
	}

	want := []struct{ policy, limit, retry string }{
		{`"default";q=2;w=10`, `"default";r=1;t=5`, ""},
		{`"default";q=2;w=10`, `"default";r=0;t=10`, ""},
		{`"default";q=2;w=10`, `"default";r=0;t=10`, "5"},
	}
	for i, w := range want {
		h := got[i]
		if h.Get("RateLimit-Policy") != w.policy || h.Get("RateLimit") != w.limit || h.Get("Retry-After") != w.retry {
			t.Errorf("request %d: RateLimit-Policy %q, RateLimit %q, Retry-After %q; want %q, %q, %q", i,
				h.Get("RateLimit-Policy"), h.Get("RateLimit"), h.Get("Retry-After"), w.policy, w.limit, w.retry)
		}
	}
}

func TestUnknownAPIKeysAreAnonymous(t *testing.T) {
	for _, known := range [][]string{nil, {"k1"}} {
		p := Profile{Name: "keys", RateLimit: &RateLimit{
			Key: KeyAPIKey, APIKeys: known,
			Anonymous: Limit{Requests: 1, Period: time.Minute},
			Keyed:     &Limit{Requests: 100, Period: time.Minute},
		}}
		s, err := New(&fakeDB{}, Config{Table: testTable, Profile: p, Now: newFakeClock().Now})
		if err != nil {
			t.Fatal(err)
		}
		passed := 0
		for i := range 10 {
			w := httptest.NewRecorder()
			r := httptest.NewRequest("GET", "/items/x", nil)
			r.RemoteAddr = "192.0.2.1:1"
			r.Header.Set(DefaultAPIKeyHeader, sprintf("made-up-%d", i))
			s.ServeHTTP(w, r)
			if w.Code != http.StatusTooManyRequests {
				passed++
			}
		}
		want := 10 // any key accepted: each made-up key is a fresh bucket
		if known != nil {
			want = 1 // unknown keys share the client's anonymous bucket
		}
		if passed != want {
			t.Errorf("api_keys %v: %d of 10 made-up keys passed, want %d", known, passed, want)
		}
	}
}
