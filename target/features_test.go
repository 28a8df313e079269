package target

import (
	"context"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// headerServer answers 200 (or Status) and counts what each request
// claimed: remote IP, X-Forwarded-For, API key, User-Agent, protocol.
type headerServer struct {
	*httptest.Server
	Status atomic.Int64

	mu    sync.Mutex
	seen  map[string]map[string]int // "ip", "xff", "key", "ua", "proto" -> value -> count
	total int
}

func newHeaderServer(t *testing.T, h2c bool) *headerServer {
	t.Helper()
	s := &headerServer{seen: map[string]map[string]int{}}
	s.Status.Store(200)
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	if h2c {
		s.Server.Config.Protocols = new(http.Protocols)
		s.Server.Config.Protocols.SetHTTP1(true)
		s.Server.Config.Protocols.SetUnencryptedHTTP2(true)
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func (s *headerServer) serve(w http.ResponseWriter, r *http.Request) {
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	s.mu.Lock()
	s.total++
	for k, v := range map[string]string{
		"ip": ip, "xff": r.Header.Get("X-Forwarded-For"), "key": r.Header.Get("X-Api-Key"),
		"ua": r.UserAgent(), "proto": r.Proto, "path": r.URL.Path,
	} {
		if s.seen[k] == nil {
			s.seen[k] = map[string]int{}
		}
		s.seen[k][v]++
	}
	s.mu.Unlock()
	code := int(s.Status.Load())
	if code == 429 {
		w.Header().Set("Retry-After", "0")
	}
	w.WriteHeader(code)
}

func (s *headerServer) counts(k string) (map[string]int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps(s.seen[k]), s.total
}

func TestPoissonArrivals(t *testing.T) {
	cfg := Config{BaseURL: "http://127.0.0.1:1", Duration: 10 * time.Second, Seed: 3, Classes: []Class{{
		Name: "p", Phases: constant(10*time.Second, 1000), Mix: []Request{get("/", 1)}, Arrival: ArrivalPoisson,
	}}}
	draw := func() []time.Duration {
		arr := newClassRun(&cfg, 0, "http://127.0.0.1:1", "127.0.0.1:1", discardLogger()).arrivals()
		var out []time.Duration
		for n := int64(0); ; n++ {
			at, ok := arr.at(n)
			if !ok {
				return out
			}
			out = append(out, at)
		}
	}
	a, b := draw(), draw()
	if len(a) < 9700 || len(a) > 10300 {
		t.Errorf("%d arrivals in 10 s at 1000/s, want about 10000", len(a))
	}
	if len(a) != len(b) || a[len(a)/2] != b[len(b)/2] {
		t.Errorf("two draws with the same seed differ")
	}

	// Exponential gaps: the coefficient of variation is about 1 (evenly
	// spaced arrivals would give 0).
	var sum, sq float64
	for i := 1; i < len(a); i++ {
		g := (a[i] - a[i-1]).Seconds()
		sum += g
		sq += g * g
	}
	n := float64(len(a) - 1)
	mean := sum / n
	cv := math.Sqrt(sq/n-mean*mean) / mean
	if cv < 0.9 || cv > 1.1 {
		t.Errorf("gap coefficient of variation %.2f, want about 1", cv)
	}
}

func TestScheduleAtIntegralMatchesAt(t *testing.T) {
	s := NewSchedule([]Phase{{Duration: time.Second, StartRPS: 0, EndRPS: 100}, {Duration: time.Second, StartRPS: 100, EndRPS: 100}})
	for n := int64(0); n < 150; n++ {
		at, _ := s.At(n)
		got, _ := s.AtIntegral(float64(n) + 0.5)
		if got != at {
			t.Fatalf("AtIntegral(%d.5) = %v, At(%d) = %v", n, got, n, at)
		}
	}
	if s.Phase(500*time.Millisecond) != 0 || s.Phase(1500*time.Millisecond) != 1 || s.Phase(3*time.Second) != -1 {
		t.Errorf("Phase does not locate offsets")
	}
}

func TestClosedModel(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	srv.SlowFor = 200 * time.Millisecond
	res := mustRun(t, context.Background(), Config{
		BaseURL:  srv.URL,
		Duration: 2 * time.Second,
		Classes: []Class{{
			Name: "closed", Executor: Concurrency, Clients: 4, ThinkTime: 10 * time.Millisecond,
			Mix: []Request{get("/slow", 1)},
		}},
	})
	c := res.Classes[0]

	// Each client does a request plus a think every ~210 ms: about 38 in
	// 2 s, and never more than 4 at once. A client is waiting for an answer
	// 95 % of the time, so at the end of the first second some are.
	if c.Sent < 24 || c.Sent > 44 || c.OK != c.Sent || c.Dropped != 0 || c.Late != 0 {
		t.Errorf("sent %d ok %d dropped %d late %d; want about 38 sent, all ok, none late",
			c.Sent, c.OK, c.Dropped, c.Late)
	}
	if len(c.Seconds) == 0 {
		t.Fatal("no per-second series")
	}
	var busy int64
	for _, s := range c.Seconds {
		busy = max(busy, s.InFlight)
		if s.InFlight > 4 {
			t.Errorf("second %d: %d in flight with 4 clients", s.Offset, s.InFlight)
		}
	}
	if busy == 0 {
		t.Errorf("no request was ever in flight at the end of a second: the series is not being kept")
	}
	if got := c.Latency.TotalCount(); got != c.Sent {
		t.Errorf("latency holds %d values for %d sent", got, c.Sent)
	}
}

func TestIdentitiesPerClient(t *testing.T) {
	t.Parallel()
	sources, err := LoopbackPool(netip.MustParsePrefix("127.0.9.0/24"), 3)
	if err != nil {
		t.Fatal(err)
	}
	if !CanBind(sources[0]) {
		t.Skip("this host cannot bind 127.0.9.1; on macOS alias it: sudo ifconfig lo0 alias 127.0.9.1")
	}
	srv := newHeaderServer(t, false)
	res := mustRun(t, context.Background(), Config{
		BaseURL: srv.URL, Duration: 500 * time.Millisecond, Seed: 1,
		Classes: []Class{{
			Name: "bots", Phases: constant(time.Second, 200), Clients: 3,
			Mix: []Request{get("/c/{{client}}/{{apikey}}", 1)},
			Identities: &Identities{
				Sources: sources, ForwardedFor: []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"},
				APIKeys: []string{"k0", "k1", "k2"}, UserAgents: []string{"a", "b", "c"}, PerClient: true,
			},
		}},
	})
	if res.Classes[0].OK != 100 {
		t.Fatalf("ok %d, want the 100 due", res.Classes[0].OK)
	}
	ips, _ := srv.counts("ip")
	paths, _ := srv.counts("path")
	if len(ips) != 3 || len(paths) != 3 {
		t.Errorf("server saw IPs %v and paths %v; want 3 of each", ips, paths)
	}
	// Client c keeps entry c of every list: path /c/1/k1 comes with key k1.
	keys, _ := srv.counts("key")
	for c := range 3 {
		p := "/c/" + strconv.Itoa(c) + "/k" + strconv.Itoa(c)
		if paths[p] != keys["k"+strconv.Itoa(c)] || paths[p] == 0 {
			t.Errorf("path %s seen %d times, key k%d %d times; want equal and positive", p, paths[p], c, keys["k"+strconv.Itoa(c)])
		}
	}
}

func TestIdentitiesPerRequestDrawEveryEntry(t *testing.T) {
	t.Parallel()
	srv := newHeaderServer(t, false)
	mustRun(t, context.Background(), Config{
		BaseURL: srv.URL, Duration: 500 * time.Millisecond, Seed: 2,
		Classes: []Class{{
			Name: "spoof", Phases: constant(time.Second, 200), Mix: []Request{get("/", 1)},
			Identities: &Identities{ForwardedFor: []string{"198.51.100.1", "198.51.100.2"}, UserAgents: []string{"x", "y"}},
		}},
	})
	xff, total := srv.counts("xff")
	ua, _ := srv.counts("ua")
	if total != 100 || len(xff) != 2 || len(ua) != 2 || xff["198.51.100.1"] < 25 {
		t.Errorf("%d requests, X-Forwarded-For %v, User-Agent %v; want 100 spread over both values", total, xff, ua)
	}
}

func TestRetryImmediate(t *testing.T) {
	t.Parallel()
	srv := newHeaderServer(t, false)
	srv.Status.Store(429)
	res := mustRun(t, context.Background(), Config{
		BaseURL: srv.URL, Duration: 500 * time.Millisecond,
		Classes: []Class{{
			Name: "storm", Phases: constant(time.Second, 20), Mix: []Request{get("/", 1)},
			Retry: RetryPolicy{Mode: RetryImmediate, MaxAttempts: 3, HonourRetryAfter: true},
		}},
	})
	c := res.Classes[0]
	_, total := srv.counts("path")
	if c.Sent != 10 || c.Retries != 20 || c.Status["429"] != 10 || total != 30 {
		t.Errorf("sent %d retries %d status %v, server saw %d; want 10, 20, 10×429, 30",
			c.Sent, c.Retries, c.Status, total)
	}
}

func TestRetryDelay(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := rand.New(rand.NewPCG(1, 2))
	exp := RetryPolicy{Mode: RetryExponential, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}
	for k, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond,
		4: 800 * time.Millisecond, 5: time.Second, 30: time.Second} {
		if got := exp.delay(k, r, "", now); got != want {
			t.Errorf("exponential delay after attempt %d = %v, want %v", k, got, want)
		}
	}
	jitter := exp
	jitter.Jitter = true
	for range 100 {
		if d := jitter.delay(3, r, "", now); d < 0 || d > 400*time.Millisecond {
			t.Fatalf("jittered delay %v outside [0, 400ms]", d)
		}
	}
	honour := RetryPolicy{Mode: RetryImmediate, HonourRetryAfter: true, MaxDelay: 5 * time.Second}
	for ra, want := range map[string]time.Duration{
		"2": 2 * time.Second, "60": 5 * time.Second, "junk": 0,
		now.Add(3 * time.Second).Format(http.TimeFormat): 3 * time.Second,
	} {
		if got := honour.delay(1, r, ra, now); got != want {
			t.Errorf("delay with Retry-After %q = %v, want %v", ra, got, want)
		}
	}
	if !exp.retryable(0) || !exp.retryable(503) || exp.retryable(404) || (&RetryPolicy{}).attempts() != 1 {
		t.Errorf("retryable or attempts disagree with the documented defaults")
	}
}

func TestLateDropDropsAtOnce(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	srv.SlowFor = 200 * time.Millisecond
	res := mustRun(t, context.Background(), Config{
		BaseURL: srv.URL, Duration: time.Second,
		Classes: []Class{{
			Name: "strict", Phases: constant(time.Second, 40), Mix: []Request{get("/slow", 1)},
			Workers: 1, LateMode: LateDrop,
		}},
	})
	c := res.Classes[0]
	if c.Late != 0 || c.Dropped < 25 || c.Sent+c.Dropped != 40 {
		t.Errorf("sent %d late %d dropped %d; want none late, most of the 40 dropped", c.Sent, c.Late, c.Dropped)
	}
}

func TestBreakdownsAndIntervals(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	res := mustRun(t, context.Background(), Config{
		BaseURL: srv.URL, Duration: 2 * time.Second, Seed: 4,
		Classes: []Class{{
			Name:   "mixed",
			Phases: []Phase{{Duration: time.Second, StartRPS: 50, EndRPS: 50}, {Duration: time.Second, StartRPS: 100, EndRPS: 100}},
			Mix:    []Request{get("/ok", 1), get("/limited", 1), get("/fail", 1)},
		}},
	})
	c := res.Classes[0]
	if c.Sent != 150 {
		t.Fatalf("sent %d, want 150", c.Sent)
	}
	sum := func(bs []Breakdown) (n int64) {
		for _, b := range bs {
			n += b.Done
			if b.Latency.TotalCount() != b.Done {
				t.Errorf("breakdown %s: %d latencies for %d done", b.Name, b.Latency.TotalCount(), b.Done)
			}
		}
		return n
	}
	if sum(c.Requests) != 150 || sum(c.Phases) != 150 || sum(c.Families) != 150 {
		t.Errorf("breakdowns sum to %d, %d, %d; want 150 each", sum(c.Requests), sum(c.Phases), sum(c.Families))
	}
	if len(c.Phases) != 2 || c.Phases[0].Done != 50 || c.Phases[1].Done != 100 {
		t.Errorf("phases %v, want 50 then 100", c.Phases)
	}
	if c.Requests[1].Name != "/limited" || c.Requests[1].Status["429"] != c.Requests[1].Done {
		t.Errorf("request breakdown %s: status %v", c.Requests[1].Name, c.Requests[1].Status)
	}
	fams := map[string]int64{}
	for _, f := range c.Families {
		fams[f.Name] = f.Done
	}
	if len(fams) != 3 || fams["2xx"] == 0 || fams["4xx"] == 0 || fams["5xx"] == 0 {
		t.Errorf("families %v, want 2xx, 4xx and 5xx", fams)
	}

	var total int64
	for _, iv := range c.Intervals {
		h, err := hdrhistogram.Decode(iv.Histogram)
		if err != nil {
			t.Fatalf("decode interval %d: %v", iv.Offset, err)
		}
		total += h.TotalCount()
	}
	if len(c.Intervals) != 2 || total != 150 {
		t.Errorf("%d intervals holding %d values, want 2 holding 150", len(c.Intervals), total)
	}
}

func TestH2C(t *testing.T) {
	t.Parallel()
	srv := newHeaderServer(t, true)
	for _, tt := range []struct {
		proto Protocol
		want  string
	}{{ProtocolHTTP1, "HTTP/1.1"}, {ProtocolH2C, "HTTP/2.0"}} {
		mustRun(t, context.Background(), Config{
			BaseURL: srv.URL, Duration: 200 * time.Millisecond,
			Classes: []Class{{Name: "c", Phases: constant(time.Second, 50), Mix: []Request{get("/", 1)}, Protocol: tt.proto}},
		})
		if got, _ := srv.counts("proto"); got[tt.want] != 10 {
			t.Errorf("protocol %d: server saw %v, want 10 × %s", tt.proto, got, tt.want)
		}
	}
}

func TestSequentialAndHotKey(t *testing.T) {
	ks := KeySpace{Pattern: "k%d", Count: 5}
	seq, err := NewSequential(ks)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	for n, want := range map[int64]string{0: "k0", 3: "k3", 7: "k2"} {
		if got := KeyAt(seq, r, n); got != want {
			t.Errorf("sequential key of request %d = %s, want %s", n, got, want)
		}
	}

	hot, err := NewHotKey(KeySpace{Pattern: "k%d", Count: 1000}, 2, 0.9)
	if err != nil {
		t.Fatal(err)
	}
	f := frequencies(t, hot, 10000)
	if share := float64(f["k0"]+f["k1"]) / 10000; share < 0.88 || share > 0.93 {
		t.Errorf("hot keys drew %.3f of keys, want about 0.9 + 0.1×2/1000", share)
	}
	if _, err := NewHotKey(ks, 6, 0.5); err == nil {
		t.Errorf("NewHotKey accepted more hot keys than keys")
	}
}

func TestPools(t *testing.T) {
	got, err := LoopbackPool(netip.MustParsePrefix("127.0.5.0/30"), 3)
	if err != nil || len(got) != 3 || got[0].String() != "127.0.5.1" || got[2].String() != "127.0.5.3" {
		t.Errorf("LoopbackPool = %v, %v", got, err)
	}
	if _, err := LoopbackPool(netip.MustParsePrefix("10.0.0.0/24"), 3); err == nil {
		t.Errorf("LoopbackPool accepted a prefix outside 127.0.0.0/8")
	}
	if _, err := LoopbackPool(netip.MustParsePrefix("127.0.5.0/30"), 4); err == nil {
		t.Errorf("LoopbackPool accepted more addresses than the prefix holds")
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestParseRate(t *testing.T) {
	for in, want := range map[string]float64{"10000": 10000, "600/m": 10, "50/s": 50, "1/ms": 1000,
		"3600/h": 1, "100/2s": 50, "0": 0, " 2.5 ": 2.5} {
		if got, err := ParseRate(in); err != nil || math.Abs(got-want) > 1e-9 {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "fast", "10/fortnight", "10/0s", "inf", "NaN/s"} {
		if _, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) accepted it", in)
		}
	}
}

// Three shards together send exactly the requests of the whole run.
func TestShardsPartitionTheRun(t *testing.T) {
	t.Parallel()
	srv := newHeaderServer(t, false)
	run := func(shard Shard) *Result {
		return mustRun(t, context.Background(), Config{
			BaseURL: srv.URL, Duration: 300 * time.Millisecond, Seed: 5, Shard: shard,
			Classes: []Class{{Name: "s", Phases: constant(time.Second, 100), Mix: []Request{get("/{{seq}}", 1)}}},
		})
	}
	var sent int64
	for i := range 3 {
		sent += run(Shard{Index: i, Count: 3}).Classes[0].Sent
	}
	paths, total := srv.counts("path")
	if sent != 30 || total != 30 || len(paths) != 30 {
		t.Errorf("shards sent %d, server saw %d requests on %d paths; want 30 distinct", sent, total, len(paths))
	}
	if _, err := Run(context.Background(), Config{BaseURL: srv.URL, Duration: time.Second,
		Shard: Shard{Index: 3, Count: 3}, Classes: []Class{{Name: "s", Phases: constant(time.Second, 1), Mix: []Request{get("/", 1)}}}}); err == nil {
		t.Errorf("Run accepted shard 3/3")
	}
}

func TestRawStreamsEveryRequest(t *testing.T) {
	t.Parallel()
	srv := newHeaderServer(t, false)
	var buf strings.Builder
	res := mustRun(t, context.Background(), Config{
		BaseURL: srv.URL, Duration: 200 * time.Millisecond, Raw: &buf, RawTag: "p1",
		Classes: []Class{{Name: "c", Phases: constant(time.Second, 50), Mix: []Request{get("/r", 1)}}},
	})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if res.RawErr != nil || len(lines) != 11 || lines[0]+"\n" != RawHeader || !strings.HasPrefix(lines[0], "profile,class,") || !strings.HasPrefix(lines[1], "p1,c,/r,") ||
		!strings.Contains(lines[1], ",200,") {
		t.Errorf("raw error %v, %d lines:\n%s", res.RawErr, len(lines), buf.String())
	}
}

// With per-client identities each shard owns whole clients: no identity
// is used by two shards, and together they still send every request.
func TestShardsSplitPerClientIdentities(t *testing.T) {
	t.Parallel()
	srv := newHeaderServer(t, false)
	owner := map[string]int{}
	var sent int64
	for i := range 3 {
		srv.mu.Lock()
		srv.seen = map[string]map[string]int{}
		srv.mu.Unlock()
		res := mustRun(t, context.Background(), Config{
			BaseURL: srv.URL, Duration: 300 * time.Millisecond, Seed: 6, Shard: Shard{Index: i, Count: 3},
			Classes: []Class{{Name: "s", Phases: constant(time.Second, 100), Clients: 6,
				Mix:        []Request{get("/{{client}}", 1)},
				Identities: &Identities{APIKeys: []string{"a", "b", "c", "d", "e", "f"}, PerClient: true}}},
		})
		sent += res.Classes[0].Sent
		keys, _ := srv.counts("key")
		for k := range keys {
			if o, dup := owner[k]; dup {
				t.Errorf("API key %s used by shards %d and %d", k, o, i)
			}
			owner[k] = i
		}
	}
	if sent != 30 {
		t.Errorf("shards sent %d, want the 30 due", sent)
	}
}

// Sharded, every identity list is split between the shards: with 3 keys
// and 2 shards, shard 1 draws keys 0 and 2 and shard 2 key 1, for
// per-request and per-client pools alike; unsharded, nothing changes.
func TestPickSplitsPoolsAcrossShards(t *testing.T) {
	keys := []string{"k0", "k1", "k2"}
	for _, perClient := range []bool{false, true} {
		id := &Identities{APIKeys: keys, PerClient: perClient}
		for _, tt := range []struct {
			shard Shard
			want  map[int]bool
		}{
			{Shard{}, map[int]bool{0: true, 1: true, 2: true}},
			{Shard{Index: 0, Count: 2}, map[int]bool{0: true, 2: true}},
			{Shard{Index: 1, Count: 2}, map[int]bool{1: true}},
			{Shard{Index: 2, Count: 3}, map[int]bool{2: true}},
		} {
			r := rand.New(rand.NewPCG(1, 2))
			got := map[int]bool{}
			for c := int64(tt.shard.Index); c < 60; c += int64(tt.shard.count()) {
				got[id.pick(r, c, tt.shard).apiKey] = true
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("per-client %v, shard %+v: keys %v, want %v", perClient, tt.shard, got, tt.want)
			}
		}
	}

	// Unsharded picks are what they always were: entry c mod len per
	// client, a uniform draw over the list per request.
	r1, r2 := rand.New(rand.NewPCG(3, 4)), rand.New(rand.NewPCG(3, 4))
	for c := range int64(20) {
		if got := (&Identities{APIKeys: keys, PerClient: true}).pick(r1, c, Shard{}).apiKey; got != int(c%3) {
			t.Errorf("client %d: key %d, want %d", c, got, c%3)
		}
		if got, want := (&Identities{APIKeys: keys}).pick(r1, c, Shard{}).apiKey, r2.IntN(3); got != want {
			t.Errorf("request %d: key %d, want the draw %d", c, got, want)
		}
	}
}

func TestShardRefusesPoolSmallerThanShards(t *testing.T) {
	_, err := Run(context.Background(), Config{
		BaseURL: "http://127.0.0.1:1", Duration: time.Second, Shard: Shard{Index: 0, Count: 3},
		Classes: []Class{{Name: "bots", Phases: constant(time.Second, 1), Mix: []Request{get("/", 1)},
			Identities: &Identities{APIKeys: []string{"a", "b"}, UserAgents: []string{"x", "y", "z"}}}},
	})
	if err == nil || !strings.Contains(err.Error(), "api_keys has 2 entries, fewer than the 3 shards") ||
		!strings.Contains(err.Error(), "class bots") {
		t.Errorf("Run: %v; want an error naming api_keys and the class", err)
	}
}

// Run end to end: two shards over three per-request keys share none.
func TestShardsSplitPerRequestIdentities(t *testing.T) {
	t.Parallel()
	srv := newHeaderServer(t, false)
	owner := map[string]int{}
	for i := range 2 {
		srv.mu.Lock()
		srv.seen = map[string]map[string]int{}
		srv.mu.Unlock()
		mustRun(t, context.Background(), Config{
			BaseURL: srv.URL, Duration: 300 * time.Millisecond, Seed: 7, Shard: Shard{Index: i, Count: 2},
			Classes: []Class{{Name: "s", Phases: constant(time.Second, 100), Mix: []Request{get("/", 1)},
				Identities: &Identities{APIKeys: []string{"a", "b", "c"}}}},
		})
		keys, _ := srv.counts("key")
		for k := range keys {
			if o, dup := owner[k]; dup {
				t.Errorf("API key %s used by shards %d and %d", k, o, i)
			}
			owner[k] = i
		}
	}
	if want := map[string]int{"a": 0, "b": 1, "c": 0}; !reflect.DeepEqual(owner, want) {
		t.Errorf("keys by shard %v, want %v", owner, want)
	}
}
