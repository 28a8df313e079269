package target

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// fastClient is a class's fasthttp client, used instead of net/http for
// plain-text HTTP/1.1 when every worker may hold its own connection.
// fasthttp writes the request and parses the answer in the calling
// goroutine, with no per-connection goroutines or channels, which is
// where net/http spends most of its CPU on a loopback target.
//
// It keeps the behaviour of the net/http path where it matters to a
// measurement: no retries of its own (the class's RetryPolicy is the only
// one), no pipelining (a request never queues behind another on one
// connection: each worker sends one request at a time and there are as
// many connections as workers), bodies read and thrown away up to
// maxDrainBytes (a longer body costs its connection), and the path sent as
// the template wrote it.
type fastClient struct {
	hc *fasthttp.HostClient

	mu     sync.Mutex
	conns  map[*fastConn]struct{} // open connections, for abort
	closed bool                   // abort closed them all; dial no more
}

// fastConn is a connection fastClient dialled; it forgets itself on Close.
type fastConn struct {
	net.Conn
	fc *fastClient
}

func (c *fastConn) Close() error {
	c.fc.mu.Lock()
	delete(c.fc.conns, c)
	c.fc.mu.Unlock()
	return c.Conn.Close()
}

// fastOK reports whether class c can use the fast client: plain HTTP/1.1,
// keep-alive on or off, one source address, and no connection cap below
// the worker count.
func (cr *classRun) fastOK(scheme string) bool {
	c := cr.class
	return scheme == "http" && c.Protocol == ProtocolHTTP1 && len(cr.clients) == 1 &&
		(c.MaxConns == 0 || c.MaxConns >= cr.fastWorkers())
}

// fastWorkers is how many requests of the class can be in flight at once.
func (cr *classRun) fastWorkers() int {
	if cr.class.Executor == Concurrency {
		return cr.class.closedClients()
	}
	return cr.class.workers()
}

// newFastClient returns the fast client of class cr dialling addr from src
// (the zero Addr leaves the source to the OS).
func (cr *classRun) newFastClient(addr string, src netip.Addr) *fastClient {
	c := cr.class
	fc := &fastClient{conns: map[*fastConn]struct{}{}}
	dialer := net.Dialer{KeepAlive: 30 * time.Second}
	if src.IsValid() {
		dialer.LocalAddr = &net.TCPAddr{IP: src.AsSlice(), Zone: src.Zone()}
	}
	dial := func(addr string, timeout time.Duration) (net.Conn, error) {
		d := dialer
		d.Timeout = c.timeout()
		if timeout > 0 {
			d.Timeout = timeout
		}
		conn, err := d.Dial("tcp", addr)
		if err != nil {
			return nil, err
		}
		tc := &fastConn{Conn: conn, fc: fc}
		fc.mu.Lock()
		defer fc.mu.Unlock()
		if fc.closed {
			conn.Close()
			return nil, errRunStopped
		}
		fc.conns[tc] = struct{}{}
		return tc, nil
	}
	fc.hc = &fasthttp.HostClient{
		Addr:        addr,
		DialTimeout: dial,
		// One connection per request in flight, so a request never
		// waits for one; the wait bound is a safety net.
		MaxConns:            cr.fastWorkers(),
		MaxConnWaitTimeout:  c.timeout(),
		MaxIdleConnDuration: 90 * time.Second, // as net/http's IdleConnTimeout
		// Retries are the class's RetryPolicy's business: a retry inside
		// the client would hide a transport error and send a request
		// twice. (net/http does resend an idempotent request once when a
		// reused connection turns out closed; here that is an error.)
		MaxIdemponentCallAttempts: 1,
		// The path goes out as the template wrote it (fasthttp would
		// otherwise collapse "//" and ".."); net/http sends the same for
		// every path url.Parse leaves as it is.
		DisablePathNormalizing:   true,
		NoDefaultUserAgentHeader: true,
		// Bodies are streamed so that they can be discarded unbuffered.
		StreamResponseBody: true,
		ReadBufferSize:     16 << 10, // longest response header block
	}
	return fc
}

// closeAll closes every connection, idle or busy, so that requests in
// flight fail at once, and refuses new ones.
func (fc *fastClient) closeAll() {
	fc.mu.Lock()
	fc.closed = true
	conns := make([]*fastConn, 0, len(fc.conns))
	for c := range fc.conns {
		conns = append(conns, c)
	}
	fc.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// sendFast sends one request through the class's fast client and returns
// the status code and Retry-After, or an error for a transport failure
// (a timeout included). It sends what send (net/http) sends: the same
// method, path, body and headers, in the same precedence.
func (cr *classRun) sendFast(
	ctx context.Context, w *worker, req *Request, tc *TemplateContext, id identity,
) (int, string, error) {
	if err := ctx.Err(); err != nil {
		return 0, "", context.Cause(ctx)
	}
	freq := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(freq)
	defer fasthttp.ReleaseResponse(resp)

	freq.Header.SetMethod(req.method())
	w.url = req.Path.Append(w.url[:0], tc)
	freq.SetRequestURIBytes(w.url)
	freq.Header.SetHost(cr.host)
	freq.Header.SetNoDefaultContentType(true)
	freq.Header.Set("User-Agent", userAgent)
	// net/http asks for gzip unless told otherwise; so does the fast path.
	// The answer is never decompressed: it is discarded either way.
	freq.Header.Set("Accept-Encoding", "gzip")
	if req.Body != nil {
		w.hdr = req.Body.Append(w.hdr[:0], tc)
		freq.SetBody(w.hdr)
		freq.Header.Set("Content-Type", "application/json")
	}
	w.hdr = cr.setHeaders(&freq.Header, w.hdr, req, tc, id) // SetBody and SetBytesV copy
	if cr.class.DisableKeepAlive {
		freq.SetConnectionClose()
	}

	deadline, ok := ctx.Deadline()
	if !ok {
		return 0, "", errNoDeadline
	}
	err := cr.fclient.hc.DoDeadline(freq, resp, deadline)
	if err == nil {
		if body := resp.BodyStream(); body != nil {
			// Up to maxDrainBytes are read and thrown away; closing a
			// body not read to its end closes its connection.
			if _, err = io.Copy(io.Discard, io.LimitReader(body, maxDrainBytes)); err != nil {
				err = fmt.Errorf("read response body: %w", err)
			}
		}
		resp.CloseBodyStream()
	}
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w: %w", context.Cause(ctx), err)
		}
		return 0, "", err
	}
	var retryAfter string
	if v := resp.Header.Peek("Retry-After"); v != nil {
		retryAfter = string(v)
	}
	return resp.StatusCode(), retryAfter, nil
}

// errNoDeadline guards DoDeadline: every request context has the class
// timeout, so a missing deadline is a bug, not a request to wait forever.
var errNoDeadline = errors.New("target: request without a deadline")
