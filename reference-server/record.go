package refserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// maxEventTypeBytes caps event_type.
const maxEventTypeBytes = 64

// conditionNotExists is the condition of an idempotent record write.
const conditionNotExists = "attribute_not_exists(event_id)"

// event is a decoded, checked POST /record body.
type event struct {
	ID, UserID, Type string
	Payload          types.AttributeValue // nil: none
}

// recordFields are the fields a body may hold, in the order they are checked.
var recordFields = []string{"event_id", "user_id", "event_type", "payload"}

// clientError is a problem with a request, answered with its status.
type clientError struct {
	status int
	msg    string
}

func (e *clientError) Error() string { return e.msg }

func badRequest(format string, args ...any) *clientError {
	return &clientError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// record answers POST /record: it writes the event as an item keyed by its
// event_id, once only when the profile has conditional writes, and skips it
// when the dedupe window saw the same user and event type.
func (s *Server) record(w http.ResponseWriter, r *http.Request) {
	ev, cerr := s.decodeEvent(w, r)
	if cerr != nil {
		writeError(w, cerr.status, cerr.msg)
		return
	}
	if !s.allowWrite(w, r) {
		return
	}

	// The article's order: check the cache, write, then remember. Two
	// concurrent events of one user and type both pass the check.
	dedupeKey := "recent:" + ev.UserID + ":" + ev.Type
	if s.dedupe != nil {
		seen, err := s.dedupe.seen(r.Context(), dedupeKey, s.now())
		if err != nil {
			s.log.LogAttrs(r.Context(), slog.LevelWarn, "dedupe store failed; writing anyway", slog.Any("err", err))
		}
		if seen {
			s.metrics.add(1, "abusesim_writes_skipped_total", "reason", "recent_duplicate")
			writeJSON(w, http.StatusOK, map[string]any{"skipped": true, "reason": "recent_duplicate"})
			return
		}
	}

	in := &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item:      s.eventItem(ev, s.now()),
	}
	if s.profile.ConditionalWrites {
		in.ConditionExpression = aws.String(conditionNotExists)
	}

	_, err := ddbCall(r.Context(), s, "PutItem",
		func(ctx context.Context, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
			return s.db.PutItem(ctx, in, o...)
		})
	if err != nil {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode() == "ConditionalCheckFailedException" {
			s.metrics.add(1, "abusesim_writes_skipped_total", "reason", "already_exists")
			writeJSON(w, http.StatusOK, map[string]any{"skipped": true, "reason": "already_exists"})
			return
		}
		s.writeDynamoError(w, r, "PutItem", err)
		return
	}

	if s.dedupe != nil {
		if err := s.dedupe.remember(r.Context(), dedupeKey, s.profile.DedupeWindow, s.now()); err != nil {
			s.log.LogAttrs(r.Context(), slog.LevelWarn, "dedupe store failed", slog.Any("err", err))
		}
	}
	if s.cache != nil {
		s.cache.forget(ev.ID)
	}
	writeJSON(w, http.StatusCreated, map[string]bool{"written": true})
}

// allowWrite applies the per-principal write limit, answering 429 itself
// when it refuses.
func (s *Server) allowWrite(w http.ResponseWriter, r *http.Request) bool {
	if s.writes == nil {
		return true
	}
	d, _ := s.writes.take(r.Context(), s.clientIP(r), *s.profile.WriteLimit, s.now()) // memory: no error
	if d.allowed {
		return true
	}
	secs := retryAfterSeconds(d.retryAfter)
	writeRetryError(w, http.StatusTooManyRequests, secs,
		fmt.Sprintf("write limit exceeded: retry after %d s", secs))
	return false
}

// eventItem is the item stored for ev, received at now.
func (s *Server) eventItem(ev event, now time.Time) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		"event_id":    &types.AttributeValueMemberS{Value: ev.ID},
		"user_id":     &types.AttributeValueMemberS{Value: ev.UserID},
		"event_type":  &types.AttributeValueMemberS{Value: ev.Type},
		"received_at": &types.AttributeValueMemberS{Value: now.UTC().Format(time.RFC3339Nano)},
		s.key:         &types.AttributeValueMemberS{Value: ev.ID},
	}
	// GET /search runs contains(payload, :q) over every item, and minidyn
	// (the embedded engine) fails the whole Scan with a ValidationException
	// on an item whose payload is missing or not a string, where DynamoDB
	// would simply not match it. So every record has a string payload (empty:
	// there is no text to search) and keeps its payload object, when it has
	// one, as event_payload.
	item["payload"] = &types.AttributeValueMemberS{Value: ""}
	if ev.Payload != nil {
		item["event_payload"] = ev.Payload
	}
	return item
}

// decodeEvent reads and checks the body of POST /record. Field names match
// exactly (encoding/json alone would accept "Event_ID").
func (s *Server) decodeEvent(w http.ResponseWriter, r *http.Request) (event, *clientError) {
	body, cerr := s.readBody(w, r)
	if cerr != nil {
		return event{}, cerr
	}

	fields, cerr := splitObject(body)
	if cerr != nil {
		return event{}, cerr
	}

	var unknown []string
	for name := range fields {
		if !slices.Contains(recordFields, name) {
			unknown = append(unknown, strconv.Quote(name))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return event{}, badRequest("unknown field %s", unknown[0])
	}

	var ev event
	var err *clientError
	if ev.ID, err = textField(fields, "event_id", maxIDBytes); err != nil {
		return event{}, err
	}
	if ev.UserID, err = textField(fields, "user_id", maxIDBytes); err != nil {
		return event{}, err
	}
	if ev.Type, err = textField(fields, "event_type", maxEventTypeBytes); err != nil {
		return event{}, err
	}
	if ev.Payload, err = payloadField(fields["payload"]); err != nil {
		return event{}, err
	}
	return ev, nil
}

// readBody reads the whole body, refusing more than the profile allows.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *clientError) {
	limit := s.profile.MaxBodyBytes
	tooLarge := &clientError{
		status: http.StatusRequestEntityTooLarge,
		msg:    fmt.Sprintf("request body exceeds %d bytes", limit),
	}
	if r.ContentLength > limit {
		return nil, tooLarge
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		return nil, tooLarge
	case err != nil:
		return nil, badRequest("reading request body: %v", err)
	}
	return body, nil
}

// splitObject decodes body as one JSON object into its raw fields.
func splitObject(body []byte) (map[string]json.RawMessage, *clientError) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badRequest("request body is empty; want a JSON object")
	}

	dec := json.NewDecoder(bytes.NewReader(body))
	var fields map[string]json.RawMessage
	if err := dec.Decode(&fields); err != nil {
		return nil, jsonError(err)
	}
	if fields == nil {
		return nil, badRequest("request body is null; want a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, badRequest("malformed JSON: data after the object")
	}
	return fields, nil
}

// jsonError describes a decoding error for the client.
func jsonError(err error) *clientError {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntaxErr):
		return badRequest("malformed JSON at byte %d: %v", syntaxErr.Offset, err)
	case errors.As(err, &typeErr):
		return badRequest("request body is a JSON %s; want an object", typeErr.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("malformed JSON: unexpected end of body")
	}
	return badRequest("malformed JSON: %v", err)
}

// textField returns the required string field name, checked by checkText.
func textField(fields map[string]json.RawMessage, name string,
	maxBytes int) (string, *clientError) {
	raw, ok := fields[name]
	if !ok {
		return "", badRequest("missing field %q", name)
	}

	var v string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &v) != nil {
		return "", badRequest("field %q must be a string, got %s", name, jsonKind(raw))
	}
	if err := checkText(v, maxBytes); err != nil {
		return "", badRequest("field %q %v", name, err)
	}
	return v, nil
}

// payloadField returns the optional payload object as a map attribute; an
// absent or null payload is none.
func payloadField(raw json.RawMessage) (types.AttributeValue, *clientError) {
	if raw == nil || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, badRequest("field \"payload\" must be an object, got %s", jsonKind(raw))
	}
	return attributeField(raw, "payload")
}

// attributeField turns the JSON value of field name into an attribute value.
func attributeField(raw json.RawMessage, name string) (types.AttributeValue, *clientError) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, badRequest("field %q: %v", name, err)
	}

	av, err := jsonToValue(v, 0)
	if err != nil {
		return nil, badRequest("field %q: %v", name, err)
	}
	return av, nil
}

// jsonKind names the kind of JSON value raw holds, for error messages.
func jsonKind(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
