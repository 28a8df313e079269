package capacity

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestFailedConditionalUpdateCharge: a failed conditional UpdateItem is
// charged the larger of the item as it is and the item the update would
// have produced.
func TestFailedConditionalUpdateCharge(t *testing.T) {
	clock := newFakeClock(t0)
	e := NewEndpoint(EndpointConfig{Now: clock.Now})
	client := newClient(t, e)
	createTable(t, client, "U", false, 0, 0)
	putItem(t, client, "U", sizedItem("small", 1000))
	putItem(t, client, "U", sizedItem("large", 5000))
	big := strings.Repeat("y", 3000)

	for _, tc := range []struct {
		name      string
		id        string
		update    string
		condition string
		want      float64
	}{
		// 1,000 bytes now, 3,000 + 4 + 2 + 5 after: 3 WCU, not 1.
		{"update would grow the item", "small", "SET #d = :v", "attribute_not_exists(id)", 3},
		// 5,000 bytes now, about 3,000 after: the item as it is, 5 WCU.
		{"update would shrink the item", "large", "SET #d = :v", "attribute_not_exists(id)", 5},
		// No item: the one the update would have created, 3 WCU.
		{"update would create the item", "missing", "SET #d = :v", "attribute_exists(id)", 3},
		// An attribute the update computes from the item: data twice over,
		// 2,000 bytes more than now.
		{"update reads the item", "small", "SET twin = #d", "attribute_not_exists(id)", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock.Advance(10 * time.Second)
			at := clock.Now()
			in := &dynamodb.UpdateItemInput{TableName: aws.String("U"), Key: key(tc.id),
				UpdateExpression:       aws.String(tc.update),
				ConditionExpression:    aws.String(tc.condition),
				ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
			}
			// DATA is a reserved word in DynamoDB's expressions.
			in.ExpressionAttributeNames = map[string]string{"#d": "data"}
			if strings.Contains(tc.update, ":v") {
				in.ExpressionAttributeValues = map[string]types.AttributeValue{":v": s(big)}
			}
			_, err := client.UpdateItem(context.Background(), in)
			var ccf *types.ConditionalCheckFailedException
			if !errors.As(err, &ccf) {
				t.Fatalf("UpdateItem: %v, want ConditionalCheckFailedException", err)
			}
			samples, _ := e.Samples(context.Background(), "U", at, at.Add(time.Second))
			if len(samples) != 1 || samples[0].ConsumedWCU != tc.want {
				t.Errorf("samples %+v, want %v WCU", samples, tc.want)
			}
		})
	}

	// Nothing was written: the items are as they were.
	out, err := client.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("U"),
		Key: key("small"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := out.Item["twin"]; ok || len(out.Item) != 2 {
		t.Errorf("item after failed updates has %d attributes, want the 2 it had", len(out.Item))
	}
}

// TestTransactionUpdateTooLarge: DynamoDB cancels a TransactWriteItems
// whose Update would make an item larger than 400 KB, with the reason
// ValidationError on that action, and writes nothing.
func TestTransactionUpdateTooLarge(t *testing.T) {
	clock := newFakeClock(t0)
	client := newClient(t, NewEndpoint(EndpointConfig{Now: clock.Now}))
	ctx := context.Background()
	createTable(t, client, "X", false, 0, 0)
	putItem(t, client, "X", sizedItem("big", 300_000))
	clock.Advance(time.Second)

	update := func(bytes int) *dynamodb.TransactWriteItemsInput {
		return &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String("X"), Item: sizedItem("other", 100)}},
			{Update: &types.Update{TableName: aws.String("X"), Key: key("big"),
				UpdateExpression:          aws.String("SET extra = :v"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":v": s(strings.Repeat("z", bytes))},
			}},
		}}
	}

	// 300,000 + 5 + 110,000 bytes is over 409,600.
	_, err := client.TransactWriteItems(ctx, update(110_000))
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		t.Fatalf("TransactWriteItems: %v, want TransactionCanceledException", err)
	}
	var codes []string
	for _, r := range tce.CancellationReasons {
		codes = append(codes, aws.ToString(r.Code))
	}
	if strings.Join(codes, ",") != "None,ValidationError" ||
		aws.ToString(tce.CancellationReasons[1].Message) != "Item size to update has exceeded the maximum allowed size" {
		t.Errorf("cancellation reasons %+v, want None and ValidationError with DynamoDB's message",
			tce.CancellationReasons)
	}
	if !strings.Contains(tce.ErrorMessage(), "[None, ValidationError]") {
		t.Errorf("message %q, want the reasons listed", tce.ErrorMessage())
	}
	for _, id := range []string{"other", "big"} {
		out, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("X"), Key: key(id),
			ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		if _, extra := out.Item["extra"]; extra || (id == "other") != (out.Item == nil) {
			t.Errorf("item %s after the cancelled transaction: %d attributes", id, len(out.Item))
		}
	}

	// Under the limit the same transaction goes through.
	clock.Advance(time.Second)
	if _, err := client.TransactWriteItems(ctx, update(100_000)); err != nil {
		t.Fatalf("TransactWriteItems under 400 KB: %v", err)
	}
}
