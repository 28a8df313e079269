package refserver

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Rate limiting algorithms, the values of RateLimit.Algorithm.
const (
	// AlgorithmGCRA is the generic cell rate algorithm: one timestamp per
	// key, exact under concurrency. The default.
	AlgorithmGCRA = "gcra"

	// AlgorithmTokenBucket is a bucket of Burst tokens refilled at
	// Requests per Period.
	AlgorithmTokenBucket = "token-bucket"

	// AlgorithmSlidingWindow weighs the previous fixed window's count by how
	// much of it still overlaps the sliding window (Cloudflare's estimate).
	AlgorithmSlidingWindow = "sliding-window"

	// AlgorithmFixedWindowNaive is the limiter of the seed article: GET the
	// window's count, then SET it to 1 or INCR it as separate round trips,
	// failing open on any store error. Concurrent requests race past it.
	AlgorithmFixedWindowNaive = "fixed-window-naive"
)

// What a rate limit is keyed by, the values of RateLimit.Key.
const (
	// KeyIP keys by the connection's remote IP (or Config.ClientIPHeader).
	KeyIP = "ip"

	// KeyForwarded keys by the client IP in X-Forwarded-For when the
	// connection comes from a trusted proxy: the rightmost address that is
	// not itself a trusted proxy. From anyone else the header is ignored.
	KeyForwarded = "forwarded"

	// KeyAPIKey keys by the API key header; requests without one are keyed
	// by IP and get the anonymous limit.
	KeyAPIKey = "api_key"

	// KeyGlobal puts every client of a route in one bucket.
	KeyGlobal = "global"
)

// Where limiter state lives, the values of RateLimit.Store.
const (
	StoreMemory = "memory" // this process only, bounded by RateLimit.MaxKeys
	StoreRedis  = "redis"  // shared, atomic, on Redis's clock (Config.Redis)
)

// What to do when the limiter's store fails, the values of
// RateLimit.OnStoreError.
const (
	FailOpen   = "open"   // admit the request
	FailClosed = "closed" // refuse it with 503 and Retry-After
	FailLocal  = "local"  // decide with an in-memory limiter of this process
)

// Route names, used by RateLimit.Routes and in metrics.
const (
	RouteGetItem   = "get_item"
	RoutePutItem   = "put_item"
	RouteUserItems = "user_items"
	RouteSearch    = "search"
	RouteRecord    = "record"
)

// Defaults of a RateLimit's zero fields.
const (
	DefaultAlgorithm    = AlgorithmGCRA
	DefaultAPIKeyHeader = "X-API-Key"
	DefaultMaxKeys      = 100_000
)

// DefaultMaxClients is the old name of DefaultMaxKeys.
const DefaultMaxClients = DefaultMaxKeys

// Limit is Requests per Period. GCRA and the token bucket also let Burst
// requests through at once (0 means Requests); the window algorithms count
// Requests per window of length Period and ignore Burst.
type Limit struct {
	Requests int           `yaml:"requests" json:"requests"`
	Period   time.Duration `yaml:"period" json:"period"`
	Burst    int           `yaml:"burst,omitempty" json:"burst,omitempty"`
}

// RouteLimits are the limits of one route, per key class; a nil class
// falls back to the RateLimit's limit of that class.
type RouteLimits struct {
	Anonymous *Limit `yaml:"anonymous,omitempty" json:"anonymous,omitempty"`
	Keyed     *Limit `yaml:"keyed,omitempty" json:"keyed,omitempty"`
}

// RateLimit says how requests are limited before they reach a handler
// (GET /healthz and GET /metrics are exempt). Zero fields mean the
// defaults: GCRA, keyed by IP, in memory, failing open.
//
// A request is anonymous unless Key is KeyAPIKey and it carries an API
// key. It is checked against its route's limit for its class when Routes
// has one (in a bucket of that route), else against the class's limit (in
// one bucket shared by all routes).
type RateLimit struct {
	Algorithm      string   `yaml:"algorithm,omitempty" json:"algorithm,omitempty"`
	Key            string   `yaml:"key,omitempty" json:"key,omitempty"`
	TrustedProxies []string `yaml:"trusted_proxies,omitempty" json:"trusted_proxies,omitempty"`
	APIKeyHeader   string   `yaml:"api_key_header,omitempty" json:"api_key_header,omitempty"`

	// APIKeys, when set, are the only keys KeyAPIKey accepts: a request
	// with any other key is anonymous and keyed by IP. Empty: any key is
	// accepted, so a client rotating made-up keys gets a fresh bucket for
	// each (the server has no key registry of its own).
	APIKeys []string `yaml:"api_keys,omitempty" json:"api_keys,omitempty"`

	Store        string `yaml:"store,omitempty" json:"store,omitempty"`
	OnStoreError string `yaml:"on_store_error,omitempty" json:"on_store_error,omitempty"`

	// MaxKeys bounds the keys an in-memory store keeps (0 means
	// DefaultMaxKeys); past it the least recently used key is dropped.
	MaxKeys int `yaml:"max_keys,omitempty" json:"max_keys,omitempty"`

	// Anonymous is the limit of requests without an API key; required.
	Anonymous Limit `yaml:"anonymous" json:"anonymous"`

	// Keyed is the limit of requests with an API key; nil means Anonymous.
	Keyed *Limit `yaml:"keyed,omitempty" json:"keyed,omitempty"`

	// Routes overrides the limits of some routes, by route name.
	Routes map[string]RouteLimits `yaml:"routes,omitempty" json:"routes,omitempty"`
}

var (
	algorithms = []string{AlgorithmGCRA, AlgorithmTokenBucket, AlgorithmSlidingWindow, AlgorithmFixedWindowNaive}
	keyKinds   = []string{KeyIP, KeyForwarded, KeyAPIKey, KeyGlobal}
	stores     = []string{StoreMemory, StoreRedis}
	failModes  = []string{FailOpen, FailClosed, FailLocal}
	routeNames = []string{RouteGetItem, RoutePutItem, RouteUserItems, RouteSearch, RouteRecord}
)

func (rl *RateLimit) fill() error {
	if rl.Algorithm == "" {
		rl.Algorithm = DefaultAlgorithm
	}
	if rl.Key == "" {
		rl.Key = KeyIP
	}
	if rl.Store == "" {
		rl.Store = StoreMemory
	}
	if rl.OnStoreError == "" {
		rl.OnStoreError = FailOpen
	}
	if rl.APIKeyHeader == "" {
		rl.APIKeyHeader = DefaultAPIKeyHeader
	}
	if rl.MaxKeys == 0 {
		rl.MaxKeys = DefaultMaxKeys
	}

	if err := oneOf("algorithm", rl.Algorithm, algorithms); err != nil {
		return err
	}
	if err := oneOf("key", rl.Key, keyKinds); err != nil {
		return err
	}
	if err := oneOf("store", rl.Store, stores); err != nil {
		return err
	}
	if err := oneOf("on_store_error", rl.OnStoreError, failModes); err != nil {
		return err
	}
	if rl.Algorithm == AlgorithmFixedWindowNaive && rl.OnStoreError != FailOpen {
		return fmt.Errorf("on_store_error %q: %s fails open by construction; use %q",
			rl.OnStoreError, AlgorithmFixedWindowNaive, FailOpen)
	}
	if rl.MaxKeys < 0 {
		return fmt.Errorf("max_keys %d is negative", rl.MaxKeys)
	}
	if _, err := parsePrefixes(rl.TrustedProxies); err != nil {
		return err
	}
	if rl.Key == KeyForwarded && len(rl.TrustedProxies) == 0 {
		return fmt.Errorf("key %q needs trusted_proxies", KeyForwarded)
	}
	return rl.fillLimits()
}

func (rl *RateLimit) fillLimits() error {
	if err := rl.Anonymous.check(); err != nil {
		return fmt.Errorf("anonymous: %w", err)
	}
	if rl.Keyed != nil {
		if err := rl.Keyed.check(); err != nil {
			return fmt.Errorf("keyed: %w", err)
		}
	}

	routes := make([]string, 0, len(rl.Routes))
	for name := range rl.Routes {
		routes = append(routes, name)
	}
	slices.Sort(routes)
	for _, name := range routes {
		if err := oneOf("routes", name, routeNames); err != nil {
			return err
		}
		r := rl.Routes[name]
		for class, l := range map[string]*Limit{"anonymous": r.Anonymous, "keyed": r.Keyed} {
			if l == nil {
				continue
			}
			if err := l.check(); err != nil {
				return fmt.Errorf("routes: %s: %s: %w", name, class, err)
			}
		}
	}
	return nil
}

func (l Limit) check() error {
	switch {
	case l.Requests < 1:
		return fmt.Errorf("requests %d must be at least 1", l.Requests)
	case l.Period <= 0:
		return fmt.Errorf("period %v must be positive", l.Period)
	case l.Burst < 0:
		return fmt.Errorf("burst %d is negative", l.Burst)
	}
	return nil
}

// burst is how many requests may pass at once.
func (l Limit) burst() int {
	if l.Burst == 0 {
		return l.Requests
	}
	return l.Burst
}

// interval is the time one request's share of the limit takes to come back.
func (l Limit) interval() time.Duration {
	return l.Period / time.Duration(l.Requests)
}

// policy is the limit in the IETF RateLimit-Policy form.
func (l Limit) policy(name, algorithm string) string {
	q := l.Requests
	if algorithm == AlgorithmGCRA || algorithm == AlgorithmTokenBucket {
		q = l.burst()
	}
	return fmt.Sprintf("%q;q=%d;w=%d", name, q, max(int(l.Period/time.Second), 1))
}

func oneOf(field, v string, allowed []string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return fmt.Errorf("%s %q is not one of %s", field, v, strings.Join(allowed, ", "))
}

func parsePrefixes(cidrs []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(cidrs))
	for _, c := range cidrs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			addr, aerr := netip.ParseAddr(c)
			if aerr != nil {
				return nil, fmt.Errorf("trusted_proxies: %q is not a CIDR prefix or IP address", c)
			}
			p = netip.PrefixFrom(addr, addr.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// decision is a limiter's answer for one request.
type decision struct {
	allowed    bool
	remaining  int           // requests left in the quota after this one
	retryAfter time.Duration // when refused: until one request would pass
	reset      time.Duration // until the quota is whole again
}

// limitStore decides one request against limit l for key, at now (stores
// on a shared clock use their own).
type limitStore interface {
	take(ctx context.Context, key string, l Limit, now time.Time) (decision, error)
}
