package refserver

import (
	"fmt"
	"testing"
	"time"
)

func TestItemCache(t *testing.T) {
	clock := newFakeClock()
	c := newItemCache(Cache{TTL: 5 * time.Second, NegativeTTL: 30 * time.Second, MaxEntries: 3})

	c.put("a", []byte("A"), clock.Now())
	c.put("miss", nil, clock.Now())

	tests := []struct {
		advance  time.Duration
		id       string
		wantHit  bool
		wantBody string
	}{
		{0, "a", true, "A"},
		{0, "miss", true, ""},
		{0, "other", false, ""},
		{4999 * time.Millisecond, "a", true, "A"},
		{time.Millisecond, "a", false, ""}, // 5 s: expired
		{25 * time.Second, "miss", false, ""},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%d/%s", i, tt.id), func(t *testing.T) {
			clock.Advance(tt.advance)
			body, hit := c.get(tt.id, clock.Now())
			if hit != tt.wantHit || string(body) != tt.wantBody {
				t.Errorf("get(%s) = %q, %v; want %q, %v", tt.id, body, hit, tt.wantBody, tt.wantHit)
			}
		})
	}
}

func TestItemCacheBoundedLRU(t *testing.T) {
	now := newFakeClock().Now()
	c := newItemCache(Cache{TTL: time.Minute, MaxEntries: 3})

	for _, id := range []string{"a", "b", "c"} {
		c.put(id, []byte(id), now)
	}
	c.get("a", now)              // a is now the most recently used
	c.put("d", []byte("d"), now) // evicts b
	c.put("d", []byte("D"), now) // replaces, evicts nothing

	if got := c.len(); got != 3 {
		t.Errorf("len = %d, want 3", got)
	}
	for id, want := range map[string]string{"a": "a", "b": "", "c": "c", "d": "D"} {
		if body, _ := c.get(id, now); string(body) != want {
			t.Errorf("get(%s) = %q, want %q", id, body, want)
		}
	}
}

func TestItemCacheZeroTTLsCacheNothing(t *testing.T) {
	now := newFakeClock().Now()
	c := newItemCache(Cache{TTL: time.Minute, MaxEntries: 10}) // no negative TTL

	c.put("miss", nil, now)
	if _, hit := c.get("miss", now); hit {
		t.Error("a miss was cached with NegativeTTL 0")
	}

	c.put("a", []byte("A"), now)
	c.forget("a")
	if _, hit := c.get("a", now); hit {
		t.Error("forget left the entry")
	}
}
