package refserver

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"
)

func TestShedsLoadWhileDynamoKeepsThrottling(t *testing.T) {
	clock := newFakeClock()
	db := &fakeDB{err: &smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException"}}
	p := Profile{
		Name: "shed", ThrottleStatus: http.StatusServiceUnavailable,
		Retry: &Retry{Mode: RetryNone}, Shed: &Shed{Throttles: 3, For: 2 * time.Second},
	}
	ts := newAPI(t, db, p, clock)
	calls := func() int {
		db.mu.Lock()
		defer db.mu.Unlock()
		return len(db.gets)
	}

	for i := range 3 {
		r := call(t, ts, "GET", "/items/x", "", "")
		if r.status != 503 || !strings.Contains(r.errorMsg(t), "throttled") {
			t.Fatalf("throttled read %d: %d %s, want 503 naming the throttle", i, r.status, r.body)
		}
	}
	r := call(t, ts, "GET", "/items/x", "", "")
	if r.status != 503 || r.header.Get("Retry-After") != "2" || !strings.Contains(r.errorMsg(t), "shedding") {
		t.Errorf("after 3 throttles: %d Retry-After %q %s, want 503 shedding with Retry-After 2",
			r.status, r.header.Get("Retry-After"), r.body)
	}
	if got := calls(); got != 3 {
		t.Errorf("DynamoDB calls = %d, want 3: a shed request must not call it", got)
	}

	clock.Advance(2 * time.Second)
	call(t, ts, "GET", "/items/x", "", "")
	if got := calls(); got != 4 {
		t.Errorf("after the shed period: %d calls, want 4 (tries DynamoDB again)", got)
	}

	m := call(t, ts, "GET", "/metrics", "", "")
	for _, want := range []string{
		`abusesim_dynamodb_throttles_total{op="GetItem"} 4`,
		`abusesim_shed_requests_total 1`,
		`abusesim_http_requests_total{route="get_item",status="503"} 5`,
		"# TYPE abusesim_dynamodb_calls_total counter",
	} {
		if !strings.Contains(string(m.body), want) {
			t.Errorf("/metrics lacks %q:\n%s", want, m.body)
		}
	}
}

func TestRetryModesReachDynamoDB(t *testing.T) {
	tests := []struct {
		retry     *Retry
		wantCalls int64
	}{
		{&Retry{Mode: RetryNone}, 1},
		{&Retry{Mode: RetryStandard, MaxAttempts: 3, MaxBackoff: time.Millisecond}, 3},
		{&Retry{Mode: RetryAdaptive, MaxAttempts: 2, MaxBackoff: time.Millisecond}, 2},
		{nil, 1}, // the client's own: the test client makes one attempt
	}
	for _, tt := range tests {
		name := "client"
		if tt.retry != nil {
			name = tt.retry.Mode
		}
		t.Run(name, func(t *testing.T) {
			var fail atomic.Bool
			var hits atomic.Int64
			front := func(next http.Handler) http.Handler {
				h := failingFront("ThrottlingException", http.StatusBadRequest, &fail)(next)
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if fail.Load() {
						hits.Add(1)
					}
					h.ServeHTTP(w, r)
				})
			}
			db := newBackend(t, front)
			p := Profile{Name: "retry", Retry: tt.retry, ThrottleStatus: http.StatusServiceUnavailable}
			s, err := New(db, Config{Table: testTable, Profile: p})
			if err != nil {
				t.Fatal(err)
			}
			ts := newTestServer(t, s)
			fail.Store(true)

			if r := call(t, ts, "GET", "/items/item-0", "", ""); r.status != 503 {
				t.Fatalf("status %d %s, want 503", r.status, r.body)
			}
			if got := hits.Load(); got != tt.wantCalls {
				t.Errorf("attempts reaching DynamoDB = %d, want %d", got, tt.wantCalls)
			}
			if got := s.metrics.value(`abusesim_dynamodb_retries_total{op="GetItem"}`); got != tt.wantCalls-1 {
				t.Errorf("retries counted = %d, want %d", got, tt.wantCalls-1)
			}
		})
	}
}

// stuckDB never answers a read before its context ends.
type stuckDB struct{ fakeDB }

func (s *stuckDB) GetItem(ctx context.Context, _ *dynamodb.GetItemInput,
	_ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestRequestTimeoutBoundsDynamoCalls(t *testing.T) {
	for _, coalesce := range []bool{false, true} {
		p := Profile{Name: "timeout", RequestTimeout: 20 * time.Millisecond}
		if coalesce {
			p.Cache = &Cache{TTL: time.Second, Coalesce: true}
		}
		ts := newAPI(t, &stuckDB{}, p, newFakeClock())
		if r := call(t, ts, "GET", "/items/x", "", ""); r.status != 504 {
			t.Errorf("coalesce %v: status %d %s, want 504", coalesce, r.status, r.body)
		}
	}
}
