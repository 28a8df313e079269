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

// withDefaults returns c with what Parse fills in for a field left out.
func (c Class) withDefaults() Class {
	c.Executor, c.Arrival, c.Late = ExecArrivalRate, ArrivalUniform, LateWait
	c.Identities.Assign = AssignPerRequest
	c.Client = Client{KeepAlive: true, Protocol: ProtocolHTTP1, Retry: Retry{Policy: RetryNone}}
	return c
}

// Limits of a class's concurrency settings.
const (
	maxWorkers = 100_000
	maxClients = 100_000
	maxTimeout = 10 * time.Minute
)

// closedModel reads the concurrency executor's settings: clients, or
// phases of active clients, and think time; no rate.
func (d *decoder) closedModel(o *object, c *Class, runFor time.Duration) {
	for _, f := range []string{"rate", "arrival", "late", "max_lateness", "workers"} {
		if o.has(f) {
			o.errorf(f, "the %s executor has no %s: its clients send as fast as answers "+
				"and think_time allow", ExecConcurrency, f)
		}
	}
	if o.has("phases") {
		if o.has("clients") {
			o.errorf("phases", "give either clients or phases, not both")
		}
		for _, p := range d.phases(o.get("phases"), o.field("phases"), runFor, clientLevel) {
			c.ClientPhases = append(c.ClientPhases, target.ClientPhase{
				Duration:     p.Duration,
				StartClients: int(math.Round(p.StartRPS)),
				EndClients:   int(math.Round(p.EndRPS)),
			})
		}
	}
	if think, ok := o.duration("think_time"); ok {
		c.ThinkTime = think
		if think < 0 || think > maxTimeout {
			o.errorf("think_time", "must be between 0 and %v, got %v", maxTimeout, think)
		}
	}
}

func (d *decoder) class(n ast.Node, path string, s *Scenario) (Class, *object) {
	o := d.object(n, path, fieldsOf[docClass]()...)
	c := Class{}.withDefaults()
	if o == nil {
		return c, nil
	}
	o.require("name", "requests")
	c.Executor = o.enum("executor", c.Executor, ExecArrivalRate, ExecConcurrency)
	c.Arrival = o.enum("arrival", c.Arrival, ArrivalUniform, ArrivalPoisson)
	c.Late = o.enum("late", c.Late, LateWait, LateDrop)

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
	if c.Executor == ExecConcurrency {
		d.closedModel(o, &c, s.Duration)
	} else {
		c.Rate = d.classRate(o, s.Duration)
		if o.has("think_time") {
			o.errorf("think_time", "only the %s executor thinks between requests", ExecConcurrency)
		}
	}
	if clients, ok := o.int("clients"); ok {
		c.Clients = int(clients)
		if clients < 0 || clients > maxClients {
			o.errorf("clients", "must be between 0 and %d, got %d", maxClients, clients)
		}
	}
	if o.has("requests") {
		c.Requests = d.requests(o.get("requests"), o.field("requests"))
	}
	if o.has("headers") {
		c.Headers = d.headers(o.get("headers"), o.field("headers"))
	}
	if o.has("identities") {
		c.Identities = d.identities(o.get("identities"), o.field("identities"))
		if c.Source != "" && len(c.Identities.Sources) > 0 {
			o.errorf("identities", "give either source or identities.sources, not both")
		}
		if c.Identities.Assign == AssignPerClient && c.Executor == ExecArrivalRate && c.Clients == 0 {
			o.errorf("identities", "per-client identities in the %s executor need clients: "+
				"how many virtual clients share the traffic", ExecArrivalRate)
		}
	}
	if o.has("client") {
		c.Client = d.client(o.get("client"), o.field("client"), c.Client)
	}
	if o.has("thresholds") {
		c.Thresholds = d.thresholds(o.get("thresholds"), o.field("thresholds"), s)
	}
	if late, ok := o.duration("max_lateness"); ok {
		c.MaxLateness = late
		if late < 0 || late > maxTimeout {
			o.errorf("max_lateness", "must be between 0 (the default) and %v, got %v", maxTimeout, late)
		}
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
		from, to, ok := d.ramp(o.get("rate"), o.field("rate"), rateLevel)
		if !ok {
			return Rate{}
		}
		if from == 0 && to == 0 {
			o.errorf("rate", "a rate of 0 sends nothing; for as fast as the clients go use "+
				"executor: %s, and for a quiet stretch a phase with pause: true", ExecConcurrency)
		}
		return Rate{Phases: []target.Phase{{Duration: runFor, StartRPS: from, EndRPS: to}}}
	case o.has("phases"):
		return Rate{Phases: d.phases(o.get("phases"), o.field("phases"), runFor, rateLevel)}
	default:
		o.d.errorf(o.node, o.field("rate"),
			"required: give rate (req/s, or {from, to} for a ramp) or phases")
		return Rate{}
	}
}

// level is what the shapes of a phase set: the request rate of the open
// model, or the number of active clients of the closed model. Phases of
// either are read into target.Phase values, StartRPS and EndRPS holding
// the level.
type level struct {
	clients bool
	field   string // the phase field giving a constant level or a ramp
	unit    string // for messages
}

var (
	rateLevel   = level{field: "rate", unit: "requests per second"}
	clientLevel = level{clients: true, field: "clients", unit: "clients"}
)

// value reads one level: a rate in requests per second, or a whole number
// of clients.
func (d *decoder) value(n ast.Node, path string, lv level) (float64, bool) {
	if !lv.clients {
		rps, ok := d.float(n, path)
		return rps, ok && d.checkRPS(n, path, rps)
	}
	clients, ok := d.int(n, path)
	if ok && (clients < 0 || clients > maxClients) {
		d.errorf(n, path, "must be between 0 and %d clients, got %d", maxClients, clients)
		return 0, false
	}
	return float64(clients), ok
}

// ramp reads `300` (constant) or `{from: 10, to: 300}` (a linear ramp).
func (d *decoder) ramp(n ast.Node, path string, lv level) (from, to float64, ok bool) {
	v := d.resolve(n, path)
	switch v.(type) {
	case nil:
		return 0, 0, false
	case *ast.MappingNode, *ast.MappingValueNode:
		o := d.object(v, path, fieldsOf[docRamp]()...)
		o.require("from", "to")
		from, okFrom := o.level("from", lv)
		to, okTo := o.level("to", lv)
		return from, to, okFrom && okTo
	default:
		if isNumber(v) {
			x, ok := d.value(v, path, lv)
			return x, x, ok
		}
		d.errorf(v, path, "want %s, as a number or {from, to}, got %s", lv.unit, describe(v))
		return 0, 0, false
	}
}

// level reads field name as a level, when present.
func (o *object) level(name string, lv level) (float64, bool) {
	if !o.has(name) {
		return 0, false
	}
	return o.d.value(o.get(name), o.field(name), lv)
}

func (d *decoder) checkRPS(n ast.Node, path string, rps float64) bool {
	if rps < 0 || rps > MaxRPS {
		d.errorf(n, path, "must be between 0 and %d requests per second, got %v", MaxRPS, rps)
		return false
	}
	return true
}

func (d *decoder) phases(n ast.Node, path string, runFor time.Duration, lv level) []target.Phase {
	nodes, ok := d.seq(n, path)
	if !ok {
		return nil
	}
	if len(nodes) == 0 {
		d.errorf(n, path, "give at least one phase")
	}

	var out []target.Phase
	var total time.Duration
	for i, pn := range nodes {
		o := d.object(pn, index(path, i), fieldsOf[docPhase]()...)
		o.require("duration")
		var p target.Phase
		if dur, ok := o.duration("duration"); ok {
			if dur <= 0 {
				o.errorf("duration", "must be more than 0, got %v", dur)
			}
			p.Duration = dur
			total += dur
		}
		out = append(out, d.phaseShape(o, p, lv)...)
	}

	if runFor > 0 && total > runFor {
		d.errorf(n, path, "phases last %v in all, longer than the scenario's duration %v",
			total, runFor)
	}
	return out
}

// phaseShape turns one phase of the file into generator phases: a
// constant level or a ramp is one, a step is one per stair, a spike three,
// a pause one at level 0.
func (d *decoder) phaseShape(o *object, p target.Phase, lv level) []target.Phase {
	if o == nil {
		return []target.Phase{p}
	}
	if lv.clients {
		for _, f := range []string{"rate", "from", "to"} {
			if o.has(f) {
				o.errorf(f, "a phase of the %s executor sets clients, not a rate: "+
					"write clients: 20, or clients: {from: 1, to: 50} for a ramp", ExecConcurrency)
			}
		}
	} else if o.has("clients") {
		o.errorf("clients", "only a phase of the %s executor sets clients; this one sets rate",
			ExecConcurrency)
	}

	shapes := 0
	for _, f := range []string{"step", "spike", "pause", lv.field} {
		if o.has(f) {
			shapes++
		}
	}
	if !lv.clients && (o.has("from") || o.has("to")) {
		shapes++
	}
	switch {
	case shapes > 1:
		o.d.errorf(o.node, o.path, "give one of %s, step, spike or pause", lv.shapes())
		return []target.Phase{p}
	case o.has("pause"):
		if pause, ok := o.bool("pause"); ok && !pause {
			o.errorf("pause", "leave pause out instead of setting it to false")
		}
		return []target.Phase{p}
	case o.has("step"):
		return d.step(o.get("step"), o.field("step"), p, lv)
	case o.has("spike"):
		return d.spike(o.get("spike"), o.field("spike"), p, lv)
	}
	p.StartRPS, p.EndRPS = d.phaseLevel(o, lv)
	return []target.Phase{p}
}

// shapes names the constant and ramp forms of a phase, for messages.
func (lv level) shapes() string {
	if lv.clients {
		return "clients"
	}
	return "rate, from and to"
}

// step splits phase p into a staircase of equal constant steps; in the
// closed model each stair's count is rounded to whole clients.
func (d *decoder) step(n ast.Node, path string, p target.Phase, lv level) []target.Phase {
	o := d.object(n, path, fieldsOf[docStep]()...)
	o.require("from", "to", "steps")
	from, okFrom := o.level("from", lv)
	to, okTo := o.level("to", lv)
	steps, okSteps := o.int("steps")
	if okSteps && (steps < 2 || steps > 1000) {
		o.errorf("steps", "must be between 2 and 1000, got %d", steps)
		okSteps = false
	}
	if !okFrom || !okTo || !okSteps || p.Duration <= 0 {
		return []target.Phase{p}
	}

	out := make([]target.Phase, steps)
	var used time.Duration
	for i := range out {
		x := from + (to-from)*float64(i)/float64(steps-1)
		if lv.clients {
			x = math.Round(x)
		}
		dur := p.Duration / time.Duration(steps)
		if i == len(out)-1 {
			dur = p.Duration - used
		}
		used += dur
		out[i] = target.Phase{Duration: dur, StartRPS: x, EndRPS: x}
	}
	return out
}

// spike splits phase p into base, peak for length in the middle, base.
func (d *decoder) spike(n ast.Node, path string, p target.Phase, lv level) []target.Phase {
	o := d.object(n, path, fieldsOf[docSpike]()...)
	o.require("base", "peak", "length")
	base, okBase := o.level("base", lv)
	peak, okPeak := o.level("peak", lv)
	length, okLen := o.duration("length")
	if okLen && (length <= 0 || length >= p.Duration) {
		o.errorf("length", "must be more than 0 and shorter than the phase's %v, got %v",
			p.Duration, length)
		okLen = false
	}
	if !okBase || !okPeak || !okLen {
		return []target.Phase{p}
	}
	before := (p.Duration - length) / 2
	return []target.Phase{
		{Duration: before, StartRPS: base, EndRPS: base},
		{Duration: length, StartRPS: peak, EndRPS: peak},
		{Duration: p.Duration - before - length, StartRPS: base, EndRPS: base},
	}
}

// phaseLevel reads a phase's constant level or ramp: `rate` (a number or
// {from, to}) or its own `from` and `to` in the open model, `clients` in
// the closed model. A constant 0 is refused in favour of pause: true.
func (d *decoder) phaseLevel(o *object, lv level) (from, to float64) {
	var ok bool
	switch {
	case o.has("rate") && (o.has("from") || o.has("to")):
		o.errorf("rate", "give either rate or from and to, not both")
	case o.has(lv.field):
		from, to, ok = d.ramp(o.get(lv.field), o.field(lv.field), lv)
	case !lv.clients && (o.has("from") || o.has("to")):
		o.require("from", "to")
		var okFrom, okTo bool
		from, okFrom = o.level("from", rateLevel)
		to, okTo = o.level("to", rateLevel)
		ok = okFrom && okTo
	case lv.clients && (o.has("rate") || o.has("from") || o.has("to")),
		!lv.clients && o.has("clients"):
		// Reported by phaseShape.
	default:
		o.d.errorf(o.node, o.field(lv.field), "required: give %s, step, spike or pause", lv.shapes())
	}
	if ok && from == 0 && to == 0 {
		o.d.errorf(o.node, o.path, "a phase at 0 %s sends nothing: write pause: true", lv.unit)
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
	o := d.object(n, path, fieldsOf[docRequest]()...)
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
			o.errorf("method", "%s", notOneOf(m, methods))
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
	if o.has("headers") {
		r.Headers = d.headers(o.get("headers"), o.field("headers"))
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
var distributions = []string{DistUniform, DistZipf, DistSequential, DistHotKey, DistMissing}

// keys reads a class's key distribution; n may be nil (the defaults).
func (d *decoder) keys(n ast.Node, path string) Keys {
	k := Keys{Distribution: DefaultDistribution}
	if n == nil {
		return k
	}
	o := d.object(n, path, fieldsOf[docKeys]()...)

	if dist, ok := o.str("distribution"); ok {
		k.Distribution = dist
		if !slices.Contains(distributions, dist) {
			o.errorf("distribution", "%s", notOneOf(dist, distributions))
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
	if k.Distribution == DistHotKey {
		k.HotKeys, k.HotFraction = DefaultHotKeys, DefaultHotFraction
	}
	if hot, ok := o.int("hot_keys"); ok {
		k.HotKeys = int(hot)
		switch {
		case k.Distribution != DistHotKey:
			o.errorf("hot_keys", "only the %s distribution has hot keys", DistHotKey)
		case hot < 1 || hot > math.MaxInt32:
			o.errorf("hot_keys", "must be at least 1, got %d", hot)
		}
	}
	if f, ok := o.float("hot_fraction"); ok {
		k.HotFraction = f
		switch {
		case k.Distribution != DistHotKey:
			o.errorf("hot_fraction", "only the %s distribution has a hot fraction", DistHotKey)
		case f < 0 || f > 1:
			o.errorf("hot_fraction", "must be between 0 and 1, got %v", f)
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
