package scenarios

import (
	"fmt"
	"strings"
	"testing"
)

// items is base's seed line, which the cases below replace (line 8).
const items = "items: {count: 10, key_pattern: item-%03d, size_bytes: 100}"

func TestParseLimits(t *testing.T) {
	long := strings.Repeat("k", 2045)
	tests := []struct {
		name      string
		src       string
		line, col int
		field     string
		msg       string
	}{
		{"partition key over 2048 bytes",
			edit(t, items, "items: {count: 1000, key_pattern: "+long+"%06d, size_bytes: 100}"),
			8, 37, "table.items.key_pattern", "makes keys of up to 2051 bytes"},
		{"item over 400 KB", edit(t, items, "items: {count: 10, key_pattern: item-%03d, size_bytes: 409601}"),
			8, 58, "table.items.size_bytes", "DynamoDB's 400 KB item size limit"},
		{"too many items", edit(t, items, "items: {count: 1_000_001, key_pattern: item-%07d, size_bytes: 100}"),
			8, 18, "table.items.count", "must be between 1 and 1000000"},
		{"too much seed data", edit(t, items, "items: {count: 1000000, key_pattern: item-%07d, size_bytes: 400000}"),
			8, 10, "table.items", "more than the 1 GiB a local run seeds"},
		{"rate 0", edit(t, "rate: 7", "rate: 0"),
			17, 11, "classes[1].rate", "a rate of 0 sends nothing; for as fast as the clients go " +
				"use executor: concurrency"},
		{"ramp from 0 to 0", edit(t, "rate: 7", "rate: {from: 0, to: 0}"),
			17, 11, "classes[1].rate", "a rate of 0 sends nothing"},
		{"phase at rate 0", edit(t, "rate: 7", "phases: [{duration: 1s, rate: 0}]"),
			17, 14, "classes[1].phases[0]", "write pause: true"},
		{"short ramp phase at 0", edit(t, "rate: 7", "phases: [{duration: 1s, from: 0, to: 0}]"),
			17, 14, "classes[1].phases[0]", "write pause: true"},
		{"leading zero", edit(t, "rate: 7", "rate: 010"),
			17, 11, "classes[1].rate", "write 010 without its leading 0: YAML reads it as the octal number 8"},
		{"fraction in an integer field", edit(t, "rcu: 5", "rcu: 2.5"),
			6, 8, "table.rcu", "want a whole number, got 2.5"},
		{"exponent out of range", edit(t, "rate: 7", "rate: 1e400"),
			17, 11, "classes[1].rate", "want a finite number, got 1e400"},
		{"quoted number is a string", edit(t, "rate: 7", `rate: "7"`),
			17, 11, "classes[1].rate", `got string "7"`},
		{"integer too large for go-yaml", edit(t, "rcu: 5", "rcu: 99999999999999999999999"),
			6, 8, "table.rcu", "integer 99999999999999999999999 is out of range"},
		{"over the table quota", edit(t, "rcu: 5", "rcu: 40001"),
			6, 8, "table.rcu", "must be at most 40000"},
		{"exponent too large for an integer", edit(t, "rcu: 5", "rcu: 1e20"),
			6, 8, "table.rcu", "integer 1e20 is out of range"},
		{"long value quoted in part", edit(t, "rate: 7", "rate: "+strings.Repeat("x", 4096)),
			17, 11, "classes[1].rate", `got string "` + strings.Repeat("x", 40) + `"... (4096 bytes)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantProblem(t, tt.src, tt.line, tt.col, tt.field, tt.msg) })
	}
}

// A number reads the same however it is written, in integer and
// fractional fields alike.
func TestParseNumberSpellings(t *testing.T) {
	for _, tt := range []struct{ count, rate string }{
		{"1000", "7"}, {"1_000", "7.0"}, {"1e3", "0.7e1"}, {"1E3", "70e-1"}, {"1000.0", "7"}, {"0x3e8", "7"},
	} {
		t.Run(tt.count+" "+tt.rate, func(t *testing.T) {
			src := edit(t, "count: 10,", "count: "+tt.count+",")
			src = strings.Replace(src, "rate: 7", "rate: "+tt.rate, 1)
			s, err := Parse("n.yaml", []byte(src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := s.Table.Items.Count; got != 1000 {
				t.Errorf("count %d, want 1000", got)
			}
			if got := s.Classes[1].Rate.Phases[0].StartRPS; got != 7 {
				t.Errorf("rate %v, want 7", got)
			}
		})
	}
}

func TestParseSkipsByteOrderMark(t *testing.T) {
	_, err := Parse("bom.yaml", []byte("\xef\xbb\xbf"+base))
	if err != nil {
		t.Fatalf("Parse with a BOM: %v", err)
	}
	_, err = Parse("bom.yaml", []byte("\xef\xbb\xbf"+strings.Replace(base, "name: t", "name: t!", 1)))
	if p := problems(t, err); len(p) != 1 || p[0].Line != 1 || p[0].Column != 7 {
		t.Errorf("got %v, want one problem at 1:7 (the BOM takes no column)", err)
	}
}

// A file with thousands of problems reports the first maxErrors, in order,
// and how many more there are.
func TestParseCapsProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString(base[:strings.Index(base, "classes:")])
	b.WriteString("classes:\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "  - {name: c%d, rat: 1, requests: [{method: GET, path: /}]}\n", i)
	}
	_, err := Parse("many.yaml", []byte(b.String()))
	if err == nil {
		t.Fatal("Parse accepted it")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxErrors+1 || !strings.HasPrefix(lines[0], "many.yaml:10:") ||
		lines[maxErrors] != "many.yaml: 5950 more problems not shown; fix these first" {
		t.Errorf("%d lines, first %q, last %q", len(lines), lines[0], lines[len(lines)-1])
	}
}
