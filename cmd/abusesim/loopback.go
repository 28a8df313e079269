package main

import (
	"net"
	"net/url"

	"github.com/abusesim/abusesim/target"
)

// checkListenAddr checks a --addr flag: host:port, on loopback unless
// allow. example is a valid value for the message.
func checkListenAddr(addr, example string, allow bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("--addr %q: want host:port, e.g. %s", addr, example)
	}
	if !allow && !target.IsLoopbackHost(host) {
		return usagef("--addr %q is not a loopback address; add --allow-non-loopback to serve on it", addr)
	}
	return nil
}

// checkServerURL checks a flag naming a server by URL: http or https
// with a host, on loopback unless allow. want describes a valid value for
// the message ("a URL like http://127.0.0.1:8000").
func checkServerURL(flag, raw, want string, allow bool) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return usagef("%s %q: want %s", flag, raw, want)
	}
	if !allow && !target.IsLoopbackHost(u.Hostname()) {
		return usagef("%s %q is not on loopback; add --allow-non-loopback to use it", flag, raw)
	}
	return nil
}
