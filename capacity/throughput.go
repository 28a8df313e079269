package capacity

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"math"
	"sync"
	"time"
)

// Throughput limits DynamoDB applies whatever a table's capacity. Sources:
// "Service, account, and table quotas in Amazon DynamoDB" (partition and
// table quotas), "DynamoDB on-demand capacity mode" (initial throughput and
// previous peak), DynamoDB Developer Guide.
const (
	// PartitionReadUnits is the most read units one partition serves per second.
	PartitionReadUnits = 3000
	// PartitionWriteUnits is the most write units one partition serves per second.
	PartitionWriteUnits = 1000
	// TableQuotaUnits is the default per-table quota of read (and of write)
	// units per second, for on-demand tables and for provisioning.
	TableQuotaUnits = 40000
	// OnDemandInitialReadUnits is what a new on-demand table serves per second at once.
	OnDemandInitialReadUnits = 12000
	// OnDemandInitialWriteUnits is what a new on-demand table serves per second at once.
	OnDemandInitialWriteUnits = 4000
	// OnDemandPeakWindow is how long a new on-demand peak takes before
	// twice it is served at once.
	OnDemandPeakWindow = 30 * time.Minute
)

// Limit types, the last word of a throttling reason.
const (
	limitProvisioned = "ProvisionedThroughputExceeded"
	limitKeyRange    = "KeyRangeThroughputExceeded"
	limitAccount     = "AccountLimitExceeded"
	limitMaxOnDemand = "MaxOnDemandThroughputExceeded"
)

// throttle says why a request was refused: the reason DynamoDB would name
// and whether it comes as ThrottlingException (on-demand limits) rather than
// ProvisionedThroughputExceededException.
type throttle struct {
	reason     string // e.g. TableReadKeyRangeThroughputExceeded
	resource   string // the ARN of the table or index refused
	table      string // the table refused (the index's table for an index)
	onDemandEx bool
}

// partitionCount is the number of partitions DynamoDB would start a table
// with for its throughput: enough that no partition needs more than its
// share, ceil(RCU/3000 + WCU/1000), at least 1. On-demand tables start with
// the partitions their initial throughput needs.
func partitionCount(onDemand bool, rcu, wcu int64) int {
	if onDemand {
		rcu, wcu = OnDemandInitialReadUnits, OnDemandInitialWriteUnits
		return max(int(math.Ceil(float64(rcu)/PartitionReadUnits)), int(math.Ceil(float64(wcu)/PartitionWriteUnits)))
	}
	n := math.Ceil(float64(rcu)/PartitionReadUnits + float64(wcu)/PartitionWriteUnits)
	return max(int(n), 1)
}

// secondUse counts the units used in the current second against a fixed cap.
type secondUse struct {
	second int64
	used   float64
}

func (w *secondUse) at(now time.Time) *secondUse {
	if s := now.Unix(); s != w.second {
		w.second, w.used = s, 0
	}
	return w
}

// peak tracks an on-demand table's previous peak in one direction: the
// table serves twice the highest per-second consumption that is at least
// OnDemandPeakWindow old (and at least its initial throughput).
type peak struct {
	matured float64     // previous peak that has aged past the secondUse
	recent  []secondUse // per-second consumption still inside the secondUse, in order
	current secondUse   // the second being counted
}

func newPeak(initialUnits float64) *peak {
	return &peak{matured: initialUnits / 2}
}

// limit returns the units per second served at now.
func (p *peak) limit(now time.Time) float64 {
	p.roll(now)
	return 2 * p.matured
}

func (p *peak) roll(now time.Time) {
	sec := now.Unix()
	if sec != p.current.second {
		if p.current.used > 0 {
			p.recent = append(p.recent, p.current)
		}
		p.current = secondUse{second: sec}
	}
	cutoff := sec - int64(OnDemandPeakWindow/time.Second)
	n := 0
	for n < len(p.recent) && p.recent[n].second <= cutoff {
		p.matured = max(p.matured, p.recent[n].used)
		n++
	}
	p.recent = p.recent[n:]
}

// direction holds one table's limits for reads or for writes.
type direction struct {
	provisioned *Bucket   // nil on demand
	onDemand    *peak     // nil when provisioned
	maxOnDemand float64   // OnDemandThroughput maximum; 0 means none
	table       secondUse // the table's use of the current second (on demand)
	// weight is what one unit of this direction takes of a partition's
	// second, in partition units (see limits).
	weight float64
}

// partitionBudget is what one partition serves per second, in partition
// units: PartitionReadUnits read units, or PartitionWriteUnits write units,
// or a linear combination of the two. A read unit is one partition unit
// and a write unit PartitionReadUnits/PartitionWriteUnits (3) of them, so
// the sums stay exact.
const partitionBudget = PartitionReadUnits

// limits is one table's (or global index's) mutable throughput state. Reads
// and writes have their own provisioned buckets, maxima and quotas, but
// share two budgets, as DynamoDB's pages describe them: each partition's
// second (reads/3,000 + writes/1,000 ≤ 1) and, on demand, the second a
// table's previous peaks allow (reads/twice the read peak + writes/twice
// the write peak ≤ 1, which for a new table is reads/12,000 +
// writes/4,000 ≤ 1). It is safe for concurrent use.
type limits struct {
	mu          sync.Mutex
	read, write direction
	partitions  []secondUse // per partition, the partition units used this second
}

// newLimits builds the limits of a table with the given mode and
// throughput, split over n partitions.
func newLimits(onDemand bool, rcu, wcu int64, maxRead, maxWrite int64, n int, burstStart float64,
	now time.Time) *limits {
	l := &limits{
		read:       direction{weight: 1},
		write:      direction{weight: PartitionReadUnits / PartitionWriteUnits},
		partitions: make([]secondUse, n),
	}
	l.setMode(onDemand, rcu, wcu, maxRead, maxWrite, burstStart, now)
	return l
}

// setMode applies a billing mode and throughput, as CreateTable and
// UpdateTable do. Buckets carry over when the table stays provisioned.
func (l *limits) setMode(onDemand bool, rcu, wcu, maxRead, maxWrite int64, burstStart float64, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	set := func(d *direction, units int64, maxUnits int64, initial float64) {
		d.maxOnDemand = float64(max(maxUnits, 0))
		if onDemand {
			if d.onDemand == nil {
				// A table switched to on demand takes half its provisioned
				// rate as its previous peak when that is higher than a new
				// table's, so it serves that rate at once.
				was := 0.0
				if d.provisioned != nil {
					was = d.provisioned.UnitsPerSecond()
				}
				d.onDemand = newPeak(max(initial, was))
			}
			d.provisioned = nil
			return
		}
		d.onDemand = nil
		if d.provisioned == nil {
			d.provisioned = NewBucket(float64(units), burstStart, now)
		} else {
			d.provisioned.SetRateAt(now, float64(units))
		}
	}
	set(&l.read, rcu, maxRead, OnDemandInitialReadUnits)
	set(&l.write, wcu, maxWrite, OnDemandInitialWriteUnits)
}

// grow raises the partition count to n; partitions never merge.
func (l *limits) grow(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(l.partitions) < n {
		l.partitions = append(l.partitions, secondUse{})
	}
}

func (l *limits) dir(write bool) *direction {
	if write {
		return &l.write
	}
	return &l.read
}

// pending is what the entries of a batch admitted so far are expected to
// take of one limits before any of them is debited: units in the batch's
// direction, and partition units per partition. The zero value is nothing.
type pending struct {
	units float64
	parts map[int]float64
}

// add counts an admitted entry expected to take units, on partition part
// (-1 for none), in a direction of the given partition weight.
func (p *pending) add(units float64, part int, weight float64) {
	p.units += units
	if part < 0 {
		return
	}
	if p.parts == nil {
		p.parts = map[int]float64{}
	}
	p.parts[part] += units * weight
}

// admit reports whether a request on the given partitions may start at
// now, and if not, why. A limit admits while at least one unit is left.
func (l *limits) admit(now time.Time, write bool, parts []int) *throttle {
	return l.admitOn(now, write, parts, nil)
}

// admitOn is admit on top of what p holds, the entries of a batch admitted
// before (nil for none). It counts nothing in p: see reserve.
func (l *limits) admitOn(now time.Time, write bool, parts []int, p *pending) *throttle {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p == nil {
		p = &pending{}
	}
	return l.refusal(now, write, parts, *p)
}

// reserve counts in p an admitted batch entry expected to take units on
// partition part (-1 for none).
func (l *limits) reserve(p *pending, write bool, units float64, part int) {
	p.add(units, part, l.dir(write).weight)
}

// refusal is admit on top of p; l.mu must be held.
func (l *limits) refusal(now time.Time, write bool, parts []int, p pending) *throttle {
	d := l.dir(write)
	op := "Read"
	if write {
		op = "Write"
	}
	refuse := func(limit string, onDemand bool) *throttle {
		return &throttle{reason: "Table" + op + limit, onDemandEx: onDemand}
	}

	if d.onDemand != nil {
		used := d.table.at(now).used + p.units
		switch {
		case d.maxOnDemand > 0 && used+1 > d.maxOnDemand:
			return refuse(limitMaxOnDemand, true)
		case used+1 > TableQuotaUnits:
			return refuse(limitAccount, true)
		case !l.withinPeaks(now, write, p.units+1):
			return refuse(limitKeyRange, true)
		}
	} else if d.provisioned != nil && d.provisioned.AvailableAt(now)-p.units < 1 {
		return refuse(limitProvisioned, false)
	}
	for _, part := range parts {
		if l.partitions[part].at(now).used+p.parts[part]+d.weight > partitionBudget {
			return refuse(limitKeyRange, d.onDemand != nil)
		}
	}
	return nil
}

// withinPeaks reports whether an on-demand table may take extra more units
// in the write (or read) direction this second: reads/readLimit +
// writes/writeLimit ≤ 1, the limits being twice each direction's previous
// peak. It is compared multiplied out, so whole and half units stay exact.
func (l *limits) withinPeaks(now time.Time, write bool, extra float64) bool {
	if l.read.onDemand == nil || l.write.onDemand == nil {
		d := l.dir(write)
		return d.table.at(now).used+extra <= d.onDemand.limit(now)
	}
	reads, writes := l.read.table.at(now).used, l.write.table.at(now).used
	if write {
		writes += extra
	} else {
		reads += extra
	}
	readLimit, writeLimit := l.read.onDemand.limit(now), l.write.onDemand.limit(now)
	return reads*writeLimit+writes*readLimit <= readLimit*writeLimit
}

// debit takes units consumed at now, spread evenly over parts.
func (l *limits) debit(now time.Time, write bool, units float64, parts []int) {
	if units <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	d := l.dir(write)
	if d.provisioned != nil {
		d.provisioned.DebitAt(now, units)
	}
	if d.onDemand != nil {
		d.onDemand.roll(now)
		d.onDemand.current.used += units
		d.table.at(now).used += units
	}
	for _, p := range parts {
		l.partitions[p].at(now).used += units * d.weight / float64(len(parts))
	}
}

// partitionsOf returns the partitions of the index the items' values of the
// index's partition key hash to, one entry per item that has it. A global
// index has partitions of its own, with the same limits as a table's.
func (ix *indexState) partitionsOf(items []item) []int {
	if len(ix.keys) == 0 || ix.lim == nil {
		return nil
	}
	ix.lim.mu.Lock()
	n := len(ix.lim.partitions)
	ix.lim.mu.Unlock()
	return partitionsOf(items, ix.keys[0], n)
}

// partitionsOf returns the partitions the items' partition key values hash
// to, one entry per item that has the attribute.
//
// BUG: a value is hashed in its compact JSON form, so white space does not
// move it, but the same string written with different escapes ("\u0061"
// for "a") lands on a different partition; the SDKs always write it the
// same way.
func partitionsOf(items []item, partitionKey string, n int) []int {
	if n <= 0 || partitionKey == "" {
		return nil
	}
	out := make([]int, 0, len(items))
	for _, it := range items {
		v, ok := it[partitionKey]
		if !ok {
			continue
		}
		out = append(out, partitionOf(v, n))
	}
	return out
}

func partitionOf(v json.RawMessage, n int) int {
	if bytes.ContainsAny(v, " \t\r\n") {
		var compact bytes.Buffer
		if json.Compact(&compact, v) == nil {
			v = compact.Bytes()
		}
	}
	h := fnv.New32a()
	h.Write(v)
	return int(h.Sum32() % uint32(n))
}
