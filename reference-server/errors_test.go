package refserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// failingFront answers every data-plane call (GetItem, PutItem) with the
// DynamoDB error code while fail is set, in DynamoDB's wire form, and passes
// the rest to the engine.
func failingFront(code string, status int, fail *atomic.Bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			target := r.Header.Get("X-Amz-Target")
			if fail.Load() && (strings.HasSuffix(target, ".GetItem") || strings.HasSuffix(target, ".PutItem")) {
				w.Header().Set("Content-Type", "application/x-amz-json-1.0")
				w.WriteHeader(status)
				fmt.Fprintf(w, `{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":"slow down"}`, code)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func TestDynamoThrottlingByProfile(t *testing.T) {
	tests := []struct {
		profile, code  string
		want           int
		wantRetryAfter string
	}{
		{"unprotected", "ProvisionedThroughputExceededException", 500, ""},
		{"unprotected", "ThrottlingException", 500, ""},
		{"unprotected", "RequestLimitExceeded", 500, ""},
		{"protected", "ProvisionedThroughputExceededException", 503, "1"},
		{"protected", "ThrottlingException", 503, "1"},
		{"protected", "RequestLimitExceeded", 503, "1"},
	}
	requests := []struct{ method, path, body string }{
		{"GET", "/items/item-0", ""},
		{"POST", "/record", `{"event_id":"e","user_id":"u","event_type":"t"}`},
	}
	for _, tt := range tests {
		for _, req := range requests {
			t.Run(tt.profile+"/"+tt.code+"/"+req.method, func(t *testing.T) {
				var fail atomic.Bool
				db := newBackend(t, failingFront(tt.code, http.StatusBadRequest, &fail))
				ts := newAPI(t, db, mustProfile(t, tt.profile), newFakeClock())
				fail.Store(true)

				r := call(t, ts, req.method, req.path, req.body, "")
				if r.status != tt.want {
					t.Fatalf("status %d (%s), want %d", r.status, r.body, tt.want)
				}
				if got := r.header.Get("Retry-After"); got != tt.wantRetryAfter {
					t.Errorf("Retry-After = %q, want %q", got, tt.wantRetryAfter)
				}
				if msg := r.errorMsg(t); !strings.Contains(msg, tt.code) {
					t.Errorf("error %q does not name %s", msg, tt.code)
				}
			})
		}
	}
}

func TestThrottledReadIsNotCached(t *testing.T) {
	var fail atomic.Bool
	db := newBackend(t, failingFront("ProvisionedThroughputExceededException", http.StatusBadRequest, &fail))
	ts := newAPI(t, db, mustProfile(t, "protected"), newFakeClock())

	fail.Store(true)
	if r := call(t, ts, "GET", "/items/item-0", "", ""); r.status != 503 {
		t.Fatalf("throttled: status %d, want 503", r.status)
	}
	fail.Store(false)
	if r := call(t, ts, "GET", "/items/item-0", "", ""); r.status != 200 {
		t.Errorf("after throttling ends: status %d, want 200", r.status)
	}
}

func TestOtherDynamoErrors(t *testing.T) {
	tests := []struct {
		name, code string
		status     int
	}{
		{"validation", "ValidationException", http.StatusBadRequest},
		{"missing table", "ResourceNotFoundException", http.StatusBadRequest},
		{"internal", "InternalServerError", http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fail atomic.Bool
			db := newBackend(t, failingFront(tt.code, tt.status, &fail))
			ts := newAPI(t, db, mustProfile(t, "protected"), newFakeClock())
			fail.Store(true)

			r := call(t, ts, "GET", "/items/item-0", "", "")
			if r.status != http.StatusBadGateway {
				t.Fatalf("status %d (%s), want 502", r.status, r.body)
			}
			if msg := r.errorMsg(t); !strings.Contains(msg, tt.code) {
				t.Errorf("error %q does not name %s", msg, tt.code)
			}
		})
	}
}

func TestUnreachableAndTimedOutDynamo(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"transport", errors.New("dial tcp 127.0.0.1:1: connection refused"), http.StatusBadGateway},
		{"deadline", fmt.Errorf("operation error: %w", context.DeadlineExceeded), http.StatusGatewayTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newAPI(t, &fakeDB{err: tt.err}, mustProfile(t, "unprotected"), newFakeClock())

			r := call(t, ts, "GET", "/items/x", "", "")
			if r.status != tt.want {
				t.Fatalf("status %d (%s), want %d", r.status, r.body, tt.want)
			}
			r.errorMsg(t)
		})
	}
}

func TestPanicBecomes500(t *testing.T) {
	ts := newAPI(t, &fakeDB{panics: true}, mustProfile(t, "unprotected"), newFakeClock())

	for _, req := range []struct{ method, path, body string }{
		{"GET", "/items/x", ""},
		{"POST", "/record", `{"event_id":"e","user_id":"u","event_type":"t"}`},
	} {
		r := call(t, ts, req.method, req.path, req.body, "")
		if r.status != 500 {
			t.Fatalf("%s %s: status %d, want 500", req.method, req.path, r.status)
		}
		if msg := r.errorMsg(t); msg != "internal error" {
			t.Errorf("%s %s: error %q, want %q", req.method, req.path, msg, "internal error")
		}
	}

	if r := call(t, ts, "GET", "/healthz", "", ""); r.status != 200 {
		t.Errorf("after panics: /healthz status %d, want 200", r.status)
	}
}
