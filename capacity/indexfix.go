package capacity

import (
	"context"
	"encoding/json"
	"fmt"
)

// The embedded engine, minidyn v0.8.2, keeps a secondary index as a sorted
// list of index keys beside a map from item to index key. When an UpdateItem
// (or a transaction's Update) gives an item the index's key attributes it
// did not have, the engine looks for the item's old index key, "", in that
// list, finds position 0 and overwrites whatever entry is there
// (core/index.go, updateData); the list and the map then disagree, and index
// queries drop items. A PutItem of the same item keeps both right.
//
// So on the embedded engine, an update that would make an item enter a
// secondary index or change its key there, or that removes a top-level
// attribute (which the engine ignores, see remove.go), is applied as a conditional
// PutItem of the item the update produces (worked out by the scratch
// engine, under the item's key lock), with the update's condition. Any
// other update, and every update on another backend, is forwarded as sent.
//
// The engine has a second such fault: a write that takes an item out of an
// index (a put of the item without the index's key attributes) leaves the
// item's index entry behind, and deleting the item later removes it from
// the map but not from the list, which then drops other items. After such a
// write succeeds the endpoint clears the entry (see unstale).

// embedded reports whether the backend is minidyn in-process.
func (x *executor) embedded() bool {
	b, ok := x.e.backend.(handlerBackend)
	return ok && b.minidyn()
}

// movesInIndex reports whether an item changing from old to new (nil for
// none) enters one of table's secondary indexes or changes its key there.
func (x *executor) movesInIndex(table string, old, new item) bool {
	t := x.states[table]
	if t == nil {
		return false
	}
	for _, ix := range t.indexes {
		if ix.holds(new) && (!ix.holds(old) || !sameAttributes(old, new, ix.keys)) {
			return true
		}
	}
	return false
}

// removesTopLevel reports whether update has a REMOVE clause naming a
// top-level attribute, which the embedded engine ignores (remove.go).
func removesTopLevel(update map[string]json.RawMessage) bool {
	names, err := removedNames(update)
	return err == nil && len(names) > 0
}

// putForUpdate returns the PutItem request (or a transaction's Put) that
// writes updated, the item update produces, under update's condition.
func putForUpdate(update map[string]json.RawMessage, updated item) (map[string]json.RawMessage, error) {
	put := map[string]json.RawMessage{}
	for _, k := range []string{"TableName", "ConditionExpression", "Expected", "ConditionalOperator",
		"ExpressionAttributeNames", "ExpressionAttributeValues", "ReturnValuesOnConditionCheckFailure"} {
		if v, ok := update[k]; ok {
			put[k] = v
		}
	}
	raw, err := json.Marshal(updated)
	if err != nil {
		return nil, err
	}
	put["Item"] = raw
	pruneUnused(put, "ConditionExpression")
	return put, nil
}

// applyUpdate sends the client's UpdateItem, or on the embedded engine the
// PutItem that does the same when the update moves the item in an index
// (see above). old is the item now under the key, known only when known is
// set. When it sends the put it also returns the item the update makes
// (written, or on a failed condition the one it would have written) and
// its size, which the caller then need not read or compute again; else
// updated is nil. The caller holds the item's key lock.
func (x *executor) applyUpdate(
	ctx context.Context, table string, old item, known bool,
) (resp *backendResponse, updated item, size int, err error) {
	if !known || !x.embedded() || (!x.indexed(table) && !mentionsRemove(x.body)) {
		resp, err = x.forward(ctx)
		return resp, nil, 0, err
	}
	var update map[string]json.RawMessage
	if json.Unmarshal(x.body, &update) != nil {
		resp, err = x.forward(ctx)
		return resp, nil, 0, err
	}
	removes := removesTopLevel(update)
	if !removes && !x.indexed(table) {
		resp, err = x.forward(ctx)
		return resp, nil, 0, err
	}
	if removes {
		if e := checkRemoveUpdate(update); e != nil {
			return errorResponse(e), nil, 0, nil
		}
	}
	updated, size, err = x.wouldUpdate(ctx, table, old, update)
	if err != nil || !(removes || x.movesInIndex(table, old, updated)) {
		// An update the scratch engine refuses gets the backend's own
		// answer.
		resp, err = x.forward(ctx)
		return resp, nil, 0, err
	}

	put, err := putForUpdate(update, updated)
	if err != nil {
		return nil, nil, 0, err
	}
	body, err := json.Marshal(put)
	if err != nil {
		return nil, nil, 0, err
	}
	resp, err = x.call(ctx, "PutItem", body)
	if err == nil && conditionFailed(resp) && wantsOld(update) {
		resp.body, err = withOldItem(resp.body, old)
	}
	if err != nil || !succeeded(resp) {
		return resp, updated, size, err
	}
	var rv string
	_ = json.Unmarshal(update["ReturnValues"], &rv)
	resp.body, err = updateAnswer(rv, old, updated)
	return resp, updated, size, err
}

// updateAnswer is a successful UpdateItem's answer for ReturnValues rv when
// the item went from old to new. UPDATED_OLD and UPDATED_NEW name the
// attributes whose values changed or that were removed, which is what an
// update expression names unless it sets an attribute to the value it has.
func updateAnswer(rv string, old, new item) ([]byte, error) {
	var attrs item
	switch rv {
	case "ALL_NEW":
		attrs = new
	case "ALL_OLD":
		attrs = old
	case "UPDATED_NEW", "UPDATED_OLD":
		attrs = item{}
		if rv == "UPDATED_OLD" {
			// Attributes the update removed.
			for name, was := range old {
				if _, ok := new[name]; !ok {
					attrs[name] = was
				}
			}
		}
		for name, v := range new {
			if was, ok := old[name]; ok && equalJSON(was, v) {
				continue
			}
			if rv == "UPDATED_NEW" {
				attrs[name] = v
			} else if was, ok := old[name]; ok {
				attrs[name] = was
			}
		}
	}
	if len(attrs) == 0 {
		return emptyObject, nil
	}
	return json.Marshal(map[string]item{"Attributes": attrs})
}

// wantsOld reports whether update asks for the old item when its condition
// fails (ReturnValuesOnConditionCheckFailure ALL_OLD).
func wantsOld(update map[string]json.RawMessage) bool {
	var rv string
	_ = json.Unmarshal(update["ReturnValuesOnConditionCheckFailure"], &rv)
	return rv == "ALL_OLD"
}

// withOldItem returns the ConditionalCheckFailedException body with old, the
// item the condition was checked against, as its Item, as the engine answers
// an UpdateItem; an absent item adds nothing.
func withOldItem(body []byte, old item) ([]byte, error) {
	if len(old) == 0 {
		return body, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, fmt.Errorf("condition failure answer: %w", err)
	}
	raw, err := json.Marshal(old)
	if err != nil {
		return nil, err
	}
	fields["Item"] = raw
	return json.Marshal(fields)
}

// withOldItems returns the TransactionCanceledException body with, for each
// position of olds whose reason is a failed condition, the old item as the
// reason's Item.
func withOldItems(body []byte, olds map[int]item) ([]byte, error) {
	var fields map[string]json.RawMessage
	var reasons []map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, fmt.Errorf("cancelled transaction answer: %w", err)
	}
	if err := json.Unmarshal(fields["CancellationReasons"], &reasons); err != nil {
		return nil, fmt.Errorf("cancelled transaction answer: CancellationReasons: %w", err)
	}
	for pos, old := range olds {
		var code string
		if pos >= len(reasons) || len(old) == 0 || json.Unmarshal(reasons[pos]["Code"], &code) != nil ||
			code != "ConditionalCheckFailed" {
			continue
		}
		raw, err := json.Marshal(old)
		if err != nil {
			return nil, err
		}
		reasons[pos]["Item"] = raw
	}
	raw, err := json.Marshal(reasons)
	if err != nil {
		return nil, err
	}
	fields["CancellationReasons"] = raw
	return json.Marshal(fields)
}

// transactUpdatesAsPuts returns the TransactWriteItems body with the
// Updates at the positions of puts replaced by those Puts.
func transactUpdatesAsPuts(body []byte, puts map[int]map[string]json.RawMessage) ([]byte, error) {
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	var actions []map[string]json.RawMessage
	if err := json.Unmarshal(req["TransactItems"], &actions); err != nil {
		return nil, err
	}
	for pos, put := range puts {
		raw, err := json.Marshal(put)
		if err != nil {
			return nil, err
		}
		delete(actions[pos], "Update")
		actions[pos]["Put"] = raw
	}
	raw, err := json.Marshal(actions)
	if err != nil {
		return nil, err
	}
	req["TransactItems"] = raw
	return json.Marshal(req)
}

// unstale clears, on the embedded engine, the index entries a successful
// write of new (nil for a delete) over old left behind in the indexes new
// is no longer in: it puts the item with its old index keys back, which
// the engine files where the stale entry is, deletes it, which removes
// that entry, and puts new again. The caller holds the item's key lock.
func (x *executor) unstale(ctx context.Context, table string, key, old, new item) error {
	t := x.states[table]
	if key == nil || new == nil || old == nil || t == nil || !x.embedded() {
		return nil
	}
	var ghost item
	for _, ix := range t.indexes {
		if !ix.holds(old) || ix.holds(new) {
			continue
		}
		if ghost == nil {
			ghost = make(item, len(new)+len(ix.keys))
			for k, v := range new {
				ghost[k] = v
			}
		}
		for _, k := range ix.keys {
			ghost[k] = old[k]
		}
	}
	if ghost == nil {
		return nil
	}
	steps := []struct {
		op   string
		body map[string]any
	}{
		{"PutItem", map[string]any{"TableName": table, "Item": ghost}},
		{"DeleteItem", map[string]any{"TableName": table, "Key": key}},
		{"PutItem", map[string]any{"TableName": table, "Item": new}},
	}
	for _, st := range steps {
		body, err := json.Marshal(st.body)
		if err != nil {
			return err
		}
		resp, err := x.call(ctx, st.op, body)
		if err != nil {
			return fmt.Errorf("clearing a stale index entry of %s: %w", table, err)
		}
		if !succeeded(resp) {
			return fmt.Errorf("clearing a stale index entry of %s: internal %s: status %d: %s",
				table, st.op, resp.status, errorType(resp.body))
		}
	}
	return nil
}
