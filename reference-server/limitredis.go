package refserver

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// redisPrefix starts every key the server keeps in Redis.
const redisPrefix = "abusesim:"

// redisStore is a limitStore in Redis. GCRA (redis_rate), the token bucket
// and the sliding window each run as one Lua script on Redis's clock
// (TIME), so every server sharing the Redis sees one exact limit; the naive
// fixed window makes the article's three separate round trips instead.
type redisStore struct {
	algorithm string
	rdb       redis.UniversalClient
	gcra      *redis_rate.Limiter
}

var (
	_ limitStore   = (*redisStore)(nil)
	_ counterStore = redisCounter{}
)

func newRedisStore(algorithm string, rdb redis.UniversalClient) *redisStore {
	return &redisStore{algorithm: algorithm, rdb: rdb, gcra: redis_rate.NewLimiter(rdb)}
}

func (s *redisStore) take(ctx context.Context, key string, l Limit, now time.Time) (decision, error) {
	switch s.algorithm {
	case AlgorithmFixedWindowNaive:
		return naiveTake(ctx, redisCounter{s.rdb}, "ratelimit:"+key, l, now)
	case AlgorithmTokenBucket:
		return s.script(ctx, tokenBucketScript, "tb:"+key, l)
	case AlgorithmSlidingWindow:
		return s.script(ctx, slidingWindowScript, "sw:"+key, l)
	}

	res, err := s.gcra.Allow(ctx, key, redis_rate.Limit{Rate: l.Requests, Period: l.Period, Burst: l.burst()})
	if err != nil {
		return decision{}, fmt.Errorf("redis gcra: %w", err)
	}
	return decision{
		allowed:    res.Allowed > 0,
		remaining:  res.Remaining,
		retryAfter: max(res.RetryAfter, 0),
		reset:      max(res.ResetAfter, 0),
	}, nil
}

// script runs one of the Lua limiters, which answer {allowed, remaining,
// retry_after_seconds, reset_seconds}, the last two as strings.
func (s *redisStore) script(ctx context.Context, sc *redis.Script, key string, l Limit) (decision, error) {
	args := []any{l.Requests, l.Period.Seconds(), l.burst()}
	v, err := sc.Run(ctx, s.rdb, []string{redisPrefix + key}, args...).Slice()
	if err != nil {
		return decision{}, fmt.Errorf("redis %s: %w", s.algorithm, err)
	}
	if len(v) != 4 {
		return decision{}, fmt.Errorf("redis %s: script answered %d values, want 4", s.algorithm, len(v))
	}

	allowed, _ := v[0].(int64)
	remaining, _ := v[1].(int64)
	retry, err1 := parseSeconds(v[2])
	reset, err2 := parseSeconds(v[3])
	if err := errors.Join(err1, err2); err != nil {
		return decision{}, fmt.Errorf("redis %s: %w", s.algorithm, err)
	}
	return decision{allowed: allowed == 1, remaining: int(remaining), retryAfter: retry, reset: reset}, nil
}

func parseSeconds(v any) (time.Duration, error) {
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("script answered %T, want a string of seconds", v)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("script answered %q: %w", s, err)
	}
	return time.Duration(max(f, 0) * float64(time.Second)), nil
}

// tokenBucketScript: KEYS[1] a hash {tokens, ts}; ARGV requests, period
// seconds, burst. Refill at requests/period up to burst, then take one.
var tokenBucketScript = redis.NewScript(`
local key = KEYS[1]
local rate = tonumber(ARGV[1]) / tonumber(ARGV[2])
local cap = tonumber(ARGV[3])
local t = redis.call("TIME")
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local st = redis.call("HMGET", key, "tokens", "ts")
local tokens = tonumber(st[1]) or cap
local ts = tonumber(st[2]) or now
if now > ts then tokens = math.min(cap, tokens + (now - ts) * rate) end
if tokens < 1 then
  return {0, 0, tostring((1 - tokens) / rate), tostring((cap - tokens) / rate)}
end
tokens = tokens - 1
local full = (cap - tokens) / rate
redis.call("HSET", key, "tokens", tostring(tokens), "ts", tostring(now))
redis.call("EXPIRE", key, math.ceil(full) + 1)
return {1, math.floor(tokens), "-1", tostring(full)}
`)

// slidingWindowScript: KEYS[1] a hash {start, prev, curr}; ARGV requests,
// period seconds. The previous window's count is weighted by its overlap.
var slidingWindowScript = redis.NewScript(`
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local t = redis.call("TIME")
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local start = math.floor(now / period) * period
local st = redis.call("HMGET", key, "start", "prev", "curr")
local wstart = tonumber(st[1])
local prev, curr = 0, 0
if wstart == start then
  prev, curr = tonumber(st[2]) or 0, tonumber(st[3]) or 0
elseif wstart == start - period then
  prev = tonumber(st[3]) or 0
end
local elapsed = now - start
local estimate = prev * (1 - elapsed / period) + curr
local reset = 2 * period - elapsed
if estimate + 1 > limit then
  local room = limit - 1 - curr
  local wait = period - elapsed
  if room >= 0 and prev > 0 then wait = math.max((1 - room / prev) * period - elapsed, 0.001) end
  return {0, 0, tostring(wait), tostring(reset)}
end
curr = curr + 1
redis.call("HSET", key, "start", tostring(start), "prev", tostring(prev), "curr", tostring(curr))
redis.call("EXPIRE", key, math.ceil(2 * period) + 1)
return {1, math.floor(limit - estimate - 1), "-1", tostring(reset)}
`)

// redisCounter makes the article's GET, SET EX and INCR calls.
type redisCounter struct{ rdb redis.UniversalClient }

func (c redisCounter) get(ctx context.Context, key string, _ time.Time) (int, bool, error) {
	n, err := c.rdb.Get(ctx, redisPrefix+key).Int()
	if errors.Is(err, redis.Nil) {
		return 0, false, nil
	}
	return n, err == nil, err
}

func (c redisCounter) set(ctx context.Context, key string, n int, ttl time.Duration, _ time.Time) error {
	return c.rdb.Set(ctx, redisPrefix+key, n, ttl).Err()
}

func (c redisCounter) incr(ctx context.Context, key string, _ time.Time) error {
	return c.rdb.Incr(ctx, redisPrefix+key).Err()
}
