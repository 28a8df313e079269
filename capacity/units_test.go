package capacity

import "testing"

func TestReadUnits(t *testing.T) {
	for _, tc := range []struct {
		bytes int
		c     Consistency
		want  float64
	}{
		{0, Strong, 1}, // a missing item still costs a unit
		{0, Eventual, 0.5},
		{0, Transactional, 2},
		{1, Strong, 1},
		{4096, Strong, 1},
		{4097, Strong, 2},
		{4097, Eventual, 1},
		{4097, Transactional, 4},
		{10 * 1024, Strong, 3}, // AWS: a 10 KB item rounds to 12 KB
		{400 * 1024, Strong, 100},
		{400 * 1024, Eventual, 50},
	} {
		t.Run(tc.c.String(), func(t *testing.T) {
			if got := ReadUnits(tc.bytes, tc.c); got != tc.want {
				t.Errorf("ReadUnits(%d, %v) = %v, want %v", tc.bytes, tc.c, got, tc.want)
			}
		})
	}
}

func TestWriteUnits(t *testing.T) {
	for _, tc := range []struct {
		bytes         int
		want, wantTxn float64
	}{
		{0, 1, 2},
		{1, 1, 2},
		{1024, 1, 2},
		{1025, 2, 4},
		{3 * 1024, 3, 6}, // AWS: a 3 KB write is 3 WCU, 6 transactional
		{400 * 1024, 400, 800},
	} {
		if got := WriteUnits(tc.bytes); got != tc.want {
			t.Errorf("WriteUnits(%d) = %v, want %v", tc.bytes, got, tc.want)
		}
		if got := TransactionalWriteUnits(tc.bytes); got != tc.wantTxn {
			t.Errorf("TransactionalWriteUnits(%d) = %v, want %v", tc.bytes, got, tc.wantTxn)
		}
	}
}

func TestConsistencyString(t *testing.T) {
	for c, want := range map[Consistency]string{
		Eventual: "eventual", Strong: "strong", Transactional: "transactional", 7: "Consistency(7)",
	} {
		if got := c.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
}
