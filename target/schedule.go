package target

import (
	"math"
	"sort"
	"time"
)

// A Schedule is the arrival plan of one traffic class: phases back to back,
// the rate moving linearly from StartRPS to EndRPS within each.
//
// Request n (counting from 0) is intended to start at the instant t where
// the integral of the rate from 0 to t reaches n + 0.5. Placing requests at
// half-integers of the integral means:
//   - the number of starts in [0, T) is ceil(I - 0.5) for I the integral
//     over [0, T): exactly I when I is whole, I rounded half down otherwise;
//   - a phase at rate 0 gets no requests, and a ramp from 0 does not fire
//     at time 0;
//   - at a constant rate r, request n starts at (n + 0.5) / r.
//
// Each start is computed from n alone, never by adding intervals, so a long
// run does not drift. A Schedule is immutable and safe for concurrent use.
type Schedule struct {
	phases []Phase
	begin  []time.Duration // offset at which phase i begins
	cum    []float64       // cum[i]: integral over phases before i; cum[len]: total
}

// NewSchedule returns the schedule of phases. Phases are assumed valid
// (positive durations, finite rates >= 0), as [Run] checks.
func NewSchedule(phases []Phase) *Schedule {
	s := &Schedule{
		phases: append([]Phase(nil), phases...),
		begin:  make([]time.Duration, len(phases)+1),
		cum:    make([]float64, len(phases)+1),
	}
	for i, p := range phases {
		s.begin[i+1] = s.begin[i] + p.Duration
		s.cum[i+1] = s.cum[i] + p.Duration.Seconds()*(p.StartRPS+p.EndRPS)/2
	}
	return s
}

// Duration returns the total length of the phases.
func (s *Schedule) Duration() time.Duration { return s.begin[len(s.phases)] }

// Total returns the integral of the rate over the whole schedule: the
// number of requests it holds, up to rounding.
func (s *Schedule) Total() float64 { return s.cum[len(s.phases)] }

// Rate returns the intended rate at offset t, in requests per second; 0
// outside the schedule.
func (s *Schedule) Rate(t time.Duration) float64 {
	i, u := s.locate(t)
	if i < 0 {
		return 0
	}
	p := s.phases[i]
	return p.StartRPS + (p.EndRPS-p.StartRPS)*u/p.Duration.Seconds()
}

// Integral returns the integral of the rate over [0, t): how many requests
// are due by t, before rounding.
func (s *Schedule) Integral(t time.Duration) float64 {
	if t <= 0 {
		return 0
	}
	if t >= s.Duration() {
		return s.Total()
	}
	i, u := s.locate(t)
	p := s.phases[i]
	k := (p.EndRPS - p.StartRPS) / (2 * p.Duration.Seconds())
	return s.cum[i] + p.StartRPS*u + k*u*u
}

// Count returns how many requests start in [0, t).
func (s *Schedule) Count(t time.Duration) int64 {
	return int64(math.Max(0, math.Ceil(s.Integral(t)-0.5)))
}

// locate returns the phase holding offset t and the seconds into it, or -1
// when t is outside the schedule.
func (s *Schedule) locate(t time.Duration) (int, float64) {
	if t < 0 || t >= s.Duration() {
		return -1, 0
	}
	i := sort.Search(len(s.phases), func(i int) bool { return s.begin[i+1] > t })
	return i, (t - s.begin[i]).Seconds()
}

// At returns the intended start of request n as an offset from the start of
// the schedule, and false when the schedule holds fewer than n+1 requests.
// Starts lie in [0, Duration): one due exactly at the end is not held.
func (s *Schedule) At(n int64) (time.Duration, bool) {
	if n < 0 {
		return 0, false
	}
	return s.AtIntegral(float64(n) + 0.5)
}

// AtIntegral returns the offset at which the integral of the rate reaches
// x, and false when x is past the schedule's total. [At] places request n
// at x = n + 0.5; a Poisson process places arrivals at running sums of
// exponential variates with mean 1 (time rescaling), so its gaps follow the
// rate as it changes.
func (s *Schedule) AtIntegral(x float64) (time.Duration, bool) {
	if !(x >= 0) || x >= s.Total() {
		return 0, false
	}

	// The phase whose integral range (cum[i], cum[i+1]] holds x; phases at
	// rate 0 have an empty range and are never chosen.
	i := sort.SearchFloat64s(s.cum[1:], x)
	p := s.phases[i]
	x -= s.cum[i]

	// Solve a*u + k*u² = x for u in [0, D], with a the rate at the phase's
	// start and k = (b-a)/2D. The form 2x / (a + sqrt(a² + 4kx)) avoids the
	// cancellation of the textbook formula and holds for k of either sign
	// and for k = 0.
	a := p.StartRPS
	k := (p.EndRPS - a) / (2 * p.Duration.Seconds())
	u := 2 * x / (a + math.Sqrt(math.Max(0, a*a+4*k*x)))

	off := s.begin[i] + time.Duration(math.Round(u*float64(time.Second)))
	return min(off, s.begin[i+1]), true
}

// Phase returns the index of the phase holding offset t, or -1 outside the
// schedule.
func (s *Schedule) Phase(t time.Duration) int {
	i, _ := s.locate(t)
	return i
}
