package capacity

import (
	"context"
	"encoding/json"
	"errors"
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
		writeThrottle(rec, arn, false)

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

	for _, tc := range []struct {
		name       string
		write      bool
		wantReason string
	}{
		{"read via SDK", false, "TableReadProvisionedThroughputExceeded"},
		{"write via SDK", true, "TableWriteProvisionedThroughputExceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				writeThrottle(w, arn, tc.write)
			}))
			_, err := client.GetItem(context.Background(), &dynamodb.GetItemInput{
				TableName: aws.String("T"),
				Key:       map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "a"}},
			})

			var pte *types.ProvisionedThroughputExceededException
			if !errors.As(err, &pte) {
				t.Fatalf("error = %v (%T), want *types.ProvisionedThroughputExceededException", err, err)
			}
			if got := aws.ToString(pte.Message); got != throughputMessage {
				t.Errorf("Message = %q, want %q", got, throughputMessage)
			}
			if len(pte.ThrottlingReasons) != 1 {
				t.Fatalf("ThrottlingReasons = %+v, want one", pte.ThrottlingReasons)
			}
			got := pte.ThrottlingReasons[0]
			if aws.ToString(got.Reason) != tc.wantReason || aws.ToString(got.Resource) != arn {
				t.Errorf("reason = %q %q, want %q %q",
					aws.ToString(got.Reason), aws.ToString(got.Resource), tc.wantReason, arn)
			}
		})
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
