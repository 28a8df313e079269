package capacity

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// Account quotas DescribeLimits reports: DynamoDB's defaults ("Service,
// account, and table quotas in Amazon DynamoDB", DG ServiceQuotas.html).
// The model enforces the table quota only.
const (
	accountQuotaUnits = 80000
	// listTablesMaxLimit is the most names one ListTables page holds.
	listTablesMaxLimit = 100
)

// localOp answers a control-plane operation from what the endpoint knows.
// host is the address the client called.
type localOp func(e *Endpoint, body []byte, host string) ([]byte, *apiError)

// localOps are the operations the endpoint answers itself when its backend
// does not support them (minidyn supports none of them).
var localOps = map[string]localOp{
	"ListTables":        (*Endpoint).listTables,
	"DescribeLimits":    (*Endpoint).describeLimits,
	"DescribeEndpoints": (*Endpoint).describeEndpoints,
}

// unsupported reports whether resp is a backend's refusal of an operation
// it does not implement, rather than an answer to it.
func unsupported(resp *backendResponse) bool {
	switch resp.status {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusNotImplemented:
	default:
		return false
	}
	typ := errorType(resp.body)
	return typ == "" || typ == "UnknownOperationException"
}

// listTables answers ListTables from the tables the endpoint knows, in name
// order, a page of at most Limit (default and maximum 100) names after
// ExclusiveStartTableName, with LastEvaluatedTableName when more follow.
func (e *Endpoint) listTables(body []byte, _ string) ([]byte, *apiError) {
	var req struct {
		ExclusiveStartTableName *string
		Limit                   *int64
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, serializationError("%s", serializationMessage("ListTables", err))
	}
	limit := int64(listTablesMaxLimit)
	if req.Limit != nil {
		limit = *req.Limit
		switch {
		case limit < 1:
			return nil, validationError("1 validation error detected: Value '%d' at 'limit' failed to satisfy "+
				"constraint: Member must have value greater than or equal to 1", limit)
		case limit > listTablesMaxLimit:
			return nil, validationError("1 validation error detected: Value '%d' at 'limit' failed to satisfy "+
				"constraint: Member must have value less than or equal to %d", limit, listTablesMaxLimit)
		}
	}
	if s := req.ExclusiveStartTableName; s != nil {
		if msg := validateTableName(*s); msg != "" {
			return nil, validationError("%s", strings.Replace(msg, "'tableName'", "'exclusiveStartTableName'", 1))
		}
	}

	e.tablesMu.RLock()
	names := sortedKeys(e.tables)
	e.tablesMu.RUnlock()
	if s := req.ExclusiveStartTableName; s != nil {
		i, found := slices.BinarySearch(names, *s)
		if found {
			i++
		}
		names = names[i:]
	}
	out := struct {
		TableNames             []string `json:"TableNames"`
		LastEvaluatedTableName string   `json:"LastEvaluatedTableName,omitempty"`
	}{TableNames: names}
	if int64(len(names)) > limit {
		out.TableNames = names[:limit]
		out.LastEvaluatedTableName = names[limit-1]
	}
	if out.TableNames == nil {
		out.TableNames = []string{}
	}
	raw, err := json.Marshal(out)
	return raw, errorOf(err)
}

// describeLimits answers DescribeLimits with DynamoDB's default quotas.
func (e *Endpoint) describeLimits(_ []byte, _ string) ([]byte, *apiError) {
	raw, err := json.Marshal(map[string]int64{
		"AccountMaxReadCapacityUnits":  accountQuotaUnits,
		"AccountMaxWriteCapacityUnits": accountQuotaUnits,
		"TableMaxReadCapacityUnits":    TableQuotaUnits,
		"TableMaxWriteCapacityUnits":   TableQuotaUnits,
	})
	return raw, errorOf(err)
}

// describeEndpoints answers DescribeEndpoints with the address the client
// called, so that a client doing endpoint discovery stays on this endpoint.
func (e *Endpoint) describeEndpoints(_ []byte, host string) ([]byte, *apiError) {
	type endpoint struct {
		Address              string
		CachePeriodInMinutes int64
	}
	raw, err := json.Marshal(struct{ Endpoints []endpoint }{[]endpoint{{Address: host, CachePeriodInMinutes: 1440}}})
	return raw, errorOf(err)
}

func errorOf(err error) *apiError {
	if err == nil {
		return nil
	}
	return &apiError{typ: "InternalServerError", msg: err.Error()}
}
