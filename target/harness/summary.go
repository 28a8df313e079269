package harness

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/abusesim/abusesim/capacity"
	"github.com/abusesim/abusesim/target"
)

// Summary is the contract of summary.json: fields may be added, never
// removed or renamed, because CI jobs and `abusesim compare` read it.
type Summary struct {
	Scenario  string    `json:"scenario"`
	StartedAt time.Time `json:"started_at"`
	// DurationS is the traffic duration of each profile, in seconds.
	DurationS float64 `json:"duration_s"`
	Seed      int64   `json:"seed"`
	// Interrupted is true when the run was stopped before every profile
	// finished; the profiles present hold what was recorded until then.
	Interrupted bool             `json:"interrupted"`
	Notes       []string         `json:"notes,omitempty"`
	Profiles    []ProfileSummary `json:"profiles"`
	// Thresholds are the scenario's thresholds checked against each
	// profile; ThresholdsPassed is nil when the scenario has none, else
	// whether every one passed.
	Thresholds       []ThresholdResult `json:"thresholds,omitempty"`
	ThresholdsPassed *bool             `json:"thresholds_passed,omitempty"`
	// Shard is "i/N" (i from 1) when this is one slice of a sharded run;
	// abusesim merge combines the slices, and a merge missing some of
	// them lists those it holds ("1,2/3"). Empty for a whole run.
	Shard string `json:"shard,omitempty"`
}

// ProfileSummary is one profile's results: traffic per class, the table's
// capacity and what it cost.
type ProfileSummary struct {
	Name     string          `json:"name"`
	Classes  []ClassSummary  `json:"classes"`
	Capacity CapacitySummary `json:"capacity"`
	Cost     capacity.Cost   `json:"cost"`
	// ElapsedS is how long the traffic really ran, in seconds.
	ElapsedS float64 `json:"elapsed_s"`
}

// ClassSummary is one traffic class's counts and latency. OK counts 2xx
// responses; LatencyMs is measured from each request's intended start
// (coordinated omission corrected), ServiceLatencyMs from the actual send.
type ClassSummary struct {
	Name    string `json:"name"`
	Sent    int64  `json:"sent"`
	OK      int64  `json:"ok"`
	Dropped int64  `json:"dropped"`
	Errors  int64  `json:"errors"`
	// ErrorReasons counts Errors by why the request got no answer
	// ("timeout", "connection refused", ...; at most ten reasons, the
	// rest under "other"); absent when there were none.
	ErrorReasons     map[string]int64 `json:"error_reasons,omitempty"`
	Status           map[string]int64 `json:"status"`
	AchievedRPS      float64          `json:"achieved_rps"`
	LatencyMs        Percentiles      `json:"latency_ms"`
	ServiceLatencyMs Percentiles      `json:"service_latency_ms"`
	// Late counts sent requests that waited for a free worker; Retries
	// the attempts after the first; Aborted the requests cut off when an
	// interrupted run stopped waiting.
	Late    int64 `json:"late"`
	Retries int64 `json:"retries"`
	Aborted int64 `json:"aborted"`
	// ScheduleLagMs is how late requests were sent after their intended
	// start: the generator's own scheduling delay plus waits for a worker.
	ScheduleLagMs Percentiles `json:"schedule_lag_ms"`
	// ByRequest, ByPhase and ByStatusFamily break the answers down by
	// request name, phase and status family (2xx .. 5xx, error).
	ByRequest      []BreakdownSummary `json:"by_request,omitempty"`
	ByPhase        []BreakdownSummary `json:"by_phase,omitempty"`
	ByStatusFamily []BreakdownSummary `json:"by_status_family,omitempty"`
}

// SuccessRatio is the share of sent requests that got a 2xx, 0 when none
// were sent.
func (c ClassSummary) SuccessRatio() float64 {
	if c.Sent == 0 {
		return 0
	}
	return float64(c.OK) / float64(c.Sent)
}

// Percentiles are latency figures in milliseconds.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// CapacitySummary is the table's provisioned and consumed capacity over the
// profile's run, and its throttle events.
type CapacitySummary struct {
	Table               string  `json:"table"`
	BillingMode         string  `json:"billing_mode"`
	ProvisionedRCU      int64   `json:"provisioned_rcu"`
	ProvisionedWCU      int64   `json:"provisioned_wcu"`
	ConsumedRCU         float64 `json:"consumed_rcu"`
	ConsumedWCU         float64 `json:"consumed_wcu"`
	PeakRCUPerSecond    float64 `json:"peak_rcu_per_second"`
	PeakWCUPerSecond    float64 `json:"peak_wcu_per_second"`
	ReadThrottleEvents  int64   `json:"read_throttle_events"`
	WriteThrottleEvents int64   `json:"write_throttle_events"`
}

// percentiles reads a histogram recorded in microseconds.
func percentiles(h *hdrhistogram.Histogram) Percentiles {
	if h == nil || h.TotalCount() == 0 {
		return Percentiles{}
	}
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return Percentiles{
		P50: ms(h.ValueAtQuantile(50)),
		P90: ms(h.ValueAtQuantile(90)),
		P99: ms(h.ValueAtQuantile(99)),
		Max: ms(h.Max()),
	}
}

func classSummary(c target.ClassResult, elapsed time.Duration) ClassSummary {
	// Status holds HTTP codes only; transport errors are counted in Errors.
	status := make(map[string]int64, len(c.Status))
	for k, v := range c.Status {
		if k != target.StatusError {
			status[k] = v
		}
	}
	s := ClassSummary{
		Name:             c.Name,
		Sent:             c.Sent,
		OK:               c.OK,
		Dropped:          c.Dropped,
		Errors:           c.Errors,
		ErrorReasons:     c.ErrorReasons,
		Status:           status,
		LatencyMs:        percentiles(c.Latency),
		ServiceLatencyMs: percentiles(c.Service),
		Late:             c.Late,
		ScheduleLagMs:    percentiles(c.Lag),
		Retries:          c.Retries,
		Aborted:          c.Aborted,
		ByRequest:        breakdowns(c.Requests),
		ByPhase:          breakdowns(c.Phases),
		ByStatusFamily:   breakdowns(c.Families),
	}
	if elapsed > 0 {
		s.AchievedRPS = float64(c.Sent) / elapsed.Seconds()
	}
	return s
}

func capacitySummary(table tableSpec, samples []capacity.Sample) CapacitySummary {
	s := CapacitySummary{
		Table:          table.Name,
		BillingMode:    table.BillingMode,
		ProvisionedRCU: table.RCU,
		ProvisionedWCU: table.WCU,
	}
	for _, x := range samples {
		s.ConsumedRCU += x.ConsumedRCU
		s.ConsumedWCU += x.ConsumedWCU
		s.PeakRCUPerSecond = max(s.PeakRCUPerSecond, x.ConsumedRCU)
		s.PeakWCUPerSecond = max(s.PeakWCUPerSecond, x.ConsumedWCU)
		s.ReadThrottleEvents += x.ReadThrottleEvents
		s.WriteThrottleEvents += x.WriteThrottleEvents
	}
	return s
}

// WriteJSON writes the summary to path atomically: a reader never sees a
// half-written file, even when the run is interrupted.
func (s *Summary) WriteJSON(path string) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode summary: %w", err)
	}
	return writeFileAtomic(path, append(data, '\n'))
}

// ReadSummary reads a summary.json written by WriteJSON.
func ReadSummary(path string) (*Summary, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read summary: %w", err)
	}
	var s Summary
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("read summary %s: %w", path, err)
	}
	return &s, nil
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())

	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
