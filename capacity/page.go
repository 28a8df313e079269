package capacity

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Paging of Query and Scan, by DynamoDB's rule (API_Query.html and
// API_Scan.html, "Limit"; DG Query.Pagination.html): a page reads items in
// order until it has read Limit items or 1 MB of data, whichever comes
// first, and only then applies the filter and the projection. The item that
// takes the total to 1 MB or more is still part of the page. A page cut by
// either bound carries LastEvaluatedKey, the key of its last item read (with
// the index's keys for an index), even when nothing follows it.
//
// The endpoint draws the page itself, whatever the backend: it reads
// unfiltered items from the backend in chunks until the page is full, then
// asks the backend for the client's filter and projection over exactly
// those items.

// pageBytes is how much data one Query or Scan page reads at most.
const pageBytes = 1 << 20

// Chunks of the internal unfiltered read, in items.
const (
	firstChunkItems = 1000
	maxChunkItems   = 10000
)

// page is what one Query or Scan page read: the items, unfiltered and in
// the backend's order, their total size, and the LastEvaluatedKey DynamoDB
// would answer (nil when the page reached the end of the results).
type page struct {
	items   []item
	size    int
	lastKey item
}

// searchShape is what paging needs to know of a Query or Scan request.
type searchShape struct {
	op        string
	raw       map[string]json.RawMessage // the request as sent
	limit     int                        // the request's Limit, 0 for none
	tableKeys []string                   // the table's key attributes
	pageKeys  []string                   // LastEvaluatedKey's attributes
	count     bool                       // Select COUNT: no Items in the answer
}

// pageShape returns the paging shape of a Query or Scan on table (or its
// index), false when the key schema it needs is unknown.
func (x *executor) pageShape(op, table, index string, raw map[string]json.RawMessage, limit int) (searchShape, bool) {
	t := x.states[table]
	if t == nil || len(t.keys) == 0 {
		return searchShape{}, false
	}
	s := searchShape{op: op, raw: raw, limit: limit, tableKeys: t.keys, pageKeys: slices.Clone(t.keys)}
	if index != "" {
		ix := t.index(index)
		if ix == nil {
			return searchShape{}, false
		}
		for _, k := range ix.keys {
			if !slices.Contains(s.pageKeys, k) {
				s.pageKeys = append(s.pageKeys, k)
			}
		}
	}
	var sel string
	_ = json.Unmarshal(raw["Select"], &sel)
	s.count = sel == "COUNT"
	return s, true
}

// readPage reads the page the request starts: unfiltered items from its
// ExclusiveStartKey until Limit items or pageBytes are read, or the results
// end. A backend error answer is returned as resp with a nil page.
func (x *executor) readPage(ctx context.Context, s searchShape) (*page, *backendResponse, error) {
	base := unfilteredRequest(s.raw)
	delete(base, "Limit")
	start := s.raw["ExclusiveStartKey"]
	pg := &page{}
	chunk := firstChunkItems
	for {
		if s.limit > 0 {
			chunk = min(chunk, s.limit-len(pg.items))
		}
		resp, out, err := x.searchCall(ctx, s.op, base, start, chunk)
		if err != nil || resp.status != http.StatusOK {
			return nil, resp, err
		}
		for _, it := range out.Items {
			n, err := ItemSize(it)
			if err != nil {
				return nil, resp, err
			}
			pg.items = append(pg.items, it)
			pg.size += n
			if pg.size >= pageBytes || (s.limit > 0 && len(pg.items) == s.limit) {
				pg.lastKey = pick(it, s.pageKeys)
				return pg, resp, nil
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return pg, resp, nil
		}
		raw, err := json.Marshal(out.LastEvaluatedKey)
		if err != nil {
			return nil, resp, err
		}
		start = raw

		// Ask next for about what the rest of the page needs.
		avg := max(pg.size/max(len(pg.items), 1), 1)
		chunk = min(max((pageBytes-pg.size)/avg+1, 1), maxChunkItems)
	}
}

// searchOutput is the part of a Query or Scan answer paging reads.
type searchOutput struct {
	Items            []item
	Count            int
	LastEvaluatedKey item
}

// searchCall sends one internal Query or Scan: req from start (none when
// nil), at most limit items when limit > 0.
func (x *executor) searchCall(
	ctx context.Context, op string, req map[string]json.RawMessage, start json.RawMessage, limit int,
) (*backendResponse, *searchOutput, error) {
	body := make(map[string]json.RawMessage, len(req)+2)
	for k, v := range req {
		body[k] = v
	}
	delete(body, "ExclusiveStartKey")
	if start != nil {
		body["ExclusiveStartKey"] = start
	}
	delete(body, "Limit")
	if limit > 0 {
		body["Limit"] = json.RawMessage(strconv.Itoa(limit))
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, nil, err
	}
	resp, err := x.call(ctx, op, raw)
	if err != nil || resp.status != http.StatusOK {
		return resp, nil, err
	}
	var out searchOutput
	if err := json.Unmarshal(resp.body, &out); err != nil {
		return resp, nil, fmt.Errorf("internal %s: %w", op, err)
	}
	return resp, &out, nil
}

// answerPage returns the client's answer for pg: the items of pg that pass
// the request's filter, shaped by its projection, with Count, ScannedCount
// and LastEvaluatedKey as DynamoDB gives them. When the request neither
// filters nor reshapes, pg's items are the answer; otherwise the backend
// applies the client's request to exactly pg's items (see boundedItems).
func (x *executor) answerPage(
	ctx context.Context, s searchShape, pg *page, reshaped bool, last *backendResponse,
) (*backendResponse, error) {
	answer := last
	var items []json.RawMessage
	count := len(pg.items)
	if reshaped {
		var err error
		answer, items, count, err = x.boundedItems(ctx, s, pg)
		if err != nil || answer.status != http.StatusOK {
			return answer, err
		}
	} else {
		for _, it := range pg.items {
			raw, err := json.Marshal(it)
			if err != nil {
				return last, err
			}
			items = append(items, raw)
		}
	}

	out := map[string]any{"Count": count, "ScannedCount": len(pg.items)}
	if !s.count {
		if items == nil {
			items = []json.RawMessage{}
		}
		out["Items"] = items
	}
	if pg.lastKey != nil {
		out["LastEvaluatedKey"] = pg.lastKey
	}
	body, err := json.Marshal(out)
	if err != nil {
		return answer, err
	}
	answer.body = body
	return answer, nil
}

// boundedItems runs the client's request over exactly pg's items and
// returns the backend's last answer, the items it returned and how many
// matched. A Scan, or a Query without a filter, is bounded by Limit, which
// every engine applies to the items it evaluates. A Query with a filter is
// not: minidyn counts towards Limit every item of the table it passes over,
// in the partition or not, once a filter is set. That Query runs without
// Limit, with the table's keys added to its projection, and keeps the items
// whose keys are in pg. Either way an engine that stops early (dynalite at
// its own 1 MB) is asked again from where it stopped.
func (x *executor) boundedItems(
	ctx context.Context, s searchShape, pg *page,
) (*backendResponse, []json.RawMessage, int, error) {
	req := make(map[string]json.RawMessage, len(s.raw))
	for k, v := range s.raw {
		if k != "ReturnConsumedCapacity" {
			req[k] = v
		}
	}
	byLimit := !(s.op == "Query" && hasFilter(s.raw))
	var added []string
	if !byLimit {
		added = withKeysProjected(req, s.tableKeys)
	}
	pos := make(map[string]int, len(pg.items))
	for i, it := range pg.items {
		pos[keyString(pick(it, s.tableKeys))] = i
	}
	start := s.raw["ExclusiveStartKey"]
	done := 0 // items of pg the backend has gone past
	var (
		resp  *backendResponse
		items []json.RawMessage
		count int
	)
	for done < len(pg.items) {
		limit := 0
		if byLimit {
			limit = len(pg.items) - done
		}
		var out *searchOutput
		var err error
		resp, out, err = x.searchCall(ctx, s.op, req, start, limit)
		if err != nil || resp.status != http.StatusOK {
			return resp, nil, 0, err
		}
		for _, it := range out.Items {
			if !byLimit {
				if _, in := pos[keyString(pick(it, s.tableKeys))]; !in {
					continue
				}
				for _, name := range added {
					delete(it, name)
				}
			}
			raw, err := json.Marshal(it)
			if err != nil {
				return resp, nil, 0, err
			}
			items = append(items, raw)
		}
		if byLimit {
			count += out.Count
		} else {
			count = len(items)
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		// The backend reads the same items in the same order as the page
		// did, from the same start: a stop outside the page is past its end.
		at, ok := pos[keyString(pick(out.LastEvaluatedKey, s.tableKeys))]
		if !ok {
			break
		}
		done = at + 1
		raw, err := json.Marshal(out.LastEvaluatedKey)
		if err != nil {
			return resp, nil, 0, err
		}
		start = raw
	}
	if resp == nil {
		// An empty page: the client's request still gets its say, for an
		// expression the backend refuses.
		var err error
		resp, _, err = x.searchCall(ctx, s.op, req, start, 0)
		if err != nil || resp.status != http.StatusOK {
			return resp, nil, 0, err
		}
	}
	return resp, items, count, nil
}

// hasFilter reports whether a Query or Scan request filters.
func hasFilter(raw map[string]json.RawMessage) bool {
	for _, k := range []string{"FilterExpression", "QueryFilter", "ScanFilter"} {
		if v, ok := raw[k]; ok && string(v) != "null" && string(v) != `""` {
			return true
		}
	}
	return false
}

// keyAlias prefixes the placeholders withKeysProjected adds.
const keyAlias = "#abusesimKey"

// withKeysProjected makes req's projection include keys and returns the
// attributes it added, which the answer must not show. A request without a
// projection returns every attribute, keys included.
func withKeysProjected(req map[string]json.RawMessage, keys []string) []string {
	var sel string
	_ = json.Unmarshal(req["Select"], &sel)
	if sel == "COUNT" {
		delete(req, "Select")
		names := map[string]string{}
		_ = json.Unmarshal(req["ExpressionAttributeNames"], &names)
		var refs []string
		for i, k := range keys {
			alias := keyAlias + strconv.Itoa(i)
			names[alias] = k
			refs = append(refs, alias)
		}
		req["ProjectionExpression"], _ = json.Marshal(strings.Join(refs, ", "))
		req["ExpressionAttributeNames"], _ = json.Marshal(names)
		delete(req, "AttributesToGet")
		return nil // a count shows no items
	}

	if attrs, ok := req["AttributesToGet"]; ok {
		var list []string
		if json.Unmarshal(attrs, &list) != nil || len(list) == 0 {
			return nil
		}
		var added []string
		for _, k := range keys {
			if !slices.Contains(list, k) {
				list, added = append(list, k), append(added, k)
			}
		}
		req["AttributesToGet"], _ = json.Marshal(list)
		return added
	}

	var projection string
	if json.Unmarshal(req["ProjectionExpression"], &projection) != nil || projection == "" {
		return nil
	}
	names := map[string]string{}
	_ = json.Unmarshal(req["ExpressionAttributeNames"], &names)
	shown := map[string]bool{}
	for _, path := range strings.Split(projection, ",") {
		top := strings.TrimSpace(path)
		if i := strings.IndexAny(top, ".["); i >= 0 {
			top = top[:i]
		}
		if alias, ok := names[top]; ok {
			top = alias
		}
		shown[top] = true
	}
	var added []string
	for i, k := range keys {
		if shown[k] {
			continue
		}
		alias := keyAlias + strconv.Itoa(i)
		names[alias] = k
		projection += ", " + alias
		added = append(added, k)
	}
	if len(added) > 0 {
		req["ProjectionExpression"], _ = json.Marshal(projection)
		req["ExpressionAttributeNames"], _ = json.Marshal(names)
	}
	return added
}

// pick returns the attributes of it named in names that it has.
func pick(it item, names []string) item {
	out := make(item, len(names))
	for _, n := range names {
		if v, ok := it[n]; ok {
			out[n] = v
		}
	}
	return out
}
