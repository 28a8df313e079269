package harness

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/goccy/go-yaml"

	refserver "github.com/abusesim/abusesim/reference-server"
	"github.com/abusesim/abusesim/scenarios"
	"github.com/abusesim/abusesim/target"
)

// BreakdownSummary is one slice of a class's answers in summary.json: a
// request name, a phase (named by its 1-based index) or a status family.
type BreakdownSummary struct {
	Name             string           `json:"name"`
	Done             int64            `json:"done"`
	OK               int64            `json:"ok"`
	Errors           int64            `json:"errors"`
	Retries          int64            `json:"retries,omitempty"`
	Status           map[string]int64 `json:"status"`
	LatencyMs        Percentiles      `json:"latency_ms"`
	ServiceLatencyMs Percentiles      `json:"service_latency_ms"`
}

func breakdowns(bs []target.Breakdown) []BreakdownSummary {
	out := make([]BreakdownSummary, 0, len(bs))
	for _, b := range bs {
		out = append(out, BreakdownSummary{
			Name: b.Name, Done: b.Done, OK: b.OK, Errors: b.Errors, Retries: b.Retries,
			Status: b.Status, LatencyMs: percentiles(b.Latency), ServiceLatencyMs: percentiles(b.Service),
		})
	}
	return out
}

// ThresholdResult is one threshold of one class checked against one
// profile's results.
type ThresholdResult struct {
	Profile string  `json:"profile"`
	Class   string  `json:"class"`
	Metric  string  `json:"metric"` // p99_ms, error_rate, share_429, min_success
	Limit   float64 `json:"limit"`
	Value   float64 `json:"value"`
	Passed  bool    `json:"passed"`
}

// String says what was checked, as "profile/class: metric value (limit
// ...)".
func (t ThresholdResult) String() string {
	verdict := "passed"
	if !t.Passed {
		verdict = "FAILED"
	}
	rel := "at most"
	if t.Metric == "min_success" {
		rel = "at least"
	}
	return fmt.Sprintf("%s/%s: %s %.4g (%s %.4g): %s", t.Profile, t.Class, t.Metric, t.Value, rel, t.Limit, verdict)
}

// checkThresholds checks every class's thresholds against profile ps.
func checkThresholds(sc *scenarios.Scenario, ps ProfileSummary) []ThresholdResult {
	var out []ThresholdResult
	for _, c := range sc.Classes {
		th := c.Thresholds
		if th == nil || !th.AppliesTo(ps.Name) {
			continue
		}
		var cs *ClassSummary
		for i := range ps.Classes {
			if ps.Classes[i].Name == c.Name {
				cs = &ps.Classes[i]
			}
		}
		if cs == nil {
			continue
		}
		add := func(metric string, limit float64) {
			value := thresholdValue(metric, cs)
			out = append(out, ThresholdResult{Profile: ps.Name, Class: c.Name, Metric: metric,
				Limit: limit, Value: value, Passed: thresholdPassed(metric, limit, value)})
		}
		if th.P99 > 0 {
			add("p99_ms", float64(th.P99.Microseconds())/1000)
		}
		if th.ErrorRate != nil {
			add("error_rate", *th.ErrorRate)
		}
		if th.Share429 != nil {
			add("share_429", *th.Share429)
		}
		if th.MinSuccess != nil {
			add("min_success", *th.MinSuccess)
		}
	}
	return out
}

// thresholdValue is a class's figure for a threshold metric: p99_ms,
// error_rate (transport errors and 5xx over sent), share_429 or
// min_success (2xx over sent).
func thresholdValue(metric string, cs *ClassSummary) float64 {
	share := func(n int64) float64 {
		if cs.Sent == 0 {
			return 0
		}
		return float64(n) / float64(cs.Sent)
	}
	switch metric {
	case "p99_ms":
		return cs.LatencyMs.P99
	case "error_rate":
		return share(cs.Errors + count5xx(cs.Status))
	case "share_429":
		return share(cs.Status["429"])
	case "min_success":
		return share(cs.OK)
	}
	return math.NaN()
}

// thresholdPassed reports whether value meets the limit of metric: at
// least it for min_success, at most it for the others.
func thresholdPassed(metric string, limit, value float64) bool {
	if metric == "min_success" {
		return value >= limit
	}
	return value <= limit
}

// recheckThresholds checks the thresholds defs (as an earlier check
// recorded them) again against the profiles of s, as merged results need:
// the shards' own verdicts say nothing of the whole run.
func (s *Summary) recheckThresholds(defs []ThresholdResult) {
	for _, d := range defs {
		for pi := range s.Profiles {
			p := &s.Profiles[pi]
			if p.Name != d.Profile {
				continue
			}
			for ci := range p.Classes {
				if cs := &p.Classes[ci]; cs.Name == d.Class {
					d.Value = thresholdValue(d.Metric, cs)
					d.Passed = thresholdPassed(d.Metric, d.Limit, d.Value)
					s.recordThresholds([]ThresholdResult{d})
				}
			}
		}
	}
}

func count5xx(status map[string]int64) int64 {
	var n int64
	for k, v := range status {
		if strings.HasPrefix(k, "5") {
			n += v
		}
	}
	return n
}

// recordThresholds adds a profile's threshold results to the summary and
// updates ThresholdsPassed.
func (s *Summary) recordThresholds(results []ThresholdResult) {
	for _, r := range results {
		s.Thresholds = append(s.Thresholds, r)
		passed := r.Passed && (s.ThresholdsPassed == nil || *s.ThresholdsPassed)
		s.ThresholdsPassed = &passed
	}
}

// FailedThresholds returns the thresholds that failed.
func (s *Summary) FailedThresholds() []ThresholdResult {
	var out []ThresholdResult
	for _, t := range s.Thresholds {
		if !t.Passed {
			out = append(out, t)
		}
	}
	return out
}

// intervalLog returns a profile's per-second latency histograms (from the
// intended start, microseconds) in the HdrHistogram interval log format,
// one tagged line per class and second, readable by HistogramLogAnalyzer
// and hdrhistogram-go's log reader.
func intervalLog(res *target.Result) ([]byte, error) {
	var buf bytes.Buffer
	w := hdrhistogram.NewHistogramLogWriter(&buf)
	startMs := res.Start.UnixMilli()
	if err := w.OutputLogFormatVersion(); err != nil {
		return nil, err
	}
	if err := w.OutputComment("abusesim latency from the intended start, microseconds, one histogram per class and second"); err != nil {
		return nil, err
	}
	if err := w.OutputStartTime(startMs); err != nil {
		return nil, err
	}
	if err := w.OutputBaseTime(startMs); err != nil {
		return nil, err
	}
	w.SetBaseTime(startMs)
	if err := w.OutputLegend(); err != nil {
		return nil, err
	}
	for _, c := range res.Classes {
		for _, iv := range c.Intervals {
			h, err := hdrhistogram.Decode(iv.Histogram)
			if err != nil {
				return nil, fmt.Errorf("class %s second %d: %w", c.Name, iv.Offset, err)
			}
			h.SetStartTimeMs(startMs + int64(iv.Offset)*1000)
			h.SetEndTimeMs(startMs + int64(iv.Offset+1)*1000)
			h.SetTag(c.Name)
			if err := w.OutputIntervalHistogram(h); err != nil {
				return nil, err
			}
		}
	}
	return buf.Bytes(), nil
}

// writeIntervalLog writes OUT/<profile>/latency.hlog.
func writeIntervalLog(dir string, res *target.Result) error {
	data, err := intervalLog(res)
	if err != nil {
		return fmt.Errorf("harness: interval log: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, "latency.hlog"), data); err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	return nil
}

// scenarioProfile resolves a profile name through the scenario's
// ProfileSpecs: a spec with a base is that built-in under its own name,
// with the spec's overrides applied (overrideProfile).
func scenarioProfile(sc *scenarios.Scenario, name string) (refserver.Profile, error) {
	for _, spec := range sc.ProfileSpecs {
		if spec.Name != name {
			continue
		}
		base := spec.Base
		if base == "" {
			base = name
		}
		p, err := refserver.BuiltinProfile(base)
		if errors.Is(err, refserver.ErrUnknownProfile) {
			known := refserver.ProfileNames()
			hint := ""
			if near := scenarios.Suggest(base, known); near != "" {
				hint = fmt.Sprintf("; did you mean %q?", near)
			}
			what := fmt.Sprintf("profile %q: base %q", name, base)
			if spec.Base == "" {
				what = fmt.Sprintf("profile %q", name)
			}
			return refserver.Profile{}, fmt.Errorf("%s is not a built-in profile (known: %s)%s",
				what, strings.Join(known, ", "), hint)
		}
		if err != nil {
			return refserver.Profile{}, err
		}
		if len(spec.Overrides) > 0 {
			if p, err = overrideProfile(p, spec.Overrides); err != nil {
				return refserver.Profile{}, fmt.Errorf("profile %q (base %s): %w", name, base, err)
			}
		}
		p.Name = name
		return p, nil
	}
	p, err := refserver.BuiltinProfile(name)
	if err != nil {
		return refserver.Profile{}, err
	}
	return p, nil
}

// overrideProfile applies a scenario's overrides to a base profile: the
// profile as YAML, merged key by key (mappings recursively; a null value
// removes the key, e.g. `cache: null` turns caching off), decoded again
// with the reference server's own strict loader, so a misspelt field is an
// error rather than silently ignored.
func overrideProfile(base refserver.Profile, overrides map[string]any) (refserver.Profile, error) {
	data, err := yaml.Marshal(base)
	if err != nil {
		return refserver.Profile{}, fmt.Errorf("encode base profile: %w", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return refserver.Profile{}, fmt.Errorf("decode base profile: %w", err)
	}
	if bad := unknownRemoval(overrides, reflect.TypeFor[refserver.Profile](), ""); bad != "" {
		return refserver.Profile{}, fmt.Errorf("profile: unknown field %q (set to null to remove it, "+
			"but a profile has no such field)", bad)
	}
	mergeYAML(doc, overrides)
	if data, err = yaml.Marshal(doc); err != nil {
		return refserver.Profile{}, fmt.Errorf("encode overridden profile: %w", err)
	}
	p, err := refserver.LoadProfile(data)
	if err != nil {
		// The loader points into the YAML built above, which the user never
		// saw: keep its complaint, drop its positions and source excerpt.
		msg, _, _ := strings.Cut(err.Error(), "\n")
		msg = strings.ReplaceAll(msg, "refserver: ", "")
		return refserver.Profile{}, errors.New(yamlPosition.ReplaceAllString(msg, ""))
	}
	return p, nil
}

// yamlPosition is how go-yaml names a place in the text it decoded.
var yamlPosition = regexp.MustCompile(`\[\d+:\d+\] `)

func mergeYAML(dst, src map[string]any) {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		sub, ok := v.(map[string]any)
		if cur, isMap := dst[k].(map[string]any); ok && isMap {
			mergeYAML(cur, sub)
			continue
		}
		dst[k] = v
	}
}

// unknownRemoval returns the first field of overrides set to null (which
// removes it) that a profile does not have, as a dotted path, or "". The
// strict loader never sees such a field, as the merge drops it, so a
// misspelt `cach: null` would otherwise leave caching on in silence.
func unknownRemoval(overrides map[string]any, t reflect.Type, prefix string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return "" // a map or a scalar: its keys are the loader's to check
	}
	for _, k := range slices.Sorted(maps.Keys(overrides)) {
		f, ok := yamlField(t, k)
		if !ok {
			if overrides[k] == nil {
				return prefix + k
			}
			continue // the loader reports it
		}
		if sub, isMap := overrides[k].(map[string]any); isMap {
			if bad := unknownRemoval(sub, f.Type, prefix+k+"."); bad != "" {
				return bad
			}
		}
	}
	return ""
}

// yamlField finds the field of struct t whose yaml name is name.
func yamlField(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}
