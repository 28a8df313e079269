package refserver

import (
	"strings"
	"testing"
)

func TestPutItemUpdatesAndInvalidatesCache(t *testing.T) {
	ts := newAPI(t, newBackend(t, nil), withoutRateLimit(mustProfile(t, ProfileProtected)), newFakeClock())

	if r := call(t, ts, "GET", "/items/item-1", "", ""); r.status != 200 || r.json(t)["color"] != nil {
		t.Fatalf("before: %d %s", r.status, r.body)
	}
	r := call(t, ts, "PUT", "/items/item-1", `{"color":"red","n":2,"tags":["a"],"meta":{"k":null}}`, "")
	if r.status != 200 {
		t.Fatalf("PUT: %d %s", r.status, r.body)
	}
	got := r.json(t)
	if got["color"] != "red" || got["name"] != "second" || got["id"] != "item-1" {
		t.Errorf("PUT answered %v, want the whole item after the update", got)
	}
	if r := call(t, ts, "GET", "/items/item-1", "", ""); r.json(t)["color"] != "red" {
		t.Errorf("GET after PUT served the cached old item: %s", r.body)
	}
	if r := call(t, ts, "PUT", "/items/new-1", `{"color":"blue"}`, ""); r.status != 200 {
		t.Errorf("PUT of a new id: %d %s, want 200 (UpdateItem creates it)", r.status, r.body)
	}
}

func TestPutItemRefusesBadBodies(t *testing.T) {
	db := &fakeDB{}
	ts := newAPI(t, db, mustProfile(t, ProfileUnprotected), newFakeClock())
	tests := []struct{ body, want string }{
		{``, "empty"},
		{`{}`, "sets no attributes"},
		{`[1]`, "want an object"},
		{`{"id":"other"}`, "the item's key"},
		{`{"a":1e400}`, "out of DynamoDB's range"},
		{`{"":1}`, "attribute name"},
		{`{"a":1`, "malformed JSON"},
		{`{"a":1} {"b":2}`, "data after the object"},
		{`{"a\u0001":1}`, "unprintable"},
		{`{"payload":5}`, `"payload" must be a string`},
		{`{"payload":{"n":1}}`, `"payload" must be a string`},
		{`{"user_id":7}`, `"user_id" must be a string`},
	}
	for _, tt := range tests {
		r := call(t, ts, "PUT", "/items/x", tt.body, "")
		if r.status != 400 || !strings.Contains(r.errorMsg(t), tt.want) {
			t.Errorf("PUT %q: %d %s, want 400 containing %q", tt.body, r.status, r.body, tt.want)
		}
	}
	big := `{"a":"` + strings.Repeat("x", int(DefaultMaxBodyBytes)) + `"}`
	if r := call(t, ts, "PUT", "/items/x", big, ""); r.status != 413 {
		t.Errorf("oversized PUT: %d, want 413", r.status)
	}
	if len(db.updates) != 0 {
		t.Errorf("%d UpdateItems sent for bad bodies, want 0", len(db.updates))
	}
}
