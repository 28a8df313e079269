package capacity

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Billing modes as DynamoDB spells them.
const (
	billingProvisioned   = "PROVISIONED"
	billingPayPerRequest = "PAY_PER_REQUEST"
)

// tableState is what the endpoint knows of one table. It is never changed
// after it is published: an UpdateTable publishes a new one (the limits
// carry over, and change in place).
type tableState struct {
	name              string
	arn               string
	keys              []string // partition key, then sort key if any
	onDemand          bool
	rcu, wcu          int64 // provisioned throughput; 0 on demand
	maxRead, maxWrite int64 // OnDemandThroughput maxima; 0 means none
	partitions        int
	lim               *limits
	indexes           []*indexState // secondary indexes, global and local

	created time.Time             // when the endpoint learnt of the table
	attrs   []attributeDefinition // AttributeDefinitions, as created and updated
}

// attributeDefinition is one entry of a table's AttributeDefinitions.
type attributeDefinition struct {
	AttributeName string
	AttributeType string
}

// mergeDefinitions returns defs with those of more added, an attribute named
// in both taking more's type.
func mergeDefinitions(defs, more []attributeDefinition) []attributeDefinition {
	out := slices.Clone(defs)
	for _, d := range more {
		i := slices.IndexFunc(out, func(o attributeDefinition) bool { return o.AttributeName == d.AttributeName })
		if i < 0 {
			out = append(out, d)
		} else {
			out[i] = d
		}
	}
	return out
}

// tableRequest holds the CreateTable and UpdateTable fields the endpoint reads.
type tableRequest struct {
	TableName             string
	BillingMode           string
	ProvisionedThroughput *throughput
	OnDemandThroughput    *onDemandThroughput
	KeySchema             []keySchemaElement
	AttributeDefinitions  []attributeDefinition

	GlobalSecondaryIndexes      []indexSpec
	LocalSecondaryIndexes       []indexSpec
	GlobalSecondaryIndexUpdates []indexUpdate
}

type onDemandThroughput struct {
	MaxReadRequestUnits  int64
	MaxWriteRequestUnits int64
}

type throughput struct {
	ReadCapacityUnits  int64
	WriteCapacityUnits int64
}

type keySchemaElement struct {
	AttributeName string
	KeyType       string
}

// keyNames orders a key schema partition key first.
func keyNames(schema []keySchemaElement) []string {
	var names []string
	for _, kind := range []string{"HASH", "RANGE"} {
		for _, k := range schema {
			if k.KeyType == kind {
				names = append(names, k.AttributeName)
			}
		}
	}
	return names
}

// tableARN returns the ARN DynamoDB gives table name.
func (e *Endpoint) tableARN(name string) string {
	return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", e.region, e.account, name)
}

// newTableState builds the state of a table created at now. A table with no
// billing mode and no provisioned throughput is treated as on demand.
func (e *Endpoint) newTableState(req tableRequest, now time.Time) *tableState {
	t := &tableState{name: req.TableName, arn: e.tableARN(req.TableName), keys: keyNames(req.KeySchema),
		created: now, attrs: req.AttributeDefinitions}
	t.applyThroughput(req)
	t.partitions = partitionCount(t.onDemand, t.rcu, t.wcu)
	if n := e.partitions[req.TableName]; n > 0 {
		t.partitions = n
	}
	t.lim = newLimits(t.onDemand, t.rcu, t.wcu, t.maxRead, t.maxWrite, t.partitions, e.burstStart, now)
	for _, spec := range req.GlobalSecondaryIndexes {
		t.indexes = append(t.indexes, newIndexState(t, spec, true, e.burstStart, now))
	}
	for _, spec := range req.LocalSecondaryIndexes {
		t.indexes = append(t.indexes, newIndexState(t, spec, false, e.burstStart, now))
	}
	return t
}

// applyThroughput sets the billing mode and throughput a CreateTable or
// UpdateTable request names, leaving what it does not name.
func (t *tableState) applyThroughput(req tableRequest) {
	switch {
	case req.BillingMode == billingPayPerRequest:
		t.onDemand, t.rcu, t.wcu = true, 0, 0
	case req.ProvisionedThroughput != nil:
		t.onDemand = false
		t.rcu = req.ProvisionedThroughput.ReadCapacityUnits
		t.wcu = req.ProvisionedThroughput.WriteCapacityUnits
	case req.BillingMode == "" && t.lim == nil:
		t.onDemand = true
	}
	if o := req.OnDemandThroughput; o != nil {
		t.maxRead, t.maxWrite = max(o.MaxReadRequestUnits, 0), max(o.MaxWriteRequestUnits, 0)
	}
}

// updatedTableState applies an UpdateTable request to old at now.
// Partitions split when the new throughput needs more; they never merge.
func (e *Endpoint) updatedTableState(old *tableState, req tableRequest, now time.Time) *tableState {
	t := *old
	t.attrs = mergeDefinitions(old.attrs, req.AttributeDefinitions)
	t.applyThroughput(req)
	if n := partitionCount(t.onDemand, t.rcu, t.wcu); n > t.partitions {
		t.partitions = n
		t.lim.grow(n)
	}
	t.lim.setMode(t.onDemand, t.rcu, t.wcu, t.maxRead, t.maxWrite, e.burstStart, now)
	t.indexes = e.updatedIndexes(&t, req, now)
	return &t
}

// updatedIndexes applies UpdateTable's index changes to t's indexes (a new
// slice; the old state keeps its own) and carries a billing mode change to
// every global index.
func (e *Endpoint) updatedIndexes(t *tableState, req tableRequest, now time.Time) []*indexState {
	out := make([]*indexState, 0, len(t.indexes))
	deleted := map[string]bool{}
	updated := map[string]*indexSpec{}
	var created []*indexState
	for _, u := range req.GlobalSecondaryIndexUpdates {
		switch {
		case u.Delete != nil:
			deleted[u.Delete.IndexName] = true
		case u.Update != nil:
			updated[u.Update.IndexName] = u.Update
		case u.Create != nil:
			created = append(created, newIndexState(t, *u.Create, true, e.burstStart, now))
		}
	}
	for _, ix := range t.indexes {
		if deleted[ix.name] {
			continue
		}
		if ix.global {
			c := *ix
			if u := updated[ix.name]; u != nil {
				if p := u.ProvisionedThroughput; p != nil {
					c.rcu, c.wcu = p.ReadCapacityUnits, p.WriteCapacityUnits
				}
			}
			if t.onDemand {
				c.rcu, c.wcu = 0, 0
			}
			if u := updated[ix.name]; u != nil && u.OnDemandThroughput != nil {
				c.maxRead = max(u.OnDemandThroughput.MaxReadRequestUnits, 0)
				c.maxWrite = max(u.OnDemandThroughput.MaxWriteRequestUnits, 0)
			}
			c.lim.setMode(t.onDemand, c.rcu, c.wcu, c.maxRead, c.maxWrite, e.burstStart, now)
			ix = &c
		}
		out = append(out, ix)
	}
	return append(out, created...)
}

// learn records what a successful control-plane call says about a table.
func (e *Endpoint) learn(op string, body []byte, now time.Time) {
	var req tableRequest
	if json.Unmarshal(body, &req) != nil || req.TableName == "" {
		return
	}

	e.tablesMu.Lock()
	defer e.tablesMu.Unlock()
	switch op {
	case "CreateTable":
		e.tables[req.TableName] = e.newTableState(req, now)
		delete(e.missing, req.TableName)
	case "UpdateTable":
		if old := e.tables[req.TableName]; old != nil {
			e.tables[req.TableName] = e.updatedTableState(old, req, now)
		}
	case "DeleteTable":
		delete(e.tables, req.TableName)
	}
}

// table returns what the endpoint knows of name, asking the backend with an
// unmetered DescribeTable the first time a table it did not see created is
// used. It returns nil for a table the backend does not know either.
func (e *Endpoint) table(ctx context.Context, name string) *tableState {
	e.tablesMu.RLock()
	t, missing := e.tables[name], e.missing[name]
	e.tablesMu.RUnlock()
	if t != nil || name == "" || missing {
		return t
	}

	body, _ := json.Marshal(map[string]string{"TableName": name})
	e.engine.Lock()
	resp, err := e.backend.call(ctx, "DescribeTable", body)
	e.engine.Unlock()
	if err == nil && e.sizes != nil && errorType(resp.body) == "ResourceNotFoundException" {
		e.tablesMu.Lock()
		if e.missing == nil {
			e.missing = map[string]bool{}
		}
		e.missing[name] = true
		e.tablesMu.Unlock()
	}
	if err != nil || resp.status != 200 {
		return nil
	}
	var out struct {
		Table struct {
			tableRequest
			BillingModeSummary *struct{ BillingMode string }
		}
	}
	if json.Unmarshal(resp.body, &out) != nil {
		return nil
	}
	req := out.Table.tableRequest
	req.TableName = name
	if s := out.Table.BillingModeSummary; s != nil {
		req.BillingMode = s.BillingMode
	}
	if p := req.ProvisionedThroughput; p != nil && p.ReadCapacityUnits == 0 && p.WriteCapacityUnits == 0 {
		req.ProvisionedThroughput = nil
	}

	e.tablesMu.Lock()
	defer e.tablesMu.Unlock()
	if t = e.tables[name]; t == nil {
		t = e.newTableState(req, e.now())
		e.tables[name] = t
		e.logger.Info("capacity endpoint learnt a table from DescribeTable",
			"table", name, "on_demand", t.onDemand, "rcu", t.rcu, "wcu", t.wcu)
	}
	return t
}

// describeTable fills in the table description fields the endpoint knows and
// the backend may leave out (minidyn does): status, ARN, billing mode,
// provisioned throughput, attribute definitions, creation time, size (0:
// the endpoint does not track it; DynamoDB updates it about every six
// hours), and each index's ARN, size and throughput. The throughput figures
// are always the endpoint's, which throttle. field is "TableDescription" or
// "Table".
func (e *Endpoint) describeTable(body []byte, field, status string) []byte {
	var out map[string]json.RawMessage
	if json.Unmarshal(body, &out) != nil {
		return body
	}
	var desc map[string]json.RawMessage
	if json.Unmarshal(out[field], &desc) != nil || desc == nil {
		return body
	}
	var name string
	if json.Unmarshal(desc["TableName"], &name) != nil {
		return body
	}
	e.tablesMu.RLock()
	t := e.tables[name]
	e.tablesMu.RUnlock()

	set := func(key string, v any) {
		if raw, ok := desc[key]; !ok || string(raw) == "null" || string(raw) == `""` {
			desc[key], _ = json.Marshal(v)
		}
	}
	set("TableStatus", status)
	set("TableArn", e.tableARN(name))
	if t != nil {
		mode := billingProvisioned
		if t.onDemand {
			mode = billingPayPerRequest
		}
		set("BillingModeSummary", map[string]string{"BillingMode": mode})
		desc["ProvisionedThroughput"] = withThroughput(desc["ProvisionedThroughput"], t.rcu, t.wcu)
		if len(t.attrs) > 0 {
			set("AttributeDefinitions", t.attrs)
		}
		set("CreationDateTime", float64(t.created.UnixMilli())/1000)
		set("TableSizeBytes", 0)
		set("ItemCount", 0)
		for _, field := range []string{"GlobalSecondaryIndexes", "LocalSecondaryIndexes"} {
			if raw, ok := desc[field]; ok {
				desc[field] = t.describeIndexes(raw)
			}
		}
	}

	out[field], _ = json.Marshal(desc)
	rewritten, err := json.Marshal(out)
	if err != nil {
		return body
	}
	return rewritten
}

// withThroughput returns a ProvisionedThroughput description (null or
// absent when raw is) with the endpoint's read and write capacity.
func withThroughput(raw json.RawMessage, rcu, wcu int64) json.RawMessage {
	var pt map[string]json.RawMessage
	if json.Unmarshal(raw, &pt) != nil || pt == nil {
		pt = map[string]json.RawMessage{"NumberOfDecreasesToday": json.RawMessage("0")}
	}
	pt["ReadCapacityUnits"], _ = json.Marshal(rcu)
	pt["WriteCapacityUnits"], _ = json.Marshal(wcu)
	out, _ := json.Marshal(pt)
	return out
}

// describeIndexes fills in a list of index descriptions: each index's ARN
// and size when absent, and a global index's throughput, the endpoint's.
func (t *tableState) describeIndexes(raw json.RawMessage) json.RawMessage {
	var list []map[string]json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return raw
	}
	for _, d := range list {
		var name string
		_ = json.Unmarshal(d["IndexName"], &name)
		ix := t.index(name)
		if ix == nil {
			continue
		}
		if v, ok := d["IndexArn"]; !ok || string(v) == "null" {
			d["IndexArn"], _ = json.Marshal(ix.arn)
		}
		if v, ok := d["IndexSizeBytes"]; !ok || string(v) == "null" {
			d["IndexSizeBytes"] = json.RawMessage("0")
		}
		if ix.global {
			d["ProvisionedThroughput"] = withThroughput(d["ProvisionedThroughput"], ix.rcu, ix.wcu)
		}
	}
	out, err := json.Marshal(list)
	if err != nil {
		return raw
	}
	return out
}

// partitionsOf returns the partitions items fall in.
func (t *tableState) partitionsOf(items []item) []int {
	if len(t.keys) == 0 {
		return nil
	}
	return partitionsOf(items, t.keys[0], t.partitions)
}
