package target

import (
	"crypto/tls"
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

// newClient returns the HTTP client of class c for connections from src
// (the zero Addr leaves the source to the OS): keep-alive with enough idle
// connections for every worker unless c disables it, at most c.MaxConns
// open, speaking c.Protocol. It never uses a proxy, so traffic goes only
// where BaseURL says.
func newClient(c *Class, src netip.Addr) *http.Client {
	dialer := &net.Dialer{Timeout: c.timeout(), KeepAlive: 30 * time.Second}
	if src.IsValid() {
		dialer.LocalAddr = &net.TCPAddr{IP: src.AsSlice(), Zone: src.Zone()}
	}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		MaxIdleConns:          c.workers(),
		MaxIdleConnsPerHost:   c.workers(),
		MaxConnsPerHost:       c.MaxConns,
		DisableKeepAlives:     c.DisableKeepAlive,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   c.timeout(),
		ExpectContinueTimeout: time.Second,
	}
	if c.InsecureTLS {
		transport.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	var protocols http.Protocols
	switch c.Protocol {
	case ProtocolH2C:
		protocols.SetUnencryptedHTTP2(true)
	case ProtocolH2:
		protocols.SetHTTP2(true)
	default:
		protocols.SetHTTP1(true)
	}
	transport.Protocols = &protocols

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
