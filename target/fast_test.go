package target

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestReadResponse(t *testing.T) {
	tests := []struct {
		name       string
		raw        string
		code       int
		retryAfter string
		keep       bool
		wantErr    bool
	}{
		{"content length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, "", true, false},
		{"chunked with trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n", 200, "", true, false},
		{"retry after, close", "HTTP/1.1 429 Too Many\r\nRetry-After: 2\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 429, "2", false, false},
		{"HTTP/1.0", "HTTP/1.0 503 Unavailable\r\nContent-Length: 0\r\n\r\n", 503, "", false, false},
		{"no length reads to close", "HTTP/1.1 200 OK\r\n\r\nbody", 200, "", false, false},
		{"no content", "HTTP/1.1 204 No Content\r\n\r\n", 204, "", true, false},
		{"garbage", "SSH-2.0-OpenSSH\r\n\r\n", 0, "", false, true},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n", 0, "", false, true},
		{"bad chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0, "", false, true},
		{"truncated", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0, "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, ra, keep, err := readResponse(bufio.NewReader(strings.NewReader(tt.raw)), false)
			if (err != nil) != tt.wantErr || code != tt.code || ra != tt.retryAfter || keep != tt.keep {
				t.Errorf("got %d %q keep=%v err=%v; want %d %q keep=%v err=%v",
					code, ra, keep, err, tt.code, tt.retryAfter, tt.keep, tt.wantErr)
			}
		})
	}
}

// The fast path sends what net/http sends: same method, path, body and
// headers, in the same precedence.
func TestFastPathMatchesNetHTTP(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		seen []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := make([]byte, 64)
		n, _ := r.Body.Read(body)
		mu.Lock()
		seen = append(seen, strings.Join([]string{r.Proto, r.Method, r.URL.RequestURI(), string(body[:n]),
			r.UserAgent(), r.Header.Get("Content-Type"), r.Header.Get("X-Class"), r.Header.Get("X-Req"),
			r.Header.Get("X-Forwarded-For"), r.Header.Get("X-Api-Key")}, "|"))
		mu.Unlock()
		w.Header().Set("Transfer-Encoding", "chunked")
		w.Write([]byte(strings.Repeat("x", 5000)))
	}))
	defer srv.Close()

	run := func(std bool) []string {
		mu.Lock()
		seen = nil
		mu.Unlock()
		res := mustRun(t, context.Background(), Config{
			BaseURL: srv.URL, Duration: 200 * time.Millisecond, Seed: 9, StdClient: std,
			Classes: []Class{{
				Name: "c", Phases: constant(time.Second, 50), Headers: map[string]string{"X-Class": "a", "x-req": "class"},
				Mix: []Request{{Name: "p", Weight: 1, Method: "POST", Path: MustParseTemplate("/r/{{seq}}?q=1"),
					Body: MustParseTemplate(`{"n":{{seq}}}`), Headers: map[string]string{"X-Req": "lit"},
					HeaderTemplates: map[string]*Template{"X-Req": MustParseTemplate("t{{seq}}")}}},
				Identities: &Identities{ForwardedFor: []string{"192.0.2.1"}, APIKeys: []string{"k"}, UserAgents: []string{"ua"}},
			}},
		})
		if c := res.Classes[0]; c.OK != 10 {
			t.Fatalf("std=%v: ok %d errors %d, want 10 answered", std, c.OK, c.Errors)
		}
		mu.Lock()
		defer mu.Unlock()
		return slices.Sorted(slices.Values(seen))
	}
	std, fast := run(true), run(false)
	if !slices.Equal(std, fast) {
		t.Errorf("net/http sent\n%s\nthe fast path sent\n%s", strings.Join(std, "\n"), strings.Join(fast, "\n"))
	}
}

func TestHTTP2OverTLS(t *testing.T) {
	t.Parallel()
	var (
		mu     sync.Mutex
		protos = map[string]int{}
	)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		protos[r.Proto]++
		mu.Unlock()
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()

	res := mustRun(t, context.Background(), Config{
		BaseURL: srv.URL, Duration: 200 * time.Millisecond,
		Classes: []Class{{Name: "h2", Phases: constant(time.Second, 50), Mix: []Request{get("/", 1)},
			Protocol: ProtocolH2, InsecureTLS: true}},
	})
	mu.Lock()
	defer mu.Unlock()
	if res.Classes[0].OK != 10 || protos["HTTP/2.0"] != 10 {
		t.Errorf("ok %d, server saw %v; want 10 over HTTP/2.0", res.Classes[0].OK, protos)
	}
}
