package refserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// DefaultKeyAttribute names the table's partition key when
// Config.KeyAttribute is empty.
const DefaultKeyAttribute = "id"

// MaxBodyBytesLimit is the largest Profile.MaxBodyBytes accepted: a body
// this size still makes an item below DynamoDB's 400 KB item limit.
const MaxBodyBytesLimit int64 = 256 << 10

// DynamoDB is the part of *dynamodb.Client the server uses.
type DynamoDB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput,
		optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput,
		optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
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

	// Profile is the set of protections.
	Profile Profile

	// ClientIPHeader, when set, names a request header holding the client's
	// IP, for when the load generator cannot bind extra loopback source
	// addresses. A missing or malformed value falls back to the connection's
	// remote IP. Only for tests and local runs: any client can forge it.
	ClientIPHeader string

	// Now is the clock of the rate limiter, the cache and received_at;
	// nil means time.Now.
	Now func() time.Time

	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// Server is the reference HTTP API. It is an http.Handler, safe for
// concurrent use; make one with New.
type Server struct {
	db       DynamoDB
	table    string
	key      string
	profile  Profile
	ipHeader string
	now      func() time.Time
	log      *slog.Logger

	limiter *clientLimiter // nil: no rate limit
	cache   *itemCache     // nil: no cache
	mux     *http.ServeMux
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
	if p.MaxBodyBytes > MaxBodyBytesLimit {
		return nil, fmt.Errorf("refserver: profile %q: max_body_bytes %d exceeds %d",
			p.Name, p.MaxBodyBytes, MaxBodyBytesLimit)
	}

	s := &Server{
		db:       db,
		table:    cfg.Table,
		key:      cfg.KeyAttribute,
		profile:  p,
		ipHeader: cfg.ClientIPHeader,
		now:      cfg.Now,
		log:      cfg.Logger,
		mux:      http.NewServeMux(),
	}
	if s.key == "" {
		s.key = DefaultKeyAttribute
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if p.RateLimit != nil {
		s.limiter = newClientLimiter(*p.RateLimit)
	}
	if p.Cache != nil {
		s.cache = newItemCache(*p.Cache)
	}

	s.mux.HandleFunc("GET /items/{id}", s.getItem)
	s.mux.HandleFunc("POST /record", s.record)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	return s, nil
}

// Profile returns the profile the server runs, defaults filled in.
func (s *Server) Profile() Profile {
	return s.profile
}

// ServeHTTP answers one request: recovers from panics, applies the rate
// limit (health checks exempt), then routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	defer s.recoverPanic(sw, r)

	if s.limiter != nil && r.URL.Path != "/healthz" {
		ok, wait := s.limiter.allow(s.clientIP(r), s.now())
		if !ok {
			secs := retryAfterSeconds(wait)
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

// clientIP names the client for rate limiting: the IP in ClientIPHeader when
// that is set and valid, else the connection's remote IP.
func (s *Server) clientIP(r *http.Request) string {
	if s.ipHeader != "" {
		if addr, err := netip.ParseAddr(r.Header.Get(s.ipHeader)); err == nil {
			return addr.Unmap().WithZone("").String()
		}
	}

	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		return addr.Unmap().WithZone("").String()
	}
	return host
}

// statusWriter remembers whether the header was written.
type statusWriter struct {
	http.ResponseWriter
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(status int) {
	w.wroteHeader = true
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
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
