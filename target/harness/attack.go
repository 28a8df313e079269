package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/abusesim/abusesim/target"
)

// AttackProfile and AttackClass name the one profile and class of an
// ad-hoc attack in its summary.
const (
	AttackProfile = "attack"
	AttackClass   = "attack"
)

// AttackOptions describe an ad-hoc run against one URL, without a
// scenario or an embedded stack.
type AttackOptions struct {
	// URL is the target, path and query included; it is a target
	// template, so {{randid}} in it busts caches. Hosts outside loopback
	// are refused unless named in AllowHosts.
	URL        string
	AllowHosts []string
	Method     string // "" means GET
	Headers    map[string]string
	Body       []byte // a template too; nil sends no body

	// Rate is requests per second on an open-loop schedule. Rate 0 means
	// as fast as Concurrency clients can go (closed model).
	Rate     float64
	Duration time.Duration
	// Concurrency bounds requests in flight (the closed model's clients
	// when Rate is 0); 0 means target.DefaultWorkers, and is an error with
	// Rate 0.
	Concurrency int
	// Connections caps open connections; 0 means no cap.
	Connections int
	Protocol    target.Protocol
	InsecureTLS bool
	Timeout     time.Duration
	// MaxLateness is how long a due request may wait for a free worker
	// before it is dropped; 0 means target.DefaultMaxLateness.
	MaxLateness time.Duration
	Seed        int64

	// OutDir receives summary.json, attack/traffic.csv and
	// attack/latency.hlog; empty writes nothing.
	OutDir   string
	Progress *target.Progress
	// Shard sends only slice Shard.Index of Shard.Count; see target.Shard.
	Shard target.Shard
	// Raw, when set, receives one CSV line per request (target.RawHeader).
	Raw io.Writer
	// Logger receives the generator's warnings (the first transport error,
	// say); nil discards them.
	Logger *slog.Logger
}

// Attack runs opts and returns a summary with the same contract as Run's:
// one profile and one class, both named "attack", with zero capacity.
// When ctx is cancelled it returns the partial summary with Interrupted
// set.
func Attack(ctx context.Context, opts AttackOptions) (*Summary, error) {
	cfg, err := attackConfig(opts)
	if err != nil {
		return nil, fmt.Errorf("harness: attack: %w", err)
	}
	cfg.Logger = opts.Logger
	res, err := target.Run(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("harness: attack: %w", err)
	}
	if res.RawErr != nil {
		return nil, fmt.Errorf("harness: attack: write raw requests: %w", res.RawErr)
	}

	ps := ProfileSummary{Name: AttackProfile, ElapsedS: res.Elapsed.Seconds()}
	for _, c := range res.Classes {
		ps.Classes = append(ps.Classes, classSummary(c, res.Elapsed))
	}
	sum := &Summary{
		Scenario:    "attack",
		StartedAt:   res.Start.UTC(),
		DurationS:   opts.Duration.Seconds(),
		Seed:        opts.Seed,
		Interrupted: ctx.Err() != nil,
		Profiles:    []ProfileSummary{ps},
		Shard:       shardLabel(opts.Shard),
	}
	if opts.OutDir == "" {
		return sum, nil
	}

	if err := writeProfile(opts.OutDir, profileSeries{name: AttackProfile, start: res.Start, result: res,
		summary: ps}); err != nil {
		return sum, err
	}
	if err := sum.WriteJSON(filepath.Join(opts.OutDir, "summary.json")); err != nil {
		return sum, fmt.Errorf("harness: %w", err)
	}
	return sum, nil
}

// CheckAttack reports what Attack would refuse in opts (a URL it cannot
// target, a bad template, a schedule with no request) without sending
// anything or dialing anyone, so a caller can check its options before it
// spends time on anything else.
func CheckAttack(opts AttackOptions) error {
	cfg, err := attackConfig(opts)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return fmt.Errorf("harness: attack: %w", err)
	}
	return nil
}

func attackConfig(opts AttackOptions) (target.Config, error) {
	u, err := url.Parse(opts.URL)
	if err != nil {
		return target.Config{}, fmt.Errorf("url: %w", err)
	}
	if u.Scheme == "" || u.Host == "" {
		return target.Config{}, fmt.Errorf("url %q: want an absolute URL such as http://127.0.0.1:8080/items/1", opts.URL)
	}
	if u.User != nil {
		return target.Config{}, fmt.Errorf("url %q: credentials in the URL are not sent; "+
			"use a header such as Authorization", opts.URL)
	}
	// The path as written, not as url re-escapes it: {{...}} placeholders
	// must reach the template parser intact.
	path, ok := strings.CutPrefix(opts.URL, u.Scheme+"://"+u.Host)
	if !ok {
		return target.Config{}, fmt.Errorf("url %q: cannot tell its path from its host", opts.URL)
	}
	if i := strings.IndexByte(path, '#'); i >= 0 {
		path = path[:i]
	}
	if path == "" || path[0] == '?' {
		path = "/" + path
	}
	tpl, err := target.ParseTemplate(path)
	if err != nil {
		return target.Config{}, fmt.Errorf("url: %w", err)
	}
	req := target.Request{Name: opts.Method + " " + path, Weight: 1, Method: opts.Method, Path: tpl,
		Headers: opts.Headers}
	if opts.Method == "" {
		req.Name = "GET " + path
	}
	if opts.Body != nil {
		if req.Body, err = target.ParseTemplate(string(opts.Body)); err != nil {
			return target.Config{}, fmt.Errorf("body: %w", err)
		}
	}

	c := target.Class{
		Name: AttackClass, Mix: []target.Request{req}, Workers: opts.Concurrency,
		MaxConns: opts.Connections, Protocol: opts.Protocol, InsecureTLS: opts.InsecureTLS, Timeout: opts.Timeout,
		MaxLateness: opts.MaxLateness,
	}
	switch {
	case opts.Rate < 0:
		return target.Config{}, errors.New("rate must not be negative")
	case opts.Rate == 0 && opts.Concurrency <= 0:
		return target.Config{}, errors.New("rate 0 (as fast as possible) needs a concurrency: how many clients")
	case opts.Rate == 0:
		c.Executor, c.Clients = target.Concurrency, opts.Concurrency
	default:
		c.Phases = []target.Phase{{Duration: opts.Duration, StartRPS: opts.Rate, EndRPS: opts.Rate}}
		if target.NewSchedule(c.Phases).Count(opts.Duration) == 0 {
			return target.Config{}, fmt.Errorf("rate %.3g/s for %v holds no request: raise the rate or the duration",
				opts.Rate, opts.Duration)
		}
	}
	return target.Config{
		BaseURL:    u.Scheme + "://" + u.Host,
		Duration:   opts.Duration,
		Seed:       opts.Seed,
		Classes:    []target.Class{c},
		AllowHosts: opts.AllowHosts,
		Progress:   opts.Progress,
		Shard:      opts.Shard,
		Raw:        opts.Raw,
		RawTag:     AttackProfile,
	}, nil
}

// shardLabel is a shard as summary.json names it, "" for a whole run.
func shardLabel(s target.Shard) string {
	if s.Count <= 1 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index+1, s.Count)
}

// ParseShard reads "i/N" with i from 1 to N, as --shard takes it.
func ParseShard(s string) (target.Shard, error) {
	var i, n int
	if _, err := fmt.Sscanf(s, "%d/%d", &i, &n); err != nil || n < 1 || i < 1 || i > n ||
		fmt.Sprintf("%d/%d", i, n) != s {
		return target.Shard{}, fmt.Errorf("shard %q: want i/N with 1 <= i <= N, such as 2/3", s)
	}
	return target.Shard{Index: i - 1, Count: n}, nil
}

// ParseHeader reads a "Name: value" header as given on a command line.
func ParseHeader(s string) (name, value string, err error) {
	name, value, ok := strings.Cut(s, ":")
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") || strings.ContainsAny(value, "\r\n") {
		return "", "", fmt.Errorf("header %q: want \"Name: value\"", s)
	}
	return name, value, nil
}
