package capacity

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Billing modes as DynamoDB spells them.
const (
	billingProvisioned   = "PROVISIONED"
	billingPayPerRequest = "PAY_PER_REQUEST"
)

// tableState is what the endpoint knows of one table. It is never changed
// after it is published: an UpdateTable publishes a new one (the buckets
// carry over).
type tableState struct {
	name     string
	arn      string
	keys     []string // partition key, then sort key if any
	onDemand bool
	rcu, wcu int64
	read     *Bucket // nil on demand
	write    *Bucket // nil on demand
}

// bucket returns the table's read or write limiter, nil when unlimited.
func (t *tableState) bucket(write bool) *Bucket {
	if write {
		return t.write
	}
	return t.read
}

// tableRequest holds the CreateTable and UpdateTable fields the endpoint reads.
type tableRequest struct {
	TableName             string
	BillingMode           string
	ProvisionedThroughput *throughput
	KeySchema             []keySchemaElement
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
	t := &tableState{name: req.TableName, arn: e.tableARN(req.TableName), keys: keyNames(req.KeySchema)}
	if req.BillingMode == billingPayPerRequest || req.ProvisionedThroughput == nil {
		t.onDemand = true
		return t
	}
	t.rcu = req.ProvisionedThroughput.ReadCapacityUnits
	t.wcu = req.ProvisionedThroughput.WriteCapacityUnits
	t.read = NewBucket(float64(t.rcu), e.burstStart, now)
	t.write = NewBucket(float64(t.wcu), e.burstStart, now)
	return t
}

// updatedTableState applies an UpdateTable request to old at now.
func (e *Endpoint) updatedTableState(old *tableState, req tableRequest, now time.Time) *tableState {
	t := *old
	switch {
	case req.BillingMode == billingPayPerRequest:
		t.onDemand, t.rcu, t.wcu, t.read, t.write = true, 0, 0, nil, nil
	case req.ProvisionedThroughput != nil:
		t.onDemand = false
		t.rcu = req.ProvisionedThroughput.ReadCapacityUnits
		t.wcu = req.ProvisionedThroughput.WriteCapacityUnits
		if t.read == nil {
			t.read = NewBucket(float64(t.rcu), e.burstStart, now)
			t.write = NewBucket(float64(t.wcu), e.burstStart, now)
		} else {
			t.read.SetRateAt(now, float64(t.rcu))
			t.write.SetRateAt(now, float64(t.wcu))
		}
	}
	// TODO: on-demand maximum throughput (OnDemandThroughput) and the
	// on-demand table limits are not enforced yet; on-demand tables are
	// unlimited here.
	return &t
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
	t := e.tables[name]
	e.tablesMu.RUnlock()
	if t != nil || name == "" {
		return t
	}

	body, _ := json.Marshal(map[string]string{"TableName": name})
	e.engine.Lock()
	resp, err := e.backend.call(ctx, "DescribeTable", body)
	e.engine.Unlock()
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
// the backend may leave out (minidyn does): status, ARN, billing mode and
// provisioned throughput. field is "TableDescription" or "Table".
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
		set("ProvisionedThroughput", map[string]int64{
			"ReadCapacityUnits": t.rcu, "WriteCapacityUnits": t.wcu, "NumberOfDecreasesToday": 0,
		})
	}

	out[field], _ = json.Marshal(desc)
	rewritten, err := json.Marshal(out)
	if err != nil {
		return body
	}
	return rewritten
}
