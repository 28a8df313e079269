package capacity

import (
	"encoding/json"
	"slices"
)

// ReturnConsumedCapacity values that ask for ConsumedCapacity.
const (
	returnTotal   = "TOTAL"
	returnIndexes = "INDEXES"
)

// tableUsage is what one call consumed on one table, in capacity units.
type tableUsage struct {
	table      string
	readUnits  float64
	writeUnits float64
}

// capacityUnits is DynamoDB's Capacity shape.
type capacityUnits struct {
	CapacityUnits      float64  `json:"CapacityUnits"`
	ReadCapacityUnits  *float64 `json:"ReadCapacityUnits,omitempty"`
	WriteCapacityUnits *float64 `json:"WriteCapacityUnits,omitempty"`
}

// consumedCapacity is DynamoDB's ConsumedCapacity shape.
type consumedCapacity struct {
	TableName string `json:"TableName"`
	capacityUnits
	Table *capacityUnits `json:"Table,omitempty"`
}

// consumedCapacityOf renders u; with INDEXES it adds the per-table figures.
//
// TODO: secondary indexes are not metered (no GSI write amplification, no
// LocalSecondaryIndexes/GlobalSecondaryIndexes figures).
func consumedCapacityOf(u tableUsage, mode string) consumedCapacity {
	c := capacityUnits{CapacityUnits: u.readUnits + u.writeUnits}
	if u.readUnits > 0 {
		c.ReadCapacityUnits = &u.readUnits
	}
	if u.writeUnits > 0 {
		c.WriteCapacityUnits = &u.writeUnits
	}
	out := consumedCapacity{TableName: u.table, capacityUnits: c}
	if mode == returnIndexes {
		table := c
		out.Table = &table
	}
	return out
}

// withConsumedCapacity adds ConsumedCapacity to a successful response body
// when the request asked for it: one object, or a list with one entry per
// table for batch and transaction calls.
func withConsumedCapacity(body []byte, p *plan, used []tableUsage) []byte {
	if p.returnCapacity != returnTotal && p.returnCapacity != returnIndexes {
		return body
	}
	var out map[string]json.RawMessage
	if err := json.Unmarshal(body, &out); err != nil || out == nil {
		return body
	}

	merged := mergeUsage(used)
	var v any
	if p.list {
		list := make([]consumedCapacity, 0, len(merged))
		for _, u := range merged {
			list = append(list, consumedCapacityOf(u, p.returnCapacity))
		}
		v = list
	} else {
		u := tableUsage{}
		if len(p.tables) > 0 {
			u.table = p.tables[0]
		}
		if len(merged) > 0 {
			u = merged[0]
		}
		v = consumedCapacityOf(u, p.returnCapacity)
	}

	raw, err := json.Marshal(v)
	if err != nil {
		return body
	}
	out["ConsumedCapacity"] = raw
	rewritten, err := json.Marshal(out)
	if err != nil {
		return body
	}
	return rewritten
}

// mergeUsage sums usage per table, in table name order.
func mergeUsage(used []tableUsage) []tableUsage {
	byTable := map[string]*tableUsage{}
	var names []string
	for _, u := range used {
		m := byTable[u.table]
		if m == nil {
			m = &tableUsage{table: u.table}
			byTable[u.table] = m
			names = append(names, u.table)
		}
		m.readUnits += u.readUnits
		m.writeUnits += u.writeUnits
	}
	slices.Sort(names)
	out := make([]tableUsage, 0, len(names))
	for _, n := range names {
		out = append(out, *byTable[n])
	}
	return out
}
