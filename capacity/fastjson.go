package capacity

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// The common data-plane requests (a GetItem or PutItem naming a table and
// a key or an item) are decoded by hand: encoding/json's reflection was the
// endpoint's largest own cost on the benchmark mix. Anything the scanner
// does not recognise exactly (escapes in names, unknown or repeated members,
// non-string members, malformed JSON) makes it give up, and the caller
// decodes the request with encoding/json as before, with the same result
// and the same errors.

// topLevel calls member for each member of the JSON object body, with the
// member's name and raw value; it returns false, having stopped, when body
// is not an object it can split or when member returns false. Names must be
// free of escapes and valid UTF-8.
func topLevel(body []byte, member func(name string, value []byte) bool) bool {
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return false
	}
	i = skipSpace(body, i+1)
	if i < len(body) && body[i] == '}' {
		return skipSpace(body, i+1) == len(body)
	}
	for {
		if i >= len(body) || body[i] != '"' {
			return false
		}
		end := bytes.IndexByte(body[i+1:], '"')
		if end < 0 {
			return false
		}
		name, plain := plainString(body[i : i+2+end])
		if !plain {
			return false
		}
		i = skipSpace(body, i+2+end)
		if i >= len(body) || body[i] != ':' {
			return false
		}
		start := skipSpace(body, i+1)
		stop, ok := skipValue(body, start)
		if !ok || !member(name, body[start:stop]) {
			return false
		}
		i = skipSpace(body, stop)
		if i >= len(body) {
			return false
		}
		switch body[i] {
		case ',':
			i = skipSpace(body, i+1)
		case '}':
			return skipSpace(body, i+1) == len(body)
		default:
			return false
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value starting at b[i]. It checks
// structure only (brackets, strings); the values it passes on are checked
// by their consumers (checkValues decodes anything not plainly compact).
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end, ok := skipString(b, i)
				if !ok {
					return 0, false
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
			i++
		}
		return 0, false
	default:
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' &&
			b[j] != '\t' && b[j] != '\r' {
			j++
		}
		return j, j > i
	}
}

// skipString returns the end of the JSON string starting at b[i].
func skipString(b []byte, i int) (int, bool) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

// plainString returns the text of a JSON string without escapes.
func plainString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	s := raw[1 : len(raw)-1]
	for _, c := range s {
		if c == '\\' || c == '"' || c < 0x20 {
			return "", false
		}
	}
	if !utf8.Valid(s) {
		return "", false
	}
	return string(s), true
}

// rawItem splits a JSON object of attribute values into an item whose
// values alias raw; ok is false when it cannot.
func rawItem(raw []byte) (item, bool) {
	it := make(item, 4)
	ok := topLevel(raw, func(name string, value []byte) bool {
		if _, dup := it[name]; dup || len(value) == 0 || value[0] != '{' {
			return false
		}
		if _, _, compact := compactScalar(value); !compact && !json.Valid(value) {
			return false
		}
		it[name] = json.RawMessage(value)
		return true
	})
	return it, ok && len(it) > 0
}

// fastGetItem decodes a GetItem request with only TableName, Key,
// ConsistentRead, ProjectionExpression and ReturnConsumedCapacity.
func fastGetItem(body []byte, table *string, key *item, consistent *bool, projection, returnCapacity *string) bool {
	seen := 0
	return topLevel(body, func(name string, value []byte) bool {
		var bit int
		var ok bool
		switch name {
		case "TableName":
			bit = 1
			*table, ok = plainString(value)
		case "Key":
			bit = 2
			*key, ok = rawItem(value)
		case "ConsistentRead":
			bit = 4
			switch string(value) {
			case "true":
				*consistent, ok = true, true
			case "false":
				*consistent, ok = false, true
			}
		case "ProjectionExpression":
			bit = 8
			*projection, ok = plainString(value)
		case "ReturnConsumedCapacity":
			bit = 16
			*returnCapacity, ok = plainString(value)
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	})
}

// fastPutItem decodes a PutItem request with only TableName, Item,
// ReturnValues and ReturnConsumedCapacity.
func fastPutItem(body []byte, table *string, it *item, returnValues, returnCapacity *string) bool {
	seen := 0
	return topLevel(body, func(name string, value []byte) bool {
		var bit int
		var ok bool
		switch name {
		case "TableName":
			bit = 1
			*table, ok = plainString(value)
		case "Item":
			bit = 2
			*it, ok = rawItem(value)
		case "ReturnValues":
			bit = 4
			*returnValues, ok = plainString(value)
		case "ReturnConsumedCapacity":
			bit = 8
			*returnCapacity, ok = plainString(value)
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	})
}
