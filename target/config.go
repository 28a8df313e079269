package target

import (
	"errors"
	"fmt"
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
}

// Phase is a stretch of a class's schedule during which the request rate
// moves linearly from StartRPS to EndRPS (requests per second).
type Phase struct {
	Duration time.Duration
	StartRPS float64
	EndRPS   float64
}

// Request is one kind of request in a class's mix. Every request carries
// User-Agent "abusesim" and, when it has a body, Content-Type
// "application/json"; the class's Headers, then the request's, override
// them.
type Request struct {
	Name    string
	Weight  int
	Method  string    // "" means GET
	Path    *Template // appended to Config.BaseURL, e.g. "/items/{{key}}"
	Body    *Template // nil: no body
	Headers map[string]string
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
	}
	return base, nil
}

func (c *Class) validate() error {
	if len(c.Phases) == 0 {
		return errors.New("no phases")
	}
	for i, p := range c.Phases {
		if err := p.validate(); err != nil {
			return fmt.Errorf("phase %d: %w", i+1, err)
		}
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
	if !haveKeys && (r.Path.UsesKey() || (r.Body != nil && r.Body.UsesKey())) {
		return errors.New("template uses {{key}} but the class has no key distribution")
	}
	return nil
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
	if !isLoopbackHost(host) && !hostAllowed(host, allow) {
		return nil, fmt.Errorf("target: refusing non-loopback host %s: name it in AllowHosts to allow it", host)
	}
	return u, nil
}

// isLoopbackHost accepts literal loopback IPs and "localhost" only; other
// names are not resolved, since what a name resolves to can change.
func isLoopbackHost(host string) bool {
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
