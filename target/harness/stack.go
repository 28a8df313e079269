package harness

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/truora/minidyn/server"

	"github.com/abusesim/abusesim/capacity"
	refserver "github.com/abusesim/abusesim/reference-server"
)

// region is the region the embedded stack pretends to be in; prices are
// looked up for it too.
const region = "us-east-1"

// tableSpec is the table a profile runs on, taken from the scenario.
type tableSpec struct {
	Name              string
	PartitionKey      string
	BillingMode       string
	RCU, WCU          int64
	BurstStartSeconds float64
	Items             int
	KeyPattern        string
	ItemBytes         int
}

// stack is one profile's embedded system under test: a local DynamoDB
// endpoint (minidyn behind the capacity model) and the reference server,
// each on its own loopback port.
type stack struct {
	endpoint *capacity.Endpoint
	backend  http.Handler
	ddbURL   string
	apiURL   string
	servers  []*http.Server
}

// startStack starts the endpoint and the reference server, creates the
// table and seeds it. Seeding goes straight to the engine, so it consumes
// no capacity and leaves the burst pool where the scenario put it; it stops
// when ctx is cancelled, however many items are left.
func startStack(ctx context.Context, spec tableSpec, cfg refserver.Config, log *slog.Logger) (*stack, error) {
	backend := server.NewServer()
	st := &stack{backend: backend}
	st.endpoint = capacity.NewEndpoint(capacity.EndpointConfig{
		Backend:           backend,
		Region:            region,
		BurstStartSeconds: spec.BurstStartSeconds,
		Logger:            log,
	})

	var err error
	if st.ddbURL, err = st.serve(st.endpoint); err != nil {
		return nil, fmt.Errorf("start local dynamodb: %w", err)
	}

	if err := createTable(context.WithoutCancel(ctx), newDynamoClient(st.ddbURL, nil), spec); err != nil {
		st.close()
		return nil, err
	}
	if err := seedTable(ctx, newDynamoClient("http://127.0.0.1", handlerDoer{backend}), spec); err != nil {
		st.close()
		return nil, err
	}

	cfg.Table = spec.Name
	cfg.KeyAttribute = spec.PartitionKey
	api, err := refserver.New(newDynamoClient(st.ddbURL, nil), cfg)
	if err != nil {
		st.close()
		return nil, fmt.Errorf("start reference server: %w", err)
	}
	if st.apiURL, err = st.serve(api); err != nil {
		st.close()
		return nil, fmt.Errorf("start reference server: %w", err)
	}
	return st, nil
}

// serve runs h on a fresh loopback port and returns its base URL.
func (st *stack) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	// HTTP/1.1 and HTTP/2 without TLS (prior knowledge), so a scenario's
	// classes may speak either (client.protocol http1 or h2c).
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, Protocols: &protocols}
	st.servers = append(st.servers, srv)
	go srv.Serve(ln) //nolint:errcheck // Serve returns ErrServerClosed on close
	return "http://" + ln.Addr().String(), nil
}

// close stops the servers, waiting a little for requests still in flight.
func (st *stack) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := len(st.servers) - 1; i >= 0; i-- {
		if err := st.servers[i].Shutdown(ctx); err != nil {
			st.servers[i].Close()
		}
	}
}

// newDynamoClient returns an SDK client for the local endpoint at url, with
// the SDK's default retry behaviour. A non-nil doer replaces the network.
func newDynamoClient(url string, doer dynamodb.HTTPClient) *dynamodb.Client {
	if doer == nil {
		doer = capacity.LocalHTTPClient(1024)
	}
	return capacity.NewDynamoDBClient(url, region, doer)
}

// handlerDoer sends SDK requests to an in-process handler, with no socket.
type handlerDoer struct{ h http.Handler }

func (d handlerDoer) Do(r *http.Request) (*http.Response, error) {
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	d.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

func createTable(ctx context.Context, db *dynamodb.Client, spec tableSpec) error {
	in := &dynamodb.CreateTableInput{
		TableName: aws.String(spec.Name),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(spec.PartitionKey), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("user_id"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(spec.PartitionKey), KeyType: types.KeyTypeHash},
		},
		// The reference server's GET /users/{user_id}/items queries this
		// index; it has the table's own throughput.
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(refserver.DefaultUserIndex),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String("user_id"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(spec.PartitionKey), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
		BillingMode: types.BillingMode(spec.BillingMode),
	}
	if in.BillingMode == types.BillingModeProvisioned {
		in.ProvisionedThroughput = &types.ProvisionedThroughput{
			ReadCapacityUnits:  aws.Int64(spec.RCU),
			WriteCapacityUnits: aws.Int64(spec.WCU),
		}
		in.GlobalSecondaryIndexes[0].ProvisionedThroughput = in.ProvisionedThroughput
	}
	if _, err := db.CreateTable(ctx, in); err != nil {
		return fmt.Errorf("create table %s: %w", spec.Name, err)
	}
	return nil
}

// seedTable writes spec.Items items of about spec.ItemBytes bytes each, in
// batches of 25 as BatchWriteItem allows.
func seedTable(ctx context.Context, db *dynamodb.Client, spec tableSpec) error {
	const batch = 25
	for start := 0; start < spec.Items; start += batch {
		var reqs []types.WriteRequest
		for i := start; i < min(start+batch, spec.Items); i++ {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: seedItem(spec, i)}})
		}
		out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{spec.Name: reqs},
		})
		if err != nil {
			return fmt.Errorf("seed table %s: %w", spec.Name, err)
		}
		if n := len(out.UnprocessedItems[spec.Name]); n > 0 {
			return fmt.Errorf("seed table %s: %d items left unprocessed", spec.Name, n)
		}
	}
	return nil
}

// seedItem is item i: its key, a user id and a payload padded so that the
// item's DynamoDB size is spec.ItemBytes (or the smallest it can be).
func seedItem(spec tableSpec, i int) map[string]types.AttributeValue {
	key := fmt.Sprintf(spec.KeyPattern, i)
	user := fmt.Sprintf("u-%d", i%1000)
	fixed := len(spec.PartitionKey) + len(key) + len("user_id") + len(user) + len("payload")
	pad := max(spec.ItemBytes-fixed, 0)
	return map[string]types.AttributeValue{
		spec.PartitionKey: &types.AttributeValueMemberS{Value: key},
		"user_id":         &types.AttributeValueMemberS{Value: user},
		"payload":         &types.AttributeValueMemberS{Value: strings.Repeat("x", pad)},
	}
}

var (
	errNoProfiles       = errors.New("no profiles to run")
	errSetupInterrupted = errors.New("interrupted while setting up the stack")
)
