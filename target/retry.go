package target

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// RetryMode is how a failed request is sent again.
type RetryMode int

// Retry modes.
const (
	RetryNone        RetryMode = iota // never
	RetryImmediate                    // at once
	RetryExponential                  // after BaseDelay, doubling each time up to MaxDelay
)

// Defaults for the zero values of [RetryPolicy] fields when Mode retries.
const (
	DefaultMaxAttempts    = 3
	DefaultRetryBaseDelay = 100 * time.Millisecond
	DefaultRetryMaxDelay  = 10 * time.Second
)

// DefaultRetryOn are the status codes retried when RetryPolicy.On is nil:
// rate limited and the server errors a client sees as passing.
var DefaultRetryOn = []int{429, 500, 502, 503, 504}

// RetryPolicy is how a class's clients retry, since client retries are how
// throttling turns into a storm. Transport errors (timeouts included) are
// always retried when Mode is not RetryNone; answers only when their status
// is in On. The latency of a retried request runs from its intended start
// to its last answer, and only the last answer is counted in Status; every
// further attempt is counted in ClassResult.Retries.
type RetryPolicy struct {
	Mode RetryMode

	// MaxAttempts bounds attempts, the first included; 0 means
	// DefaultMaxAttempts.
	MaxAttempts int

	// BaseDelay and MaxDelay shape exponential backoff: attempt k (from 1)
	// waits min(MaxDelay, BaseDelay·2^(k-1)); 0 means the defaults.
	BaseDelay, MaxDelay time.Duration

	// Jitter draws each backoff uniformly from [0, delay] ("full jitter").
	Jitter bool

	// HonourRetryAfter waits what an answer's Retry-After says (seconds or
	// an HTTP date), at most MaxDelay, instead of the computed delay.
	HonourRetryAfter bool

	// On lists the status codes that are retried; nil means DefaultRetryOn.
	On []int
}

func (p *RetryPolicy) validate() error {
	if p.MaxAttempts < 0 || p.BaseDelay < 0 || p.MaxDelay < 0 {
		return errors.New("attempts and delays must not be negative")
	}
	if p.Mode < RetryNone || p.Mode > RetryExponential {
		return errors.New("unknown retry mode")
	}
	return nil
}

func (p *RetryPolicy) attempts() int {
	switch {
	case p.Mode == RetryNone:
		return 1
	case p.MaxAttempts == 0:
		return DefaultMaxAttempts
	default:
		return p.MaxAttempts
	}
}

// retryable reports whether an attempt that ended with code (0 for a
// transport error) is tried again.
func (p *RetryPolicy) retryable(code int) bool {
	if code == 0 {
		return true
	}
	on := p.On
	if on == nil {
		on = DefaultRetryOn
	}
	return slices.Contains(on, code)
}

// delay is how long to wait before attempt k+1 after attempt k (from 1)
// failed; retryAfter is the failed answer's Retry-After header, if any.
func (p *RetryPolicy) delay(k int, r *rand.Rand, retryAfter string, now time.Time) time.Duration {
	maxDelay := p.MaxDelay
	if maxDelay == 0 {
		maxDelay = DefaultRetryMaxDelay
	}
	if p.HonourRetryAfter && retryAfter != "" {
		if d, ok := parseRetryAfter(retryAfter, now); ok {
			return min(d, maxDelay)
		}
	}
	if p.Mode != RetryExponential {
		return 0
	}

	d := p.BaseDelay
	if d == 0 {
		d = DefaultRetryBaseDelay
	}
	for i := 1; i < k && d < maxDelay; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	if p.Jitter && d > 0 {
		d = time.Duration(r.Int64N(int64(d) + 1))
	}
	return d
}

// parseRetryAfter reads Retry-After as delay seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}
