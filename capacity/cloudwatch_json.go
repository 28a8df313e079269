package capacity

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// CloudWatch's AWS JSON 1.0 protocol, which botocore (the AWS CLI) speaks:
// a POST to / with X-Amz-Target: GraniteServiceVersion20100801.<Operation>,
// Content-Type application/x-amz-json-1.0 and a JSON object of the input's
// members, timestamps as epoch seconds; the answer is a JSON object of the
// output's members, or for an error one with "__type" and "message".
//
// The endpoint answers these calls exactly as it answers the CBOR ones: it
// turns the JSON input into the CBOR input the operation decodes and the
// CBOR output back into JSON.
const cloudWatchTargetPrefix = "GraniteServiceVersion20100801."

// cwTimestampMembers are the input members that hold timestamps.
var cwTimestampMembers = map[string]bool{"StartTime": true, "EndTime": true}

// cwJSONDecoding reads CBOR output back, maps keyed by string.
var cwJSONDecoding = func() cbor.DecMode {
	m, err := cbor.DecOptions{DefaultMapType: reflect.TypeFor[map[string]any]()}.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}()

// serveCloudWatchJSON answers one CloudWatch call in AWS JSON 1.0.
func (e *Endpoint) serveCloudWatchJSON(w http.ResponseWriter, op string, body []byte) {
	in, err := cborFromJSON(body)
	if err != nil {
		writeCloudWatchJSONError(w, http.StatusBadRequest, err)
		return
	}
	out, err := e.cloudWatchCall(op, in)
	if err != nil {
		writeCloudWatchJSONError(w, http.StatusBadRequest, err)
		return
	}
	raw, err := jsonFromOutput(out)
	if err != nil {
		writeCloudWatchJSONError(w, http.StatusInternalServerError,
			&cwError{typ: "InternalServiceFault", message: err.Error()})
		return
	}
	writeBody(w, http.StatusOK, amzJSONContentType, raw)
}

// cborFromJSON turns a JSON 1.0 input into the CBOR input of the same
// members, timestamps as times and whole numbers as integers.
func cborFromJSON(body []byte) ([]byte, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var in map[string]any
	if err := dec.Decode(&in); err != nil {
		return nil, &cwError{typ: "SerializationException", message: "cannot decode JSON request: " + err.Error()}
	}
	v, err := fromJSONValue("", in)
	if err != nil {
		return nil, err
	}
	return cwEncoding.Marshal(v)
}

// fromJSONValue converts one decoded JSON value, the member name's, for
// CBOR encoding.
func fromJSONValue(name string, v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		for k, member := range x {
			c, err := fromJSONValue(k, member)
			if err != nil {
				return nil, err
			}
			x[k] = c
		}
		return x, nil
	case []any:
		for i, member := range x {
			c, err := fromJSONValue(name, member)
			if err != nil {
				return nil, err
			}
			x[i] = c
		}
		return x, nil
	case json.Number:
		if cwTimestampMembers[name] {
			secs, err := x.Float64()
			if err != nil {
				return nil, &cwError{typ: "SerializationException", message: fmt.Sprintf("%s: %v", name, err)}
			}
			whole, frac := math.Modf(secs)
			return time.Unix(int64(whole), int64(frac*1e9)).UTC(), nil
		}
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i, nil
		}
		return x.Float64()
	case string:
		if cwTimestampMembers[name] {
			t, err := time.Parse(time.RFC3339Nano, x)
			if err != nil {
				return nil, &cwError{typ: "SerializationException",
					message: fmt.Sprintf("%s: %q is neither epoch seconds nor an RFC 3339 time", name, x)}
			}
			return t, nil
		}
	}
	return v, nil
}

// jsonFromOutput encodes an operation's output (built for CBOR) as JSON,
// timestamps as epoch seconds.
func jsonFromOutput(out any) ([]byte, error) {
	raw, err := cwEncoding.Marshal(out)
	if err != nil {
		return nil, err
	}
	var v any
	if err := cwJSONDecoding.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return json.Marshal(toJSONValue(v))
}

// toJSONValue replaces the times in a decoded CBOR value by epoch seconds.
func toJSONValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, member := range x {
			x[k] = toJSONValue(member)
		}
	case []any:
		for i, member := range x {
			x[i] = toJSONValue(member)
		}
	case time.Time:
		return float64(x.UnixNano()) / 1e9
	}
	return v
}

// writeCloudWatchJSONError writes err in AWS JSON 1.0's error form.
func writeCloudWatchJSONError(w http.ResponseWriter, status int, err error) {
	var ce *cwError
	if !errors.As(err, &ce) {
		ce = &cwError{typ: "InvalidParameterValueException"}
	}
	body, _ := json.Marshal(errorBody{Type: "com.amazonaws.cloudwatch#" + ce.typ, Message: err.Error()})
	writeBody(w, status, amzJSONContentType, body)
}
