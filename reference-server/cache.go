package refserver

import (
	"container/list"
	"sync"
	"time"
)

// itemCache holds GetItem answers by item id: the encoded JSON of a found
// item until its TTL passes, or "not found" until the negative TTL passes.
// It keeps at most max entries, dropping the least recently used, and is
// safe for concurrent use. Concurrent misses are coalesced, when the
// profile asks, by the Server's coalescer, not here.
type itemCache struct {
	ttl, negativeTTL time.Duration
	max              int

	mu   sync.Mutex
	byID map[string]*list.Element // values are *cacheEntry
	lru  list.List                // front: most recently used
}

type cacheEntry struct {
	id      string
	body    []byte // nil: the item was not found
	expires time.Time
}

func newItemCache(c Cache) *itemCache {
	return &itemCache{
		ttl:         c.TTL,
		negativeTTL: c.NegativeTTL,
		max:         c.MaxEntries,
		byID:        make(map[string]*list.Element),
	}
}

// get returns the cached answer for id at now: hit reports whether there is
// one, and body is nil when the answer is "not found".
func (c *itemCache) get(id string, now time.Time) (body []byte, hit bool) {
	c.mu.Lock()
	defer c.mu.Unlock()

	el, ok := c.byID[id]
	if !ok {
		return nil, false
	}

	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		c.remove(el)
		return nil, false
	}
	c.lru.MoveToFront(el)
	return e.body, true
}

// put caches body for id from now; a nil body caches "not found". An answer
// whose TTL is zero is not cached.
func (c *itemCache) put(id string, body []byte, now time.Time) {
	ttl := c.ttl
	if body == nil {
		ttl = c.negativeTTL
	}
	if ttl <= 0 {
		return
	}

	c.mu.Lock()
	defer c.mu.Unlock()

	e := &cacheEntry{id: id, body: body, expires: now.Add(ttl)}
	if el, ok := c.byID[id]; ok {
		el.Value = e
		c.lru.MoveToFront(el)
		return
	}

	for c.lru.Len() >= c.max {
		c.remove(c.lru.Back())
	}
	c.byID[id] = c.lru.PushFront(e)
}

// forget drops any answer cached for id, so a write is seen by the next read.
func (c *itemCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if el, ok := c.byID[id]; ok {
		c.remove(el)
	}
}

func (c *itemCache) remove(el *list.Element) {
	delete(c.byID, el.Value.(*cacheEntry).id)
	c.lru.Remove(el)
}

// len reports how many answers are cached, expired ones included.
func (c *itemCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
