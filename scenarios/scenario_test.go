package scenarios

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/abusesim/abusesim/target"
)

func TestSetDuration(t *testing.T) {
	sec := time.Second
	tests := []struct {
		name string
		to   time.Duration
		want [][]target.Phase // per class
	}{
		{"shorter", 5 * sec, [][]target.Phase{
			{{Duration: 5 * sec, StartRPS: 10, EndRPS: 10}},
			{{Duration: 1 * sec, StartRPS: 1, EndRPS: 1}, {Duration: 1500 * time.Millisecond, StartRPS: 1, EndRPS: 9}},
		}},
		{"longer", 30 * sec, [][]target.Phase{
			{{Duration: 30 * sec, StartRPS: 10, EndRPS: 10}},
			{{Duration: 6 * sec, StartRPS: 1, EndRPS: 1}, {Duration: 9 * sec, StartRPS: 1, EndRPS: 9}},
		}},
		{"a third", 10 * sec / 3, [][]target.Phase{
			{{Duration: 10 * sec / 3, StartRPS: 10, EndRPS: 10}},
			{{Duration: 666666667, StartRPS: 1, EndRPS: 1}, {Duration: 1 * sec, StartRPS: 1, EndRPS: 9}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(base, "rate: 7",
				"phases: [{duration: 2s, rate: 1}, {duration: 3s, from: 1, to: 9}]", 1)
			s, err := Parse("d.yaml", []byte(src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}

			if err := s.SetDuration(tt.to); err != nil {
				t.Fatalf("SetDuration(%v): %v", tt.to, err)
			}
			if s.Duration != tt.to {
				t.Errorf("Duration: got %v, want %v", s.Duration, tt.to)
			}
			var got [][]target.Phase
			for _, c := range s.Classes {
				got = append(got, c.Rate.Phases)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("phases:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestSetDurationErrors(t *testing.T) {
	tests := []struct {
		name string
		to   time.Duration
		want string
	}{
		{"zero", 0, "must be more than 0"},
		{"too long", 25 * time.Hour, "at most 24h0m0s"},
		{"phase too short", 500 * time.Microsecond, "class a: phase 1 would last"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("d.yaml", []byte(strings.Replace(base, "duration: 10s", "duration: 20s", 1)))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			before := *s
			before.Classes = append([]Class(nil), s.Classes...)

			err = s.SetDuration(tt.to)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got error %v, want one containing %q", err, tt.want)
			}
			if !reflect.DeepEqual(*s, before) {
				t.Errorf("the scenario changed on error:\n got %+v\nwant %+v", *s, before)
			}
		})
	}
}

func TestSourceAddr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"127.0.0.3", "127.0.0.3"},
		{"", "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := (Class{Source: tt.in}).SourceAddr().String(); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}
