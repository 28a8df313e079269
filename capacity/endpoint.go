package capacity

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
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
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// Endpoint is an http.Handler speaking DynamoDB's JSON 1.0 protocol. For
// every data-plane request it:
//
//   - throttles it with ProvisionedThroughputExceededException when a
//     provisioned table it touches has less than one unit available;
//   - forwards it to the backend;
//   - computes the capacity it consumed by AWS's rules, using unmetered
//     internal reads of the backend for sizes the response does not show
//     (projected attributes, the old item of a write);
//   - debits the table's limiter, records the consumption per second, and
//     adds ConsumedCapacity to the response when the request asked for it.
//
// Tables and their throughput are learnt from CreateTable and UpdateTable as
// they pass through (or, for a table created elsewhere, from DescribeTable).
// Every response carries X-Amz-Crc32. An Endpoint is safe for concurrent use.
type Endpoint struct {
	backend    backend
	region     string
	account    string
	burstStart float64
	now        func() time.Time
	logger     *slog.Logger
	rec        *recorder

	// engine lets data-plane calls into the backend together but gives
	// control-plane calls (and anything unrecognised) the backend alone:
	// minidyn reads and writes its table map without locking for those.
	engine sync.RWMutex

	tablesMu sync.RWMutex
	tables   map[string]*tableState

	keys keyLocks
}

var _ Source = (*Endpoint)(nil)

// NewEndpoint returns an endpoint configured by cfg.
func NewEndpoint(cfg EndpointConfig) *Endpoint {
	handler := cfg.Backend
	if handler == nil {
		handler = server.NewServer()
	}
	e := &Endpoint{
		backend:    handlerBackend{handler: handler},
		region:     cfg.Region,
		account:    cfg.AccountID,
		burstStart: min(max(cfg.BurstStartSeconds, 0), BurstSeconds),
		now:        cfg.Now,
		logger:     cfg.Logger,
		rec:        newRecorder(),
		tables:     make(map[string]*tableState),
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
	return e
}

// Samples returns the per-second records of table for the seconds that start
// in [start, end), in time order; seconds without activity are absent. It
// implements Source.
func (e *Endpoint) Samples(ctx context.Context, table string, start, end time.Time) ([]Sample, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return e.rec.samples(table, start, end), nil
}

// ServeHTTP handles one DynamoDB API call.
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

	target := r.Header.Get("X-Amz-Target")
	op := target[strings.LastIndex(target, ".")+1:]
	if planOp, ok := planners[op]; ok {
		e.serveData(r.Context(), w, op, body, planOp)
		return
	}
	e.serveControl(r.Context(), w, op, body)
}

// serveControl forwards a control-plane or unrecognised call, alone in the
// backend, and learns tables from its success.
func (e *Endpoint) serveControl(ctx context.Context, w http.ResponseWriter, op string, body []byte) {
	e.engine.Lock()
	resp, err := e.backend.call(ctx, op, body)
	e.engine.Unlock()
	if err != nil {
		e.backendFailed(w, op, err)
		return
	}

	out := resp.body
	if resp.status == http.StatusOK {
		switch op {
		case "DeleteTable":
			out = e.describeTable(out, "TableDescription", "DELETING")
			e.learn(op, body, e.now())
		case "CreateTable", "UpdateTable":
			e.learn(op, body, e.now())
			out = e.describeTable(out, "TableDescription", "ACTIVE")
		case "DescribeTable":
			out = e.describeTable(out, "Table", "ACTIVE")
		}
	}
	e.reply(w, resp, out)
}

// serveData admits, forwards and meters one data-plane call.
func (e *Endpoint) serveData(
	ctx context.Context, w http.ResponseWriter, op string, body []byte, planOp planner,
) {
	p, err := planOp(body)
	if err != nil {
		// Not a request the endpoint can read: the backend answers with its
		// own validation error, and nothing is consumed.
		e.logger.Debug("capacity endpoint cannot read request; forwarding unmetered", "op", op, "err", err)
		e.serveUnmetered(ctx, w, op, body)
		return
	}

	states := make(map[string]*tableState, len(p.tables))
	for _, name := range p.tables {
		if t := e.table(ctx, name); t != nil {
			states[name] = t
		}
	}
	if t := e.admit(p, states); t != nil {
		writeThrottle(w, t.arn, p.write)
		return
	}

	x := &executor{e: e, op: op, body: body, states: states}
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
		e.charge(states[u.table], u, now)
	}
	out := resp.body
	if resp.status == http.StatusOK {
		out = withConsumedCapacity(out, p, used)
	}
	e.reply(w, resp, out)
}

// admit returns the first table p would exceed the throughput of, recording
// the throttle event, or nil when p may run.
//
// TODO: a batch call is refused whole when any of its tables is short;
// DynamoDB refuses it only when nothing could be done and otherwise returns
// the throttled part as UnprocessedKeys or UnprocessedItems. Partition-level
// limits (3,000 RCU and 1,000 WCU per partition) are not modelled either.
func (e *Endpoint) admit(p *plan, states map[string]*tableState) *tableState {
	now := e.now()
	for _, name := range p.tables {
		t := states[name]
		if t == nil {
			continue
		}
		if b := t.bucket(p.write); b != nil && !b.AllowAt(now) {
			e.rec.throttled(name, now, p.write)
			return t
		}
	}
	return nil
}

// charge debits and records what one table consumed.
func (e *Endpoint) charge(t *tableState, u tableUsage, now time.Time) {
	e.rec.consumed(u.table, now, u.readUnits, u.writeUnits)
	if t == nil {
		return
	}
	if t.read != nil && u.readUnits > 0 {
		t.read.DebitAt(now, u.readUnits)
	}
	if t.write != nil && u.writeUnits > 0 {
		t.write.DebitAt(now, u.writeUnits)
	}
}

// serveUnmetered forwards a call the endpoint cannot read.
func (e *Endpoint) serveUnmetered(ctx context.Context, w http.ResponseWriter, op string, body []byte) {
	e.engine.RLock()
	resp, err := e.backend.call(ctx, op, body)
	e.engine.RUnlock()
	if err != nil {
		e.backendFailed(w, op, err)
		return
	}
	e.reply(w, resp, resp.body)
}

// reply writes a backend response with body (possibly rewritten).
func (e *Endpoint) reply(w http.ResponseWriter, resp *backendResponse, body []byte) {
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
