package capacity

import (
	"bytes"
	"encoding/json"
	"time"
)

// Projection types as DynamoDB spells them.
const (
	projectAll      = "ALL"
	projectKeysOnly = "KEYS_ONLY"
	projectInclude  = "INCLUDE"
)

// indexSpec is a secondary index as CreateTable and UpdateTable name it.
type indexSpec struct {
	IndexName  string
	KeySchema  []keySchemaElement
	Projection struct {
		ProjectionType   string
		NonKeyAttributes []string
	}
	ProvisionedThroughput *throughput
	OnDemandThroughput    *onDemandThroughput
}

// indexUpdate is one entry of UpdateTable's GlobalSecondaryIndexUpdates.
type indexUpdate struct {
	Create *indexSpec
	Update *indexSpec
	Delete *struct{ IndexName string }
}

// indexState is what the endpoint knows of one secondary index. A global
// index has its own throughput (lim); a local one shares the table's.
type indexState struct {
	name       string
	arn        string
	global     bool
	keys       []string // the index's partition key, then sort key if any
	projection string
	nonKey     map[string]bool
	rcu, wcu   int64
	maxRead    int64 // OnDemandThroughput maxima; 0 means none
	maxWrite   int64
	lim        *limits // nil for a local index
}

// newIndexState builds an index of table t from spec.
func newIndexState(t *tableState, spec indexSpec, global bool, burstStart float64, now time.Time) *indexState {
	ix := &indexState{
		name:       spec.IndexName,
		arn:        t.arn + "/index/" + spec.IndexName,
		global:     global,
		keys:       keyNames(spec.KeySchema),
		projection: spec.Projection.ProjectionType,
		nonKey:     map[string]bool{},
	}
	if ix.projection == "" {
		ix.projection = projectAll
	}
	for _, a := range spec.Projection.NonKeyAttributes {
		ix.nonKey[a] = true
	}
	if !global {
		return ix
	}
	if p := spec.ProvisionedThroughput; p != nil {
		ix.rcu, ix.wcu = p.ReadCapacityUnits, p.WriteCapacityUnits
	}
	if o := spec.OnDemandThroughput; o != nil {
		ix.maxRead, ix.maxWrite = max(o.MaxReadRequestUnits, 0), max(o.MaxWriteRequestUnits, 0)
	}
	ix.lim = newLimits(t.onDemand, ix.rcu, ix.wcu, ix.maxRead, ix.maxWrite,
		partitionCount(t.onDemand, ix.rcu, ix.wcu), burstStart, now)
	return ix
}

// holds reports whether it appears in the index: it has every index key
// attribute.
func (ix *indexState) holds(it item) bool {
	if it == nil {
		return false
	}
	for _, k := range ix.keys {
		if _, ok := it[k]; !ok {
			return false
		}
	}
	return true
}

// project returns the index entry of it: the index and table keys plus the
// projected attributes.
func (ix *indexState) project(it item, tableKeys []string) item {
	if ix.projection == projectAll {
		return it
	}
	out := make(item, len(ix.keys)+len(tableKeys)+len(ix.nonKey))
	for name, v := range it {
		keep := ix.projection == projectInclude && ix.nonKey[name]
		for _, k := range ix.keys {
			keep = keep || k == name
		}
		for _, k := range tableKeys {
			keep = keep || k == name
		}
		if keep {
			out[name] = v
		}
	}
	return out
}

// indexUsage is what one call consumed on one secondary index.
type indexUsage struct {
	name       string
	global     bool
	readUnits  float64
	writeUnits float64
}

// indexWrites returns the write units each secondary index of t consumes
// when an item changes from old to new (nil for absent), by DynamoDB's
// rules: one write when the item enters or leaves the index or a projected
// attribute changes, two when the index key changes, none when the item is
// in the index neither before nor after; each sized by the index entry, in
// 1 KB units (doubled in a transaction).
func indexWrites(t *tableState, old, new item, transactional bool) []indexUsage {
	if t == nil || len(t.indexes) == 0 {
		return nil
	}
	units := WriteUnits
	if transactional {
		units = TransactionalWriteUnits
	}
	var out []indexUsage
	for _, ix := range t.indexes {
		before, after := ix.holds(old), ix.holds(new)
		var w float64
		switch {
		case before && after:
			oldEntry, newEntry := ix.project(old, t.keys), ix.project(new, t.keys)
			switch {
			case !sameAttributes(oldEntry, newEntry, ix.keys):
				w = units(entrySize(oldEntry)) + units(entrySize(newEntry))
			case !sameAttributes(oldEntry, newEntry, nil):
				w = units(max(entrySize(oldEntry), entrySize(newEntry)))
			}
		case after:
			w = units(entrySize(ix.project(new, t.keys)))
		case before:
			w = units(entrySize(ix.project(old, t.keys)))
		}
		if w > 0 {
			out = append(out, indexUsage{name: ix.name, global: ix.global, writeUnits: w})
		}
	}
	return out
}

// sameAttributes reports whether a and b hold equal values for names (every
// attribute of either when names is nil). Values compare as compact JSON.
func sameAttributes(a, b item, names []string) bool {
	if names == nil {
		if len(a) != len(b) {
			return false
		}
		for name := range a {
			names = append(names, name)
		}
	}
	for _, name := range names {
		va, okA := a[name]
		vb, okB := b[name]
		if okA != okB || (okA && !equalJSON(va, vb)) {
			return false
		}
	}
	return true
}

func equalJSON(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return false
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

// entrySize is an index entry's size; an item that cannot be measured
// counts as empty (the minimum unit still applies).
func entrySize(it item) int {
	n, err := ItemSize(it)
	if err != nil {
		return 0
	}
	return n
}

// index returns t's secondary index called name, nil when there is none.
func (t *tableState) index(name string) *indexState {
	for _, ix := range t.indexes {
		if ix.name == name {
			return ix
		}
	}
	return nil
}
