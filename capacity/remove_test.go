package capacity

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

// getItem returns the item under id in table, nil when there is none.
func getItem(t *testing.T, client *dynamodb.Client, table, id string) map[string]types.AttributeValue {
	t.Helper()
	out, err := client.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table),
		Key: key(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatalf("GetItem %s %s: %v", table, id, err)
	}
	return out.Item
}

// TestUpdateRemove: REMOVE takes attributes out of the item on the embedded
// engine (minidyn v0.8.2 alone keeps top-level ones), and the answers to
// ReturnValues say so.
func TestUpdateRemove(t *testing.T) {
	ctx := context.Background()
	client := newClient(t, NewEndpoint(EndpointConfig{}))
	createTable(t, client, "T", false, 0, 0)

	tests := []struct {
		name      string
		expr      string
		names     map[string]string
		values    map[string]types.AttributeValue
		cond      string
		rv        types.ReturnValue
		wantItem  map[string]types.AttributeValue
		wantAttrs map[string]types.AttributeValue
		wantErr   bool
	}{
		{name: "REMOVE a, ALL_NEW", expr: "REMOVE a", rv: types.ReturnValueAllNew,
			wantItem:  map[string]types.AttributeValue{"id": s("r"), "b": n("2"), "m": nested(), "l": list()},
			wantAttrs: map[string]types.AttributeValue{"id": s("r"), "b": n("2"), "m": nested(), "l": list()}},
		{name: "SET then REMOVE, UPDATED_OLD", expr: "SET c = :c REMOVE b",
			values: map[string]types.AttributeValue{":c": n("3")}, rv: types.ReturnValueUpdatedOld,
			wantItem:  map[string]types.AttributeValue{"id": s("r"), "a": n("1"), "c": n("3"), "m": nested(), "l": list()},
			wantAttrs: map[string]types.AttributeValue{"b": n("2")}},
		{name: "lowercase remove of a placeholder", expr: "remove #a, b",
			names: map[string]string{"#a": "a"}, rv: types.ReturnValueUpdatedNew,
			wantItem: map[string]types.AttributeValue{"id": s("r"), "m": nested(), "l": list()}},
		{name: "nested paths", expr: "REMOVE m.x, l[0]", rv: types.ReturnValueNone,
			wantItem: map[string]types.AttributeValue{"id": s("r"), "a": n("1"), "b": n("2"),
				"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"y": n("2")}},
				"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{n("2")}}}},
		{name: "failed condition leaves the item", expr: "REMOVE a", cond: "attribute_exists(zz)",
			wantErr: true,
			wantItem: map[string]types.AttributeValue{"id": s("r"), "a": n("1"), "b": n("2"),
				"m": nested(), "l": list()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			putItem(t, client, "T", map[string]types.AttributeValue{"id": s("r"), "a": n("1"), "b": n("2"),
				"m": nested(), "l": list()})
			in := &dynamodb.UpdateItemInput{TableName: aws.String("T"), Key: key("r"),
				UpdateExpression: aws.String(tt.expr), ExpressionAttributeNames: tt.names,
				ExpressionAttributeValues: tt.values, ReturnValues: tt.rv}
			if tt.cond != "" {
				in.ConditionExpression = aws.String(tt.cond)
			}
			out, err := client.UpdateItem(ctx, in)
			var ccf *types.ConditionalCheckFailedException
			if tt.wantErr != errors.As(err, &ccf) || (!tt.wantErr && err != nil) {
				t.Fatalf("UpdateItem: %v, want condition failure %v", err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(out.Attributes, tt.wantAttrs) &&
				len(out.Attributes)+len(tt.wantAttrs) > 0 {
				t.Errorf("Attributes = %#v, want %#v", out.Attributes, tt.wantAttrs)
			}
			if got := getItem(t, client, "T", "r"); !reflect.DeepEqual(got, tt.wantItem) {
				t.Errorf("item = %#v, want %#v", got, tt.wantItem)
			}
		})
	}
}

func nested() types.AttributeValue {
	return &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"x": n("1"), "y": n("2")}}
}

func list() types.AttributeValue {
	return &types.AttributeValueMemberL{Value: []types.AttributeValue{n("1"), n("2")}}
}

// TestUpdateRemoveIndexKey: removing a global index's key attribute takes the
// item out of the index and is charged the index's leave write, through
// UpdateItem and through a transaction's Update.
func TestUpdateRemoveIndexKey(t *testing.T) {
	ctx := context.Background()
	client := newClient(t, NewEndpoint(EndpointConfig{Now: newFakeClock(t0).Now}))
	indexedTable(t, client, 1000)
	inIndex := func(id string) bool {
		t.Helper()
		out, err := client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("G"), IndexName: aws.String("all"),
			KeyConditionExpression:    aws.String("gk = :g"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":g": s("g")}})
		if err != nil {
			t.Fatalf("Query: %v", err)
		}
		for _, it := range out.Items {
			if reflect.DeepEqual(it["id"], s(id)) {
				return true
			}
		}
		return false
	}
	for _, id := range []string{"u", "v", "w"} {
		putItem(t, client, "G", map[string]types.AttributeValue{"id": s(id), "gk": s("g"), "a": n("1")})
	}

	out, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("G"), Key: key("u"),
		UpdateExpression: aws.String("REMOVE gk"), ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes})
	if err != nil {
		t.Fatalf("UpdateItem: %v", err)
	}
	table, gsi := indexUnits(out.ConsumedCapacity)
	if want := map[string]float64{"all": 1, "keys": 1}; table != 1 || !reflect.DeepEqual(gsi, want) {
		t.Errorf("UpdateItem REMOVE gk: table %g, indexes %v; want 1, %v", table, gsi, want)
	}
	if _, ok := getItem(t, client, "G", "u")["gk"]; ok || inIndex("u") {
		t.Errorf("u still has gk (%v) or is still in the index (%v)", ok, inIndex("u"))
	}

	_, err = client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{TableName: aws.String("G"), Key: key("v"), UpdateExpression: aws.String("REMOVE gk")}},
	}})
	if err != nil {
		t.Fatalf("TransactWriteItems: %v", err)
	}
	if _, ok := getItem(t, client, "G", "v")["gk"]; ok || inIndex("v") {
		t.Errorf("v still has gk (%v) or is still in the index (%v)", ok, inIndex("v"))
	}
	if !inIndex("w") {
		t.Error("w, untouched, is no longer in the index")
	}
}

func TestRemovedNames(t *testing.T) {
	tests := []struct {
		expr  string
		names map[string]string
		want  []string
	}{
		{"SET a = :a", nil, nil},
		{"REMOVE a, #b, c.d, e[1]", map[string]string{"#b": "bee"}, []string{"a", "bee"}},
		{"SET l = list_append(l, :v) REMOVE x ADD n :one", nil, []string{"x"}},
		{"SET #remove = :v", map[string]string{"#remove": "r"}, nil},
		{"remove  a,b  SET c = :c", nil, []string{"a", "b"}},
	}
	for _, tt := range tests {
		raw := map[string]any{"UpdateExpression": tt.expr}
		if tt.names != nil {
			raw["ExpressionAttributeNames"] = tt.names
		}
		got, err := removedNames(wire(t, raw))
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("removedNames(%q) = %v, %v; want %v", tt.expr, got, err, tt.want)
		}
	}
}

// wire returns v as a request in wire form: members to raw JSON.
func wire(t *testing.T, v map[string]any) map[string]json.RawMessage {
	t.Helper()
	out := map[string]json.RawMessage{}
	for k, x := range v {
		raw, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = raw
	}
	return out
}
