package refserver

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// maxAPIKeyBytes caps an API key; longer ones are treated as absent.
const maxAPIKeyBytes = 128

// limiter applies a RateLimit: it names the request's principal, picks the
// limit of its route and class, and asks the store, falling back on store
// errors as the RateLimit says. Safe for concurrent use.
type limiter struct {
	rl       RateLimit
	proxies  []netip.Prefix
	apiKeys  map[string]bool // nil: any key
	ipHeader string
	store    limitStore
	local    limitStore // FailLocal's fallback; nil otherwise
	metrics  *metrics
	log      *slog.Logger
}

func newLimiter(rl RateLimit, rdb redis.UniversalClient, ipHeader string, m *metrics,
	log *slog.Logger) (*limiter, error) {
	proxies, err := parsePrefixes(rl.TrustedProxies)
	if err != nil {
		return nil, err
	}
	l := &limiter{rl: rl, proxies: proxies, ipHeader: ipHeader, metrics: m, log: log}
	if len(rl.APIKeys) > 0 {
		l.apiKeys = make(map[string]bool, len(rl.APIKeys))
		for _, k := range rl.APIKeys {
			l.apiKeys[k] = true
		}
	}

	switch rl.Store {
	case StoreRedis:
		if rdb == nil {
			return nil, fmt.Errorf("store %q needs a Redis client (Config.Redis, abusesim serve --redis)", StoreRedis)
		}
		l.store = newRedisStore(rl.Algorithm, rdb)
	default:
		l.store = newMemStore(rl.Algorithm, rl.MaxKeys)
	}
	if rl.OnStoreError == FailLocal {
		l.local = newMemStore(rl.Algorithm, rl.MaxKeys)
	}
	return l, nil
}

// verdict is what the limiter tells the server about one request.
type verdict struct {
	decision
	limit    Limit
	name     string // of the policy, for the RateLimit headers
	storeErr bool   // the store failed and the request was refused for it
}

// check decides r, a request for route, at now.
func (l *limiter) check(ctx context.Context, r *http.Request, route string, now time.Time) verdict {
	principal, keyed := l.principal(r)
	lim, bucket := l.limitFor(route, keyed)
	key := bucket + "|" + principal

	d, err := l.store.take(ctx, key, lim, now)
	v := verdict{decision: d, limit: lim, name: bucket}
	if err == nil {
		l.metrics.limiter(decisionLabel(d))
		return v
	}

	l.log.LogAttrs(ctx, slog.LevelWarn, "rate limit store failed",
		slog.String("on_store_error", l.rl.OnStoreError), slog.Any("err", err))
	switch l.rl.OnStoreError {
	case FailClosed:
		l.metrics.limiter("store_error_closed")
		v.decision = decision{retryAfter: time.Second, reset: time.Second}
		v.storeErr = true
	case FailLocal:
		l.metrics.limiter("store_error_local")
		d, _ = l.local.take(ctx, key, lim, now) // memory stores do not fail
		v.decision = d
	default:
		l.metrics.limiter("store_error_open")
		v.decision = decision{allowed: true, reset: lim.Period}
	}
	return v
}

func decisionLabel(d decision) string {
	if d.allowed {
		return "allowed"
	}
	return "denied"
}

// limitFor is the limit of route for a keyed or anonymous client and the
// name of its bucket: the route's own when it has one, else "default".
func (l *limiter) limitFor(route string, keyed bool) (Limit, string) {
	base := l.rl.Anonymous
	if keyed && l.rl.Keyed != nil {
		base = *l.rl.Keyed
	}

	r, ok := l.rl.Routes[route]
	if !ok {
		return base, "default"
	}
	if keyed && r.Keyed != nil {
		return *r.Keyed, route
	}
	if !keyed && r.Anonymous != nil {
		return *r.Anonymous, route
	}
	return base, "default"
}

// principal names who r counts against, and whether it is keyed.
func (l *limiter) principal(r *http.Request) (string, bool) {
	switch l.rl.Key {
	case KeyGlobal:
		return "global", false
	case KeyAPIKey:
		k := r.Header.Get(l.rl.APIKeyHeader)
		if k != "" && len(k) <= maxAPIKeyBytes && (l.apiKeys == nil || l.apiKeys[k]) {
			return "key:" + k, true
		}
	case KeyForwarded:
		return "ip:" + forwardedClient(r, l.proxies).String(), false
	}
	return "ip:" + clientAddr(r, l.ipHeader).String(), false
}

// remoteAddr is the connection's peer IP; the zero Addr when RemoteAddr is
// not an address (only in-process tests do that).
func remoteAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return addr.Unmap().WithZone("")
}

// clientAddr is the IP in header when that is set and valid, else the
// connection's peer.
func clientAddr(r *http.Request, header string) netip.Addr {
	if header != "" {
		if addr, err := netip.ParseAddr(strings.TrimSpace(r.Header.Get(header))); err == nil {
			return addr.Unmap().WithZone("")
		}
	}
	return remoteAddr(r)
}

// forwardedClient is the client behind trusted proxies: when the peer is a
// trusted proxy, walk X-Forwarded-For from the right past trusted proxies
// and take the first address that is not one. An untrusted peer's header is
// ignored, since anyone can write it; a malformed hop ends the walk at the
// last address known good.
func forwardedClient(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := remoteAddr(r)
	if !isTrusted(peer, trusted) {
		return peer
	}

	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}

	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		addr, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return client
		}
		client = addr.Unmap().WithZone("")
		if !isTrusted(client, trusted) {
			return client
		}
	}
	return client
}

func isTrusted(addr netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// setHeaders writes the IETF RateLimit-Policy and RateLimit fields
// (draft-ietf-httpapi-ratelimit-headers) and, when refused, Retry-After.
func (v verdict) setHeaders(h http.Header, algorithm string) {
	h.Set("RateLimit-Policy", v.limit.policy(v.name, algorithm))
	h.Set("RateLimit", fmt.Sprintf("%q;r=%d;t=%d", v.name, max(v.remaining, 0), ceilSeconds(v.reset)))
	if !v.allowed {
		h.Set("Retry-After", strconv.Itoa(retryAfterSeconds(v.retryAfter)))
	}
}

func ceilSeconds(d time.Duration) int {
	s := math.Ceil(d.Seconds())
	if s < 0 {
		return 0
	}
	return int(min(s, math.MaxInt32))
}

// retryAfterSeconds turns a wait into a Retry-After value: whole seconds,
// rounded up, at least 1.
func retryAfterSeconds(wait time.Duration) int {
	return max(ceilSeconds(wait), 1)
}
