package refserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// maxIDBytes caps an item id, well inside DynamoDB's 2048-byte partition key.
const maxIDBytes = 255

var notFoundBody = []byte(`{"error":"item not found"}` + "\n")

// getItem answers GET /items/{id}: the item as JSON, from the cache when the
// profile has one, with concurrent misses coalesced when it says so.
func (s *Server) getItem(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := checkID(id); err != nil {
		writeError(w, http.StatusBadRequest, "id "+err.Error())
		return
	}

	if s.cache != nil {
		if body, hit := s.cache.get(id, s.now()); hit {
			if body == nil {
				s.metrics.cache("negative_hit")
			} else {
				s.metrics.cache("hit")
			}
			writeItem(w, body)
			return
		}
		s.metrics.cache("miss")
	}

	var body []byte
	var err error
	if s.flight == nil {
		body, err = s.readItem(r.Context(), id)
	} else {
		// The read outlives a caller that gives up, since others wait on it;
		// the request timeout, when set, still bounds it.
		ctx := context.WithoutCancel(r.Context())
		if t := s.profile.RequestTimeout; t > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, t)
			defer cancel()
		}
		var shared bool
		body, err, shared = s.flight.do(id, func() ([]byte, error) { return s.readItem(ctx, id) })
		if shared {
			s.metrics.cache("coalesced")
		}
	}
	if err != nil {
		s.writeDynamoError(w, r, "GetItem", err)
		return
	}
	writeItem(w, body)
}

// readItem reads id from DynamoDB and caches the answer: its JSON, or nil
// when there is no such item.
func (s *Server) readItem(ctx context.Context, id string) ([]byte, error) {
	in := &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            map[string]types.AttributeValue{s.key: &types.AttributeValueMemberS{Value: id}},
		ConsistentRead: aws.Bool(s.profile.ConsistentRead),
	}
	out, err := ddbCall(ctx, s, "GetItem",
		func(ctx context.Context, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
			return s.db.GetItem(ctx, in, o...)
		})
	if err != nil {
		return nil, err
	}

	var body []byte // nil: not found
	if out.Item != nil {
		if body, err = encodeItem(out.Item); err != nil {
			return nil, &badItemError{err}
		}
	}
	if s.cache != nil {
		s.cache.put(id, body, s.now())
	}
	return body, nil
}

// badItemError is an item DynamoDB returned that cannot be shown as JSON.
type badItemError struct{ err error }

func (e *badItemError) Error() string {
	return "dynamodb returned an item that cannot be shown: " + e.err.Error()
}

// writeItem answers an item's JSON, or 404 when body is nil.
func writeItem(w http.ResponseWriter, body []byte) {
	if body == nil {
		writeBody(w, http.StatusNotFound, notFoundBody)
		return
	}
	writeBody(w, http.StatusOK, body)
}

func encodeItem(item map[string]types.AttributeValue) ([]byte, error) {
	plain, err := itemToJSON(item)
	if err != nil {
		return nil, err
	}

	body, err := json.Marshal(plain)
	if err != nil {
		return nil, fmt.Errorf("encoding item: %w", err)
	}
	return append(body, '\n'), nil
}

// checkID reports what is wrong with an item or user id: it must be 1 to
// maxIDBytes bytes of printable UTF-8.
func checkID(id string) error {
	return checkText(id, maxIDBytes)
}

// checkText reports what is wrong with s as a required field of at most
// maxBytes bytes of printable UTF-8 (spaces allowed, control characters not).
func checkText(s string, maxBytes int) error {
	switch {
	case s == "":
		return fmt.Errorf("must not be empty")
	case len(s) > maxBytes:
		return fmt.Errorf("is %d bytes long, more than %d", len(s), maxBytes)
	case !utf8.ValidString(s):
		return fmt.Errorf("is not valid UTF-8")
	}

	for _, c := range s {
		if !unicode.IsPrint(c) {
			return fmt.Errorf("holds the unprintable character %U", c)
		}
	}
	return nil
}
