package capacity

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
)

// plan is one parsed data-plane call: what admission needs to know and how
// to run and meter it.
type plan struct {
	tables         []string          // tables the call touches, sorted
	write          bool              // consumes write capacity (else read)
	returnCapacity string            // the request's ReturnConsumedCapacity
	list           bool              // ConsumedCapacity is a list (batch and transaction calls)
	items          map[string]int    // items asked of each table; absent means 1
	keys           map[string][]item // per table, the items (or keys) named, for partitions
	index          string            // the index a Query or Scan reads, "" for the table

	// where names the entries of keys in error messages ("Item", "Key").
	where string
	// values are further attribute values to validate, by where they are
	// in the request (ExpressionAttributeValues).
	values map[string]item
	// invalid is why the request is refused before anything else, nil when
	// it passed the checks that need no table.
	invalid *apiError
	// sizes are the sizes check found for a write's items, parallel to
	// keys; see itemSize.
	sizes map[string][]int

	// run forwards the call and returns the response and what it consumed.
	// It returns usage even with an error (the minimum, when sizes could not
	// be read); a nil response means the backend could not be called.
	run func(ctx context.Context, x *executor) (*backendResponse, []tableUsage, error)
}

// planner parses one operation's request.
type planner func(body []byte) (*plan, error)

// planners are the metered data-plane operations.
var planners = map[string]planner{
	"GetItem":            planGetItem,
	"Query":              planSearch("Query"),
	"Scan":               planSearch("Scan"),
	"BatchGetItem":       planBatchGet,
	"PutItem":            planPutItem,
	"UpdateItem":         planUpdateItem,
	"DeleteItem":         planDeleteItem,
	"BatchWriteItem":     planBatchWrite,
	"TransactGetItems":   planTransactGet,
	"TransactWriteItems": planTransactWrite,
}

// check validates p's attribute values and items before p is admitted:
// every value well-formed, no empty string or binary in a key attribute of
// a table whose key schema is known, no item written over MaxItemBytes.
// A refused request is neither throttled nor charged: DynamoDB documents no
// charge for a request it rejects as invalid (docs/capacity-model.md).
func (p *plan) check(states map[string]*tableState) *apiError {
	if p.invalid != nil {
		return p.invalid
	}
	if bad := checkReturnConsumedCapacity(p.returnCapacity); bad != nil {
		return bad
	}
	for _, table := range p.tables {
		for _, it := range p.keys[table] {
			if err := checkValues(it, p.where); err != nil {
				return err
			}
		}
		if t := states[table]; t != nil {
			if err := checkKeyValues(t.keys, p.keys[table], p.where); err != nil {
				return err
			}
		}
	}
	for where, values := range p.values {
		if err := checkValues(values, where); err != nil {
			return err
		}
	}
	if p.write {
		p.sizes = make(map[string][]int, len(p.tables))
		for _, table := range p.tables {
			for _, it := range p.keys[table] {
				size, err := ItemSize(it)
				if err == nil && size > MaxItemBytes {
					return errItemTooLarge
				}
				if err != nil {
					size = -1
				}
				p.sizes[table] = append(p.sizes[table], size)
			}
		}
	}
	return nil
}

// itemSize is ItemSize of it, entry i of p.keys[table], from what check
// found when it could size it.
func (p *plan) itemSize(table string, i int, it item) (int, error) {
	if sizes := p.sizes[table]; i < len(sizes) && sizes[i] >= 0 {
		return sizes[i], nil
	}
	return ItemSize(it)
}

// errItemTooLarge is DynamoDB's answer to a write of an item over 400 KB.
var errItemTooLarge = validationError("Item size has exceeded the maximum allowed size")

// executor gives a plan the backend: the call itself and unmetered internal
// reads, which are never throttled, charged or recorded.
type executor struct {
	e      *Endpoint
	op     string
	body   []byte
	states map[string]*tableState
	calls  []*backendResponse // every response the plan got, to release
}

// forward sends the client's call.
func (x *executor) forward(ctx context.Context) (*backendResponse, error) {
	return x.call(ctx, x.op, x.body)
}

// call sends one operation to the backend; the response stays valid until
// release.
func (x *executor) call(ctx context.Context, op string, body []byte) (*backendResponse, error) {
	resp, err := x.e.backend.call(ctx, op, body)
	if resp != nil {
		x.calls = append(x.calls, resp)
	}
	return resp, err
}

// release hands back every response the plan got; nothing may use them,
// or anything that aliases their bodies, afterwards.
func (x *executor) release() {
	for _, r := range x.calls {
		r.release()
	}
	x.calls = nil
}

// lock serialises the call against others on the same items.
func (x *executor) lock(exclusive bool, refs ...keyRef) (unlock func()) {
	return x.e.keys.lock(exclusive, refs...)
}

// keyOf extracts an item's primary key using the table's key schema, nil
// when the schema is unknown or the item lacks a key attribute.
func (x *executor) keyOf(table string, item map[string]json.RawMessage) map[string]json.RawMessage {
	t := x.states[table]
	if t == nil || len(t.keys) == 0 {
		return nil
	}
	key := make(map[string]json.RawMessage, len(t.keys))
	for _, name := range t.keys {
		v, ok := item[name]
		if !ok {
			return nil
		}
		key[name] = v
	}
	return key
}

// itemSize reads the whole current item under key with an internal strongly
// consistent GetItem and returns its size, 0 when there is none.
// The size cache answers when it knows the item; the caller holds the
// item's key lock.
func (x *executor) itemSize(ctx context.Context, table string, key map[string]json.RawMessage) (int, error) {
	_, size, err := x.priorItem(ctx, table, key)
	return size, err
}

// readItem reads the whole current item under key with an internal
// strongly consistent GetItem and returns it (nil when there is none) and
// its size.
func (x *executor) readItem(ctx context.Context, table string, key item) (item, int, error) {
	if key == nil {
		return nil, 0, fmt.Errorf("table %s: no primary key to read the item by", table)
	}
	body, err := json.Marshal(map[string]any{"TableName": table, "Key": key, "ConsistentRead": true})
	if err != nil {
		return nil, 0, err
	}
	resp, err := x.call(ctx, "GetItem", body)
	if err != nil {
		return nil, 0, err
	}
	if resp.status != http.StatusOK {
		return nil, 0, fmt.Errorf("internal GetItem on %s: status %d: %s", table, resp.status, errorType(resp.body))
	}
	var out struct{ Item item }
	if err := json.Unmarshal(resp.body, &out); err != nil {
		return nil, 0, fmt.Errorf("internal GetItem on %s: %w", table, err)
	}
	size, err := ItemSize(out.Item)
	return out.Item, size, err
}

// indexed reports whether table has secondary indexes, whose writes need
// the items' contents and not only their sizes.
func (x *executor) indexed(table string) bool {
	t := x.states[table]
	return t != nil && len(t.indexes) > 0
}

// indexWrites returns what a change of one of table's items costs its
// secondary indexes.
func (x *executor) indexWrites(table string, old, new item, transactional bool) []indexUsage {
	return indexWrites(x.states[table], old, new, transactional)
}

// succeeded reports whether resp is a success; conditionFailed whether it is
// a failed condition, which DynamoDB charges like the write it prevented.
func succeeded(resp *backendResponse) bool { return resp.status == http.StatusOK }

func conditionFailed(resp *backendResponse) bool {
	return resp.status == http.StatusBadRequest && errorType(resp.body) == conditionalCheckFailed
}

func consistency(consistentRead bool) Consistency {
	if consistentRead {
		return Strong
	}
	return Eventual
}

func projected(projection string, attributesToGet []string) bool {
	return projection != "" || len(attributesToGet) > 0
}

type item = map[string]json.RawMessage

// without returns keys minus those in drop.
func without(keys, drop []item) []item {
	if len(drop) == 0 {
		return keys
	}
	dropped := map[string]bool{}
	for _, k := range drop {
		dropped[keyString(k)] = true
	}
	var out []item
	for _, k := range keys {
		if !dropped[keyString(k)] {
			out = append(out, k)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func refTables(refs []keyRef) []string {
	var names []string
	for _, r := range refs {
		names = append(names, r.table)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// events returns how many throttle events refusing p counts on table: one
// per item the call asked of it, as DynamoDB counts them.
func (p *plan) events(table string) int {
	if n, ok := p.items[table]; ok && n > 0 {
		return n
	}
	return 1
}

func itemCounts(refs []keyRef) map[string]int {
	out := map[string]int{}
	for _, r := range refs {
		out[r.table]++
	}
	return out
}
