package capacity

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestCancelledTransactionCharge: a transaction cancelled because a
// condition failed consumes write capacity as its actions would have (a
// failed conditional write still consumes it), here a Put of a 2.5 KB item
// (2 × 3 units) and a ConditionCheck of a missing item (2 × 1); nothing is
// written.
func TestCancelledTransactionCharge(t *testing.T) {
	clock := newFakeClock(t0)
	e := NewEndpoint(EndpointConfig{Now: clock.Now})
	client := inProcessClient(e)
	createTable(t, client, "T", false, 100, 100)
	_, err := client.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String("T"), Item: map[string]types.AttributeValue{
				"id": &types.AttributeValueMemberS{Value: "p"},
				"v":  &types.AttributeValueMemberS{Value: strings.Repeat("x", 2500)},
			}}},
			{ConditionCheck: &types.ConditionCheck{TableName: aws.String("T"),
				Key:                 map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "missing"}},
				ConditionExpression: aws.String("attribute_exists(id)")}},
		},
	})
	var cancelled *types.TransactionCanceledException
	if !errors.As(err, &cancelled) {
		t.Fatalf("TransactWriteItems: %v, want TransactionCanceledException", err)
	}
	if got := metricSum(e, series{metric: metricConsumedWrite, table: "T"}); got != 8 {
		t.Errorf("consumed %v WCU for the cancelled transaction, want 8 (2×3 for the put, 2×1 for the check)", got)
	}
	out, err := client.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("T"),
		Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "p"}}, ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item != nil {
		t.Errorf("after the cancelled transaction: item %v, err %v; want nothing written", out.Item, err)
	}
}
