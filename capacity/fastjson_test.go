package capacity

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzFastRequestDecoding checks the hand decoder of GetItem and PutItem
// requests against encoding/json: whenever it accepts a body, it must
// decode exactly what encoding/json decodes (values compared as compacted
// JSON).
func FuzzFastRequestDecoding(f *testing.F) {
	for _, seed := range []string{
		`{"TableName":"bench","Key":{"id":{"S":"item-0001"}}}`,
		`{"Key":{"id":{"S":"a"},"sk":{"N":"1"}},"TableName":"T","ConsistentRead":true}`,
		` { "TableName" : "T" , "Key" : { "id" : { "S" : "a\"b" } } } `,
		`{"TableName":"T","Item":{"id":{"S":"a"},"m":{"M":{"x":{"L":[{"S":"]}"}]}}}},"ReturnValues":"ALL_OLD"}`,
		`{"TableName":"T","TableName":"U","Key":{"id":{"S":"a"}}}`,
		`{"tablename":"T","Key":{"id":{"S":"a"}}}`,
		`{"TableName":"T","Key":{"id":{"S":"a"},"id":{"S":"b"}}}`,
		`{"TableName":"T\u0041","Key":{}}`,
		`{"TableName":"T","Key":{"id":{"S":"a"}},"ReturnConsumedCapacity":"TOTAL","ProjectionExpression":"#a"}`,
		`{"TableName":"T","Key":{"id":{"S":"a"}}`,
		`{"TableName":"T","Key":{"id":{"S":"a"}}} x`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var want struct {
			TableName, ProjectionExpression, ReturnConsumedCapacity, ReturnValues string
			ConsistentRead                                                        bool
			Key, Item                                                             item
		}
		errWant := json.Unmarshal(body, &want)

		var got struct {
			TableName, ProjectionExpression, ReturnConsumedCapacity, ReturnValues string
			ConsistentRead                                                        bool
			Key, Item                                                             item
		}
		if fastGetItem(body, &got.TableName, &got.Key, &got.ConsistentRead, &got.ProjectionExpression,
			&got.ReturnConsumedCapacity) {
			if errWant != nil {
				t.Fatalf("fastGetItem accepted %q, which encoding/json refuses: %v", body, errWant)
			}
			if got.TableName != want.TableName || got.ConsistentRead != want.ConsistentRead ||
				got.ProjectionExpression != want.ProjectionExpression ||
				got.ReturnConsumedCapacity != want.ReturnConsumedCapacity || !sameItems(got.Key, want.Key) {
				t.Fatalf("fastGetItem(%q) = %+v, encoding/json %+v", body, got, want)
			}
		}
		got = struct {
			TableName, ProjectionExpression, ReturnConsumedCapacity, ReturnValues string
			ConsistentRead                                                        bool
			Key, Item                                                             item
		}{}
		if fastPutItem(body, &got.TableName, &got.Item, &got.ReturnValues, &got.ReturnConsumedCapacity) {
			if errWant != nil {
				t.Fatalf("fastPutItem accepted %q, which encoding/json refuses: %v", body, errWant)
			}
			if got.TableName != want.TableName || got.ReturnValues != want.ReturnValues ||
				got.ReturnConsumedCapacity != want.ReturnConsumedCapacity || !sameItems(got.Item, want.Item) {
				t.Fatalf("fastPutItem(%q) = %+v, encoding/json %+v", body, got, want)
			}
		}
	})
}

func sameItems(a, b item) bool {
	norm := func(it item) map[string]any {
		out := map[string]any{}
		for k, v := range it {
			var x any
			if json.Unmarshal(v, &x) != nil {
				x = string(v)
			}
			out[k] = x
		}
		return out
	}
	return reflect.DeepEqual(norm(a), norm(b))
}
