package target

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Defaults for the zero values of [Class] fields.
const (
	DefaultWorkers = 512
	DefaultTimeout = 5 * time.Second
)

// Config describes one run of the load generator. Its zero value is not
// usable: BaseURL, Duration and at least one class are required.
type Config struct {
	// BaseURL is the target, e.g. http://127.0.0.1:8080. Request paths are
	// appended to it. Its host must be a literal loopback address or
	// "localhost" unless named in AllowHosts.
	BaseURL string

	// Duration is the whole run. Each class plays its phases from the
	// start; a class whose phases end early sends nothing afterwards, and
	// phases past Duration are cut off.
	Duration time.Duration

	// Seed seeds every random choice (keys, mix, randid, uuid), together
	// with the class index, so equal configs draw equal sequences.
	Seed int64

	Classes []Class

	// AllowHosts names non-loopback hosts (as written in BaseURL, compared
	// case-insensitively, without port) that may be targeted.
	AllowHosts []string

	// Logger receives optional diagnostics; nil discards them.
	Logger *slog.Logger

	// Progress, when set, counts requests as they go, for a live display.
	Progress *Progress

	// Raw, when set, receives one CSV line per finished request (see
	// RawHeader), streamed through a buffer so no request is kept in
	// memory; RawTag fills its first column (the harness puts the profile
	// there). Lines are in finishing order. Result.RawErr reports a failed
	// write; recording goes on without the raw file. RawHeader is written
	// first unless RawAppend says the writer already holds it (a run after
	// another into the same file).
	Raw       io.Writer
	RawTag    string
	RawAppend bool

	// StdClient makes every class use net/http even where the generator
	// would give each worker its own plain HTTP/1.1 connection (see the
	// package documentation); for comparing the two.
	StdClient bool

	// Shard, when Count > 1, sends only slice Index of Count of the run,
	// so Count generators together send it all, each request with the
	// keys and ids the whole run would give it. In the open
	// model a shard sends the requests n with n mod Count == Index, or,
	// with per-client identities, the requests of the virtual clients c
	// with c mod Count == Index; in the closed model it runs the clients c
	// with c mod Count == Index. Identity lists are split too: a shard uses
	// only the entries j with j mod Count == Index, so no two shards claim
	// the same address, key or user agent, and a non-empty list shorter
	// than Count is an error. So a request's identity in a sharded run may
	// differ from the one an unsharded run gives it.
	Shard Shard
}

// Shard is slice Index (from 0) of Count of a run.
type Shard struct{ Index, Count int }

func (s Shard) count() int {
	return max(s.Count, 1)
}

// poolShare returns how many of the entries 0..n-1 of a list are this
// shard's: those whose index mod Count is Index.
func (s Shard) poolShare(n int) int {
	return (n - s.Index + s.count() - 1) / s.count()
}

// mine reports whether request (or closed-model client) n is this shard's.
func (s Shard) mine(n int64) bool {
	return n%int64(s.count()) == int64(s.Index)
}

// Class is one traffic class: who sends, what, and how fast.
type Class struct {
	Name string

	// Phases are played back to back from the start of the run.
	Phases []Phase

	// Mix is the set of requests, each chosen with probability Weight over
	// the sum of weights.
	Mix []Request

	// Keys draws the {{key}} of each request; required when a template of
	// the mix uses {{key}}.
	Keys KeyDist

	// SourceAddr is the local address connections are bound to, so the
	// server sees a distinct client IP; the zero Addr leaves it to the OS.
	// See [CanBind].
	SourceAddr netip.Addr

	// Headers are sent on every request of the class; a request's own
	// Headers override them.
	Headers map[string]string

	// Workers bounds the requests in flight; 0 means DefaultWorkers.
	Workers int

	// Timeout bounds each request, from send to the end of its body;
	// 0 means DefaultTimeout. It also bounds how long the run waits for
	// in-flight requests at its end.
	Timeout time.Duration

	// MaxLateness is how long after its intended start a request may wait
	// for a free worker before it is Dropped; 0 means DefaultMaxLateness.
	MaxLateness time.Duration

	// LateMode says what happens to a request that finds every worker
	// busy: LateWait (the zero value) waits up to MaxLateness and is
	// counted Late, LateDrop drops it at once.
	LateMode LateMode

	// Executor chooses the open model (ArrivalRate, the zero value:
	// requests start on the schedule of Phases) or the closed model
	// (Concurrency: clients each send, wait for the answer, think for
	// ThinkTime and send again; Phases are then ignored).
	Executor Executor

	// Clients is the number of virtual clients: the closed model's
	// concurrency, and for either executor the size of the identity pool
	// when Identities.PerClient is set. 0 means 1 for the closed model, or
	// with ClientPhases the most they have active.
	Clients int

	// ClientPhases, for the closed model only, are played back to back
	// from the start of the run and say how many of the clients are
	// active: clients 0 .. n-1 when n are (see [ClientPhase]). A client
	// beyond the count finishes the request it has in flight, then waits
	// until it is active again, keeping its connections and its number.
	// After the last phase no client is active. Empty: all Clients are
	// active for the whole run. Clients, when set, must be at least the
	// most any phase has active.
	ClientPhases []ClientPhase

	// ThinkTime is how long a closed-model client waits between an answer
	// and its next request.
	ThinkTime time.Duration

	// Arrival is the open model's arrival process: ArrivalUniform (the
	// zero value, evenly spaced) or ArrivalPoisson (exponential gaps drawn
	// from the run's seed, at the same mean rate).
	Arrival Arrival

	// Identities says who each request claims to be; nil sends every
	// request from SourceAddr with the default User-Agent.
	Identities *Identities

	// DisableKeepAlive opens a new connection for every request.
	DisableKeepAlive bool

	// MaxConns caps the open connections of the class (per source
	// address); 0 means no cap beyond Workers.
	MaxConns int

	// Protocol is the HTTP version spoken: ProtocolHTTP1 (the zero value),
	// ProtocolH2C (HTTP/2 without TLS, to an http:// target) or ProtocolH2
	// (HTTP/2 over TLS, to an https:// target).
	Protocol Protocol

	// InsecureTLS skips verifying the server's certificate, for loopback
	// servers with self-signed ones.
	InsecureTLS bool

	// Retry says whether and how a failed request is sent again; the zero
	// value never retries.
	Retry RetryPolicy
}

// Executor is how a class decides when to send.
type Executor int

// Executors.
const (
	ArrivalRate Executor = iota // open model: requests start on schedule
	Concurrency                 // closed model: Clients clients with think time
)

// Arrival is the open model's arrival process.
type Arrival int

// Arrival processes.
const (
	ArrivalUniform Arrival = iota // evenly spaced by the integrated rate
	ArrivalPoisson                // exponential gaps, same mean rate
)

// LateMode is what happens to a request that finds every worker busy.
type LateMode int

// Late modes.
const (
	LateWait LateMode = iota // wait up to MaxLateness, counted Late
	LateDrop                 // drop at once, counted Dropped
)

// Protocol is the HTTP version a class speaks.
type Protocol int

// Protocols.
const (
	ProtocolHTTP1 Protocol = iota // HTTP/1.1
	ProtocolH2C                   // HTTP/2 over cleartext TCP (prior knowledge)
	ProtocolH2                    // HTTP/2 over TLS
)

// fits reports whether p can be spoken to a target of the URL scheme: the
// transport would otherwise fall back to HTTP/1.1 without a word, and the
// run would measure another protocol than the one asked for.
func (p Protocol) fits(scheme string) error {
	switch {
	case p == ProtocolH2 && scheme != "https":
		return fmt.Errorf("protocol h2 is HTTP/2 over TLS and needs an https:// target, got %s://; "+
			"for HTTP/2 without TLS use h2c", scheme)
	case p == ProtocolH2C && scheme != "http":
		return fmt.Errorf("protocol h2c is HTTP/2 without TLS and needs an http:// target, got %s://; "+
			"for HTTP/2 over TLS use h2", scheme)
	}
	return nil
}

// Phase is a stretch of a class's schedule during which the request rate
// moves linearly from StartRPS to EndRPS (requests per second).
type Phase struct {
	Duration time.Duration
	StartRPS float64
	EndRPS   float64
}

// Request is one kind of request in a class's mix. Every request carries
// User-Agent "abusesim" (or the identity's) and, when it has a body,
// Content-Type "application/json"; the class's Headers, then the
// request's, override them. Header values are templates too.
type Request struct {
	Name    string
	Weight  int
	Method  string    // "" means GET
	Path    *Template // appended to Config.BaseURL, e.g. "/items/{{key}}"
	Body    *Template // nil: no body
	Headers map[string]string
	// HeaderTemplates, when set, are executed per request and override
	// Headers of the same name.
	HeaderTemplates map[string]*Template
}

func (c *Class) workers() int {
	if c.Workers == 0 {
		return DefaultWorkers
	}
	return c.Workers
}

func (c *Class) timeout() time.Duration {
	if c.Timeout == 0 {
		return DefaultTimeout
	}
	return c.Timeout
}

func (r *Request) method() string {
	if r.Method == "" {
		return "GET"
	}
	return r.Method
}

// ErrNonLoopbackHost is the refusal of a target outside loopback that
// Config.AllowHosts does not name.
var ErrNonLoopbackHost = errors.New("refusing non-loopback host")

// Validate reports what [Run] would refuse in cfg, so a caller can check a
// configuration before it sets up anything to run it against.
func (cfg *Config) Validate() error {
	_, err := cfg.validate()
	return err
}

// validate checks cfg and returns the parsed base URL.
func (cfg *Config) validate() (*url.URL, error) {
	base, err := checkBaseURL(cfg.BaseURL, cfg.AllowHosts)
	if err != nil {
		return nil, err
	}
	if cfg.Duration <= 0 {
		return nil, fmt.Errorf("target: duration %v must be positive", cfg.Duration)
	}
	if len(cfg.Classes) == 0 {
		return nil, errors.New("target: no traffic classes")
	}
	if cfg.Shard.Count < 0 || cfg.Shard.Index < 0 || cfg.Shard.Index >= cfg.Shard.count() {
		return nil, fmt.Errorf("target: shard %d/%d: want index 0..count-1", cfg.Shard.Index, cfg.Shard.Count)
	}

	seen := map[string]bool{}
	for i := range cfg.Classes {
		c := &cfg.Classes[i]
		label := c.Name
		if label == "" {
			label = fmt.Sprint(i + 1)
		} else if seen[c.Name] {
			return nil, fmt.Errorf("target: class %s: name used twice", c.Name)
		}
		seen[c.Name] = true
		if err := c.validate(); err != nil {
			return nil, fmt.Errorf("target: class %s: %w", label, err)
		}
		if err := c.Protocol.fits(base.Scheme); err != nil {
			return nil, fmt.Errorf("target: class %s: %w", label, err)
		}
		if c.Identities != nil {
			if err := c.Identities.checkShard(cfg.Shard); err != nil {
				return nil, fmt.Errorf("target: class %s: shard %d/%d: identities: %w",
					label, cfg.Shard.Index+1, cfg.Shard.Count, err)
			}
		}
	}
	return base, nil
}

func (c *Class) validate() error {
	if len(c.Phases) == 0 && c.Executor == ArrivalRate {
		return errors.New("no phases")
	}
	for i, p := range c.Phases {
		if err := p.validate(); err != nil {
			return fmt.Errorf("phase %d: %w", i+1, err)
		}
	}
	if err := c.validateClientPhases(); err != nil {
		return err
	}
	if len(c.Mix) == 0 {
		return errors.New("no requests in the mix")
	}
	for i := range c.Mix {
		r := &c.Mix[i]
		label := r.Name
		if label == "" {
			label = fmt.Sprint(i + 1)
		}
		if err := r.validate(c.Keys != nil); err != nil {
			return fmt.Errorf("request %s: %w", label, err)
		}
	}
	if c.Workers < 0 {
		return fmt.Errorf("workers %d must not be negative", c.Workers)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("timeout %v must not be negative", c.Timeout)
	}
	if c.MaxLateness < 0 {
		return fmt.Errorf("max lateness %v must not be negative", c.MaxLateness)
	}
	if c.Clients < 0 || c.MaxConns < 0 || c.ThinkTime < 0 {
		return errors.New("clients, max connections and think time must not be negative")
	}
	if err := c.Retry.validate(); err != nil {
		return fmt.Errorf("retry: %w", err)
	}
	if c.Identities != nil {
		if err := c.Identities.validate(); err != nil {
			return fmt.Errorf("identities: %w", err)
		}
	}
	return nil
}

func (c *Class) validateClientPhases() error {
	if len(c.ClientPhases) == 0 {
		return nil
	}
	if c.Executor != Concurrency {
		return errors.New("client phases are for the concurrency executor only")
	}
	for i, p := range c.ClientPhases {
		if err := p.validate(); err != nil {
			return fmt.Errorf("client phase %d: %w", i+1, err)
		}
	}
	if peak := newClientSchedule(c.ClientPhases).peak(); c.Clients > 0 && c.Clients < peak {
		return fmt.Errorf("client phases have %d clients active, more than the %d clients",
			peak, c.Clients)
	}
	return nil
}

func (p Phase) validate() error {
	if p.Duration <= 0 {
		return errors.New("duration must be positive")
	}
	for _, rps := range []float64{p.StartRPS, p.EndRPS} {
		if !(rps >= 0) || math.IsInf(rps, 0) {
			return fmt.Errorf("rate %v must be a finite number >= 0", rps)
		}
	}
	return nil
}

func (r *Request) validate(haveKeys bool) error {
	if r.Weight <= 0 {
		return fmt.Errorf("weight %d must be positive", r.Weight)
	}
	if r.Path == nil {
		return errors.New("no path template")
	}
	if !strings.HasPrefix(r.Path.String(), "/") {
		return fmt.Errorf("path %q must start with /", r.Path)
	}
	if !validMethod(r.method()) {
		return fmt.Errorf("method %q is not an HTTP method token", r.Method)
	}
	if !haveKeys && r.usesKey() {
		return errors.New("template uses {{key}} but the class has no key distribution")
	}
	return nil
}

// usesKey reports whether any template of r has a {{key}}.
func (r *Request) usesKey() bool {
	if r.Path.UsesKey() || (r.Body != nil && r.Body.UsesKey()) {
		return true
	}
	for _, t := range r.HeaderTemplates {
		if t.UsesKey() {
			return true
		}
	}
	return false
}

func validMethod(m string) bool {
	for _, c := range m {
		if c < '!' || c > '~' || strings.ContainsRune(`()<>@,;:\"/[]?={}`, c) {
			return false
		}
	}
	return m != ""
}

// checkBaseURL parses raw and refuses hosts outside loopback that allow
// does not name.
func checkBaseURL(raw string, allow []string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("target: base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("target: base URL %q: scheme must be http or https", raw)
	}
	host := u.Hostname()
	if host == "" {
		return nil, fmt.Errorf("target: base URL %q: no host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("target: base URL %q: must not have a query or fragment", raw)
	}
	if !IsLoopbackHost(host) && !hostAllowed(host, allow) {
		return nil, fmt.Errorf("target: %w %s: name it in AllowHosts to allow it", ErrNonLoopbackHost, host)
	}
	return u, nil
}

// IsLoopbackHost reports whether host is "localhost" or a literal loopback
// IP (IPv4-mapped forms included). Other names are not resolved, since what
// a name resolves to can change; they count as not loopback.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

func hostAllowed(host string, allow []string) bool {
	for _, a := range allow {
		if strings.EqualFold(strings.TrimSpace(a), host) {
			return true
		}
	}
	return false
}
