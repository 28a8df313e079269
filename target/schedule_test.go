package target

import (
	"math"
	"testing"
	"time"
)

func TestScheduleAt(t *testing.T) {
	tests := []struct {
		name   string
		phases []Phase
		n      int64
		want   time.Duration
	}{
		{"constant first", []Phase{{2 * time.Second, 10, 10}}, 0, 50 * time.Millisecond},
		{"constant last", []Phase{{2 * time.Second, 10, 10}}, 19, 1950 * time.Millisecond},
		// Integral of a ramp from 0 at slope 10/s² is 5t², reaching 0.5 at
		// t = sqrt(0.1) s.
		{"ramp from zero", []Phase{{10 * time.Second, 0, 100}}, 0, 316_227_766},
		// 100 requests in the first phase; the second phase starts at 2 s
		// and request 100 is its first, half an interval in.
		{"second phase", []Phase{{2 * time.Second, 50, 50}, {time.Second, 20, 20}},
			100, 2025 * time.Millisecond},
		// A silent phase is skipped: request 20 is the first of the third.
		{"after silence", []Phase{{2 * time.Second, 10, 10}, {time.Second, 0, 0}, {time.Second, 10, 10}},
			20, 3050 * time.Millisecond},
		// A day at 1000/s: the last start is exact to the nanosecond.
		{"no drift", []Phase{{24 * time.Hour, 1000, 1000}}, 86_399_999, 86_399_999_500_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := NewSchedule(tt.phases).At(tt.n)
			if !ok || got != tt.want {
				t.Errorf("At(%d) = %v, %v; want %v, true", tt.n, got, ok, tt.want)
			}
		})
	}
}

func TestScheduleCountMatchesIntegral(t *testing.T) {
	tests := []struct {
		name   string
		phases []Phase
		want   int64 // requests in the whole schedule
	}{
		{"constant", []Phase{{2 * time.Second, 100, 100}}, 200},
		{"ramp up", []Phase{{10 * time.Second, 0, 100}}, 500},
		{"ramp down", []Phase{{4 * time.Second, 50, 0}}, 100},
		{"multi-phase", []Phase{
			{2 * time.Second, 10, 10}, {time.Second, 0, 0}, {time.Second, 10, 30}, {500 * time.Millisecond, 40, 40},
		}, 60},
		{"fractional rate", []Phase{{3 * time.Second, 0.5, 0.5}}, 1}, // 1.5: the second start is at 3 s
		{"silent", []Phase{{time.Second, 0, 0}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSchedule(tt.phases)
			if got := s.Count(s.Duration()); got != tt.want {
				t.Errorf("Count(%v) = %d, want %d", s.Duration(), got, tt.want)
			}

			// Walk every start: monotonic, within the schedule, and at the
			// instant where the integral reaches n + 0.5.
			var prev time.Duration = -1
			var n int64
			for ; ; n++ {
				at, ok := s.At(n)
				if !ok {
					break
				}
				if at <= prev || at > s.Duration() {
					t.Fatalf("At(%d) = %v after At(%d) = %v, schedule length %v", n, at, n-1, prev, s.Duration())
				}
				if got := s.Integral(at); math.Abs(got-(float64(n)+0.5)) > 1e-6 {
					t.Fatalf("Integral(At(%d)) = %v, want %v", n, got, float64(n)+0.5)
				}
				prev = at
			}
			if n != tt.want {
				t.Errorf("At yields %d starts, want %d", n, tt.want)
			}

			// Count agrees with the starts at every 10 ms boundary.
			for T := time.Duration(0); T <= s.Duration(); T += 10 * time.Millisecond {
				var starts int64
				for starts = 0; ; starts++ {
					if at, ok := s.At(starts); !ok || at >= T {
						break
					}
				}
				if got := s.Count(T); got != starts {
					t.Fatalf("Count(%v) = %d, but %d starts are before it", T, got, starts)
				}
			}
		})
	}
}

func TestScheduleRate(t *testing.T) {
	s := NewSchedule([]Phase{{2 * time.Second, 10, 30}, {time.Second, 5, 5}})
	tests := []struct {
		at   time.Duration
		want float64
	}{
		{-time.Second, 0},
		{0, 10},
		{time.Second, 20},
		{2 * time.Second, 5},
		{3 * time.Second, 0},
	}
	for _, tt := range tests {
		t.Run(tt.at.String(), func(t *testing.T) {
			if got := s.Rate(tt.at); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("Rate(%v) = %v, want %v", tt.at, got, tt.want)
			}
		})
	}
	if got, want := s.Total(), 45.0; got != want {
		t.Errorf("Total() = %v, want %v", got, want)
	}
	if _, ok := s.At(-1); ok {
		t.Error("At(-1) reported a start")
	}
}
