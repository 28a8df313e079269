package refserver

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"
)

// errShedding is returned by ddbCall while the server sheds load.
var errShedding = errors.New("shedding load: dynamodb keeps throttling")

// throttleCodes are the DynamoDB error codes that mean "slow down".
var throttleCodes = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"ThrottlingException":                    true,
	"RequestLimitExceeded":                   true,
}

func isThrottle(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && throttleCodes[apiErr.ErrorCode()]
}

// retryOption returns the per-call option that installs the profile's SDK
// retryer; nil keeps the client's. The retryer is built once, so adaptive
// mode's client-side rate keeps its state across calls.
func retryOption(r *Retry) func(*dynamodb.Options) {
	if r == nil {
		return nil
	}
	standard := func(o *retry.StandardOptions) {
		if r.MaxBackoff > 0 {
			o.MaxBackoff = r.MaxBackoff
			o.Backoff = retry.NewExponentialJitterBackoff(r.MaxBackoff)
		}
	}
	var rt aws.Retryer
	switch r.Mode {
	case RetryNone:
		rt = aws.NopRetryer{}
	case RetryAdaptive:
		rt = retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
			o.StandardOptions = append(o.StandardOptions, standard)
		})
	default:
		rt = retry.NewStandard(standard)
	}
	if r.MaxAttempts > 0 && r.Mode != RetryNone {
		rt = retry.AddWithMaxAttempts(rt, r.MaxAttempts)
	}
	return func(o *dynamodb.Options) {
		o.Retryer = rt
		o.RetryMaxAttempts = 0 // keep rt's own maximum
	}
}

// countingRetryer counts the retries a retryer grants.
type countingRetryer struct {
	aws.RetryerV2
	count func()
}

func (c countingRetryer) GetRetryToken(ctx context.Context, opErr error) (func(error) error, error) {
	release, err := c.RetryerV2.GetRetryToken(ctx, opErr)
	if err == nil {
		c.count()
	}
	return release, err
}

// options are the per-call options of every DynamoDB call: the profile's
// retryer, wrapped to count retries in the metrics.
func (s *Server) options(op string) []func(*dynamodb.Options) {
	count := func(o *dynamodb.Options) {
		var v2 aws.RetryerV2
		switch r := o.Retryer.(type) {
		case aws.RetryerV2:
			v2 = r
		case nil:
			return
		default:
			return // an old-style retryer: its retries go uncounted
		}
		o.Retryer = countingRetryer{RetryerV2: v2, count: func() {
			s.metrics.add(1, "abusesim_dynamodb_retries_total", "op", op)
		}}
	}
	if s.retry == nil {
		return []func(*dynamodb.Options){count}
	}
	return []func(*dynamodb.Options){s.retry, count}
}

// ddbCall runs one DynamoDB operation through the shedder and the metrics.
func ddbCall[Out any](ctx context.Context, s *Server, op string,
	fn func(context.Context, ...func(*dynamodb.Options)) (Out, error)) (Out, error) {
	var zero Out
	if s.shed != nil && s.shed.shedding(s.now()) {
		s.metrics.add(1, "abusesim_shed_requests_total")
		return zero, errShedding
	}

	s.metrics.add(1, "abusesim_dynamodb_calls_total", "op", op)
	out, err := fn(ctx, s.options(op)...)
	throttled := isThrottle(err)
	if throttled {
		s.metrics.add(1, "abusesim_dynamodb_throttles_total", "op", op)
	}
	if s.shed != nil {
		s.shed.observe(throttled, err == nil, s.now())
	}
	return out, err
}

// shedder counts consecutive throttled calls and, past the threshold,
// refuses calls for a while. Safe for concurrent use.
type shedder struct {
	cfg Shed

	mu     sync.Mutex
	streak int
	until  time.Time
}

func (sh *shedder) shedding(now time.Time) bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return now.Before(sh.until)
}

// observe records one call's outcome: a throttle lengthens the streak, a
// success ends it, other errors leave it.
func (sh *shedder) observe(throttled, ok bool, now time.Time) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	switch {
	case throttled:
		sh.streak++
		if sh.streak >= sh.cfg.Throttles {
			sh.until = now.Add(sh.cfg.For)
			sh.streak = 0
		}
	case ok:
		sh.streak = 0
	}
}
