package target

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
)

// DefaultAPIKeyHeader carries an identity's API key unless
// Identities.APIKeyHeader names another header.
const DefaultAPIKeyHeader = "X-Api-Key"

// ForwardedForHeader carries an identity's spoofed client address.
const ForwardedForHeader = "X-Forwarded-For"

// Identities is the pool of identities a class's requests claim. Every
// list is optional; an empty one leaves that part of the request alone.
//
// With PerClient false each request draws each part independently at
// random. With PerClient true a request belongs to a virtual client c (the
// closed model's client, or one of Class.Clients drawn at random in the
// open model) and uses entry c mod len of every list, so a client keeps one
// address, one key and one user agent for the whole run. A sharded run
// splits every list between the shards instead of sharing it (see
// [Config.Shard]).
type Identities struct {
	// Sources are local loopback addresses connections are bound to, so a
	// local server sees distinct client IPs. See [LoopbackPool].
	Sources []netip.Addr

	// ForwardedFor values are sent in X-Forwarded-For.
	ForwardedFor []string

	// APIKeys are sent in APIKeyHeader ("" means DefaultAPIKeyHeader).
	APIKeys      []string
	APIKeyHeader string

	// UserAgents replace the default User-Agent.
	UserAgents []string

	PerClient bool
}

// identity is what one request claims: indexes into the pool's lists, -1
// for an empty list.
type identity struct {
	client                     int64
	source, xff, apiKey, agent int
}

func (id *Identities) validate() error {
	for _, a := range id.Sources {
		if !a.IsValid() || !a.Unmap().IsLoopback() {
			return fmt.Errorf("source %s is not a loopback address", a)
		}
	}
	if id.PerClient && len(id.Sources)+len(id.ForwardedFor)+len(id.APIKeys)+len(id.UserAgents) == 0 {
		return errors.New("per-client identities with every list empty")
	}
	return nil
}

func (id *Identities) apiKeyHeader() string {
	if id.APIKeyHeader == "" {
		return DefaultAPIKeyHeader
	}
	return id.APIKeyHeader
}

// pick returns the identity of a request of virtual client, drawing from r
// when the pool is per request. In a sharded run shard i of N uses only
// the entries i, i+N, i+2N, ... of every list, so no two shards claim the
// same identity; client c (always one of the shard's: c mod N is i) takes
// the shard's entry c/N, modulo how many it has. Unsharded, that is entry
// c mod len, and a per-request draw is uniform over the whole list.
func (id *Identities) pick(r *rand.Rand, client int64, shard Shard) identity {
	count := int64(shard.count())
	one := func(n int) int {
		if n == 0 {
			return -1
		}
		mine := shard.poolShare(n)
		var k int
		if id.PerClient {
			k = int(client / count % int64(mine))
		} else {
			k = r.IntN(mine)
		}
		return shard.Index + k*int(count)
	}
	return identity{
		client: client,
		source: one(len(id.Sources)),
		xff:    one(len(id.ForwardedFor)),
		apiKey: one(len(id.APIKeys)),
		agent:  one(len(id.UserAgents)),
	}
}

// checkShard reports a list of the pool too short for every shard to have
// an entry of its own.
func (id *Identities) checkShard(shard Shard) error {
	n := shard.count()
	if n == 1 {
		return nil
	}
	for _, l := range []struct {
		field string
		len   int
	}{
		{"sources", len(id.Sources)}, {"forwarded_for", len(id.ForwardedFor)},
		{"api_keys", len(id.APIKeys)}, {"user_agents", len(id.UserAgents)},
	} {
		if l.len > 0 && l.len < n {
			return fmt.Errorf("%s has %d entries, fewer than the %d shards: each shard needs "+
				"its own, so give at least %d or run fewer shards", l.field, l.len, n, n)
		}
	}
	return nil
}

// LoopbackPool returns the first n host addresses of prefix, which must lie
// inside 127.0.0.0/8, skipping the network address, for use as
// Identities.Sources. It is an error for the prefix to hold fewer.
func LoopbackPool(prefix netip.Prefix, n int) ([]netip.Addr, error) {
	loop := netip.MustParsePrefix("127.0.0.0/8")
	if !prefix.IsValid() || !prefix.Addr().Is4() || prefix.Bits() < loop.Bits() ||
		!loop.Contains(prefix.Addr()) {
		return nil, fmt.Errorf("source pool %s is not inside %s", prefix, loop)
	}
	return Hosts(prefix, n)
}

// Hosts returns the first n addresses of prefix after its network address,
// such as spoofed X-Forwarded-For values drawn from documentation ranges.
func Hosts(prefix netip.Prefix, n int) ([]netip.Addr, error) {
	if n < 1 {
		return nil, fmt.Errorf("address pool size %d must be at least 1", n)
	}
	prefix = prefix.Masked()
	bits := prefix.Addr().BitLen() - prefix.Bits()
	if bits < 63 && int64(n) > (int64(1)<<bits)-1 {
		return nil, fmt.Errorf("%s holds %d host addresses, fewer than %d",
			prefix, (int64(1)<<bits)-1, n)
	}
	out := make([]netip.Addr, 0, n)
	for a := prefix.Addr().Next(); len(out) < n; a = a.Next() {
		out = append(out, a)
	}
	return out, nil
}

// appendClient appends the virtual client number for {{client}}.
func appendClient(dst []byte, client int64) []byte {
	return strconv.AppendInt(dst, client, 10)
}
