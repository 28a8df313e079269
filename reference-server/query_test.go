package refserver

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

// pageOf decodes a page answer.
func pageOf(t *testing.T, r reply) (items []map[string]any, cursor string) {
	t.Helper()
	var p struct {
		Items  []map[string]any `json:"items"`
		Cursor string           `json:"cursor"`
	}
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("page %s: %v", r.body, err)
	}
	return p.Items, p.Cursor
}

func TestUserItemsPagesThroughTheGSI(t *testing.T) {
	m := newMeteredTable(t, 300) // users u-0 .. u-9, 30 items each
	tests := []struct {
		profile, query string
		pages          []int
	}{
		{ProfileProtected, "", []int{25, 5}},        // no limit: DefaultPageSize
		{ProfileProtected, "limit=1000", []int{30}}, // clamped to 100
		{ProfileProtected, "limit=12", []int{12, 12, 6}},
		{ProfileUnprotected, "", []int{30}}, // DynamoDB's full page
	}
	for _, tt := range tests {
		t.Run(tt.profile+"/"+tt.query, func(t *testing.T) {
			ts := newAPI(t, m.db, withoutRateLimit(mustProfile(t, tt.profile)), newFakeClock())
			var got []int
			seen := map[string]bool{}
			cursor := ""
			for range 10 {
				q := url.Values{}
				if tt.query != "" {
					q, _ = url.ParseQuery(tt.query)
				}
				if cursor != "" {
					q.Set("cursor", cursor)
				}
				r := call(t, ts, "GET", "/users/u-1/items?"+q.Encode(), "", "")
				if r.status != 200 {
					t.Fatalf("status %d: %s", r.status, r.body)
				}
				items, next := pageOf(t, r)
				got = append(got, len(items))
				for _, it := range items {
					if it["user_id"] != "u-1" || seen[it["id"].(string)] {
						t.Fatalf("item %v: wrong user or seen twice", it)
					}
					seen[it["id"].(string)] = true
				}
				if cursor = next; cursor == "" {
					break
				}
			}
			if len(got) != len(tt.pages) || len(seen) != 30 {
				t.Fatalf("pages %v (%d items), want %v (30 items)", got, len(seen), tt.pages)
			}
			for i := range got {
				if got[i] != tt.pages[i] {
					t.Errorf("pages %v, want %v", got, tt.pages)
					break
				}
			}
		})
	}
}

func TestPageParamsRefuseBadInput(t *testing.T) {
	ts := newAPI(t, &fakeDB{}, mustProfile(t, ProfileProtected), newFakeClock())
	for _, target := range []string{
		"/users/u-1/items?limit=0",
		"/users/u-1/items?limit=-3",
		"/users/u-1/items?limit=ten",
		"/users/u-1/items?cursor=not-base64!",
		"/users/u-1/items?cursor=bnVsbA",      // "null"
		"/users/u-1/items?cursor=eyJpZCI6MX0", // {"id":1}
		"/search?q=",
		"/search?q=a&cursor=e30", // {}
	} {
		r := call(t, ts, "GET", target, "", "10.0.0.1")
		if r.status != 400 {
			t.Errorf("GET %s: status %d, want 400 (%s)", target, r.status, r.body)
			continue
		}
		r.errorMsg(t)
	}
}

// TestMalformedQueryStringsAreRefused checks that a query string or
// parameter that does not decode is a 400 naming it, never the default page
// that URL.Query's silent drop of the pair would give.
func TestMalformedQueryStringsAreRefused(t *testing.T) {
	db := &fakeDB{}
	ts := newAPI(t, db, withoutRateLimit(mustProfile(t, ProfileProtected)), newFakeClock())
	tests := []struct{ target, want string }{
		{"/users/u-1/items?limit=%zz", `query parameter limit: "%zz" is not valid percent-encoding`},
		{"/users/u-1/items?cursor=%%%", `query parameter cursor: "%%%" is not valid percent-encoding`},
		{"/users/u-1/items?limit=", `query parameter limit "" must be a whole number`},
		{"/users/u-1/items?limit=5&limit=6", "query parameter limit is given 2 times"},
		{"/users/u-1/items?cursor=e30&cursor=e30", "query parameter cursor is given 2 times"},
		{"/users/u-1/items?li%zzmit=5", `parameter name "li%zzmit" is not valid percent-encoding`},
		{"/users/u-1/items?limit=5;cursor=e30", `"limit=5;cursor=e30" holds a ';'`},
		{"/search?q=%zz", `query parameter q: "%zz" is not valid percent-encoding`},
		{"/search?q=a&q=b", "query parameter q is given 2 times"},
		{"/search?q=a&x%20y=%zz", `query parameter "x y": "%zz" is not valid`},
		{"/search?q=a&limit=%2", `query parameter limit: "%2" is not valid percent-encoding`},
		{"/search?q=a&cursor=" + strings.Repeat("%", 60), `"` + strings.Repeat("%", 40) + `"...`},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			r := call(t, ts, "GET", tt.target, "", "")
			if r.status != 400 {
				t.Fatalf("status %d, want 400 (%s)", r.status, r.body)
			}
			if msg := r.errorMsg(t); !strings.Contains(msg, tt.want) {
				t.Errorf("error %q, want it to contain %q", msg, tt.want)
			}
		})
	}
	if len(db.queries) != 0 || len(db.scans) != 0 {
		t.Errorf("%d Queries and %d Scans for refused requests, want none", len(db.queries), len(db.scans))
	}

	// Well-formed escapes and parameters the route does not read still work.
	for _, target := range []string{"/users/u-1/items?limit=%35&x=1&x=2", "/search?q=a%20b&&limit=5"} {
		if r := call(t, ts, "GET", target, "", ""); r.status != 200 {
			t.Errorf("GET %s: status %d, want 200 (%s)", target, r.status, r.body)
		}
	}
}

func TestScanCaps(t *testing.T) {
	off := Profile{Name: "no-scan", Scan: &ScanLimit{Disabled: true}}
	ts := newAPI(t, &fakeDB{}, off, newFakeClock())
	if r := call(t, ts, "GET", "/search?q=a", "", ""); r.status != 403 {
		t.Errorf("disabled search: status %d, want 403", r.status)
	}

	clock := newFakeClock()
	capped := Profile{Name: "few-scans", Scan: &ScanLimit{PerMinute: 2}}
	db := &fakeDB{}
	ts = newAPI(t, db, capped, clock)
	var codes []int
	for _, ip := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		codes = append(codes, call(t, ts, "GET", "/search?q=a", "", ip).status)
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != 429 || len(db.scans) != 2 {
		t.Errorf("3 scans from 3 clients under a cap of 2 a minute: %v, %d Scans; want 200 200 429, 2",
			codes, len(db.scans))
	}
	clock.Advance(30 * time.Second)
	if r := call(t, ts, "GET", "/search?q=a", "", "10.0.0.4"); r.status != 200 {
		t.Errorf("30 s later: status %d, want 200 (one scan came back)", r.status)
	}
}

func TestWriteLimitStopsUniqueIDFlood(t *testing.T) {
	clock := newFakeClock()
	db := &fakeDB{}
	ts := newAPI(t, db, withoutRateLimit(mustProfile(t, ProfileProtected)), clock)

	written, limited := 0, 0
	for i := range 30 {
		body := sprintf(`{"event_id":"flood-%d","user_id":"u-%d","event_type":"view"}`, i, i)
		switch r := call(t, ts, "POST", "/record", body, "10.0.0.66"); r.status {
		case 201:
			written++
		case 429:
			limited++
		default:
			t.Fatalf("write %d: status %d %s", i, r.status, r.body)
		}
	}
	if written != 10 || limited != 20 || len(db.puts) != 10 {
		t.Errorf("30 unique events from one client: %d written, %d limited, %d PutItems; want 10, 20, 10 "+
			"(conditional writes alone would let all 30 through)", written, limited, len(db.puts))
	}
	if r := call(t, ts, "PUT", "/items/a", `{"x":1}`, "10.0.0.66"); r.status != 429 {
		t.Errorf("PUT from the same client: status %d, want 429 (writes share the limit)", r.status)
	}
	if r := call(t, ts, "POST", "/record", `{"event_id":"e","user_id":"u","event_type":"v"}`, "10.0.0.67"); r.status != 201 {
		t.Errorf("another client: status %d, want 201", r.status)
	}
}

// TestSearchSurvivesRecordPayloads keeps GET /search working after a
// record with a payload object is written: the embedded engine fails
// contains() on a map, so records keep their payload as event_payload.
func TestSearchSurvivesRecordPayloads(t *testing.T) {
	m := newMeteredTable(t, 5)
	ts := newAPI(t, m.db, withoutRateLimit(mustProfile(t, ProfileUnprotected)), newFakeClock())
	rec := `{"event_id":"e-1","user_id":"u-1","event_type":"view","payload":{"page":"/home"}}`
	if r := call(t, ts, "POST", "/record", rec, ""); r.status != 201 {
		t.Fatalf("POST /record: %d %s", r.status, r.body)
	}
	if r := call(t, ts, "GET", "/search?q=seeded", "", ""); r.status != 200 {
		t.Errorf("GET /search after a record with a payload: %d %s, want 200", r.status, r.body)
	}
}
