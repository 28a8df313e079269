package capacity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// loopbackPost posts one DynamoDB call over loopback HTTP to url and returns
// the status, the full __type and message of the answer, and its body.
func loopbackPost(t *testing.T, url, op, body string) (int, string, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", amzJSONContentType)
	req.Header.Set("X-Amz-Target", targetPrefix+op)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out.Type, out.Message, raw
}

// fidelityRig is an endpoint in front of the embedded engine on loopback,
// with a table F keyed by "id", and a real SDK client for it.
type fidelityRig struct {
	e      *Endpoint
	url    string
	client *dynamodb.Client
	clock  *fakeClock
}

func newFidelityRig(t *testing.T) *fidelityRig {
	t.Helper()
	clock := newFakeClock(t0)
	e := NewEndpoint(EndpointConfig{Now: clock.Now})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	r := &fidelityRig{e: e, url: srv.URL, client: NewDynamoDBClient(srv.URL, "", nil, noRetries), clock: clock}
	createTable(t, r.client, "F", false, 10000, 10000)
	return r
}

// consumedWrites is what the endpoint recorded as F's consumed write units.
func (r *fidelityRig) consumedWrites(t *testing.T) float64 {
	t.Helper()
	samples, err := r.e.Samples(context.Background(), "F", t0.Add(-time.Hour), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, s := range samples {
		total += s.ConsumedWCU
	}
	return total
}

func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

func TestListTablesAndLocalControlOps(t *testing.T) {
	r := newFidelityRig(t)
	ctx := context.Background()
	for _, name := range []string{"d", "b", "e", "c", "a"} {
		createTable(t, r.client, name, false, 0, 0)
	}

	var pages [][]string
	p := dynamodb.NewListTablesPaginator(r.client, &dynamodb.ListTablesInput{Limit: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListTables: %v", err)
		}
		pages = append(pages, out.TableNames)
	}
	if got, want := fmt.Sprint(pages), "[[F a] [b c] [d e]]"; got != want {
		t.Errorf("ListTables pages = %s, want %s", got, want)
	}

	out, err := r.client.ListTables(ctx, &dynamodb.ListTablesInput{ExclusiveStartTableName: aws.String("bb")})
	if err != nil || fmt.Sprint(out.TableNames) != "[c d e]" || out.LastEvaluatedTableName != nil {
		t.Errorf("ListTables after bb = %v, %v, %v", out, err, err)
	}
	if _, err := r.client.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(0)}); apiCode(err) != "ValidationException" {
		t.Errorf("ListTables Limit 0: %v, want ValidationException", err)
	}
	if _, err := r.client.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(101)}); apiCode(err) != "ValidationException" {
		t.Errorf("ListTables Limit 101: %v, want ValidationException", err)
	}

	limits, err := r.client.DescribeLimits(ctx, &dynamodb.DescribeLimitsInput{})
	if err != nil || aws.ToInt64(limits.TableMaxReadCapacityUnits) != TableQuotaUnits ||
		aws.ToInt64(limits.AccountMaxWriteCapacityUnits) != accountQuotaUnits {
		t.Errorf("DescribeLimits = %+v, %v", limits, err)
	}
	endpoints, err := r.client.DescribeEndpoints(ctx, &dynamodb.DescribeEndpointsInput{})
	if err != nil || len(endpoints.Endpoints) != 1 ||
		aws.ToString(endpoints.Endpoints[0].Address) != strings.TrimPrefix(r.url, "http://") {
		t.Errorf("DescribeEndpoints = %+v, %v, want this endpoint's address", endpoints, err)
	}
}

func TestBackendErrorsAreDynamoDBShaped(t *testing.T) {
	r := newFidelityRig(t)
	ctx := context.Background()

	// minidyn names its errors without DynamoDB's namespace.
	status, typ, msg, _ := loopbackPost(t, r.url, "GetItem", `{"TableName":"missing","Key":{"id":{"S":"a"}}}`)
	if status != http.StatusBadRequest || typ != errorTypePrefix+"ResourceNotFoundException" || msg == "" {
		t.Errorf("GetItem of a missing table: %d %q %q, want 400 %sResourceNotFoundException",
			status, typ, msg, errorTypePrefix)
	}
	_, err := r.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("missing"), Key: key("a")})
	var notFound *types.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		t.Errorf("SDK GetItem of a missing table: %v, want ResourceNotFoundException", err)
	}

	// minidyn answers operations it lacks in text/plain.
	status, typ, msg, _ = loopbackPost(t, r.url, "ListBackups", `{}`)
	if status != http.StatusBadRequest || typ != errorTypePrefix+"UnknownOperationException" ||
		!strings.Contains(msg, "ListBackups") {
		t.Errorf("ListBackups: %d %q %q, want 400 UnknownOperationException naming it", status, typ, msg)
	}
	if _, err := r.client.ListBackups(ctx, &dynamodb.ListBackupsInput{}); apiCode(err) != "UnknownOperationException" {
		t.Errorf("SDK ListBackups: %v (code %q), want UnknownOperationException", err, apiCode(err))
	}

	// A 5xx text answer from a backend reached by URL.
	broken := NewEndpoint(EndpointConfig{Backend: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "engine on fire", http.StatusServiceUnavailable)
	})})
	srv := httptest.NewServer(broken)
	defer srv.Close()
	status, typ, msg, _ = loopbackPost(t, srv.URL, "DescribeTable", `{"TableName":"F"}`)
	if status != http.StatusServiceUnavailable || typ != errorTypePrefix+"InternalServerError" ||
		!strings.Contains(msg, "engine on fire") {
		t.Errorf("text/plain 503: %d %q %q, want 503 InternalServerError with the text", status, typ, msg)
	}
}

func TestItemSizeLimit(t *testing.T) {
	r := newFidelityRig(t)
	ctx := context.Background()
	const tooLarge = "Item size has exceeded the maximum allowed size"
	big := sizedItem("big", 500*1024)
	atLimit := sizedItem("edge", MaxItemBytes)
	overLimit := sizedItem("over", MaxItemBytes+1)

	putItem(t, r.client, "F", atLimit)
	before := r.consumedWrites(t)
	if before != 400 {
		t.Fatalf("a 400 KB put consumed %v WCU, want 400", before)
	}

	check := func(what string, err error) {
		t.Helper()
		if apiCode(err) != "ValidationException" || !strings.Contains(err.Error(), tooLarge) {
			t.Errorf("%s: %v, want ValidationException %q", what, err, tooLarge)
		}
	}
	_, err := r.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("F"), Item: overLimit})
	check("PutItem of 400 KB + 1", err)
	_, err = r.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("F"), Item: big})
	check("PutItem of 500 KB", err)
	_, err = r.client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
		"F": {{PutRequest: &types.PutRequest{Item: key("small")}}, {PutRequest: &types.PutRequest{Item: big}}},
	}})
	check("BatchWriteItem with a 500 KB item", err)
	_, err = r.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String("F"), Item: big}},
	}})
	check("TransactWriteItems with a 500 KB item", err)

	// An update that takes the item over the limit is undone.
	putItem(t, r.client, "F", sizedItem("grow", 300*1024))
	before = r.consumedWrites(t)
	_, err = r.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("F"), Key: key("grow"),
		UpdateExpression:          aws.String("SET more = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": s(strings.Repeat("y", 200*1024))}})
	check("UpdateItem to 500 KB", err)
	got, err := r.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("F"), Key: key("grow"),
		ConsistentRead: aws.Bool(true)})
	if err != nil || got.Item["more"] != nil || got.Item["data"] == nil {
		t.Errorf("after the refused update the item has attributes %v (%v), want the item as it was", sortedKeys(got.Item), err)
	}

	for _, id := range []string{"big", "over", "small"} {
		out, err := r.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("F"), Key: key(id), ConsistentRead: aws.Bool(true)})
		if err != nil || out.Item != nil {
			t.Errorf("item %s stored after a refused write: %v %v", id, out.Item, err)
		}
	}
	if after := r.consumedWrites(t); after != before {
		t.Errorf("refused writes consumed %v WCU, want none", after-before)
	}
}

func TestPutItemReturnValues(t *testing.T) {
	r := newFidelityRig(t)
	ctx := context.Background()
	put := func(v, rv string) *dynamodb.PutItemOutput {
		t.Helper()
		out, err := r.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("F"),
			Item: map[string]types.AttributeValue{"id": s("a"), "v": s(v)}, ReturnValues: types.ReturnValue(rv)})
		if err != nil {
			t.Fatalf("PutItem %s %s: %v", v, rv, err)
		}
		return out
	}
	if out := put("1", ""); out.Attributes != nil {
		t.Errorf("PutItem without ReturnValues returned %v", out.Attributes)
	}
	if out := put("2", "NONE"); out.Attributes != nil {
		t.Errorf("PutItem with NONE returned %v", out.Attributes)
	}
	out := put("3", "ALL_OLD")
	if v, ok := out.Attributes["v"].(*types.AttributeValueMemberS); !ok || v.Value != "2" {
		t.Errorf("PutItem ALL_OLD returned %v, want the old item (v=2)", out.Attributes)
	}
	out, err := r.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("F"),
		Item: key("new"), ReturnValues: types.ReturnValueAllOld})
	if err != nil || out.Attributes != nil {
		t.Errorf("PutItem ALL_OLD of a new item returned %v, %v; want no attributes", out.Attributes, err)
	}
	if _, err := r.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("F"),
		Item: key("a"), ReturnValues: types.ReturnValueAllNew}); apiCode(err) != "ValidationException" {
		t.Errorf("PutItem ALL_NEW: %v, want ValidationException", err)
	}
}

func TestInvalidAttributeValues(t *testing.T) {
	r := newFidelityRig(t)
	nested := `{"S":"deep"}`
	for range 40 {
		nested = `{"M":{"x":` + nested + `}}`
	}
	shallow := `{"S":"ok"}`
	for range 10 {
		shallow = `{"L":[` + shallow + `]}`
	}
	put := func(attrs string) string { return `{"TableName":"F","Item":{"id":{"S":"k"}` + attrs + `}}` }
	for _, tc := range []struct {
		name, op, body, wantType, wantMsg string
	}{
		{"deep nesting", "PutItem", put(`,"n":` + nested), "ValidationException", "Nesting Levels have exceeded"},
		{"empty string key", "PutItem", `{"TableName":"F","Item":{"id":{"S":""}}}`, "ValidationException",
			"key attribute cannot contain an empty string value. Key: id"},
		{"empty string key in GetItem", "GetItem", `{"TableName":"F","Key":{"id":{"S":""}}}`, "ValidationException",
			"cannot contain an empty string value"},
		{"not a number", "PutItem", put(`,"n":{"N":"abc"}`), "ValidationException", "cannot be converted to a numeric value: abc"},
		{"number overflow", "PutItem", put(`,"n":{"N":"1e200"}`), "ValidationException", "Number overflow"},
		{"number underflow", "PutItem", put(`,"n":{"N":"1e-131"}`), "ValidationException", "Number underflow"},
		{"too many digits", "PutItem", put(`,"n":{"N":"1234567890123456789012345678901234567890"}`),
			"ValidationException", "38 significant digits"},
		{"two types", "PutItem", put(`,"x":{"S":"a","N":"1"}`), "ValidationException", "more than one datatypes"},
		{"no type", "PutItem", put(`,"x":{}`), "ValidationException", "AttributeValue is empty"},
		{"empty set", "PutItem", put(`,"x":{"SS":[]}`), "ValidationException", "may not be empty"},
		{"duplicate set members", "PutItem", put(`,"x":{"NS":["1","1"]}`), "ValidationException", "duplicates"},
		{"bad base64", "PutItem", put(`,"b":{"B":"!!!"}`), "SerializationException", "Base64"},
		{"wrong JSON type", "PutItem", put(`,"x":{"S":5}`), "SerializationException", "S value must be a string"},
		{"bad value in an expression", "UpdateItem", `{"TableName":"F","Key":{"id":{"S":"k"}},` +
			`"UpdateExpression":"SET n = :n","ExpressionAttributeValues":{":n":{"N":"x"}}}`,
			"ValidationException", "ExpressionAttributeValues.:n"},
		{"scan limit 0", "Scan", `{"TableName":"F","Limit":0}`, "ValidationException", "'limit'"},
		{"query limit -1", "Query", `{"TableName":"F","Limit":-1,"KeyConditionExpression":"id = :v",` +
			`"ExpressionAttributeValues":{":v":{"S":"k"}}}`, "ValidationException", "'limit'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, typ, msg, raw := loopbackPost(t, r.url, tc.op, tc.body)
			if status != http.StatusBadRequest || typ != errorTypePrefix+tc.wantType || !strings.Contains(msg, tc.wantMsg) {
				t.Errorf("got %d %s %q (%s), want 400 %s containing %q", status, typ, msg, raw, tc.wantType, tc.wantMsg)
			}
		})
	}
	for _, tc := range []struct{ name, body string }{
		{"10 levels of lists", put(`,"l":` + shallow)},
		{"a number at the top of the range", put(`,"n":{"N":"9.9999999999999999999999999999999999999E+125"}`)},
		{"a number at the bottom of the range", put(`,"n":{"N":"-1E-130"}`)},
		{"an empty non-key string", put(`,"e":{"S":""}`)},
	} {
		t.Run("valid "+tc.name, func(t *testing.T) {
			if status, typ, msg, _ := loopbackPost(t, r.url, "PutItem", tc.body); status != http.StatusOK {
				t.Errorf("got %d %s %q, want 200", status, typ, msg)
			}
		})
	}
	if got := r.consumedWrites(t); got != 4 {
		t.Errorf("consumed %v WCU, want 4 (the valid puts only)", got)
	}
}
