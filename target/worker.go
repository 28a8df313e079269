package target

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"
)

// worker is what one worker goroutine reuses from request to request.
type worker struct {
	pcg  *rand.PCG
	rand *rand.Rand
	url  []byte
	hdr  []byte
}

func newWorker() *worker {
	pcg := rand.NewPCG(0, 0)
	return &worker{pcg: pcg, rand: rand.New(pcg)}
}

// work runs first, then every job from jobs until it is closed.
func (cr *classRun) work(ctx context.Context, first job, jobs <-chan job) {
	w := newWorker()
	cr.do(ctx, w, first, -1)
	for j := range jobs {
		cr.do(ctx, w, j, -1)
	}
}

// do sends one request, retrying as the class's policy says, and records
// its outcome. client is the closed model's client number, -1 in the open
// model, where the virtual client is drawn when the class has Clients.
//
// The worker's random source is reseeded from the run seed, the class
// index and the request number, so request n of a class draws the same
// mix entry, key, identity and ids in every run with the same seed,
// whichever worker sends it.
func (cr *classRun) do(ctx context.Context, w *worker, j job, client int64) {
	cr.inFlight.Add(1)
	defer cr.inFlight.Add(-1)

	w.pcg.Seed(cr.seed[0], splitmix64(cr.seed[1]+uint64(j.n)))
	ri := cr.pick(w.rand)
	req := &cr.class.Mix[ri]
	if client < 0 {
		client = j.n
		if cr.class.Clients > 0 {
			client = w.rand.Int64N(int64(cr.class.Clients))
		}
	}
	tc := TemplateContext{Rand: w.rand, Seq: j.n, Class: cr.class.Name, Client: client}
	if cr.class.Keys != nil && req.usesKey() {
		tc.Key = KeyAt(cr.class.Keys, w.rand, j.n)
	}
	id := identity{client: client, source: -1, xff: -1, apiKey: -1, agent: -1}
	if cr.class.Identities != nil {
		id = cr.class.Identities.pick(w.rand, client, cr.shard)
		if id.apiKey >= 0 {
			tc.APIKey = cr.class.Identities.APIKeys[id.apiKey]
		}
	}

	send := time.Now()
	var (
		a       attempt
		retries int64
	)
	for k := 1; ; k++ {
		a = cr.attempt(ctx, w, req, &tc, id)
		if a.stopped || k >= cr.class.Retry.attempts() || !cr.class.Retry.retryable(a.code) {
			break
		}
		if !sleepFor(ctx, cr.class.Retry.delay(k, w.rand, a.retryAfter, time.Now())) {
			break
		}
		retries++
	}
	end := time.Now()

	if a.stopped {
		cr.rec.aborted(j.sec)
		return
	}
	if a.err != nil {
		cr.rec.transportError(a.err)
		if cr.warned.CompareAndSwap(false, true) {
			cr.logger.Warn("first transport error of the class; later ones are counted by reason", "err", a.err)
		}
	}
	o := outcome{
		code: a.code, request: ri, phase: j.phase, retries: retries,
		latency: end.Sub(j.intended), service: end.Sub(send), lag: max(send.Sub(j.intended), 0),
	}
	cr.progress.doneOne(a.code, clampUS(o.latency))
	cr.raw.write(cr.class.Name, req.Name, j.n, j.intended, &o)
	cr.rec.record(j.sec, o)
}

// attempt is the end of one try of a request.
type attempt struct {
	code       int    // 0 for a transport error
	err        error  // the transport error
	retryAfter string // the answer's Retry-After header
	stopped    bool   // aborted because a cancelled run stopped waiting
}

// attempt sends req once, bounded by the class timeout.
func (cr *classRun) attempt(ctx context.Context, w *worker, req *Request, tc *TemplateContext, id identity) attempt {
	rctx, cancel := context.WithTimeout(ctx, cr.class.timeout())
	defer cancel()
	tc.Now = time.Now()
	send := cr.send
	if cr.fast {
		send = cr.sendFast
	}
	code, retryAfter, err := send(rctx, w, req, tc, id)
	if err != nil && errors.Is(context.Cause(rctx), errRunStopped) {
		return attempt{stopped: true}
	}
	return attempt{code: code, err: err, retryAfter: retryAfter}
}

// sleepFor waits d and reports false if ctx ended first.
func sleepFor(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// send builds and sends req and drains its answer. It returns the status
// code and Retry-After header, or an error for a transport failure (a
// timeout included).
func (cr *classRun) send(
	ctx context.Context, w *worker, req *Request, tc *TemplateContext, id identity,
) (int, string, error) {
	w.url = req.Path.Append(append(w.url[:0], cr.prefix...), tc)
	var body io.Reader
	if req.Body != nil {
		// A fresh slice: the transport may read a body after Do returns.
		body = bytes.NewReader(req.Body.Append(nil, tc))
	}
	hreq, err := http.NewRequestWithContext(ctx, req.method(), string(w.url), body)
	if err != nil {
		return 0, "", fmt.Errorf("build request: %w", err)
	}
	if hreq.URL.Host != cr.host {
		return 0, "", fmt.Errorf("build request: path %q leaves the target host", req.Path)
	}

	hreq.Header.Set("User-Agent", userAgent)
	if req.Body != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}
	client := cr.clients[0]
	if cr.class.Identities != nil && id.source >= 0 {
		client = cr.clients[id.source]
	}
	w.hdr = cr.setHeaders(stdHeader(hreq.Header), w.hdr, req, tc, id)

	resp, err := client.Do(hreq)
	if err != nil {
		return 0, "", err
	}
	if err := drain(resp.Body); err != nil {
		return 0, "", fmt.Errorf("read response body: %w", err)
	}
	return resp.StatusCode, resp.Header.Get("Retry-After"), nil
}

// pick chooses a request of the mix by weight and returns its index.
func (cr *classRun) pick(r *rand.Rand) int {
	x := r.IntN(cr.mixCum[len(cr.mixCum)-1])
	for i, c := range cr.mixCum {
		if x < c {
			return i
		}
	}
	return len(cr.class.Mix) - 1
}

// headerSink is where setHeaders writes: a net/http header (stdHeader) or
// fasthttp's request header, which has these two methods itself.
type headerSink interface {
	Set(key, value string)
	SetBytesV(key string, value []byte)
}

// stdHeader adapts an http.Header to headerSink.
type stdHeader http.Header

func (h stdHeader) Set(key, value string) { http.Header(h).Set(key, value) }

func (h stdHeader) SetBytesV(key string, value []byte) { http.Header(h).Set(key, string(value)) }

// setHeaders sets the headers of one request in their order of precedence,
// the same for both clients: the identity's (X-Forwarded-For, API key, user
// agent), then the class's, then the request's, then the request's header
// templates, each overriding what came before. buf is scratch space for the
// templates; the grown buffer is returned for reuse.
func (cr *classRun) setHeaders(h headerSink, buf []byte, req *Request, tc *TemplateContext, id identity) []byte {
	if ids := cr.class.Identities; ids != nil {
		if id.xff >= 0 {
			h.Set(ForwardedForHeader, ids.ForwardedFor[id.xff])
		}
		if id.apiKey >= 0 {
			h.Set(ids.apiKeyHeader(), ids.APIKeys[id.apiKey])
		}
		if id.agent >= 0 {
			h.Set("User-Agent", ids.UserAgents[id.agent])
		}
	}
	for k, v := range cr.class.Headers {
		h.Set(k, v)
	}
	for k, v := range req.Headers {
		h.Set(k, v)
	}
	for k, t := range req.HeaderTemplates {
		buf = t.Append(buf[:0], tc)
		h.SetBytesV(k, buf)
	}
	return buf
}
