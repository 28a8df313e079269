package target

import (
	"context"
	"errors"
	"math"
	"sort"
	"time"
)

// ClientPhase is a stretch of a closed-model class during which the number
// of active clients moves linearly from StartClients to EndClients. The
// count at any instant is the line's value rounded to the nearest whole
// client (halves up), so a ramp from 1 to 50 over 49 s adds a client
// every second, the first half a second in.
type ClientPhase struct {
	Duration                 time.Duration
	StartClients, EndClients int
}

func (p ClientPhase) validate() error {
	if p.Duration <= 0 {
		return errors.New("duration must be positive")
	}
	if p.StartClients < 0 || p.EndClients < 0 {
		return errors.New("client counts must not be negative")
	}
	return nil
}

// clientSchedule says how many closed-model clients are active at each
// offset of a run: clients 0 .. active(t)-1 are, the others wait. So
// clients join lowest number first and leave highest first, and a client
// keeps its number, and with it its per-client identity, however often it
// pauses. Offsets outside the phases have no active client. A
// clientSchedule is immutable and safe for concurrent use.
type clientSchedule struct {
	phases []ClientPhase
	begin  []time.Duration // offset at which phase i begins; begin[len]: the end
}

// newClientSchedule returns the schedule of phases, which are assumed
// valid.
func newClientSchedule(phases []ClientPhase) *clientSchedule {
	s := &clientSchedule{phases: phases, begin: make([]time.Duration, len(phases)+1)}
	for i, p := range phases {
		s.begin[i+1] = s.begin[i] + p.Duration
	}
	return s
}

// peak returns the most clients any phase has active.
func (s *clientSchedule) peak() int {
	n := 0
	for _, p := range s.phases {
		n = max(n, p.StartClients, p.EndClients)
	}
	return n
}

// phase returns the index of the phase holding offset t, or -1 outside
// the schedule.
func (s *clientSchedule) phase(t time.Duration) int {
	if t < 0 || t >= s.begin[len(s.phases)] {
		return -1
	}
	return sort.Search(len(s.phases), func(i int) bool { return s.begin[i+1] > t })
}

// active returns how many clients are active at offset t.
func (s *clientSchedule) active(t time.Duration) int {
	i := s.phase(t)
	if i < 0 {
		return 0
	}
	p := s.phases[i]
	a, b := float64(p.StartClients), float64(p.EndClients)
	u := float64(t-s.begin[i]) / float64(p.Duration)
	return int(math.Floor(a + (b-a)*u + 0.5))
}

// next returns the first offset at or after t at which client c is
// active, and false when it never is again.
func (s *clientSchedule) next(c int, t time.Duration) (time.Duration, bool) {
	for i := max(s.phase(t), 0); i < len(s.phases); i++ {
		from := max(t, s.begin[i])
		if from >= s.begin[i+1] {
			continue
		}
		if c < s.active(from) {
			return from, true
		}

		// Within a phase the count is monotonic: only a rising ramp can
		// reach c later. It does where the line crosses c + 0.5; rounding
		// may put that a nanosecond or two off, which the loop absorbs.
		p := s.phases[i]
		if p.EndClients <= p.StartClients {
			continue
		}
		x := (float64(c) + 0.5 - float64(p.StartClients)) / float64(p.EndClients-p.StartClients)
		if x >= 1 {
			continue // not before the phase ends
		}
		at := max(s.begin[i]+time.Duration(math.Ceil(x*float64(p.Duration))), from)
		for k := 0; k < 16 && at > from && c < s.active(at-1); k++ {
			at--
		}
		for k := 0; k < 16 && at < s.begin[i+1]; k++ {
			if c < s.active(at) {
				return at, true
			}
			at++
		}
	}
	return 0, false
}

// closedClock is the time a closed-model client loop sees: the offset
// from the start of the run, and a sleep until an offset that reports
// false when ctx ended first.
type closedClock interface {
	now() time.Duration
	sleepUntil(ctx context.Context, t time.Duration) bool
}

// playClient runs closed-model client c until runFor or until ctx is
// done: while the schedule has it active, it calls send (which returns
// once the answer is in) and then thinks for think; when it finds itself
// inactive it waits for its next turn. A client that becomes inactive
// mid-request finishes that request first, since the count is only
// checked between requests, and one that comes back sends at once,
// without thinking first.
func (s *clientSchedule) playClient(
	ctx context.Context, c int, runFor, think time.Duration, clk closedClock,
	send func(at time.Duration),
) {
	for ctx.Err() == nil {
		at := clk.now()
		if at >= runFor {
			return
		}
		if c >= s.active(at) {
			next, ok := s.next(c, at)
			if !ok || next >= runFor || !clk.sleepUntil(ctx, next) {
				return
			}
			continue
		}

		send(at)
		if think > 0 && !clk.sleepUntil(ctx, clk.now()+think) {
			return
		}
	}
}
