package refserver

import (
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
// profile has one.
func (s *Server) getItem(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := checkID(id); err != nil {
		writeError(w, http.StatusBadRequest, "id "+err.Error())
		return
	}

	if s.cache != nil {
		if body, hit := s.cache.get(id, s.now()); hit {
			writeItem(w, body)
			return
		}
	}

	out, err := s.db.GetItem(r.Context(), &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            map[string]types.AttributeValue{s.key: &types.AttributeValueMemberS{Value: id}},
		ConsistentRead: aws.Bool(s.profile.ConsistentRead),
	})
	if err != nil {
		s.writeDynamoError(w, r, "GetItem", err)
		return
	}

	var body []byte // nil: not found
	if out.Item != nil {
		body, err = encodeItem(out.Item)
		if err != nil {
			writeError(w, http.StatusBadGateway,
				"dynamodb returned an item that cannot be shown: "+err.Error())
			return
		}
	}

	if s.cache != nil {
		s.cache.put(id, body, s.now())
	}
	writeItem(w, body)
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
