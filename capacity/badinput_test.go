package capacity

import (
	"bytes"
	"encoding/json"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// call sends one raw request to h and returns the status and the error
// type of the answer ("" for a success).
func call(t *testing.T, h http.Handler, target string, body []byte) (int, string, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", amzJSONContentType)
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	_, short, _ := strings.Cut(out.Type, "#")
	return rec.Code, short, out.Message
}

func TestBadInput(t *testing.T) {
	e := NewEndpoint(EndpointConfig{})
	for _, tc := range []struct {
		name, target, body string
		wantType, wantMsg  string
	}{
		{"malformed JSON", "DynamoDB_20120810.GetItem", `{"TableName":`, "SerializationException", "not valid JSON"},
		{"wrong member type", "DynamoDB_20120810.PutItem", `{"TableName":5}`, "SerializationException",
			"cannot be converted to string"},
		{"malformed control call", "DynamoDB_20120810.CreateTable", `{`, "SerializationException", "not valid JSON"},
		{"unknown operation", "DynamoDB_20120810.DropEverything", `{}`, "UnknownOperationException", "DropEverything"},
		{"no target", "", `{}`, "UnknownOperationException", "X-Amz-Target"},
		{"other service", "DynamoDBStreams_20120810.GetRecords", `{}`, "UnknownOperationException", "X-Amz-Target"},
		{"missing table", "DynamoDB_20120810.GetItem", `{"Key":{}}`, "ValidationException", "Member must not be null"},
		{"bad table name", "DynamoDB_20120810.GetItem", `{"TableName":"a b"}`, "ValidationException",
			"regular expression"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, typ, msg := call(t, e, tc.target, []byte(tc.body))
			if status != http.StatusBadRequest || typ != tc.wantType || !strings.Contains(msg, tc.wantMsg) {
				t.Errorf("got %d %s %q, want 400 %s containing %q", status, typ, msg, tc.wantType, tc.wantMsg)
			}
		})
	}
}

// FuzzEndpointRequest feeds arbitrary operations and bodies to an endpoint
// in front of the embedded engine: it must answer every one with a
// complete, checksummed JSON response and never panic. The corpus lives in
// testdata/fuzz/FuzzEndpointRequest.
func FuzzEndpointRequest(f *testing.F) {
	for _, seed := range []struct{ op, body string }{
		{"CreateTable", `{"TableName":"T","AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],` +
			`"KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`},
		{"PutItem", `{"TableName":"T","Item":{"id":{"S":"a"},"n":{"N":"1"}},"ReturnConsumedCapacity":"TOTAL"}`},
		{"GetItem", `{"TableName":"T","Key":{"id":{"S":"a"}},"ProjectionExpression":"n"}`},
		{"BatchWriteItem", `{"RequestItems":{"T":[{"PutRequest":{"Item":{"id":{"S":"b"}}}}]}}`},
		{"Query", `{"TableName":"T","KeyConditionExpression":"id = :v","ExpressionAttributeValues":{":v":{"S":"a"}}}`},
		{"TransactWriteItems", `{"TransactItems":[{"Delete":{"TableName":"T","Key":{"id":{"S":"a"}}}}]}`},
		{"Scan", `{"TableName":"T","Limit":-1}`},
		{"UpdateTable", `{"TableName":"T","OnDemandThroughput":{"MaxReadRequestUnits":1}}`},
	} {
		f.Add(seed.op, []byte(seed.body))
	}
	e := NewEndpoint(EndpointConfig{})
	f.Fuzz(func(t *testing.T, op string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", targetPrefix+op)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)

		out := rec.Body.Bytes()
		if !json.Valid(out) {
			t.Fatalf("%s %q: answer is not JSON: %q", op, body, out)
		}
		if got, want := rec.Header().Get("X-Amz-Crc32"), strconv.FormatUint(uint64(crc32.ChecksumIEEE(out)), 10); got != want {
			t.Fatalf("%s %q: X-Amz-Crc32 = %s, want %s", op, body, got, want)
		}
		if rec.Code != http.StatusOK && rec.Code/100 != 4 && rec.Code/100 != 5 {
			t.Fatalf("%s %q: status %d", op, body, rec.Code)
		}
	})
}

// FuzzCloudWatchRequest feeds arbitrary CBOR to the CloudWatch operations:
// every answer must be CBOR and nothing may panic.
func FuzzCloudWatchRequest(f *testing.F) {
	f.Add("GetMetricData", []byte{0xa0})
	f.Add("ListMetrics", []byte{0xa1, 0x69, 'N', 'a', 'm', 'e', 's', 'p', 'a', 'c', 'e', 0x60})
	f.Add("GetMetricStatistics", []byte{0xbf, 0xff})
	e := NewEndpoint(EndpointConfig{})
	f.Fuzz(func(t *testing.T, op string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, cloudWatchPathPrefix+url.PathEscape(op), bytes.NewReader(body))
		req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		var v any
		if err := cwDecoding.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("%s %x: answer is not CBOR: %v", op, body, err)
		}
	})
}
