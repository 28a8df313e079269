package harness

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	refserver "github.com/abusesim/abusesim/reference-server"
	"github.com/abusesim/abusesim/scenarios"
	"github.com/abusesim/abusesim/target"
)

func TestScenarioProfileOverrides(t *testing.T) {
	sc := &scenarios.Scenario{ProfileSpecs: []scenarios.ProfileSpec{
		{Name: "no-cache", Base: "protected", Overrides: map[string]any{"cache": nil}},
		{Name: "tight", Base: "protected", Overrides: map[string]any{
			"rate_limit": map[string]any{"anonymous": map[string]any{
				"requests": uint64(5), "period": "2s", "burst": uint64(5)}},
		}},
		{Name: "typo", Base: "protected", Overrides: map[string]any{"max_bodybytes": uint64(1)}},
		{Name: "typo-removed", Base: "protected", Overrides: map[string]any{"cahce": nil}},
		{Name: "nested-typo-removed", Base: "protected", Overrides: map[string]any{
			"rate_limit": map[string]any{"anonymus": nil}}},
		{Name: "renamed", Base: "unprotected"},
		{Name: "strict", Base: "protectd"},
	}}
	base, err := refserver.BuiltinProfile("protected")
	if err != nil {
		t.Fatal(err)
	}

	p, err := scenarioProfile(sc, "no-cache")
	if err != nil {
		t.Fatalf("no-cache: %v", err)
	}
	if p.Cache != nil || p.Name != "no-cache" || p.RateLimit == nil || p.ConsistentRead != base.ConsistentRead {
		t.Errorf("no-cache: got cache %+v, name %q, limit %v; want no cache and the rest of protected",
			p.Cache, p.Name, p.RateLimit)
	}

	p, err = scenarioProfile(sc, "tight")
	if err != nil {
		t.Fatalf("tight: %v", err)
	}
	got := p.RateLimit.Anonymous
	if got.Requests != 5 || got.Period != 2*time.Second || got.Burst != 5 {
		t.Errorf("tight: anonymous limit %+v, want 5 per 2s, burst 5", got)
	}
	if p.RateLimit.Algorithm != base.RateLimit.Algorithm || p.Cache == nil {
		t.Errorf("tight: overriding one limit changed the rest: %+v", p)
	}

	if _, err := scenarioProfile(sc, "typo"); err == nil || !strings.Contains(err.Error(), "max_bodybytes") {
		t.Errorf("typo: got %v, want an error naming max_bodybytes", err)
	}
	// A misspelt field set to null never reaches the strict loader (the
	// merge drops it), so it is refused before: else caching stays on.
	for name, field := range map[string]string{"typo-removed": `"cahce"`, "nested-typo-removed": `"rate_limit.anonymus"`} {
		if _, err := scenarioProfile(sc, name); err == nil || !strings.Contains(err.Error(), "unknown field "+field) {
			t.Errorf("%s: got %v, want an error naming %s", name, err, field)
		}
	}

	if _, err := scenarioProfile(sc, "strict"); err == nil ||
		!strings.Contains(err.Error(), `base "protectd" is not a built-in profile`) ||
		!strings.Contains(err.Error(), `did you mean "protected"?`) {
		t.Errorf("misspelt base: got %v, want it named as the base, with a suggestion", err)
	}

	p, err = scenarioProfile(sc, "renamed")
	if err != nil || p.Name != "renamed" || p.RateLimit != nil {
		t.Errorf("renamed: got %+v, %v; want unprotected under a new name", p, err)
	}
}

func TestSharedSourceNotes(t *testing.T) {
	a, b := netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3")
	tests := []struct {
		name    string
		classes []target.Class
		want    int
	}{
		{"distinct", []target.Class{{Name: "legit", SourceAddr: a}, {Name: "attacker", SourceAddr: b}}, 0},
		{"shared", []target.Class{{Name: "legit", SourceAddr: a}, {Name: "attacker", SourceAddr: a}}, 1},
		{"unset is not shared", []target.Class{{Name: "x"}, {Name: "y"}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sharedSourceNotes(tt.classes)
			if len(got) != tt.want {
				t.Fatalf("got %d notes %q, want %d", len(got), got, tt.want)
			}
			if tt.want == 1 && !strings.Contains(got[0], "legit and attacker both send from 127.0.0.2") {
				t.Errorf("note %q does not name the classes and address", got[0])
			}
		})
	}
}
