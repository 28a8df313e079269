package capacity

import (
	"testing"
	"time"
)

// sec returns the instant n seconds after t0.
func sec(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

// spend debits one unit at a time while the bucket admits, up to limit
// units, and returns how many it admitted.
func spend(b *Bucket, now time.Time, limit int) int {
	n := 0
	for n < limit && b.AllowAt(now) {
		b.DebitAt(now, 1)
		n++
	}
	return n
}

// TestBucketAWSBurstExample reproduces AWS's burst example: a table with 150
// RCU unused for five minutes holds 150 × 300 = 45,000 units of burst, which
// carries a 200 RCU load for 45,000 / (200 − 150) = 900 seconds.
func TestBucketAWSBurstExample(t *testing.T) {
	b := NewBucket(150, 0, sec(0))

	if got, want := b.AvailableAt(sec(301)), 150.0+45000; got != want {
		t.Fatalf("available after 5 idle minutes = %v, want %v", got, want)
	}

	start := 301
	for i := range 900 {
		if got := spend(b, sec(start+i), 200); got != 200 {
			t.Fatalf("second %d of the burst admitted %d units, want 200", i, got)
		}
	}
	if got := spend(b, sec(start+900), 200); got != 150 {
		t.Errorf("second 900 admitted %d units, want the provisioned 150", got)
	}
}

func TestBucket(t *testing.T) {
	t.Run("empty pool: one second's allowance", func(t *testing.T) {
		b := NewBucket(100, 0, sec(0))
		if got := spend(b, sec(0), 1000); got != 100 {
			t.Errorf("admitted %d, want 100", got)
		}
		if got := spend(b, sec(1), 1000); got != 100 {
			t.Errorf("next second admitted %d, want 100", got)
		}
	})
	t.Run("burst start fills the pool", func(t *testing.T) {
		b := NewBucket(10, 30, sec(0))
		if got := b.AvailableAt(sec(0)); got != 10+300 {
			t.Errorf("available = %v, want 310", got)
		}
		if got := NewBucket(10, 9999, sec(0)).AvailableAt(sec(0)); got != 10+3000 {
			t.Errorf("available with an oversized start = %v, want 3010 (clamped to 300 s)", got)
		}
		if got := NewBucket(10, -5, sec(0)).AvailableAt(sec(0)); got != 10 {
			t.Errorf("available with a negative start = %v, want 10", got)
		}
	})
	t.Run("unused capacity accrues up to 300 seconds", func(t *testing.T) {
		b := NewBucket(10, 0, sec(0))
		b.DebitAt(sec(0), 4)
		if got := b.AvailableAt(sec(1)); got != 10+6 {
			t.Errorf("available = %v, want 16 (6 left over)", got)
		}
		if got := b.AvailableAt(sec(11)); got != 10+6+100 {
			t.Errorf("available = %v, want 116", got)
		}
		if got := b.AvailableAt(sec(10_000)); got != 10+3000 {
			t.Errorf("available = %v, want 3010", got)
		}
	})
	t.Run("admission needs one whole unit", func(t *testing.T) {
		b := NewBucket(1, 0, sec(0))
		b.DebitAt(sec(0), 0.5)
		if b.AllowAt(sec(0)) {
			t.Error("admitted with 0.5 units left")
		}
	})
	t.Run("debt is repaid by later seconds", func(t *testing.T) {
		b := NewBucket(100, 0, sec(0))
		if !b.AllowAt(sec(0)) {
			t.Fatal("first request refused")
		}
		b.DebitAt(sec(0), 500) // a big Query admitted with 100 available
		for _, step := range []struct {
			at        int
			available float64
			allowed   bool
		}{{0, -400, false}, {1, -300, false}, {3, -100, false}, {4, 0, false}, {5, 100, true}} {
			if got := b.AvailableAt(sec(step.at)); got != step.available {
				t.Errorf("available at %d s = %v, want %v", step.at, got, step.available)
			}
			if got := b.AllowAt(sec(step.at)); got != step.allowed {
				t.Errorf("allowed at %d s = %v, want %v", step.at, got, step.allowed)
			}
		}
	})
	t.Run("debit draws the pool after the allowance", func(t *testing.T) {
		b := NewBucket(10, 2, sec(0)) // pool 20
		b.DebitAt(sec(0), 25)
		if got := b.AvailableAt(sec(0)); got != 5 {
			t.Errorf("available = %v, want 5", got)
		}
		b.DebitAt(sec(0), 15)
		if got := b.AvailableAt(sec(0)); got != -10 {
			t.Errorf("available = %v, want -10", got)
		}
		if got := b.AvailableAt(sec(1)); got != 0 {
			t.Errorf("available next second = %v, want 0", got)
		}
	})
	t.Run("earlier instants count as the latest", func(t *testing.T) {
		b := NewBucket(10, 0, sec(5))
		b.DebitAt(sec(5), 10)
		if b.AllowAt(sec(3)) {
			t.Error("an earlier instant refilled the bucket")
		}
	})
	t.Run("SetRateAt", func(t *testing.T) {
		b := NewBucket(10, 300, sec(0)) // pool 3000
		b.DebitAt(sec(0), 4)
		b.SetRateAt(sec(0), 5)
		if got := b.UnitsPerSecond(); got != 5 {
			t.Errorf("rate = %v, want 5", got)
		}
		// This second: 6 left minus the 5 lost; pool clamped to 1500.
		if got := b.AvailableAt(sec(0)); got != 1+1500 {
			t.Errorf("available = %v, want 1501", got)
		}
		b.SetRateAt(sec(1), 50)
		if got := b.AvailableAt(sec(1)); got != 50+1500 {
			t.Errorf("available after raising = %v, want 1550", got)
		}
	})
}
