package capacity

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Item size rules, from "DynamoDB item sizes and formats" in the DynamoDB
// Developer Guide (CapacityUnitCalculations.html):
//
//   - every attribute costs the UTF-8 bytes of its name plus its value;
//   - S: UTF-8 bytes; B: raw bytes (base64 on the wire); BOOL, NULL: 1 byte;
//   - N: about one byte per two significant digits plus one (see numberSize);
//   - L and M: 3 bytes plus, for each element, 1 byte and the element's size
//     (a map element's size includes its name);
//   - SS, NS, BS: the sum of their members' sizes.
const (
	documentOverheadBytes = 3
	elementOverheadBytes  = 1
	boolOrNullBytes       = 1
	maxNumberBytes        = 21
	maxNumberExponent     = 1000
)

// ItemSize returns the size in bytes DynamoDB charges for item, given in
// DynamoDB's JSON wire form (attribute name to attribute value, such as
// {"S":"x"}). A nil or empty item has size 0. It fails on a value that is not
// a well-formed attribute value.
func ItemSize(item map[string]json.RawMessage) (bytes int, err error) {
	for name, raw := range item {
		n, err := attributeValueSize(raw)
		if err != nil {
			return 0, fmt.Errorf("item size: attribute %q: %w", name, err)
		}
		bytes += len(name) + n
	}
	return bytes, nil
}

// attributeValueSize sizes one attribute value object such as {"N":"1"}.
func attributeValueSize(raw json.RawMessage) (int, error) {
	if typ, text, ok := compactScalar(raw); ok {
		if typ == 'S' {
			return len(text), nil
		}
		return numberSize(string(text))
	}
	return decodedValueSize(raw)
}

// decodedValueSize sizes one attribute value by decoding its JSON.
func decodedValueSize(raw json.RawMessage) (int, error) {
	var av map[string]json.RawMessage
	if err := json.Unmarshal(raw, &av); err != nil {
		return 0, fmt.Errorf("attribute value: %w", err)
	}
	if len(av) != 1 {
		return 0, fmt.Errorf("attribute value has %d data types, want exactly 1", len(av))
	}
	for typ, v := range av {
		n, err := valueSize(typ, v)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", typ, err)
		}
		return n, nil
	}
	panic("unreachable")
}

// compactScalar recognises the common compact forms {"S":"text"} and
// {"N":"text"} whose text has no escapes, and returns the type and text
// without decoding JSON; ok is false for anything else (escapes, invalid
// UTF-8, spacing), which the general decoder then handles.
func compactScalar(raw []byte) (typ byte, text []byte, ok bool) {
	const prefixLen = len(`{"S":"`)
	if len(raw) < prefixLen+2 || raw[0] != '{' || raw[1] != '"' || raw[3] != '"' || raw[4] != ':' ||
		raw[5] != '"' || raw[len(raw)-1] != '}' || raw[len(raw)-2] != '"' {
		return 0, nil, false
	}
	typ = raw[2]
	if typ != 'S' && typ != 'N' {
		return 0, nil, false
	}
	body := raw[prefixLen : len(raw)-2]
	for _, c := range body {
		if c == '\\' || c == '"' || c < 0x20 {
			return 0, nil, false
		}
	}
	if !utf8.Valid(body) {
		return 0, nil, false
	}
	return typ, body, true
}

func valueSize(typ string, v json.RawMessage) (int, error) {
	switch typ {
	case "S":
		var s string
		err := json.Unmarshal(v, &s)
		return len(s), err
	case "N":
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return 0, err
		}
		return numberSize(s)
	case "B":
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return 0, err
		}
		return binarySize(s)
	case "BOOL", "NULL":
		var b bool
		return boolOrNullBytes, json.Unmarshal(v, &b)
	case "SS", "NS", "BS":
		return setSize(typ, v)
	case "L":
		var list []json.RawMessage
		if err := json.Unmarshal(v, &list); err != nil {
			return 0, err
		}
		total := documentOverheadBytes
		for i, e := range list {
			n, err := attributeValueSize(e)
			if err != nil {
				return 0, fmt.Errorf("element %d: %w", i, err)
			}
			total += elementOverheadBytes + n
		}
		return total, nil
	case "M":
		var m map[string]json.RawMessage
		if err := json.Unmarshal(v, &m); err != nil {
			return 0, err
		}
		total := documentOverheadBytes
		for name, e := range m {
			n, err := attributeValueSize(e)
			if err != nil {
				return 0, fmt.Errorf("key %q: %w", name, err)
			}
			total += elementOverheadBytes + len(name) + n
		}
		return total, nil
	}
	return 0, errors.New("unknown data type")
}

func setSize(typ string, v json.RawMessage) (int, error) {
	var members []string
	if err := json.Unmarshal(v, &members); err != nil {
		return 0, err
	}
	total := 0
	for _, m := range members {
		n := len(m)
		var err error
		switch typ {
		case "NS":
			n, err = numberSize(m)
		case "BS":
			n, err = binarySize(m)
		}
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// binarySize returns the raw length of a base64 value.
func binarySize(s string) (int, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return 0, fmt.Errorf("binary value: %w", err)
	}
	return len(b), nil
}

// numberSize returns the bytes DynamoDB charges for a number value.
//
// AWS documents only an approximation: leading and trailing zeros trimmed,
// one byte per two significant digits, plus one byte. The exact behaviour, as
// measured against DynamoDB by the community (Zac Charles's
// dynamodb-calculator), is that of a base-100 mantissa: significant digits
// are grouped in pairs aligned on the decimal point, each pair is one byte,
// one more byte holds the exponent, a negative number takes one byte more,
// and no number takes more than 21 bytes. Zero takes 1 byte.
func numberSize(s string) (int, error) {
	digits, point, negative, err := parseDecimal(s)
	if err != nil {
		return 0, err
	}
	if len(digits) == 0 {
		return 1, nil
	}

	// The first digit has decimal place point-1, the last point-len(digits);
	// a base-100 digit covers the places 2k and 2k+1.
	highPlace, lowPlace := point-1, point-len(digits)
	pairs := floorDiv(highPlace, 2) - floorDiv(lowPlace, 2) + 1

	size := pairs + 1
	if negative {
		size++
	}
	return min(size, maxNumberBytes), nil
}

// parseDecimal splits a decimal string such as "-12.5e3" into its
// significant digits (no leading or trailing zeros), the position of the
// decimal point relative to the first of them (digits "125" and point 2 mean
// 12.5) and its sign. Zero has no digits.
func parseDecimal(s string) (digits string, point int, negative bool, err error) {
	bad := func() (string, int, bool, error) {
		return "", 0, false, fmt.Errorf("number %q is not a decimal", s)
	}

	mantissa, exponent := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mantissa = s[:i]
		exponent, err = strconv.Atoi(s[i+1:])
		if err != nil || exponent > maxNumberExponent || exponent < -maxNumberExponent {
			return bad()
		}
	}
	if mantissa != "" && (mantissa[0] == '-' || mantissa[0] == '+') {
		negative = mantissa[0] == '-'
		mantissa = mantissa[1:]
	}

	intPart, fracPart, _ := strings.Cut(mantissa, ".")
	all := intPart + fracPart
	if all == "" || strings.Trim(all, "0123456789") != "" {
		return bad()
	}

	point = len(intPart) + exponent
	trimmed := strings.TrimLeft(all, "0")
	point -= len(all) - len(trimmed)
	digits = strings.TrimRight(trimmed, "0")
	if digits == "" {
		return "", 0, false, nil
	}
	return digits, point, negative, nil
}

// floorDiv divides rounding towards minus infinity.
func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// compactResponseItemSize sizes the item of a GetItem response without
// decoding it, when the response is exactly {"Item":{...}} in compact form
// (trailing whitespace aside)
// and its at most 16 attributes are plain strings or numbers ({"S":"…"},
// {"N":"…"}) without escapes; ok is false otherwise (and for a response without an
// item), and the caller decodes the response instead.
func compactResponseItemSize(body []byte) (size int, ok bool) {
	const prefix = `{"Item":{`
	// minidyn's encoder ends its answers with a newline.
	for len(body) > 0 && (body[len(body)-1] == '\n' || body[len(body)-1] == '\r' || body[len(body)-1] == ' ') {
		body = body[:len(body)-1]
	}
	if len(body) < len(prefix)+2 || string(body[:len(prefix)]) != prefix ||
		body[len(body)-1] != '}' || body[len(body)-2] != '}' {
		return 0, false
	}
	rest := body[len(prefix) : len(body)-1] // the attributes and the item's closing brace
	var seen [16][]byte                     // names so far: a repeated name is left to the decoder
	for count := 0; ; count++ {
		if count == len(seen) {
			return 0, false
		}
		// "name":
		if len(rest) < 2 || rest[0] != '"' {
			return 0, false
		}
		end := 1
		for end < len(rest) && rest[end] != '"' {
			if rest[end] == '\\' || rest[end] < 0x20 {
				return 0, false
			}
			end++
		}
		if end+1 >= len(rest) || rest[end+1] != ':' {
			return 0, false
		}
		name := rest[1:end]
		for _, prev := range seen[:count] {
			if string(prev) == string(name) {
				return 0, false
			}
		}
		seen[count] = name
		rest = rest[end+2:]

		// {"S":"text"} or {"N":"text"}: find the closing quote of the text.
		const valuePrefix = len(`{"S":"`)
		if len(rest) < valuePrefix+2 {
			return 0, false
		}
		q := valuePrefix
		for q < len(rest) && rest[q] != '"' {
			q++
		}
		if q+1 >= len(rest) || rest[q+1] != '}' {
			return 0, false
		}
		typ, text, scalar := compactScalar(rest[:q+2])
		if !scalar || !utf8.Valid(name) {
			return 0, false
		}
		n := len(text)
		if typ == 'N' {
			var err error
			if n, err = numberSize(string(text)); err != nil {
				return 0, false
			}
		}
		size += len(name) + n
		rest = rest[q+2:]

		switch {
		case len(rest) == 1 && rest[0] == '}':
			return size, true
		case len(rest) > 1 && rest[0] == ',':
			rest = rest[1:]
		default:
			return 0, false
		}
	}
}
