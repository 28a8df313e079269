package refserver

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
)

// Defaults filled in for zero fields of a Profile and its parts.
const (
	// DefaultMaxBodyBytes caps a request body when Profile.MaxBodyBytes is 0.
	DefaultMaxBodyBytes int64 = 64 << 10

	// DefaultThrottleStatus is answered on DynamoDB throttling when
	// Profile.ThrottleStatus is 0.
	DefaultThrottleStatus = http.StatusInternalServerError

	// DefaultCacheEntries bounds the cache when Cache.MaxEntries is 0.
	DefaultCacheEntries = 10_000

	// DefaultPageSize is the page of a Query or Scan when the client gives
	// no limit and Profile.MaxPageSize is set.
	DefaultPageSize = 25
)

// Names of the built-in profiles.
const (
	ProfileUnprotected = "unprotected"
	ProfileSeed        = "seed"
	ProfileProtected   = "protected"
)

// SDK retry modes, the values of Retry.Mode.
const (
	RetryStandard = "standard" // the SDK's default: exponential backoff, retry quota
	RetryAdaptive = "adaptive" // standard plus client-side rate limiting on throttles
	RetryNone     = "none"     // one attempt only
)

// ErrUnknownProfile is returned, wrapped, by BuiltinProfile for a name it
// does not know.
var ErrUnknownProfile = errors.New("unknown profile")

//go:embed profiles/*.yaml
var builtinProfiles embed.FS

// Profile is the set of protections a Server runs with. It is plain data,
// loaded from YAML (LoadProfile) so that a user can run ablations; the zero
// value is the unprotected server with eventually consistent reads.
type Profile struct {
	// Name labels the profile in results.
	Name string `yaml:"name" json:"name"`

	// Description says what the profile is for.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`

	// RateLimit limits requests before they reach a handler; nil: none.
	RateLimit *RateLimit `yaml:"rate_limit,omitempty" json:"rate_limit,omitempty"`

	// Cache puts a cache in front of GetItem; nil means none.
	Cache *Cache `yaml:"cache,omitempty" json:"cache,omitempty"`

	// ConsistentRead makes GetItem strongly consistent (twice the read
	// units). Query on the GSI is always eventually consistent, as DynamoDB
	// requires; Scan follows this setting.
	ConsistentRead bool `yaml:"consistent_read" json:"consistent_read"`

	// ConditionalWrites makes POST /record a PutItem with the condition
	// attribute_not_exists(event_id), so a replayed event is not written twice.
	ConditionalWrites bool `yaml:"conditional_writes" json:"conditional_writes"`

	// DedupeWindow, when positive, skips a POST /record whose user_id and
	// event_type were written within the window, as the seed article does
	// (in Redis when Config.Redis is set, else in memory). 0: off.
	DedupeWindow time.Duration `yaml:"dedupe_window,omitempty" json:"dedupe_window,omitempty"`

	// WriteLimit limits writes (PUT /items, POST /record) per principal (API
	// key, else client IP), in memory, with GCRA; nil: none.
	WriteLimit *Limit `yaml:"write_limit,omitempty" json:"write_limit,omitempty"`

	// MaxBodyBytes caps a request body; larger bodies get 413. 0 means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64 `yaml:"max_body_bytes,omitempty" json:"max_body_bytes,omitempty"`

	// MaxPageSize clamps the limit of a Query or Scan page, and a request
	// without one gets DefaultPageSize (or MaxPageSize if smaller). 0: no
	// clamp, and a request without a limit reads DynamoDB's 1 MB page.
	MaxPageSize int `yaml:"max_page_size,omitempty" json:"max_page_size,omitempty"`

	// Scan caps GET /search; nil allows it without limit.
	Scan *ScanLimit `yaml:"scan,omitempty" json:"scan,omitempty"`

	// RequestTimeout bounds each request's work, DynamoDB calls included;
	// 0 means none.
	RequestTimeout time.Duration `yaml:"request_timeout,omitempty" json:"request_timeout,omitempty"`

	// ThrottleStatus is the HTTP status answered when DynamoDB throttles a
	// request; 0 means DefaultThrottleStatus (500). A 429 or 503 carries
	// Retry-After: 1.
	ThrottleStatus int `yaml:"throttle_status,omitempty" json:"throttle_status,omitempty"`

	// Retry sets the SDK's retryer for the server's calls; nil keeps the
	// client's own.
	Retry *Retry `yaml:"retry,omitempty" json:"retry,omitempty"`

	// Shed makes the server fail fast while DynamoDB keeps throttling; nil:
	// every request waits for DynamoDB.
	Shed *Shed `yaml:"shed,omitempty" json:"shed,omitempty"`
}

// Cache keeps GetItem answers for TTL and "not found" answers for
// NegativeTTL (0: misses are not cached), at most MaxEntries of them (0 means
// DefaultCacheEntries), dropping the least recently used first.
type Cache struct {
	TTL         time.Duration `yaml:"ttl" json:"ttl"`
	NegativeTTL time.Duration `yaml:"negative_ttl" json:"negative_ttl"`
	MaxEntries  int           `yaml:"max_entries,omitempty" json:"max_entries,omitempty"`

	// Coalesce makes concurrent misses on one id share one GetItem.
	Coalesce bool `yaml:"coalesce,omitempty" json:"coalesce,omitempty"`
}

// ScanLimit caps the expensive endpoint: Disabled answers 403; otherwise at
// most PerMinute scans run per minute across all clients (0: no cap).
type ScanLimit struct {
	Disabled  bool `yaml:"disabled,omitempty" json:"disabled,omitempty"`
	PerMinute int  `yaml:"per_minute,omitempty" json:"per_minute,omitempty"`
}

// Retry is the SDK retryer: Mode (RetryStandard, RetryAdaptive or
// RetryNone; "" means standard), MaxAttempts, first attempt included (0
// means the SDK's default of 3), and MaxBackoff, the longest wait between
// attempts (0 means the SDK's default of 20 s).
type Retry struct {
	Mode        string        `yaml:"mode,omitempty" json:"mode,omitempty"`
	MaxAttempts int           `yaml:"max_attempts,omitempty" json:"max_attempts,omitempty"`
	MaxBackoff  time.Duration `yaml:"max_backoff,omitempty" json:"max_backoff,omitempty"`
}

// Shed is load shedding: after Throttles consecutive throttled DynamoDB
// calls the server answers requests that need DynamoDB with 503 and
// Retry-After for For, without calling it, then tries again.
type Shed struct {
	Throttles int           `yaml:"throttles" json:"throttles"`
	For       time.Duration `yaml:"for" json:"for"`
}

// ProfileNames returns the names of the built-in profiles, the baseline first.
func ProfileNames() []string {
	return []string{ProfileUnprotected, ProfileSeed, ProfileProtected}
}

// BuiltinProfile returns the built-in profile of that name, read from the
// YAML embedded from profiles/ (see docs/reference-server.md):
//
//   - "unprotected": no protection at all, strongly consistent reads.
//   - "seed": exactly what the seed article recommends, flaws included.
//   - "protected": the best practice across every protection.
//
// Each call returns a fresh copy.
func BuiltinProfile(name string) (Profile, error) {
	data, err := builtinProfiles.ReadFile("profiles/" + name + ".yaml")
	if err != nil || strings.ContainsAny(name, "/.") {
		return Profile{}, fmt.Errorf("refserver: profile %q: %w (known: %s)",
			name, ErrUnknownProfile, strings.Join(ProfileNames(), ", "))
	}
	p, err := LoadProfile(data)
	if err != nil {
		return Profile{}, fmt.Errorf("refserver: built-in profile %q: %w", name, err)
	}
	return p, nil
}

// LoadProfile decodes a profile from YAML (JSON is YAML too). Unknown
// fields are errors; the error names the line. The profile is checked as
// New would check it.
func LoadProfile(data []byte) (Profile, error) {
	var p Profile
	dec := yaml.NewDecoder(bytes.NewReader(data), yaml.DisallowUnknownField())
	if err := dec.Decode(&p); err != nil {
		return Profile{}, fmt.Errorf("profile: %s", yaml.FormatError(err, false, true))
	}
	if _, err := p.withDefaults(); err != nil {
		return Profile{}, fmt.Errorf("profile %q: %w", p.Name, err)
	}
	return p, nil
}

// withDefaults returns a copy of p with zero fields filled in and checks
// what is left; p's pointers are copied, not shared.
func (p Profile) withDefaults() (Profile, error) {
	if p.MaxBodyBytes == 0 {
		p.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if p.ThrottleStatus == 0 {
		p.ThrottleStatus = DefaultThrottleStatus
	}

	switch {
	case p.MaxBodyBytes < 0:
		return p, fmt.Errorf("max_body_bytes %d is negative", p.MaxBodyBytes)
	case p.MaxBodyBytes > MaxBodyBytesLimit:
		return p, fmt.Errorf("max_body_bytes %d exceeds %d", p.MaxBodyBytes, MaxBodyBytesLimit)
	case p.ThrottleStatus < 400 || p.ThrottleStatus > 599:
		return p, fmt.Errorf("throttle_status %d is not an HTTP error status (400-599)", p.ThrottleStatus)
	case p.DedupeWindow < 0:
		return p, fmt.Errorf("dedupe_window %v is negative", p.DedupeWindow)
	case p.MaxPageSize < 0:
		return p, fmt.Errorf("max_page_size %d is negative", p.MaxPageSize)
	case p.RequestTimeout < 0:
		return p, fmt.Errorf("request_timeout %v is negative", p.RequestTimeout)
	}

	if p.RateLimit != nil {
		rl := *p.RateLimit
		if err := rl.fill(); err != nil {
			return p, fmt.Errorf("rate_limit: %w", err)
		}
		p.RateLimit = &rl
	}
	if p.Cache != nil {
		c := *p.Cache
		if err := c.fill(); err != nil {
			return p, fmt.Errorf("cache: %w", err)
		}
		p.Cache = &c
	}
	if p.WriteLimit != nil {
		if err := p.WriteLimit.check(); err != nil {
			return p, fmt.Errorf("write_limit: %w", err)
		}
		wl := *p.WriteLimit
		p.WriteLimit = &wl
	}
	return p.fillThrottle()
}

func (p Profile) fillThrottle() (Profile, error) {
	if p.Scan != nil {
		sc := *p.Scan
		if sc.PerMinute < 0 {
			return p, fmt.Errorf("scan: per_minute %d is negative", sc.PerMinute)
		}
		p.Scan = &sc
	}
	if p.Retry != nil {
		r := *p.Retry
		if r.Mode == "" {
			r.Mode = RetryStandard
		}
		if err := oneOf("retry: mode", r.Mode, []string{RetryStandard, RetryAdaptive, RetryNone}); err != nil {
			return p, err
		}
		if r.MaxAttempts < 0 || r.MaxBackoff < 0 {
			return p, fmt.Errorf("retry: max_attempts (%d) and max_backoff (%v) must not be negative",
				r.MaxAttempts, r.MaxBackoff)
		}
		p.Retry = &r
	}
	if p.Shed != nil {
		sh := *p.Shed
		if sh.Throttles < 1 || sh.For <= 0 {
			return p, fmt.Errorf("shed: throttles (%d) must be at least 1 and for (%v) positive",
				sh.Throttles, sh.For)
		}
		p.Shed = &sh
	}
	return p, nil
}

func (c *Cache) fill() error {
	if c.MaxEntries == 0 {
		c.MaxEntries = DefaultCacheEntries
	}

	switch {
	case c.TTL < 0:
		return fmt.Errorf("ttl %v is negative", c.TTL)
	case c.NegativeTTL < 0:
		return fmt.Errorf("negative_ttl %v is negative", c.NegativeTTL)
	case c.MaxEntries < 0:
		return fmt.Errorf("max_entries %d is negative", c.MaxEntries)
	}
	return nil
}
