package refserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/redis/go-redis/v9"
)

// DefaultKeyAttribute names the table's partition key when
// Config.KeyAttribute is empty.
const DefaultKeyAttribute = "id"

// DefaultUserIndex names the GSI on user_id when Config.UserIndex is empty.
const DefaultUserIndex = "user_id-index"

// MaxBodyBytesLimit is the largest Profile.MaxBodyBytes accepted: a body
// this size still makes an item below DynamoDB's 400 KB item limit.
const MaxBodyBytesLimit int64 = 256 << 10

// DynamoDB is the part of *dynamodb.Client the server uses.
type DynamoDB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput,
		optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput,
		optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput,
		optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput,
		optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput,
		optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

var _ DynamoDB = (*dynamodb.Client)(nil)

// Config configures a Server. Table is required; every other zero field
// means its default.
type Config struct {
	// Table is the DynamoDB table holding the items.
	Table string

	// KeyAttribute is the table's partition key, a string; "" means
	// DefaultKeyAttribute.
	KeyAttribute string

	// UserIndex is the GSI whose partition key is user_id, used by
	// GET /users/{user_id}/items; "" means DefaultUserIndex.
	UserIndex string

	// Profile is the set of protections.
	Profile Profile

	// Redis holds shared limiter and dedupe state when the profile asks for
	// store: redis; nil is an error for such a profile.
	Redis redis.UniversalClient

	// ClientIPHeader, when set, names a request header holding the client's
	// IP, for when the load generator cannot bind extra loopback source
	// addresses. A missing or malformed value falls back to the connection's
	// remote IP. Only for tests and local runs: any client can forge it.
	// Rate limits keyed "forwarded" ignore it and trust only their proxies.
	ClientIPHeader string

	// Now is the clock of the limiters, the cache and received_at; nil
	// means time.Now. Redis-backed limiters use Redis's clock instead.
	Now func() time.Time

	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// Server is the reference HTTP API. It is an http.Handler, safe for
// concurrent use; make one with New.
type Server struct {
	db        DynamoDB
	table     string
	key       string
	userIndex string
	profile   Profile
	ipHeader  string
	now       func() time.Time
	log       *slog.Logger
	metrics   *metrics

	limiter *limiter    // nil: no rate limit
	writes  *memStore   // per-principal write limit; nil: none
	scans   *memStore   // Scan cap; nil: none
	cache   *itemCache  // nil: no cache
	flight  *coalescer  // nil: no coalescing
	dedupe  dedupeStore // nil: no dedupe window
	shed    *shedder    // nil: no load shedding
	retry   func(*dynamodb.Options)
	mux     *http.ServeMux
	routes  map[string]string // mux pattern -> route name
}

// New returns a Server reading and writing cfg.Table through db.
func New(db DynamoDB, cfg Config) (*Server, error) {
	if db == nil {
		return nil, errors.New("refserver: no DynamoDB client")
	}
	if cfg.Table == "" {
		return nil, errors.New("refserver: no table name")
	}
	p, err := cfg.Profile.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("refserver: profile %q: %w", cfg.Profile.Name, err)
	}

	s := &Server{
		db: db, table: cfg.Table, key: cfg.KeyAttribute, userIndex: cfg.UserIndex,
		profile: p, ipHeader: cfg.ClientIPHeader, now: cfg.Now, log: cfg.Logger,
		metrics: newMetrics(), mux: http.NewServeMux(),
	}
	if s.key == "" {
		s.key = DefaultKeyAttribute
	}
	if s.userIndex == "" {
		s.userIndex = DefaultUserIndex
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if err := s.protect(cfg.Redis); err != nil {
		return nil, fmt.Errorf("refserver: profile %q: %w", p.Name, err)
	}
	s.handle()
	return s, nil
}

// protect builds the protections the profile asks for.
func (s *Server) protect(rdb redis.UniversalClient) error {
	p := s.profile
	if p.RateLimit != nil {
		lim, err := newLimiter(*p.RateLimit, rdb, s.ipHeader, s.metrics, s.log)
		if err != nil {
			return fmt.Errorf("rate_limit: %w", err)
		}
		s.limiter = lim
	}
	if p.WriteLimit != nil {
		s.writes = newMemStore(AlgorithmGCRA, DefaultMaxKeys)
	}
	if p.Scan != nil && p.Scan.PerMinute > 0 {
		s.scans = newMemStore(AlgorithmGCRA, 1)
	}
	if p.Cache != nil {
		s.cache = newItemCache(*p.Cache)
		if p.Cache.Coalesce {
			s.flight = &coalescer{}
		}
	}
	if p.DedupeWindow > 0 {
		s.dedupe = newDedupe(rdb)
	}
	if p.Shed != nil {
		s.shed = &shedder{cfg: *p.Shed}
	}
	s.retry = retryOption(p.Retry)
	return nil
}

func (s *Server) handle() {
	s.routes = map[string]string{
		"GET /items/{id}":            RouteGetItem,
		"PUT /items/{id}":            RoutePutItem,
		"GET /users/{user_id}/items": RouteUserItems,
		"GET /search":                RouteSearch,
		"POST /record":               RouteRecord,
		"GET /healthz":               "healthz",
		"GET /metrics":               "metrics",
	}
	s.mux.HandleFunc("GET /items/{id}", s.getItem)
	s.mux.HandleFunc("PUT /items/{id}", s.putItem)
	s.mux.HandleFunc("GET /users/{user_id}/items", s.userItems)
	s.mux.HandleFunc("GET /search", s.search)
	s.mux.HandleFunc("POST /record", s.record)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /metrics", s.serveMetrics)
}

// Profile returns the profile the server runs, defaults filled in.
func (s *Server) Profile() Profile {
	return s.profile
}

// ServeHTTP answers one request: recovers from panics, applies the request
// timeout and the rate limit (health checks and metrics exempt), then
// routes, counting the answer by route and status.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	_, pattern := s.mux.Handler(r)
	route, known := s.routes[pattern]
	if !known {
		route = "unknown"
	}
	defer func() { s.metrics.request(route, sw.status()) }()
	defer s.recoverPanic(sw, r)

	if t := s.profile.RequestTimeout; t > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), t)
		defer cancel()
		r = r.WithContext(ctx)
	}

	if s.limiter != nil && known && route != "healthz" && route != "metrics" {
		v := s.limiter.check(r.Context(), r, route, s.now())
		v.setHeaders(sw.Header(), s.profile.RateLimit.Algorithm)
		if v.storeErr {
			writeRetryError(sw, http.StatusServiceUnavailable, 1,
				"rate limiter unavailable and configured to fail closed: retry after 1 s")
			return
		}
		if !v.allowed {
			secs := retryAfterSeconds(v.retryAfter)
			writeRetryError(sw, http.StatusTooManyRequests, secs,
				fmt.Sprintf("rate limit exceeded: retry after %d s", secs))
			return
		}
	}
	s.route(sw, r)
}

// route dispatches to the handlers, answering unknown routes and wrong
// methods in JSON rather than ServeMux's plain text.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		s.mux.ServeHTTP(w, r) // sets the path values Handler does not
		return
	}

	// ServeMux only tells 404 from 405 by answering; let it answer into a
	// recorder and keep its status and Allow header.
	rec := &headerRecorder{header: make(http.Header)}
	h.ServeHTTP(rec, r)

	switch rec.status {
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", rec.header.Get("Allow"))
		writeError(w, http.StatusMethodNotAllowed,
			fmt.Sprintf("method %s not allowed on %s", r.Method, r.URL.Path))
	default:
		writeError(w, http.StatusNotFound, fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
	}
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) serveMetrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_ = s.metrics.write(w) // the client may be gone; nothing left to tell it
}

// recoverPanic turns a panic in a handler into a 500, so one bug costs one
// request and not the process.
func (s *Server) recoverPanic(w *statusWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v) // the handler asked net/http to drop the connection
	}

	s.log.LogAttrs(r.Context(), slog.LevelError, "handler panicked",
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
	if !w.wroteHeader {
		writeError(w, http.StatusInternalServerError, "internal error")
	}
}

// clientIP names the client for the write limit: the rate limit's
// principal when there is one, else the connection's (or header's) IP.
func (s *Server) clientIP(r *http.Request) string {
	if s.limiter != nil {
		p, _ := s.limiter.principal(r)
		return p
	}
	return "ip:" + clientAddr(r, s.ipHeader).String()
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	wroteHeader bool
	code        int
}

func (w *statusWriter) WriteHeader(status int) {
	if !w.wroteHeader {
		w.code = status
	}
	w.wroteHeader = true
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.code = http.StatusOK
	}
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) status() int {
	if !w.wroteHeader {
		return http.StatusOK
	}
	return w.code
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter {
	return w.ResponseWriter
}

// headerRecorder is a ResponseWriter that keeps the status and header and
// drops the body.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header { return h.header }

func (h *headerRecorder) WriteHeader(status int) {
	if h.status == 0 {
		h.status = status
	}
}

func (h *headerRecorder) Write(b []byte) (int, error) {
	h.WriteHeader(http.StatusOK)
	return len(b), nil
}
