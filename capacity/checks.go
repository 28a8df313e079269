package capacity

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strings"
)

// Request checks DynamoDB makes before anything else, with its wording
// (API reference, the operations' request parameters): throughput at least
// 1, enum members spelt as the API spells them, Scan segments in range,
// batches with 1 to 25 entries per table.

// Most entries of one table in a batch call.
const (
	maxBatchWrites = 25
	maxBatchGets   = 100
)

// validationErrors words one or more constraint failures as DynamoDB
// does: "1 validation error detected: …", "2 validation errors detected:
// …; …". It returns nil for none.
func validationErrors(failures []string) *apiError {
	switch len(failures) {
	case 0:
		return nil
	case 1:
		return validationError("1 validation error detected: %s", failures[0])
	}
	return validationError("%d validation errors detected: %s", len(failures), strings.Join(failures, "; "))
}

// atLeast is the failure of a member below its minimum, "" when it is not.
func atLeast(v *json.Number, min int64, where string) string {
	if v == nil {
		return ""
	}
	n, err := v.Int64()
	if err == nil && n >= min {
		return ""
	}
	return fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: "+
		"Member must have value greater than or equal to %d", v.String(), where, min)
}

// wireThroughput is a ProvisionedThroughput member as sent.
type wireThroughput struct {
	ReadCapacityUnits  *json.Number
	WriteCapacityUnits *json.Number
}

// failures lists what is wrong with t, named at where.
func (t *wireThroughput) failures(where string) []string {
	if t == nil {
		return nil
	}
	var out []string
	for _, m := range []struct {
		v    *json.Number
		name string
	}{{t.ReadCapacityUnits, "readCapacityUnits"}, {t.WriteCapacityUnits, "writeCapacityUnits"}} {
		if m.v == nil {
			out = append(out, fmt.Sprintf("Value null at '%s.%s' failed to satisfy constraint: "+
				"Member must not be null", where, m.name))
		} else if f := atLeast(m.v, 1, where+"."+m.name); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// checkTableRequest checks the throughput of a CreateTable or UpdateTable
// request (the table's and every global index's) before it is forwarded:
// a number that is not a 64-bit integer is a SerializationException, one
// below 1 a ValidationException.
func checkTableRequest(op string, body []byte) *apiError {
	var req struct {
		ProvisionedThroughput  *wireThroughput
		GlobalSecondaryIndexes []struct {
			ProvisionedThroughput *wireThroughput
		}
		GlobalSecondaryIndexUpdates []struct {
			Create *struct{ ProvisionedThroughput *wireThroughput }
			Update *struct{ ProvisionedThroughput *wireThroughput }
		}
	}
	if bad := checkInt64s(op, body); bad != nil {
		return bad
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return serializationError("%s", serializationMessage(op, err))
	}
	fails := req.ProvisionedThroughput.failures("provisionedThroughput")
	for i, ix := range req.GlobalSecondaryIndexes {
		fails = append(fails, ix.ProvisionedThroughput.failures(
			fmt.Sprintf("globalSecondaryIndexes.%d.member.provisionedThroughput", i+1))...)
	}
	all := []*wireThroughput{req.ProvisionedThroughput}
	for _, ix := range req.GlobalSecondaryIndexes {
		all = append(all, ix.ProvisionedThroughput)
	}
	for i, u := range req.GlobalSecondaryIndexUpdates {
		if u.Create != nil {
			fails = append(fails, u.Create.ProvisionedThroughput.failures(
				fmt.Sprintf("globalSecondaryIndexUpdates.%d.member.create.provisionedThroughput", i+1))...)
			all = append(all, u.Create.ProvisionedThroughput)
		}
		if u.Update != nil {
			fails = append(fails, u.Update.ProvisionedThroughput.failures(
				fmt.Sprintf("globalSecondaryIndexUpdates.%d.member.update.provisionedThroughput", i+1))...)
			all = append(all, u.Update.ProvisionedThroughput)
		}
	}
	if bad := validationErrors(fails); bad != nil {
		return bad
	}
	for _, t := range all {
		if bad := t.overQuota(); bad != nil {
			return bad
		}
	}
	return nil
}

// overQuota refuses a throughput above the per-table quota of
// TableQuotaUnits, as AWS refuses one above an account's table quota
// (LimitExceededException). The model keeps state per partition, so an
// unbounded capacity would also be an unbounded allocation.
func (t *wireThroughput) overQuota() *apiError {
	if t == nil {
		return nil
	}
	for _, m := range []struct {
		v    *json.Number
		name string
	}{{t.ReadCapacityUnits, "read"}, {t.WriteCapacityUnits, "write"}} {
		if m.v == nil {
			continue
		}
		if n, err := m.v.Int64(); err == nil && n > TableQuotaUnits {
			return &apiError{typ: "LimitExceededException", msg: fmt.Sprintf(
				"Subscriber limit exceeded: %d %s capacity units exceed the per-table quota of %d "+
					"(AWS's default, which ddb-local enforces)", n, m.name, TableQuotaUnits)}
		}
	}
	return nil
}

// checkInt64s refuses a throughput that is not a 64-bit integer (1e30,
// 2.5) as DynamoDB's JSON reader does.
func checkInt64s(op string, body []byte) *apiError {
	var req struct {
		ProvisionedThroughput       *throughput
		GlobalSecondaryIndexes      []struct{ ProvisionedThroughput *throughput }
		GlobalSecondaryIndexUpdates []struct {
			Create *struct{ ProvisionedThroughput *throughput }
			Update *struct{ ProvisionedThroughput *throughput }
		}
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return serializationError("%s", serializationMessage(op, err))
	}
	return nil
}

// returnConsumedCapacityValues are ReturnConsumedCapacity's members.
var returnConsumedCapacityValues = []string{"INDEXES", "TOTAL", "NONE"}

// checkReturnConsumedCapacity refuses a ReturnConsumedCapacity that is not
// one of the enum's members ("" is absent).
func checkReturnConsumedCapacity(v string) *apiError {
	if v == "" {
		return nil
	}
	for _, ok := range returnConsumedCapacityValues {
		if v == ok {
			return nil
		}
	}
	return validationErrors([]string{fmt.Sprintf("Value '%s' at 'returnConsumedCapacity' failed to satisfy "+
		"constraint: Member must satisfy enum value set: [%s]", v, strings.Join(returnConsumedCapacityValues, ", "))})
}

// checkSegments checks a Scan's Segment and TotalSegments (nil when
// absent): both or neither, TotalSegments 1 to 1,000,000, Segment from 0
// to below TotalSegments.
func checkSegments(segment, total *int64) *apiError {
	var fails []string
	if segment != nil && *segment < 0 {
		fails = append(fails, fmt.Sprintf("Value '%d' at 'segment' failed to satisfy constraint: "+
			"Member must have value greater than or equal to 0", *segment))
	}
	if total != nil && *total < 1 {
		fails = append(fails, fmt.Sprintf("Value '%d' at 'totalSegments' failed to satisfy constraint: "+
			"Member must have value greater than or equal to 1", *total))
	}
	if total != nil && *total > 1000000 {
		fails = append(fails, fmt.Sprintf("Value '%d' at 'totalSegments' failed to satisfy constraint: "+
			"Member must have value less than or equal to 1000000", *total))
	}
	if bad := validationErrors(fails); bad != nil {
		return bad
	}
	switch {
	case segment != nil && total == nil:
		return validationError("The TotalSegments parameter is required but was not present in the request " +
			"when Segment parameter is present")
	case segment == nil && total != nil:
		return validationError("The Segment parameter is required but was not present in the request " +
			"when parameter TotalSegments is present")
	case segment != nil && *segment >= *total:
		return validationError("The Segment parameter is zero-based and must be less than parameter "+
			"TotalSegments: Segment: %d is not less than TotalSegments: %d", *segment, *total)
	}
	return nil
}

// checkBatchSizes checks that every table of a batch call's RequestItems
// has 1 to max entries (counts, by table) and that there is a table.
func checkBatchSizes(counts map[string]int, max int) *apiError {
	if len(counts) == 0 {
		return validationErrors([]string{"Value '{}' at 'requestItems' failed to satisfy constraint: " +
			"Member must have length greater than or equal to 1"})
	}
	for _, table := range sortedKeys(counts) {
		if n := counts[table]; n < 1 || n > max {
			return validationErrors([]string{fmt.Sprintf("Value at 'requestItems' failed to satisfy constraint: "+
				"Map value must satisfy constraint: [Member must have length less than or equal to %d, "+
				"Member must have length greater than or equal to 1] (table %s has %d)", max, table, n)})
		}
	}
	return nil
}

// cancellationMessage rewrites a TransactionCanceledException body's
// message to list the code of every action, "None" for those that did not
// fail, as DynamoDB does; any other body is returned as it is.
func cancellationMessage(body []byte) []byte {
	if errorType(body) != "TransactionCanceledException" {
		return body
	}
	var fields map[string]json.RawMessage
	var reasons []struct{ Code string }
	if json.Unmarshal(body, &fields) != nil || json.Unmarshal(fields["CancellationReasons"], &reasons) != nil ||
		len(reasons) == 0 {
		return body
	}
	codes := make([]string, len(reasons))
	for i, r := range reasons {
		codes[i] = cmp.Or(r.Code, "None")
	}
	fields["message"], _ = json.Marshal("Transaction cancelled, please refer cancellation reasons for " +
		"specific reasons [" + strings.Join(codes, ", ") + "]")
	delete(fields, "Message")
	out, err := json.Marshal(fields)
	if err != nil {
		return body
	}
	return out
}
