package capacity

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
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

// consumedWCU is the write units e has charged to table so far; its clock
// stands still at t0.
func consumedWCU(t *testing.T, e *Endpoint, table string) float64 {
	t.Helper()
	samples, err := e.Samples(context.Background(), table, t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatalf("Samples: %v", err)
	}
	var sum float64
	for _, s := range samples {
		sum += s.ConsumedWCU
	}
	return sum
}

// TestUpdateRemoveRefused: an update with a top-level REMOVE whose paths
// overlap, or that carries a placeholder no expression uses, is refused
// with DynamoDB's ValidationException, leaves the item and is charged
// nothing, through UpdateItem and through a transaction's Update.
func TestUpdateRemoveRefused(t *testing.T) {
	ctx := context.Background()
	e := NewEndpoint(EndpointConfig{Now: newFakeClock(t0).Now})
	client := newClient(t, e)
	createTable(t, client, "T", false, 0, 0)
	orig := map[string]types.AttributeValue{"id": s("r"), "c": n("1"), "m": nested()}
	overlap := "Invalid UpdateExpression: Two document paths overlap with each other; " +
		"must remove or rewrite one of these paths; "

	tests := []struct {
		name    string
		expr    string
		names   map[string]string
		values  map[string]types.AttributeValue
		wantMsg string
	}{
		{name: "REMOVE then SET", expr: "REMOVE c SET c = :v", values: map[string]types.AttributeValue{":v": n("2")},
			wantMsg: overlap + "path one: [c], path two: [c]"},
		{name: "SET then REMOVE, placeholders", expr: "SET #c = :v REMOVE c",
			names: map[string]string{"#c": "c"}, values: map[string]types.AttributeValue{":v": n("2")},
			wantMsg: overlap + "path one: [c], path two: [c]"},
		{name: "twice", expr: "REMOVE c, c", wantMsg: overlap + "path one: [c], path two: [c]"},
		{name: "nested under the name", expr: "REMOVE m SET m.x = :v",
			values:  map[string]types.AttributeValue{":v": n("2")},
			wantMsg: overlap + "path one: [m], path two: [m, x]"},
		{name: "ADD to the name", expr: "REMOVE c ADD c :v", values: map[string]types.AttributeValue{":v": n("2")},
			wantMsg: overlap + "path one: [c], path two: [c]"},
		{name: "unused name", expr: "REMOVE c", names: map[string]string{"#unused": "x", "#b": "y"},
			wantMsg: "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b, #unused}"},
		{name: "unused value", expr: "REMOVE c", values: map[string]types.AttributeValue{":unused": n("1")},
			wantMsg: "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			putItem(t, client, "T", orig)
			before := consumedWCU(t, e, "T")
			_, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("T"), Key: key("r"),
				UpdateExpression: aws.String(tt.expr), ExpressionAttributeNames: tt.names,
				ExpressionAttributeValues: tt.values})
			checkValidation(t, "UpdateItem", err, tt.wantMsg)

			_, err = client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
				TransactItems: []types.TransactWriteItem{{Update: &types.Update{TableName: aws.String("T"),
					Key: key("r"), UpdateExpression: aws.String(tt.expr), ExpressionAttributeNames: tt.names,
					ExpressionAttributeValues: tt.values}}}})
			checkValidation(t, "TransactWriteItems", err, tt.wantMsg)

			if got := getItem(t, client, "T", "r"); !reflect.DeepEqual(got, orig) {
				t.Errorf("item = %#v, want %#v", got, orig)
			}
			if got := consumedWCU(t, e, "T"); got != before {
				t.Errorf("charged %g WCU, want none", got-before)
			}
		})
	}
}

// checkValidation fails the test unless err is a ValidationException with
// message msg.
func checkValidation(t *testing.T, op string, err error, msg string) {
	t.Helper()
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ValidationException" || api.ErrorMessage() != msg {
		t.Errorf("%s: %v, want ValidationException %q", op, err, msg)
	}
}

// TestUpdateRemoveFailedConditionOld: a failed condition of an update with
// a top-level REMOVE answers ReturnValuesOnConditionCheckFailure ALL_OLD
// with the old item, through UpdateItem and through a transaction's Update.
func TestUpdateRemoveFailedConditionOld(t *testing.T) {
	ctx := context.Background()
	client := newClient(t, NewEndpoint(EndpointConfig{}))
	createTable(t, client, "T", false, 0, 0)
	orig := map[string]types.AttributeValue{"id": s("r"), "a": n("1"), "b": n("2")}
	putItem(t, client, "T", orig)

	_, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("T"), Key: key("r"),
		UpdateExpression: aws.String("REMOVE a"), ConditionExpression: aws.String("attribute_exists(zz)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) || !reflect.DeepEqual(ccf.Item, orig) {
		t.Errorf("UpdateItem: %v, want ConditionalCheckFailedException with Item %#v", err, orig)
	}

	_, err = client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String("T"), Item: map[string]types.AttributeValue{"id": s("other")}}},
		{Update: &types.Update{TableName: aws.String("T"), Key: key("r"), UpdateExpression: aws.String("REMOVE a"),
			ConditionExpression:                 aws.String("attribute_exists(zz)"),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
	}})
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) || len(tce.CancellationReasons) != 2 {
		t.Fatalf("TransactWriteItems: %v, want TransactionCanceledException with 2 reasons", err)
	}
	if got := tce.CancellationReasons[1]; aws.ToString(got.Code) != "ConditionalCheckFailed" ||
		!reflect.DeepEqual(got.Item, orig) {
		t.Errorf("reason 1: %s %#v, want ConditionalCheckFailed with Item %#v", aws.ToString(got.Code), got.Item, orig)
	}
	if got := tce.CancellationReasons[0]; got.Item != nil {
		t.Errorf("reason 0 has Item %#v, want none", got.Item)
	}
	if got := getItem(t, client, "T", "r"); !reflect.DeepEqual(got, orig) {
		t.Errorf("item = %#v, want %#v", got, orig)
	}
}

func TestUpdatePaths(t *testing.T) {
	tests := []struct {
		expr string
		want [][]string
	}{
		{"REMOVE a, #b", [][]string{{"a"}, {"bee"}}},
		{"SET l = list_append(l, :v), m.#b[2][0] = if_not_exists(x, :w) REMOVE c",
			[][]string{{"l"}, {"m", "bee", "[2]", "[0]"}, {"c"}}},
		{"ADD n :one, s :set DELETE t :gone", [][]string{{"n"}, {"s"}, {"t"}}},
		{"REMOVE #nope, a..b, ok", [][]string{{"ok"}}},
	}
	for _, tt := range tests {
		if got := updatePaths(tt.expr, map[string]string{"#b": "bee"}); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("updatePaths(%q) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}
