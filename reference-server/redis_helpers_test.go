package refserver

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// testRedis is a redis-server the test started on a free loopback port.
type testRedis struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{}
}

// startRedis starts redis-server with no persistence, skipping the test
// when the binary is not installed, and stops it when the test ends.
func startRedis(t *testing.T) *testRedis {
	t.Helper()
	redis.SetLogger(quietRedis{}) // dial failures after a kill are the point
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		skipOrFailInCI(t, "redis-server not found; install it to run the Redis tests "+
			"(Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis)")
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	r := &testRedis{addr: fmt.Sprintf("127.0.0.1:%d", port), done: make(chan struct{})}
	r.cmd = exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--protected-mode", "yes")
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("starting redis-server: %v", err)
	}
	go func() { _ = r.cmd.Wait(); close(r.done) }()
	t.Cleanup(r.stop)

	rdb := r.client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for rdb.Ping(ctx).Err() != nil {
		select {
		case <-ctx.Done():
			t.Fatalf("redis-server on %s did not answer PING within 10 s", r.addr)
		case <-r.done:
			t.Fatalf("redis-server on %s exited at start", r.addr)
		case <-tick.C:
		}
	}
	return r
}

// client returns a client for r that fails fast once r is gone.
func (r *testRedis) client(t *testing.T) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{
		Addr: r.addr, DialTimeout: 500 * time.Millisecond, ReadTimeout: time.Second,
		WriteTimeout: time.Second, MaxRetries: -1, PoolSize: 64,
		DialerRetries: 1, DialerRetryTimeout: time.Millisecond,
	})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// stop kills redis-server and waits for it to exit.
func (r *testRedis) stop() {
	if r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	<-r.done
}

// quietRedis drops go-redis's own log lines.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}
