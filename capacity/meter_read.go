package capacity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
)

// GetItem: the whole item's size, rounded up to 4 KB; a missing item still
// costs one step.
func planGetItem(body []byte) (*plan, error) {
	var req struct {
		TableName              string
		Key                    item
		ConsistentRead         bool
		ProjectionExpression   string
		AttributesToGet        []string
		ReturnConsumedCapacity string
	}
	if !fastGetItem(body, &req.TableName, &req.Key, &req.ConsistentRead, &req.ProjectionExpression,
		&req.ReturnConsumedCapacity) {
		req.TableName, req.Key, req.ConsistentRead, req.ProjectionExpression, req.ReturnConsumedCapacity =
			"", nil, false, "", ""
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, err
		}
	}
	p := &plan{tables: []string{req.TableName}, returnCapacity: req.ReturnConsumedCapacity,
		keys: map[string][]item{req.TableName: {req.Key}}, where: "Key"}
	p.run = func(ctx context.Context, x *executor) (*backendResponse, []tableUsage, error) {
		proj := projected(req.ProjectionExpression, req.AttributesToGet)
		if proj {
			defer x.lock(false, keyRef{req.TableName, req.Key})()
		}
		resp, err := x.forward(ctx)
		if err != nil || !succeeded(resp) {
			return resp, nil, err
		}

		if !proj {
			if size, ok := compactResponseItemSize(resp.body); ok {
				units := ReadUnits(size, consistency(req.ConsistentRead))
				return resp, []tableUsage{{table: req.TableName, readUnits: units}}, nil
			}
		}
		var out struct{ Item item }
		err = json.Unmarshal(resp.body, &out)
		size := 0
		if err == nil && out.Item != nil {
			if proj {
				size, err = x.itemSize(ctx, req.TableName, req.Key)
			} else {
				size, err = ItemSize(out.Item)
			}
		}
		units := ReadUnits(size, consistency(req.ConsistentRead))
		return resp, []tableUsage{{table: req.TableName, readUnits: units}}, err
	}
	return p, nil
}

// expressionRef matches the placeholders of an expression (#name, :value).
var expressionRef = regexp.MustCompile(`[#:][A-Za-z0-9_]+`)

// keyEquality matches the equalities of a key condition expression, such
// as "#pk = :v" or "id=:id".
var keyEquality = regexp.MustCompile(`([#A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)`)

// Query and Scan: the sum of the sizes of every item read (before any filter
// or projection), rounded up to 4 KB once.
//
// A page stops at Limit items or 1 MB read, as DynamoDB's does, whatever the
// backend (see page.go).
func planSearch(op string) planner {
	return func(body []byte) (*plan, error) {
		var raw map[string]json.RawMessage
		var req struct {
			TableName              string
			ConsistentRead         bool
			ProjectionExpression   string
			AttributesToGet        []string
			FilterExpression       string
			Select                 string
			QueryFilter            json.RawMessage
			ScanFilter             json.RawMessage
			ReturnConsumedCapacity string
			IndexName              string
			Limit                  *int64
			Segment                *int64
			TotalSegments          *int64

			KeyConditionExpression    string
			ExpressionAttributeNames  map[string]string
			ExpressionAttributeValues item
			KeyConditions             map[string]struct {
				ComparisonOperator string
				AttributeValueList []json.RawMessage
			}
		}
		if err := json.Unmarshal(body, &raw); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, err
		}
		reshaped := projected(req.ProjectionExpression, req.AttributesToGet) ||
			req.FilterExpression != "" || req.QueryFilter != nil || req.ScanFilter != nil ||
			(req.Select != "" && req.Select != "ALL_ATTRIBUTES")

		p := &plan{tables: []string{req.TableName}, returnCapacity: req.ReturnConsumedCapacity,
			index: req.IndexName, where: "KeyConditionExpression"}
		p.values = expressionValues(req.ExpressionAttributeValues)
		if req.Limit != nil && *req.Limit < 1 {
			p.invalid = validationError("1 validation error detected: Value '%d' at 'limit' failed to satisfy "+
				"constraint: Member must have value greater than or equal to 1", *req.Limit)
		}
		if op == "Scan" && p.invalid == nil {
			p.invalid = checkSegments(req.Segment, req.TotalSegments)
		}
		if op == "Query" {
			// The key condition's equalities name the partition the query
			// reads, for the partition limits.
			eq := item{}
			for _, m := range keyEquality.FindAllStringSubmatch(req.KeyConditionExpression, -1) {
				name := m[1]
				if alias, ok := req.ExpressionAttributeNames[name]; ok {
					name = alias
				}
				if v, ok := req.ExpressionAttributeValues[m[2]]; ok {
					eq[name] = v
				}
			}
			for name, c := range req.KeyConditions {
				if c.ComparisonOperator == "EQ" && len(c.AttributeValueList) == 1 {
					eq[name] = c.AttributeValueList[0]
				}
			}
			p.keys = map[string][]item{req.TableName: {eq}}
		}
		limit := 0
		if req.Limit != nil {
			limit = int(min(*req.Limit, maxLimit))
		}
		p.run = func(ctx context.Context, x *executor) (*backendResponse, []tableUsage, error) {
			if s, ok := x.pageShape(op, req.TableName, req.IndexName, raw, limit); ok {
				return x.searchPage(ctx, s, reshaped, req.ConsistentRead, req.TableName, req.IndexName)
			}
			// Without the key schema there is no LastEvaluatedKey to cut a
			// page at: the backend's page is charged as it is.
			resp, err := x.forward(ctx)
			if err != nil || !succeeded(resp) {
				return resp, nil, err
			}
			read := resp.body
			if reshaped {
				read, err = x.unfiltered(ctx, op, raw)
			}
			total := 0
			if err == nil {
				total, err = itemsSize(read)
			}
			units := ReadUnits(total, consistency(req.ConsistentRead))
			return resp, []tableUsage{x.readUsage(req.TableName, req.IndexName, units)}, err
		}
		return p, nil
	}
}

// maxLimit bounds a Query or Scan Limit for paging; DynamoDB's own Limit is
// an int32.
const maxLimit = 1 << 31

// searchPage runs a Query or Scan as one DynamoDB page (see page.go) and
// charges what the page read, before any filter.
func (x *executor) searchPage(
	ctx context.Context, s searchShape, reshaped, consistent bool, table, index string,
) (*backendResponse, []tableUsage, error) {
	pg, resp, err := x.readPage(ctx, s)
	if pg == nil {
		if err == nil && resp != nil {
			// The backend refused the request: let the client's own
			// request get the refusal, in its own words.
			resp, err := x.forward(ctx)
			return resp, nil, err
		}
		return resp, nil, err
	}
	answer, err := x.answerPage(ctx, s, pg, reshaped, resp)
	if answer == nil || !succeeded(answer) {
		return answer, nil, err
	}
	units := ReadUnits(pg.size, consistency(consistent))
	return answer, []tableUsage{x.readUsage(table, index, units)}, err
}

// readUsage is a read of units on table, or on its index when one is
// named: the index's own capacity for a global index, the table's (shown
// under the index) for a local one.
func (x *executor) readUsage(table, index string, units float64) tableUsage {
	if index != "" {
		if t := x.states[table]; t != nil {
			if ix := t.index(index); ix != nil {
				return tableUsage{table: table, indexes: []indexUsage{{name: ix.name, global: ix.global, readUnits: units}}}
			}
		}
	}
	return tableUsage{table: table, readUnits: units}
}

// unfilteredRequest returns a Query or Scan request without its filter,
// projection, Select and ReturnConsumedCapacity, so that its answer holds
// every item the request reads, whole.
func unfilteredRequest(raw map[string]json.RawMessage) map[string]json.RawMessage {
	req := make(map[string]json.RawMessage, len(raw))
	for k, v := range raw {
		switch k {
		case "FilterExpression", "ProjectionExpression", "AttributesToGet", "Select",
			"QueryFilter", "ScanFilter", "ConditionalOperator", "ReturnConsumedCapacity":
		default:
			req[k] = v
		}
	}

	pruneUnused(req, "KeyConditionExpression")
	return req
}

// unfiltered repeats a Query or Scan internally without its filter,
// projection and Select, so the response holds every item the call read.
func (x *executor) unfiltered(
	ctx context.Context, op string, raw map[string]json.RawMessage,
) ([]byte, error) {
	body, err := json.Marshal(unfilteredRequest(raw))
	if err != nil {
		return nil, err
	}
	resp, err := x.call(ctx, op, body)
	if err != nil {
		return nil, err
	}
	if resp.status != http.StatusOK {
		return nil, fmt.Errorf("internal %s: status %d: %s", op, resp.status, errorType(resp.body))
	}
	return resp.body, nil
}

// itemsSize sums the sizes of a Query or Scan response's items.
func itemsSize(body []byte) (int, error) {
	var out struct{ Items []item }
	if err := json.Unmarshal(body, &out); err != nil {
		return 0, err
	}
	total := 0
	for _, it := range out.Items {
		n, err := ItemSize(it)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// BatchGetItem: each item like a GetItem, rounded separately.
func planBatchGet(body []byte) (*plan, error) {
	type keysAndAttributes struct {
		Keys                 []item
		ConsistentRead       bool
		ProjectionExpression string
		AttributesToGet      []string
	}
	var req struct {
		RequestItems           map[string]keysAndAttributes
		ReturnConsumedCapacity string
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	p := &plan{tables: sortedKeys(req.RequestItems), returnCapacity: req.ReturnConsumedCapacity, list: true,
		items: map[string]int{}, where: "RequestItems"}
	p.keys = map[string][]item{}
	for table, ka := range req.RequestItems {
		p.items[table] = len(ka.Keys)
		p.keys[table] = ka.Keys
	}
	p.invalid = checkBatchSizes(p.items, maxBatchGets)
	p.run = func(ctx context.Context, x *executor) (*backendResponse, []tableUsage, error) {
		var refs []keyRef
		for table, ka := range req.RequestItems {
			if projected(ka.ProjectionExpression, ka.AttributesToGet) {
				for _, k := range ka.Keys {
					refs = append(refs, keyRef{table, k})
				}
			}
		}
		defer x.lock(false, refs...)()

		resp, err := x.forward(ctx)
		if err != nil || !succeeded(resp) {
			return resp, nil, err
		}
		var out struct {
			Responses       map[string][]item
			UnprocessedKeys map[string]struct{ Keys []item }
		}
		err = json.Unmarshal(resp.body, &out)

		var used []tableUsage
		var errs []error
		for _, table := range p.tables {
			ka := req.RequestItems[table]
			c := consistency(ka.ConsistentRead)
			processed := without(ka.Keys, out.UnprocessedKeys[table].Keys)
			units := 0.0
			if projected(ka.ProjectionExpression, ka.AttributesToGet) {
				for _, k := range processed {
					size, err := x.itemSize(ctx, table, k)
					errs = append(errs, err)
					units += ReadUnits(size, c)
				}
			} else {
				found := out.Responses[table]
				for _, it := range found {
					size, err := ItemSize(it)
					errs = append(errs, err)
					units += ReadUnits(size, c)
				}
				units += float64(max(len(processed)-len(found), 0)) * ReadUnits(0, c)
			}
			if len(processed) > 0 {
				used = append(used, tableUsage{table: table, readUnits: units})
			}
		}
		return resp, used, errors.Join(append(errs, err)...)
	}
	return p, nil
}

// TransactGetItems: each item as a transactional read (two units per 4 KB),
// rounded separately.
func planTransactGet(body []byte) (*plan, error) {
	var req struct {
		TransactItems []struct {
			Get *struct {
				TableName string
				Key       item
			}
		}
		ReturnConsumedCapacity string
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	var refs []keyRef
	for _, ti := range req.TransactItems {
		if ti.Get != nil {
			refs = append(refs, keyRef{ti.Get.TableName, ti.Get.Key})
		}
	}
	p := &plan{tables: refTables(refs), returnCapacity: req.ReturnConsumedCapacity, list: true,
		items: itemCounts(refs), keys: map[string][]item{}, where: "TransactItems"}
	for _, r := range refs {
		p.keys[r.table] = append(p.keys[r.table], r.key)
	}
	p.run = func(ctx context.Context, x *executor) (*backendResponse, []tableUsage, error) {
		defer x.lock(false, refs...)()
		resp, err := x.forward(ctx)
		if err != nil || !succeeded(resp) {
			return resp, nil, err
		}
		var used []tableUsage
		var errs []error
		for _, r := range refs {
			size, err := x.itemSize(ctx, r.table, r.key)
			errs = append(errs, err)
			used = append(used, tableUsage{table: r.table, readUnits: ReadUnits(size, Transactional)})
		}
		return resp, used, errors.Join(errs...)
	}
	return p, nil
}
