package scenarios

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/abusesim/abusesim/target"
)

// Billing modes of a table, spelt as DynamoDB spells them.
const (
	BillingProvisioned   = "PROVISIONED"
	BillingPayPerRequest = "PAY_PER_REQUEST"
)

// Key distributions a class may draw keys from.
const (
	DistUniform    = "uniform"    // every seeded item equally likely
	DistZipf       = "zipf"       // a few hot items, a long tail
	DistMissing    = "missing"    // only ids that are not in the table
	DistSequential = "sequential" // the seeded items in order, request n on item n mod count
	DistHotKey     = "hot-key"    // a share of traffic on a few keys, the rest uniform
)

// Executors, arrival processes, late modes, identity assignment, protocols
// and retry policies, as a scenario spells them.
const (
	ExecArrivalRate = "arrival-rate"
	ExecConcurrency = "concurrency"

	ArrivalUniform = "uniform"
	ArrivalPoisson = "poisson"

	LateWait = "wait"
	LateDrop = "drop"

	AssignPerRequest = "per-request"
	AssignPerClient  = "per-client"

	ProtocolHTTP1 = "http1"
	ProtocolH2C   = "h2c"
	ProtocolH2    = "h2"

	RetryNone        = "none"
	RetryImmediate   = "immediate"
	RetryExponential = "exponential"
)

// Defaults filled in by Parse when a field is left out.
const (
	DefaultPartitionKey = "id"
	DefaultDistribution = DistUniform
	DefaultZipfExponent = 1.2
	DefaultWeight       = 1
	DefaultHotKeys      = 1
	DefaultHotFraction  = 0.9
	// MissingPrefix starts every id drawn for a missing key; a table's
	// key_pattern may not start with it, so such ids never exist.
	MissingPrefix = "miss-"
)

// DefaultProfiles are the profiles a scenario compares when it names none.
var DefaultProfiles = []string{"unprotected", "protected"}

// Limits a scenario is checked against.
const (
	MaxBurstStartSeconds = 300        // DynamoDB keeps at most 5 minutes of unused capacity
	MaxItemBytes         = 400 * 1024 // DynamoDB's item size limit
	MaxPartitionKeyBytes = 2048       // DynamoDB's limit on a partition key value
	// MaxItems and MaxSeedBytes bound the seed data: every item is written
	// to a fresh local table before each profile, through BatchWriteItem
	// in 25s, and the local table keeps them all in memory. A million
	// items take minutes to write; past that a run is mostly seeding.
	MaxItems     = 1_000_000
	MaxSeedBytes = 1 << 30
	MaxDuration  = 24 * time.Hour // a run longer than a day is a mistake
	MaxRPS       = 1_000_000      // per class, well past what one host can send
)

// Scenario is one parsed and validated scenario file.
type Scenario struct {
	Name        string
	Description string
	Seed        int64         // seeds every random choice of the run
	Duration    time.Duration // the whole run, for every class
	Table       Table
	Profiles    []string // names of the protection profiles to compare, in order
	// ProfileSpecs has one entry per name in Profiles, with the base and
	// overrides of a profile given as {name, base, overrides}.
	ProfileSpecs []ProfileSpec
	Classes      []Class
	File         string // where the scenario came from: a path, or "builtin:NAME.yaml"
}

// Table describes the DynamoDB table the run creates and seeds.
type Table struct {
	Name              string
	PartitionKey      string  // string attribute; "" never: defaults to DefaultPartitionKey
	BillingMode       string  // BillingProvisioned or BillingPayPerRequest
	RCU, WCU          int64   // provisioned read and write capacity units; 0 when on demand
	BurstStartSeconds float64 // seconds of provisioned capacity in the burst pool at creation
	Items             ItemSeed
}

// ItemSeed says which items are written to the table before the run.
type ItemSeed struct {
	Count      int    // items with keys KeyPattern(0) .. KeyPattern(Count-1)
	KeyPattern string // fmt pattern with exactly one integer verb, e.g. "item-%06d"
	SizeBytes  int    // approximate size of each item
}

// ProfileSpec is one profile to compare: a built-in profile (Base, or
// Name when Base is empty) with Overrides applied. Overrides is the raw
// YAML mapping decoded to Go values (map[string]any, []any, string,
// uint64/int64, float64, bool), keyed as the reference server's profile
// fields are; this package does not know those fields, so applying and
// checking them is the reference server's job.
type ProfileSpec struct {
	Name      string
	Base      string
	Overrides map[string]any
	// At is where the spec is in the scenario file.
	At Location
}

// Location is a place in a scenario file, kept for problems that only a
// later stage can find (a profile name the reference server does not know).
type Location struct {
	File         string
	Line, Column int
	Field        string
}

// Errorf returns an *Error at l.
func (l Location) Errorf(format string, args ...any) error {
	return &Error{File: l.File, Line: l.Line, Column: l.Column, Field: l.Field, Msg: fmt.Sprintf(format, args...)}
}

// Class is one population of clients sending the same kind of traffic.
type Class struct {
	Name     string
	Executor string // ExecArrivalRate (default) or ExecConcurrency
	Source   string // IPv4 loopback address to send from; "" lets the OS choose
	Rate     Rate
	Arrival  string // ArrivalUniform (default) or ArrivalPoisson
	// Clients is the closed model's concurrency (0 means 1, or with
	// ClientPhases the most they have active) and, in the open model, the
	// number of virtual clients identities are assigned to.
	Clients int
	// ClientPhases are the closed model's phases: how many clients are
	// active over time, back to back from the start; see
	// target.Class.ClientPhases. Empty for the open model.
	ClientPhases []target.ClientPhase
	ThinkTime    time.Duration
	Requests     []Request // weighted mix, at least one
	Headers      map[string]string
	Keys         Keys
	Identities   Identities
	Client       Client
	Workers      int           // maximum requests in flight; 0: the load generator's default
	Timeout      time.Duration // per request; 0: the load generator's default
	Late         string        // LateWait (default) or LateDrop
	MaxLateness  time.Duration // 0: the load generator's default
	Thresholds   *Thresholds   // nil: none
}

// Identities are who a class's requests claim to be; see
// target.Identities. Sources are IPv4 loopback addresses.
type Identities struct {
	Sources      []string
	ForwardedFor []string
	APIKeys      []string
	APIKeyHeader string
	UserAgents   []string
	Assign       string // AssignPerRequest (default) or AssignPerClient
}

// Client is how a class's HTTP client behaves.
type Client struct {
	KeepAlive      bool // default true
	MaxConnections int  // 0: no cap
	Protocol       string
	Retry          Retry
}

// Retry is a class's retry policy; see target.RetryPolicy.
type Retry struct {
	Policy              string // RetryNone (default), RetryImmediate or RetryExponential
	MaxAttempts         int
	BaseDelay, MaxDelay time.Duration
	Jitter              bool
	HonourRetryAfter    bool
	On                  []int
}

// Thresholds are limits on a class's results that make the run fail. A
// nil pointer or zero duration is no limit.
type Thresholds struct {
	P99        time.Duration // latency p99 from the intended start
	ErrorRate  *float64      // share of sent requests answered 5xx or failing in transport
	Share429   *float64      // share of sent requests answered 429
	MinSuccess *float64      // share of sent requests answered 2xx, at least
	Profiles   []string      // the profiles they apply to; empty: all
}

// AppliesTo reports whether the thresholds hold for profile.
func (t *Thresholds) AppliesTo(profile string) bool {
	return len(t.Profiles) == 0 || slices.Contains(t.Profiles, profile)
}

// SourceAddr returns the class's source address, or the zero Addr when the
// class leaves it to the OS.
func (c Class) SourceAddr() netip.Addr {
	addr, err := netip.ParseAddr(c.Source)
	if err != nil {
		return netip.Addr{}
	}
	return addr
}

// Rate is a class's arrival rate over the run, as phases played back to
// back from the start. A constant rate or a single ramp is one phase as
// long as the scenario; phases may end before the run does, and the class
// then sends nothing more.
type Rate struct {
	Phases []target.Phase
}

// Request is one weighted request template of a class. Path and Body are
// target templates (see target.ParseTemplate); Parse has checked that they
// parse.
type Request struct {
	Name    string // unique within the class; defaults to "METHOD path"
	Weight  int    // relative frequency, > 0
	Method  string // GET, POST, PUT or DELETE
	Path    string // starts with "/"
	Body    string // "" sends no body
	Headers map[string]string
}

// Keys says how a class picks the key of each request ({{key}}).
type Keys struct {
	Distribution string  // DistUniform, DistZipf, DistSequential, DistHotKey or DistMissing
	Exponent     float64 // Zipf exponent s > 1; 0 unless Distribution is DistZipf
	HotKeys      int     // DistHotKey: how many of the first keys are hot
	HotFraction  float64 // DistHotKey: share of draws on the hot keys
	// MissingFraction is the share of keys, 0..1, that are random ids not in
	// the table; the rest come from Distribution over the seeded items.
	MissingFraction float64
}

// SetDuration changes how long the run lasts, scaling every class's phases
// by the same factor so each rate or client schedule keeps its shape: a ramp over the
// whole run still spans the whole run, and a burst at the midpoint stays at
// the midpoint. The duration must be in (0, MaxDuration], and no phase may
// shrink below a millisecond; on error the scenario is unchanged.
func (s *Scenario) SetDuration(d time.Duration) error {
	if d <= 0 || d > MaxDuration {
		return fmt.Errorf("scenario duration must be more than 0 and at most %v, got %v",
			MaxDuration, d)
	}
	if s.Duration <= 0 {
		s.Duration = d
		return nil
	}

	factor := float64(d) / float64(s.Duration)
	rates := make([][]time.Duration, len(s.Classes))
	clients := make([][]time.Duration, len(s.Classes))
	for i, c := range s.Classes {
		r, cl := phaseDurations(c)
		var err error
		if rates[i], err = scaleDurations(r, factor, d); err != nil {
			return fmt.Errorf("class %s: %w", c.Name, err)
		}
		if clients[i], err = scaleDurations(cl, factor, d); err != nil {
			return fmt.Errorf("class %s: %w", c.Name, err)
		}
	}

	s.Duration = d
	for i := range s.Classes {
		c := &s.Classes[i]
		c.Rate.Phases = slices.Clone(c.Rate.Phases)
		for j := range c.Rate.Phases {
			c.Rate.Phases[j].Duration = rates[i][j]
		}
		c.ClientPhases = slices.Clone(c.ClientPhases)
		for j := range c.ClientPhases {
			c.ClientPhases[j].Duration = clients[i][j]
		}
	}
	return nil
}

// phaseDurations returns how long each of a class's rate phases and
// client phases lasts.
func phaseDurations(c Class) (rates, clients []time.Duration) {
	for _, p := range c.Rate.Phases {
		rates = append(rates, p.Duration)
	}
	for _, p := range c.ClientPhases {
		clients = append(clients, p.Duration)
	}
	return rates, clients
}

// scaleDurations returns a copy of durs each factor times as long,
// together no longer than limit.
func scaleDurations(durs []time.Duration, factor float64, limit time.Duration) ([]time.Duration, error) {
	out := slices.Clone(durs)
	var total time.Duration
	for j := range out {
		out[j] = time.Duration(math.Round(float64(out[j]) * factor))
		if out[j] < time.Millisecond {
			return nil, fmt.Errorf("phase %d would last %v; use a longer duration", j+1, out[j])
		}
		total += out[j]
	}
	if n := len(out); n > 0 && total > limit {
		out[n-1] -= total - limit // a few nanoseconds of rounding
	}
	return out, nil
}
