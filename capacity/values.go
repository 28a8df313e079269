package capacity

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// Limits on attribute values and items, from "Quotas in Amazon DynamoDB"
// (DG ServiceQuotas.html) and "Data types" (DG HowItWorks.NamingRulesDataTypes.html).
const (
	// MaxItemBytes is the largest item DynamoDB stores: 400 KB, counted by
	// the item size rules (ItemSize).
	MaxItemBytes = 400 * 1024
	// maxNestingDepth is how deep lists and maps may nest.
	maxNestingDepth = 32
	// maxNumberDigits is a number's precision in significant digits.
	maxNumberDigits = 38
	// A number's magnitude lies between 1E-130 and 9.99…E+125: with digits
	// 0.d1d2… times 10^point, point lies in [minNumberPoint, maxNumberPoint].
	maxNumberPoint = 126
	minNumberPoint = -129
)

// apiError is a DynamoDB client error the endpoint answers itself, before
// anything reaches the backend.
type apiError struct {
	typ, msg string
	path     string // where the faulty value is, once at has named it
}

func validationError(format string, args ...any) *apiError {
	return &apiError{typ: "ValidationException", msg: fmt.Sprintf(format, args...)}
}

func serializationError(format string, args ...any) *apiError {
	return &apiError{typ: "SerializationException", msg: fmt.Sprintf(format, args...)}
}

// at adds where the faulty value is to the message; called again from the
// value's container outwards, it lengthens the one path the message ends
// with.
func (e *apiError) at(where string) *apiError {
	msg, path := e.msg, where
	if e.path != "" {
		msg = strings.TrimSuffix(msg, " (at "+e.path+")")
		path = where + "." + e.path
	}
	return &apiError{typ: e.typ, msg: msg + " (at " + path + ")", path: path}
}

// checkValues validates every attribute value of m (an item, a key or
// ExpressionAttributeValues), named where in messages, as DynamoDB
// validates them: exactly one data type, well-formed numbers in range,
// base64 binaries, non-empty sets without duplicates, at most 32 levels of
// nesting.
func checkValues(m item, where string) *apiError {
	for name, raw := range m {
		if err := checkValue(raw, 0); err != nil {
			return err.at(where + "." + name)
		}
	}
	return nil
}

// checkValue validates one attribute value lying inside depth lists or maps.
func checkValue(raw json.RawMessage, depth int) *apiError {
	if typ, text, ok := compactScalar(raw); ok {
		if typ == 'N' {
			return checkNumber(string(text))
		}
		return nil
	}
	var av map[string]json.RawMessage
	if err := json.Unmarshal(raw, &av); err != nil || av == nil {
		return serializationError("an attribute value must be an object such as {\"S\":\"text\"}, got %s",
			clip(raw))
	}
	switch len(av) {
	case 0:
		return validationError("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
	case 1:
	default:
		return validationError("Supplied AttributeValue has more than one datatypes set, " +
			"must contain exactly one of the supported datatypes")
	}
	for typ, v := range av {
		return checkTyped(typ, v, depth)
	}
	return nil
}

func checkTyped(typ string, v json.RawMessage, depth int) *apiError {
	wrongType := func(want string) *apiError {
		return serializationError("%s value must be %s, got %s", typ, want, clip(v))
	}
	switch typ {
	case "S":
		var s string
		if json.Unmarshal(v, &s) != nil {
			return wrongType("a string")
		}
	case "N":
		var s string
		if json.Unmarshal(v, &s) != nil {
			return wrongType("a string")
		}
		return checkNumber(s)
	case "B":
		var s string
		if json.Unmarshal(v, &s) != nil {
			return wrongType("a base64 string")
		}
		return checkBase64(s)
	case "BOOL":
		var b bool
		if json.Unmarshal(v, &b) != nil {
			return wrongType("true or false")
		}
	case "NULL":
		var b bool
		if json.Unmarshal(v, &b) != nil {
			return wrongType("true")
		}
		if !b {
			return validationError("One or more parameter values were invalid: " +
				"Null attribute value types must have the value of true")
		}
	case "SS", "NS", "BS":
		var members []string
		if json.Unmarshal(v, &members) != nil {
			return wrongType("a list of strings")
		}
		return checkSet(typ, members)
	case "L":
		var list []json.RawMessage
		if json.Unmarshal(v, &list) != nil {
			return wrongType("a list")
		}
		if len(list) > 0 && depth+1 > maxNestingDepth {
			return validationError("Nesting Levels have exceeded supported limits")
		}
		for i, e := range list {
			if err := checkValue(e, depth+1); err != nil {
				return err.at(fmt.Sprintf("L[%d]", i))
			}
		}
	case "M":
		var m map[string]json.RawMessage
		if json.Unmarshal(v, &m) != nil {
			return wrongType("an object")
		}
		if len(m) > 0 && depth+1 > maxNestingDepth {
			return validationError("Nesting Levels have exceeded supported limits")
		}
		for name, e := range m {
			if err := checkValue(e, depth+1); err != nil {
				return err.at("M." + name)
			}
		}
	default:
		return serializationError("unknown attribute value data type %q", typ)
	}
	return nil
}

func checkSet(typ string, members []string) *apiError {
	kind := map[string]string{"SS": "string", "NS": "number", "BS": "binary"}[typ]
	if len(members) == 0 {
		return validationError("One or more parameter values were invalid: An %s set  may not be empty", kind)
	}
	seen := make(map[string]bool, len(members))
	for _, m := range members {
		var err *apiError
		switch typ {
		case "NS":
			err = checkNumber(m)
		case "BS":
			err = checkBase64(m)
		}
		if err != nil {
			return err
		}
		if seen[m] {
			return validationError("One or more parameter values were invalid: Input collection contains duplicates")
		}
		seen[m] = true
	}
	return nil
}

// checkNumber validates a number's text, its precision and its magnitude.
func checkNumber(s string) *apiError {
	digits, point, _, err := parseDecimal(s)
	if err != nil {
		return validationError("The parameter cannot be converted to a numeric value: %s", s)
	}
	switch {
	case len(digits) == 0:
		return nil
	case len(digits) > maxNumberDigits:
		return validationError("Attempting to store more than %d significant digits in a Number", maxNumberDigits)
	case point > maxNumberPoint:
		return validationError("Number overflow. Attempting to store a number with magnitude larger than supported range")
	case point < minNumberPoint:
		return validationError("Number underflow. Attempting to store a number with magnitude smaller than supported range")
	}
	return nil
}

func checkBase64(s string) *apiError {
	if _, err := base64.StdEncoding.DecodeString(s); err != nil {
		return serializationError("Base64 encoded binary value is malformed: %v", err)
	}
	return nil
}

// checkKeyValues refuses an empty string or binary in the key attributes
// of each of items, as DynamoDB does.
func checkKeyValues(keys []string, items []item, where string) *apiError {
	for _, it := range items {
		for _, name := range keys {
			if emptyScalar(it[name]) {
				return validationError("One or more parameter values are not valid. The AttributeValue for a key "+
					"attribute cannot contain an empty string value. Key: %s", name).at(where + "." + name)
			}
		}
	}
	return nil
}

// emptyScalar reports whether raw is {"S":""} or {"B":""}, however spaced.
func emptyScalar(raw json.RawMessage) bool {
	switch string(raw) {
	case `{"S":""}`, `{"B":""}`:
		return true
	}
	if len(raw) > 32 || !bytes.ContainsAny(raw, " \t\r\n") {
		return false
	}
	var av map[string]json.RawMessage
	if json.Unmarshal(raw, &av) != nil || len(av) != 1 {
		return false
	}
	return string(av["S"]) == `""` || string(av["B"]) == `""`
}

// clip shortens raw JSON for a message.
func clip(raw []byte) string {
	const limit = 40
	if len(raw) > limit {
		return string(raw[:limit]) + "…"
	}
	return string(raw)
}
