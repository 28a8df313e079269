package refserver

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestRecordReplay(t *testing.T) {
	tests := []struct {
		profile        string
		wantReplay     int
		wantReplayBody map[string]any
		wantUser       string // stored after the replay
	}{
		{"protected", 200, map[string]any{"skipped": true, "reason": "already_exists"}, "u-1"},
		{"unprotected", 201, map[string]any{"written": true}, "u-2"},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			clock := newFakeClock()
			ts := newAPI(t, newBackend(t, nil), mustProfile(t, tt.profile), clock)
			first := `{"event_id":"ev-1","user_id":"u-1","event_type":"click",` +
				`"payload":{"page":"/home","n":3,"tags":["x",true,null],"deep":{"k":1.5}}}`

			r := call(t, ts, "POST", "/record", first, "")
			if r.status != 201 {
				t.Fatalf("first write: status %d (%s), want 201", r.status, r.body)
			}
			if got, want := r.json(t), map[string]any{"written": true}; !reflect.DeepEqual(got, want) {
				t.Errorf("first write: body %v, want %v", got, want)
			}

			clock.Advance(time.Minute)
			replay := strings.Replace(first, `"u-1"`, `"u-2"`, 1)
			r = call(t, ts, "POST", "/record", replay, "")
			if r.status != tt.wantReplay {
				t.Fatalf("replay: status %d (%s), want %d", r.status, r.body, tt.wantReplay)
			}
			if got := r.json(t); !reflect.DeepEqual(got, tt.wantReplayBody) {
				t.Errorf("replay: body %v, want %v", got, tt.wantReplayBody)
			}

			clock.Advance(time.Minute) // past the protected cache's TTL
			got := call(t, ts, "GET", "/items/ev-1", "", "")
			if got.status != 200 {
				t.Fatalf("GET ev-1: status %d, want 200", got.status)
			}
			item := got.json(t)
			if item["user_id"] != tt.wantUser {
				t.Errorf("stored user_id = %v, want %v", item["user_id"], tt.wantUser)
			}
			wantPayload := map[string]any{
				"page": "/home", "n": json.Number("3"),
				"tags": []any{"x", true, nil}, "deep": map[string]any{"k": json.Number("1.5")},
			}
			if !reflect.DeepEqual(item["event_payload"], wantPayload) {
				t.Errorf("stored payload = %v, want %v", item["event_payload"], wantPayload)
			}
			for _, attr := range []string{"id", "event_id"} {
				if item[attr] != "ev-1" {
					t.Errorf("stored %s = %v, want ev-1", attr, item[attr])
				}
			}
			if item["event_type"] != "click" {
				t.Errorf("stored event_type = %v, want click", item["event_type"])
			}
			if _, err := time.Parse(time.RFC3339Nano, fmt.Sprint(item["received_at"])); err != nil {
				t.Errorf("stored received_at %v: %v", item["received_at"], err)
			}
		})
	}
}

func TestRecordSendsProfileWriteSettings(t *testing.T) {
	tests := []struct {
		profile       string
		wantCondition string
	}{
		{"unprotected", ""},
		{"protected", "attribute_not_exists(event_id)"},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			db := &fakeDB{}
			clock := newFakeClock()
			ts := newAPI(t, db, mustProfile(t, tt.profile), clock)

			r := call(t, ts, "POST", "/record", `{"event_id":"e","user_id":"u","event_type":"t"}`, "")
			if r.status != 201 {
				t.Fatalf("status %d (%s), want 201", r.status, r.body)
			}
			if len(db.puts) != 1 {
				t.Fatalf("PutItem calls = %d, want 1", len(db.puts))
			}

			in := db.puts[0]
			if got := aws.ToString(in.ConditionExpression); got != tt.wantCondition {
				t.Errorf("ConditionExpression = %q, want %q", got, tt.wantCondition)
			}
			got, err := itemToJSON(in.Item)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]any{
				"id": "e", "event_id": "e", "user_id": "u", "event_type": "t", "payload": "",
				"received_at": clock.Now().Format(time.RFC3339Nano),
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("item = %v, want %v", got, want)
			}
		})
	}
}

func TestBadInputsNever5xx(t *testing.T) {
	valid := func(override string) string {
		return `{"event_id":"e-1","user_id":"u-1","event_type":"click"` + override + `}`
	}
	long := strings.Repeat("x", 256)
	tests := []struct {
		name, method, path, body string
		want                     int
		wantMsg                  string // in the error message
	}{
		{"malformed JSON", "POST", "/record", `{"event_id":`, 400, "malformed JSON"},
		{"not JSON", "POST", "/record", `hello`, 400, "malformed JSON"},
		{"empty body", "POST", "/record", ``, 400, "empty"},
		{"array body", "POST", "/record", `[1,2]`, 400, "want an object"},
		{"null body", "POST", "/record", `null`, 400, "null"},
		{"trailing data", "POST", "/record", valid("") + `{}`, 400, "data after"},
		{"missing event_id", "POST", "/record", `{"user_id":"u","event_type":"t"}`, 400, `missing field "event_id"`},
		{"missing user_id", "POST", "/record", `{"event_id":"e","event_type":"t"}`, 400, `missing field "user_id"`},
		{"missing event_type", "POST", "/record", `{"event_id":"e","user_id":"u"}`, 400, `"event_type"`},
		{"event_id number", "POST", "/record", `{"event_id":7,"user_id":"u","event_type":"t"}`, 400,
			`"event_id" must be a string, got a number`},
		{"event_id null", "POST", "/record", `{"event_id":null,"user_id":"u","event_type":"t"}`, 400,
			"got null"},
		{"empty event_id", "POST", "/record", `{"event_id":"","user_id":"u","event_type":"t"}`, 400, "empty"},
		{"long event_id", "POST", "/record", `{"event_id":"` + long + `","user_id":"u","event_type":"t"}`, 400,
			"more than 255"},
		{"control char", "POST", "/record", `{"event_id":"a\u0007b","user_id":"u","event_type":"t"}`, 400,
			"unprintable"},
		{"long event_type", "POST", "/record",
			`{"event_id":"e","user_id":"u","event_type":"` + long[:65] + `"}`, 400, "more than 64"},
		{"unknown field", "POST", "/record", valid(`,"admin":true`), 400, `unknown field "admin"`},
		{"case-folded field", "POST", "/record", `{"Event_ID":"e","user_id":"u","event_type":"t"}`, 400,
			`unknown field "Event_ID"`},
		{"payload array", "POST", "/record", valid(`,"payload":[1]`), 400, "must be an object"},
		{"payload string", "POST", "/record", valid(`,"payload":"x"`), 400, "must be an object"},
		{"payload huge number", "POST", "/record", valid(`,"payload":{"n":1e300}`), 400, "out of DynamoDB's range"},
		{"payload precise number", "POST", "/record", valid(`,"payload":{"n":1234567890123456789012345678901234567890}`),
			400, "significant digits"},
		{"payload too deep", "POST", "/record", valid(`,"payload":` + strings.Repeat(`{"a":`, 40) + `1` +
			strings.Repeat(`}`, 40)), 400, "nested deeper"},
		{"payload empty key", "POST", "/record", valid(`,"payload":{"":1}`), 400, "empty key"},
		{"oversized body", "POST", "/record", valid(`,"payload":{"p":"` + strings.Repeat("x", 70<<10) + `"}`), 413,
			"exceeds 65536 bytes"},
		{"bad id in path", "GET", "/items/a%07b", "", 400, "unprintable"},
		{"long id in path", "GET", "/items/" + long, "", 400, "more than 255"},
		{"unknown route", "GET", "/nope", "", 404, "no route"},
		{"items without id", "GET", "/items/", "", 404, "no route"},
		{"wrong method on record", "GET", "/record", "", 405, "not allowed"},
		{"wrong method on items", "DELETE", "/items/x", "", 405, "not allowed"},
	}

	for _, name := range ProfileNames() {
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				db := &fakeDB{}
				ts := newAPI(t, db, mustProfile(t, name), newFakeClock())

				r := call(t, ts, tt.method, tt.path, tt.body, "")
				if r.status != tt.want {
					t.Fatalf("status %d (%s), want %d", r.status, r.body, tt.want)
				}
				if msg := r.errorMsg(t); !strings.Contains(msg, tt.wantMsg) {
					t.Errorf("error %q does not contain %q", msg, tt.wantMsg)
				}
				if len(db.puts) != 0 {
					t.Errorf("a bad request reached PutItem")
				}
			})
		}
	}
}

func TestMethodNotAllowedKeepsAllow(t *testing.T) {
	ts := newAPI(t, &fakeDB{}, mustProfile(t, "unprotected"), newFakeClock())

	r := call(t, ts, "PUT", "/record", "", "")
	if r.status != 405 {
		t.Fatalf("status %d, want 405", r.status)
	}
	if got := r.header.Get("Allow"); got != "POST" {
		t.Errorf("Allow = %q, want %q", got, "POST")
	}
}
