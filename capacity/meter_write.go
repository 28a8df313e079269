package capacity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// PutItem: the larger of the old and the new item, rounded up to 1 KB; a
// failed condition costs the same. The response holds Attributes only when
// ReturnValues is ALL_OLD, and then the item the put replaced.
func planPutItem(body []byte) (*plan, error) {
	var req struct {
		TableName                   string
		Item                        item
		ReturnValues                string
		ReturnItemCollectionMetrics string
		ExpressionAttributeValues   item
		ReturnConsumedCapacity      string
	}
	if !fastPutItem(body, &req.TableName, &req.Item, &req.ReturnValues, &req.ReturnConsumedCapacity) {
		req.TableName, req.Item, req.ReturnValues, req.ReturnConsumedCapacity = "", nil, "", ""
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, err
		}
	}
	p := &plan{tables: []string{req.TableName}, write: true, returnCapacity: req.ReturnConsumedCapacity,
		keys: map[string][]item{req.TableName: {req.Item}}, where: "Item"}
	metricsAsked := req.ReturnItemCollectionMetrics != "" && req.ReturnItemCollectionMetrics != returnNone
	p.values = expressionValues(req.ExpressionAttributeValues)
	returnOld := req.ReturnValues == returnAllOld
	if !returnOld && req.ReturnValues != "" && req.ReturnValues != returnNone {
		p.invalid = validationError("Return values set to invalid value: PutItem's ReturnValues must be NONE or ALL_OLD, got %q",
			req.ReturnValues)
	}
	p.run = func(ctx context.Context, x *executor) (*backendResponse, []tableUsage, error) {
		newSize, errNew := p.itemSize(req.TableName, 0, req.Item)
		key := x.keyOf(req.TableName, req.Item)
		defer x.lock(true, keyRef{req.TableName, key})()
		var (
			old     item
			oldSize int
			errOld  error
		)
		if returnOld {
			// The old item itself is needed, not only its size.
			old, oldSize, errOld = x.readItem(ctx, req.TableName, key)
		} else {
			old, oldSize, errOld = x.priorItem(ctx, req.TableName, key)
		}

		resp, err := x.forward(ctx)
		x.settle(req.TableName, key, resp, newSize)
		if err != nil || !(succeeded(resp) || conditionFailed(resp)) {
			return resp, nil, err
		}
		u := tableUsage{table: req.TableName, writeUnits: WriteUnits(max(oldSize, newSize))}
		var errIndex error
		if succeeded(resp) {
			u.indexes = x.indexWrites(req.TableName, old, req.Item, false)
			errIndex = x.unstale(ctx, req.TableName, key, old, req.Item)
			// The embedded engine echoes the new item whatever ReturnValues
			// says; DynamoDB returns the old one, and only when asked.
			switch {
			case returnOld:
				resp.body = withAttributes(resp.body, old)
			case !metricsAsked:
				// Attributes is all a PutItem answer holds besides
				// ConsumedCapacity, which the endpoint adds itself, and
				// ItemCollectionMetrics, which was not asked for.
				resp.body = emptyObject
			default:
				resp.body = withAttributes(resp.body, nil)
			}
		}
		return resp, []tableUsage{u}, errors.Join(errNew, errOld, errIndex)
	}
	return p, nil
}

// ReturnValues values.
const (
	returnNone   = "NONE"
	returnAllOld = "ALL_OLD"
)

// emptyObject is the answer of a successful call with nothing to say.
var emptyObject = []byte("{}")

// expressionValues returns a request's ExpressionAttributeValues for
// plan.values, nil when there are none.
func expressionValues(values item) map[string]item {
	if len(values) == 0 {
		return nil
	}
	return map[string]item{"ExpressionAttributeValues": values}
}

// withAttributes sets a successful write response's Attributes to attrs,
// or drops them when attrs is nil.
func withAttributes(body []byte, attrs item) []byte {
	var out map[string]json.RawMessage
	if json.Unmarshal(body, &out) != nil || out == nil {
		return body
	}
	if attrs == nil {
		if _, ok := out["Attributes"]; !ok {
			return body
		}
		delete(out, "Attributes")
	} else {
		raw, err := json.Marshal(attrs)
		if err != nil {
			return body
		}
		out["Attributes"] = raw
	}
	rewritten, err := json.Marshal(out)
	if err != nil {
		return body
	}
	return rewritten
}

// UpdateItem: the larger of the item before and after the update; a failed
// condition costs the larger of the item as it is and the item the update
// would have produced, which a scratch engine works out (scratch.go). An
// update whose result is over MaxItemBytes is undone (the old item written
// back) and refused with DynamoDB's ValidationException, charged nothing.
func planUpdateItem(body []byte) (*plan, error) {
	req, p, err := planKeyedWrite(body)
	if err != nil {
		return nil, err
	}
	p.run = func(ctx context.Context, x *executor) (*backendResponse, []tableUsage, error) {
		defer x.lock(true, keyRef{req.TableName, req.Key})()
		// The old item itself, to write back an update that makes it too large.
		old, oldSize, errOld := x.readItem(ctx, req.TableName, req.Key)

		// When the update went as a put, applyUpdate computed the item it
		// writes (or, on a failed condition, would have written).
		resp, updated, newSize, err := x.applyUpdate(ctx, req.TableName, old, errOld == nil)
		if err != nil || !(succeeded(resp) || conditionFailed(resp)) {
			x.settle(req.TableName, req.Key, resp, 0)
			return resp, nil, err
		}
		var errNew error
		switch {
		case updated != nil:
		case succeeded(resp):
			updated, newSize, errNew = x.readItem(ctx, req.TableName, req.Key)
		case errOld == nil:
			var update map[string]json.RawMessage
			if errNew = json.Unmarshal(body, &update); errNew == nil {
				_, newSize, errNew = x.wouldUpdate(ctx, req.TableName, old, update)
			}
		}
		if succeeded(resp) && errNew == nil && errOld == nil && newSize > MaxItemBytes {
			errUndo := x.restore(ctx, req.TableName, req.Key, old)
			x.settle(req.TableName, req.Key, resp, oldSize)
			if errUndo != nil {
				x.forget([]keyRef{{req.TableName, req.Key}})
			}
			return errorResponse(errItemTooLarge), nil, errUndo
		}
		x.settle(req.TableName, req.Key, resp, newSize)
		if errNew != nil && succeeded(resp) {
			x.forget([]keyRef{{req.TableName, req.Key}})
		}
		u := tableUsage{table: req.TableName, writeUnits: WriteUnits(max(oldSize, newSize))}
		var errIndex error
		if succeeded(resp) {
			u.indexes = x.indexWrites(req.TableName, old, updated, false)
			errIndex = x.unstale(ctx, req.TableName, req.Key, old, updated)
		}
		return resp, []tableUsage{u}, errors.Join(errOld, errNew, errIndex)
	}
	return p, nil
}

// wouldUpdate returns the item that update (an UpdateItem request or a
// transaction's Update, in wire form) would make of old, the item now under
// its key in table, regardless of its condition, and that item's size.
func (x *executor) wouldUpdate(
	ctx context.Context, table string, old item, update map[string]json.RawMessage,
) (item, int, error) {
	t := x.states[table]
	if t == nil || len(t.keys) == 0 {
		return nil, 0, fmt.Errorf("table %s: key schema unknown, cannot work out the update", table)
	}
	return scratchUpdate(ctx, t.keys, old, update)
}

// keyedWrite is the part of an UpdateItem or DeleteItem request the meter
// reads: one item, by key, of one table.
type keyedWrite struct {
	TableName                 string
	Key                       item
	ExpressionAttributeValues item
	ReturnConsumedCapacity    string
}

// planKeyedWrite decodes an UpdateItem or DeleteItem request and starts its
// plan; the caller sets p.run.
func planKeyedWrite(body []byte) (keyedWrite, *plan, error) {
	var req keyedWrite
	if err := json.Unmarshal(body, &req); err != nil {
		return req, nil, err
	}
	p := &plan{tables: []string{req.TableName}, write: true, returnCapacity: req.ReturnConsumedCapacity,
		keys: map[string][]item{req.TableName: {req.Key}}, where: "Key"}
	p.values = expressionValues(req.ExpressionAttributeValues)
	return req, p, nil
}

// restore puts back old, the item under key before a write the endpoint
// refuses after the backend made it, or deletes the item when there was
// none. The caller holds the item's key lock.
func (x *executor) restore(ctx context.Context, table string, key, old item) error {
	op, body := "PutItem", map[string]any{"TableName": table, "Item": old}
	if old != nil && x.embedded() && x.indexed(table) {
		// A put of an item without an index's key leaves the embedded
		// engine's index entry behind; deleting first removes it.
		if err := x.restore(ctx, table, key, nil); err != nil {
			return err
		}
	}
	if old == nil {
		op, body = "DeleteItem", map[string]any{"TableName": table, "Key": key}
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	resp, err := x.call(ctx, op, raw)
	if err != nil {
		return err
	}
	if !succeeded(resp) {
		return fmt.Errorf("internal %s restoring %s: status %d: %s", op, table, resp.status, errorType(resp.body))
	}
	return nil
}

// DeleteItem: the deleted item's size, rounded up to 1 KB; deleting nothing
// or failing a condition costs the same rule (at least one unit).
func planDeleteItem(body []byte) (*plan, error) {
	req, p, err := planKeyedWrite(body)
	if err != nil {
		return nil, err
	}
	p.run = func(ctx context.Context, x *executor) (*backendResponse, []tableUsage, error) {
		defer x.lock(true, keyRef{req.TableName, req.Key})()
		old, oldSize, errOld := x.priorItem(ctx, req.TableName, req.Key)

		resp, err := x.forward(ctx)
		x.settle(req.TableName, req.Key, resp, 0)
		if err != nil || !(succeeded(resp) || conditionFailed(resp)) {
			return resp, nil, err
		}
		u := tableUsage{table: req.TableName, writeUnits: WriteUnits(oldSize)}
		if succeeded(resp) {
			u.indexes = x.indexWrites(req.TableName, old, nil, false)
		}
		return resp, []tableUsage{u}, errOld
	}
	return p, nil
}

// writeRequest is one BatchWriteItem entry.
type writeRequest struct {
	PutRequest    *struct{ Item item }
	DeleteRequest *struct{ Key item }
}

// BatchWriteItem: each put or delete like PutItem or DeleteItem, rounded
// separately; unprocessed entries cost nothing.
func planBatchWrite(body []byte) (*plan, error) {
	var req struct {
		RequestItems           map[string][]writeRequest
		ReturnConsumedCapacity string
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	p := &plan{tables: sortedKeys(req.RequestItems), write: true,
		returnCapacity: req.ReturnConsumedCapacity, list: true, items: map[string]int{}, where: "RequestItems"}
	p.keys = map[string][]item{}
	for table, writes := range req.RequestItems {
		p.items[table] = len(writes)
		for _, w := range writes {
			switch {
			case w.PutRequest != nil:
				p.keys[table] = append(p.keys[table], w.PutRequest.Item)
			case w.DeleteRequest != nil:
				p.keys[table] = append(p.keys[table], w.DeleteRequest.Key)
			}
		}
	}
	p.invalid = checkBatchSizes(p.items, maxBatchWrites)
	p.run = func(ctx context.Context, x *executor) (*backendResponse, []tableUsage, error) {
		type entry struct {
			table            string
			key              item
			old, new         item
			newSize, oldSize int
		}
		var entries []entry
		var refs []keyRef
		var errs []error
		for _, table := range p.tables {
			for _, w := range req.RequestItems[table] {
				en := entry{table: table}
				switch {
				case w.PutRequest != nil:
					en.key = x.keyOf(table, w.PutRequest.Item)
					en.new = w.PutRequest.Item
					size, err := ItemSize(w.PutRequest.Item)
					en.newSize = size
					errs = append(errs, err)
				case w.DeleteRequest != nil:
					en.key = w.DeleteRequest.Key
				}
				entries = append(entries, en)
				refs = append(refs, keyRef{table, en.key})
			}
		}
		defer x.lock(true, refs...)()
		for i := range entries {
			old, size, err := x.readItem(ctx, entries[i].table, entries[i].key)
			entries[i].old, entries[i].oldSize = old, size
			errs = append(errs, err)
		}

		resp, err := x.forward(ctx)
		x.forget(refs)
		if err != nil || !succeeded(resp) {
			return resp, nil, err
		}
		var out struct{ UnprocessedItems map[string][]writeRequest }
		errs = append(errs, json.Unmarshal(resp.body, &out))
		unprocessed := map[string]bool{}
		for table, ws := range out.UnprocessedItems {
			for _, w := range ws {
				if w.PutRequest != nil {
					unprocessed[table+"\x00"+keyString(x.keyOf(table, w.PutRequest.Item))] = true
				} else if w.DeleteRequest != nil {
					unprocessed[table+"\x00"+keyString(w.DeleteRequest.Key)] = true
				}
			}
		}

		var used []tableUsage
		for _, en := range entries {
			if en.key != nil && unprocessed[en.table+"\x00"+keyString(en.key)] {
				continue
			}
			used = append(used, tableUsage{table: en.table, writeUnits: WriteUnits(max(en.oldSize, en.newSize)),
				indexes: x.indexWrites(en.table, en.old, en.new, false)})
			errs = append(errs, x.unstale(ctx, en.table, en.key, en.old, en.new))
		}
		return resp, used, errors.Join(errs...)
	}
	return p, nil
}

// transactAction is where one action of a TransactWriteItems request is,
// and the action itself when it is an Update.
type transactAction struct {
	position int // index in TransactItems
	update   map[string]json.RawMessage
}

// transactionTooLarge is DynamoDB's cancellation of a transaction of n
// actions whose action at position would make an item too large (API
// TransactWriteItems, "Validation Error").
func transactionTooLarge(n, position int) *backendResponse {
	type reason struct {
		Code    string
		Message string `json:",omitempty"`
	}
	reasons := make([]reason, n)
	codes := make([]string, n)
	for i := range reasons {
		reasons[i].Code, codes[i] = "None", "None"
	}
	reasons[position] = reason{Code: "ValidationError", Message: "Item size to update has exceeded the maximum allowed size"}
	codes[position] = "ValidationError"
	body, _ := json.Marshal(struct {
		Type                string `json:"__type"`
		Message             string
		CancellationReasons []reason
	}{
		Type: errorTypePrefix + "TransactionCanceledException",
		Message: "Transaction cancelled, please refer cancellation reasons for specific reasons [" +
			strings.Join(codes, ", ") + "]",
		CancellationReasons: reasons,
	})
	return &backendResponse{status: http.StatusBadRequest,
		header: http.Header{"Content-Type": {amzJSONContentType}}, body: body}
}

// TransactWriteItems: each action as a transactional write (two units per
// 1 KB) of the larger of the item before and after. A transaction cancelled
// because a condition failed is charged the same, as a failed conditional
// write is; one cancelled for any other reason is charged nothing. A
// ConditionCheck is charged as a transactional write of the checked item.
// AWS's pages state none of these for transactions (docs/capacity-model.md).
func planTransactWrite(body []byte) (*plan, error) {
	type target struct {
		TableName string
		Key       item
		Item      item
	}
	var req struct {
		TransactItems []struct {
			Put, Update, Delete, ConditionCheck *target
		}
		ReturnConsumedCapacity string
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	// The Updates as sent, for working out their results.
	var updates struct {
		TransactItems []struct{ Update map[string]json.RawMessage }
	}
	if err := json.Unmarshal(body, &updates); err != nil {
		return nil, err
	}
	var targets []*target
	var actions []transactAction // beside targets
	for i, ti := range req.TransactItems {
		for _, t := range []*target{ti.Put, ti.Update, ti.Delete, ti.ConditionCheck} {
			if t != nil {
				targets = append(targets, t)
				a := transactAction{position: i}
				if t == ti.Update {
					a.update = updates.TransactItems[i].Update
				}
				actions = append(actions, a)
			}
		}
	}
	var names []keyRef
	for _, t := range targets {
		names = append(names, keyRef{table: t.TableName})
	}
	p := &plan{tables: refTables(names), write: true, returnCapacity: req.ReturnConsumedCapacity, list: true,
		items: itemCounts(names), keys: map[string][]item{}, where: "TransactItems"}
	for _, t := range targets {
		k := t.Key
		if t.Item != nil {
			k = t.Item
		}
		p.keys[t.TableName] = append(p.keys[t.TableName], k)
	}
	p.run = func(ctx context.Context, x *executor) (*backendResponse, []tableUsage, error) {
		var errs []error
		refs := make([]keyRef, len(targets))
		newSizes := make([]int, len(targets))
		for i, t := range targets {
			refs[i] = keyRef{t.TableName, t.Key}
			if t.Item != nil {
				refs[i].key = x.keyOf(t.TableName, t.Item)
				size, err := ItemSize(t.Item)
				newSizes[i] = size
				errs = append(errs, err)
			}
		}
		defer x.lock(true, refs...)()
		oldSizes := make([]int, len(targets))
		olds := make([]item, len(targets))
		for i, r := range refs {
			old, size, err := x.readItem(ctx, r.table, r.key)
			olds[i], oldSizes[i] = old, size
			errs = append(errs, err)
		}
		// DynamoDB cancels a transaction whose Update would make an item
		// larger than MaxItemBytes; the engine may not. On the embedded
		// engine an Update that moves its item in an index, or removes a
		// top-level attribute, goes as a Put (indexfix.go).
		puts := map[int]map[string]json.RawMessage{}
		wantOld := map[int]item{} // by position: the old item of a Put that asks for it
		for i, a := range actions {
			if a.update == nil {
				continue
			}
			if x.embedded() && removesTopLevel(a.update) {
				if e := checkRemoveUpdate(a.update); e != nil {
					return errorResponse(e), nil, errors.Join(errs...)
				}
			}
			updated, size, err := x.wouldUpdate(ctx, refs[i].table, olds[i], a.update)
			errs = append(errs, err)
			if err != nil {
				continue
			}
			newSizes[i] = size
			if size > MaxItemBytes {
				return transactionTooLarge(len(req.TransactItems), a.position), nil, errors.Join(errs...)
			}
			if x.embedded() && (removesTopLevel(a.update) || x.movesInIndex(refs[i].table, olds[i], updated)) {
				put, err := putForUpdate(a.update, updated)
				errs = append(errs, err)
				if err == nil {
					puts[a.position] = put
				}
				if wantsOld(a.update) {
					wantOld[a.position] = olds[i]
				}
			}
		}

		body := x.body
		if len(puts) > 0 {
			rewritten, err := transactUpdatesAsPuts(body, puts)
			errs = append(errs, err)
			if err == nil {
				body = rewritten
			}
		}
		resp, err := x.call(ctx, x.op, body)
		x.forget(refs)
		if err == nil && len(wantOld) > 0 && errorType(resp.body) == "TransactionCanceledException" {
			resp.body, err = withOldItems(resp.body, wantOld)
		}
		if err == nil && transactionConditionFailed(resp) {
			// A failed condition still consumes write capacity: each action
			// as the transactional write it would have been, with no index
			// writes, as nothing was written.
			used := make([]tableUsage, len(refs))
			for i, r := range refs {
				used[i] = tableUsage{table: r.table, writeUnits: TransactionalWriteUnits(max(oldSizes[i], newSizes[i]))}
			}
			return resp, used, errors.Join(errs...)
		}
		if err != nil || !succeeded(resp) {
			return resp, nil, err
		}
		var used []tableUsage
		for i, r := range refs {
			size := max(oldSizes[i], newSizes[i])
			var after item
			if targets[i].Item != nil {
				after = targets[i].Item
			} else if targets[i].Key != nil {
				// Update, Delete and ConditionCheck: read what is there now.
				var n int
				var err error
				after, n, err = x.readItem(ctx, r.table, r.key)
				errs = append(errs, err)
				size = max(size, n)
			}
			// A ConditionCheck leaves the item as it was: no index writes.
			used = append(used, tableUsage{table: r.table, writeUnits: TransactionalWriteUnits(size),
				indexes: x.indexWrites(r.table, olds[i], after, true)})
			errs = append(errs, x.unstale(ctx, r.table, r.key, olds[i], after))
		}
		return resp, used, errors.Join(errs...)
	}
	return p, nil
}

// transactionConditionFailed reports whether resp cancels a transaction
// because one of its conditions failed.
func transactionConditionFailed(resp *backendResponse) bool {
	return resp.status == http.StatusBadRequest && errorType(resp.body) == "TransactionCanceledException" &&
		bytes.Contains(resp.body, []byte(`"ConditionalCheckFailed"`))
}
