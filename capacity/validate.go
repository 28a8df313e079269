package capacity

import (
	"encoding/json"
	"errors"
	"fmt"
)

// serializationMessage words a request the endpoint could not decode as
// DynamoDB does: what was wrong, and where when the decoder knows.
func serializationMessage(op string, err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return fmt.Sprintf("%s: %s cannot be converted to %s (at %q)",
			op, typeErr.Value, typeErr.Type, typeErr.Field)
	}
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return fmt.Sprintf("%s: the request body is not valid JSON: %v (at byte %d)", op, err, syntaxErr.Offset)
	}
	return fmt.Sprintf("%s: cannot decode the request: %v", op, err)
}

// validateTableName checks a table name and returns DynamoDB's wording of
// the failure, "" when it is valid. DynamoDB allows 3 to 255 characters of
// a-z, A-Z, 0-9, '_', '-' and '.', or a table ARN up to 1024 characters.
//
// BUG: names shorter than 3 characters are accepted, as the embedded engine
// accepts them; DynamoDB refuses them.
func validateTableName(name string) string {
	if name == "" {
		return "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: " +
			"Member must not be null"
	}
	if len(name) > 1024 {
		return "1 validation error detected: Value at 'tableName' failed to satisfy constraint: " +
			"Member must have length less than or equal to 1024"
	}
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '-' || c == '.' || c == ':' || c == '/'
		if !ok {
			return fmt.Sprintf("1 validation error detected: Value '%s' at 'tableName' failed to satisfy "+
				"constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", name)
		}
	}
	return ""
}
