package target

import (
	"context"
	"testing"
	"time"
)

// A rate far past what the dispatcher can follow still ends at the run's
// duration plus the drain, with every due request counted sent or
// dropped. Dropping them one by one took over ten seconds here.
func TestRunUnfollowableRateEndsOnTime(t *testing.T) {
	t.Parallel()
	for name, arrival := range map[string]Arrival{"uniform": ArrivalUniform, "poisson": ArrivalPoisson} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t)
			res := mustRun(t, context.Background(), Config{
				BaseURL:  srv.URL,
				Duration: time.Second,
				Classes: []Class{{
					Name: "flood", Phases: constant(time.Second, 1e8), Mix: []Request{get("/ok", 1)},
					Workers: 2, Arrival: arrival,
				}},
			})
			c := res.Classes[0]
			if res.Elapsed > 6*time.Second {
				t.Errorf("run took %v for a 1 s duration", res.Elapsed)
			}
			due := c.Sent + c.Dropped
			if arrival == ArrivalUniform && due != 1e8 {
				t.Errorf("sent %d + dropped %d = %d, want the 1e8 due", c.Sent, c.Dropped, due)
			}
			if arrival == ArrivalPoisson && (due < 1e8-100_000 || due > 1e8+100_000) {
				t.Errorf("sent %d + dropped %d = %d, want about 1e8", c.Sent, c.Dropped, due)
			}
		})
	}
}

// dropBefore counts a skipped stretch by the second, and a shard only its
// own share of it.
func TestDropBefore(t *testing.T) {
	for _, shard := range []Shard{{}, {Index: 1, Count: 3}} {
		cfg := Config{BaseURL: "http://127.0.0.1:1", Duration: 10 * time.Second, Shard: shard, Classes: []Class{{
			Name: "c", Phases: constant(10*time.Second, 1000), Mix: []Request{get("/", 1)},
		}}}
		cr := newClassRun(&cfg, 0, "http://127.0.0.1:1", "127.0.0.1:1", discardLogger())
		arr := cr.arrivals()
		at, _ := arr.at(1500) // 1.5005 s
		next := cr.dropBefore(arr, 1500, at, 4*time.Second, cr.shardFilter())
		if next != 4000 {
			t.Errorf("shard %v: next request %d, want 4000", shard, next)
		}

		res := cr.rec.result(10)
		total := int64(0)
		for sec, first := range map[int]int64{1: 1500, 2: 2000, 3: 3000} {
			n := mineIn(shard, first, int64(sec+1)*1000) // request n starts at (n+0.5) ms
			if got := res.Seconds[sec].Dropped; got != n {
				t.Errorf("shard %v: second %d dropped %d, want %d", shard, sec, got, n)
			}
			total += n
		}
		if res.Dropped != total {
			t.Errorf("shard %v: dropped %d, want %d", shard, res.Dropped, total)
		}
	}
}

func mineIn(s Shard, lo, hi int64) int64 {
	k := int64(0)
	for n := lo; n < hi; n++ {
		if s.mine(n) {
			k++
		}
	}
	return k
}
