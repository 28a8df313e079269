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
	"strconv"
	"strings"
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
// Consumed capacity is added (each shard's embedded table is its own) and
// priced again as one run; peaks per second come from the shards'
// capacity.csv added second by second. The per-second interval logs are
// merged second by second, aligned on each shard's start. out gets the
// files a merge can be merged from again: summary.json and, per profile,
// histograms.json, latency.hlog and capacity.csv.
//
// Merge refuses, with an error wrapping ErrBadMerge, the same folder or
// shard twice, shards of different splits and an out that is or lies in
// an input. A set missing some shards is merged; the summary's Shard then
// lists the shards held ("1,2/3") and a note says which are missing.
func Merge(dirs []string, out string) (*Summary, error) {
	if len(dirs) == 0 {
		return nil, errors.New("harness: merge: no result folders")
	}
	if err := checkMergePaths(dirs, out); err != nil {
		return nil, fmt.Errorf("harness: merge: %w", err)
	}
	m := &merger{hists: map[string]map[string]*mergedClass{},
		logs:     map[string]map[string]map[int64]*hdrhistogram.Histogram{},
		capacity: map[string]capacitySeries{}, noCapacity: map[string]bool{}, traffic: map[string]trafficSeries{}}
	for _, dir := range dirs {
		if err := m.add(dir); err != nil {
			return nil, fmt.Errorf("harness: merge %s: %w", dir, err)
		}
	}
	merged := m.finish(len(dirs))
	if out == "" {
		return merged, nil
	}
	return merged, m.write(out)
}

// The beginnings of the notes a merge writes.
const (
	mergedFromNote = "merged from"
	incompleteNote = "incomplete:"
)

// merger adds result folders together.
type merger struct {
	sum        *Summary
	thresholds []ThresholdResult // the first folder's, whose definitions every shard shares
	shards     shardSet
	hists      map[string]map[string]*mergedClass // profile -> class -> histograms
	logs       map[string]map[string]map[int64]*hdrhistogram.Histogram
	capacity   map[string]capacitySeries // profile -> per-second capacity
	traffic    map[string]trafficSeries  // profile -> per-second traffic counts
	noCapacity map[string]bool           // profile -> some shard had no capacity.csv
}

func (m *merger) add(dir string) error {
	s, err := ReadSummary(filepath.Join(dir, "summary.json"))
	if err != nil {
		return err
	}
	set, err := parseShardSet(s.Shard)
	if err != nil {
		return err
	}
	if m.sum == nil {
		m.sum, m.shards = emptyLike(s), set
		m.thresholds = s.Thresholds
	} else if err := sameRun(m.sum, s); err != nil {
		return err
	} else if err := m.shards.add(set); err != nil {
		return err
	}
	m.sum.Interrupted = m.sum.Interrupted || s.Interrupted
	for pi, p := range s.Profiles {
		addProfile(&m.sum.Profiles[pi], p)
		pdir := filepath.Join(dir, p.Name)
		if err := readHistograms(pdir, m.hists, p.Name); err != nil {
			return err
		}
		if err := readIntervalLog(filepath.Join(pdir, "latency.hlog"), m.logs, p.Name); err != nil {
			return err
		}
		if m.traffic[p.Name] == nil {
			m.traffic[p.Name] = trafficSeries{}
		}
		if err := readTraffic(filepath.Join(pdir, "traffic.csv"), m.traffic[p.Name]); err != nil {
			return err
		}
		if m.capacity[p.Name] == nil {
			m.capacity[p.Name] = capacitySeries{}
		}
		found, err := readCapacityCSV(pdir, m.capacity[p.Name])
		if err != nil {
			return err
		}
		m.noCapacity[p.Name] = m.noCapacity[p.Name] || !found
	}
	return nil
}

// finish sets the figures that are not sums and returns the merged
// summary.
func (m *merger) finish(folders int) *Summary {
	merged := m.sum
	for pi := range merged.Profiles {
		p := &merged.Profiles[pi]
		for ci := range p.Classes {
			c := &p.Classes[ci]
			if mc := m.hists[p.Name][c.Name]; mc != nil {
				mc.apply(c)
			}
		}
		if m.noCapacity[p.Name] {
			m.capacity[p.Name] = nil
			if p.Capacity.PeakRCUPerSecond > 0 || p.Capacity.PeakWCUPerSecond > 0 {
				merged.Notes = append(merged.Notes, fmt.Sprintf("profile %s: a shard has no capacity.csv, "+
					"so peak RCU/WCU per second is the sum of the shards' peaks, an upper bound", p.Name))
			}
		}
		applyCapacity(p, m.capacity[p.Name])
	}
	// The shards' verdicts were on their slices: check the thresholds
	// again against the whole.
	merged.recheckThresholds(m.thresholds)
	merged.Shard = m.shards.label()
	merged.Notes = append(merged.Notes, fmt.Sprintf("%s %d result folders", mergedFromNote, folders))
	if missing := m.shards.missing(); len(missing) == 1 {
		merged.Notes = append(merged.Notes, fmt.Sprintf("%s shard %s of %d is missing, "+
			"so the figures cover only part of the run", incompleteNote, joinInts(missing), len(m.shards.have)))
	} else if len(missing) > 1 {
		merged.Notes = append(merged.Notes, fmt.Sprintf("%s shards %s of %d are missing, "+
			"so the figures cover only part of the run", incompleteNote, joinInts(missing), len(m.shards.have)))
	}
	return merged
}

// write writes the merged results into out.
func (m *merger) write(out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("harness: merge: %w", err)
	}
	for _, p := range m.sum.Profiles {
		dir := filepath.Join(out, p.Name)
		if err := writeMergedLog(dir, m.sum.StartedAt, m.logs[p.Name]); err != nil {
			return err
		}
		if err := writeMergedTraffic(dir, m.traffic[p.Name], m.logs[p.Name]); err != nil {
			return err
		}
		if err := writeMergedHistograms(dir, p, m.hists[p.Name]); err != nil {
			return err
		}
		if series := m.capacity[p.Name]; series != nil {
			if err := writeMergedCapacity(dir, m.sum.StartedAt, p, series); err != nil {
				return err
			}
		}
	}
	if err := m.sum.WriteJSON(filepath.Join(out, "summary.json")); err != nil {
		return fmt.Errorf("harness: merge: %w", err)
	}
	return nil
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// emptyLike returns s with its profiles' classes zeroed, ready to add to.
func emptyLike(s *Summary) *Summary {
	m := *s
	m.Profiles = make([]ProfileSummary, len(s.Profiles))
	m.Thresholds, m.ThresholdsPassed = nil, nil
	// An input that is itself a merge brings its own merge notes, which
	// this merge writes again for the whole.
	m.Notes = nil
	for _, n := range s.Notes {
		if !strings.HasPrefix(n, mergedFromNote) && !strings.HasPrefix(n, incompleteNote) {
			m.Notes = append(m.Notes, n)
		}
	}
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
		for r, n := range c.ErrorReasons {
			if mc.ErrorReasons == nil {
				mc.ErrorReasons = map[string]int64{}
			}
			mc.ErrorReasons[r] += n
		}
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

// breakdownKinds pairs each kind of breakdown with its list in a class
// summary.
func breakdownKinds(c *ClassSummary) map[string][]BreakdownSummary {
	return map[string][]BreakdownSummary{"request": c.ByRequest, "phase": c.ByPhase, "family": c.ByStatusFamily}
}

// encode returns the merged histograms of class c as histograms.json holds
// them, so a merged folder can itself be merged.
func (mc *mergedClass) encode(c *ClassSummary) classHistograms {
	ch := classHistograms{Name: c.Name, Latency: encodeHist(mc.latency), Service: encodeHist(mc.service)}
	parts := func(kind string, bs []BreakdownSummary) []breakdownHistogram {
		var out []breakdownHistogram
		for _, b := range bs {
			if h, ok := mc.parts[kind+"/"+b.Name]; ok {
				out = append(out, breakdownHistogram{Name: b.Name, Latency: encodeHist(h[0]), Service: encodeHist(h[1])})
			}
		}
		return out
	}
	ch.ByRequest, ch.ByPhase = parts("request", c.ByRequest), parts("phase", c.ByPhase)
	ch.ByFamily = parts("family", c.ByStatusFamily)
	return ch
}

// writeMergedHistograms writes dir/histograms.json for merged profile p.
func writeMergedHistograms(dir string, p ProfileSummary, hists map[string]*mergedClass) error {
	all := []classHistograms{}
	for i := range p.Classes {
		if mc := hists[p.Classes[i].Name]; mc != nil {
			all = append(all, mc.encode(&p.Classes[i]))
		}
	}
	data, err := json.Marshal(all)
	if err != nil {
		return fmt.Errorf("harness: merge: encode histograms: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, histogramsFile), data); err != nil {
		return fmt.Errorf("harness: merge: %w", err)
	}
	return nil
}

func (mc *mergedClass) apply(c *ClassSummary) {
	c.LatencyMs, c.ServiceLatencyMs = percentiles(mc.latency), percentiles(mc.service)
	for kind, bs := range breakdownKinds(c) {
		for i := range bs {
			if h, ok := mc.parts[kind+"/"+bs[i].Name]; ok {
				bs[i].LatencyMs, bs[i].ServiceLatencyMs = percentiles(h[0]), percentiles(h[1])
			}
		}
	}
}

func readHistograms(dir string, into map[string]map[string]*mergedClass, profile string) error {
	path := filepath.Join(dir, histogramsFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no %s: latency cannot be merged exactly without it "+
			"(results written before abusesim kept histograms.json have none)", path)
	}
	if err != nil {
		return fmt.Errorf("read histograms: %w", err)
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
