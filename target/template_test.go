package target

import (
	"encoding/json"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"
)

func testContext(seed uint64) *TemplateContext {
	return &TemplateContext{
		Rand:  rand.New(rand.NewPCG(seed, 1)),
		Key:   "item-000042",
		Seq:   7,
		Now:   time.Date(2025, 3, 1, 12, 30, 5, 250_000_000, time.FixedZone("CET", 3600)),
		Class: "scraper",
	}
}

func TestTemplateAppend(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // a regexp the whole output must match
	}{
		{"literal only", "/healthz", `/healthz`},
		{"empty", "", ``},
		{"key", "/items/{{key}}", `/items/item-000042`},
		{"spaces in braces", "/items/{{ key }}?n={{seq}}", `/items/item-000042\?n=7`},
		{"class", "{{class}}-{{class}}", `scraper-scraper`},
		{"now in UTC", "{{now}}", `2025-03-01T11:30:05\.25Z`},
		{"randid", "id={{randid}}", `id=[0-9a-f]{16}`},
		{"uuid v4", "{{uuid}}", `[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`},
		{"lone braces are literal", "{a}}b{", `\{a\}\}b\{`},
		{"adjacent placeholders", "{{seq}}{{seq}}", `77`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := ParseTemplate(tt.src)
			if err != nil {
				t.Fatalf("ParseTemplate(%q): %v", tt.src, err)
			}
			got := string(tmpl.Append([]byte("prefix:"), testContext(1)))
			if !regexp.MustCompile(`^prefix:` + tt.want + `$`).MatchString(got) {
				t.Errorf("Append = %q, want prefix:%s", got, tt.want)
			}
			if tmpl.String() != tt.src {
				t.Errorf("String() = %q, want %q", tmpl.String(), tt.src)
			}
		})
	}
}

func TestTemplateJSONBodyStaysValid(t *testing.T) {
	tmpl := MustParseTemplate(`{"event_id":"{{uuid}}","user_id":"{{randid}}","ts":"{{now}}",` +
		`"n":{{seq}},"key":"{{key}}","class":"{{class}}"}`)
	got := tmpl.Append(nil, testContext(3))
	var fields map[string]any
	if err := json.Unmarshal(got, &fields); err != nil {
		t.Fatalf("body %s is not valid JSON: %v", got, err)
	}
	if fields["n"] != 7.0 || fields["key"] != "item-000042" {
		t.Errorf("decoded %v, want n 7 and key item-000042", fields)
	}
}

func TestTemplateDeterministic(t *testing.T) {
	tmpl := MustParseTemplate("{{uuid}}/{{randid}}")
	a := string(tmpl.Append(nil, testContext(9)))
	b := string(tmpl.Append(nil, testContext(9)))
	c := string(tmpl.Append(nil, testContext(10)))
	if a != b {
		t.Errorf("same seed gave %q and %q", a, b)
	}
	if a == c {
		t.Errorf("seeds 9 and 10 both gave %q", a)
	}
}

func TestParseTemplateErrors(t *testing.T) {
	tests := []struct {
		src  string
		want string
	}{
		{"/items/{{nope}}", "column 8: unknown function \"nope\""},
		{"/items/{{key", "column 8: unclosed {{"},
		{"{{key}}/{{", "column 9: unclosed {{"},
		{"{{}}", "column 1: unknown function \"\""},
		{"{{Key}}", "column 1: unknown function \"Key\""},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			_, err := ParseTemplate(tt.src)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseTemplate(%q) error = %v, want it to contain %q", tt.src, err, tt.want)
			}
		})
	}
}

func TestTemplateUsesKey(t *testing.T) {
	tests := []struct {
		src  string
		want bool
	}{
		{"/items/{{key}}", true},
		{"/items/{{randid}}", false},
		{"/key", false},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			if got := MustParseTemplate(tt.src).UsesKey(); got != tt.want {
				t.Errorf("UsesKey() = %v, want %v", got, tt.want)
			}
		})
	}
}
