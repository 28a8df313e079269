package scenarios

import (
	"fmt"
	"net/netip"

	"github.com/abusesim/abusesim/target"
)

// Target converts the class into the load generator's form, drawing keys
// from table's seeded items. Parse has checked everything it converts, so
// an error here means a Class built by hand is invalid.
func (c Class) Target(table Table) (target.Class, error) {
	keys, err := c.KeyDist(table)
	if err != nil {
		return target.Class{}, err
	}
	tc := target.Class{
		Name:             c.Name,
		Phases:           c.Rate.Phases,
		Keys:             keys,
		Workers:          c.Workers,
		Timeout:          c.Timeout,
		MaxLateness:      c.MaxLateness,
		Clients:          c.Clients,
		ClientPhases:     c.ClientPhases,
		ThinkTime:        c.ThinkTime,
		DisableKeepAlive: !c.Client.KeepAlive,
		MaxConns:         c.Client.MaxConnections,
		Headers:          map[string]string{},
	}
	if c.Executor == ExecConcurrency {
		tc.Executor = target.Concurrency
	}
	if c.Arrival == ArrivalPoisson {
		tc.Arrival = target.ArrivalPoisson
	}
	if c.Late == LateDrop {
		tc.LateMode = target.LateDrop
	}
	switch c.Client.Protocol {
	case ProtocolH2C:
		tc.Protocol = target.ProtocolH2C
	case ProtocolH2:
		tc.Protocol = target.ProtocolH2
	}
	if tc.Retry, err = c.Client.Retry.target(); err != nil {
		return target.Class{}, err
	}
	if c.Source != "" {
		addr, err := netip.ParseAddr(c.Source)
		if err != nil {
			return target.Class{}, fmt.Errorf("source: %w", err)
		}
		tc.SourceAddr = addr
	}
	if tc.Identities, err = c.Identities.target(); err != nil {
		return target.Class{}, err
	}

	// Class headers are templates too; a literal one is sent as is.
	classTemplates := map[string]*target.Template{}
	for k, v := range c.Headers {
		t, err := target.ParseTemplate(v)
		if err != nil {
			return target.Class{}, fmt.Errorf("header %s: %w", k, err)
		}
		classTemplates[k] = t
	}
	for _, r := range c.Requests {
		req, err := r.target(classTemplates)
		if err != nil {
			return target.Class{}, fmt.Errorf("request %s: %w", r.Name, err)
		}
		tc.Mix = append(tc.Mix, req)
	}
	return tc, nil
}

func (r Request) target(classHeaders map[string]*target.Template) (target.Request, error) {
	path, err := target.ParseTemplate(r.Path)
	if err != nil {
		return target.Request{}, fmt.Errorf("path: %w", err)
	}
	req := target.Request{Name: r.Name, Weight: r.Weight, Method: r.Method, Path: path}
	if r.Body != "" {
		if req.Body, err = target.ParseTemplate(r.Body); err != nil {
			return target.Request{}, fmt.Errorf("body: %w", err)
		}
		req.Headers = map[string]string{"Content-Type": "application/json"}
	}
	if len(classHeaders)+len(r.Headers) > 0 {
		req.HeaderTemplates = map[string]*target.Template{}
		for k, t := range classHeaders {
			req.HeaderTemplates[k] = t
		}
		for k, v := range r.Headers {
			t, err := target.ParseTemplate(v)
			if err != nil {
				return target.Request{}, fmt.Errorf("header %s: %w", k, err)
			}
			req.HeaderTemplates[k] = t
		}
	}
	return req, nil
}

func (r Retry) target() (target.RetryPolicy, error) {
	p := target.RetryPolicy{
		MaxAttempts: r.MaxAttempts, BaseDelay: r.BaseDelay, MaxDelay: r.MaxDelay,
		Jitter: r.Jitter, HonourRetryAfter: r.HonourRetryAfter, On: r.On,
	}
	switch r.Policy {
	case RetryNone, "":
	case RetryImmediate:
		p.Mode = target.RetryImmediate
	case RetryExponential:
		p.Mode = target.RetryExponential
	default:
		return p, fmt.Errorf("retry: unknown policy %q", r.Policy)
	}
	return p, nil
}

// target returns the generator's identity pool, nil when every list is
// empty.
func (id Identities) target() (*target.Identities, error) {
	if len(id.Sources)+len(id.ForwardedFor)+len(id.APIKeys)+len(id.UserAgents) == 0 {
		return nil, nil
	}
	out := &target.Identities{
		ForwardedFor: id.ForwardedFor,
		APIKeys:      id.APIKeys,
		APIKeyHeader: id.APIKeyHeader,
		UserAgents:   id.UserAgents,
		PerClient:    id.Assign == AssignPerClient,
	}
	for _, s := range id.Sources {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("identities: source: %w", err)
		}
		out.Sources = append(out.Sources, a)
	}
	return out, nil
}
