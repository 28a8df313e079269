package capacity

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// recordingDoer passes requests to next and keeps them.
type recordingDoer struct {
	next httpDoer
	mu   sync.Mutex
	reqs []*http.Request
}

func (d *recordingDoer) Do(r *http.Request) (*http.Response, error) {
	d.mu.Lock()
	d.reqs = append(d.reqs, r)
	d.mu.Unlock()
	return d.next.Do(r)
}

// TestClientRequestBodiesDrainAfterClose checks the workaround of the BUG
// on NewDynamoDBClient where it acts: once a call has returned (and the SDK
// has closed its request body), net/http's last drain of that body, a copy
// to io.Discard, must end cleanly. Unguarded, the SDK's body answers it with
// io.EOF and the transport closes the connection.
func TestClientRequestBodiesDrainAfterClose(t *testing.T) {
	srv := httptest.NewServer(NewEndpoint(EndpointConfig{}))
	t.Cleanup(srv.Close)
	rec := &recordingDoer{next: LocalHTTPClient(0)}
	ctx := context.Background()

	ddb := NewDynamoDBClient(srv.URL, "", rec, noRetries)
	createTable(t, ddb, "T", false, 5, 5)
	putItem(t, ddb, "T", map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "a"}})
	cw := NewCloudWatchClient(srv.URL, "", rec)
	if _, err := cw.ListMetrics(ctx, &cloudwatch.ListMetricsInput{}); err != nil {
		t.Fatalf("ListMetrics: %v", err)
	}

	if len(rec.reqs) != 3 {
		t.Fatalf("%d requests recorded, want 3", len(rec.reqs))
	}
	for _, r := range rec.reqs {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			t.Errorf("%s %s: draining the closed request body: %v, want nil",
				r.Header.Get("X-Amz-Target"), r.URL.Path, err)
		}
	}
}

// TestClientKeepsItsConnection makes a thousand PutItem and GetItem calls in
// turn through one client without retries: every one must succeed, nearly
// all over the keep-alive connection the client dialled first. Unguarded,
// the SDK bug on NewDynamoDBClient breaks some 30 connections per thousand
// calls here and fails a call now and then. A few redials are allowed:
// net/http drops a connection, cleanly, when its writer has not reported
// the request written within 50 ms of the answer, which happens when the
// machine is busy.
func TestClientKeepsItsConnection(t *testing.T) {
	clock := newFakeClock(t0)
	srv := httptest.NewServer(NewEndpoint(EndpointConfig{Now: clock.Now}))
	t.Cleanup(srv.Close)
	var dials atomic.Int64
	hc := LocalHTTPClient(0).WithTransportOptions(func(tr *http.Transport) {
		var d net.Dialer
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return d.DialContext(ctx, network, addr)
		}
	})
	ddb := NewDynamoDBClient(srv.URL, "", hc, noRetries)
	createTable(t, ddb, "T", false, 0, 0)
	ctx := context.Background()

	const calls = 500
	payload := make([]byte, 6000) // a GetItem answer larger than the transport's read buffer
	for i := range calls {
		clock.Advance(time.Second) // keeps the table within its on-demand limits
		id := string(rune('a' + i%26))
		item := map[string]types.AttributeValue{"id": s(id), "payload": &types.AttributeValueMemberB{Value: payload}}
		if _, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("T"), Item: item}); err != nil {
			t.Fatalf("call %d: PutItem: %v", i, err)
		}
		if _, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("T"), Key: key(id)}); err != nil {
			t.Fatalf("call %d: GetItem: %v", i, err)
		}
	}
	if got, most := dials.Load(), int64(2*calls/100); got > most {
		t.Errorf("%d connections dialled for %d sequential calls, want at most %d", got, 2*calls, most)
	}
}
