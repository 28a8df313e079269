package target

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestClientScheduleActive(t *testing.T) {
	s := newClientSchedule([]ClientPhase{
		{Duration: 10 * time.Second, StartClients: 3, EndClients: 3}, // constant
		{Duration: 4 * time.Second, StartClients: 0, EndClients: 4},  // ramp up
		{Duration: 2 * time.Second},                                  // pause
		{Duration: 2 * time.Second, StartClients: 4, EndClients: 0},  // ramp down
		{Duration: time.Second, StartClients: 5, EndClients: 5},      // step
	})
	for _, tt := range []struct {
		at   time.Duration
		want int
	}{
		{0, 3}, {9999 * time.Millisecond, 3},
		{10 * time.Second, 0}, {10499 * time.Millisecond, 0}, {10500 * time.Millisecond, 1},
		{11500 * time.Millisecond, 2}, {13600 * time.Millisecond, 4},
		{14 * time.Second, 0}, {15900 * time.Millisecond, 0},
		{16 * time.Second, 4}, {16300 * time.Millisecond, 3}, {17800 * time.Millisecond, 0},
		{18 * time.Second, 5}, {19 * time.Second, 0}, {time.Hour, 0}, {-1, 0},
	} {
		if got := s.active(tt.at); got != tt.want {
			t.Errorf("active(%v) = %d, want %d", tt.at, got, tt.want)
		}
	}
	if got := s.peak(); got != 5 {
		t.Errorf("peak = %d, want 5", got)
	}
}

func TestClientScheduleNext(t *testing.T) {
	s := newClientSchedule([]ClientPhase{
		{Duration: 10 * time.Second, StartClients: 2, EndClients: 2},
		{Duration: 10 * time.Second},
		{Duration: 10 * time.Second, StartClients: 0, EndClients: 10},
		{Duration: 10 * time.Second, StartClients: 10, EndClients: 0},
	})
	for _, tt := range []struct {
		c    int
		t    time.Duration
		want time.Duration
		ok   bool
	}{
		{0, 0, 0, true},
		{1, 3 * time.Second, 3 * time.Second, true},
		// Paused from 10 s; the ramp reaches client 0 at 0.5 clients.
		{0, 10 * time.Second, 20500 * time.Millisecond, true},
		{2, 0, 22500 * time.Millisecond, true},
		{9, 0, 29500 * time.Millisecond, true},
		// Ramping down, client 9 is active only at the very start.
		{9, 30 * time.Second, 30 * time.Second, true},
		{9, 31 * time.Second, 0, false},
		{10, 0, 0, false},
	} {
		got, ok := s.next(tt.c, tt.t)
		if got != tt.want || ok != tt.ok {
			t.Errorf("next(%d, %v) = %v, %v; want %v, %v", tt.c, tt.t, got, ok, tt.want, tt.ok)
			continue
		}
		if ok && (tt.c >= s.active(got) || (got > tt.t && tt.c < s.active(got-1))) {
			t.Errorf("next(%d, %v) = %v is not the first instant client %d is active", tt.c, tt.t, got, tt.c)
		}
	}
}

// fakeClock is a closedClock whose time moves only when the loop sleeps
// or a request takes its service time.
type fakeClock struct{ t time.Duration }

func (f *fakeClock) now() time.Duration { return f.t }

func (f *fakeClock) sleepUntil(ctx context.Context, t time.Duration) bool {
	f.t = max(f.t, t)
	return ctx.Err() == nil
}

// A client plays its turns back to back: it sends while active, finishes
// the request in flight when the count drops (no cancellation), waits
// through a pause and carries on when the count comes back, without
// thinking first.
func TestPlayClientFollowsTheSchedule(t *testing.T) {
	s := newClientSchedule([]ClientPhase{
		{Duration: time.Second, StartClients: 2, EndClients: 2},
		{Duration: time.Second},                                 // pause
		{Duration: time.Second, StartClients: 1, EndClients: 1}, // client 1 stays out
		{Duration: time.Second, StartClients: 0, EndClients: 4}, // client 1 back at 3.375 s
	})
	const service, think = 300 * time.Millisecond, 100 * time.Millisecond
	for _, tt := range []struct {
		client int
		want   []time.Duration // send offsets, in ms
	}{
		// 0, 400, 800 (ends at 1100, in the pause), then 2000, 2400, 2800,
		// then the ramp has client 0 from 3125.
		{0, []time.Duration{0, 400, 800, 2000, 2400, 2800, 3200, 3600}},
		{1, []time.Duration{0, 400, 800, 3375, 3775}},
		{3, []time.Duration{3875}},
	} {
		t.Run(fmt.Sprint("client ", tt.client), func(t *testing.T) {
			clk := &fakeClock{}
			var got []time.Duration
			s.playClient(context.Background(), tt.client, 4*time.Second, think, clk, func(at time.Duration) {
				got = append(got, at/time.Millisecond)
				clk.t += service
			})
			if !slices.Equal(got, tt.want) {
				t.Errorf("sends at %v ms, want %v", got, tt.want)
			}
		})
	}
}

func TestPlayClientStopsWhenCancelled(t *testing.T) {
	s := newClientSchedule([]ClientPhase{{Duration: time.Second, StartClients: 1, EndClients: 1}})
	ctx, cancel := context.WithCancel(context.Background())
	clk := &fakeClock{}
	sends := 0
	s.playClient(ctx, 0, time.Second, 0, clk, func(time.Duration) {
		sends++
		clk.t += 10 * time.Millisecond
		if sends == 3 {
			cancel()
		}
	})
	if sends != 3 {
		t.Errorf("%d sends, want 3: the loop must stop once ctx is done", sends)
	}
}

// A closed-model class with phases: a pause starts nothing, the clients
// of each phase are the lowest numbered, and two shards split the clients
// between them without overlap.
func TestRunClientPhases(t *testing.T) {
	t.Parallel()
	srv := newHeaderServer(t, false)
	owner := map[string]int{}
	var sent, done int64
	for i := range 2 {
		srv.mu.Lock()
		srv.seen = map[string]map[string]int{}
		srv.mu.Unlock()
		res := mustRun(t, context.Background(), Config{
			BaseURL: srv.URL, Duration: 600 * time.Millisecond, Shard: Shard{Index: i, Count: 2},
			Classes: []Class{{
				Name: "vus", Executor: Concurrency, ThinkTime: 20 * time.Millisecond,
				ClientPhases: []ClientPhase{
					{Duration: 200 * time.Millisecond, StartClients: 2, EndClients: 2},
					{Duration: 200 * time.Millisecond},
					{Duration: 200 * time.Millisecond, StartClients: 4, EndClients: 4},
				},
				Mix: []Request{get("/{{client}}", 1)},
			}},
		})
		c := res.Classes[0]
		if len(c.Phases) != 3 || c.Phases[0].Done == 0 || c.Phases[1].Done != 0 || c.Phases[2].Done == 0 {
			t.Fatalf("shard %d: by phase %+v; want requests in phases 1 and 3 only", i, c.Phases)
		}
		if c.Errors != 0 || c.Aborted != 0 || c.OK != c.Sent {
			t.Errorf("shard %d: sent %d ok %d errors %d aborted %d; want every request answered",
				i, c.Sent, c.OK, c.Errors, c.Aborted)
		}
		sent += c.Sent
		done += c.Phases[0].Done + c.Phases[2].Done
		paths, _ := srv.counts("path")
		for p := range paths {
			if o, dup := owner[p]; dup {
				t.Errorf("client %s played by shards %d and %d", p, o, i)
			}
			owner[p] = i
		}
	}
	if len(owner) != 4 || owner["/0"] != 0 || owner["/1"] != 1 || owner["/2"] != 0 || owner["/3"] != 1 {
		t.Errorf("clients by shard %v; want /0 and /2 on shard 0, /1 and /3 on shard 1", owner)
	}
	if done != sent {
		t.Errorf("phases hold %d answers of %d sent", done, sent)
	}
}

func TestClientPhasesValidate(t *testing.T) {
	base := Class{Name: "c", Executor: Concurrency, Mix: []Request{get("/", 1)}}
	for _, tt := range []struct {
		name   string
		change func(*Class)
	}{
		{"open model", func(c *Class) {
			c.Executor, c.Phases = ArrivalRate, constant(time.Second, 1)
			c.ClientPhases = []ClientPhase{{Duration: time.Second, StartClients: 1, EndClients: 1}}
		}},
		{"no duration", func(c *Class) { c.ClientPhases = []ClientPhase{{StartClients: 1}} }},
		{"negative", func(c *Class) { c.ClientPhases = []ClientPhase{{Duration: time.Second, EndClients: -1}} }},
		{"above clients", func(c *Class) {
			c.Clients = 3
			c.ClientPhases = []ClientPhase{{Duration: time.Second, StartClients: 1, EndClients: 4}}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			tt.change(&c)
			if err := c.validate(); err == nil {
				t.Errorf("validate accepted %+v", c)
			}
		})
	}
}
