package target

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/textproto"
	"strconv"
	"time"
)

// fastConn is one worker's own keep-alive HTTP/1.1 connection, used instead
// of net/http for plain-text HTTP/1.1 when every worker may hold its own
// connection. It writes requests and parses answers in the worker's
// goroutine, with no per-connection goroutines or channels, which is where
// net/http spends most of its CPU on a loopback target. It understands
// Content-Length, chunked bodies and Connection: close; anything it cannot
// parse is a transport error and the connection is dropped.
type fastConn struct {
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
}

// fastOK reports whether class c can use fast connections: plain HTTP/1.1,
// keep-alive on or off, one source address, and no connection cap below
// the worker count.
func (cr *classRun) fastOK(scheme string) bool {
	c := cr.class
	workers := c.workers()
	if c.Executor == Concurrency {
		workers = c.closedClients()
	}
	return scheme == "http" && c.Protocol == ProtocolHTTP1 && len(cr.clients) == 1 &&
		(c.MaxConns == 0 || c.MaxConns >= workers)
}

func (cr *classRun) dialFast(ctx context.Context, src netip.Addr) (*fastConn, error) {
	d := net.Dialer{Timeout: cr.class.timeout(), KeepAlive: 30 * time.Second}
	if src.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: src.AsSlice(), Zone: src.Zone()}
	}
	conn, err := d.DialContext(ctx, "tcp", cr.dialAddr)
	if err != nil {
		return nil, err
	}
	return &fastConn{conn: conn, r: bufio.NewReaderSize(conn, 16<<10), w: bufio.NewWriterSize(conn, 8<<10)}, nil
}

func (f *fastConn) close() {
	if f != nil {
		f.conn.Close()
	}
}

var errMalformed = errors.New("malformed HTTP response")

// sendFast sends one request on the worker's fast connection, dialling it
// first if needed, and returns the status code and Retry-After.
func (cr *classRun) sendFast(
	ctx context.Context, w *worker, req *Request, tc *TemplateContext, id identity,
) (int, string, error) {
	if w.fast == nil {
		fc, err := cr.dialFast(ctx, cr.fastSrc)
		if err != nil {
			return 0, "", err
		}
		w.fast = fc
	}
	fc := w.fast
	if dl, ok := ctx.Deadline(); ok {
		fc.conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { fc.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	code, retryAfter, keep, err := cr.roundTripFast(fc, w, req, tc, id)
	if err != nil || !keep || cr.class.DisableKeepAlive {
		fc.close()
		w.fast = nil
	}
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w: %w", context.Cause(ctx), err)
	}
	return code, retryAfter, err
}

func (cr *classRun) roundTripFast(
	fc *fastConn, w *worker, req *Request, tc *TemplateContext, id identity,
) (code int, retryAfter string, keep bool, err error) {
	b := append(w.url[:0], req.method()...)
	b = append(b, ' ')
	b = req.Path.Append(b, tc)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, cr.host...)
	b = append(b, "\r\n"...)
	var body []byte
	if req.Body != nil {
		body = req.Body.Append(w.hdr[:0], tc)
		w.hdr = body
	}
	b = appendHeaders(b, cr, req, tc, id, w, body != nil)
	if body != nil {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(body)), 10)
		b = append(b, "\r\n"...)
	}
	if cr.class.DisableKeepAlive {
		b = append(b, "Connection: close\r\n"...)
	}
	b = append(b, "\r\n"...)
	w.url = b
	if _, err := fc.w.Write(b); err != nil {
		return 0, "", false, err
	}
	if _, err := fc.w.Write(body); err != nil {
		return 0, "", false, err
	}
	if err := fc.w.Flush(); err != nil {
		return 0, "", false, err
	}
	return readResponse(fc.r, req.method() == "HEAD")
}

// appendHeaders appends the request's headers, in the precedence order of
// the net/http path: defaults, identity, class, request, templates.
func appendHeaders(
	b []byte, cr *classRun, req *Request, tc *TemplateContext, id identity, w *worker, hasBody bool,
) []byte {
	h := w.headers
	clear(h)
	h["User-Agent"] = userAgent
	if hasBody {
		h["Content-Type"] = "application/json"
	}
	if ids := cr.class.Identities; ids != nil {
		if id.xff >= 0 {
			h[ForwardedForHeader] = ids.ForwardedFor[id.xff]
		}
		if id.apiKey >= 0 {
			h[ids.apiKeyHeader()] = ids.APIKeys[id.apiKey]
		}
		if id.agent >= 0 {
			h["User-Agent"] = ids.UserAgents[id.agent]
		}
	}
	for k, v := range cr.class.Headers {
		h[canonical(k)] = v
	}
	for k, v := range req.Headers {
		h[canonical(k)] = v
	}
	for k, t := range req.HeaderTemplates {
		h[canonical(k)] = string(t.Append(nil, tc))
	}
	for k, v := range h {
		b = append(b, k...)
		b = append(b, ": "...)
		b = append(b, v...)
		b = append(b, "\r\n"...)
	}
	return b
}

// readResponse reads one answer and discards its body, reporting whether
// the connection may carry another request.
func readResponse(r *bufio.Reader, head bool) (code int, retryAfter string, keep bool, err error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return 0, "", false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, "", false, errMalformed
	}
	code, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, "", false, errMalformed
	}
	keep = line[7] == '1'

	length, chunked := int64(-1), false
	for {
		line, err = r.ReadSlice('\n')
		if err != nil {
			return 0, "", false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, "", false, errMalformed
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil || length < 0 {
				return 0, "", false, errMalformed
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(value, []byte("close")) {
				keep = false
			}
		case bytes.EqualFold(name, []byte("Retry-After")):
			retryAfter = string(value)
		}
	}

	switch {
	case head || code == 204 || code == 304 || code/100 == 1:
	case chunked:
		err = discardChunked(r)
	case length >= 0:
		if length > maxDrainBytes {
			return code, retryAfter, false, nil
		}
		_, err = r.Discard(int(length))
	default:
		// No length: the body runs to the end of the connection.
		_, err = io.Copy(io.Discard, io.LimitReader(r, maxDrainBytes))
		keep = false
	}
	if err != nil {
		return 0, "", false, err
	}
	return code, retryAfter, keep, nil
}

func discardChunked(r *bufio.Reader) error {
	for total := int64(0); ; {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return err
		}
		size, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
		n, err := strconv.ParseInt(string(bytes.TrimSpace(size)), 16, 64)
		if err != nil || n < 0 {
			return errMalformed
		}
		if total += n; total > maxDrainBytes {
			return errMalformed
		}
		if n == 0 {
			// Trailers, then the final empty line.
			for {
				line, err := r.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(bytes.TrimRight(line, "\r\n")) == 0 {
					return nil
				}
			}
		}
		if _, err := r.Discard(int(n) + 2); err != nil {
			return err
		}
	}
}

// canonical returns the canonical form of a header name, as net/http
// sends it.
func canonical(k string) string { return textproto.CanonicalMIMEHeaderKey(k) }
