package capacity

import (
	"context"
	"errors"
	"testing"

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
