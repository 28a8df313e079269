package target

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// testServer is a loopback target that answers by path and remembers what
// it saw:
//   - /ok/… 200, /limited/… 429, /fail/… 503
//   - /slow/… 200 after SlowFor (or when released)
//   - /block/… never answers until released or the client goes away
type testServer struct {
	*httptest.Server
	SlowFor time.Duration
	release chan struct{}
	seen    chan struct{} // one send per request, dropped when full

	mu       sync.Mutex
	status   map[string]int64
	remoteIP map[string]int
	requests []string // method, path and body of each request
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	s := &testServer{
		release:  make(chan struct{}),
		seen:     make(chan struct{}, 1024),
		status:   map[string]int64{},
		remoteIP: map[string]int{},
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	t.Cleanup(func() { close(s.release) }) // runs first: unblocks handlers before Close waits on them
	return s
}

func (s *testServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	s.mu.Lock()
	s.remoteIP[ip]++
	s.requests = append(s.requests, r.Method+" "+r.URL.RequestURI()+" "+string(body))
	s.mu.Unlock()
	select {
	case s.seen <- struct{}{}:
	default:
	}

	code := http.StatusOK
	switch strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)[0] {
	case "limited":
		code = http.StatusTooManyRequests
	case "fail":
		code = http.StatusServiceUnavailable
	case "slow":
		select {
		case <-time.After(s.SlowFor):
		case <-s.release:
		}
	case "block":
		select {
		case <-s.release:
		case <-r.Context().Done():
			return
		}
	}
	s.mu.Lock()
	s.status[fmt.Sprint(code)]++
	s.mu.Unlock()
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"path":%q}`, r.URL.Path)
}

func (s *testServer) snapshot() (status map[string]int64, remoteIP map[string]int, requests []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps(s.status), maps(s.remoteIP), slices.Clone(s.requests)
}

func maps[V any](m map[string]V) map[string]V {
	out := make(map[string]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func constant(d time.Duration, rps float64) []Phase {
	return []Phase{{Duration: d, StartRPS: rps, EndRPS: rps}}
}

func get(path string, weight int) Request {
	return Request{Name: path, Weight: weight, Path: MustParseTemplate(path)}
}

func mustRun(t *testing.T, ctx context.Context, cfg Config) *Result {
	t.Helper()
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(res.Classes) != len(cfg.Classes) {
		t.Fatalf("Run returned %d classes, want %d", len(res.Classes), len(cfg.Classes))
	}
	return res
}

func TestRunFixedRate(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	cfg := Config{
		BaseURL:  srv.URL,
		Duration: 2 * time.Second,
		Seed:     1,
		Classes: []Class{{
			Name:   "legit",
			Phases: constant(2*time.Second, 100),
			Mix:    []Request{get("/ok/{{key}}", 2), get("/limited/{{key}}", 1), get("/fail/{{key}}", 1)},
			Keys:   NewUniform(KeySpace{Pattern: "item-%06d", Count: 100}),
		}},
	}
	res := mustRun(t, context.Background(), cfg)
	c := res.Classes[0]
	status, _, _ := srv.snapshot()

	// The schedule holds exactly 200 requests; on a loaded machine a few
	// may find no worker within a second and be dropped.
	if c.Sent+c.Dropped != 200 || c.Sent < 150 {
		t.Errorf("sent %d + dropped %d (late %d, service max %d µs, seconds %+v); want 200, at least 150 sent",
			c.Sent, c.Dropped, c.Late, c.Service.Max(), c.Seconds)
	}
	if c.Errors != 0 || c.Aborted != 0 {
		t.Errorf("errors %d, aborted %d, want none", c.Errors, c.Aborted)
	}
	if !equalCounts(c.Status, status) {
		t.Errorf("client status counts %v, server answered %v", c.Status, status)
	}
	if c.OK != status["200"] {
		t.Errorf("OK = %d, server answered %d × 200", c.OK, status["200"])
	}
	// A weight of 2 in 4 for /ok: about half the requests.
	if share := float64(c.OK) / float64(c.Sent); share < 0.35 || share > 0.65 {
		t.Errorf("2xx share %.2f, want about 0.5", share)
	}

	if c.Latency.TotalCount() != c.Sent || c.Service.TotalCount() != c.Sent {
		t.Errorf("histograms hold %d and %d values, want %d each",
			c.Latency.TotalCount(), c.Service.TotalCount(), c.Sent)
	}
	if p50 := c.Service.ValueAtQuantile(50); p50 <= 0 || p50 > 500_000 {
		t.Errorf("service p50 %d µs, want between 0 and 0.5 s on loopback", p50)
	}
	if c.Latency.Mean() < c.Service.Mean()*0.99 {
		t.Errorf("latency mean %.0f µs below service mean %.0f µs", c.Latency.Mean(), c.Service.Mean())
	}
	if res.Elapsed < 2*time.Second || res.Elapsed > 10*time.Second {
		t.Errorf("Elapsed = %v, want about 2 s", res.Elapsed)
	}

	if len(c.Seconds) != 2 {
		t.Fatalf("%d seconds in the series, want 2", len(c.Seconds))
	}
	var sent int64
	for i, s := range c.Seconds {
		sent += s.Sent
		if s.Offset != i || s.Sent+s.Dropped != 100 || s.LatencyP50Ms <= 0 || s.LatencyP99Ms < s.LatencyP50Ms {
			t.Errorf("second %d = %+v, want offset %d, 100 due, 0 < p50 <= p99", i, s, i)
		}
	}
	if sent != c.Sent {
		t.Errorf("seconds sum to %d sent, want %d", sent, c.Sent)
	}
}

func equalCounts(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Two runs with the same seed send the same requests; another seed does not.
// Requests are matched by their sequence number, so a request dropped on a
// loaded machine does not fail the comparison.
func TestRunDeterministic(t *testing.T) {
	t.Parallel()
	run := func(seed int64) map[string]string {
		srv := newTestServer(t)
		body := MustParseTemplate(`{"event_id":"{{uuid}}","n":{{seq}},"class":"{{class}}"}`)
		mustRun(t, context.Background(), Config{
			BaseURL:  srv.URL,
			Duration: 500 * time.Millisecond,
			Seed:     seed,
			Classes: []Class{{
				Name:   "writer",
				Phases: constant(time.Second, 100),
				Mix: []Request{
					get("/ok/{{seq}}/{{key}}/{{randid}}", 1),
					{Weight: 1, Method: "POST", Path: MustParseTemplate("/ok/{{seq}}/record"), Body: body},
				},
				Keys: NewUniform(KeySpace{Pattern: "item-%d", Count: 1000}),
			}},
		})
		_, _, requests := srv.snapshot()
		bySeq := map[string]string{}
		for _, r := range requests {
			bySeq[strings.Split(r, "/")[2]] = r // "METHOD /ok/SEQ/…"
		}
		return bySeq
	}
	compare := func(a, b map[string]string) (common, differ int) {
		for seq, ra := range a {
			if rb, ok := b[seq]; ok {
				common++
				if ra != rb {
					differ++
				}
			}
		}
		return common, differ
	}

	a, b, c := run(5), run(5), run(6)
	if common, differ := compare(a, b); common < 40 || differ != 0 {
		t.Errorf("same seed: %d requests in common, %d of them differ; want about 50, none", common, differ)
	}
	if common, differ := compare(a, c); common < 40 || differ < common/2 {
		t.Errorf("seeds 5 and 6: %d of %d common requests differ, want most", differ, common)
	}
}

func TestRunSourceAddress(t *testing.T) {
	t.Parallel()
	a2, a3 := netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3")
	if !CanBind(a2) || !CanBind(a3) {
		t.Skip("this host cannot bind 127.0.0.2 and 127.0.0.3")
	}
	srv := newTestServer(t)
	class := func(name string, addr netip.Addr) Class {
		return Class{Name: name, Phases: constant(time.Second, 20), Mix: []Request{get("/ok", 1)}, SourceAddr: addr}
	}
	res := mustRun(t, context.Background(), Config{
		BaseURL:  srv.URL,
		Duration: 500 * time.Millisecond,
		Classes:  []Class{class("a", a2), class("b", a3)},
	})
	_, remote, _ := srv.snapshot()
	for i, ip := range []string{"127.0.0.2", "127.0.0.3"} {
		if got, want := int64(remote[ip]), res.Classes[i].Sent; got != want || want == 0 {
			t.Errorf("server saw %d requests from %s, class %s sent %d", got, ip, res.Classes[i].Name, want)
		}
	}
	if remote["127.0.0.1"] != 0 {
		t.Errorf("server saw %d requests from 127.0.0.1, want none", remote["127.0.0.1"])
	}
}

func TestCanBind(t *testing.T) {
	tests := []struct {
		addr netip.Addr
		want bool
	}{
		{netip.MustParseAddr("127.0.0.1"), true},
		{netip.Addr{}, false},
		{netip.MustParseAddr("192.0.2.1"), false}, // TEST-NET-1: never a local address
	}
	for _, tt := range tests {
		t.Run(tt.addr.String(), func(t *testing.T) {
			if got := CanBind(tt.addr); got != tt.want {
				t.Errorf("CanBind(%v) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
}

func TestRunRefusesUnbindableSource(t *testing.T) {
	cfg := validConfig()
	cfg.Classes[0].SourceAddr = netip.MustParseAddr("192.0.2.1")
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "cannot bind") {
		t.Errorf("Run error = %v, want cannot bind", err)
	}
}

// A server slower than the workers can cover: requests wait for workers
// (late), some wait too long (dropped), and latency from the intended start
// outgrows service time.
func TestRunSlowServerLateAndDropped(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	srv.SlowFor = 200 * time.Millisecond
	res := mustRun(t, context.Background(), Config{
		BaseURL:  srv.URL,
		Duration: 1500 * time.Millisecond,
		Classes: []Class{{
			Name:        "crowd",
			Phases:      constant(2*time.Second, 40),
			Mix:         []Request{get("/slow", 1)},
			Workers:     2,
			MaxLateness: 300 * time.Millisecond,
		}},
	})
	c := res.Classes[0]

	// 60 due; two workers at 200 ms each serve about 15.
	if c.Sent+c.Dropped != 60 {
		t.Errorf("sent %d + dropped %d, want the 60 due", c.Sent, c.Dropped)
	}
	if c.Dropped < 20 || c.Late < 5 || c.Sent > 30 {
		t.Errorf("sent %d, late %d, dropped %d; want about 15 sent, most late, the rest dropped",
			c.Sent, c.Late, c.Dropped)
	}
	if c.Status["200"] != c.Sent {
		t.Errorf("Status = %v, want all %d sent answered 200", c.Status, c.Sent)
	}
	if lat, svc := c.Latency.Mean(), c.Service.Mean(); lat < svc+50_000 {
		t.Errorf("latency mean %.0f µs, service mean %.0f µs; want latency clearly above", lat, svc)
	}
	if svc := c.Service.ValueAtQuantile(50); svc < 150_000 {
		t.Errorf("service p50 %d µs, want about the 200 ms the server takes", svc)
	}
	busy := int64(0)
	for _, s := range c.Seconds {
		if s.InFlight > 2 {
			t.Errorf("second %d: %d in flight with 2 workers", s.Offset, s.InFlight)
		}
		busy = max(busy, s.InFlight)
	}
	if busy == 0 {
		t.Errorf("no second ended with a request in flight: %+v", c.Seconds)
	}
}

func TestRunTimeoutsAreErrors(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	res := mustRun(t, context.Background(), Config{
		BaseURL:  srv.URL,
		Duration: 500 * time.Millisecond,
		Classes: []Class{{
			Name:    "patient",
			Phases:  constant(time.Second, 20),
			Mix:     []Request{get("/block", 1)},
			Timeout: 200 * time.Millisecond,
		}},
	})
	c := res.Classes[0]
	if c.Sent != 10 || c.Errors != 10 || c.Status["error"] != 10 || len(c.Status) != 1 {
		t.Errorf("sent %d, errors %d, status %v; want 10 sent, all transport errors", c.Sent, c.Errors, c.Status)
	}
	if svc := c.Service.ValueAtQuantile(50); svc < 150_000 || svc > 2_000_000 {
		t.Errorf("service p50 %d µs, want about the 200 ms timeout", svc)
	}
}

// Cancelling stops the run early and still returns what was recorded.
func TestRunCancelReturnsPartialResult(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for range 10 {
			<-srv.seen
		}
		cancel()
	}()

	begin := time.Now()
	res := mustRun(t, ctx, Config{
		BaseURL:  srv.URL,
		Duration: time.Minute,
		Classes: []Class{
			{Name: "stuck", Phases: constant(time.Minute, 50), Mix: []Request{get("/block", 1)}, Timeout: time.Minute},
			{Name: "fine", Phases: constant(time.Minute, 50), Mix: []Request{get("/ok", 1)}},
		},
	})
	if took := time.Since(begin); took > 10*time.Second {
		t.Errorf("Run took %v after a cancel expected within a second or two", took)
	}

	stuck, fine := res.Classes[0], res.Classes[1]
	if stuck.Sent == 0 || stuck.Aborted != stuck.Sent || len(stuck.Status) != 0 {
		t.Errorf("stuck class: sent %d, aborted %d, status %v; want every sent request aborted",
			stuck.Sent, stuck.Aborted, stuck.Status)
	}
	if fine.Sent == 0 || fine.OK+fine.Aborted != fine.Sent {
		t.Errorf("fine class: sent %d, ok %d, aborted %d; want all answered or aborted", fine.Sent, fine.OK, fine.Aborted)
	}
	if n, max := len(fine.Seconds), int(res.Elapsed/time.Second)+1; n == 0 || n > max {
		t.Errorf("%d seconds in the series after %v, want 1..%d", n, res.Elapsed, max)
	}
	if res.Elapsed >= time.Minute {
		t.Errorf("Elapsed = %v, want the time until the cancel", res.Elapsed)
	}
}

func TestPoolHandoff(t *testing.T) {
	cancelledCtx, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name     string
		ctx      context.Context
		capacity int
		deadline time.Duration // from now
		want     handoffResult
		spawned  int
	}{
		{"spawns below capacity", context.Background(), 1, time.Hour, handedOff, 1},
		{"dispatcher behind: dropped even with a worker to spare", context.Background(), 1, -time.Millisecond, tooLate, 0},
		{"all busy until the deadline", context.Background(), 0, 20 * time.Millisecond, tooLate, 0},
		{"all busy, run cancelled", cancelledCtx, 0, time.Hour, cancelled, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spawned := 0
			p := pool{
				jobs:     make(chan job), // nobody receives: no worker is idle
				spawn:    func(job) { spawned++ },
				capacity: tt.capacity,
				timer:    time.NewTimer(time.Hour),
			}
			got := p.handoff(tt.ctx, job{}, time.Now().Add(tt.deadline))
			if got != tt.want || spawned != tt.spawned {
				t.Errorf("handoff = %v with %d spawned, want %v with %d", got, spawned, tt.want, tt.spawned)
			}
		})
	}
}
