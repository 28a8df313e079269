package capacity

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"

	"github.com/truora/minidyn/server"
)

// targetPrefix is the X-Amz-Target prefix of DynamoDB's JSON 1.0 API.
const targetPrefix = "DynamoDB_20120810."

// backend is the engine behind the endpoint. Forwarding sits behind this
// interface so that a backend reached by URL (dynalite, DynamoDB Local) can
// be added beside the in-process handler.
type backend interface {
	// call sends one DynamoDB operation and returns the complete response.
	call(ctx context.Context, op string, body []byte) (*backendResponse, error)
}

// backendResponse is a complete backend response held in memory.
type backendResponse struct {
	status int
	header http.Header
	body   []byte
	call   *handlerCall // the pooled call that holds the response, if any
}

// backendURL is the address of every in-process backend call.
var backendURL = &url.URL{Scheme: "http", Host: "backend.local", Path: "/"}

// handlerBackend calls an in-process http.Handler, such as minidyn's server.
type handlerBackend struct {
	handler     http.Handler
	contextFree bool // the handler ignores the request's context (minidyn)
}

// minidyn reports whether the handler is minidyn's server, whose quirks
// the endpoint works around (indexfix.go, page.go).
func (b handlerBackend) minidyn() bool {
	_, ok := b.handler.(*server.Server)
	return ok
}

func (b handlerBackend) call(ctx context.Context, op string, body []byte) (resp *backendResponse, err error) {
	// An engine that panics on odd input must not take the endpoint down.
	defer func() {
		if p := recover(); p != nil {
			resp, err = nil, fmt.Errorf("backend %s: engine panicked: %v", op, p)
		}
	}()
	// Everything one call needs comes in one piece from a pool, and the
	// request is built by hand rather than by http.NewRequest, which would
	// parse the same URL on every call.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := handlerCalls.Get().(*handlerCall)
	c.body.Reset(body)
	clear(c.rec.header)
	c.rec.status = 0
	c.rec.body.Reset()
	// For the embedded engine the request carries no context: minidyn
	// answers in memory without blocking and never looks at one, so the
	// check above does, and the request needs no copy per call. Any other
	// handler (a proxy to a remote backend) gets the caller's.
	c.req = http.Request{
		Method:        http.MethodPost,
		URL:           backendURL,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Host:          backendURL.Host,
		ContentLength: int64(len(body)),
		Body:          io.NopCloser(&c.body),
		Header:        backendHeader(op),
	}

	req := &c.req
	if !b.contextFree {
		req = req.WithContext(ctx)
	}
	b.handler.ServeHTTP(&c.rec, req)
	if c.rec.status == 0 {
		c.rec.status = http.StatusOK
	}
	// A call whose engine panicked above never comes back to the pool: the
	// handler may still hold it.
	c.resp = backendResponse{status: c.rec.status, header: c.rec.header, body: c.rec.body.Bytes(), call: c}
	return &c.resp, nil
}

// handlerCall holds one in-process backend call.
type handlerCall struct {
	req  http.Request
	body bytes.Reader
	rec  memoryResponse
	resp backendResponse
	buf  [512]byte // the response's first bytes, enough for most
}

// handlerCalls recycles in-process calls, whose responses are released once
// the endpoint has answered its client (backendResponse.release).
var handlerCalls = sync.Pool{New: func() any {
	c := &handlerCall{}
	c.rec.header = make(http.Header, 1)
	c.rec.body = *bytes.NewBuffer(c.buf[:0])
	return c
}}

// maxPooledResponse is the largest response buffer worth keeping for reuse.
const maxPooledResponse = 64 << 10

// release hands the memory of a response back for reuse; nothing may use
// the response, its header or its body afterwards. It does nothing for a
// response that is not pooled, and is safe on nil.
func (r *backendResponse) release() {
	if r == nil || r.call == nil {
		return
	}
	c := r.call
	r.call = nil
	if c.rec.body.Cap() > maxPooledResponse {
		return
	}
	handlerCalls.Put(c)
}

// backendHeaders are the request headers of each operation. Handlers must
// not modify a request's headers (the http.Handler contract), so one map
// per operation serves every call.
var backendHeaders sync.Map // operation -> http.Header

func backendHeader(op string) http.Header {
	if h, ok := backendHeaders.Load(op); ok {
		return h.(http.Header)
	}
	h := http.Header{"Content-Type": {amzJSONContentType}, "X-Amz-Target": {targetPrefix + op}}
	actual, _ := backendHeaders.LoadOrStore(op, h)
	return actual.(http.Header)
}

// memoryResponse is an http.ResponseWriter that keeps the response in memory.
type memoryResponse struct {
	status int
	header http.Header
	body   bytes.Buffer
}

func (m *memoryResponse) Header() http.Header { return m.header }

func (m *memoryResponse) WriteHeader(status int) {
	if m.status == 0 {
		m.status = status
	}
}

func (m *memoryResponse) Write(p []byte) (int, error) {
	if m.status == 0 {
		m.status = http.StatusOK
	}
	return m.body.Write(p)
}
