package capacity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/truora/minidyn/server"
)

// rawCall posts one DynamoDB call to h and returns the response.
func rawCall(t *testing.T, h http.Handler, op, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewBufferString(body))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestEndpointWireShape(t *testing.T) {
	e := NewEndpoint(EndpointConfig{Now: newFakeClock(t0).Now})
	create := rawCall(t, e, "CreateTable", `{"TableName":"W","BillingMode":"PAY_PER_REQUEST",
		"AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],
		"KeySchema":[{"AttributeName":"id","KeyType":"HASH"}]}`)
	if create.Code != http.StatusOK {
		t.Fatalf("CreateTable: %d %s", create.Code, create.Body)
	}
	rawCall(t, e, "PutItem", `{"TableName":"W","Item":{"id":{"S":"a"}}}`)

	for _, tc := range []struct {
		mode      string
		wantKeys  []string
		wantTable bool
	}{
		{"TOTAL", []string{"CapacityUnits", "ReadCapacityUnits", "TableName"}, false},
		{"INDEXES", []string{"CapacityUnits", "ReadCapacityUnits", "Table", "TableName"}, true},
		{"NONE", nil, false},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			rec := rawCall(t, e, "GetItem",
				`{"TableName":"W","Key":{"id":{"S":"a"}},"ReturnConsumedCapacity":"`+tc.mode+`"}`)
			body := rec.Body.Bytes()
			if got, want := rec.Header().Get("X-Amz-Crc32"), strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10); got != want {
				t.Errorf("X-Amz-Crc32 = %s, want %s", got, want)
			}
			if got, want := rec.Header().Get("Content-Length"), strconv.Itoa(len(body)); got != want {
				t.Errorf("Content-Length = %s, want %s", got, want)
			}
			var out map[string]map[string]json.RawMessage
			if err := json.Unmarshal(body, &out); err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			cc, ok := out["ConsumedCapacity"]
			if tc.wantKeys == nil {
				if ok {
					t.Errorf("ConsumedCapacity present: %s", body)
				}
				return
			}
			if got := sortedKeys(cc); !equalStrings(got, tc.wantKeys) {
				t.Errorf("ConsumedCapacity keys = %v, want %v (%s)", got, tc.wantKeys, body)
			}
			if string(cc["CapacityUnits"]) != "0.5" || string(cc["TableName"]) != `"W"` {
				t.Errorf("ConsumedCapacity = %s", body)
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestEndpointTransactionsAndScan(t *testing.T) {
	ctx := context.Background()
	e := NewEndpoint(EndpointConfig{Now: newFakeClock(t0).Now})
	client := newClient(t, e)
	createTable(t, client, "X", false, 0, 0)

	tw, err := client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String("X"), Item: sizedItem("t1", 1500)}},
			{Put: &types.Put{TableName: aws.String("X"), Item: sizedItem("t2", 500)}},
		},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(tw.ConsumedCapacity) != 1 || aws.ToFloat64(tw.ConsumedCapacity[0].WriteCapacityUnits) != 2*2+2*1 {
		t.Errorf("TransactWriteItems ConsumedCapacity = %+v, want 6 WCU", tw.ConsumedCapacity)
	}

	tg, err := client.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{
		TransactItems: []types.TransactGetItem{
			{Get: &types.Get{TableName: aws.String("X"), Key: key("t1")}},
			{Get: &types.Get{TableName: aws.String("X"), Key: key("absent")}},
		},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(tg.ConsumedCapacity) != 1 || aws.ToFloat64(tg.ConsumedCapacity[0].ReadCapacityUnits) != 2+2 {
		t.Errorf("TransactGetItems ConsumedCapacity = %+v, want 4 RCU", tg.ConsumedCapacity)
	}

	// Scan charges every item it reads, filtered out or not: 5000 bytes are
	// two eventual 4 KB steps, where the one item returned would be one.
	putItem(t, client, "X", sizedItem("t3", 3000))
	scan, err := client.Scan(ctx, &dynamodb.ScanInput{
		TableName: aws.String("X"), FilterExpression: aws.String("id = :x"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":x": s("t2")},
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(scan.Items) != 1 || aws.ToFloat64(scan.ConsumedCapacity.CapacityUnits) != 1 {
		t.Errorf("Scan = %d items, %v units; want 1 item, 1 unit", len(scan.Items),
			aws.ToFloat64(scan.ConsumedCapacity.CapacityUnits))
	}
}

func TestEndpointLearnsTablesFromDescribeTable(t *testing.T) {
	ctx := context.Background()
	engine := server.NewServer()
	direct := newClient(t, engine) // bypasses the endpoint
	createTable(t, direct, "Pre", false, 0, 0)
	putItem(t, direct, "Pre", sizedItem("a", 5000))

	clock := newFakeClock(t0)
	e := NewEndpoint(EndpointConfig{Backend: engine, Now: clock.Now})
	client := newClient(t, e)
	out, err := client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String("Pre"), Item: sizedItem("a", 10), ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		t.Fatal(err)
	}
	// The endpoint learnt the key schema, so it saw the 5000-byte old item.
	if got := aws.ToFloat64(out.ConsumedCapacity.CapacityUnits); got != 5 {
		t.Errorf("CapacityUnits = %v, want 5", got)
	}
}

func TestEndpointUnknownTable(t *testing.T) {
	ctx := context.Background()
	e := NewEndpoint(EndpointConfig{Now: newFakeClock(t0).Now})
	client := newClient(t, e)

	_, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Nope"), Key: key("a")})
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Errorf("error = %v, want ResourceNotFoundException", err)
	}
	if got, _ := e.Samples(ctx, "Nope", t0, t0.Add(time.Hour)); len(got) != 0 {
		t.Errorf("samples = %v, want none", got)
	}
}

func TestEndpointRejectsNonPost(t *testing.T) {
	e := NewEndpoint(EndpointConfig{})
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("status = %d, want 405", rec.Code)
	}
}
