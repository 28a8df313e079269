package target

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/url"
	"regexp"
	"strings"
	"syscall"

	"github.com/valyala/fasthttp"
)

// maxErrorReasons is how many distinct transport-error reasons a class
// keeps; later new ones are counted under [OtherErrorReason].
const maxErrorReasons = 10

// OtherErrorReason counts the transport errors whose reason came after
// a class already kept maxErrorReasons distinct ones.
const OtherErrorReason = "other"

// endpoints matches the addresses a net error names ("127.0.0.1:54321",
// "[::1]:8080"), whose ephemeral ports would make every error distinct.
var endpoints = regexp.MustCompile(`(\[[0-9a-fA-F:.]+\]|[0-9]{1,3}(\.[0-9]{1,3}){3})(:[0-9]+)?(->(\[[0-9a-fA-F:.]+\]|[0-9]{1,3}(\.[0-9]{1,3}){3})(:[0-9]+)?)?`)

// errorReason names why a request got no HTTP answer, in a few words that
// the same failure always gives: the kinds a load test meets most by name,
// anything else by its message without the addresses in it.
func errorReason(err error) string {
	var (
		timeout interface{ Timeout() bool } // net.Error, and fasthttp's timeout, which lacks Temporary
		unknown x509.UnknownAuthorityError
		invalid x509.CertificateInvalidError
		host    x509.HostnameError
		record  tls.RecordHeaderError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, fasthttp.ErrDialTimeout) ||
		errors.As(err, &timeout) && timeout.Timeout():
		return "timeout"
	case errors.Is(err, fasthttp.ErrConnectionClosed):
		return "connection closed before the answer began"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by peer"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "cannot assign requested address (out of local ports or source address not bound)"
	case errors.Is(err, syscall.EMFILE):
		return "too many open files"
	case strings.Contains(err.Error(), "http2:") && strings.Contains(err.Error(), "HTTP/1.1"):
		return "HTTP/2: the server answered in HTTP/1.1 (it does not speak h2c)"
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return "connection closed before the answer ended"
	case errors.As(err, &unknown):
		return "TLS: certificate signed by an unknown authority (use --insecure for a self-signed loopback server)"
	case errors.As(err, &invalid) || errors.As(err, &host):
		return "TLS: certificate not valid for the server"
	case errors.As(err, &record) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return "TLS: the server did not answer in TLS (an http:// server?)"
	}
	// net/http wraps every error in the method and URL, the same for all.
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	msg := endpoints.ReplaceAllString(err.Error(), "ADDR")
	if len(msg) > 160 {
		msg = msg[:160] + "…"
	}
	return msg
}

// errorReasons counts transport errors by reason, keeping at most
// maxErrorReasons distinct ones.
type errorReasons map[string]int64

func (m errorReasons) add(reason string) {
	if _, ok := m[reason]; !ok && len(m) >= maxErrorReasons {
		reason = OtherErrorReason
	}
	m[reason]++
}
