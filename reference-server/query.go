package refserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Query parameter limits.
const (
	maxQueryBytes  = 128  // of GET /search?q=
	maxCursorBytes = 2048 // of an encoded cursor
	maxLimit       = 1 << 20
)

// page is one page of items and the cursor of the next, "" on the last.
type page struct {
	Items  []map[string]any `json:"items"`
	Cursor string           `json:"cursor,omitempty"`
}

// userItems answers GET /users/{user_id}/items: a Query on the user_id
// GSI, one page at a time. GSI reads are always eventually consistent.
func (s *Server) userItems(w http.ResponseWriter, r *http.Request) {
	user := r.PathValue("user_id")
	if err := checkID(user); err != nil {
		writeError(w, http.StatusBadRequest, "user_id "+err.Error())
		return
	}
	q, cerr := queryParams(r, "limit", "cursor")
	if cerr != nil {
		writeError(w, cerr.status, cerr.msg)
		return
	}
	limit, start, cerr := s.pageParams(q)
	if cerr != nil {
		writeError(w, cerr.status, cerr.msg)
		return
	}

	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(s.userIndex),
		KeyConditionExpression:    aws.String("user_id = :u"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":u": &types.AttributeValueMemberS{Value: user}},
		Limit:                     limit,
		ExclusiveStartKey:         start,
	}
	out, err := ddbCall(r.Context(), s, "Query",
		func(ctx context.Context, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
			return s.db.Query(ctx, in, o...)
		})
	if err != nil {
		s.writeDynamoError(w, r, "Query", err)
		return
	}
	s.writePage(w, out.Items, out.LastEvaluatedKey)
}

// search answers GET /search?q=: a Scan whose filter keeps items whose
// payload contains q. Its cost is every item evaluated, matched or not.
func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	if sc := s.profile.Scan; sc != nil && sc.Disabled {
		writeError(w, http.StatusForbidden, "search is disabled on this server")
		return
	}
	params, cerr := queryParams(r, "q", "limit", "cursor")
	if cerr != nil {
		writeError(w, cerr.status, cerr.msg)
		return
	}
	q := params.Get("q")
	if err := checkText(q, maxQueryBytes); err != nil {
		writeError(w, http.StatusBadRequest, "query parameter q "+err.Error())
		return
	}
	limit, start, cerr := s.pageParams(params)
	if cerr != nil {
		writeError(w, cerr.status, cerr.msg)
		return
	}
	if s.scans != nil {
		per := Limit{Requests: s.profile.Scan.PerMinute, Period: time.Minute}
		if d, _ := s.scans.take(r.Context(), "scan", per, s.now()); !d.allowed {
			secs := retryAfterSeconds(d.retryAfter)
			writeRetryError(w, http.StatusTooManyRequests, secs,
				fmt.Sprintf("search is capped at %d scans a minute: retry after %d s", per.Requests, secs))
			return
		}
	}

	in := &dynamodb.ScanInput{
		TableName:                 aws.String(s.table),
		FilterExpression:          aws.String("contains(#p, :q)"),
		ExpressionAttributeNames:  map[string]string{"#p": "payload"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":q": &types.AttributeValueMemberS{Value: q}},
		ConsistentRead:            aws.Bool(s.profile.ConsistentRead),
		Limit:                     limit,
		ExclusiveStartKey:         start,
	}
	out, err := ddbCall(r.Context(), s, "Scan",
		func(ctx context.Context, o ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
			return s.db.Scan(ctx, in, o...)
		})
	if err != nil {
		s.writeDynamoError(w, r, "Scan", err)
		return
	}
	s.writePage(w, out.Items, out.LastEvaluatedKey)
}

// queryParams parses the request's query string strictly. URL.Query drops
// a pair it cannot decode, so a mistyped parameter would silently mean its
// default; here it is a 400 naming the parameter. Each of the named
// parameters (those the route reads) may be given at most once; others are
// ignored.
func queryParams(r *http.Request, names ...string) (url.Values, *clientError) {
	q := url.Values{}
	for pair := range strings.SplitSeq(r.URL.RawQuery, "&") {
		if pair == "" {
			continue
		}
		if strings.Contains(pair, ";") {
			return nil, badRequest("query string: %s holds a ';'; separate parameters with '&' "+
				"and write a ';' in a value as %%3B", quoteShort(pair))
		}
		rawKey, rawValue, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			return nil, badRequest("query string: parameter name %s is not valid percent-encoding",
				quoteShort(rawKey))
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return nil, badRequest("query parameter %s: %s is not valid percent-encoding "+
				"(write a '%%' as %%25)", paramName(key), quoteShort(rawValue))
		}
		q.Add(key, value)
	}

	for _, n := range names {
		if c := len(q[n]); c > 1 {
			return nil, badRequest("query parameter %s is given %d times; give it once", n, c)
		}
	}
	return q, nil
}

// paramName shows a parameter name in an error message: as it is when it is
// a plain word, quoted otherwise.
func paramName(key string) string {
	plain := key != "" && len(key) <= 40 && !strings.ContainsFunc(key, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-')
	})
	if plain {
		return key
	}
	return quoteShort(key)
}

// quoteShort quotes s for an error message, cut to its first 40 bytes.
func quoteShort(s string) string {
	const maxBytes = 40
	if len(s) <= maxBytes {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:maxBytes]) + "..."
}

// pageParams reads limit and cursor. The limit is clamped to the profile's
// MaxPageSize; with none, an absent limit asks DynamoDB for a full page. An
// empty cursor means the first page.
func (s *Server) pageParams(q url.Values) (*int32, map[string]types.AttributeValue, *clientError) {
	limit := 0
	if v, given := q["limit"]; given {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > maxLimit {
			return nil, nil, badRequest("query parameter limit %s must be a whole number from 1 to %d",
				quoteShort(v[0]), maxLimit)
		}
		limit = n
	}
	if max := s.profile.MaxPageSize; max > 0 {
		if limit == 0 {
			limit = min(DefaultPageSize, max)
		}
		limit = min(limit, max)
	}

	start, cerr := decodeCursor(q.Get("cursor"))
	if cerr != nil {
		return nil, nil, cerr
	}
	if limit == 0 {
		return nil, start, nil
	}
	return aws.Int32(int32(limit)), start, nil
}

// writePage answers items and the cursor of the next page.
func (s *Server) writePage(w http.ResponseWriter, items []map[string]types.AttributeValue,
	last map[string]types.AttributeValue) {
	p := page{Items: make([]map[string]any, 0, len(items))}
	for _, it := range items {
		plain, err := itemToJSON(it)
		if err != nil {
			writeError(w, http.StatusBadGateway, "dynamodb returned an item that cannot be shown: "+err.Error())
			return
		}
		p.Items = append(p.Items, plain)
	}
	if len(last) > 0 {
		c, err := encodeCursor(last)
		if err != nil {
			writeError(w, http.StatusBadGateway, "dynamodb returned a page key that cannot be a cursor: "+err.Error())
			return
		}
		p.Cursor = c
	}
	writeJSON(w, http.StatusOK, p)
}

// A cursor is a LastEvaluatedKey, every attribute a string (the table's key
// and the GSI's), as base64url JSON {"name": "value"}.
func encodeCursor(key map[string]types.AttributeValue) (string, error) {
	plain := make(map[string]string, len(key))
	for name, av := range key {
		sv, ok := av.(*types.AttributeValueMemberS)
		if !ok {
			return "", fmt.Errorf("key attribute %q is not a string", name)
		}
		plain[name] = sv.Value
	}
	b, err := json.Marshal(plain)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func decodeCursor(c string) (map[string]types.AttributeValue, *clientError) {
	if c == "" {
		return nil, nil
	}
	bad := badRequest("query parameter cursor is not a cursor this server gave out")
	if len(c) > maxCursorBytes {
		return nil, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, bad
	}
	var plain map[string]string
	if err := json.Unmarshal(b, &plain); err != nil || len(plain) == 0 || len(plain) > 3 {
		return nil, bad
	}

	names := make([]string, 0, len(plain))
	for n := range plain {
		names = append(names, n)
	}
	slices.Sort(names)
	key := make(map[string]types.AttributeValue, len(plain))
	for _, n := range names {
		if checkText(n, maxIDBytes) != nil || checkID(plain[n]) != nil {
			return nil, bad
		}
		key[n] = &types.AttributeValueMemberS{Value: plain[n]}
	}
	return key, nil
}
