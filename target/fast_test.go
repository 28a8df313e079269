package target

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The fast client reads status and Retry-After from every framing a
// server may use, discards the body, and keeps the connection only when
// the answer allows it.
func TestFastClientResponses(t *testing.T) {
	t.Parallel()
	big := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", 2*maxDrainBytes, strings.Repeat("x", 2*maxDrainBytes))
	tests := []struct {
		name       string
		raw        string
		close      bool // the server closes after answering
		code       int  // 0: a transport error
		retryAfter string
		keep       bool // the second request reuses the connection
	}{
		{"content length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, 200, "", true},
		{"chunked with trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: T\r\n\r\n5\r\nhello\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n", false, 200, "", true},
		{"no content", "HTTP/1.1 204 No Content\r\n\r\n", false, 204, "", true},
		{"retry after, close", "HTTP/1.1 429 Too Many\r\nRetry-After: 2\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", true, 429, "2", false},
		{"HTTP/1.0", "HTTP/1.0 503 Unavailable\r\nContent-Length: 0\r\n\r\n", true, 503, "", false},
		{"no length reads to close", "HTTP/1.1 200 OK\r\n\r\nbody", true, 200, "", false},
		{"body over the drain limit", big, false, 200, "", false},
		{"garbage", "SSH-2.0-OpenSSH\r\n\r\n", true, 0, "", false},
		{"bad chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", true, 0, "", false},
		{"truncated", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true, 0, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr, conns := rawServer(t, tt.raw, tt.close)
			cfg := Config{BaseURL: "http://" + addr, Duration: time.Second, Classes: []Class{{
				Name: "c", Phases: constant(time.Second, 1), Mix: []Request{get("/", 1)}, Timeout: 5 * time.Second,
			}}}
			cr := newClassRun(&cfg, 0, "http://"+addr, addr, slog.New(slog.DiscardHandler))
			if !cr.fast {
				t.Fatal("class does not use the fast client")
			}
			defer cr.fclient.closeAll()
			w := newWorker()
			for i := range 2 {
				ctx, cancel := context.WithTimeout(context.Background(), cfg.Classes[0].Timeout)
				code, ra, err := cr.sendFast(ctx, w, &cfg.Classes[0].Mix[0], &TemplateContext{Rand: w.rand},
					identity{source: -1, xff: -1, apiKey: -1, agent: -1})
				cancel()
				if (err != nil) != (tt.code == 0) || code != tt.code || ra != tt.retryAfter {
					t.Fatalf("request %d: got %d %q err=%v; want %d %q", i, code, ra, err, tt.code, tt.retryAfter)
				}
			}
			if want := map[bool]int64{true: 1, false: 2}[tt.keep]; tt.code != 0 && conns.Load() != want {
				t.Errorf("two requests took %d connections, want %d", conns.Load(), want)
			}
		})
	}
}

// rawServer answers every request on loopback with raw, closing the
// connection after each answer if close is set, and counts connections.
func rawServer(t *testing.T, raw string, close bool) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		conns atomic.Int64
		wg    sync.WaitGroup
	)
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			wg.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				r := bufio.NewReader(c)
				for {
					for { // the request head; the client sends no body
						line, err := r.ReadString('\n')
						if err != nil {
							return
						}
						if line == "\r\n" {
							break
						}
					}
					if _, err := c.Write([]byte(raw)); err != nil || close {
						return
					}
				}
			})
		}
	})
	return ln.Addr().String(), &conns
}

// The fast client sends what net/http sends: the same method, path, body
// and headers, in the same precedence, with keep-alive on and off.
func TestFastPathMatchesNetHTTP(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		seen []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := make([]byte, 64)
		n, _ := r.Body.Read(body)
		var hdr []string
		for k, v := range r.Header {
			hdr = append(hdr, k+": "+strings.Join(v, ", "))
		}
		slices.Sort(hdr)
		mu.Lock()
		seen = append(seen, fmt.Sprintf("%s %s %s host=%s length=%d te=%v close=%v body=%q %s",
			r.Proto, r.Method, r.RequestURI, r.Host, r.ContentLength, r.TransferEncoding, r.Close,
			body[:n], strings.Join(hdr, " | ")))
		mu.Unlock()
		w.Header().Set("Transfer-Encoding", "chunked")
		w.Write([]byte(strings.Repeat("x", 5000)))
	}))
	defer srv.Close()

	ids := &Identities{ForwardedFor: []string{"192.0.2.1"}, APIKeys: []string{"k"}, UserAgents: []string{"ua"}}
	class := func(name, method string, body *Template, closeConns bool) Class {
		return Class{
			Name: name, Phases: constant(time.Second, 25), DisableKeepAlive: closeConns,
			Headers: map[string]string{"X-Class": name, "x-req": "class"},
			Mix: []Request{{Name: "p", Weight: 1, Method: method, Path: MustParseTemplate("/r/{{seq}}?q=1&b=%2F"),
				Body: body, Headers: map[string]string{"X-Req": "lit", "accept-encoding": "br"},
				HeaderTemplates: map[string]*Template{"X-Req": MustParseTemplate("t{{seq}}")}}},
			Identities: ids,
		}
	}
	json := MustParseTemplate(`{"n":{{seq}}}`)
	run := func(std bool) []string {
		mu.Lock()
		seen = nil
		mu.Unlock()
		res := mustRun(t, context.Background(), Config{
			BaseURL: srv.URL, Duration: 200 * time.Millisecond, Seed: 9, StdClient: std,
			Classes: []Class{
				class("post", "POST", json, false),
				class("post-close", "POST", json, true),
				class("get", "GET", nil, false),
				class("put-empty", "PUT", nil, false),
				{Name: "plain", Phases: constant(time.Second, 25), Mix: []Request{get("/plain", 1)}},
			},
		})
		for _, c := range res.Classes {
			if c.OK != 5 {
				t.Fatalf("std=%v, class %s: ok %d errors %d, want 5 answered", std, c.Name, c.OK, c.Errors)
			}
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
