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

// tableUsage is what one call consumed on one table, in capacity units:
// on the table itself, and on each of its secondary indexes.
type tableUsage struct {
	table      string
	readUnits  float64
	writeUnits float64
	indexes    []indexUsage
}

// total returns the units of u and all its indexes.
func (u tableUsage) total() (read, write float64) {
	read, write = u.readUnits, u.writeUnits
	for _, ix := range u.indexes {
		read += ix.readUnits
		write += ix.writeUnits
	}
	return read, write
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
	Table                  *capacityUnits           `json:"Table,omitempty"`
	GlobalSecondaryIndexes map[string]capacityUnits `json:"GlobalSecondaryIndexes,omitempty"`
	LocalSecondaryIndexes  map[string]capacityUnits `json:"LocalSecondaryIndexes,omitempty"`
}

func unitsOf(read, write float64) capacityUnits {
	c := capacityUnits{CapacityUnits: read + write}
	if read > 0 {
		c.ReadCapacityUnits = &read
	}
	if write > 0 {
		c.WriteCapacityUnits = &write
	}
	return c
}

// consumedCapacityOf renders u: the total over the table and its indexes,
// and with INDEXES the table's own figures and each index's.
func consumedCapacityOf(u tableUsage, mode string) consumedCapacity {
	out := consumedCapacity{TableName: u.table, capacityUnits: unitsOf(u.total())}
	if mode != returnIndexes {
		return out
	}
	table := unitsOf(u.readUnits, u.writeUnits)
	out.Table = &table
	for _, ix := range u.indexes {
		m := &out.LocalSecondaryIndexes
		if ix.global {
			m = &out.GlobalSecondaryIndexes
		}
		if *m == nil {
			*m = map[string]capacityUnits{}
		}
		(*m)[ix.name] = unitsOf(ix.readUnits, ix.writeUnits)
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
		m.indexes = mergeIndexUsage(m.indexes, u.indexes)
	}
	slices.Sort(names)
	out := make([]tableUsage, 0, len(names))
	for _, n := range names {
		out = append(out, *byTable[n])
	}
	return out
}

// mergeIndexUsage adds more to sum, index by index.
func mergeIndexUsage(sum, more []indexUsage) []indexUsage {
	for _, x := range more {
		i := slices.IndexFunc(sum, func(s indexUsage) bool { return s.name == x.name })
		if i < 0 {
			sum = append(sum, x)
			continue
		}
		sum[i].readUnits += x.readUnits
		sum[i].writeUnits += x.writeUnits
	}
	return sum
}
