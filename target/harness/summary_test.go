package harness

import (
	"encoding/json"
	"testing"
)

// TestSummaryContract pins the summary.json field names issue 2 fixed:
// fields may be added, never renamed or removed, because CI jobs read them.
func TestSummaryContract(t *testing.T) {
	sum := Summary{
		Scenario: "s",
		Profiles: []ProfileSummary{{
			Name:    "p",
			Classes: []ClassSummary{{Name: "c", Status: map[string]int64{"200": 1}}},
		}},
	}
	data, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}

	requireKeys(t, "summary", doc, "scenario", "started_at", "duration_s", "profiles")
	profile := doc["profiles"].([]any)[0].(map[string]any)
	requireKeys(t, "profile", profile, "name", "classes", "capacity", "cost")
	class := profile["classes"].([]any)[0].(map[string]any)
	requireKeys(t, "class", class, "name", "sent", "ok", "status", "achieved_rps",
		"latency_ms", "service_latency_ms")
	for _, k := range []string{"latency_ms", "service_latency_ms"} {
		requireKeys(t, "class."+k, class[k].(map[string]any), "p50", "p90", "p99", "max")
	}
	requireKeys(t, "capacity", profile["capacity"].(map[string]any), "table",
		"provisioned_rcu", "provisioned_wcu", "consumed_rcu", "consumed_wcu",
		"read_throttle_events", "write_throttle_events")
	requireKeys(t, "cost", profile["cost"].(map[string]any), "on_demand_usd",
		"provisioned_usd", "on_demand_usd_per_hour")
}

func requireKeys(t *testing.T, where string, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s: no %q field in %v", where, k, m)
		}
	}
}
