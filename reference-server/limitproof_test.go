package refserver

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// admitted sends n concurrent requests for one key to st and counts the
// ones let through.
func admitted(t *testing.T, st limitStore, l Limit, n int, now time.Time) int {
	t.Helper()
	var ok, failed atomic.Int64
	var start, wg sync.WaitGroup
	start.Add(1)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			d, err := st.take(context.Background(), "one-client", l, now)
			if err != nil {
				failed.Add(1)
			}
			if d.allowed {
				ok.Add(1)
			}
		}()
	}
	start.Done()
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d of %d requests failed in the store", failed.Load(), n)
	}
	return int(ok.Load())
}

// burstOf50 lets 50 requests through at once and one more every 20 s, far
// slower than the test runs.
var burstOf50 = Limit{Requests: 50, Period: 1000 * time.Second, Burst: 50}

func TestExactAlgorithmsAdmitExactlyTheBurstUnderConcurrency(t *testing.T) {
	r := startRedis(t)
	rdb := r.client(t)
	for _, alg := range []string{AlgorithmGCRA, AlgorithmTokenBucket, AlgorithmSlidingWindow} {
		stores := map[string]limitStore{
			"memory": newMemStore(alg, DefaultMaxKeys),
			"redis":  newRedisStore(alg, rdb),
		}
		for name, st := range stores {
			t.Run(alg+"/"+name, func(t *testing.T) {
				if got := admitted(t, st, burstOf50, 1000, newFakeClock().Now()); got != 50 {
					t.Errorf("1,000 concurrent requests against a burst of 50: %d admitted, want exactly 50", got)
				}
			})
		}
	}
}

func TestNaiveFixedWindowRacesPastItsLimit(t *testing.T) {
	r := startRedis(t)

	got := admitted(t, newRedisStore(AlgorithmFixedWindowNaive, r.client(t)), burstOf50, 1000, time.Now())
	t.Logf("naive fixed window in Redis: %d of 1,000 concurrent requests admitted against a limit of 50", got)
	if got <= 50 {
		t.Errorf("naive fixed window in Redis admitted %d, want more than 50: "+
			"its GET and SET/INCR are separate round trips, so concurrent requests race", got)
	}

	mem := admitted(t, newMemStore(AlgorithmFixedWindowNaive, DefaultMaxKeys), burstOf50, 1000, newFakeClock().Now())
	t.Logf("naive fixed window in memory: %d of 1,000 admitted (the race window is one lock hand-off wide)", mem)
	if mem < 50 {
		t.Errorf("naive fixed window in memory admitted %d, fewer than its limit 50", mem)
	}
}

// TestFixedWindowDoublesAcrossBoundary: a client opens a window with one
// request, waits until just before it ends, then sends 2N-1 requests over a
// millisecond. The fixed window admits nearly 2N of them; GCRA with the same
// limit never lets more than its burst through at once.
func TestFixedWindowDoublesAcrossBoundary(t *testing.T) {
	l := Limit{Requests: 10, Period: 10 * time.Second}
	tests := []struct {
		algorithm string
		atMost    int
		atLeast   int
	}{
		{AlgorithmFixedWindowNaive, 19, 19},
		{AlgorithmGCRA, 10, 10},
		{AlgorithmTokenBucket, 10, 10},
		{AlgorithmSlidingWindow, 10, 0},
	}
	for _, tt := range tests {
		t.Run(tt.algorithm, func(t *testing.T) {
			clock := newFakeClock()
			st := newMemStore(tt.algorithm, 10)
			take := func() bool {
				d, _ := st.take(context.Background(), "c", l, clock.Now())
				return d.allowed
			}

			if !take() {
				t.Fatal("first request refused")
			}
			clock.Advance(l.Period - time.Millisecond)
			burst := 0
			for range 9 {
				if take() {
					burst++
				}
			}
			clock.Advance(time.Millisecond) // the window boundary
			for range 10 {
				if take() {
					burst++
				}
			}

			t.Logf("%s: %d of 19 requests admitted within 1 ms (limit %d per %v)",
				tt.algorithm, burst, l.Requests, l.Period)
			if burst > tt.atMost || burst < tt.atLeast {
				t.Errorf("%s admitted %d within 1 ms, want %d..%d", tt.algorithm, burst, tt.atLeast, tt.atMost)
			}
		})
	}
}
