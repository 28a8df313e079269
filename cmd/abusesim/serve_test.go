package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/truora/minidyn/server"

	"github.com/abusesim/abusesim/capacity"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeCreatesTableAndServes(t *testing.T) {
	ddb := httptest.NewServer(capacity.NewEndpoint(capacity.EndpointConfig{Backend: server.NewServer()}))
	defer ddb.Close()

	var stderr syncBuffer
	ready := make(chan string, 1)
	opts := &serveOptions{
		profile: "protected", addr: "127.0.0.1:0", table: "Items", endpoint: ddb.URL, createTable: true,
		stdout: io.Discard, stderr: &stderr, ready: func(a string) { ready <- a },
	}
	base, stop := startServe(t, opts, ready, &stderr)

	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/items/item-000001"); code != 200 || !strings.Contains(body, `"user_id":"u-1"`) {
		t.Errorf("GET a seeded item: %d %s", code, body)
	}
	code, body := get("/users/u-1/items?limit=3")
	var page struct{ Items []map[string]any }
	if err := json.Unmarshal([]byte(body), &page); code != 200 || err != nil || len(page.Items) != 3 {
		t.Errorf("GET /users/u-1/items?limit=3: %d %s", code, body)
	}
	if code, body := get("/metrics"); code != 200 ||
		!strings.Contains(body, `abusesim_dynamodb_calls_total{op="Query"} 1`) {
		t.Errorf("GET /metrics: %d\n%s", code, body)
	}

	stop()
	if !strings.Contains(stderr.String(), "created table Items") {
		t.Errorf("stderr does not say the table was created:\n%s", stderr.String())
	}
}

func TestServeCLIErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(bad, []byte("name: x\ncache: {ttl: 1s}\nrate_limt: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"unknown profile", []string{"serve", "--profile", "paranoid", "--aws"}, exitUsage, "unprotected, seed, protected"},
		{"profile and config", []string{"serve", "--profile", "seed", "--config", bad, "--aws"}, exitUsage, "give one"},
		{"bad config names the field", []string{"serve", "--config", bad, "--dynamodb-endpoint", "http://127.0.0.1:1"},
			exitError, "rate_limt"},
		{"missing config", []string{"serve", "--config", filepath.Join(dir, "none.yaml"), "--dynamodb-endpoint",
			"http://127.0.0.1:1"}, exitError, "none.yaml"},
		{"bad redis url", []string{"serve", "--redis", "http://x", "--dynamodb-endpoint", "http://127.0.0.1:1"},
			exitUsage, "--redis"},
		{"seed needs redis", []string{"serve", "--profile", "seed", "--dynamodb-endpoint", "http://127.0.0.1:1"},
			exitUsage, "profile seed keeps its rate limiter in Redis: give --redis"},
		{"stray argument", []string{"serve", "extra"}, exitUsage, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.wantCode, tt.wantErr)
			}
		})
	}
}

// TestServeSeedWithRedis runs the seed profile as a user would, with its
// Redis: a redis-server the test starts on a free loopback port.
func TestServeSeedWithRedis(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		skipOrFailInCI(t, "redis-server not found; install it to run this test (apt-get install -y redis-server)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	redisCmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := redisCmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = redisCmd.Process.Kill(); _ = redisCmd.Wait() }()
	redisAddr := "127.0.0.1:" + strconv.Itoa(port)
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.DialTimeout("tcp", redisAddr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not accept connections within 10 s", redisAddr)
		}
		time.Sleep(20 * time.Millisecond) // polling for the port to open
	}

	ddb := httptest.NewServer(capacity.NewEndpoint(capacity.EndpointConfig{Backend: server.NewServer()}))
	defer ddb.Close()
	var stderr syncBuffer
	ready := make(chan string, 1)
	opts := &serveOptions{
		profile: "seed", addr: "127.0.0.1:0", table: "Items", endpoint: ddb.URL, createTable: true,
		redisURL: "redis://" + redisAddr + "/0",
		stdout:   io.Discard, stderr: &stderr, ready: func(a string) { ready <- a },
	}
	base, stop := startServe(t, opts, ready, &stderr)

	codes := map[int]int{}
	for range 70 {
		resp, err := http.Get(base + "/items/item-000001")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes[resp.StatusCode]++
	}
	if codes[200] != 60 || codes[429] != 10 {
		t.Errorf("70 sequential reads under the seed profile: %v, want 60 answered and 10 refused "+
			"(60 per 60 s in Redis)\n%s", codes, stderr.String())
	}
	stop()
}

// noNetwork is a dialer and a listener that record every attempt and make
// none.
type noNetwork struct {
	mu      sync.Mutex
	dials   []string
	listens []string
	onDial  func() // called after recording a dial, when set
}

func (n *noNetwork) dial(_ context.Context, network, addr string) (net.Conn, error) {
	n.mu.Lock()
	n.dials = append(n.dials, network+" "+addr)
	n.mu.Unlock()
	if n.onDial != nil {
		n.onDial()
	}
	return nil, errors.New("test: no network")
}

func (n *noNetwork) listen(network, addr string) (net.Listener, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.listens = append(n.listens, network+" "+addr)
	return nil, errors.New("test: no network")
}

func (n *noNetwork) attempts() (dials, listens []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.dials), slices.Clone(n.listens)
}

// runServeCmd runs the serve command with args, its network replaced by
// nn, and returns its exit code and stderr.
func runServeCmd(t *testing.T, ctx context.Context, nn *noNetwork, args ...string) (int, string) {
	t.Helper()
	var stderr syncBuffer
	cmd := newServeCmdWith(&serveOptions{stdout: io.Discard, stderr: &stderr, dial: nn.dial, listen: nn.listen})
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(ctx)
	return exitCode(ctx, &stderr, err), stderr.String()
}

// TestServeRefusesNonLoopbackBeforeAnyConnection checks that an address off
// loopback is a usage error before serve dials or listens anything. The
// network is replaced, so nothing is ever attempted for real.
func TestServeRefusesNonLoopbackBeforeAnyConnection(t *testing.T) {
	local := []string{"--dynamodb-endpoint", "http://127.0.0.1:1"}
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"dynamodb endpoint", []string{"--dynamodb-endpoint", "http://192.0.2.1:8000", "--create-table"},
			`--dynamodb-endpoint "http://192.0.2.1:8000" is not on loopback; add --allow-non-loopback`},
		{"dynamodb endpoint by name", []string{"--dynamodb-endpoint", "https://dynamodb.us-east-1.amazonaws.com"},
			"is not on loopback"},
		{"dynamodb endpoint not a URL", []string{"--dynamodb-endpoint", "192.0.2.1:8000"},
			"want a URL like http://127.0.0.1:8000"},
		{"all interfaces", append([]string{"--addr", "0.0.0.0:8080"}, local...),
			`--addr "0.0.0.0:8080" is not a loopback address; add --allow-non-loopback`},
		{"no host", append([]string{"--addr", ":8080"}, local...), "is not a loopback address"},
		{"addr without port", append([]string{"--addr", "127.0.0.1"}, local...), "want host:port"},
		{"redis", append([]string{"--profile", "seed", "--redis", "redis://:secret@192.0.2.1:6379/0"}, local...),
			`--redis: host "192.0.2.1" is not on loopback; add --allow-non-loopback`},
		{"redis ipv6", append([]string{"--profile", "seed", "--redis", "redis://[2001:db8::1]:6379"}, local...),
			`host "2001:db8::1" is not on loopback`},
		{"no table named", nil, "give --dynamodb-endpoint URL"},
		{"both", append([]string{"--aws"}, local...), "not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nn := &noNetwork{}
			code, stderr := runServeCmd(t, context.Background(), nn, tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, exitUsage, tt.wantErr)
			}
			if strings.Contains(stderr, "secret") {
				t.Errorf("stderr %q shows the Redis password", stderr)
			}
			if dials, listens := nn.attempts(); len(dials) != 0 || len(listens) != 0 {
				t.Errorf("dialled %v and listened on %v before refusing", dials, listens)
			}
		})
	}
}

// TestServeAllowNonLoopback checks that --allow-non-loopback lets each
// address through to the (replaced) network, which also shows the refusals
// above would have been seen there.
func TestServeAllowNonLoopback(t *testing.T) {
	allow := "--allow-non-loopback"
	t.Run("addr", func(t *testing.T) {
		nn := &noNetwork{}
		code, stderr := runServeCmd(t, context.Background(), nn,
			allow, "--addr", "0.0.0.0:8080", "--dynamodb-endpoint", "http://192.0.2.1:8000")
		if _, listens := nn.attempts(); code != exitError || !slices.Equal(listens, []string{"tcp 0.0.0.0:8080"}) {
			t.Errorf("exit %d, listened on %v (stderr %q); want exit %d after listening on tcp 0.0.0.0:8080",
				code, listens, stderr, exitError)
		}
	})
	t.Run("dynamodb endpoint", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		nn := &noNetwork{onDial: cancel} // the SDK retries until the context ends
		runServeCmd(t, ctx, nn, allow, "--dynamodb-endpoint", "http://192.0.2.1:8000", "--create-table")
		if dials, _ := nn.attempts(); len(dials) == 0 || dials[0] != "tcp 192.0.2.1:8000" {
			t.Errorf("dials %v, want tcp 192.0.2.1:8000 first", dials)
		}
	})
	t.Run("redis", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		nn := &noNetwork{onDial: cancel}
		runServeCmd(t, ctx, nn, allow, "--profile", "seed", "--redis", "redis://192.0.2.1:6379/0",
			"--dynamodb-endpoint", "http://127.0.0.1:1")
		if dials, _ := nn.attempts(); len(dials) == 0 || dials[0] != "tcp 192.0.2.1:6379" {
			t.Errorf("dials %v, want tcp 192.0.2.1:6379 first", dials)
		}
	})
}

// startServe runs serve with opts until stop, which checks it ended
// cleanly; it returns the base URL once serve listens. ready must be the
// channel opts.ready sends its address on.
func startServe(t *testing.T, opts *serveOptions, ready <-chan string, stderr fmt.Stringer) (base string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, opts) }()
	select {
	case a := <-ready:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("serve stopped at start: %v\n%s", err, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start within 30 s")
	}
	return base, func() {
		t.Helper()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve after cancel: %v", err)
		}
	}
}
