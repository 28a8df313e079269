package capacity

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// LocalServer is an http.Server for a local endpoint whose responses each
// leave in one write to the connection. Construct it with NewLocalServer,
// set any fields of the embedded Server before serving, and serve it with
// its own Serve, which wraps the listener; Shutdown and Close are the
// Server's.
//
// Why one write: net/http's server sends a response larger than its 4 KB
// connection buffer in two writes, the buffer (headers and the start of
// the body) and then the rest. An aws-sdk-go-v2 client (smithy-go v1.28)
// breaks its keep-alive connection after some calls (the BUG on
// NewDynamoDBClient): its connection's write loop, delayed, closes the
// connection once it runs. With the response split, the SDK's read of the
// rest of the body can find nothing there yet and wait, which is when the
// write loop runs and closes the connection under it: "deserialization
// failed … use of closed network connection", on about one GetItem in 50
// of a 4.5 KB item. With the whole response in the socket at once, the
// SDK reads it through without waiting and the close comes after it.
// (dynalite sends headers and body together, which is why it rarely shows
// the fault.)
type LocalServer struct {
	http.Server
}

// NewLocalServer returns a LocalServer serving h.
func NewLocalServer(h http.Handler) *LocalServer {
	s := &LocalServer{}
	s.Handler = oneWriteHandler{h}
	s.ReadHeaderTimeout = 10 * time.Second
	s.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if ow, ok := c.(*oneWriteConn); ok {
			return context.WithValue(ctx, oneWriteKey{}, ow)
		}
		return ctx
	}
	return s
}

// Serve accepts connections on ln and serves them, like http.Server.Serve.
func (s *LocalServer) Serve(ln net.Listener) error {
	return s.Server.Serve(oneWriteListener{ln})
}

// oneWriteKey is the request context key of a request's *oneWriteConn.
type oneWriteKey struct{}

// oneWriteHandler holds back what a handler writes to the connection until
// the handler has written its whole response, then writes it at once.
type oneWriteHandler struct{ next http.Handler }

func (h oneWriteHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, _ := r.Context().Value(oneWriteKey{}).(*oneWriteConn)
	// A client that expects 100 Continue must get it before the handler
	// can read the body, so nothing is held back for it.
	if c == nil || strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
		h.next.ServeHTTP(w, r)
		return
	}
	c.hold()
	defer c.release()
	h.next.ServeHTTP(w, r)
	// Push the response through net/http's buffers to c, which sends it.
	_ = http.NewResponseController(w).Flush()
}

// oneWriteListener wraps every connection it accepts in a oneWriteConn.
type oneWriteListener struct{ net.Listener }

func (l oneWriteListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &oneWriteConn{Conn: c}, nil
}

// maxHeldBytes is the largest buffer a connection keeps between responses.
const maxHeldBytes = 64 << 10

// oneWriteConn is a connection whose writes, while held, gather in a buffer
// that release sends in one write.
type oneWriteConn struct {
	net.Conn

	mu      sync.Mutex
	holding bool
	held    []byte
	err     error // of the last release's write
}

func (c *oneWriteConn) hold() {
	c.mu.Lock()
	c.holding = true
	c.mu.Unlock()
}

// release stops holding and writes what was held.
func (c *oneWriteConn) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.holding = false
	if len(c.held) > 0 && c.err == nil {
		_, c.err = c.Conn.Write(c.held)
	}
	c.held = c.held[:0]
	if cap(c.held) > maxHeldBytes {
		c.held = nil
	}
}

func (c *oneWriteConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	if c.holding {
		c.held = append(c.held, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}
