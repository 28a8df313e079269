package scenarios

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/abusesim/abusesim/target"
)

// closed turns base's class b into a concurrency class with phases, which
// land on line 18.
func closed(t *testing.T, phases string) string {
	t.Helper()
	return edit(t, "rate: 7", "executor: concurrency\n    phases: "+phases)
}

func TestParseClientPhases(t *testing.T) {
	sec := time.Second
	tests := []struct {
		name   string
		phases string
		want   []target.ClientPhase
	}{
		{"constant and ramp", "[{duration: 2s, clients: 20}, {duration: 3s, clients: {from: 1, to: 50}}]",
			[]target.ClientPhase{
				{Duration: 2 * sec, StartClients: 20, EndClients: 20},
				{Duration: 3 * sec, StartClients: 1, EndClients: 50},
			}},
		{"step rounds to whole clients", "[{duration: 9s, step: {from: 1, to: 50, steps: 4}}]",
			[]target.ClientPhase{
				{Duration: 2250 * time.Millisecond, StartClients: 1, EndClients: 1},
				{Duration: 2250 * time.Millisecond, StartClients: 17, EndClients: 17},
				{Duration: 2250 * time.Millisecond, StartClients: 34, EndClients: 34},
				{Duration: 2250 * time.Millisecond, StartClients: 50, EndClients: 50},
			}},
		{"spike and pause", "[{duration: 4s, spike: {base: 2, peak: 10, length: 2s}}, {duration: 1s, pause: true}]",
			[]target.ClientPhase{
				{Duration: sec, StartClients: 2, EndClients: 2},
				{Duration: 2 * sec, StartClients: 10, EndClients: 10},
				{Duration: sec, StartClients: 2, EndClients: 2},
				{Duration: sec},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("closed.yaml", []byte(closed(t, tt.phases)))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			c := s.Classes[1]
			if !reflect.DeepEqual(c.ClientPhases, tt.want) || len(c.Rate.Phases) != 0 {
				t.Errorf("client phases %+v, rate phases %+v; want %+v and none",
					c.ClientPhases, c.Rate.Phases, tt.want)
			}
			tc, err := c.Target(s.Table)
			if err != nil {
				t.Fatalf("Target: %v", err)
			}
			if tc.Executor != target.Concurrency || !reflect.DeepEqual(tc.ClientPhases, tt.want) {
				t.Errorf("target class: executor %v, client phases %+v", tc.Executor, tc.ClientPhases)
			}
		})
	}
}

// SetDuration stretches client phases as it does rate phases.
func TestSetDurationScalesClientPhases(t *testing.T) {
	phases := "[{duration: 4s, clients: 3}, {duration: 6s, clients: {from: 3, to: 9}}]"
	s, err := Parse("closed.yaml", []byte(closed(t, phases)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetDuration(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	want := []target.ClientPhase{
		{Duration: 2 * time.Second, StartClients: 3, EndClients: 3},
		{Duration: 3 * time.Second, StartClients: 3, EndClients: 9},
	}
	if got := s.Classes[1].ClientPhases; !reflect.DeepEqual(got, want) {
		t.Errorf("client phases %+v, want %+v", got, want)
	}
}

func TestParseClientPhaseErrors(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		line, col int
		field     string
		msg       string
	}{
		{"rate in a client phase", closed(t, "[{duration: 2s, rate: 5}]"),
			18, 35, "classes[1].phases[0].rate", "sets clients, not a rate"},
		{"short ramp in a client phase", closed(t, "[{duration: 2s, from: 1, to: 5}]"),
			18, 35, "classes[1].phases[0].from", "sets clients, not a rate"},
		{"clients above the limit", closed(t, "[{duration: 2s, clients: {from: 1, to: 200000}}]"),
			18, 52, "classes[1].phases[0].clients.to", "between 0 and 100000 clients, got 200000"},
		{"fractional clients", closed(t, "[{duration: 2s, clients: 2.5}]"),
			18, 38, "classes[1].phases[0].clients", "want a whole number"},
		{"zero clients", closed(t, "[{duration: 2s, clients: 0}]"),
			18, 14, "classes[1].phases[0]", "write pause: true"},
		{"longer than the run", closed(t, "[{duration: 6s, clients: 1}, {duration: 5s, pause: true}]"),
			18, 13, "classes[1].phases", "phases last 11s in all, longer than the scenario's duration 10s"},
		{"clients and phases", strings.Replace(closed(t, "[{duration: 2s, clients: 3}]"),
			"executor: concurrency", "executor: concurrency\n    clients: 4", 1),
			19, 13, "classes[1].phases", "either clients or phases"},
		{"clients in a rate phase", edit(t, "rate: 7", "phases: [{duration: 2s, clients: 3}]"),
			17, 38, "classes[1].phases[0].clients", "only a phase of the concurrency executor"},
		{"no level", closed(t, "[{duration: 2s}]"),
			18, 14, "classes[1].phases[0].clients", "required: give clients, step, spike or pause"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantProblem(t, tt.src, tt.line, tt.col, tt.field, tt.msg) })
	}
}
