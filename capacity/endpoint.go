package capacity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/truora/minidyn/server"
)

// Endpoint defaults.
const (
	// DefaultRegion is the region used in table ARNs when none is set.
	DefaultRegion = "us-east-1"
	// DefaultAccountID is the account used in table ARNs when none is set.
	DefaultAccountID = "000000000000"
	// maxRequestBytes bounds a request body; DynamoDB's own limit is 16 MB.
	maxRequestBytes = 16 << 20
)

// EndpointConfig configures an Endpoint. The zero value is an embedded
// minidyn engine in us-east-1 with empty burst pools.
type EndpointConfig struct {
	// Backend is the DynamoDB engine requests are forwarded to; nil means an
	// embedded minidyn server (github.com/truora/minidyn/server).
	Backend http.Handler
	// Region is used in table ARNs; "" means DefaultRegion.
	Region string
	// AccountID is used in table ARNs; "" means DefaultAccountID.
	AccountID string
	// BurstStartSeconds is how many seconds of provisioned capacity a
	// table's burst pools hold when it is created, 0..BurstSeconds.
	BurstStartSeconds float64
	// ExclusiveBackend vouches that nothing but this endpoint writes to
	// Backend once it serves its first call, which lets it remember item
	// sizes instead of re-reading the item every write replaces. It is
	// implied when Backend is nil (the endpoint's own embedded engine).
	ExclusiveBackend bool
	// Partitions sets the partition count of the named tables; a table not
	// named gets DynamoDB's heuristic from its throughput (see
	// docs/capacity-model.md).
	Partitions map[string]int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// Endpoint is an http.Handler speaking DynamoDB's JSON 1.0 protocol. For
// every data-plane request it:
//
//   - throttles it when a table, global index or partition it touches has
//     less than one unit available, with DynamoDB's error and throttling
//     reason (see docs/capacity-model.md); a batch call goes on with the
//     entries that find capacity and hands the others back unprocessed;
//   - forwards it to the backend;
//   - computes the capacity it consumed by AWS's rules, using unmetered
//     internal reads of the backend for sizes the response does not show
//     (projected attributes, the old item of a write);
//   - debits the table's limiter, records the consumption per second, and
//     adds ConsumedCapacity to the response when the request asked for it.
//
// Tables, their indexes and their throughput are learnt from CreateTable and
// UpdateTable as they pass through (or, for a table created elsewhere, from
// DescribeTable). CloudWatch calls, in RPC v2 CBOR or AWS JSON 1.0, are
// answered from the recorded metrics. Every DynamoDB response carries X-Amz-Crc32. An
// Endpoint is safe for concurrent use.
type Endpoint struct {
	backend    backend
	region     string
	account    string
	burstStart float64
	partitions map[string]int
	now        func() time.Time
	logger     *slog.Logger
	rec        *recorder

	// engine lets data-plane calls into the backend together but gives
	// control-plane calls (and anything unrecognised) the backend alone:
	// minidyn reads and writes its table map without locking for those.
	engine sync.RWMutex

	sizes *sizeCache // nil unless the backend is written only through e

	tablesMu sync.RWMutex
	tables   map[string]*tableState
	// missing holds tables a DescribeTable found absent, so that requests
	// naming one (a misspelt table in a load test) do not each take the
	// engine's exclusive lock to ask again. Kept only when the endpoint is
	// the backend's only writer (sizes != nil), where CreateTable, which
	// clears an entry, is the only way a table appears.
	missing map[string]bool

	keys keyLocks
}

var _ Source = (*Endpoint)(nil)

// NewEndpoint returns an endpoint configured by cfg.
func NewEndpoint(cfg EndpointConfig) *Endpoint {
	handler := cfg.Backend
	if handler == nil {
		handler = server.NewServer()
	}
	_, embedded := handler.(*server.Server)
	e := &Endpoint{
		backend:    handlerBackend{handler: handler, contextFree: embedded},
		region:     cfg.Region,
		account:    cfg.AccountID,
		burstStart: min(max(cfg.BurstStartSeconds, 0), BurstSeconds),
		partitions: cfg.Partitions,
		now:        cfg.Now,
		logger:     cfg.Logger,
		tables:     make(map[string]*tableState),
	}
	if cfg.Backend == nil || cfg.ExclusiveBackend {
		e.sizes = newSizeCache()
	}
	if e.region == "" {
		e.region = DefaultRegion
	}
	if e.account == "" {
		e.account = DefaultAccountID
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.logger == nil {
		e.logger = slog.New(slog.DiscardHandler)
	}
	e.rec = newRecorder(e.now)
	return e
}

// Samples returns the per-second records of table for the seconds that start
// in [start, end), in time order; seconds without activity, and seconds
// older than SecondRetention, are absent. It implements Source.
func (e *Endpoint) Samples(ctx context.Context, table string, start, end time.Time) ([]Sample, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return e.rec.samples(table, start, end), nil
}

// ServeHTTP handles one DynamoDB API call, or one CloudWatch call on
// CloudWatch's RPC v2 CBOR paths or in its AWS JSON 1.0 protocol
// (X-Amz-Target GraniteServiceVersion20100801.<Operation>).
func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "UnknownOperationException",
			"DynamoDB calls are POST requests")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, "ValidationException",
				"request body exceeds 16 MB")
			return
		}
		writeError(w, http.StatusBadRequest, "SerializationException", "cannot read request body")
		return
	}

	if op, ok := strings.CutPrefix(r.URL.Path, cloudWatchPathPrefix); ok {
		e.serveCloudWatch(w, r, op, body)
		return
	}

	target := r.Header.Get("X-Amz-Target")
	if op, ok := strings.CutPrefix(target, cloudWatchTargetPrefix); ok {
		e.serveCloudWatchJSON(w, op, body)
		return
	}
	op, ok := strings.CutPrefix(target, targetPrefix)
	if !ok || op == "" {
		writeError(w, http.StatusBadRequest, "UnknownOperationException",
			"X-Amz-Target must be DynamoDB_20120810.<Operation>, got "+strconv.Quote(target))
		return
	}
	if planOp, ok := planners[op]; ok {
		e.serveData(r.Context(), w, op, body, planOp)
		return
	}
	if !controlOps[op] {
		writeError(w, http.StatusBadRequest, "UnknownOperationException",
			"unknown operation "+strconv.Quote(op))
		return
	}
	if !json.Valid(body) {
		writeError(w, http.StatusBadRequest, "SerializationException",
			op+": the request body is not valid JSON")
		return
	}
	if op == "CreateTable" || op == "UpdateTable" {
		if bad := checkTableRequest(op, body); bad != nil {
			writeError(w, http.StatusBadRequest, bad.typ, bad.msg)
			return
		}
	}
	e.serveControl(r.Context(), w, op, body, r.Host)
}

// forgetSizes drops the size cache's entries of the table a CreateTable or
// DeleteTable names.
func (e *Endpoint) forgetSizes(body []byte) {
	var req struct{ TableName string }
	if e.sizes != nil && json.Unmarshal(body, &req) == nil {
		e.sizes.forgetTable(req.TableName)
	}
}

// controlOps are the DynamoDB operations (the API of
// aws-sdk-go-v2/service/dynamodb v1.74) forwarded to the backend
// unmetered; any other name is an UnknownOperationException.
var controlOps = func() map[string]bool {
	ops := map[string]bool{}
	for _, op := range strings.Fields(`BatchExecuteStatement CancelBulkOperation CreateBackup
		CreateGlobalTable CreateTable DeleteBackup DeleteResourcePolicy DeleteTable DescribeBackup
		DescribeBulkOperation DescribeContinuousBackups DescribeContributorInsights DescribeEndpoints
		DescribeExport DescribeGlobalTable DescribeGlobalTableSettings DescribeImport
		DescribeKinesisStreamingDestination DescribeLimits DescribeTable DescribeTableReplicaAutoScaling
		DescribeTimeToLive DisableKinesisStreamingDestination EnableKinesisStreamingDestination
		ExecuteStatement ExecuteTransaction ExportTableToPointInTime GetResourcePolicy ImportTable
		ListBackups ListBulkOperations ListContributorInsights ListExports ListGlobalTables ListImports
		ListTables ListTagsOfResource PutResourcePolicy RestoreTableFromBackup RestoreTableToPointInTime
		SearchVectors StartBulkPutItems TagResource UntagResource UpdateContinuousBackups
		UpdateContributorInsights UpdateGlobalTable UpdateGlobalTableSettings
		UpdateKinesisStreamingDestination UpdateTable UpdateTableReplicaAutoScaling UpdateTimeToLive`) {
		ops[op] = true
	}
	return ops
}()

// itemWritingControlOps write items unseen by the data-plane planners.
var itemWritingControlOps = map[string]bool{
	"ExecuteStatement": true, "BatchExecuteStatement": true, "ExecuteTransaction": true, "StartBulkPutItems": true,
}

// serveControl forwards a control-plane call, alone in the backend, and
// learns tables from its success; it answers the operations of localOps
// itself when the backend does not support them. host is the address the
// client called.
func (e *Endpoint) serveControl(ctx context.Context, w http.ResponseWriter, op string, body []byte, host string) {
	e.engine.Lock()
	resp, err := e.backend.call(ctx, op, body)
	e.engine.Unlock()
	if itemWritingControlOps[op] && e.sizes != nil {
		// TODO: PartiQL and bulk calls are neither metered nor throttled;
		// they may change any item, so the size cache starts again.
		e.sizes.forgetAll()
	}
	if err != nil {
		e.backendFailed(w, op, err)
		return
	}
	if answer := localOps[op]; answer != nil && unsupported(resp) {
		out, bad := answer(e, body, host)
		if bad != nil {
			status := http.StatusBadRequest
			if bad.typ == "InternalServerError" {
				status = http.StatusInternalServerError
			}
			writeError(w, status, bad.typ, bad.msg)
			return
		}
		writeBody(w, http.StatusOK, amzJSONContentType, out)
		return
	}

	out := resp.body
	if resp.status == http.StatusOK {
		switch op {
		case "DeleteTable":
			out = e.describeTable(out, "TableDescription", "DELETING")
			e.learn(op, body, e.now())
			e.forgetSizes(body)
		case "CreateTable", "UpdateTable":
			if op == "CreateTable" {
				e.forgetSizes(body)
			}
			e.learn(op, body, e.now())
			out = e.describeTable(out, "TableDescription", "ACTIVE")
		case "DescribeTable":
			out = e.describeTable(out, "Table", "ACTIVE")
		}
	}
	e.reply(w, op, resp, out)
}

// serveData admits, forwards and meters one data-plane call.
func (e *Endpoint) serveData(
	ctx context.Context, w http.ResponseWriter, op string, body []byte, planOp planner,
) {
	p, err := planOp(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", serializationMessage(op, err))
		return
	}
	for _, name := range p.tables {
		if msg := validateTableName(name); msg != "" {
			writeError(w, http.StatusBadRequest, "ValidationException", msg)
			return
		}
	}
	if len(p.tables) == 0 {
		writeError(w, http.StatusBadRequest, "ValidationException", noTableMessage(op))
		return
	}

	states := make(map[string]*tableState, len(p.tables))
	for _, name := range p.tables {
		if t := e.table(ctx, name); t != nil {
			states[name] = t
		}
	}
	if bad := p.check(states); bad != nil {
		writeError(w, http.StatusBadRequest, bad.typ, bad.msg)
		return
	}
	started := e.now()
	var held map[string]json.RawMessage
	var recordHeld func() // records the throttle events of the entries held
	if batchUnprocessedField[op] != "" {
		// A batch goes on with the entries that find capacity and hands
		// the others back unprocessed; one none of whose entries can run
		// is throttled.
		a, err := e.admitBatch(op, p, body, states, started)
		if err != nil {
			writeError(w, http.StatusBadRequest, "SerializationException", serializationMessage(op, err))
			return
		}
		if a.refused != nil {
			writeThrottle(w, a.refused)
			return
		}
		if a.plan != nil {
			p, body, held, recordHeld = a.plan, a.body, a.held, a.record
		}
	} else if th := e.admit(op, p, states, started); th != nil {
		writeThrottle(w, th)
		return
	}

	x := &executor{e: e, op: op, body: body, states: states}
	defer x.release()
	e.engine.RLock()
	resp, used, err := p.run(ctx, x)
	e.engine.RUnlock()
	if resp == nil {
		e.backendFailed(w, op, err)
		return
	}
	if err != nil {
		e.logger.Warn("capacity endpoint could not size a request exactly; charged the minimum",
			"op", op, "err", err)
	}

	now := e.now()
	for _, u := range used {
		e.charge(states[u.table], p, u, now)
	}
	out := resp.body
	if resp.status == http.StatusOK {
		if out, err = withUnprocessed(out, op, held); err != nil {
			e.backendFailed(w, op, fmt.Errorf("adding the entries held back to the response: %w", err))
			return
		}
		out = withConsumedCapacity(out, p, used)
		if recordHeld != nil {
			recordHeld()
		}
		for _, name := range p.tables {
			e.rec.latency(name, op, now, now.Sub(started))
		}
	}
	e.reply(w, op, resp, out)
}

// admit returns why p, a call that is not a batch, may not run: the first
// table (in table order) that is out of capacity, its throttle events
// recorded; nil means p may run. A read of a global index is held to the
// index's limits; a write to the table's and to those of every global
// index (DynamoDB throttles a table write whose index is out of write
// capacity), the refusal naming the index.
func (e *Endpoint) admit(op string, p *plan, states map[string]*tableState, now time.Time) *throttle {
	for _, name := range p.tables {
		t := states[name]
		if t == nil {
			continue
		}
		index, th := t.refusal(p, now)
		if th == nil {
			continue
		}
		th.table = name
		e.rec.throttled(name, index, op, now, p.write, p.events(name), th.reason)
		return th
	}
	return nil
}

// refusal returns why p may not run on t at now, and the index refused
// ("" for the table), or a nil throttle when it may.
func (t *tableState) refusal(p *plan, now time.Time) (string, *throttle) {
	refuse := t.named
	if ix := t.index(p.index); ix != nil && ix.global && !p.write {
		if th := ix.lim.admit(now, false, ix.partitionsOf(p.keys[t.name])); th != nil {
			return refuse(ix, th)
		}
		return "", nil
	}
	if th := t.lim.admit(now, p.write, t.partitionsOf(p.keys[t.name])); th != nil {
		return refuse(nil, th)
	}
	if !p.write {
		return "", nil
	}
	for _, ix := range t.indexes {
		if ix.global {
			if th := ix.lim.admit(now, true, ix.partitionsOf(p.keys[t.name])); th != nil {
				return refuse(ix, th)
			}
		}
	}
	return "", nil
}

// named makes th a refusal of t's index ix (nil for t itself): it names
// the resource and, for an index, says Index in the reason. It returns the
// index's name ("" for the table) and th.
func (t *tableState) named(ix *indexState, th *throttle) (string, *throttle) {
	if ix == nil {
		th.resource = t.arn
		return "", th
	}
	th.reason = "Index" + strings.TrimPrefix(th.reason, "Table")
	th.resource = ix.arn
	return ix.name, th
}

// charge debits and records what one table consumed: local index units
// count as the table's, global index units as each index's own.
func (e *Endpoint) charge(t *tableState, p *plan, u tableUsage, now time.Time) {
	read, write := u.readUnits, u.writeUnits
	for _, ix := range u.indexes {
		if !ix.global {
			read += ix.readUnits
			write += ix.writeUnits
		}
	}
	e.rec.consumed(u.table, "", now, read, write)
	for _, ix := range u.indexes {
		if ix.global {
			e.rec.consumed(u.table, ix.name, now, ix.readUnits, ix.writeUnits)
		}
	}
	if t == nil {
		return
	}
	if !t.onDemand {
		e.rec.provisioned(t.name, "", now, t.rcu, t.wcu)
	}
	parts := t.partitionsOf(p.keys[u.table])
	t.lim.debit(now, false, read, parts)
	t.lim.debit(now, true, write, parts)
	for _, used := range u.indexes {
		if ix := t.index(used.name); ix != nil && ix.global {
			if !t.onDemand {
				e.rec.provisioned(t.name, ix.name, now, ix.rcu, ix.wcu)
			}
			ixParts := ix.partitionsOf(p.keys[u.table])
			ix.lim.debit(now, false, used.readUnits, ixParts)
			ix.lim.debit(now, true, used.writeUnits, ixParts)
		}
	}
}

// reply writes a backend response to op with body (possibly rewritten),
// an error in DynamoDB's shape whatever shape the backend gave it.
func (e *Endpoint) reply(w http.ResponseWriter, op string, resp *backendResponse, body []byte) {
	if id := resp.header.Get(requestIDHeader); id != "" {
		w.Header()[requestIDHeader] = []string{id}
	}
	if resp.status != http.StatusOK {
		writeBody(w, resp.status, amzJSONContentType, cancellationMessage(dynamoError(op, resp.status, body)))
		return
	}
	contentType := resp.header.Get("Content-Type")
	if contentType == "" {
		contentType = amzJSONContentType
	}
	writeBody(w, resp.status, contentType, body)
}

func (e *Endpoint) backendFailed(w http.ResponseWriter, op string, err error) {
	e.logger.Error("capacity endpoint backend call failed", "op", op, "err", err)
	writeError(w, http.StatusInternalServerError, "InternalServerError", "backend call failed")
}

// noTableMessage is DynamoDB's answer to a data-plane call that names no
// table: for a batch or a transaction, the empty member's length
// constraint, as DynamoDB words it.
func noTableMessage(op string) string {
	member, empty := "", ""
	switch op {
	case "BatchGetItem", "BatchWriteItem":
		member, empty = "requestItems", "{}"
	case "TransactGetItems", "TransactWriteItems":
		member, empty = "transactItems", "[]"
	default:
		return "1 validation error detected: the request names no table"
	}
	return fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: "+
		"Member must have length greater than or equal to 1", empty, member)
}
