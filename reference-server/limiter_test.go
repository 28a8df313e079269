package refserver

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"
)

func TestProtectedRateLimitPerClient(t *testing.T) {
	clock := newFakeClock()
	ts := newAPI(t, newBackend(t, nil), mustProfile(t, "protected"), clock)
	const a, b = "10.0.0.1", "10.0.0.2"

	for i := range 40 {
		if r := call(t, ts, "GET", "/items/item-0", "", a); r.status != 200 {
			t.Fatalf("request %d of the burst: status %d, want 200", i, r.status)
		}
	}

	r := call(t, ts, "GET", "/items/item-0", "", a)
	if r.status != 429 {
		t.Fatalf("request past the burst: status %d, want 429", r.status)
	}
	if got := r.header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want %q (a token every 50 ms, rounded up)", got, "1")
	}
	if msg := r.errorMsg(t); msg == "" {
		t.Error("429 without an error message")
	}

	if r := call(t, ts, "POST", "/record", `{}`, a); r.status != 429 {
		t.Errorf("POST past the burst: status %d, want 429", r.status)
	}
	if r := call(t, ts, "GET", "/healthz", "", a); r.status != 200 {
		t.Errorf("GET /healthz of a limited client: status %d, want 200", r.status)
	}
	if r := call(t, ts, "GET", "/items/item-0", "", b); r.status != 200 {
		t.Errorf("another client: status %d, want 200", r.status)
	}

	clock.Advance(50 * time.Millisecond) // one token at 20/s
	if r := call(t, ts, "GET", "/items/item-0", "", a); r.status != 200 {
		t.Errorf("after one token refilled: status %d, want 200", r.status)
	}
	if r := call(t, ts, "GET", "/items/item-0", "", a); r.status != 429 {
		t.Errorf("after spending it: status %d, want 429", r.status)
	}
}

func TestRetryAfterFollowsReservationDelay(t *testing.T) {
	tests := []struct {
		limit Limit
		want  string
	}{
		{Limit{Requests: 20, Period: time.Second, Burst: 1}, "1"},
		{Limit{Requests: 1, Period: time.Second}, "1"},
		{Limit{Requests: 1, Period: 2 * time.Second}, "2"},
		{Limit{Requests: 1, Period: 4 * time.Second}, "4"},
		{Limit{Requests: 3, Period: 10 * time.Second, Burst: 1}, "4"}, // 3.33 s rounded up
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.limit), func(t *testing.T) {
			p := Profile{Name: "slow", RateLimit: &RateLimit{Anonymous: tt.limit}}
			ts := newAPI(t, &fakeDB{}, p, newFakeClock())

			if r := call(t, ts, "GET", "/items/x", "", "10.0.0.1"); r.status != 404 {
				t.Fatalf("first request: status %d, want 404", r.status)
			}
			r := call(t, ts, "GET", "/items/x", "", "10.0.0.1")
			if r.status != 429 {
				t.Fatalf("second request: status %d, want 429", r.status)
			}
			if got := r.header.Get("Retry-After"); got != tt.want {
				t.Errorf("Retry-After = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUnprotectedNeverLimits(t *testing.T) {
	ts := newAPI(t, &fakeDB{item: seedItems[1]}, mustProfile(t, "unprotected"), newFakeClock())

	for i := range 500 {
		if r := call(t, ts, "GET", "/items/item-1", "", "10.0.0.1"); r.status != 200 {
			t.Fatalf("request %d: status %d, want 200", i, r.status)
		}
	}
}

func TestMemStoreKeySetIsBounded(t *testing.T) {
	clock := newFakeClock()
	st := newMemStore(AlgorithmGCRA, 100)
	l := Limit{Requests: 10, Period: time.Second, Burst: 20}

	for i := range 1000 {
		if d, _ := st.take(context.Background(), fmt.Sprintf("10.0.%d.%d", i/256, i%256), l, clock.Now()); !d.allowed {
			t.Fatalf("new client %d refused", i)
		}
	}
	if got := st.gcra.len(); got != 100 {
		t.Errorf("keys kept = %d, want the cap 100", got)
	}

	// One request leaves a key's state for one interval (100 ms); then it
	// is as good as new and goes.
	clock.Advance(99 * time.Millisecond)
	st.take(context.Background(), "10.9.9.9", l, clock.Now())
	if got := st.gcra.len(); got != 100 {
		t.Errorf("before expiry: keys kept = %d, want 100", got)
	}
	clock.Advance(time.Millisecond)
	st.take(context.Background(), "10.9.9.9", l, clock.Now())
	if got := st.gcra.len(); got != 1 {
		t.Errorf("after expiry: keys kept = %d, want 1", got)
	}
}

func TestMemStoreKeepsUnrefilledState(t *testing.T) {
	for _, alg := range []string{AlgorithmGCRA, AlgorithmTokenBucket} {
		t.Run(alg, func(t *testing.T) {
			clock := newFakeClock()
			st := newMemStore(alg, 10)
			l := Limit{Requests: 1, Period: time.Second, Burst: 2}
			take := func() decision {
				d, _ := st.take(context.Background(), "a", l, clock.Now())
				return d
			}

			for range 2 {
				if !take().allowed {
					t.Fatal("burst refused")
				}
			}
			if d := take(); d.allowed || d.retryAfter != time.Second {
				t.Fatalf("past burst: %+v, want refused with 1s", d)
			}

			// 1.5 s later only one request has come back.
			clock.Advance(1500 * time.Millisecond)
			if !take().allowed {
				t.Fatal("refilled request refused")
			}
			if take().allowed {
				t.Error("a second request passed: the half-refilled state was dropped")
			}
		})
	}
}

func TestClientIP(t *testing.T) {
	tests := []struct {
		name, header, remote, value, want string
	}{
		{"remote v4", "", "192.0.2.7:5555", "", "192.0.2.7"},
		{"remote v6", "", "[2001:db8::1]:5555", "", "2001:db8::1"},
		{"remote mapped", "", "[::ffff:127.0.0.2]:80", "", "127.0.0.2"},
		{"header ignored when off", "", "192.0.2.7:5555", "127.0.0.9", "192.0.2.7"},
		{"header", clientHeader, "192.0.2.7:5555", "127.0.0.9", "127.0.0.9"},
		{"header v6", clientHeader, "192.0.2.7:5555", "::1", "::1"},
		{"header invalid", clientHeader, "192.0.2.7:5555", "not-an-ip", "192.0.2.7"},
		{"header missing", clientHeader, "192.0.2.7:5555", "", "192.0.2.7"},
		{"header list refused", clientHeader, "192.0.2.7:5555", "127.0.0.9, 127.0.0.8", "192.0.2.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(&fakeDB{}, Config{Table: testTable, ClientIPHeader: tt.header})
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/items/x", nil)
			r.RemoteAddr = tt.remote
			if tt.value != "" {
				r.Header.Set(clientHeader, tt.value)
			}

			if got := s.clientIP(r); got != "ip:"+tt.want {
				t.Errorf("clientIP = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRateLimitKeyedByRemoteAddr(t *testing.T) {
	p := Profile{Name: "one", RateLimit: &RateLimit{Anonymous: Limit{Requests: 1, Period: time.Second}}}
	s, err := New(&fakeDB{}, Config{Table: testTable, Profile: p, Now: newFakeClock().Now})
	if err != nil {
		t.Fatal(err)
	}

	status := func(remote string) int {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/items/x", nil)
		r.RemoteAddr = remote
		s.ServeHTTP(w, r)
		return w.Code
	}

	got := []int{status("127.0.0.2:1000"), status("127.0.0.2:2000"), status("127.0.0.3:1000")}
	want := []int{404, 429, 404}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("statuses = %v, want %v (one bucket per IP, whatever the port)", got, want)
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	tests := []struct {
		wait time.Duration
		want int
	}{
		{0, 1},
		{time.Millisecond, 1},
		{time.Second, 1},
		{time.Second + 1, 2},
		{90 * time.Second, 90},
	}
	for _, tt := range tests {
		t.Run(tt.wait.String(), func(t *testing.T) {
			if got := retryAfterSeconds(tt.wait); got != tt.want {
				t.Errorf("retryAfterSeconds(%v) = %d, want %d", tt.wait, got, tt.want)
			}
		})
	}
}
