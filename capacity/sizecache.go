package capacity

import (
	"context"
	"hash/fnv"
	"strings"
	"sync"
)

// sizeCacheStripes is how many locks the size cache is spread over.
const sizeCacheStripes = 64

// sizeCache remembers the size of items the endpoint has seen written, so
// that a write need not re-read the item it replaces. It is only sound when
// nothing but the endpoint writes to the backend: the embedded engine the
// endpoint creates itself, or a backend the caller vouches for
// (EndpointConfig.ExclusiveBackend). It holds one entry per item written or
// read through the endpoint, as the backend holds the item itself. It is
// safe for concurrent use.
type sizeCache struct {
	stripes [sizeCacheStripes]struct {
		mu    sync.Mutex
		sizes map[string]int // table NUL key -> bytes, 0 for no item
	}
}

func newSizeCache() *sizeCache {
	c := &sizeCache{}
	for i := range c.stripes {
		c.stripes[i].sizes = map[string]int{}
	}
	return c
}

func cacheKey(table string, key item) string {
	return table + "\x00" + keyString(key)
}

func (c *sizeCache) stripe(k string) int {
	h := fnv.New32a()
	h.Write([]byte(k))
	return int(h.Sum32() % sizeCacheStripes)
}

func (c *sizeCache) get(k string) (int, bool) {
	s := &c.stripes[c.stripe(k)]
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.sizes[k]
	return n, ok
}

func (c *sizeCache) set(k string, size int) {
	s := &c.stripes[c.stripe(k)]
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sizes[k] = size
}

func (c *sizeCache) forget(k string) {
	s := &c.stripes[c.stripe(k)]
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sizes, k)
}

// forgetTable drops every entry of table, as CreateTable and DeleteTable
// make them meaningless.
func (c *sizeCache) forgetTable(table string) {
	prefix := table + "\x00"
	for i := range c.stripes {
		s := &c.stripes[i]
		s.mu.Lock()
		for k := range s.sizes {
			if strings.HasPrefix(k, prefix) {
				delete(s.sizes, k)
			}
		}
		s.mu.Unlock()
	}
}

// forgetAll drops every entry, as a PartiQL call may change any item.
func (c *sizeCache) forgetAll() {
	for i := range c.stripes {
		s := &c.stripes[i]
		s.mu.Lock()
		clear(s.sizes)
		s.mu.Unlock()
	}
}

// cached reports whether the executor may use the size cache for table:
// the cache is on and the table has no secondary indexes, whose writes need
// the items' contents.
func (x *executor) cached(table string) bool {
	return x.e.sizes != nil && !x.indexed(table)
}

// priorItem returns the item under key before a call changes it, and its
// size: from the size cache when it knows the size (the item is then nil),
// else by an internal read, whose answer it remembers. The caller holds the
// item's key lock.
func (x *executor) priorItem(ctx context.Context, table string, key item) (item, int, error) {
	if !x.cached(table) || key == nil {
		return x.readItem(ctx, table, key)
	}
	k := cacheKey(table, key)
	if size, ok := x.e.sizes.get(k); ok {
		return nil, size, nil
	}
	it, size, err := x.readItem(ctx, table, key)
	if err == nil {
		x.e.sizes.set(k, size)
	}
	return it, size, err
}

// settle records what a write of the item under key did: on success the
// item's size is now size (0 when deleted); a failed condition changed
// nothing; any other outcome leaves the size unknown.
func (x *executor) settle(table string, key item, resp *backendResponse, size int) {
	if x.e.sizes == nil || key == nil {
		return
	}
	k := cacheKey(table, key)
	switch {
	case resp != nil && succeeded(resp) && x.cached(table):
		x.e.sizes.set(k, size)
	case resp != nil && conditionFailed(resp):
	default:
		x.e.sizes.forget(k)
	}
}

// forget drops what the cache knows of the items under refs.
func (x *executor) forget(refs []keyRef) {
	if x.e.sizes == nil {
		return
	}
	for _, r := range refs {
		if r.key != nil {
			x.e.sizes.forget(cacheKey(r.table, r.key))
		}
	}
}
