package scenarios

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/abusesim/abusesim/target"
)

// Limits of identity pools.
const (
	maxPool          = 65_536
	maxRetryAttempts = 100
)

// enum reads field name as one of values, returning def when absent. A
// misspelt value gets the nearest valid one suggested.
func (o *object) enum(name, def string, values ...string) string {
	v, ok := o.str(name)
	if !ok {
		return def
	}
	if !slices.Contains(values, v) {
		o.errorf(name, "%s", notOneOf(v, values))
		return def
	}
	return v
}

func (o *object) bool(name string) (bool, bool) {
	if !o.has(name) {
		return false, false
	}
	v := o.d.resolve(o.get(name), o.field(name))
	b, ok := v.(*ast.BoolNode)
	if !ok {
		if v != nil {
			o.errorf(name, "want true or false, got %s", describe(v))
		}
		return false, false
	}
	return b.Value, true
}

// headerName is an HTTP field name token.
var headerName = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// headers reads a mapping of header names to value templates.
func (d *decoder) headers(n ast.Node, path string) map[string]string {
	v := d.resolve(n, path)
	var entries []*ast.MappingValueNode
	switch m := v.(type) {
	case nil:
		return nil
	case *ast.MappingNode:
		entries = m.Values
	case *ast.MappingValueNode:
		entries = []*ast.MappingValueNode{m}
	default:
		d.errorf(v, path, "want a mapping of header names to values, got %s", describe(v))
		return nil
	}

	out := map[string]string{}
	for _, e := range entries {
		name, ok := d.str(e.Key, path)
		if !ok {
			continue
		}
		field := join(path, name)
		if !headerName.MatchString(name) {
			d.errorf(e.Key, field, "%q is not an HTTP header name", name)
			continue
		}
		value, ok := d.str(e.Value, field)
		if !ok {
			continue
		}
		if strings.ContainsAny(value, "\r\n") {
			d.errorf(e.Value, field, "a header value may not hold a line break")
		} else if _, err := target.ParseTemplate(value); err != nil {
			d.errorf(e.Value, field, "bad template: %v", err)
		}
		out[name] = value
	}
	return out
}

func (d *decoder) identities(n ast.Node, path string) Identities {
	o := d.object(n, path, fieldsOf[docIdentities]()...)
	id := Identities{Assign: AssignPerRequest}
	if o == nil {
		return id
	}
	id.Assign = o.enum("assign", id.Assign, AssignPerRequest, AssignPerClient)
	if o.has("sources") {
		id.Sources = d.addrPool(o.get("sources"), o.field("sources"), true)
	}
	if o.has("forwarded_for") {
		id.ForwardedFor = d.addrPool(o.get("forwarded_for"), o.field("forwarded_for"), false)
	}
	if o.has("api_keys") {
		id.APIKeys = d.keyPool(o.get("api_keys"), o.field("api_keys"))
	}
	if h, ok := o.str("api_key_header"); ok {
		id.APIKeyHeader = h
		if !headerName.MatchString(h) {
			o.errorf("api_key_header", "%q is not an HTTP header name", h)
		}
	}
	if o.has("user_agents") {
		id.UserAgents = d.strings(o.get("user_agents"), o.field("user_agents"))
	}
	return id
}

// addrPool reads a list of IP addresses or {cidr, count}; loopback
// requires every address inside 127.0.0.0/8.
func (d *decoder) addrPool(n ast.Node, path string, loopback bool) []string {
	v := d.resolve(n, path)
	if _, ok := v.(*ast.SequenceNode); ok {
		var out []string
		for i, s := range d.strings(v, path) {
			a, err := netip.ParseAddr(s)
			switch {
			case err != nil:
				d.errorf(v.(*ast.SequenceNode).Values[i], index(path, i), "%q is not an IP address", s)
			case loopback && (!a.Is4() || !a.IsLoopback()):
				d.errorf(v.(*ast.SequenceNode).Values[i], index(path, i),
					"%q is not an IPv4 loopback address (127.0.0.0/8)", s)
			}
			out = append(out, s)
		}
		return out
	}

	o := d.object(v, path, fieldsOf[docCIDRPool]()...)
	o.require("cidr", "count")
	cidr, okCIDR := o.str("cidr")
	count, okCount := o.int("count")
	if !okCIDR || !okCount {
		return nil
	}
	prefix, err := netip.ParsePrefix(cidr)
	if err != nil {
		o.errorf("cidr", "%q is not a CIDR range such as 127.0.1.0/24", cidr)
		return nil
	}
	if count < 1 || count > maxPool {
		o.errorf("count", "must be between 1 and %d, got %d", maxPool, count)
		return nil
	}
	var addrs []netip.Addr
	if loopback {
		addrs, err = target.LoopbackPool(prefix, int(count))
	} else {
		addrs, err = target.Hosts(prefix, int(count))
	}
	if err != nil {
		field := "count"
		if strings.Contains(err.Error(), "not inside") {
			field = "cidr"
		}
		o.errorf(field, "%v", err)
		return nil
	}
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.String()
	}
	return out
}

// keyPool reads a list of API keys or {prefix, count}.
func (d *decoder) keyPool(n ast.Node, path string) []string {
	v := d.resolve(n, path)
	if _, ok := v.(*ast.SequenceNode); ok {
		return d.strings(v, path)
	}
	o := d.object(v, path, fieldsOf[docPrefixPool]()...)
	o.require("prefix", "count")
	prefix, okPrefix := o.str("prefix")
	count, okCount := o.int("count")
	if !okPrefix || !okCount {
		return nil
	}
	if count < 1 || count > maxPool {
		o.errorf("count", "must be between 1 and %d, got %d", maxPool, count)
		return nil
	}
	out := make([]string, count)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

// strings reads a list of strings.
func (d *decoder) strings(n ast.Node, path string) []string {
	nodes, ok := d.seq(n, path)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(nodes))
	for i, e := range nodes {
		if s, ok := d.str(e, index(path, i)); ok {
			out = append(out, s)
		}
	}
	return out
}

func (d *decoder) client(n ast.Node, path string, c Client) Client {
	o := d.object(n, path, fieldsOf[docClient]()...)
	if keep, ok := o.bool("keep_alive"); ok {
		c.KeepAlive = keep
	}
	if m, ok := o.int("max_connections"); ok {
		c.MaxConnections = int(m)
		if m < 0 || m > maxWorkers {
			o.errorf("max_connections", "must be between 0 (no cap) and %d, got %d", maxWorkers, m)
		}
	}
	c.Protocol = o.enum("protocol", c.Protocol, ProtocolHTTP1, ProtocolH2C, ProtocolH2)
	if o.has("retry") {
		c.Retry = d.retry(o.get("retry"), o.field("retry"))
	}
	return c
}

func (d *decoder) retry(n ast.Node, path string) Retry {
	o := d.object(n, path, fieldsOf[docRetry]()...)
	o.require("policy")
	r := Retry{Policy: RetryNone}
	if o == nil {
		return r
	}
	r.Policy = o.enum("policy", r.Policy, RetryNone, RetryImmediate, RetryExponential)
	if a, ok := o.int("max_attempts"); ok {
		r.MaxAttempts = int(a)
		if a < 1 || a > maxRetryAttempts {
			o.errorf("max_attempts", "must be between 1 and %d, got %d", maxRetryAttempts, a)
		}
	}
	for _, f := range []string{"base_delay", "max_delay"} {
		dur, ok := o.duration(f)
		if !ok {
			continue
		}
		if dur < 0 || dur > maxTimeout {
			o.errorf(f, "must be between 0 and %v, got %v", maxTimeout, dur)
		}
		if f == "base_delay" {
			r.BaseDelay = dur
		} else {
			r.MaxDelay = dur
		}
	}
	if o.has("base_delay") && r.Policy != RetryExponential {
		o.errorf("base_delay", "only the %s policy has a base delay", RetryExponential)
	}
	r.Jitter, _ = o.bool("jitter")
	r.HonourRetryAfter, _ = o.bool("honour_retry_after")
	if nodes, ok := o.seq("on"); ok {
		for i, cn := range nodes {
			code, ok := d.int(cn, index(o.field("on"), i))
			if ok && (code < 100 || code > 599) {
				d.errorf(cn, index(o.field("on"), i), "%d is not an HTTP status code", code)
			}
			r.On = append(r.On, int(code))
		}
	}
	return r
}

func (d *decoder) thresholds(n ast.Node, path string, s *Scenario) *Thresholds {
	o := d.object(n, path, fieldsOf[docThresholds]()...)
	if o == nil {
		return nil
	}
	t := &Thresholds{}
	if p99, ok := o.duration("p99"); ok {
		t.P99 = p99
		if p99 <= 0 {
			o.errorf("p99", "must be more than 0, got %v", p99)
		}
	}
	share := func(name string) *float64 {
		f, ok := o.float(name)
		if !ok {
			return nil
		}
		if f < 0 || f > 1 {
			o.errorf(name, "must be a share between 0 and 1, got %v", f)
		}
		return &f
	}
	t.ErrorRate = share("error_rate")
	t.Share429 = share("share_429")
	t.MinSuccess = share("min_success")
	if o.has("profiles") {
		t.Profiles = d.strings(o.get("profiles"), o.field("profiles"))
		for i, p := range t.Profiles {
			if len(s.Profiles) > 0 && !slices.Contains(s.Profiles, p) {
				hint := ""
				if near := Suggest(p, s.Profiles); near != "" {
					hint = fmt.Sprintf(" (did you mean %q?)", near)
				}
				d.errorf(o.get("profiles"), index(o.field("profiles"), i),
					"profile %q is not among the scenario's profiles (%s)%s", p, strings.Join(s.Profiles, ", "), hint)
			}
		}
	}
	if t.P99 == 0 && t.ErrorRate == nil && t.Share429 == nil && t.MinSuccess == nil {
		d.errorf(o.node, path, "give at least one of p99, error_rate, share_429, min_success")
	}
	return t
}
