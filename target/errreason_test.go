package target

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// Transport errors are counted by reason: a closed port is "connection
// refused", an https:// request to a plain HTTP server a TLS failure, and
// neither reason carries the ephemeral addresses that would split it.
func TestTransportErrorReasons(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there any more

	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(plain.Close)
	tlsToPlain := strings.Replace(plain.URL, "http://", "https://", 1)

	for _, tt := range []struct {
		name, url, want string
	}{
		{"closed port", closed, "connection refused"},
		{"TLS to a plain server", tlsToPlain, "TLS: the server did not answer in TLS"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := mustRun(t, context.Background(), Config{
				BaseURL:  tt.url,
				Duration: 200 * time.Millisecond,
				Classes: []Class{{Name: "c", Phases: []Phase{{Duration: 200 * time.Millisecond, StartRPS: 50, EndRPS: 50}},
					Mix: []Request{get("/", 1)}, InsecureTLS: true}},
			})
			c := res.Classes[0]
			if c.Errors == 0 {
				t.Fatalf("no transport errors against %s", tt.url)
			}
			var total int64
			for reason, n := range c.ErrorReasons {
				total += n
				if !strings.HasPrefix(reason, tt.want) {
					t.Errorf("reason %q (%d), want it to start %q", reason, n, tt.want)
				}
			}
			if total != c.Errors {
				t.Errorf("reasons count %d errors, class has %d: %v", total, c.Errors, c.ErrorReasons)
			}
		})
	}
}

func TestErrorReasonDropsAddresses(t *testing.T) {
	a := fmt.Errorf("read tcp 127.0.0.1:54321->127.0.0.1:8080: read: strange failure")
	b := fmt.Errorf("read tcp 127.0.0.1:60000->127.0.0.1:8080: read: strange failure")
	if ra, rb := errorReason(a), errorReason(b); ra != rb || strings.Contains(ra, "54321") {
		t.Errorf("reasons %q and %q: want one reason without the ports", ra, rb)
	}
	for _, err := range []error{
		fmt.Errorf("wrapped: %w", context.DeadlineExceeded),
		fasthttp.ErrTimeout, // a Timeout method without Temporary: not a net.Error
		fasthttp.ErrDialTimeout,
	} {
		if got := errorReason(err); got != "timeout" {
			t.Errorf("%v: got %q, want timeout", err, got)
		}
	}
	if got := errorReason(fasthttp.ErrConnectionClosed); got != "connection closed before the answer began" {
		t.Errorf("fasthttp's closed connection: got %q", got)
	}
}

func TestErrorReasonsAreBounded(t *testing.T) {
	m := errorReasons{}
	for i := range maxErrorReasons + 5 {
		m.add(errors.New(fmt.Sprint("reason ", i)).Error())
	}
	if len(m) != maxErrorReasons+1 || m[OtherErrorReason] != 5 {
		t.Errorf("kept %d reasons, other %d: want %d kept and 5 under %q", len(m), m[OtherErrorReason],
			maxErrorReasons, OtherErrorReason)
	}
}
