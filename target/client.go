package target

import (
	"io"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// maxDrainBytes bounds how much of a response body is read and discarded
// so its connection can be reused; a longer body costs a new connection.
const maxDrainBytes = 1 << 20

// CanBind reports whether this host can use addr as a local source address:
// it listens on addr with an ephemeral port and closes at once. On Linux the
// whole of 127.0.0.0/8 binds; macOS binds only 127.0.0.1 unless aliases are
// configured.
func CanBind(addr netip.Addr) bool {
	if !addr.IsValid() {
		return false
	}
	ln, err := net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// newClient returns the keep-alive HTTP client of class c: enough idle
// connections for every worker, dialled from c.SourceAddr when it is set.
// It never uses a proxy, so traffic goes only where BaseURL says.
func newClient(c *Class) *http.Client {
	dialer := &net.Dialer{Timeout: c.timeout(), KeepAlive: 30 * time.Second}
	if c.SourceAddr.IsValid() {
		dialer.LocalAddr = &net.TCPAddr{IP: c.SourceAddr.AsSlice(), Zone: c.SourceAddr.Zone()}
	}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		MaxIdleConns:          c.workers(),
		MaxIdleConnsPerHost:   c.workers(),
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   c.timeout(),
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: transport,
		// Redirects are answers to measure, not to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// drain reads what is left of body, up to maxDrainBytes, and closes it.
func drain(body io.ReadCloser) error {
	_, err := io.Copy(io.Discard, io.LimitReader(body, maxDrainBytes))
	if cerr := body.Close(); err == nil {
		err = cerr
	}
	return err
}
