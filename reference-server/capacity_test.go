package refserver

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/truora/minidyn/server"

	"github.com/abusesim/abusesim/capacity"
)

// meteredTable is a table behind the capacity model's local endpoint,
// whose consumed capacity the test reads back.
type meteredTable struct {
	endpoint *capacity.Endpoint
	db       *dynamodb.Client
	at       time.Time
}

func newMeteredTable(t *testing.T, items int) *meteredTable {
	t.Helper()
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	ep := capacity.NewEndpoint(capacity.EndpointConfig{
		Backend: server.NewServer(),
		Now:     func() time.Time { return at },
	})
	srv := httptest.NewServer(ep)
	t.Cleanup(srv.Close)

	db := capacity.NewDynamoDBClient(srv.URL, "", nil, capacity.RetryConnectionErrorsOnly)
	if _, err := EnsureTable(context.Background(), db, TableSpec{Table: testTable, SeedItems: items}); err != nil {
		t.Fatal(err)
	}
	return &meteredTable{endpoint: ep, db: db, at: at}
}

// consumed is the table's consumed RCU and WCU so far.
func (m *meteredTable) consumed(t *testing.T) (rcu, wcu float64) {
	t.Helper()
	samples, err := m.endpoint.Samples(context.Background(), testTable, m.at.Add(-time.Minute), m.at.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		rcu += s.ConsumedRCU
		wcu += s.ConsumedWCU
	}
	return rcu, wcu
}

// indexMeter asks for the consumed capacity of every Query and sums it:
// a GSI's units are the index's own, not in the table's samples.
type indexMeter struct {
	DynamoDB
	mu    sync.Mutex
	units float64
}

func (m *indexMeter) Query(ctx context.Context, in *dynamodb.QueryInput,
	opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := m.DynamoDB.Query(ctx, in, opts...)
	if err == nil && out.ConsumedCapacity != nil {
		m.mu.Lock()
		m.units += aws.ToFloat64(out.ConsumedCapacity.CapacityUnits)
		m.mu.Unlock()
	}
	return out, err
}

func (m *indexMeter) total() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.units
}

// TestRouteCostsPerProfile sends each route once (some twice) per profile
// and reads back, from the local DynamoDB's metering, what DynamoDB call it
// made and at which consistency: a strongly consistent read of a small item
// is 1 RCU, an eventually consistent one 0.5, a cache hit 0.
func TestRouteCostsPerProfile(t *testing.T) {
	type step struct {
		name, method, path, body string
		rcu, wcu                 map[string]float64 // by profile
	}
	all := func(v float64) map[string]float64 {
		return map[string]float64{ProfileUnprotected: v, ProfileSeed: v, ProfileProtected: v}
	}
	each := func(u, s, p float64) map[string]float64 {
		return map[string]float64{ProfileUnprotected: u, ProfileSeed: s, ProfileProtected: p}
	}
	steps := []step{
		{"get found", "GET", "/items/item-000001", "", each(1, 0.5, 0.5), all(0)},
		{"get found again", "GET", "/items/item-000001", "", each(1, 0.5, 0), all(0)},
		{"get missing", "GET", "/items/nope", "", each(1, 0.5, 0.5), all(0)},
		{"get missing again", "GET", "/items/nope", "", each(1, 0.5, 0), all(0)},
		// Writes: the table's own units (a GSI's are the index's).
		{"put", "PUT", "/items/item-000002", `{"color":"red"}`, all(0), all(1)},
		{"query gsi", "GET", "/users/u-1/items?limit=5", "", all(0.5), all(0)},
		// 300 items of about 50 bytes: 15 KB evaluated is 4 RCU strong,
		// 2 eventual; protected's page of 25 evaluates 1.3 KB.
		{"scan", "GET", "/search?q=seeded", "", each(4, 2, 0.5), all(0)},
		{"record", "POST", "/record", `{"event_id":"e1","user_id":"u-1","event_type":"view"}`, all(0), all(1)},
	}

	for _, name := range ProfileNames() {
		t.Run(name, func(t *testing.T) {
			m := newMeteredTable(t, 300)
			meter := &indexMeter{DynamoDB: m.db}
			ts := newAPI(t, meter, withoutRateLimit(mustProfile(t, name)), newFakeClock())

			for _, st := range steps {
				r0, w0 := m.consumed(t)
				r0 += meter.total()
				r := call(t, ts, st.method, st.path, st.body, "")
				if r.status >= 300 && !(r.status == 404 && st.path == "/items/nope") {
					t.Fatalf("%s: status %d: %s", st.name, r.status, r.body)
				}
				r1, w1 := m.consumed(t)
				r1 += meter.total()
				if got, want := r1-r0, st.rcu[name]; got != want {
					t.Errorf("%s: %v RCU, want %v", st.name, got, want)
				}
				if got, want := w1-w0, st.wcu[name]; got != want {
					t.Errorf("%s: %v WCU, want %v", st.name, got, want)
				}
			}
		})
	}
}
