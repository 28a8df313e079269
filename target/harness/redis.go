package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	refserver "github.com/abusesim/abusesim/reference-server"
)

// needsRedis reports whether a profile keeps its limiter state in Redis.
func needsRedis(p refserver.Profile) bool {
	return p.RateLimit != nil && p.RateLimit.Store == refserver.StoreRedis
}

// errNoRedisServer says how to give a Redis-backed profile its Redis.
var errNoRedisServer = errors.New("redis-server is not installed: install it " +
	"(Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) " +
	"or pass --redis redis://127.0.0.1:6379/0")

// privateRedis is a redis-server the harness started for one profile, on a
// free loopback port, with no persistence, so each profile starts with
// empty limiter state and nothing is left on disk.
type privateRedis struct {
	cmd    *exec.Cmd
	client *redis.Client
}

func startPrivateRedis(ctx context.Context) (*privateRedis, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errNoRedisServer
	}
	port, err := freeLoopbackPort()
	if err != nil {
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(port),
		"--save", "", "--appendonly", "no", "--protected-mode", "yes")
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	r := &privateRedis{cmd: cmd, client: redis.NewClient(&redis.Options{
		Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
	})}

	// Wait until it answers: it usually takes a few milliseconds.
	deadline := time.Now().Add(5 * time.Second)
	for {
		pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		err := r.client.Ping(pctx).Err()
		cancel()
		if err == nil {
			return r, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			r.close()
			return nil, fmt.Errorf("start redis-server on port %d: not answering: %w", port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *privateRedis) close() {
	r.client.Close()
	r.cmd.Process.Kill()
	r.cmd.Wait()
}

// freeLoopbackPort asks the kernel for a free port on 127.0.0.1.
func freeLoopbackPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
