package scenarios

import (
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"

	"github.com/abusesim/abusesim/target"
)

func (d *decoder) classes(n ast.Node, path string, s *Scenario) []Class {
	nodes, ok := d.seq(n, path)
	if !ok {
		return nil
	}
	if len(nodes) == 0 {
		d.errorf(n, path, "a scenario needs at least one class")
	}

	classes := make([]Class, 0, len(nodes))
	seen := map[string]int{}
	for i, cn := range nodes {
		c, o := d.class(cn, index(path, i), s)
		if first, dup := seen[c.Name]; dup && c.Name != "" {
			o.errorf("name", "class %q is already defined as %s", c.Name, index(path, first))
		} else {
			seen[c.Name] = i
		}
		classes = append(classes, c)
	}
	return classes
}

// Limits of a class's concurrency settings.
const (
	maxWorkers = 100_000
	maxTimeout = 10 * time.Minute
)

func (d *decoder) class(n ast.Node, path string, s *Scenario) (Class, *object) {
	o := d.object(n, path, "name", "source", "rate", "phases", "requests", "keys",
		"workers", "timeout")
	var c Class
	if o == nil {
		return c, nil
	}
	o.require("name", "requests")

	if name, ok := o.str("name"); ok {
		c.Name = name
		o.checkIdentifier("name", name)
	}
	if src, ok := o.str("source"); ok {
		c.Source = src
		if addr, err := netip.ParseAddr(src); err != nil || !addr.Is4() || !addr.IsLoopback() {
			o.errorf("source", "%q is not an IPv4 loopback address (127.0.0.0/8), such as 127.0.0.3", src)
		}
	}
	c.Rate = d.classRate(o, s.Duration)
	if o.has("requests") {
		c.Requests = d.requests(o.get("requests"), o.field("requests"))
	}
	before := len(d.errs)
	c.Keys = d.keys(o.get("keys"), o.field("keys"))
	keysOK := len(d.errs) == before
	if workers, ok := o.int("workers"); ok {
		c.Workers = int(workers)
		if workers < 0 || workers > maxWorkers {
			o.errorf("workers", "must be between 0 (the default) and %d, got %d", maxWorkers, workers)
		}
	}
	if timeout, ok := o.duration("timeout"); ok {
		c.Timeout = timeout
		if timeout < 0 || timeout > maxTimeout {
			o.errorf("timeout", "must be between 0 (the default) and %v, got %v", maxTimeout, timeout)
		}
	}

	if keysOK && o.has("keys") && s.Table.Items.Count > 0 {
		if _, err := c.KeyDist(s.Table); err != nil {
			o.errorf("keys", "%v", err)
		}
	}
	return c, o
}

// classRate reads a class's `rate` (over the whole run) or `phases`.
func (d *decoder) classRate(o *object, runFor time.Duration) Rate {
	switch {
	case o.has("rate") && o.has("phases"):
		o.errorf("phases", "give either rate or phases, not both")
		return Rate{}
	case o.has("rate"):
		from, to, ok := d.rate(o.get("rate"), o.field("rate"))
		if !ok {
			return Rate{}
		}
		return Rate{Phases: []target.Phase{{Duration: runFor, StartRPS: from, EndRPS: to}}}
	case o.has("phases"):
		return d.phases(o.get("phases"), o.field("phases"), runFor)
	default:
		o.d.errorf(o.node, o.field("rate"),
			"required: give rate (req/s, or {from, to} for a ramp) or phases")
		return Rate{}
	}
}

// rate reads `300` (constant) or `{from: 10, to: 300}` (a linear ramp), in
// requests per second.
func (d *decoder) rate(n ast.Node, path string) (from, to float64, ok bool) {
	v := d.resolve(n, path)
	switch v.(type) {
	case nil:
		return 0, 0, false
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		rps, ok := d.float(v, path)
		ok = ok && d.checkRPS(v, path, rps)
		return rps, rps, ok
	case *ast.MappingNode, *ast.MappingValueNode:
		o := d.object(v, path, "from", "to")
		o.require("from", "to")
		from, okFrom := o.float("from")
		to, okTo := o.float("to")
		okFrom = okFrom && d.checkRPS(o.get("from"), o.field("from"), from)
		okTo = okTo && d.checkRPS(o.get("to"), o.field("to"), to)
		return from, to, okFrom && okTo
	default:
		d.errorf(v, path, "want requests per second, as a number or {from, to}, got %s", describe(v))
		return 0, 0, false
	}
}

func (d *decoder) checkRPS(n ast.Node, path string, rps float64) bool {
	if rps < 0 || rps > MaxRPS {
		d.errorf(n, path, "must be between 0 and %d requests per second, got %v", MaxRPS, rps)
		return false
	}
	return true
}

func (d *decoder) phases(n ast.Node, path string, runFor time.Duration) Rate {
	nodes, ok := d.seq(n, path)
	if !ok {
		return Rate{}
	}
	if len(nodes) == 0 {
		d.errorf(n, path, "give at least one phase")
	}

	var r Rate
	var total time.Duration
	for i, pn := range nodes {
		o := d.object(pn, index(path, i), "duration", "rate", "from", "to")
		o.require("duration")
		var p target.Phase
		if dur, ok := o.duration("duration"); ok {
			if dur <= 0 {
				o.errorf("duration", "must be more than 0, got %v", dur)
			}
			p.Duration = dur
			total += dur
		}
		p.StartRPS, p.EndRPS = d.phaseRate(o)
		r.Phases = append(r.Phases, p)
	}

	if runFor > 0 && total > runFor {
		d.errorf(n, path, "phases last %v in all, longer than the scenario's duration %v",
			total, runFor)
	}
	return r
}

// phaseRate reads a phase's `rate` (a number or {from, to}) or its own
// `from` and `to`.
func (d *decoder) phaseRate(o *object) (from, to float64) {
	switch {
	case o == nil:
		return 0, 0
	case o.has("rate") && (o.has("from") || o.has("to")):
		o.errorf("rate", "give either rate or from and to, not both")
	case o.has("rate"):
		from, to, _ = d.rate(o.get("rate"), o.field("rate"))
	case o.has("from") || o.has("to"):
		o.require("from", "to")
		from, _ = o.float("from")
		to, _ = o.float("to")
		if o.has("from") {
			d.checkRPS(o.get("from"), o.field("from"), from)
		}
		if o.has("to") {
			d.checkRPS(o.get("to"), o.field("to"), to)
		}
	default:
		o.d.errorf(o.node, o.field("rate"), "required: give rate, or from and to")
	}
	return from, to
}

// methods are the HTTP methods a request may use.
var methods = []string{"GET", "POST", "PUT", "DELETE"}

func (d *decoder) requests(n ast.Node, path string) []Request {
	nodes, ok := d.seq(n, path)
	if !ok {
		return nil
	}
	if len(nodes) == 0 {
		d.errorf(n, path, "a class needs at least one request")
	}

	var reqs []Request
	for i, rn := range nodes {
		r, o := d.request(rn, index(path, i))
		if o != nil && slices.ContainsFunc(reqs, func(q Request) bool { return q.Name == r.Name }) {
			d.errorf(o.node, o.field("name"), "request %q is defined twice in this class", r.Name)
		}
		reqs = append(reqs, r)
	}
	return reqs
}

func (d *decoder) request(n ast.Node, path string) (Request, *object) {
	o := d.object(n, path, "name", "weight", "method", "path", "body")
	o.require("method", "path")
	r := Request{Weight: DefaultWeight}

	if w, ok := o.int("weight"); ok {
		r.Weight = int(w)
		if w <= 0 || w > math.MaxInt32 {
			o.errorf("weight", "must be more than 0, got %d", w)
		}
	}
	if m, ok := o.str("method"); ok {
		r.Method = m
		if !slices.Contains(methods, m) {
			o.errorf("method", "must be one of %s, got %q", strings.Join(methods, ", "), m)
		}
	}
	if p, ok := o.str("path"); ok {
		r.Path = p
		if !strings.HasPrefix(p, "/") {
			o.errorf("path", "must start with /, got %q", p)
		} else if _, err := target.ParseTemplate(p); err != nil {
			// TODO: the template's own column is not added to the value's
			// position, because quoting and folding shift it; the message
			// carries it instead.
			o.errorf("path", "bad template: %v", err)
		}
	}
	if o.has("body") {
		r.Body = d.body(o)
	}
	if name, ok := o.str("name"); ok {
		r.Name = name
		if name == "" {
			o.errorf("name", "must not be empty")
		}
	} else {
		r.Name = r.Method + " " + r.Path
	}
	return r, o
}

// body reads a request body template, with a hint for the usual mistake of
// an unquoted JSON body, which YAML reads as a mapping.
func (d *decoder) body(o *object) string {
	v := d.resolve(o.get("body"), o.field("body"))
	switch v.(type) {
	case nil:
		return ""
	case *ast.MappingNode, *ast.MappingValueNode, *ast.SequenceNode:
		o.errorf("body", "want a string, got %s (quote a JSON body: body: '{\"a\": 1}')",
			describe(v))
		return ""
	}

	body, ok := o.str("body")
	if !ok {
		return ""
	}
	if _, err := target.ParseTemplate(body); err != nil {
		o.errorf("body", "bad template: %v", err)
	}
	return body
}

// distributions are the values of keys.distribution.
var distributions = []string{DistUniform, DistZipf, DistMissing}

// keys reads a class's key distribution; n may be nil (the defaults).
func (d *decoder) keys(n ast.Node, path string) Keys {
	k := Keys{Distribution: DefaultDistribution}
	if n == nil {
		return k
	}
	o := d.object(n, path, "distribution", "exponent", "missing_fraction")

	if dist, ok := o.str("distribution"); ok {
		k.Distribution = dist
		if !slices.Contains(distributions, dist) {
			o.errorf("distribution", "must be one of %s, got %q",
				strings.Join(distributions, ", "), dist)
		}
	}
	if k.Distribution == DistZipf {
		k.Exponent = DefaultZipfExponent
	}
	if s, ok := o.float("exponent"); ok {
		k.Exponent = s
		switch {
		case k.Distribution != DistZipf:
			o.errorf("exponent", "only the %s distribution has an exponent", DistZipf)
		case s <= 1:
			o.errorf("exponent", "a Zipf exponent must be more than 1, got %v", s)
		}
	}
	if k.Distribution == DistMissing {
		k.MissingFraction = 1
	}
	if f, ok := o.float("missing_fraction"); ok {
		switch {
		case f < 0 || f > 1:
			o.errorf("missing_fraction", "must be between 0 and 1, got %v", f)
		case k.Distribution == DistMissing && f != 1:
			o.errorf("missing_fraction", "the %s distribution has only missing keys; "+
				"leave missing_fraction out or pick another distribution", DistMissing)
		default:
			k.MissingFraction = f
		}
	}
	return k
}
