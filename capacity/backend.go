package capacity

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
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

// handlerBackend calls an in-process http.Handler, such as minidyn's server.
type handlerBackend struct {
	handler http.Handler
}

func (b handlerBackend) call(ctx context.Context, op string, body []byte) (*backendResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "/", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("backend %s: %w", op, err)
	}
	req.Header.Set("Content-Type", amzJSONContentType)
	req.Header.Set("X-Amz-Target", targetPrefix+op)

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
