package refserver

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoDB's limits on what a payload may hold.
const (
	maxNumberDigits   = 38   // significant digits of a number
	minNumberExponent = -130 // of the most significant digit
	maxNumberExponent = 125
	maxNestingDepth   = 32 // maps and lists inside an attribute
)

// itemToJSON turns a DynamoDB item into plain JSON values: strings, numbers
// (as json.Number, so no digit is lost), booleans, null, objects and arrays;
// sets become arrays and binary becomes base64 strings.
func itemToJSON(item map[string]types.AttributeValue) (map[string]any, error) {
	out := make(map[string]any, len(item))
	for name, av := range item {
		v, err := valueToJSON(av)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", name, err)
		}
		out[name] = v
	}
	return out, nil
}

func valueToJSON(av types.AttributeValue) (any, error) {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return v.Value, nil
	case *types.AttributeValueMemberN:
		return json.Number(v.Value), nil
	case *types.AttributeValueMemberB:
		return v.Value, nil
	case *types.AttributeValueMemberBOOL:
		return v.Value, nil
	case *types.AttributeValueMemberNULL:
		return nil, nil
	case *types.AttributeValueMemberSS:
		return v.Value, nil
	case *types.AttributeValueMemberBS:
		return v.Value, nil
	case *types.AttributeValueMemberNS:
		ns := make([]json.Number, len(v.Value))
		for i, n := range v.Value {
			ns[i] = json.Number(n)
		}
		return ns, nil
	case *types.AttributeValueMemberM:
		return itemToJSON(v.Value)
	case *types.AttributeValueMemberL:
		list := make([]any, len(v.Value))
		for i, el := range v.Value {
			x, err := valueToJSON(el)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
			list[i] = x
		}
		return list, nil
	}
	return nil, fmt.Errorf("unsupported attribute value type %T", av)
}

// jsonToValue turns a JSON value decoded with UseNumber into an attribute
// value, refusing what DynamoDB would refuse: numbers out of its range or
// precision, nesting deeper than 32 levels, empty map keys. The error says
// where, as a path below the value ("a.b[2]").
func jsonToValue(v any, depth int) (types.AttributeValue, error) {
	switch x := v.(type) {
	case nil:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case bool:
		return &types.AttributeValueMemberBOOL{Value: x}, nil
	case string:
		return &types.AttributeValueMemberS{Value: x}, nil
	case json.Number:
		if err := checkNumber(string(x)); err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberN{Value: string(x)}, nil
	case map[string]any:
		return objectToValue(x, depth)
	case []any:
		return arrayToValue(x, depth)
	}
	return nil, fmt.Errorf("unsupported JSON value of type %T", v)
}

func objectToValue(obj map[string]any, depth int) (types.AttributeValue, error) {
	if depth >= maxNestingDepth {
		return nil, fmt.Errorf("nested deeper than %d levels", maxNestingDepth)
	}

	m := make(map[string]types.AttributeValue, len(obj))
	for k, el := range obj {
		if k == "" {
			return nil, fmt.Errorf("empty key")
		}
		av, err := jsonToValue(el, depth+1)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", strconv.Quote(k), err)
		}
		m[k] = av
	}
	return &types.AttributeValueMemberM{Value: m}, nil
}

func arrayToValue(arr []any, depth int) (types.AttributeValue, error) {
	if depth >= maxNestingDepth {
		return nil, fmt.Errorf("nested deeper than %d levels", maxNestingDepth)
	}

	l := make([]types.AttributeValue, len(arr))
	for i, el := range arr {
		av, err := jsonToValue(el, depth+1)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		l[i] = av
	}
	return &types.AttributeValueMemberL{Value: l}, nil
}

// checkNumber reports whether DynamoDB can store the JSON number s: at most
// 38 significant digits, and zero or a magnitude from 1E-130 to below 1E+126.
func checkNumber(s string) error {
	mantissa, expPart, _ := strings.Cut(strings.ToLower(strings.TrimPrefix(s, "-")), "e")
	intPart, fracPart, _ := strings.Cut(mantissa, ".")

	exp := 0
	if expPart != "" {
		e, err := strconv.Atoi(expPart)
		if err != nil || e > 1<<20 || e < -1<<20 {
			return fmt.Errorf("number %s is out of DynamoDB's range", s)
		}
		exp = e
	}

	digits := intPart + fracPart
	first := strings.IndexFunc(digits, func(r rune) bool { return r != '0' })
	if first < 0 {
		return nil // zero
	}
	last := strings.LastIndexFunc(digits, func(r rune) bool { return r != '0' })

	if last-first+1 > maxNumberDigits {
		return fmt.Errorf("number %s has more than %d significant digits", s, maxNumberDigits)
	}

	// Power of ten of the most significant digit; cannot overflow, as both
	// the exponent and the digits are bounded.
	magnitude := len(intPart) - 1 - first + exp
	if magnitude < minNumberExponent || magnitude > maxNumberExponent {
		return fmt.Errorf("number %s is out of DynamoDB's range", s)
	}
	return nil
}
