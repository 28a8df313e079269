package harness

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/abusesim/abusesim/target"
)

// histogramsFile holds, per profile, every class's full histograms so that
// shard results merge exactly: <profile>/histograms.json.
const histogramsFile = "histograms.json"

// classHistograms are one class's histograms in compressed HdrHistogram
// form (base64 in JSON), microseconds.
type classHistograms struct {
	Name      string               `json:"name"`
	Latency   []byte               `json:"latency"`
	Service   []byte               `json:"service"`
	ByRequest []breakdownHistogram `json:"by_request,omitempty"`
	ByPhase   []breakdownHistogram `json:"by_phase,omitempty"`
	ByFamily  []breakdownHistogram `json:"by_status_family,omitempty"`
}

type breakdownHistogram struct {
	Name    string `json:"name"`
	Latency []byte `json:"latency"`
	Service []byte `json:"service"`
}

func encodeHist(h *hdrhistogram.Histogram) []byte {
	enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		// Encoding an in-memory histogram fails only on a library bug.
		panic(fmt.Sprintf("harness: encode histogram: %v", err))
	}
	return enc
}

func encodeBreakdowns(bs []target.Breakdown) []breakdownHistogram {
	out := make([]breakdownHistogram, len(bs))
	for i, b := range bs {
		out[i] = breakdownHistogram{Name: b.Name, Latency: encodeHist(b.Latency), Service: encodeHist(b.Service)}
	}
	return out
}

// writeHistograms writes OUT/<profile>/histograms.json.
func writeHistograms(dir string, res *target.Result) error {
	var all []classHistograms
	for _, c := range res.Classes {
		all = append(all, classHistograms{
			Name: c.Name, Latency: encodeHist(c.Latency), Service: encodeHist(c.Service),
			ByRequest: encodeBreakdowns(c.Requests), ByPhase: encodeBreakdowns(c.Phases),
			ByFamily: encodeBreakdowns(c.Families),
		})
	}
	data, err := json.Marshal(all)
	if err != nil {
		return fmt.Errorf("harness: encode histograms: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, histogramsFile), data); err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	return nil
}

// Merge combines the results of shards of one run, each in its own
// folder, into out: counts are added, and latency figures come from the
// shards' histograms added together, never from averaged percentiles.
// Capacity figures are added too (each shard's embedded table is its own).
// The per-second interval logs are merged second by second, aligned on
// each shard's start.
func Merge(dirs []string, out string) (*Summary, error) {
	if len(dirs) == 0 {
		return nil, errors.New("harness: merge: no result folders")
	}
	var merged *Summary
	hists := map[string]map[string]*mergedClass{} // profile -> class -> histograms
	logs := map[string]map[string]map[int64]*hdrhistogram.Histogram{}
	for _, dir := range dirs {
		s, err := ReadSummary(filepath.Join(dir, "summary.json"))
		if err != nil {
			return nil, fmt.Errorf("harness: merge: %w", err)
		}
		if merged == nil {
			merged = emptyLike(s)
		} else if err := sameRun(merged, s); err != nil {
			return nil, fmt.Errorf("harness: merge %s: %w", dir, err)
		}
		merged.Interrupted = merged.Interrupted || s.Interrupted
		for pi, p := range s.Profiles {
			addProfile(&merged.Profiles[pi], p)
			if err := readHistograms(filepath.Join(dir, p.Name), hists, p.Name); err != nil {
				return nil, fmt.Errorf("harness: merge %s: %w", dir, err)
			}
			if err := readIntervalLog(filepath.Join(dir, p.Name, "latency.hlog"), logs, p.Name); err != nil {
				return nil, fmt.Errorf("harness: merge %s: %w", dir, err)
			}
		}
	}

	for pi := range merged.Profiles {
		p := &merged.Profiles[pi]
		for ci := range p.Classes {
			c := &p.Classes[ci]
			if mc := hists[p.Name][c.Name]; mc != nil {
				mc.apply(c)
			}
		}
	}
	merged.Shard = ""
	merged.Notes = append(merged.Notes, fmt.Sprintf("merged from %d result folders", len(dirs)))
	if out == "" {
		return merged, nil
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return merged, fmt.Errorf("harness: merge: %w", err)
	}
	for _, p := range merged.Profiles {
		if err := writeMergedLog(filepath.Join(out, p.Name), merged.StartedAt, logs[p.Name]); err != nil {
			return merged, err
		}
	}
	if err := merged.WriteJSON(filepath.Join(out, "summary.json")); err != nil {
		return merged, fmt.Errorf("harness: merge: %w", err)
	}
	return merged, nil
}

// emptyLike returns s with its profiles' classes zeroed, ready to add to.
func emptyLike(s *Summary) *Summary {
	m := *s
	m.Profiles = make([]ProfileSummary, len(s.Profiles))
	m.Thresholds, m.ThresholdsPassed = nil, nil
	for i, p := range s.Profiles {
		m.Profiles[i] = ProfileSummary{Name: p.Name, Cost: p.Cost, Capacity: CapacitySummary{
			Table: p.Capacity.Table, BillingMode: p.Capacity.BillingMode,
			ProvisionedRCU: p.Capacity.ProvisionedRCU, ProvisionedWCU: p.Capacity.ProvisionedWCU,
		}}
		for _, c := range p.Classes {
			m.Profiles[i].Classes = append(m.Profiles[i].Classes, ClassSummary{Name: c.Name, Status: map[string]int64{}})
		}
	}
	return &m
}

// sameRun checks that b holds the same scenario, profiles and classes as a.
func sameRun(a, b *Summary) error {
	if a.Scenario != b.Scenario || len(a.Profiles) != len(b.Profiles) {
		return fmt.Errorf("scenario %s with %d profiles does not match %s with %d",
			b.Scenario, len(b.Profiles), a.Scenario, len(a.Profiles))
	}
	for i := range a.Profiles {
		pa, pb := a.Profiles[i], b.Profiles[i]
		if pa.Name != pb.Name || len(pa.Classes) != len(pb.Classes) {
			return fmt.Errorf("profile %s does not match %s", pb.Name, pa.Name)
		}
		for j := range pa.Classes {
			if pa.Classes[j].Name != pb.Classes[j].Name {
				return fmt.Errorf("profile %s: class %s does not match %s", pa.Name, pb.Classes[j].Name, pa.Classes[j].Name)
			}
		}
	}
	return nil
}

func addProfile(m *ProfileSummary, p ProfileSummary) {
	m.ElapsedS = max(m.ElapsedS, p.ElapsedS)
	for i, c := range p.Classes {
		mc := &m.Classes[i]
		mc.Sent += c.Sent
		mc.OK += c.OK
		mc.Dropped += c.Dropped
		mc.Errors += c.Errors
		mc.Late += c.Late
		mc.Retries += c.Retries
		mc.Aborted += c.Aborted
		mc.AchievedRPS += c.AchievedRPS
		for k, v := range c.Status {
			mc.Status[k] += v
		}
		mc.ByRequest = addBreakdowns(mc.ByRequest, c.ByRequest)
		mc.ByPhase = addBreakdowns(mc.ByPhase, c.ByPhase)
		mc.ByStatusFamily = addBreakdowns(mc.ByStatusFamily, c.ByStatusFamily)
	}
	mc, c := &m.Capacity, p.Capacity
	mc.ConsumedRCU += c.ConsumedRCU
	mc.ConsumedWCU += c.ConsumedWCU
	mc.PeakRCUPerSecond += c.PeakRCUPerSecond
	mc.PeakWCUPerSecond += c.PeakWCUPerSecond
	mc.ReadThrottleEvents += c.ReadThrottleEvents
	mc.WriteThrottleEvents += c.WriteThrottleEvents
}

func addBreakdowns(into, more []BreakdownSummary) []BreakdownSummary {
	for _, b := range more {
		i := slices.IndexFunc(into, func(x BreakdownSummary) bool { return x.Name == b.Name })
		if i < 0 {
			into = append(into, BreakdownSummary{Name: b.Name, Status: map[string]int64{}})
			i = len(into) - 1
		}
		into[i].Done += b.Done
		into[i].OK += b.OK
		into[i].Errors += b.Errors
		into[i].Retries += b.Retries
		for k, v := range b.Status {
			into[i].Status[k] += v
		}
	}
	return into
}

// mergedClass is a class's histograms added over shards.
type mergedClass struct {
	latency, service *hdrhistogram.Histogram
	parts            map[string][2]*hdrhistogram.Histogram // "request/NAME" etc. -> latency, service
}

func (mc *mergedClass) apply(c *ClassSummary) {
	c.LatencyMs, c.ServiceLatencyMs = percentiles(mc.latency), percentiles(mc.service)
	for kind, bs := range map[string][]BreakdownSummary{"request": c.ByRequest, "phase": c.ByPhase, "family": c.ByStatusFamily} {
		for i := range bs {
			if h, ok := mc.parts[kind+"/"+bs[i].Name]; ok {
				bs[i].LatencyMs, bs[i].ServiceLatencyMs = percentiles(h[0]), percentiles(h[1])
			}
		}
	}
}

func readHistograms(dir string, into map[string]map[string]*mergedClass, profile string) error {
	data, err := os.ReadFile(filepath.Join(dir, histogramsFile))
	if err != nil {
		return fmt.Errorf("read histograms (results from before histograms.json cannot be merged exactly): %w", err)
	}
	var all []classHistograms
	if err := json.Unmarshal(data, &all); err != nil {
		return fmt.Errorf("read %s: %w", histogramsFile, err)
	}
	if into[profile] == nil {
		into[profile] = map[string]*mergedClass{}
	}
	for _, ch := range all {
		mc := into[profile][ch.Name]
		if mc == nil {
			mc = &mergedClass{latency: target.NewHistogram(), service: target.NewHistogram(),
				parts: map[string][2]*hdrhistogram.Histogram{}}
			into[profile][ch.Name] = mc
		}
		if err := addEncoded(mc.latency, ch.Latency); err != nil {
			return err
		}
		if err := addEncoded(mc.service, ch.Service); err != nil {
			return err
		}
		for kind, bs := range map[string][]breakdownHistogram{"request": ch.ByRequest, "phase": ch.ByPhase, "family": ch.ByFamily} {
			for _, b := range bs {
				key := kind + "/" + b.Name
				h, ok := mc.parts[key]
				if !ok {
					h = [2]*hdrhistogram.Histogram{target.NewHistogram(), target.NewHistogram()}
					mc.parts[key] = h
				}
				if err := addEncoded(h[0], b.Latency); err != nil {
					return err
				}
				if err := addEncoded(h[1], b.Service); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func addEncoded(into *hdrhistogram.Histogram, enc []byte) error {
	h, err := hdrhistogram.Decode(enc)
	if err != nil {
		return fmt.Errorf("decode histogram: %w", err)
	}
	if dropped := into.Merge(h); dropped != 0 {
		return fmt.Errorf("merge histogram: %d values out of range", dropped)
	}
	return nil
}

// readIntervalLog adds a shard's interval log into logs[profile][tag]
// keyed by the interval's start in ms from the shard's start.
func readIntervalLog(path string, logs map[string]map[string]map[int64]*hdrhistogram.Histogram, profile string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	base := logBaseMs(data)
	if logs[profile] == nil {
		logs[profile] = map[string]map[int64]*hdrhistogram.Histogram{}
	}
	r := hdrhistogram.NewHistogramLogReader(bytes.NewReader(data))
	for {
		h, err := r.NextIntervalHistogram()
		if err == io.EOF || (err == nil && h == nil) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		byOff := logs[profile][h.Tag()]
		if byOff == nil {
			byOff = map[int64]*hdrhistogram.Histogram{}
			logs[profile][h.Tag()] = byOff
		}
		off := h.StartTimeMs() - base
		if m := byOff[off]; m != nil {
			m.Merge(h)
		} else {
			byOff[off] = h
		}
	}
}

// logBaseMs reads the #[StartTime: ...] of an interval log, in ms.
func logBaseMs(data []byte) int64 {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var secs float64
		if _, err := fmt.Sscanf(sc.Text(), "#[StartTime: %f", &secs); err == nil {
			return int64(secs * 1000)
		}
	}
	return 0
}

func writeMergedLog(dir string, start time.Time, byTag map[string]map[int64]*hdrhistogram.Histogram) error {
	res := &target.Result{Start: start}
	for _, tag := range slices.Sorted(maps.Keys(byTag)) {
		c := target.ClassResult{Name: tag}
		for _, off := range slices.Sorted(maps.Keys(byTag[tag])) {
			c.Intervals = append(c.Intervals, target.Interval{Offset: int(off / 1000), Histogram: encodeHist(byTag[tag][off])})
		}
		res.Classes = append(res.Classes, c)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("harness: merge: %w", err)
	}
	return writeIntervalLog(dir, res)
}
