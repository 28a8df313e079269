package refserver

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestRedisKilledMidTest: the limiter's Redis dies while the server runs;
// each failure mode does what it says and the server keeps answering.
func TestRedisKilledMidTest(t *testing.T) {
	tests := []struct {
		algorithm, mode string
		// statuses of 4 requests after the kill, with a burst of 2
		want []int
	}{
		{AlgorithmGCRA, FailOpen, []int{404, 404, 404, 404}},
		{AlgorithmGCRA, FailClosed, []int{503, 503, 503, 503}},
		{AlgorithmGCRA, FailLocal, []int{404, 404, 429, 429}},
		{AlgorithmFixedWindowNaive, FailOpen, []int{404, 404, 404, 404}},
	}
	for _, tt := range tests {
		t.Run(tt.algorithm+"/"+tt.mode, func(t *testing.T) {
			r := startRedis(t)
			p := Profile{Name: "redis", RateLimit: &RateLimit{
				Algorithm: tt.algorithm, Store: StoreRedis, OnStoreError: tt.mode,
				Anonymous: Limit{Requests: 2, Period: time.Minute},
			}}
			s, err := New(&fakeDB{}, Config{Table: testTable, Profile: p, Redis: r.client(t), Now: newFakeClock().Now})
			if err != nil {
				t.Fatal(err)
			}
			send := func(path string) int {
				w := httptest.NewRecorder()
				req := httptest.NewRequest("GET", path, nil)
				req.RemoteAddr = "192.0.2.1:1"
				s.ServeHTTP(w, req)
				return w.Code
			}

			before := []int{send("/items/x"), send("/items/x"), send("/items/x")}
			if before[0] != 404 || before[1] != 404 || before[2] != 429 {
				t.Fatalf("with Redis up: statuses %v, want [404 404 429]", before)
			}

			r.stop()
			var after []int
			for range len(tt.want) {
				after = append(after, send("/items/y"))
			}
			for i := range tt.want {
				if after[i] != tt.want[i] {
					t.Errorf("with Redis down (%s): statuses %v, want %v", tt.mode, after, tt.want)
					break
				}
			}
			if got := send("/healthz"); got != http.StatusOK {
				t.Errorf("GET /healthz with Redis down: %d, want 200", got)
			}

			// Every failed decision is counted, the naive limiter's too,
			// though it lets the request through as the article does.
			w := httptest.NewRecorder()
			s.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
			want := fmt.Sprintf(`abusesim_ratelimit_decisions_total{decision="store_error_%s"} %d`, tt.mode, len(tt.want))
			if !strings.Contains(w.Body.String(), want) {
				t.Errorf("/metrics lacks %s:\n%s", want, w.Body.String())
			}
		})
	}
}

// TestSeedProfileInRedis runs the seed profile as built, against Redis.
func TestSeedProfileInRedis(t *testing.T) {
	r := startRedis(t)
	s, err := New(&fakeDB{}, Config{Table: testTable, Profile: mustProfile(t, ProfileSeed), Redis: r.client(t)})
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, s)

	codes := map[int]int{}
	for range 70 {
		codes[call(t, ts, "GET", "/items/x", "", "").status]++
	}
	if codes[404] != 60 || codes[429] != 10 {
		t.Errorf("70 sequential requests: %v, want 60 answered and 10 refused (60 per 60 s)", codes)
	}

	// The dedupe cache lives in the same Redis.
	ev := `{"event_id":"e-%d","user_id":"u","event_type":"view"}`
	s2, err := New(&fakeDB{}, Config{Table: testTable, Profile: withoutRateLimit(mustProfile(t, ProfileSeed)), Redis: r.client(t)})
	if err != nil {
		t.Fatal(err)
	}
	ts2 := newTestServer(t, s2)
	first := call(t, ts2, "POST", "/record", sprintf(ev, 1), "")
	second := call(t, ts2, "POST", "/record", sprintf(ev, 2), "")
	if first.status != 201 || second.status != 200 || second.json(t)["reason"] != "recent_duplicate" {
		t.Errorf("two distinct events of one user and type: %d %s, %d %s; want 201, then 200 recent_duplicate "+
			"(the article's dedupe drops real events)", first.status, first.body, second.status, second.body)
	}
}
