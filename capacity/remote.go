package capacity

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// RemoteBackend is an http.Handler that forwards DynamoDB calls to another
// DynamoDB-compatible server reached by URL (dynalite, DynamoDB Local), for
// use as EndpointConfig.Backend. It sends each call with placeholder SigV4
// headers, since those servers demand an Authorization header but do not
// check its signature. Create one with NewRemoteBackend; it is safe for
// concurrent use.
type RemoteBackend struct {
	url    string
	client *http.Client
}

// DefaultRemoteTimeout bounds one call to a remote backend.
const DefaultRemoteTimeout = 30 * time.Second

// NewRemoteBackend returns a backend forwarding to rawURL, an http or https
// base URL. A nil client means one with DefaultRemoteTimeout. It does not
// check where rawURL points: refusing hosts outside loopback is the
// caller's decision.
func NewRemoteBackend(rawURL string, client *http.Client) (*RemoteBackend, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("remote backend %q: %w", rawURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("remote backend %q: want an http:// or https:// URL with a host", rawURL)
	}
	if client == nil {
		client = &http.Client{Timeout: DefaultRemoteTimeout}
	}
	return &RemoteBackend{url: u.String(), client: client}, nil
}

// ServeHTTP forwards one call and copies the backend's answer.
func (b *RemoteBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", "cannot read request body")
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, b.url, bytes.NewReader(body))
	if err != nil {
		writeError(w, http.StatusInternalServerError, "InternalServerError", "remote backend: "+err.Error())
		return
	}
	now := time.Now().UTC()
	req.Header.Set("Content-Type", amzJSONContentType)
	req.Header.Set("X-Amz-Target", r.Header.Get("X-Amz-Target"))
	req.Header.Set("X-Amz-Date", now.Format("20060102T150405Z"))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=abusesim/"+now.Format("20060102")+
		"/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, "+
		"Signature=0000000000000000000000000000000000000000000000000000000000000000")

	resp, err := b.client.Do(req)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "InternalServerError", "remote backend: "+err.Error())
		return
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, maxRequestBytes))
	if err != nil {
		writeError(w, http.StatusInternalServerError, "InternalServerError", "remote backend: "+err.Error())
		return
	}
	writeBody(w, resp.StatusCode, resp.Header.Get("Content-Type"), out)
}
