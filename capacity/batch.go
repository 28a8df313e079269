package capacity

import "encoding/json"

// batchUnprocessedField names, for each batch operation, the response field
// that hands back what was not processed.
//
// TODO: a batch is split by table only: one table's entries are admitted or
// handed back together, where DynamoDB may process some and return the rest.
var batchUnprocessedField = map[string]string{
	"BatchGetItem":   "UnprocessedKeys",
	"BatchWriteItem": "UnprocessedItems",
}

// withoutTables rewrites a batch request without the refused tables'
// RequestItems and plans it again. It returns the new plan and body, and the
// refused tables' entries, which go back to the caller unprocessed; a nil
// plan means the request could not be rewritten.
func withoutTables(op string, body []byte, refused []*throttle) (*plan, []byte, map[string]json.RawMessage) {
	var req map[string]json.RawMessage
	if json.Unmarshal(body, &req) != nil {
		return nil, nil, nil
	}
	var items map[string]json.RawMessage
	if json.Unmarshal(req["RequestItems"], &items) != nil {
		return nil, nil, nil
	}
	held := map[string]json.RawMessage{}
	for _, th := range refused {
		if v, ok := items[th.table]; ok {
			held[th.table] = v
			delete(items, th.table)
		}
	}

	var err error
	if req["RequestItems"], err = json.Marshal(items); err != nil {
		return nil, nil, nil
	}
	rewritten, err := json.Marshal(req)
	if err != nil {
		return nil, nil, nil
	}
	p, err := planners[op](rewritten)
	if err != nil {
		return nil, nil, nil
	}
	return p, rewritten, held
}

// withUnprocessed adds held, the entries of tables refused for capacity, to
// a successful batch response's field (UnprocessedKeys or
// UnprocessedItems), where the backend's own unprocessed entries may be.
func withUnprocessed(body []byte, field string, held map[string]json.RawMessage) []byte {
	if len(held) == 0 || field == "" {
		return body
	}
	var out map[string]json.RawMessage
	if json.Unmarshal(body, &out) != nil || out == nil {
		return body
	}
	unprocessed := map[string]json.RawMessage{}
	if raw, ok := out[field]; ok && string(raw) != "null" {
		if json.Unmarshal(raw, &unprocessed) != nil {
			return body
		}
	}
	for table, v := range held {
		unprocessed[table] = v
	}
	raw, err := json.Marshal(unprocessed)
	if err != nil {
		return body
	}
	out[field] = raw
	rewritten, err := json.Marshal(out)
	if err != nil {
		return body
	}
	return rewritten
}
