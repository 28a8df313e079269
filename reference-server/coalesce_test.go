package refserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// gatedDB holds every GetItem until release is closed.
type gatedDB struct {
	*countingDB
	entered chan struct{}
	release chan struct{}
}

func (g *gatedDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput,
	opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	g.entered <- struct{}{}
	<-g.release
	return g.countingDB.GetItem(ctx, in, opts...)
}

// TestThousandConcurrentMissesMakeOneRead: with coalescing, 1,000
// concurrent reads of one missing id reach DynamoDB once; within the
// negative TTL a further read does not reach it at all.
func TestThousandConcurrentMissesMakeOneRead(t *testing.T) {
	const n = 1000
	clock := newFakeClock()
	db := &gatedDB{
		countingDB: &countingDB{DynamoDB: newBackend(t, nil)},
		entered:    make(chan struct{}, n), release: make(chan struct{}),
	}
	p := Profile{Name: "coalesce", Cache: &Cache{TTL: 5 * time.Second, NegativeTTL: 30 * time.Second, Coalesce: true}}
	s, err := New(db, Config{Table: testTable, Profile: p, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	get := func() int {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest("GET", "/items/missing-1", nil))
		return w.Code
	}

	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { codes[i] = get() })
	}
	<-db.entered // the one read is in flight; the others must join it
	for s.flight.waiting("missing-1") < n-1 {
		select {
		case <-db.entered:
			t.Fatal("a second GetItem started while the first was in flight")
		case <-time.After(time.Millisecond):
		}
	}
	close(db.release)
	wg.Wait()

	for i, c := range codes {
		if c != http.StatusNotFound {
			t.Fatalf("request %d: status %d, want 404", i, c)
		}
	}
	if got := db.gets.Load(); got != 1 {
		t.Errorf("%d concurrent misses made %d DynamoDB reads, want 1", n, got)
	}
	if got := s.metrics.value(`abusesim_cache_requests_total{result="coalesced"}`); got != n-1 {
		t.Errorf("coalesced = %d, want %d", got, n-1)
	}

	clock.Advance(29 * time.Second)
	get()
	if got := db.gets.Load(); got != 1 {
		t.Errorf("a read within the negative TTL reached DynamoDB: %d reads, want 1", got)
	}
	clock.Advance(time.Second)
	get()
	if got := db.gets.Load(); got != 2 {
		t.Errorf("a read after the negative TTL: %d reads, want 2", got)
	}
}

func TestWithoutCoalescingEachMissReads(t *testing.T) {
	const n = 200
	db := &countingDB{DynamoDB: newBackend(t, nil)}
	s, err := New(db, Config{Table: testTable, Profile: mustProfile(t, ProfileUnprotected)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/items/missing-1", nil))
		})
	}
	wg.Wait()
	if got := db.gets.Load(); got != n {
		t.Errorf("unprotected: %d concurrent misses made %d reads, want %d", n, got, n)
	}
}
