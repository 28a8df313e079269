package capacity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestBatchHandsBackThrottledTables: a BatchGetItem or BatchWriteItem over
// two tables, one of them out of capacity, serves the other and returns the
// refused table's part unprocessed; a batch on the refused table alone is
// throttled.
func TestBatchHandsBackThrottledTables(t *testing.T) {
	rig := newCloudWatchRig(t, 1, 1) // table T: 1 RCU, 1 WCU
	ctx := context.Background()
	createOnDemandTable(t, rig.ddb, "Big")
	key := func(id string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}}
	}
	for _, table := range []string{"T", "Big"} {
		putItem(t, rig.ddb, table, key("a"))
	}
	// The put above spent T's write second; its reads are spent next.
	get := func(tables ...string) (*dynamodb.BatchGetItemOutput, error) {
		in := &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{}}
		for _, table := range tables {
			in.RequestItems[table] = types.KeysAndAttributes{
				Keys: []map[string]types.AttributeValue{key("a"), key("b")}, ConsistentRead: aws.Bool(true),
			}
		}
		return rig.ddb.BatchGetItem(ctx, in)
	}
	if _, err := get("T", "Big"); err != nil {
		t.Fatalf("first batch get: %v", err)
	}

	out, err := get("T", "Big")
	if err != nil {
		t.Fatalf("second batch get: %v", err)
	}
	if n := len(out.Responses["Big"]); n != 1 {
		t.Errorf("Big answered %d items, want 1", n)
	}
	if _, ok := out.Responses["T"]; ok {
		t.Errorf("T answered although out of capacity: %v", out.Responses["T"])
	}
	if n := len(out.UnprocessedKeys["T"].Keys); n != 2 {
		t.Errorf("UnprocessedKeys[T] holds %d keys, want 2 (%+v)", n, out.UnprocessedKeys)
	}

	var pte *types.ProvisionedThroughputExceededException
	if _, err := get("T"); !errors.As(err, &pte) {
		t.Errorf("batch get on T alone: %v, want ProvisionedThroughputExceededException", err)
	}

	w, err := rig.ddb.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
		"T":   {{PutRequest: &types.PutRequest{Item: key("c")}}},
		"Big": {{PutRequest: &types.PutRequest{Item: key("c")}}},
	}})
	if err != nil {
		t.Fatalf("batch write: %v", err)
	}
	if len(w.UnprocessedItems["T"]) != 1 || len(w.UnprocessedItems["Big"]) != 0 {
		t.Errorf("UnprocessedItems = %+v, want T's put only", w.UnprocessedItems)
	}
}

// metricSum returns the sum of a series recorded by e in the minute from t0.
func metricSum(e *Endpoint, s series) float64 {
	total := 0.0
	for _, p := range e.rec.points(s, t0, t0.Add(time.Minute), 60) {
		total += p.sum
	}
	return total
}

// batchPuts returns n puts of items id prefix+i.
func batchPuts(prefix string, n int) []types.WriteRequest {
	var reqs []types.WriteRequest
	for i := range n {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
			"id": &types.AttributeValueMemberS{Value: fmt.Sprintf("%s%d", prefix, i)},
		}}})
	}
	return reqs
}

// TestBatchWriteProcessesWhatCapacityAllows: at 5 WCU a batch of ten
// one-unit puts writes five and hands the other five back in order; the
// next second they go through; a batch with nothing left to give is
// throttled. Events count per entry handed back, ThrottledRequests only
// the batch throttled whole.
func TestBatchWriteProcessesWhatCapacityAllows(t *testing.T) {
	clock := newFakeClock(t0)
	e := NewEndpoint(EndpointConfig{Now: clock.Now})
	client := inProcessClient(e)
	ctx := context.Background()
	createTable(t, client, "T", false, 100, 5)

	sent := batchPuts("a", 10)
	out, err := client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
		RequestItems:           map[string][]types.WriteRequest{"T": sent},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		t.Fatalf("first batch: %v", err)
	}
	back := out.UnprocessedItems["T"]
	if !reflect.DeepEqual(back, sent[5:]) {
		t.Errorf("UnprocessedItems[T] = %d entries %+v, want the last five sent", len(back), back)
	}
	if len(out.ConsumedCapacity) != 1 || aws.ToFloat64(out.ConsumedCapacity[0].CapacityUnits) != 5 {
		t.Errorf("ConsumedCapacity = %+v, want 5 units on T", out.ConsumedCapacity)
	}
	for i, w := range sent {
		got, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("T"), Key: w.PutRequest.Item})
		if err != nil {
			t.Fatalf("GetItem: %v", err)
		}
		if written := got.Item != nil; written != (i < 5) {
			t.Errorf("item %d written = %v, want %v", i, written, i < 5)
		}
	}

	_, err = client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
		RequestItems: map[string][]types.WriteRequest{"T": batchPuts("b", 3)},
	})
	var pte *types.ProvisionedThroughputExceededException
	if !errors.As(err, &pte) || len(pte.ThrottlingReasons) != 1 ||
		aws.ToString(pte.ThrottlingReasons[0].Reason) != "TableWriteProvisionedThroughputExceeded" {
		t.Errorf("batch with no capacity left: %v, want ProvisionedThroughputExceededException", err)
	}
	for _, tc := range []struct {
		s    series
		want float64
	}{
		{series{metric: metricWriteThrottles, table: "T"}, 5 + 3},
		{series{metric: "WriteProvisionedThroughputThrottleEvents", table: "T"}, 5 + 3},
		{series{metric: metricThrottled, table: "T", op: "BatchWriteItem"}, 1},
		{series{metric: metricConsumedWrite, table: "T"}, 5},
	} {
		if got := metricSum(e, tc.s); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.s.metric, got, tc.want)
		}
	}

	clock.Advance(time.Second)
	out, err = client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
		RequestItems: map[string][]types.WriteRequest{"T": back},
	})
	if err != nil || len(out.UnprocessedItems) != 0 {
		t.Errorf("retry of the five next second: %v, unprocessed %+v; want all written", err, out.UnprocessedItems)
	}
}

// TestBatchEntriesGoBackAsSent: the entries handed back are the bytes the
// caller sent (up to white space), whatever their values, and sit beside
// the request's other fields as sent.
func TestBatchEntriesGoBackAsSent(t *testing.T) {
	clock := newFakeClock(t0)
	e := NewEndpoint(EndpointConfig{Now: clock.Now})
	createTable(t, inProcessClient(e), "T", false, 2, 1)
	call := func(op, body string) map[string]json.RawMessage {
		t.Helper()
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("X-Amz-Target", targetPrefix+op)
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: status %d: %s", op, w.Code, w.Body)
		}
		var out map[string]json.RawMessage
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		return out
	}

	first := `{"PutRequest":{"Item":{"id":{"S":"a"}}}}`
	second := `{"PutRequest":{"Item":{"id":{"S":"b<&>"},"n":{"N":"1.50"},` +
		`"m":{"M":{"z":{"NULL":true},"a":{"L":[]}}}}}}`
	out := call("BatchWriteItem", `{"RequestItems":{"T":[`+first+`, `+second+`]}}`)
	if got, want := string(out["UnprocessedItems"]), `{"T":[`+second+`]}`; got != want {
		t.Errorf("UnprocessedItems = %s, want %s", got, want)
	}

	keys := `{"Keys":[{"id":{"S":"a"}},{"id":{"S":"b<&>"}},{"id":{"S":"c"}}],` +
		`"ConsistentRead":true,"ProjectionExpression":"#i","ExpressionAttributeNames":{"#i":"id"}}`
	out = call("BatchGetItem", `{"RequestItems":{"T":`+keys+`}}`)
	var got struct{ T map[string]json.RawMessage }
	if err := json.Unmarshal(out["UnprocessedKeys"], &got); err != nil {
		t.Fatal(err)
	}
	for field, want := range map[string]string{
		"Keys": `[{"id":{"S":"c"}}]`, "ConsistentRead": `true`, "ProjectionExpression": `"#i"`,
		"ExpressionAttributeNames": `{"#i":"id"}`,
	} {
		if string(got.T[field]) != want {
			t.Errorf("UnprocessedKeys.T.%s = %s, want %s", field, got.T[field], want)
		}
	}
	if string(out["Responses"]) != `{"T":[{"id":{"S":"a"}}]}` {
		t.Errorf("Responses = %s, want item a only", out["Responses"])
	}
}

// TestBatchHandsBackHotPartition: a BatchGetItem whose hot key's partition
// is out of read units hands that key back while keys on other partitions
// are served, counting one ReadKeyRangeThroughputThrottleEvents.
func TestBatchHandsBackHotPartition(t *testing.T) {
	clock := newFakeClock(t0)
	e := NewEndpoint(EndpointConfig{Now: clock.Now, Partitions: map[string]int{"H": 2}})
	client := inProcessClient(e)
	ctx := context.Background()
	createTable(t, client, "H", false, 20000, 1000)
	hot := map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "hot"}}
	item := map[string]types.AttributeValue{"id": hot["id"],
		"body": &types.AttributeValueMemberB{Value: make([]byte, 100*1024-len("id")-len("hot")-len("body"))}}
	putItem(t, client, "H", item)
	hotPart := partitionOf([]byte(`{"S":"hot"}`), 2)
	var cold []map[string]types.AttributeValue
	for i := 0; len(cold) < 2; i++ {
		id := fmt.Sprintf("cold-%d", i)
		if partitionOf([]byte(fmt.Sprintf(`{"S":%q}`, id)), 2) != hotPart {
			k := map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}}
			putItem(t, client, "H", k)
			cold = append(cold, k)
		}
	}

	clock.Advance(time.Second)
	for i := range PartitionReadUnits / 25 { // 25 RCU a strongly consistent read
		_, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("H"), Key: hot,
			ConsistentRead: aws.Bool(true), ProjectionExpression: aws.String("id")})
		if err != nil {
			t.Fatalf("hot read %d: %v", i, err)
		}
	}
	keys := []map[string]types.AttributeValue{cold[0], hot, cold[1]}
	out, err := client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
		RequestItems: map[string]types.KeysAndAttributes{
			"H": {Keys: keys, ConsistentRead: aws.Bool(true), ProjectionExpression: aws.String("id")},
		},
	})
	if err != nil {
		t.Fatalf("BatchGetItem: %v", err)
	}
	if n := len(out.Responses["H"]); n != 2 {
		t.Errorf("served %d items, want the 2 cold ones", n)
	}
	if back := out.UnprocessedKeys["H"].Keys; !reflect.DeepEqual(back, []map[string]types.AttributeValue{hot}) {
		t.Errorf("UnprocessedKeys[H] = %+v, want the hot key", back)
	}
	if got := metricSum(e, series{metric: "ReadKeyRangeThroughputThrottleEvents", table: "H"}); got != 1 {
		t.Errorf("ReadKeyRangeThroughputThrottleEvents = %v, want 1", got)
	}
	if got := metricSum(e, series{metric: metricThrottled, table: "H", op: "BatchGetItem"}); got != 0 {
		t.Errorf("ThrottledRequests = %v, want 0 for a batch partly served", got)
	}
}

// TestBatchOnDemandThrottling: on an on-demand table capped at 2 RRU a
// second, a batch of five strongly consistent reads serves two and hands
// three back; the next batch in that second is a ThrottlingException.
func TestBatchOnDemandThrottling(t *testing.T) {
	clock := newFakeClock(t0)
	e := NewEndpoint(EndpointConfig{Now: clock.Now})
	client := inProcessClient(e)
	ctx := context.Background()
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("D"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
		OnDemandThroughput:   &types.OnDemandThroughput{MaxReadRequestUnits: aws.Int64(2)},
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	get := func() (*dynamodb.BatchGetItemOutput, error) {
		var keys []map[string]types.AttributeValue
		for _, w := range batchPuts("k", 5) {
			keys = append(keys, w.PutRequest.Item)
		}
		return client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			"D": {Keys: keys, ConsistentRead: aws.Bool(true)},
		}})
	}
	out, err := get()
	if err != nil || len(out.UnprocessedKeys["D"].Keys) != 3 {
		t.Fatalf("first batch: %v, unprocessed %+v; want 3 keys back", err, out)
	}
	_, err = get()
	var te *types.ThrottlingException
	if !errors.As(err, &te) || len(te.ThrottlingReasons) != 1 ||
		aws.ToString(te.ThrottlingReasons[0].Reason) != "TableReadMaxOnDemandThroughputExceeded" {
		t.Fatalf("second batch: %v, want ThrottlingException TableReadMaxOnDemandThroughputExceeded", err)
	}
	if got := metricSum(e, series{metric: "ReadMaxOnDemandThroughputThrottleEvents", table: "D"}); got != 3+5 {
		t.Errorf("ReadMaxOnDemandThroughputThrottleEvents = %v, want 8", got)
	}
}

// TestBatchWriteWaitsForIndex: a batch write's entries are handed back when
// a global index is out of write capacity, counted under the index.
func TestBatchWriteWaitsForIndex(t *testing.T) {
	clock := newFakeClock(t0)
	e := NewEndpoint(EndpointConfig{Now: clock.Now})
	client := inProcessClient(e)
	indexedTable(t, client, 2) // G: 1000 WCU; indexes "all" and "keys": 2 WCU each
	var reqs []types.WriteRequest
	for i := range 4 {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
			"id": &types.AttributeValueMemberS{Value: fmt.Sprint(i)}, "gk": &types.AttributeValueMemberS{Value: "u"},
		}}})
	}
	out, err := client.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{
		RequestItems: map[string][]types.WriteRequest{"G": reqs},
	})
	if err != nil {
		t.Fatalf("BatchWriteItem: %v", err)
	}
	if !reflect.DeepEqual(out.UnprocessedItems["G"], reqs[2:]) {
		t.Errorf("UnprocessedItems[G] = %+v, want the last two puts", out.UnprocessedItems["G"])
	}
	s := series{metric: "WriteProvisionedThroughputThrottleEvents", table: "G", index: "all"}
	if got := metricSum(e, s); got != 2 {
		t.Errorf("index all's WriteProvisionedThroughputThrottleEvents = %v, want 2", got)
	}
}

// failingBatches is a backend that refuses every BatchWriteItem as
// DynamoDB refuses one to a table still being created, and passes anything
// else to the embedded engine.
type failingBatches struct{ next http.Handler }

func (f failingBatches) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".BatchWriteItem") {
		writeError(w, http.StatusBadRequest, "ResourceNotFoundException", "Requested resource not found")
		return
	}
	f.next.ServeHTTP(w, r)
}

// TestBatchFailedByBackendRecordsNoThrottles: a batch whose entries the
// model partly holds back but the backend then refuses whole records no
// throttle events: its entries were refused, not throttled.
func TestBatchFailedByBackendRecordsNoThrottles(t *testing.T) {
	clock := newFakeClock(t0)
	e := NewEndpoint(EndpointConfig{Now: clock.Now, Backend: failingBatches{NewEndpoint(EndpointConfig{})}})
	client := newClient(t, e)
	createTable(t, client, "T", false, 5, 5)

	_, err := client.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{
		RequestItems: map[string][]types.WriteRequest{"T": batchPuts("p", 25)}})
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Fatalf("BatchWriteItem: %v, want ResourceNotFoundException", err)
	}
	if got := metricSum(e, series{metric: metricWriteThrottles, table: "T"}); got != 0 {
		t.Errorf("WriteThrottleEvents = %g, want 0", got)
	}
}
