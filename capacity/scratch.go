package capacity

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/truora/minidyn/server"
)

// scratch is a private in-process minidyn engine that works out what an
// update expression makes of an item, whatever the endpoint's backend: the
// endpoint puts the item there, applies the update without its condition,
// reads the result and deletes it again. It answers what DynamoDB sizes
// without writing it: the item a failed conditional update would have
// produced, and whether a transaction's update would exceed MaxItemBytes.
//
// A scratch is used by one call at a time; scratches are pooled.
type scratch struct {
	engine handlerBackend
	tables map[string]bool // scratch tables created, by name
}

var scratches = sync.Pool{New: func() any {
	return &scratch{engine: handlerBackend{handler: server.NewServer(), contextFree: true},
		tables: map[string]bool{}}
}}

// updateDropped are the members of an UpdateItem request (or a transaction's
// Update) the scratch run leaves out: the condition and what only answers
// the client.
var updateDropped = []string{"ConditionExpression", "Expected", "ConditionalOperator",
	"ReturnValues", "ReturnValuesOnConditionCheckFailure", "ReturnConsumedCapacity",
	"ReturnItemCollectionMetrics"}

// scratchUpdate returns the item update (an UpdateItem request, or a
// transaction's Update, in wire form) would make of old (nil for none),
// ignoring its condition, and the new item's size. keyNames are the
// table's key attributes. The caller holds the item's key lock, so old is
// what the update would find.
func scratchUpdate(
	ctx context.Context, keyNames []string, old item, update map[string]json.RawMessage,
) (item, int, error) {
	sc := scratches.Get().(*scratch)
	defer scratches.Put(sc)

	var key item
	if err := json.Unmarshal(update["Key"], &key); err != nil || len(key) == 0 {
		return nil, 0, fmt.Errorf("scratch update: no Key: %v", err)
	}
	table, err := sc.table(ctx, keyNames, key)
	if err != nil {
		return nil, 0, err
	}
	name, _ := json.Marshal(table)
	keyBody, _ := json.Marshal(map[string]any{"TableName": table, "Key": key})
	// Clean up; should it fail, the next use of the key overwrites the item.
	defer func() { _ = sc.call(ctx, "DeleteItem", keyBody, nil) }()

	if old != nil {
		body, err := json.Marshal(map[string]any{"TableName": table, "Item": old})
		if err != nil {
			return nil, 0, err
		}
		if err := sc.call(ctx, "PutItem", body, nil); err != nil {
			return nil, 0, err
		}
	}

	req := make(map[string]json.RawMessage, len(update))
	for k, v := range update {
		req[k] = v
	}
	for _, k := range updateDropped {
		delete(req, k)
	}
	req["TableName"] = name
	pruneUnused(req, "UpdateExpression")
	body, err := json.Marshal(req)
	if err != nil {
		return nil, 0, err
	}
	if err := sc.call(ctx, "UpdateItem", body, nil); err != nil {
		return nil, 0, err
	}

	var out struct{ Item item }
	if err := sc.call(ctx, "GetItem", keyBody, &out); err != nil {
		return nil, 0, err
	}
	// The engine keeps the top-level attributes REMOVE names (remove.go).
	removed, err := removedNames(update)
	if err != nil {
		return nil, 0, fmt.Errorf("scratch update: %w", err)
	}
	for _, n := range removed {
		if slices.Contains(keyNames, n) {
			return nil, 0, fmt.Errorf("scratch update: REMOVE %s: %s is part of the key", n, n)
		}
	}
	updated := withoutNames(out.Item, removed)
	size, err := ItemSize(updated)
	return updated, size, err
}

// table returns the scratch table for keyNames, whose attribute types are
// those of key's values, creating it on first use.
func (sc *scratch) table(ctx context.Context, keyNames []string, key item) (string, error) {
	var defs []map[string]string
	var schema []map[string]string
	sig := fnv.New64a()
	for i, n := range keyNames {
		var v map[string]json.RawMessage
		if err := json.Unmarshal(key[n], &v); err != nil || len(v) != 1 {
			return "", fmt.Errorf("scratch update: key attribute %q is not an attribute value", n)
		}
		typ := ""
		for t := range v {
			typ = t
		}
		kind := "HASH"
		if i > 0 {
			kind = "RANGE"
		}
		defs = append(defs, map[string]string{"AttributeName": n, "AttributeType": typ})
		schema = append(schema, map[string]string{"AttributeName": n, "KeyType": kind})
		fmt.Fprintf(sig, "%s\x00%s\x00", n, typ)
	}
	name := fmt.Sprintf("scratch%016x", sig.Sum64())
	if sc.tables[name] {
		return name, nil
	}
	body, err := json.Marshal(map[string]any{"TableName": name, "AttributeDefinitions": defs,
		"KeySchema": schema, "BillingMode": "PAY_PER_REQUEST"})
	if err != nil {
		return "", err
	}
	if err := sc.call(ctx, "CreateTable", body, nil); err != nil {
		return "", err
	}
	sc.tables[name] = true
	return name, nil
}

// call sends one operation to the scratch engine and decodes its answer
// into out when out is not nil; an error answer is an error.
func (sc *scratch) call(ctx context.Context, op string, body []byte, out any) error {
	resp, err := sc.engine.call(ctx, op, body)
	if err != nil {
		return fmt.Errorf("scratch %s: %w", op, err)
	}
	defer resp.release()
	if resp.status != http.StatusOK {
		return fmt.Errorf("scratch %s: status %d: %s: %s", op, resp.status, errorType(resp.body),
			strings.TrimSpace(string(resp.body)))
	}
	if out != nil {
		if err := json.Unmarshal(resp.body, out); err != nil {
			return fmt.Errorf("scratch %s: %w", op, err)
		}
	}
	return nil
}

// pruneUnused drops from req's ExpressionAttributeNames and
// ExpressionAttributeValues the placeholders that the expressions named by
// fields do not use: DynamoDB engines reject unused ones.
func pruneUnused(req map[string]json.RawMessage, fields ...string) {
	var exprs []string
	for _, f := range fields {
		var expr string
		_ = json.Unmarshal(req[f], &expr)
		exprs = append(exprs, expr)
	}
	for field, unused := range unusedRefs(req, exprs...) {
		var m map[string]json.RawMessage
		_ = json.Unmarshal(req[field], &m)
		for _, ref := range unused {
			delete(m, ref)
		}
		if len(m) == 0 {
			delete(req, field)
			continue
		}
		req[field], _ = json.Marshal(m)
	}
}

// placeholderFields are the members of a request that hold an
// expression's #name and :value placeholders.
var placeholderFields = []string{"ExpressionAttributeNames", "ExpressionAttributeValues"}

// unusedRefs returns, for each of placeholderFields in req, the
// placeholders that none of exprs uses, sorted; fields with none are
// absent.
func unusedRefs(req map[string]json.RawMessage, exprs ...string) map[string][]string {
	used := map[string]bool{}
	for _, expr := range exprs {
		for _, ref := range expressionRef.FindAllString(expr, -1) {
			used[ref] = true
		}
	}
	out := map[string][]string{}
	for _, field := range placeholderFields {
		var m map[string]json.RawMessage
		if json.Unmarshal(req[field], &m) != nil {
			continue
		}
		for ref := range m {
			if !used[ref] {
				out[field] = append(out[field], ref)
			}
		}
		slices.Sort(out[field])
	}
	return out
}
