package capacity

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
