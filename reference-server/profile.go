package refserver

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Defaults filled in for zero fields of a Profile, its RateLimit and its Cache.
const (
	// DefaultMaxBodyBytes caps a request body when Profile.MaxBodyBytes is 0.
	DefaultMaxBodyBytes int64 = 64 << 10

	// DefaultThrottleStatus is answered on DynamoDB throttling when
	// Profile.ThrottleStatus is 0.
	DefaultThrottleStatus = http.StatusInternalServerError

	// DefaultMaxClients bounds the limiters kept when RateLimit.MaxClients is 0.
	DefaultMaxClients = 100_000

	// DefaultCacheEntries bounds the cache when Cache.MaxEntries is 0.
	DefaultCacheEntries = 10_000
)

// Names of the built-in profiles.
const (
	ProfileUnprotected = "unprotected"
	ProfileProtected   = "protected"
)

// ErrUnknownProfile is returned, wrapped, by BuiltinProfile for a name it
// does not know.
var ErrUnknownProfile = errors.New("unknown profile")

// Profile is the set of protections a Server runs with. It is plain data, so
// a scenario file can spell one out; the zero value is the unprotected server
// with eventually consistent reads.
type Profile struct {
	// Name labels the profile in results.
	Name string `yaml:"name" json:"name"`

	// RateLimit limits requests per client IP; nil means no limit.
	RateLimit *RateLimit `yaml:"rate_limit,omitempty" json:"rate_limit,omitempty"`

	// Cache puts a cache in front of GetItem; nil means none.
	Cache *Cache `yaml:"cache,omitempty" json:"cache,omitempty"`

	// ConsistentRead makes GetItem strongly consistent (twice the read units).
	ConsistentRead bool `yaml:"consistent_read" json:"consistent_read"`

	// ConditionalWrites makes POST /record a PutItem with the condition
	// attribute_not_exists(event_id), so a replayed event is not written twice.
	ConditionalWrites bool `yaml:"conditional_writes" json:"conditional_writes"`

	// ThrottleStatus is the HTTP status answered when DynamoDB throttles a
	// request; 0 means DefaultThrottleStatus (500). A 429 or 503 carries
	// Retry-After: 1.
	ThrottleStatus int `yaml:"throttle_status,omitempty" json:"throttle_status,omitempty"`

	// MaxBodyBytes caps a request body; larger bodies get 413. 0 means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64 `yaml:"max_body_bytes,omitempty" json:"max_body_bytes,omitempty"`
}

// RateLimit is a token bucket per client IP, kept in memory: each client may
// send Burst requests at once and RequestsPerSecond on average. Limiters of
// idle clients are dropped once their bucket has refilled, and at most
// MaxClients are kept (0 means DefaultMaxClients), so memory stays bounded
// however many addresses a flood uses.
type RateLimit struct {
	RequestsPerSecond float64 `yaml:"requests_per_second" json:"requests_per_second"`
	Burst             int     `yaml:"burst" json:"burst"`
	MaxClients        int     `yaml:"max_clients,omitempty" json:"max_clients,omitempty"`
}

// Cache keeps GetItem answers for TTL and "not found" answers for
// NegativeTTL (0: misses are not cached), at most MaxEntries of them (0 means
// DefaultCacheEntries), dropping the least recently used first.
type Cache struct {
	TTL         time.Duration `yaml:"ttl" json:"ttl"`
	NegativeTTL time.Duration `yaml:"negative_ttl" json:"negative_ttl"`
	MaxEntries  int           `yaml:"max_entries,omitempty" json:"max_entries,omitempty"`
}

// ProfileNames returns the names of the built-in profiles, the baseline first.
func ProfileNames() []string {
	return []string{ProfileUnprotected, ProfileProtected}
}

// BuiltinProfile returns the built-in profile of that name:
//
//   - "unprotected": no rate limit, no cache, strongly consistent reads,
//     unconditional writes, DynamoDB throttling answered 500.
//   - "protected": 20 requests/s with a burst of 40 per client IP, a cache of
//     10,000 entries (hits for 5 s, misses for 30 s), eventually consistent
//     reads, conditional writes, DynamoDB throttling answered 503.
func BuiltinProfile(name string) (Profile, error) {
	switch name {
	case ProfileUnprotected:
		return Profile{
			Name:           ProfileUnprotected,
			ConsistentRead: true,
			ThrottleStatus: http.StatusInternalServerError,
			MaxBodyBytes:   DefaultMaxBodyBytes,
		}, nil
	case ProfileProtected:
		return Profile{
			Name: ProfileProtected,
			RateLimit: &RateLimit{
				RequestsPerSecond: 20,
				Burst:             40,
				MaxClients:        DefaultMaxClients,
			},
			Cache: &Cache{
				TTL:         5 * time.Second,
				NegativeTTL: 30 * time.Second,
				MaxEntries:  DefaultCacheEntries,
			},
			ConditionalWrites: true,
			ThrottleStatus:    http.StatusServiceUnavailable,
			MaxBodyBytes:      DefaultMaxBodyBytes,
		}, nil
	}
	return Profile{}, fmt.Errorf("refserver: profile %q: %w (known: %s)",
		name, ErrUnknownProfile, strings.Join(ProfileNames(), ", "))
}

// withDefaults returns a copy of p with zero fields filled in and checks
// what is left; p's pointers are copied, not shared.
func (p Profile) withDefaults() (Profile, error) {
	if p.MaxBodyBytes == 0 {
		p.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if p.MaxBodyBytes < 0 {
		return p, fmt.Errorf("max_body_bytes %d is negative", p.MaxBodyBytes)
	}

	if p.ThrottleStatus == 0 {
		p.ThrottleStatus = DefaultThrottleStatus
	}
	if p.ThrottleStatus < 400 || p.ThrottleStatus > 599 {
		return p, fmt.Errorf("throttle_status %d is not an HTTP error status (400-599)", p.ThrottleStatus)
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
	return p, nil
}

func (rl *RateLimit) fill() error {
	if rl.MaxClients == 0 {
		rl.MaxClients = DefaultMaxClients
	}

	switch {
	case !(rl.RequestsPerSecond > 0): // also rejects NaN
		return fmt.Errorf("requests_per_second %v must be positive", rl.RequestsPerSecond)
	case rl.Burst < 1:
		return fmt.Errorf("burst %d must be at least 1", rl.Burst)
	case rl.MaxClients < 0:
		return fmt.Errorf("max_clients %d is negative", rl.MaxClients)
	}
	return nil
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
