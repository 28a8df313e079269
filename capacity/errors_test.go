package capacity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestThrottleWireForm(t *testing.T) {
	const arn = "arn:aws:dynamodb:us-east-1:000000000000:table/T"

	t.Run("raw", func(t *testing.T) {
		rec := httptest.NewRecorder()
		writeThrottle(rec, &throttle{reason: reasonReadExceeded, resource: arn})

		if got, want := rec.Code, http.StatusBadRequest; got != want {
			t.Errorf("status = %d, want %d", got, want)
		}
		if got, want := rec.Header().Get("Content-Type"), "application/x-amz-json-1.0"; got != want {
			t.Errorf("Content-Type = %q, want %q", got, want)
		}
		body := rec.Body.Bytes()
		if got, want := rec.Header().Get("X-Amz-Crc32"), strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10); got != want {
			t.Errorf("X-Amz-Crc32 = %q, want %q", got, want)
		}
		var got map[string]any
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		if got["__type"] != "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException" {
			t.Errorf("__type = %v", got["__type"])
		}
		if got["message"] != throughputMessage {
			t.Errorf("message = %v", got["message"])
		}
		reasons, _ := got["ThrottlingReasons"].([]any)
		if len(reasons) != 1 {
			t.Fatalf("ThrottlingReasons = %v, want one", got["ThrottlingReasons"])
		}
		r := reasons[0].(map[string]any)
		if r["reason"] != "TableReadProvisionedThroughputExceeded" || r["resource"] != arn {
			t.Errorf("reason = %v", r)
		}
	})

	// Every reason DynamoDB names, in both exceptions, through the real SDK.
	for _, resource := range []string{"Table", "Index"} {
		for _, op := range []string{"Read", "Write"} {
			for _, limit := range []string{limitProvisioned, limitKeyRange, limitAccount, limitMaxOnDemand} {
				for _, onDemand := range []bool{false, true} {
					th := &throttle{reason: resource + op + limit, resource: arn, onDemandEx: onDemand}
					t.Run(fmt.Sprintf("%s on demand %v", th.reason, onDemand), func(t *testing.T) {
						checkThrottleViaSDK(t, arn, th)
					})
				}
			}
		}
	}
}

func checkThrottleViaSDK(t *testing.T, arn string, th *throttle) {
	t.Helper()
	client := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeThrottle(w, th)
	}))
	_, err := client.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String("T"),
		Key:       map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "a"}},
	})

	var reasons []types.ThrottlingReason
	var msg, wantMsg string
	if th.onDemandEx {
		var te *types.ThrottlingException
		if !errors.As(err, &te) {
			t.Fatalf("error = %v (%T), want *types.ThrottlingException", err, err)
		}
		reasons, msg, wantMsg = te.ThrottlingReasons, aws.ToString(te.Message), throttlingMessage
	} else {
		var pte *types.ProvisionedThroughputExceededException
		if !errors.As(err, &pte) {
			t.Fatalf("error = %v (%T), want *types.ProvisionedThroughputExceededException", err, err)
		}
		reasons, msg, wantMsg = pte.ThrottlingReasons, aws.ToString(pte.Message), throughputMessage
	}
	if msg != wantMsg {
		t.Errorf("Message = %q, want %q", msg, wantMsg)
	}
	if len(reasons) != 1 {
		t.Fatalf("ThrottlingReasons = %+v, want one", reasons)
	}
	if got := reasons[0]; aws.ToString(got.Reason) != th.reason || aws.ToString(got.Resource) != arn {
		t.Errorf("reason = %q %q, want %q %q", aws.ToString(got.Reason), aws.ToString(got.Resource), th.reason, arn)
	}
}

func TestErrorType(t *testing.T) {
	for _, tc := range []struct {
		body, want string
	}{
		{`{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"}`, "ConditionalCheckFailedException"},
		{`{"__type":"ConditionalCheckFailedException","message":"x"}`, "ConditionalCheckFailedException"},
		{`{"Item":{}}`, ""},
		{`not json`, ""},
	} {
		t.Run(tc.body, func(t *testing.T) {
			if got := errorType([]byte(tc.body)); got != tc.want {
				t.Errorf("errorType = %q, want %q", got, tc.want)
			}
		})
	}
}
