package refserver

import (
	"sync"
	"sync/atomic"
)

// coalescer runs one call per key at a time and hands its result to every
// caller that asked for that key meanwhile, so a thousand concurrent cache
// misses on one id make one DynamoDB read. The zero value is ready; safe
// for concurrent use. (golang.org/x/sync/singleflight does the same; this
// module does not depend on it.)
type coalescer struct {
	mu    sync.Mutex
	calls map[string]*flight
}

type flight struct {
	waiters atomic.Int64 // callers waiting on this call, for tests
	done    chan struct{}
	body    []byte
	err     error
}

// do runs fn for key unless a call for key is in flight, in which case it
// waits for that call's result. shared reports whether the result came from
// another caller's call.
func (c *coalescer) do(key string, fn func() ([]byte, error)) (body []byte, err error, shared bool) {
	c.mu.Lock()
	if f, ok := c.calls[key]; ok {
		f.waiters.Add(1)
		c.mu.Unlock()
		<-f.done
		return f.body, f.err, true
	}
	if c.calls == nil {
		c.calls = make(map[string]*flight)
	}
	f := &flight{done: make(chan struct{})}
	c.calls[key] = f
	c.mu.Unlock()

	defer func() {
		c.mu.Lock()
		delete(c.calls, key)
		c.mu.Unlock()
		close(f.done)
	}()
	f.body, f.err = fn()
	return f.body, f.err, false
}

// waiting reports how many callers wait on the call in flight for key.
func (c *coalescer) waiting(key string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f, ok := c.calls[key]; ok {
		return f.waiters.Load()
	}
	return 0
}
