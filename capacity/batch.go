package capacity

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Batches are admitted entry by entry, as DynamoDB processes them
// (API_BatchGetItem.html, API_BatchWriteItem.html): the entries that find
// capacity go to the backend, the others go back to the caller, exactly as
// sent, in UnprocessedKeys or UnprocessedItems. Only a batch none of whose
// entries can be processed is throttled. Every entry handed back is one
// throttle event; ThrottledRequests counts only a batch throttled whole
// (DG metrics-dimensions.html, ThrottledRequests).

// batchUnprocessedField names, for each batch operation, the response field
// that hands back what was not processed.
var batchUnprocessedField = map[string]string{
	"BatchGetItem":   "UnprocessedKeys",
	"BatchWriteItem": "UnprocessedItems",
}

// batchEntry is one key of a BatchGetItem or one put or delete of a
// BatchWriteItem, with what admitting it takes.
type batchEntry struct {
	raw   json.RawMessage // as the caller sent it
	key   item            // the item or key, whose partition key places it
	units float64         // what it is expected to consume at least
	write item            // the item a put writes, nil otherwise
}

// batchTable is one table's part of a batch request.
type batchTable struct {
	name    string
	fields  map[string]json.RawMessage // BatchGetItem's KeysAndAttributes, nil for BatchWriteItem
	entries []batchEntry
}

// parseBatch splits a batch request into its tables' entries, in the order
// of tables (sorted, as the plan has them).
func parseBatch(op string, body []byte, tables []string) (map[string]json.RawMessage, []batchTable, error) {
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, nil, err
	}
	var items map[string]json.RawMessage
	if err := json.Unmarshal(req["RequestItems"], &items); err != nil {
		return nil, nil, fmt.Errorf("RequestItems: %w", err)
	}
	out := make([]batchTable, 0, len(tables))
	for _, name := range tables {
		bt := batchTable{name: name}
		var err error
		if op == "BatchGetItem" {
			err = bt.parseKeys(items[name])
		} else {
			err = bt.parseWrites(items[name])
		}
		if err != nil {
			return nil, nil, fmt.Errorf("RequestItems.%s: %w", name, err)
		}
		out = append(out, bt)
	}
	return req, out, nil
}

// parseKeys reads a BatchGetItem table's KeysAndAttributes.
func (bt *batchTable) parseKeys(raw json.RawMessage) error {
	if err := json.Unmarshal(raw, &bt.fields); err != nil {
		return err
	}
	var keys []json.RawMessage
	if raw, ok := bt.fields["Keys"]; ok {
		if err := json.Unmarshal(raw, &keys); err != nil {
			return fmt.Errorf("Keys: %w", err)
		}
	}
	var consistent bool
	if raw, ok := bt.fields["ConsistentRead"]; ok {
		if err := json.Unmarshal(raw, &consistent); err != nil {
			return fmt.Errorf("ConsistentRead: %w", err)
		}
	}
	for _, k := range keys {
		var key item
		if err := json.Unmarshal(k, &key); err != nil {
			return fmt.Errorf("Keys: %w", err)
		}
		bt.entries = append(bt.entries, batchEntry{raw: k, key: key, units: ReadUnits(0, consistency(consistent))})
	}
	return nil
}

// parseWrites reads a BatchWriteItem table's WriteRequests.
func (bt *batchTable) parseWrites(raw json.RawMessage) error {
	var writes []json.RawMessage
	if err := json.Unmarshal(raw, &writes); err != nil {
		return err
	}
	for _, w := range writes {
		var req writeRequest
		if err := json.Unmarshal(w, &req); err != nil {
			return err
		}
		en := batchEntry{raw: w, units: 1}
		switch {
		case req.PutRequest != nil:
			en.key, en.write = req.PutRequest.Item, req.PutRequest.Item
			if size, err := ItemSize(en.write); err == nil {
				en.units = WriteUnits(size)
			}
		case req.DeleteRequest != nil:
			en.key = req.DeleteRequest.Key
		}
		bt.entries = append(bt.entries, en)
	}
	return nil
}

// encode writes the table's part of a request or response with only
// entries, or nil when there are none.
func (bt *batchTable) encode(entries []json.RawMessage) (json.RawMessage, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	if bt.fields == nil {
		return marshalRaw(entries)
	}
	keys, err := marshalRaw(entries)
	if err != nil {
		return nil, err
	}
	fields := make(map[string]json.RawMessage, len(bt.fields))
	for k, v := range bt.fields {
		fields[k] = v
	}
	fields["Keys"] = keys
	return marshalRaw(fields)
}

// batchPending is what a batch's admitted entries take of each limits they
// touch (a table's, a global index's).
type batchPending map[*limits]*pending

func (bp batchPending) of(l *limits) *pending {
	if bp[l] == nil {
		bp[l] = &pending{}
	}
	return bp[l]
}

// batchAdmission is the outcome of admitting a batch entry by entry.
type batchAdmission struct {
	plan *plan                      // the plan of the processed entries; nil when all run
	body []byte                     // the request of the processed entries
	held map[string]json.RawMessage // per table, the entries handed back
	// refused is the first refusal when no entry can run, nil otherwise.
	refused *throttle
	// record records the throttle events of the entries handed back; the
	// caller calls it once the backend has processed the others, and not
	// when the backend failed the call, whose entries then were not
	// throttled but refused. Nil when nothing was handed back.
	record func()
}

// admitBatch admits a batch call's entries one by one at now. When some but
// not all are refused it rewrites the request to hold only those admitted,
// and returns how to record a throttle event for each entry handed back;
// when all are, it records them (and ThrottledRequests) itself.
func (e *Endpoint) admitBatch(op string, p *plan, body []byte, states map[string]*tableState,
	now time.Time) (batchAdmission, error) {
	req, tables, err := parseBatch(op, body, p.tables)
	if err != nil {
		return batchAdmission{}, err
	}

	type eventKey struct{ table, index, reason string }
	events := map[eventKey]int{}
	var first *throttle
	admitted, held := map[string][]json.RawMessage{}, map[string][]json.RawMessage{}
	bp := batchPending{}
	for _, bt := range tables {
		t := states[bt.name]
		for i := range bt.entries {
			en := &bt.entries[i]
			if t == nil {
				admitted[bt.name] = append(admitted[bt.name], en.raw)
				continue
			}
			index, th := t.entryRefusal(now, p.write, en, bp)
			if th == nil {
				admitted[bt.name] = append(admitted[bt.name], en.raw)
				continue
			}
			th.table = bt.name
			if first == nil {
				first = th
			}
			events[eventKey{bt.name, index, th.reason}]++
			held[bt.name] = append(held[bt.name], en.raw)
		}
	}
	record := func() {
		for k, n := range events {
			e.rec.throttleEvents(k.table, k.index, now, p.write, n, k.reason)
		}
	}
	switch {
	case len(held) == 0:
		return batchAdmission{}, nil
	case len(admitted) == 0:
		record()
		for name := range held {
			e.rec.throttledRequest(name, op, now)
		}
		return batchAdmission{refused: first}, nil
	}
	a, err := rewriteBatch(op, req, tables, admitted, held)
	a.record = record
	return a, err
}

// rewriteBatch builds the request of the admitted entries, plans it, and
// encodes the held entries as the response field hands them back.
func rewriteBatch(op string, req map[string]json.RawMessage, tables []batchTable,
	admitted, held map[string][]json.RawMessage) (batchAdmission, error) {
	items := map[string]json.RawMessage{}
	out := batchAdmission{held: map[string]json.RawMessage{}}
	for i := range tables {
		bt := &tables[i]
		run, err := bt.encode(admitted[bt.name])
		if err != nil {
			return batchAdmission{}, err
		}
		if run != nil {
			items[bt.name] = run
		}
		back, err := bt.encode(held[bt.name])
		if err != nil {
			return batchAdmission{}, err
		}
		if back != nil {
			out.held[bt.name] = back
		}
	}

	rewritten := make(map[string]json.RawMessage, len(req))
	for k, v := range req {
		rewritten[k] = v
	}
	var err error
	if rewritten["RequestItems"], err = marshalRaw(items); err != nil {
		return batchAdmission{}, err
	}
	if out.body, err = marshalRaw(rewritten); err != nil {
		return batchAdmission{}, err
	}
	if out.plan, err = planners[op](out.body); err != nil {
		return batchAdmission{}, fmt.Errorf("planning the processed entries: %w", err)
	}
	return out, nil
}

// entryRefusal admits one batch entry on t at now on top of the entries
// admitted before it (bp), and counts it there; or returns why not and the
// index refused ("" for the table). A write also needs every global index
// to have capacity, as in tableState.refusal.
func (t *tableState) entryRefusal(now time.Time, write bool, en *batchEntry,
	bp batchPending) (string, *throttle) {
	part := -1
	parts := t.partitionsOf([]item{en.key})
	if len(parts) == 1 {
		part = parts[0]
	}
	if th := t.lim.admitOn(now, write, parts, bp.of(t.lim)); th != nil {
		return t.named(nil, th)
	}
	indexPart := map[*indexState]int{}
	if write {
		for _, ix := range t.indexes {
			if !ix.global {
				continue
			}
			ixParts := ix.partitionsOf([]item{en.key})
			if th := ix.lim.admitOn(now, true, ixParts, bp.of(ix.lim)); th != nil {
				return t.named(ix, th)
			}
			indexPart[ix] = -1
			if len(ixParts) == 1 {
				indexPart[ix] = ixParts[0]
			}
		}
	}

	t.lim.reserve(bp.of(t.lim), write, en.units, part)
	if !write {
		return "", nil
	}
	for _, used := range indexWrites(t, nil, en.write, false) {
		if ix := t.index(used.name); ix != nil && ix.global {
			ix.lim.reserve(bp.of(ix.lim), true, used.writeUnits, indexPart[ix])
		}
	}
	return "", nil
}

// withUnprocessed adds held, the entries handed back for capacity, to a
// successful batch response's field (UnprocessedKeys or UnprocessedItems),
// beside the backend's own unprocessed entries of the same tables.
func withUnprocessed(body []byte, op string, held map[string]json.RawMessage) ([]byte, error) {
	field := batchUnprocessedField[op]
	if len(held) == 0 || field == "" {
		return body, nil
	}
	var out map[string]json.RawMessage
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, err
	}
	if out == nil {
		out = map[string]json.RawMessage{}
	}
	unprocessed := map[string]json.RawMessage{}
	if raw, ok := out[field]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &unprocessed); err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
	}
	for table, v := range held {
		merged, err := mergeUnprocessed(op, unprocessed[table], v)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", field, table, err)
		}
		unprocessed[table] = merged
	}

	var err error
	if out[field], err = marshalRaw(unprocessed); err != nil {
		return nil, err
	}
	return marshalRaw(out)
}

// mergeUnprocessed joins the backend's unprocessed entries of one table
// (nil for none) with those the endpoint held back.
func mergeUnprocessed(op string, backend, held json.RawMessage) (json.RawMessage, error) {
	if len(backend) == 0 || string(backend) == "null" {
		return held, nil
	}
	if op == "BatchWriteItem" {
		var a, b []json.RawMessage
		if err := json.Unmarshal(backend, &a); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(held, &b); err != nil {
			return nil, err
		}
		return marshalRaw(append(a, b...))
	}
	var a, b map[string]json.RawMessage
	if err := json.Unmarshal(backend, &a); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(held, &b); err != nil {
		return nil, err
	}
	var keysA, keysB []json.RawMessage
	if err := json.Unmarshal(a["Keys"], &keysA); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b["Keys"], &keysB); err != nil {
		return nil, err
	}
	keys, err := marshalRaw(append(keysA, keysB...))
	if err != nil {
		return nil, err
	}
	b["Keys"] = keys
	return marshalRaw(b)
}

// marshalRaw encodes v as JSON without escaping HTML characters, so raw
// values go out as they came in (up to insignificant white space).
func marshalRaw(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
