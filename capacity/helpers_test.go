package capacity

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestMain(m *testing.M) {
	// The SDK is always given a loopback endpoint and static credentials;
	// this keeps it from ever reaching for the instance metadata service.
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	os.Exit(m.Run())
}

// t0 is a fixed instant on a whole second.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeClock is a settable clock safe for concurrent use.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{now: t} }

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

// putItem writes it to table through client, failing the test on error.
func putItem(t *testing.T, client *dynamodb.Client, table string, it map[string]types.AttributeValue) {
	t.Helper()
	in := &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}
	if _, err := client.PutItem(context.Background(), in); err != nil {
		t.Fatalf("PutItem %s: %v", table, err)
	}
}

// newClient serves h on loopback and returns a real DynamoDB client for it
// that does not retry.
func newClient(t *testing.T, h http.Handler) *dynamodb.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return NewDynamoDBClient(srv.URL, "", nil, noRetries)
}

// noRetries gives every call of a DynamoDB client one attempt: a broken
// connection fails the call with its own error rather than being sent, and
// metered, again.
func noRetries(o *dynamodb.Options) { o.RetryMaxAttempts = 1 }

// inProcessClient returns a DynamoDB client that calls h directly, with no
// socket.
func inProcessClient(h http.Handler) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		BaseEndpoint:     aws.String("http://127.0.0.1"),
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("x", "y", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       handlerDoer{h},
	})
}

// handlerDoer sends requests to an in-process handler.
type handlerDoer struct{ h http.Handler }

func (d handlerDoer) Do(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	d.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// gsiTable is a CreateTable request for provisioned table name, keyed on
// id, with rcu and wcu and the global indexes gsis (each keyed on gk, see
// gsiOnGK).
func gsiTable(name string, rcu, wcu int64, gsis ...types.GlobalSecondaryIndex) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("gk"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema:   []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode: types.BillingModeProvisioned,
		ProvisionedThroughput: &types.ProvisionedThroughput{
			ReadCapacityUnits: aws.Int64(rcu), WriteCapacityUnits: aws.Int64(wcu),
		},
		GlobalSecondaryIndexes: gsis,
	}
}

// gsiOnGK is a global index keyed on gk with projection and rcu and wcu.
func gsiOnGK(name string, projection types.ProjectionType, rcu, wcu int64) types.GlobalSecondaryIndex {
	return types.GlobalSecondaryIndex{
		IndexName:  aws.String(name),
		KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("gk"), KeyType: types.KeyTypeHash}},
		Projection: &types.Projection{ProjectionType: projection},
		ProvisionedThroughput: &types.ProvisionedThroughput{
			ReadCapacityUnits: aws.Int64(rcu), WriteCapacityUnits: aws.Int64(wcu),
		},
	}
}
