package refserver

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// dedupeStore remembers recent writes by user and event type, like the
// seed article's "recent:{user_id}:{event_type}" cache.
type dedupeStore interface {
	seen(ctx context.Context, key string, now time.Time) (bool, error)
	remember(ctx context.Context, key string, window time.Duration, now time.Time) error
}

func newDedupe(rdb redis.UniversalClient) dedupeStore {
	if rdb != nil {
		return redisDedupe{rdb}
	}
	return &memDedupe{m: newBoundedMap[struct{}](DefaultMaxKeys)}
}

type memDedupe struct {
	mu sync.Mutex
	m  *boundedMap[struct{}]
}

func (d *memDedupe) seen(_ context.Context, key string, now time.Time) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.m.get(key, now)
	return ok, nil
}

func (d *memDedupe) remember(_ context.Context, key string, window time.Duration, now time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.m.put(key, struct{}{}, now.Add(window))
	return nil
}

type redisDedupe struct{ rdb redis.UniversalClient }

func (d redisDedupe) seen(ctx context.Context, key string, _ time.Time) (bool, error) {
	err := d.rdb.Get(ctx, redisPrefix+key).Err()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	return err == nil, err
}

func (d redisDedupe) remember(ctx context.Context, key string, window time.Duration, _ time.Time) error {
	return d.rdb.Set(ctx, redisPrefix+key, "1", window).Err()
}
