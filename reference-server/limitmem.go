package refserver

import (
	"container/list"
	"context"
	"math"
	"sync"
	"time"
)

// boundedMap keeps at most max values by key in least recently used order,
// each until its expiry. It is not safe for concurrent use; its owner locks.
//
// A value past its expiry is as good as none (the state a fresh key would
// have), so expired values are dropped from the old end without changing
// any answer.
//
// BUG: past max keys the least recently used key is dropped even though it
// has not expired, so an abuser spraying more than max distinct keys can
// reset its own buckets. A deployment would add a global or per-prefix
// limit (KeyGlobal here) or use Redis.
type boundedMap[V any] struct {
	max   int
	byKey map[string]*list.Element // values are *boundedEntry[V]
	lru   list.List                // front: most recently used
}

type boundedEntry[V any] struct {
	key     string
	val     V
	expires time.Time
}

func newBoundedMap[V any](max int) *boundedMap[V] {
	return &boundedMap[V]{max: max, byKey: make(map[string]*list.Element)}
}

// get returns key's value at now, ok false when there is none or it expired.
func (m *boundedMap[V]) get(key string, now time.Time) (v V, ok bool) {
	m.dropExpired(now)
	el, ok := m.byKey[key]
	if !ok {
		return v, false
	}
	e := el.Value.(*boundedEntry[V])
	if !now.Before(e.expires) {
		m.remove(el)
		return v, false
	}
	m.lru.MoveToFront(el)
	return e.val, true
}

// put stores v for key until expires.
func (m *boundedMap[V]) put(key string, v V, expires time.Time) {
	if el, ok := m.byKey[key]; ok {
		e := el.Value.(*boundedEntry[V])
		e.val, e.expires = v, expires
		m.lru.MoveToFront(el)
		return
	}
	for m.lru.Len() >= m.max && m.lru.Len() > 0 {
		m.remove(m.lru.Back())
	}
	m.byKey[key] = m.lru.PushFront(&boundedEntry[V]{key: key, val: v, expires: expires})
}

// dropExpired removes expired values from the least recently used end,
// stopping at the first live one: a cheap, amortised sweep.
func (m *boundedMap[V]) dropExpired(now time.Time) {
	for el := m.lru.Back(); el != nil; el = m.lru.Back() {
		if now.Before(el.Value.(*boundedEntry[V]).expires) {
			return
		}
		m.remove(el)
	}
}

func (m *boundedMap[V]) remove(el *list.Element) {
	delete(m.byKey, el.Value.(*boundedEntry[V]).key)
	m.lru.Remove(el)
}

func (m *boundedMap[V]) len() int { return m.lru.Len() }

// memStore is an in-memory limitStore for one algorithm, safe for
// concurrent use. GCRA, the token bucket and the sliding window decide under
// one lock, so they are exact; the naive fixed window goes through
// memCounter's separate steps, as the article's does through Redis.
type memStore struct {
	algorithm string

	mu      sync.Mutex
	gcra    *boundedMap[time.Time]   // theoretical arrival time
	buckets *boundedMap[tokenBucket] // tokens and when they were counted
	windows *boundedMap[slidingWindow]
	naive   *memCounter
}

type tokenBucket struct {
	tokens float64
	at     time.Time
}

type slidingWindow struct {
	start      time.Time // of the current fixed window
	prev, curr int
}

var _ limitStore = (*memStore)(nil)

func newMemStore(algorithm string, maxKeys int) *memStore {
	return &memStore{
		algorithm: algorithm,
		gcra:      newBoundedMap[time.Time](maxKeys),
		buckets:   newBoundedMap[tokenBucket](maxKeys),
		windows:   newBoundedMap[slidingWindow](maxKeys),
		naive:     newMemCounter(maxKeys),
	}
}

func (s *memStore) take(ctx context.Context, key string, l Limit, now time.Time) (decision, error) {
	if s.algorithm == AlgorithmFixedWindowNaive {
		return naiveTake(ctx, s.naive, key, l, now)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.algorithm {
	case AlgorithmTokenBucket:
		return s.takeToken(key, l, now), nil
	case AlgorithmSlidingWindow:
		return s.takeSliding(key, l, now), nil
	}
	return s.takeGCRA(key, l, now), nil
}

// takeGCRA: each request moves the key's theoretical arrival time (tat) on
// by one interval; a request is refused when that would put tat more than
// burst intervals ahead of now.
func (s *memStore) takeGCRA(key string, l Limit, now time.Time) decision {
	interval := l.interval()
	burstOffset := interval * time.Duration(l.burst())

	tat, ok := s.gcra.get(key, now)
	if !ok || tat.Before(now) {
		tat = now
	}
	newTat := tat.Add(interval)
	allowAt := newTat.Add(-burstOffset)
	if now.Before(allowAt) {
		return decision{retryAfter: allowAt.Sub(now), reset: tat.Sub(now)}
	}

	s.gcra.put(key, newTat, newTat)
	return decision{
		allowed:   true,
		remaining: int(now.Sub(allowAt) / interval),
		reset:     newTat.Sub(now),
	}
}

func (s *memStore) takeToken(key string, l Limit, now time.Time) decision {
	perSec := float64(l.Requests) / l.Period.Seconds()
	capacity := float64(l.burst())

	b, ok := s.buckets.get(key, now)
	if !ok {
		b = tokenBucket{tokens: capacity, at: now}
	}
	if now.After(b.at) {
		b.tokens = math.Min(capacity, b.tokens+now.Sub(b.at).Seconds()*perSec)
		b.at = now
	}

	full := func(tokens float64) time.Duration {
		return time.Duration((capacity - tokens) / perSec * float64(time.Second))
	}
	if b.tokens < 1 {
		wait := time.Duration((1 - b.tokens) / perSec * float64(time.Second))
		return decision{retryAfter: wait, reset: full(b.tokens)}
	}

	b.tokens--
	s.buckets.put(key, b, now.Add(full(b.tokens)))
	return decision{allowed: true, remaining: int(b.tokens), reset: full(b.tokens)}
}

func (s *memStore) takeSliding(key string, l Limit, now time.Time) decision {
	start := now.Truncate(l.Period)
	w, ok := s.windows.get(key, now)
	switch {
	case ok && w.start.Equal(start):
	case ok && w.start.Equal(start.Add(-l.Period)):
		w = slidingWindow{start: start, prev: w.curr}
	default:
		w = slidingWindow{start: start}
	}

	elapsed := now.Sub(start)
	weight := 1 - float64(elapsed)/float64(l.Period)
	estimate := float64(w.prev)*weight + float64(w.curr)
	if estimate+1 > float64(l.Requests) {
		return decision{retryAfter: slidingWait(w, l, elapsed), reset: 2*l.Period - elapsed}
	}

	w.curr++
	s.windows.put(key, w, start.Add(2*l.Period))
	return decision{
		allowed:   true,
		remaining: int(float64(l.Requests) - estimate - 1),
		reset:     2*l.Period - elapsed,
	}
}

// slidingWait is how long until the estimate leaves room for one request:
// the previous window's weight must fall to (limit-1-curr)/prev, or, when
// the current window alone is full, the next window must start.
func slidingWait(w slidingWindow, l Limit, elapsed time.Duration) time.Duration {
	room := float64(l.Requests - 1 - w.curr)
	if room < 0 || w.prev == 0 {
		return l.Period - elapsed
	}
	at := time.Duration((1 - room/float64(w.prev)) * float64(l.Period))
	return max(at-elapsed, time.Millisecond)
}

// counterStore is the key-value interface the naive fixed window uses: the
// three round trips of the article's limiter, each atomic on its own.
type counterStore interface {
	get(ctx context.Context, key string, now time.Time) (n int, found bool, err error)
	set(ctx context.Context, key string, n int, ttl time.Duration, now time.Time) error
	incr(ctx context.Context, key string, now time.Time) error
}

// naiveTake is the seed article's limiter, step for step:
//
//	current = GET key
//	if none: SET key 1 EX window; allow
//	if current >= limit: refuse
//	INCR key; allow
//	on any error: allow (fail open)
//
// Nothing holds the key between the steps, so requests arriving together
// all read the same count (or all find none and all SET 1) and all pass.
// On a store error the decision is already the article's "allow"; the error
// is returned as well so the server can log and count the failure, which
// the article's bare except hides.
func naiveTake(ctx context.Context, c counterStore, key string, l Limit, now time.Time) (decision, error) {
	open := decision{allowed: true, remaining: 0, reset: l.Period}

	current, found, err := c.get(ctx, key, now)
	if err != nil {
		return open, err
	}
	if !found {
		if err := c.set(ctx, key, 1, l.Period, now); err != nil {
			return open, err
		}
		return decision{allowed: true, remaining: l.Requests - 1, reset: l.Period}, nil
	}
	if current >= l.Requests {
		return decision{retryAfter: l.Period, reset: l.Period}, nil
	}
	if err := c.incr(ctx, key, now); err != nil {
		return open, err
	}
	return decision{allowed: true, remaining: max(l.Requests-current-1, 0), reset: l.Period}, nil
}

// memCounter is an in-memory counterStore whose steps lock separately.
type memCounter struct {
	mu sync.Mutex
	m  *boundedMap[int]
}

// never is the expiry of a counter INCR creates: like Redis, no expiry.
var never = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

func newMemCounter(max int) *memCounter {
	return &memCounter{m: newBoundedMap[int](max)}
}

func (c *memCounter) get(_ context.Context, key string, now time.Time) (int, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.m.get(key, now)
	return n, ok, nil
}

func (c *memCounter) set(_ context.Context, key string, n int, ttl time.Duration, now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m.put(key, n, now.Add(ttl))
	return nil
}

// incr adds one to key's count. Like Redis INCR on a key that expired
// since the GET, it creates the key at 1 with no expiry: the article's
// limiter then never resets that client's window.
func (c *memCounter) incr(_ context.Context, key string, now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.m.get(key, now)
	if !ok {
		c.m.put(key, 1, never)
		return nil
	}
	el := c.m.byKey[key]
	el.Value.(*boundedEntry[int]).val = n + 1
	return nil
}
