package capacity

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestDynamoDBChecks: input DynamoDB refuses before anything else is
// refused here too, in its words, and is not forwarded.
func TestDynamoDBChecks(t *testing.T) {
	e := NewEndpoint(EndpointConfig{})
	const tdef = `"AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"},` +
		`{"AttributeName":"g","AttributeType":"S"}],"KeySchema":[{"AttributeName":"id","KeyType":"HASH"}]`
	create := func(name, throughput string) string {
		return fmt.Sprintf(`{"TableName":%q,%s,"ProvisionedThroughput":%s}`, name, tdef, throughput)
	}
	if status, typ, msg := call(t, e, "DynamoDB_20120810.CreateTable",
		[]byte(create("T", `{"ReadCapacityUnits":5,"WriteCapacityUnits":5}`))); status != http.StatusOK {
		t.Fatalf("CreateTable T: %d %s %s", status, typ, msg)
	}
	nested := `{"N":"1"}`
	for range 33 {
		nested = `{"L":[` + nested + `]}`
	}
	put := func(extra string) string { return `{"TableName":"T","Item":{"id":{"S":"a"}` + extra + `}}` }

	tests := []struct {
		name, op, body    string
		wantType, wantMsg string
	}{
		{"negative RCU", "CreateTable", create("U", `{"ReadCapacityUnits":-1,"WriteCapacityUnits":5}`),
			"ValidationException", "1 validation error detected: Value '-1' at " +
				"'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: " +
				"Member must have value greater than or equal to 1"},
		{"zero WCU", "CreateTable", create("U", `{"ReadCapacityUnits":1,"WriteCapacityUnits":0}`),
			"ValidationException", "Value '0' at 'provisionedThroughput.writeCapacityUnits'"},
		{"both bad", "CreateTable", create("U", `{"ReadCapacityUnits":0,"WriteCapacityUnits":0}`),
			"ValidationException", "2 validation errors detected"},
		{"missing WCU", "CreateTable", create("U", `{"ReadCapacityUnits":1}`),
			"ValidationException", "Value null at 'provisionedThroughput.writeCapacityUnits'"},
		{"no batch tables", "BatchWriteItem", `{"RequestItems":{}}`, "ValidationException",
			"Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"no transaction items", "TransactWriteItems", `{"TransactItems":[]}`, "ValidationException",
			"Value '[]' at 'transactItems' failed to satisfy constraint"},
		{"over the table quota", "CreateTable", create("U", `{"ReadCapacityUnits":40001,"WriteCapacityUnits":5}`),
			"LimitExceededException", "40001 read capacity units exceed the per-table quota of 40000"},
		{"int64 max on update", "UpdateTable",
			`{"TableName":"T","ProvisionedThroughput":{"ReadCapacityUnits":9223372036854775807,"WriteCapacityUnits":5}}`,
			"LimitExceededException", "exceed the per-table quota"},
		{"huge RCU", "CreateTable", create("U", `{"ReadCapacityUnits":1e30,"WriteCapacityUnits":1}`),
			"SerializationException", "ProvisionedThroughput.ReadCapacityUnits"},
		{"UpdateTable zero", "UpdateTable",
			`{"TableName":"T","ProvisionedThroughput":{"ReadCapacityUnits":0,"WriteCapacityUnits":5}}`,
			"ValidationException", "'provisionedThroughput.readCapacityUnits'"},
		{"UpdateTable index zero", "UpdateTable", `{"TableName":"T","GlobalSecondaryIndexUpdates":[{"Update":` +
			`{"IndexName":"x","ProvisionedThroughput":{"ReadCapacityUnits":1,"WriteCapacityUnits":0}}}]}`,
			"ValidationException",
			"'globalSecondaryIndexUpdates.1.member.update.provisionedThroughput.writeCapacityUnits'"},
		{"segment out of range", "Scan", `{"TableName":"T","Segment":5,"TotalSegments":2}`,
			"ValidationException", "Segment: 5 is not less than TotalSegments: 2"},
		{"segment alone", "Scan", `{"TableName":"T","Segment":0}`,
			"ValidationException", "The TotalSegments parameter is required"},
		{"total alone", "Scan", `{"TableName":"T","TotalSegments":2}`,
			"ValidationException", "The Segment parameter is required"},
		{"empty batch", "BatchWriteItem", `{"RequestItems":{"T":[]}}`,
			"ValidationException", "Member must have length greater than or equal to 1"},
		{"empty batch get", "BatchGetItem", `{"RequestItems":{"T":{"Keys":[]}}}`,
			"ValidationException", "Member must have length greater than or equal to 1"},
		{"bogus ReturnConsumedCapacity", "GetItem",
			`{"TableName":"T","Key":{"id":{"S":"a"}},"ReturnConsumedCapacity":"BOGUS"}`,
			"ValidationException", "Value 'BOGUS' at 'returnConsumedCapacity' failed to satisfy constraint: " +
				"Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"},
		{"deep nesting", "PutItem", put(`,"n":` + nested), "ValidationException",
			"Nesting Levels have exceeded supported limits (at Item.n" + strings.Repeat(".L[0]", 32) + ")"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, typ, msg := call(t, e, "DynamoDB_20120810."+tt.op, []byte(tt.body))
			if status != http.StatusBadRequest || typ != tt.wantType || !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("got %d %s %q, want 400 %s containing %q", status, typ, msg, tt.wantType, tt.wantMsg)
			}
			if strings.Count(msg, "(at ") > 1 {
				t.Errorf("message %q names more than one place", msg)
			}
		})
	}

	// A refused CreateTable created nothing.
	if status, typ, _ := call(t, e, "DynamoDB_20120810.DescribeTable", []byte(`{"TableName":"U"}`)); status != 400 ||
		typ != "ResourceNotFoundException" {
		t.Errorf("DescribeTable U after refused CreateTables: %d %s, want ResourceNotFoundException", status, typ)
	}

	// A cancelled transaction's message lists every action.
	status, typ, msg := call(t, e, "DynamoDB_20120810.TransactWriteItems", []byte(`{"TransactItems":[`+
		`{"Put":{"TableName":"T","Item":{"id":{"S":"a"}},"ConditionExpression":"attribute_exists(id)"}},`+
		`{"Put":{"TableName":"T","Item":{"id":{"S":"b"}}}}]}`))
	want := "Transaction cancelled, please refer cancellation reasons for specific reasons " +
		"[ConditionalCheckFailed, None]"
	if status != 400 || typ != "TransactionCanceledException" || msg != want {
		t.Errorf("TransactWriteItems: %d %s %q, want TransactionCanceledException %q", status, typ, msg, want)
	}
}
