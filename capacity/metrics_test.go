package capacity

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestRecorderSamples(t *testing.T) {
	r := newRecorder()
	r.consumed("T", "", sec(0).Add(100*time.Millisecond), 1, 0)
	r.consumed("T", "", sec(0).Add(900*time.Millisecond), 0.5, 2)
	r.throttled("T", "", "PutItem", sec(0).Add(999*time.Millisecond), true, 1, reasonWriteExceeded)
	r.throttled("T", "", "GetItem", sec(3), false, 1, reasonReadExceeded)
	r.throttled("T", "", "GetItem", sec(3), false, 1, reasonReadExceeded)
	r.consumed("U", "", sec(1), 7, 7)

	for _, tc := range []struct {
		name       string
		start, end time.Time
		want       []Sample
	}{
		{"all", sec(0), sec(10), []Sample{
			{Start: sec(0), ConsumedRCU: 1.5, ConsumedWCU: 2, WriteThrottleEvents: 1},
			{Start: sec(3), ReadThrottleEvents: 2},
		}},
		{"end is exclusive", sec(0), sec(3), []Sample{
			{Start: sec(0), ConsumedRCU: 1.5, ConsumedWCU: 2, WriteThrottleEvents: 1},
		}},
		{"start is inclusive", sec(3), sec(4), []Sample{{Start: sec(3), ReadThrottleEvents: 2}}},
		{"empty range", sec(1), sec(3), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := r.samples("T", tc.start, tc.end)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("samples = %v, want %v", got, tc.want)
			}
		})
	}

	if got := r.samples("nope", sec(0), sec(10)); got != nil {
		t.Errorf("unknown table samples = %v, want none", got)
	}
}

func TestEndpointSamplesHonoursContext(t *testing.T) {
	e := NewEndpoint(EndpointConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Samples(ctx, "T", sec(0), sec(1)); err == nil {
		t.Error("Samples with a cancelled context succeeded")
	}
}
