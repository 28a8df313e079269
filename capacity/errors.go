package capacity

import (
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
)

// Wire form of DynamoDB's throttling error, as DynamoDB sends it and as
// aws-sdk-go-v2's awsJson1_0 protocol reads it: "__type" (everything up to
// '#' is dropped by the SDK), "message", and "ThrottlingReasons" with members
// "reason" and "resource" (service/dynamodb schemas, shape
// ProvisionedThroughputExceededException).
const (
	amzJSONContentType = "application/x-amz-json-1.0"
	errorTypePrefix    = "com.amazonaws.dynamodb.v20120810#"
	throughputExceeded = "ProvisionedThroughputExceededException"
	throughputMessage  = "The level of configured provisioned throughput for the table was exceeded. " +
		"Consider increasing your provisioning level with the UpdateTable API."
	conditionalCheckFailed = "ConditionalCheckFailedException"
	throttlingException    = "ThrottlingException"
	throttlingMessage      = "Throughput exceeds the current throughput limit for your table. " +
		"Please try again later, or raise the table's maximum throughput."

	reasonReadExceeded  = "TableReadProvisionedThroughputExceeded"
	reasonWriteExceeded = "TableWriteProvisionedThroughputExceeded"
)

type throttlingReason struct {
	Reason   string `json:"reason"`
	Resource string `json:"resource"`
}

type throttleBody struct {
	Type              string             `json:"__type"`
	Message           string             `json:"message"`
	ThrottlingReasons []throttlingReason `json:"ThrottlingReasons"`
}

type onDemandThrottleBody struct {
	Type              string             `json:"__type"`
	Message           string             `json:"message"`
	ThrottlingReasons []throttlingReason `json:"throttlingReasons"`
}

type errorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

// writeThrottle answers with DynamoDB's throttling error for th:
// ThrottlingException (reasons spelt "throttlingReasons",
// as its model has it) for on-demand limits,
// ProvisionedThroughputExceededException ("ThrottlingReasons") otherwise.
func writeThrottle(w http.ResponseWriter, th *throttle) {
	reasons := []throttlingReason{{Reason: th.reason, Resource: th.resource}}
	var body []byte
	if th.onDemandEx {
		body, _ = json.Marshal(onDemandThrottleBody{
			Type:              errorTypePrefix + throttlingException,
			Message:           throttlingMessage,
			ThrottlingReasons: reasons,
		})
	} else {
		body, _ = json.Marshal(throttleBody{
			Type:              errorTypePrefix + throughputExceeded,
			Message:           throughputMessage,
			ThrottlingReasons: reasons,
		})
	}
	writeBody(w, http.StatusBadRequest, amzJSONContentType, body)
}

// writeError answers with a DynamoDB error of the given short type, such as
// "ValidationException".
func writeError(w http.ResponseWriter, status int, typ, message string) {
	body, _ := json.Marshal(errorBody{Type: errorTypePrefix + typ, Message: message})
	writeBody(w, status, amzJSONContentType, body)
}

// errorResponse is e as a backend response, for a plan that refuses a call
// after running it.
func errorResponse(e *apiError) *backendResponse {
	body, _ := json.Marshal(errorBody{Type: errorTypePrefix + e.typ, Message: e.msg})
	return &backendResponse{status: http.StatusBadRequest,
		header: http.Header{"Content-Type": {amzJSONContentType}}, body: body}
}

// writeBody writes a complete response with its length, the X-Amz-Crc32
// checksum (CRC32 IEEE of the body, in decimal) that the DynamoDB SDKs
// check, and a request id.
func writeBody(w http.ResponseWriter, status int, contentType string, body []byte) {
	// The keys are already in canonical form, so the map is set directly.
	// One backing array holds the three values.
	h := w.Header()
	values := make([]string, 3)
	values[0] = contentType
	values[1] = strconv.Itoa(len(body))
	values[2] = strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10)
	if contentType != "" {
		h["Content-Type"] = values[0:1:1]
	}
	h["Content-Length"] = values[1:2:2]
	h["X-Amz-Crc32"] = values[2:3:3]
	setRequestID(h)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// requestIDHeader is the canonical form of x-amzn-RequestId, the header
// the SDKs report as a call's request id.
const requestIDHeader = "X-Amzn-Requestid"

// requestIDChars are the characters of DynamoDB's 52-character request ids.
const requestIDChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// setRequestID gives h a fresh request id unless it has one (a backend's,
// passed on).
func setRequestID(h http.Header) {
	if _, ok := h[requestIDHeader]; ok {
		return
	}
	var id [52]byte
	for i := 0; i < len(id); {
		for r := rand.Uint64(); r > 0 && i < len(id); r /= uint64(len(requestIDChars)) {
			id[i] = requestIDChars[r%uint64(len(requestIDChars))]
			i++
		}
	}
	h[requestIDHeader] = []string{string(id[:])}
}

// dynamoError returns a backend's error body in DynamoDB's shape, which
// the SDKs decode: a JSON object whose "__type" carries DynamoDB's
// namespace, and a "message". A body already so is returned as it is; one
// without the namespace (minidyn's) gets it; one that is not a JSON error
// at all (minidyn answers an operation it lacks in text/plain) becomes
// UnknownOperationException, InternalServerError for a 5xx status, or
// ValidationException, with the text as its message.
func dynamoError(op string, status int, body []byte) []byte {
	var fields map[string]json.RawMessage
	var typ string
	if json.Unmarshal(body, &fields) == nil && fields != nil && json.Unmarshal(fields["__type"], &typ) == nil && typ != "" {
		if strings.Contains(typ, "#") {
			return body
		}
		fields["__type"], _ = json.Marshal(errorTypePrefix + typ)
		if _, ok := fields["message"]; !ok {
			if m, ok := fields["Message"]; ok {
				fields["message"] = m
				delete(fields, "Message")
			}
		}
		out, err := json.Marshal(fields)
		if err != nil {
			return body
		}
		return out
	}
	text := strings.TrimSpace(string(body))
	switch {
	case status >= 500:
		typ = "InternalServerError"
	case strings.Contains(text, "unsupported operation") || status == http.StatusNotFound:
		typ = "UnknownOperationException"
	default:
		typ = "ValidationException"
	}
	if len(text) > 512 {
		text = text[:512] + "…"
	}
	out, _ := json.Marshal(errorBody{Type: errorTypePrefix + typ,
		Message: fmt.Sprintf("%s: the backend answered %d %q", op, status, text)})
	return out
}

// errorType returns the short error type of a DynamoDB error body ("" when
// body is not one), dropping any namespace before '#'.
func errorType(body []byte) string {
	var e struct {
		Type string `json:"__type"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	_, short, found := strings.Cut(e.Type, "#")
	if !found {
		return e.Type
	}
	return short
}
