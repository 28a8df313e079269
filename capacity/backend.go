package capacity

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
}

// backendURL is the address of every in-process backend call.
var backendURL = &url.URL{Scheme: "http", Host: "backend.local", Path: "/"}

// handlerBackend calls an in-process http.Handler, such as minidyn's server.
type handlerBackend struct {
	handler http.Handler
}

func (b handlerBackend) call(ctx context.Context, op string, body []byte) (resp *backendResponse, err error) {
	// An engine that panics on odd input must not take the endpoint down.
	defer func() {
		if p := recover(); p != nil {
			resp, err = nil, fmt.Errorf("backend %s: engine panicked: %v", op, p)
		}
	}()
	// Built by hand rather than by http.NewRequest, which would parse the
	// same URL on every call.
	req := (&http.Request{
		Method:        http.MethodPost,
		URL:           backendURL,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Host:          backendURL.Host,
		ContentLength: int64(len(body)),
		Body:          io.NopCloser(bytes.NewReader(body)),
		Header: http.Header{
			"Content-Type": {amzJSONContentType},
			"X-Amz-Target": {targetPrefix + op},
		},
	}).WithContext(ctx)

	rec := &memoryResponse{header: make(http.Header)}
	b.handler.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return &backendResponse{status: rec.status, header: rec.header, body: rec.body.Bytes()}, nil
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
