package refserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/truora/minidyn/server"

	"github.com/abusesim/abusesim/capacity"
)

const (
	testTable    = "items"
	clientHeader = "X-Client-IP"
)

func TestMain(m *testing.M) {
	// Static credentials and an explicit endpoint are always given; this
	// makes sure nothing in the SDK reaches for instance metadata anyway.
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	os.Exit(m.Run())
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// seedItems are put in every backend table.
var seedItems = []map[string]types.AttributeValue{
	{
		"id":   &types.AttributeValueMemberS{Value: "item-0"},
		"name": &types.AttributeValueMemberS{Value: "first"},
		"n":    &types.AttributeValueMemberN{Value: "12.5"},
		"ok":   &types.AttributeValueMemberBOOL{Value: true},
		"tags": &types.AttributeValueMemberSS{Value: []string{"a", "b"}},
		"meta": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"list": &types.AttributeValueMemberL{Value: []types.AttributeValue{
				&types.AttributeValueMemberN{Value: "1"},
				&types.AttributeValueMemberNULL{Value: true},
			}},
		}},
	},
	{
		"id":   &types.AttributeValueMemberS{Value: "item-1"},
		"name": &types.AttributeValueMemberS{Value: "second"},
	},
}

// newBackend starts minidyn on loopback, behind front when it is not nil,
// creates the test table with the seed items and returns an SDK client for
// it that does not retry.
func newBackend(t *testing.T, front func(http.Handler) http.Handler) *dynamodb.Client {
	t.Helper()

	var h http.Handler = server.NewServer()
	if front != nil {
		h = front(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	db := capacity.NewDynamoDBClient(srv.URL, "", nil, capacity.RetryConnectionErrorsOnly)

	ctx := context.Background()
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(testTable),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash},
		},
		ProvisionedThroughput: &types.ProvisionedThroughput{
			ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5),
		},
	})
	if err != nil {
		t.Fatalf("creating table: %v", err)
	}

	for _, item := range seedItems {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(testTable), Item: item}); err != nil {
			t.Fatalf("seeding item: %v", err)
		}
	}
	return db
}

// countingDB counts the calls that reach the DynamoDB it wraps.
type countingDB struct {
	DynamoDB
	gets, puts atomic.Int64
}

func (c *countingDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput,
	opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.gets.Add(1)
	return c.DynamoDB.GetItem(ctx, in, opts...)
}

func (c *countingDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput,
	opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.puts.Add(1)
	return c.DynamoDB.PutItem(ctx, in, opts...)
}

// fakeDB records its inputs and answers with its fields.
type fakeDB struct {
	mu      sync.Mutex
	gets    []*dynamodb.GetItemInput
	puts    []*dynamodb.PutItemInput
	updates []*dynamodb.UpdateItemInput
	queries []*dynamodb.QueryInput
	scans   []*dynamodb.ScanInput
	item    map[string]types.AttributeValue
	err     error
	panics  bool
}

func (f *fakeDB) GetItem(_ context.Context, in *dynamodb.GetItemInput,
	_ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panics {
		panic("fakeDB: GetItem exploded")
	}
	f.gets = append(f.gets, in)
	if f.err != nil {
		return nil, f.err
	}
	return &dynamodb.GetItemOutput{Item: f.item}, nil
}

func (f *fakeDB) PutItem(_ context.Context, in *dynamodb.PutItemInput,
	_ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panics {
		panic("fakeDB: PutItem exploded")
	}
	f.puts = append(f.puts, in)
	if f.err != nil {
		return nil, f.err
	}
	return &dynamodb.PutItemOutput{}, nil
}

func mustProfile(t *testing.T, name string) Profile {
	t.Helper()
	p, err := BuiltinProfile(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// newAPI starts the reference server over db on loopback, reading client
// IPs from clientHeader.
func newAPI(t *testing.T, db DynamoDB, p Profile, clock *fakeClock) *httptest.Server {
	t.Helper()

	s, err := New(db, Config{Table: testTable, Profile: withoutRedis(p), ClientIPHeader: clientHeader, Now: clock.Now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return newTestServer(t, s)
}

// withoutRedis returns p with its Redis-backed limiter moved to memory, for
// tests of a profile's logic that need no Redis (redis_test.go runs the
// Redis stores).
func withoutRedis(p Profile) Profile {
	if p.RateLimit != nil && p.RateLimit.Store == StoreRedis {
		rl := *p.RateLimit
		rl.Store = StoreMemory
		p.RateLimit = &rl
	}
	return p
}

// newTestServer serves s on loopback until the test ends.
func newTestServer(t *testing.T, s *Server) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts
}

// reply is one answer of the API.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body as a JSON object, numbers kept as json.Number.
func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// errorMsg returns the "error" of a JSON error body, failing when there is none.
func (r reply) errorMsg(t *testing.T) string {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	msg, ok := r.json(t)["error"].(string)
	if !ok || msg == "" {
		t.Fatalf("body %q has no error message", r.body)
	}
	return msg
}

// call sends one request to ts as the client ip ("" sends no header).
func call(t *testing.T, ts *httptest.Server, method, path, body, ip string) reply {
	t.Helper()

	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ip != "" {
		req.Header.Set(clientHeader, ip)
	}

	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()

	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

func (f *fakeDB) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput,
	_ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates = append(f.updates, in)
	if f.err != nil {
		return nil, f.err
	}
	return &dynamodb.UpdateItemOutput{Attributes: in.Key}, nil
}

func (f *fakeDB) Query(_ context.Context, in *dynamodb.QueryInput,
	_ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, in)
	if f.err != nil {
		return nil, f.err
	}
	return &dynamodb.QueryOutput{}, nil
}

func (f *fakeDB) Scan(_ context.Context, in *dynamodb.ScanInput,
	_ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scans = append(f.scans, in)
	if f.err != nil {
		return nil, f.err
	}
	return &dynamodb.ScanOutput{}, nil
}

func withoutRateLimit(p Profile) Profile {
	p.RateLimit = nil
	return p
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
