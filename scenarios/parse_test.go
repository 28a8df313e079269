package scenarios

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/abusesim/abusesim/target"
)

// base is a valid scenario; the error cases below each change one line of
// it, so the line numbers in their wants are base's.
const base = `name: t
duration: 10s
table:
  name: Items
  billing_mode: PROVISIONED
  rcu: 5
  wcu: 5
  items: {count: 10, key_pattern: item-%03d, size_bytes: 100}
classes:
  - name: a
    source: 127.0.0.2
    rate: 10
    requests:
      - {method: GET, path: "/items/{{key}}"}
    keys: {distribution: zipf, exponent: 1.5}
  - name: b
    rate: 7
    requests:
      - {method: GET, path: /x}
`

// edit returns base with the first occurrence of old replaced by new; it
// fails the test when old is not there, so a case cannot silently test
// base itself.
func edit(t *testing.T, old, new string) string {
	t.Helper()
	if !strings.Contains(base, old) {
		t.Fatalf("base has no %q", old)
	}
	return strings.Replace(base, old, new, 1)
}

// problems unpacks the *Errors in err, joined or not.
func problems(t *testing.T, err error) []*Error {
	t.Helper()
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		var out []*Error
		for _, e := range joined.Unwrap() {
			out = append(out, problems(t, e)...)
		}
		return out
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) holds no *Error", err, err)
	}
	return []*Error{e}
}

func TestParseBase(t *testing.T) {
	s, err := Parse("base.yaml", []byte(base))
	if err != nil {
		t.Fatalf("Parse(base): %v", err)
	}

	got := s.Classes[0]
	want := Class{
		Name:   "a",
		Source: "127.0.0.2",
		Rate:   Rate{Phases: []target.Phase{{Duration: 10 * time.Second, StartRPS: 10, EndRPS: 10}}},
		Requests: []Request{{
			Name: "GET /items/{{key}}", Weight: DefaultWeight, Method: "GET", Path: "/items/{{key}}",
		}},
		Keys: Keys{Distribution: DistZipf, Exponent: 1.5},
	}.withDefaults()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("class a:\n got %+v\nwant %+v", got, want)
	}
	if got, want := s.Classes[1].Keys, (Keys{Distribution: DistUniform}); got != want {
		t.Errorf("class b keys: got %+v, want %+v", got, want)
	}
	if got, want := s.Table.PartitionKey, DefaultPartitionKey; got != want {
		t.Errorf("partition key: got %q, want %q", got, want)
	}
	if got, want := s.Profiles, DefaultProfiles; !reflect.DeepEqual(got, want) {
		t.Errorf("profiles: got %v, want %v", got, want)
	}
	if got, want := s.File, "base.yaml"; got != want {
		t.Errorf("file: got %q, want %q", got, want)
	}
}

func TestParseRates(t *testing.T) {
	sec := time.Second
	tests := []struct {
		name string
		rate string // replaces class b's "rate: 7"
		want []target.Phase
	}{
		{"constant", "rate: 7", []target.Phase{{Duration: 10 * sec, StartRPS: 7, EndRPS: 7}}},
		{"fractional", "rate: 0.5", []target.Phase{{Duration: 10 * sec, StartRPS: 0.5, EndRPS: 0.5}}},
		{"ramp", "rate: {from: 1, to: 30}", []target.Phase{{Duration: 10 * sec, StartRPS: 1, EndRPS: 30}}},
		{
			"phases",
			"phases:\n      - {duration: 2s, rate: 5}\n      - {duration: 3s, from: 5, to: 50}\n" +
				"      - {duration: 5s, rate: {from: 50, to: 0}}",
			[]target.Phase{
				{Duration: 2 * sec, StartRPS: 5, EndRPS: 5},
				{Duration: 3 * sec, StartRPS: 5, EndRPS: 50},
				{Duration: 5 * sec, StartRPS: 50, EndRPS: 0},
			},
		},
		{
			"phases shorter than the run",
			"phases: [{duration: 1500ms, rate: 3}]",
			[]target.Phase{{Duration: 1500 * time.Millisecond, StartRPS: 3, EndRPS: 3}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("rates.yaml", []byte(edit(t, "rate: 7", tt.rate)))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := s.Classes[1].Rate.Phases; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("phases: got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseAnchorsAndDefaults(t *testing.T) {
	src := edit(t, "      - {method: GET, path: /x}\n",
		"      - &post {method: POST, path: /record, body: '{\"id\":\"{{uuid}}\"}', weight: 3}\n"+
			"      - *post\n")
	src = strings.Replace(src, "      - *post\n", "      - {name: again, method: PUT, path: /record}\n", 1)
	src += "profiles: [protected]\n"

	s, err := Parse("anchors.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	got := s.Classes[1].Requests
	want := []Request{
		{Name: "POST /record", Weight: 3, Method: "POST", Path: "/record", Body: `{"id":"{{uuid}}"}`},
		{Name: "again", Weight: 1, Method: "PUT", Path: "/record"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("requests:\n got %+v\nwant %+v", got, want)
	}
	if got, want := s.Profiles, []string{"protected"}; !reflect.DeepEqual(got, want) {
		t.Errorf("profiles: got %v, want %v", got, want)
	}
}

func TestParseAlias(t *testing.T) {
	src := edit(t, "    rate: 10\n", "    rate: &r {from: 2, to: 4}\n")
	src = strings.Replace(src, "    rate: 7\n", "    rate: *r\n", 1)

	s, err := Parse("alias.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	got := s.Classes[1].Rate.Phases
	want := []target.Phase{{Duration: 10 * time.Second, StartRPS: 2, EndRPS: 4}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("aliased rate: got %+v, want %+v", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		line, col int
		field     string
		msg       string // a substring of the message
	}{
		{
			"unknown field with suggestion",
			edit(t, "    rate: 10", "    rat: 10"),
			12, 5, "classes[0].rat", `unknown field "rat" (did you mean "rate"?)`,
		},
		{
			"unknown field far from any",
			edit(t, "duration: 10s", "duration: 10s\nzzzzzzzz: 1"),
			3, 1, "zzzzzzzz", "valid fields: name, description, seed, duration",
		},
		{
			"negative rate",
			edit(t, "rate: 7", "rate: -5"),
			17, 11, "classes[1].rate", "must be between 0 and 1000000 requests per second, got -5",
		},
		{
			"negative ramp end",
			edit(t, "rate: 7", "rate: {from: 1, to: -2}"),
			17, 25, "classes[1].rate.to", "got -2",
		},
		{
			"phases longer than duration",
			edit(t, "rate: 7", "phases: [{duration: 6s, rate: 1}, {duration: 5s, from: 1, to: 2}]"),
			17, 13, "classes[1].phases", "phases last 11s in all, longer than the scenario's duration 10s",
		},
		{
			"phase without rate",
			edit(t, "rate: 7", "phases: [{duration: 6s}]"),
			17, 14, "classes[1].phases[0].rate", "required",
		},
		{
			"rate and phases",
			edit(t, "rate: 7", "rate: 7\n    phases: [{duration: 1s, rate: 1}]"),
			18, 13, "classes[1].phases", "either rate or phases",
		},
		{
			"no rate",
			edit(t, "    rate: 7\n", ""),
			16, 5, "classes[1].rate", "required: give rate",
		},
		{
			"non-loopback source",
			edit(t, "127.0.0.2", "10.0.0.2"),
			11, 13, "classes[0].source", `"10.0.0.2" is not an IPv4 loopback address`,
		},
		{
			"IPv6 loopback source",
			edit(t, "127.0.0.2", `"::1"`),
			11, 13, "classes[0].source", "not an IPv4 loopback",
		},
		{
			"bad template",
			edit(t, "{{key}}", "{{kee}}"),
			14, 29, "classes[0].requests[0].path",
			`bad template: template "/items/{{kee}}": column 8: unknown function "kee"`,
		},
		{
			"path without slash",
			edit(t, "path: /x", "path: x"),
			19, 29, "classes[1].requests[0].path", `must start with /`,
		},
		{
			"unquoted JSON body",
			edit(t, "path: /x}", "path: /x, body: {a: 1}}"),
			19, 39, "classes[1].requests[0].body", "quote a JSON body",
		},
		{
			"zipf exponent of 1",
			edit(t, "exponent: 1.5", "exponent: 1"),
			15, 42, "classes[0].keys.exponent", "a Zipf exponent must be more than 1, got 1",
		},
		{
			"exponent without zipf",
			edit(t, "distribution: zipf", "distribution: uniform"),
			15, 45, "classes[0].keys.exponent", "only the zipf distribution",
		},
		{
			"missing fraction over 1",
			edit(t, "exponent: 1.5", "missing_fraction: 1.5"),
			15, 50, "classes[0].keys.missing_fraction", "between 0 and 1",
		},
		{
			"missing rcu",
			edit(t, "  rcu: 5\n", ""),
			4, 3, "table.rcu", "required when billing_mode is PROVISIONED",
		},
		{
			"rcu on demand",
			edit(t, "PROVISIONED", "PAY_PER_REQUEST"),
			6, 8, "table.rcu", "only a PROVISIONED table",
		},
		{
			"bad billing mode",
			edit(t, "PROVISIONED", "provisioned"),
			5, 17, "table.billing_mode", `must be PROVISIONED or PAY_PER_REQUEST, got "provisioned"`,
		},
		{
			"zero wcu",
			edit(t, "wcu: 5", "wcu: 0"),
			7, 8, "table.wcu", "must be more than 0, got 0",
		},
		{
			"burst over 300 s",
			edit(t, "  rcu: 5", "  burst_start_seconds: 301\n  rcu: 5"),
			6, 24, "table.burst_start_seconds", "between 0 and 300",
		},
		{
			"bad duration",
			edit(t, "duration: 10s", "duration: 10 seconds"),
			2, 11, "duration", `want a duration such as "20s" or "1m30s", got "10 seconds"`,
		},
		{
			"duration without unit",
			edit(t, "duration: 10s", "duration: 10"),
			2, 11, "duration", `want a duration with a unit, such as "10s", got integer 10`,
		},
		{
			"wrong type",
			edit(t, "rcu: 5", "rcu: fifty"),
			6, 8, "table.rcu", `want an integer, got string "fifty"`,
		},
		{
			"list where a mapping belongs",
			edit(t, "items: {count: 10, key_pattern: item-%03d, size_bytes: 100}", "items: [10]"),
			8, 10, "table.items", "want a mapping, got a list",
		},
		{
			"key pattern with two verbs",
			edit(t, "item-%03d", "item-%03d-%d"),
			8, 35, "table.items.key_pattern", "exactly one integer verb such as %06d, found 2",
		},
		{
			"key pattern with a string verb",
			edit(t, "item-%03d", "item-%s"),
			8, 35, "table.items.key_pattern", "%s is not an integer verb",
		},
		{
			"key pattern like a missing id",
			edit(t, "item-%03d", "miss-%d"),
			8, 35, "table.items.key_pattern", `may not start with "miss-"`,
		},
		{
			"duplicate class",
			edit(t, "name: b", "name: a"),
			16, 11, "classes[1].name", `class "a" is already defined as classes[0]`,
		},
		{
			"lower-case method",
			edit(t, "method: GET, path: /x", "method: get, path: /x"),
			19, 18, "classes[1].requests[0].method", `must be one of GET, POST, PUT, DELETE, got "get"`,
		},
		{
			"zero weight",
			edit(t, "method: GET, path: /x", "method: GET, path: /x, weight: 0"),
			19, 41, "classes[1].requests[0].weight", "must be more than 0",
		},
		{
			"class that is not a mapping",
			edit(t, "  - name: b\n    rate: 7\n    requests:\n      - {method: GET, path: /x}\n", "  - 7\n"),
			16, 5, "classes[1]", "want a mapping, got integer 7",
		},
		{
			"request that is not a mapping",
			edit(t, "{method: GET, path: /x}", "GET /x"),
			19, 9, "classes[1].requests[0]", `want a mapping, got string "GET /x"`,
		},
		{
			"table that is not a mapping",
			edit(t, "table:\n  name: Items\n", "table: Items\nx:\n  name: Items\n"),
			3, 8, "table", `want a mapping, got string "Items"`,
		},
		{
			"null rate",
			edit(t, "rate: 7", "rate:"),
			17, 10, "classes[1].rate", "got nothing (null)",
		},
		{
			"missing name",
			edit(t, "name: t\n", ""),
			1, 1, "name", "required field is missing",
		},
		{
			"YAML syntax error",
			edit(t, "rcu: 5", "rcu: [5"),
			// go-yaml reports the token where it wanted the ']'.
			7, 3, "", "',' or ']' must be specified",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantProblem(t, tt.src, tt.line, tt.col, tt.field, tt.msg) })
	}
}

// wantProblem parses src as bad.yaml and fails t unless one of the
// problems reported is at line:col, names field and says msg.
func wantProblem(t *testing.T, src string, line, col int, field, msg string) {
	t.Helper()
	s, err := Parse("bad.yaml", []byte(src))
	if err == nil {
		t.Fatalf("Parse succeeded with %+v, want an error", s)
	}
	for _, p := range problems(t, err) {
		if p.Line == line && p.Column == col && p.Field == field &&
			strings.Contains(p.Msg, msg) && p.File == "bad.yaml" {
			return
		}
	}
	t.Errorf("got error\n%v\nwant one at bad.yaml:%d:%d: %s: ...%s...", err, line, col, field, msg)
}

func TestParseWholeFileProblems(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"empty", "", "f.yaml:1:1: the scenario file is empty"},
		{"two documents", base + "---\nname: u\n", "f.yaml:20:1: a scenario file holds one YAML document, found 2"},
		{"top level list", "- 1\n", "f.yaml:1:1: want a mapping, got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tt.src))
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error: got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseReportsEveryProblemInOrder(t *testing.T) {
	src := edit(t, "rcu: 5", "rcu: -1")
	src = strings.Replace(src, "duration: 10s", "duration: soon", 1)
	src = strings.Replace(src, "rate: 7", "rate: fast", 1)

	_, err := Parse("many.yaml", []byte(src))
	var got []string
	for _, p := range problems(t, err) {
		got = append(got, p.Field)
	}
	want := []string{"duration", "table.rcu", "classes[1].rate"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fields in error: got %v, want %v\n%v", got, want, err)
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		err  Error
		want string
	}{
		{
			Error{"a.yaml", 3, 7, "classes[1].rate", "must be more than 0"},
			"a.yaml:3:7: classes[1].rate: must be more than 0",
		},
		{Error{"a.yaml", 1, 2, "", "bad YAML"}, "a.yaml:1:2: bad YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSuggest(t *testing.T) {
	fields := []string{"name", "rate", "phases", "requests", "missing_fraction"}
	tests := []struct{ in, want string }{
		{"rat", "rate"},
		{"Rate", "rate"},
		{"phase", "phases"},
		{"request", "requests"},
		{"missing_fracton", "missing_fraction"},
		{"qqqqqq", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Suggest(tt.in, fields); got != tt.want {
				t.Errorf("Suggest(%q): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
