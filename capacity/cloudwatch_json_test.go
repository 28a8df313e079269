package capacity

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// cloudWatchJSON posts a CloudWatch call in AWS JSON 1.0 as botocore sends
// it and returns the status, the error type (after '#') and the decoded
// answer.
func cloudWatchJSON(t *testing.T, url, op, body string) (int, string, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "GraniteServiceVersion20100801."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.0" {
		t.Errorf("%s: Content-Type %q", op, ct)
	}
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: decoding the answer: %v", op, err)
	}
	typ, _ := out["__type"].(string)
	if i := strings.IndexByte(typ, '#'); i >= 0 {
		typ = typ[i+1:]
	}
	return resp.StatusCode, typ, out
}

// TestCloudWatchJSONProtocol: the AWS CLI's CloudWatch calls (AWS JSON 1.0,
// timestamps as epoch seconds) get the same figures as the CBOR ones.
func TestCloudWatchJSONProtocol(t *testing.T) {
	clock := newFakeClock(t0)
	e := NewEndpoint(EndpointConfig{Now: clock.Now})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	ddb := newClient(t, e)
	createTable(t, ddb, "T", false, 1000, 1000)
	for range 3 {
		_, err := ddb.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("T"),
			Key: key("a"), ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
	}
	start, end := t0.Add(-60*1e9).Unix(), t0.Add(120*1e9).Unix()
	metric := `"Namespace":"AWS/DynamoDB","MetricName":"ConsumedReadCapacityUnits",` +
		`"Dimensions":[{"Name":"TableName","Value":"T"}]`

	status, typ, out := cloudWatchJSON(t, srv.URL, "GetMetricStatistics", fmt.Sprintf(
		`{%s,"StartTime":%d,"EndTime":%d,"Period":60,"Statistics":["Sum","SampleCount"]}`, metric, start, end))
	if status != 200 {
		t.Fatalf("GetMetricStatistics: %d %s %v", status, typ, out)
	}
	points, _ := out["Datapoints"].([]any)
	if len(points) != 1 {
		t.Fatalf("GetMetricStatistics datapoints = %v, want one", out["Datapoints"])
	}
	p := points[0].(map[string]any)
	if p["Sum"] != 3.0 || p["SampleCount"] != 3.0 || p["Timestamp"] != float64(t0.Unix()) || p["Unit"] != "Count" {
		t.Errorf("datapoint = %v, want Sum 3, SampleCount 3, Timestamp %d, Unit Count", p, t0.Unix())
	}

	status, typ, out = cloudWatchJSON(t, srv.URL, "GetMetricData", fmt.Sprintf(
		`{"MetricDataQueries":[{"Id":"q","MetricStat":{"Metric":{%s},"Period":1,"Stat":"Sum"},"ReturnData":true}],`+
			`"StartTime":%d.0,"EndTime":%d,"ScanBy":"TimestampAscending"}`, metric, start, end))
	if status != 200 {
		t.Fatalf("GetMetricData: %d %s %v", status, typ, out)
	}
	results, _ := out["MetricDataResults"].([]any)
	if len(results) != 1 {
		t.Fatalf("MetricDataResults = %v", out["MetricDataResults"])
	}
	r := results[0].(map[string]any)
	if fmt.Sprint(r["Values"]) != "[3]" || fmt.Sprint(r["Timestamps"]) != fmt.Sprint([]any{float64(t0.Unix())}) ||
		r["Id"] != "q" || r["StatusCode"] != "Complete" {
		t.Errorf("result = %v", r)
	}

	status, _, out = cloudWatchJSON(t, srv.URL, "ListMetrics", `{"Namespace":"AWS/DynamoDB",`+
		`"MetricName":"ConsumedReadCapacityUnits"}`)
	if got := fmt.Sprint(out["Metrics"]); status != 200 || !strings.Contains(got, "TableName") {
		t.Errorf("ListMetrics: %d %v", status, out)
	}

	tests := []struct{ op, body, wantType string }{
		{"GetMetricStatistics", fmt.Sprintf(`{%s,"StartTime":%d,"EndTime":%d,"Period":7,"Statistics":["Sum"]}`,
			metric, start, end), "InvalidParameterValueException"},
		{"GetMetricStatistics", `{"StartTime":"yesterday"}`, "SerializationException"},
		{"GetMetricStatistics", `{`, "SerializationException"},
		{"PutMetricData", `{}`, "UnknownOperationException"},
	}
	for _, tt := range tests {
		status, typ, _ := cloudWatchJSON(t, srv.URL, tt.op, tt.body)
		if status != 400 || typ != tt.wantType {
			t.Errorf("%s %s: %d %s, want 400 %s", tt.op, tt.body, status, typ, tt.wantType)
		}
	}
}
