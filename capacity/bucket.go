package capacity

import (
	"sync"
	"time"
)

// BurstSeconds is how many seconds of unused provisioned capacity a table
// keeps for bursts: "DynamoDB currently retains up to 5 minutes (300 seconds)
// of unused read and write capacity" (DynamoDB Developer Guide, "Burst
// capacity"; AWS re:Post "How does DynamoDB handle spiky workloads").
const BurstSeconds = 300

// Bucket limits one table's provisioned throughput in one direction (reads
// or writes). The model:
//
//   - time is cut into whole wall-clock seconds (Unix seconds);
//   - each second brings an allowance of UnitsPerSecond units;
//   - the part of a second's allowance left unused when the second ends goes
//     to a burst pool holding at most BurstSeconds × UnitsPerSecond units;
//   - a request is admitted when at least one whole unit is available
//     (allowance left plus pool); its real cost is debited afterwards, first
//     from the allowance, then from the pool, and past both into debt, which
//     later seconds' allowances repay before anything else.
//
// Every method takes the instant explicitly, so tests drive a Bucket with
// fixed times. Instants earlier than the latest one seen count as that one.
// A Bucket is safe for concurrent use. Create one with NewBucket.
type Bucket struct {
	mu        sync.Mutex
	perSecond float64
	second    int64   // the Unix second the allowance belongs to
	allowance float64 // left in that second; negative while in debt
	pool      float64 // burst pool; zero while in debt
}

// NewBucket returns a bucket allowing unitsPerSecond units per second whose
// burst pool starts with burstStartSeconds seconds of capacity (clamped to
// 0..BurstSeconds). The second holding now starts with its full allowance.
func NewBucket(unitsPerSecond, burstStartSeconds float64, now time.Time) *Bucket {
	rate := max(unitsPerSecond, 0)
	start := min(max(burstStartSeconds, 0), BurstSeconds)
	return &Bucket{
		perSecond: rate,
		second:    now.Unix(),
		allowance: rate,
		pool:      start * rate,
	}
}

// UnitsPerSecond returns the provisioned rate.
func (b *Bucket) UnitsPerSecond() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.perSecond
}

// AllowAt reports whether a request may start at now: at least one whole unit
// is available. It reserves nothing; call DebitAt once the cost is known.
func (b *Bucket) AllowAt(now time.Time) bool {
	return b.AvailableAt(now) >= 1
}

// AvailableAt returns the units available at now: what is left of the
// current second's allowance plus the burst pool, negative while in debt.
func (b *Bucket) AvailableAt(now time.Time) float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advance(now)
	return b.allowance + b.pool
}

// DebitAt takes units consumed at now, going into debt if they exceed what
// is available.
func (b *Bucket) DebitAt(now time.Time, units float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advance(now)

	if b.allowance >= units {
		b.allowance -= units
		return
	}
	units -= max(b.allowance, 0)
	b.allowance = min(b.allowance, 0)

	fromPool := min(b.pool, units)
	b.pool -= fromPool
	b.allowance -= units - fromPool
}

// SetRateAt changes the provisioned rate from now on, as UpdateTable does.
// The current second keeps what it has used; the pool is clamped to the new
// maximum.
func (b *Bucket) SetRateAt(now time.Time, unitsPerSecond float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advance(now)

	rate := max(unitsPerSecond, 0)
	b.allowance += rate - b.perSecond
	b.perSecond = rate
	b.pool = min(b.pool, BurstSeconds*rate)
	if b.allowance < 0 && b.pool > 0 {
		repaid := min(b.pool, -b.allowance)
		b.pool -= repaid
		b.allowance += repaid
	}
}

// advance rolls the bucket forward to the second holding now.
func (b *Bucket) advance(now time.Time) {
	second := now.Unix()
	if second <= b.second {
		return
	}

	// What the ended second left (or owes), plus the full allowances of the
	// seconds that passed without any call.
	idle := second - b.second - 1
	carry := b.allowance + float64(idle)*b.perSecond
	b.second = second

	if carry >= 0 {
		b.pool = min(b.pool+carry, BurstSeconds*b.perSecond)
		b.allowance = b.perSecond
		return
	}
	b.allowance = b.perSecond + carry
}
