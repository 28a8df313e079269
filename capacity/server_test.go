package capacity

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync"
	"testing"
	"time"
)

// countingListener counts the writes to the connections it accepts.
type countingListener struct {
	net.Listener
	mu     sync.Mutex
	writes int
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, l: l}, nil
}

func (l *countingListener) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.writes
}

type countingConn struct {
	net.Conn
	l *countingListener
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.l.mu.Lock()
	c.l.writes++
	c.l.mu.Unlock()
	return c.Conn.Write(p)
}

// serveLocal serves h through a LocalServer on a counting loopback listener.
func serveLocal(t *testing.T, h http.Handler) (string, *countingListener) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: ln}
	srv := NewLocalServer(h)
	go func() { _ = srv.Serve(cl) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String(), cl
}

// TestLocalServerWritesEachResponseOnce: a response far larger than
// net/http's 4 KB connection buffer leaves in one write.
func TestLocalServerWritesEachResponseOnce(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 20000)
	url, cl := serveLocal(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	}))
	client := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(client.CloseIdleConnections)
	for i := range 3 {
		before := cl.count()
		resp, err := client.Post(url, "application/json", bytes.NewReader([]byte("{}")))
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		_, _ = got.ReadFrom(resp.Body)
		resp.Body.Close()
		if got.Len() != len(body) {
			t.Fatalf("call %d: read %d bytes, want %d", i, got.Len(), len(body))
		}
		if n := cl.count() - before; n != 1 {
			t.Errorf("call %d: the response took %d writes, want 1", i, n)
		}
	}
}

// TestLocalServerAnswersExpectContinue: a client that waits for 100
// Continue before sending its body gets it at once.
func TestLocalServerAnswersExpectContinue(t *testing.T) {
	url, _ := serveLocal(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		_, _ = b.ReadFrom(r.Body)
		_, _ = w.Write(b.Bytes())
	}))
	// A long timeout: without the 100 Continue the client would wait it out.
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}
	t.Cleanup(client.CloseIdleConnections)
	got100 := false
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader([]byte("hello")))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Expect", "100-continue")
	req = req.WithContext(httptrace.WithClientTrace(req.Context(),
		&httptrace.ClientTrace{Got100Continue: func() { got100 = true }}))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if !got100 {
		t.Error("no 100 Continue")
	}
}
