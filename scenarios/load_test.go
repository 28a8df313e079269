package scenarios

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/abusesim/abusesim/target"
)

func TestBuiltinsParse(t *testing.T) {
	names := Builtins()
	if !slices.Contains(names, "cost-amplification") {
		t.Fatalf("Builtins: got %v, want cost-amplification among them", names)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			s, err := Load(name)
			if err != nil {
				t.Fatalf("Load(%q): %v", name, err)
			}
			if got, want := s.File, BuiltinPrefix+name+".yaml"; got != want {
				t.Errorf("File: got %q, want %q", got, want)
			}
		})
	}
}

func TestCostAmplification(t *testing.T) {
	s, err := Load("cost-amplification")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	wantTable := Table{
		Name: "Items", PartitionKey: "id", BillingMode: BillingProvisioned,
		RCU: 50, WCU: 20, BurstStartSeconds: 9,
		Items: ItemSeed{Count: 2000, KeyPattern: "item-%06d", SizeBytes: 1000},
	}
	if got := s.Table; got != wantTable {
		t.Errorf("table:\n got %+v\nwant %+v", got, wantTable)
	}
	if got, want := s.Duration, 10*time.Second; got != want {
		t.Errorf("duration: got %v, want %v", got, want)
	}

	wantClasses := []Class{
		{
			Name:   "legit",
			Source: "127.0.0.2",
			Rate:   Rate{Phases: []target.Phase{{Duration: 10 * time.Second, StartRPS: 20, EndRPS: 20}}},
			Requests: []Request{
				{Name: "get-item", Weight: 9, Method: "GET", Path: "/items/{{key}}"},
				{Name: "record-view", Weight: 1, Method: "POST", Path: "/record",
					Body: `{"event_id":"{{uuid}}","user_id":"u-{{seq}}","event_type":"view"}`},
			},
			Keys: Keys{Distribution: DistZipf, Exponent: 1.2, MissingFraction: 0},
		},
		{
			Name:   "attacker",
			Source: "127.0.0.3",
			Rate:   Rate{Phases: []target.Phase{{Duration: 10 * time.Second, StartRPS: 100, EndRPS: 400}}},
			Requests: []Request{
				{Name: "get-item", Weight: 1, Method: "GET", Path: "/items/{{key}}"},
			},
			Keys: Keys{Distribution: DistUniform, MissingFraction: 0.95},
		},
	}
	for i := range wantClasses {
		wantClasses[i] = wantClasses[i].withDefaults()
	}
	if got := s.Classes; !reflect.DeepEqual(got, wantClasses) {
		t.Errorf("classes:\n got %+v\nwant %+v", got, wantClasses)
	}
	if got, want := s.Profiles, []string{"unprotected", "protected"}; !reflect.DeepEqual(got, want) {
		t.Errorf("profiles: got %v, want %v", got, want)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	own := filepath.Join(dir, "cost-amplification.yaml")
	if err := os.WriteFile(own, []byte(strings.Replace(base, "name: t", "name: mine", 1)), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		in       string
		wantName string
		wantFile string
	}{
		{"cost-amplification", "cost-amplification", "builtin/cost-amplification.yaml"},
		{"cost-amplification.yaml", "cost-amplification", "cost-amplification.yaml"}, // the file beside this test
		{"scenarios/cost-amplification.yaml", "cost-amplification", "builtin/cost-amplification.yaml"},
		{
			filepath.Join(dir, "no", "cost-amplification.yaml"),
			"cost-amplification", "builtin/cost-amplification.yaml",
		},
		{own, "mine", own},
		{dir + "/", "", ""}, // a folder is not a file, and its base names no built-in
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s, err := Load(tt.in)
			if tt.wantName == "" {
				if err == nil {
					t.Fatalf("Load succeeded with %q, want an error", s.Name)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if s.Name != tt.wantName || s.File != tt.wantFile {
				t.Errorf("got name %q from %q, want %q from %q", s.Name, s.File, tt.wantName, tt.wantFile)
			}
		})
	}
}

func TestLoadUnknownListsBuiltins(t *testing.T) {
	_, err := Load("no-such-scenario")
	if err == nil {
		t.Fatal("Load succeeded, want an error")
	}
	for _, want := range append([]string{`"no-such-scenario"`}, Builtins()...) {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestLoadReportsFilePositions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(base, "rcu: 5", "rcu: -5", 1)), 0o644); err != nil {
		t.Fatal(err)
	}

	_, err := Load(path)
	if err == nil {
		t.Fatal("Load succeeded, want an error")
	}
	if got, want := err.Error(), path+":6:8: table.rcu: must be more than 0, got -5"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
