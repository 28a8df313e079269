package scenarios

import (
	"encoding/json"
	"reflect"
	"strings"
)

// The doc* types describe the scenario file's shape, field by field: the
// decoder takes each mapping's valid field names from them (fieldsOf), and
// Schema turns them into the JSON Schema editors use, so the two cannot
// drift apart. They are never filled in; Parse builds [Scenario] values.
//
// Tags: yaml is the field name; doc its description; req:"1" marks a
// required field; enum lists the allowed strings; min and max bound a
// number. A field whose type implements schemaer describes itself (used
// where YAML accepts more than one shape).
type docScenario struct {
	Name        string      `yaml:"name" req:"1" doc:"Scenario name: 1 to 64 letters, digits, '_', '.' or '-'; names the results folder."`
	Description string      `yaml:"description" doc:"Free text shown in reports."`
	Seed        int64       `yaml:"seed" doc:"Seeds every random choice, so equal seeds replay equal traffic."`
	Duration    docDuration `yaml:"duration" req:"1" doc:"How long each profile's traffic runs, such as 30s or 2m."`
	Table       docTable    `yaml:"table" req:"1" doc:"The DynamoDB table created fresh for each profile."`
	Profiles    docProfiles `yaml:"profiles" doc:"Profiles to compare, in order: names, or {name, base, overrides}. Default unprotected, protected."`
	Classes     []docClass  `yaml:"classes" req:"1" doc:"Traffic classes, played concurrently."`
}

type docTable struct {
	Name              string   `yaml:"name" req:"1" doc:"DynamoDB table name."`
	PartitionKey      string   `yaml:"partition_key" doc:"String partition key attribute; default id."`
	BillingMode       string   `yaml:"billing_mode" req:"1" enum:"PROVISIONED,PAY_PER_REQUEST" doc:"DynamoDB billing mode."`
	RCU               int64    `yaml:"rcu" min:"1" max:"40000" doc:"Provisioned read capacity units (PROVISIONED only; at most AWS's default per-table quota)."`
	WCU               int64    `yaml:"wcu" min:"1" max:"40000" doc:"Provisioned write capacity units (PROVISIONED only; at most AWS's default per-table quota)."`
	BurstStartSeconds float64  `yaml:"burst_start_seconds" min:"0" max:"300" doc:"Seconds of provisioned capacity in the burst pool at creation."`
	Items             docItems `yaml:"items" req:"1" doc:"Items written before the run."`
}

type docItems struct {
	Count      int    `yaml:"count" req:"1" min:"1" max:"1000000" doc:"Number of items; at most a million, and 1 GiB of seed data in all."`
	KeyPattern string `yaml:"key_pattern" req:"1" doc:"fmt pattern with one integer verb, such as item-%06d; keys at most 2048 bytes."`
	SizeBytes  int    `yaml:"size_bytes" req:"1" min:"1" max:"409600" doc:"Approximate size of each item in bytes."`
}

type docProfile struct {
	Name      string         `yaml:"name" req:"1" doc:"Name of this profile in the results."`
	Base      string         `yaml:"base" doc:"Built-in profile it starts from; default: the profile named name."`
	Overrides map[string]any `yaml:"overrides" doc:"Profile fields to change, as the reference server names them (rate_limit, cache, ...)."`
}

type docClass struct {
	Name        string        `yaml:"name" req:"1" doc:"Class name, unique in the scenario."`
	Executor    string        `yaml:"executor" enum:"arrival-rate,concurrency" doc:"arrival-rate (default, open model: requests start on schedule) or concurrency (closed model: clients wait for each answer)."`
	Source      string        `yaml:"source" doc:"IPv4 loopback address (127.0.0.0/8) to send from."`
	Rate        docRate       `yaml:"rate" doc:"Requests per second over the whole run: a number, or {from, to} for a linear ramp."`
	Phases      []docPhase    `yaml:"phases" doc:"Phases played back to back: of the rate (arrival-rate, instead of rate) or of the active clients (concurrency, instead of clients)."`
	Arrival     string        `yaml:"arrival" enum:"uniform,poisson" doc:"uniform (default, evenly spaced) or poisson (random gaps from the seed, same mean rate)."`
	Clients     int           `yaml:"clients" min:"0" doc:"concurrency: number of clients, all active for the whole run (default 1; or phases); arrival-rate: number of virtual clients identities are assigned to."`
	ThinkTime   docDuration   `yaml:"think_time" doc:"concurrency: pause between an answer and the client's next request."`
	Requests    []docRequest  `yaml:"requests" req:"1" doc:"Weighted request mix."`
	Headers     docHeaders    `yaml:"headers" doc:"Headers sent on every request of the class (values are templates)."`
	Keys        docKeys       `yaml:"keys" doc:"How {{key}} is drawn; default uniform over the seeded items."`
	Identities  docIdentities `yaml:"identities" doc:"Who the requests claim to be."`
	Client      docClient     `yaml:"client" doc:"Client behaviour: connections, protocol, retries."`
	Workers     int           `yaml:"workers" min:"0" max:"100000" doc:"Maximum requests in flight (arrival-rate); default 512."`
	Timeout     docDuration   `yaml:"timeout" doc:"Per-request timeout; default 5s."`
	Late        string        `yaml:"late" enum:"wait,drop" doc:"A request finding every worker busy: wait (default, up to max_lateness, counted late) or drop (counted dropped)."`
	MaxLateness docDuration   `yaml:"max_lateness" doc:"How long a due request may wait for a worker before it is dropped; default 1s."`
	Thresholds  docThresholds `yaml:"thresholds" doc:"Limits that make the run fail."`
}

type docPhase struct {
	Duration docDuration `yaml:"duration" req:"1" doc:"How long the phase lasts."`
	Rate     docRate     `yaml:"rate" doc:"arrival-rate: constant rate, or {from, to} for a ramp."`
	From     float64     `yaml:"from" min:"0" doc:"arrival-rate: ramp start rate (with to)."`
	To       float64     `yaml:"to" min:"0" doc:"arrival-rate: ramp end rate (with from)."`
	Clients  docClients  `yaml:"clients" doc:"concurrency: active clients, or {from, to} for a linear ramp."`
	Step     docStep     `yaml:"step" doc:"A staircase of equal constant steps from from to to."`
	Spike    docSpike    `yaml:"spike" doc:"base level with a burst at peak for length in the middle of the phase."`
	Pause    bool        `yaml:"pause" doc:"true: send nothing for the phase (no active client in concurrency)."`
}

type docStep struct {
	From  float64 `yaml:"from" req:"1" min:"0" doc:"Rate (or clients, in concurrency) of the first step."`
	To    float64 `yaml:"to" req:"1" min:"0" doc:"Rate (or clients, in concurrency) of the last step."`
	Steps int     `yaml:"steps" req:"1" min:"2" doc:"Number of steps."`
}

type docSpike struct {
	Base   float64     `yaml:"base" req:"1" min:"0" doc:"Rate (or clients, in concurrency) around the spike."`
	Peak   float64     `yaml:"peak" req:"1" min:"0" doc:"Rate (or clients, in concurrency) during the spike."`
	Length docDuration `yaml:"length" req:"1" doc:"How long the spike lasts, centred in the phase."`
}

type docRamp struct {
	From float64 `yaml:"from" req:"1" min:"0" doc:"Rate at the start."`
	To   float64 `yaml:"to" req:"1" min:"0" doc:"Rate at the end."`
}

type docRequest struct {
	Name    string     `yaml:"name" doc:"Unique in the class; default METHOD path."`
	Weight  int        `yaml:"weight" min:"1" doc:"Relative frequency; default 1."`
	Method  string     `yaml:"method" req:"1" enum:"GET,POST,PUT,DELETE" doc:"HTTP method."`
	Path    string     `yaml:"path" req:"1" doc:"Path template, starting with /."`
	Body    string     `yaml:"body" doc:"Body template; sent as application/json."`
	Headers docHeaders `yaml:"headers" doc:"Headers of this request (values are templates); override the class's."`
}

type docKeys struct {
	Distribution    string  `yaml:"distribution" enum:"uniform,zipf,sequential,hot-key,missing" doc:"How keys are drawn from the seeded items (missing: only ids not in the table)."`
	Exponent        float64 `yaml:"exponent" doc:"zipf: exponent s > 1; default 1.2."`
	HotKeys         int     `yaml:"hot_keys" min:"1" doc:"hot-key: how many keys are hot; default 1."`
	HotFraction     float64 `yaml:"hot_fraction" min:"0" max:"1" doc:"hot-key: share of draws on the hot keys; default 0.9."`
	MissingFraction float64 `yaml:"missing_fraction" min:"0" max:"1" doc:"Share of keys that are random ids not in the table."`
}

type docIdentities struct {
	Sources      docPool    `yaml:"sources" doc:"Loopback source addresses: a list, or {cidr, count} inside 127.0.0.0/8."`
	ForwardedFor docPool    `yaml:"forwarded_for" doc:"Spoofed X-Forwarded-For values: a list, or {cidr, count}."`
	APIKeys      docKeyPool `yaml:"api_keys" doc:"API keys: a list, or {prefix, count}."`
	APIKeyHeader string     `yaml:"api_key_header" doc:"Header carrying the API key; default X-Api-Key."`
	UserAgents   []string   `yaml:"user_agents" doc:"User-Agent values."`
	Assign       string     `yaml:"assign" enum:"per-request,per-client" doc:"per-request (default): each request draws each value; per-client: a client keeps its values."`
}

type docCIDRPool struct {
	CIDR  string `yaml:"cidr" req:"1" doc:"Address range, such as 127.0.1.0/24."`
	Count int    `yaml:"count" req:"1" min:"1" doc:"How many addresses, from the first."`
}

type docPrefixPool struct {
	Prefix string `yaml:"prefix" req:"1" doc:"Start of every key; a number follows."`
	Count  int    `yaml:"count" req:"1" min:"1" doc:"How many keys."`
}

type docClient struct {
	KeepAlive      bool     `yaml:"keep_alive" doc:"Reuse connections; default true."`
	MaxConnections int      `yaml:"max_connections" min:"0" doc:"Cap on open connections per source address; default none."`
	Protocol       string   `yaml:"protocol" enum:"http1,h2c,h2" doc:"HTTP/1.1 (default), HTTP/2 cleartext, or HTTP/2 over TLS."`
	Retry          docRetry `yaml:"retry" doc:"Retry policy; default none."`
}

type docRetry struct {
	Policy           string      `yaml:"policy" req:"1" enum:"none,immediate,exponential" doc:"none, immediate, or exponential backoff."`
	MaxAttempts      int         `yaml:"max_attempts" min:"1" doc:"Attempts including the first; default 3."`
	BaseDelay        docDuration `yaml:"base_delay" doc:"exponential: first delay; default 100ms."`
	MaxDelay         docDuration `yaml:"max_delay" doc:"Longest delay; default 10s."`
	Jitter           bool        `yaml:"jitter" doc:"Draw each delay uniformly from [0, delay]."`
	HonourRetryAfter bool        `yaml:"honour_retry_after" doc:"Wait what Retry-After says, at most max_delay."`
	On               []int       `yaml:"on" doc:"Status codes retried; default 429, 500, 502, 503, 504. Transport errors are always retried."`
}

type docThresholds struct {
	P99       docDuration `yaml:"p99" doc:"Latency p99 from the intended start must be at most this."`
	ErrorRate float64     `yaml:"error_rate" min:"0" max:"1" doc:"Share of sent requests answered 5xx or failing in transport must be at most this."`
	Share429  float64     `yaml:"share_429" min:"0" max:"1" doc:"Share of sent requests answered 429 must be at most this."`
	MinOK     float64     `yaml:"min_success" min:"0" max:"1" doc:"Share of sent requests answered 2xx must be at least this."`
	Profiles  []string    `yaml:"profiles" doc:"Profiles the thresholds apply to; default all."`
}

// schemaer is a doc type that writes its own schema.
type schemaer interface{ schema() map[string]any }

type (
	docDuration struct{}
	docRate     struct{}
	docClients  struct{}
	docProfiles struct{}
	docHeaders  struct{}
	docPool     struct{}
	docKeyPool  struct{}
)

func (docDuration) schema() map[string]any {
	return map[string]any{"type": "string", "pattern": `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`}
}

func (docRate) schema() map[string]any {
	return map[string]any{"oneOf": []any{
		map[string]any{"type": "number", "exclusiveMinimum": 0, "maximum": MaxRPS},
		objectSchema(reflect.TypeFor[docRamp]()),
	}}
}

func (docClients) schema() map[string]any {
	count := map[string]any{"type": "integer", "minimum": 0, "maximum": maxClients}
	return map[string]any{"oneOf": []any{
		count,
		map[string]any{
			"type": "object", "additionalProperties": false, "required": []string{"from", "to"},
			"properties": map[string]any{
				"from": map[string]any{"type": "integer", "minimum": 0, "maximum": maxClients,
					"description": "Active clients at the start."},
				"to": map[string]any{"type": "integer", "minimum": 0, "maximum": maxClients,
					"description": "Active clients at the end."},
			},
		},
	}}
}

func (docProfiles) schema() map[string]any {
	return map[string]any{"type": "array", "items": map[string]any{"oneOf": []any{
		map[string]any{"type": "string"},
		objectSchema(reflect.TypeFor[docProfile]()),
	}}}
}

func (docHeaders) schema() map[string]any {
	return map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}}
}

func (docPool) schema() map[string]any {
	return map[string]any{"oneOf": []any{
		map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
		objectSchema(reflect.TypeFor[docCIDRPool]()),
	}}
}

func (docKeyPool) schema() map[string]any {
	return map[string]any{"oneOf": []any{
		map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
		objectSchema(reflect.TypeFor[docPrefixPool]()),
	}}
}

// fieldsOf returns the YAML field names of doc type T, in order.
func fieldsOf[T any]() []string {
	t := reflect.TypeFor[T]()
	names := make([]string, t.NumField())
	for i := range names {
		names[i] = t.Field(i).Tag.Get("yaml")
	}
	return names
}

// Schema returns the JSON Schema (draft 2020-12) of scenario files, for
// editors; docs/scenario.schema.json holds its output.
func Schema() ([]byte, error) {
	s := objectSchema(reflect.TypeFor[docScenario]())
	s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	s["$id"] = "https://github.com/abusesim/abusesim/docs/scenario.schema.json"
	s["title"] = "abusesim scenario"
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

var schemaerType = reflect.TypeFor[schemaer]()

func objectSchema(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("yaml")
		p := typeSchema(f.Type)
		if d := f.Tag.Get("doc"); d != "" {
			p["description"] = d
		}
		if e := f.Tag.Get("enum"); e != "" {
			p["enum"] = strings.Split(e, ",")
		}
		for tag, key := range map[string]string{"min": "minimum", "max": "maximum"} {
			if v := f.Tag.Get(tag); v != "" {
				p[key] = json.Number(v)
			}
		}
		if f.Tag.Get("req") == "1" {
			required = append(required, name)
		}
		props[name] = p
	}
	s := map[string]any{"type": "object", "additionalProperties": false, "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func typeSchema(t reflect.Type) map[string]any {
	if t.Implements(schemaerType) {
		return reflect.Zero(t).Interface().(schemaer).schema()
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": typeSchema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object"}
	case reflect.Struct:
		return objectSchema(t)
	}
	panic("scenarios: no schema for " + t.String())
}
