package refserver

import (
	"container/list"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// clientLimiter keeps one token bucket per client key, in least recently
// used order, and is safe for concurrent use.
//
// The key set is bounded two ways. A limiter idle for refill (the time its
// bucket takes to fill from empty) is indistinguishable from a new one, so it
// is dropped without changing any answer. Past max keys the least recently
// used limiter is dropped even if its bucket is not full.
//
// TODO: the second rule lets a client that floods from more than max
// addresses reset its own buckets; a real deployment would add a global
// limit or a limit per network prefix, which this reference server lacks.
type clientLimiter struct {
	limit  rate.Limit
	burst  int
	max    int
	refill time.Duration

	mu    sync.Mutex
	byKey map[string]*list.Element // values are *clientEntry
	lru   list.List                // front: most recently used
}

type clientEntry struct {
	key      string
	lim      *rate.Limiter
	lastSeen time.Time
}

func newClientLimiter(rl RateLimit) *clientLimiter {
	refill := time.Duration(float64(rl.Burst) / rl.RequestsPerSecond * float64(time.Second))
	return &clientLimiter{
		limit:  rate.Limit(rl.RequestsPerSecond),
		burst:  rl.Burst,
		max:    rl.MaxClients,
		refill: refill,
		byKey:  make(map[string]*list.Element),
	}
}

// allow takes one token from key's bucket at now. When the bucket is empty it
// takes nothing and returns how long until a token would be there.
func (c *clientLimiter) allow(key string, now time.Time) (ok bool, wait time.Duration) {
	lim := c.limiterFor(key, now)

	r := lim.ReserveN(now, 1)
	if !r.OK() {
		// Cannot happen with burst >= 1; refuse rather than admit.
		return false, time.Second
	}

	delay := r.DelayFrom(now)
	if delay <= 0 {
		return true, 0
	}
	r.CancelAt(now)
	return false, delay
}

// limiterFor returns key's limiter, creating it, and drops idle or surplus
// limiters on the way.
func (c *clientLimiter) limiterFor(key string, now time.Time) *rate.Limiter {
	c.mu.Lock()
	defer c.mu.Unlock()

	c.dropIdle(now)

	if el, ok := c.byKey[key]; ok {
		e := el.Value.(*clientEntry)
		e.lastSeen = now
		c.lru.MoveToFront(el)
		return e.lim
	}

	for c.lru.Len() >= c.max {
		c.remove(c.lru.Back())
	}
	e := &clientEntry{key: key, lim: rate.NewLimiter(c.limit, c.burst), lastSeen: now}
	c.byKey[key] = c.lru.PushFront(e)
	return e.lim
}

// dropIdle removes, from the least recently used end, limiters whose bucket
// has refilled since they were last seen. A denied request does not move the
// bucket, so lastSeen is never earlier than the bucket's last change.
func (c *clientLimiter) dropIdle(now time.Time) {
	for el := c.lru.Back(); el != nil; el = c.lru.Back() {
		if now.Sub(el.Value.(*clientEntry).lastSeen) < c.refill {
			return
		}
		c.remove(el)
	}
}

func (c *clientLimiter) remove(el *list.Element) {
	delete(c.byKey, el.Value.(*clientEntry).key)
	c.lru.Remove(el)
}

// len reports how many limiters are kept.
func (c *clientLimiter) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// retryAfterSeconds turns a wait into a Retry-After value: whole seconds,
// rounded up, at least 1.
func retryAfterSeconds(wait time.Duration) int {
	s := math.Ceil(wait.Seconds())
	if s < 1 {
		return 1
	}
	if s > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(s)
}
