package refserver

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestGetItem(t *testing.T) {
	wantItem0 := map[string]any{
		"id":   "item-0",
		"name": "first",
		"n":    json.Number("12.5"),
		"ok":   true,
		"tags": []any{"a", "b"},
		"meta": map[string]any{"list": []any{json.Number("1"), nil}},
	}

	for _, name := range ProfileNames() {
		t.Run(name, func(t *testing.T) {
			ts := newAPI(t, newBackend(t, nil), mustProfile(t, name), newFakeClock())

			hit := call(t, ts, "GET", "/items/item-0", "", "")
			if hit.status != 200 {
				t.Fatalf("GET item-0: status %d (%s), want 200", hit.status, hit.body)
			}
			if got := hit.json(t); !equalItems(got, wantItem0) {
				t.Errorf("GET item-0 = %v, want %v", got, wantItem0)
			}

			miss := call(t, ts, "GET", "/items/no-such-item", "", "")
			if miss.status != 404 {
				t.Fatalf("GET no-such-item: status %d, want 404", miss.status)
			}
			if got := miss.errorMsg(t); got != "item not found" {
				t.Errorf("GET no-such-item: error %q, want %q", got, "item not found")
			}
		})
	}
}

// equalItems compares items, taking the string set "tags" in any order.
func equalItems(got, want map[string]any) bool {
	if tags, ok := got["tags"].([]any); ok {
		slices.SortFunc(tags, func(a, b any) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	}
	return reflect.DeepEqual(got, want)
}

func TestCacheInFrontOfGetItem(t *testing.T) {
	tests := []struct {
		profile   string
		path      string
		status    int
		advance   time.Duration // between the second and third request
		wantCalls int64         // backend GetItem calls for the three requests
	}{
		{"protected", "/items/item-0", 200, 4 * time.Second, 1},
		{"protected", "/items/item-0", 200, 5 * time.Second, 2},
		{"protected", "/items/missing", 404, 29 * time.Second, 1},
		{"protected", "/items/missing", 404, 30 * time.Second, 2},
		{"unprotected", "/items/item-0", 200, 0, 3},
		{"unprotected", "/items/missing", 404, 0, 3},
	}
	for _, tt := range tests {
		t.Run(tt.profile+tt.path+"/after"+tt.advance.String(), func(t *testing.T) {
			db := &countingDB{DynamoDB: newBackend(t, nil)}
			clock := newFakeClock()
			ts := newAPI(t, db, mustProfile(t, tt.profile), clock)

			var bodies []string
			for i := range 3 {
				if i == 2 {
					clock.Advance(tt.advance)
				}
				r := call(t, ts, "GET", tt.path, "", "")
				if r.status != tt.status {
					t.Fatalf("request %d: status %d, want %d", i, r.status, tt.status)
				}
				bodies = append(bodies, string(r.body))
			}

			if got := db.gets.Load(); got != tt.wantCalls {
				t.Errorf("backend GetItem calls = %d, want %d", got, tt.wantCalls)
			}
			if bodies[0] != bodies[1] || bodies[1] != bodies[2] {
				t.Errorf("bodies differ between cached and fresh answers: %q", bodies)
			}
		})
	}
}

func TestWriteInvalidatesCachedMiss(t *testing.T) {
	ts := newAPI(t, newBackend(t, nil), mustProfile(t, "protected"), newFakeClock())

	if r := call(t, ts, "GET", "/items/ev-1", "", ""); r.status != 404 {
		t.Fatalf("GET before write: status %d, want 404", r.status)
	}
	rec := call(t, ts, "POST", "/record", `{"event_id":"ev-1","user_id":"u","event_type":"click"}`, "")
	if rec.status != 201 {
		t.Fatalf("POST: status %d (%s), want 201", rec.status, rec.body)
	}

	r := call(t, ts, "GET", "/items/ev-1", "", "")
	if r.status != 200 {
		t.Fatalf("GET after write: status %d (%s), want 200 (the cached miss should be dropped)", r.status, r.body)
	}
}

func TestGetItemSendsProfileReadSettings(t *testing.T) {
	item := seedItems[1]
	tests := []struct {
		profile        string
		keyAttribute   string
		wantConsistent bool
		wantKey        string
	}{
		{"unprotected", "", true, "id"},
		{"protected", "", false, "id"},
		{"unprotected", "pk", true, "pk"},
	}
	for _, tt := range tests {
		t.Run(tt.profile+"/"+tt.wantKey, func(t *testing.T) {
			db := &fakeDB{item: item}
			s, err := New(db, Config{Table: testTable, KeyAttribute: tt.keyAttribute,
				Profile: mustProfile(t, tt.profile), Now: newFakeClock().Now})
			if err != nil {
				t.Fatal(err)
			}
			ts := newTestServer(t, s)

			if r := call(t, ts, "GET", "/items/item-1", "", ""); r.status != 200 {
				t.Fatalf("status %d, want 200", r.status)
			}
			if len(db.gets) != 1 {
				t.Fatalf("GetItem calls = %d, want 1", len(db.gets))
			}

			in := db.gets[0]
			if in.ConsistentRead == nil {
				t.Fatal("ConsistentRead not set")
			}
			if got := *in.ConsistentRead; got != tt.wantConsistent {
				t.Errorf("ConsistentRead = %v, want %v", got, tt.wantConsistent)
			}
			if got := aws.ToString(in.TableName); got != testTable {
				t.Errorf("TableName = %q, want %q", got, testTable)
			}
			if _, ok := in.Key[tt.wantKey]; !ok || len(in.Key) != 1 {
				t.Errorf("Key = %v, want only %q", in.Key, tt.wantKey)
			}
		})
	}
}
