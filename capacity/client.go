package capacity

import (
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// LocalHTTPClient returns the HTTP client SDK clients of a local endpoint
// should use: the SDK's own, with room for maxIdle keep-alive connections
// (0 keeps the SDK's 10) and without the SDK's rolling read deadline.
//
// The SDK's DynamoDB read timeout (a read deadline reset before every read)
// is turned off: a local endpoint answers at once, so it buys nothing here.
// Give it to NewDynamoDBClient or NewCloudWatchClient, which guard it
// against the SDK bug described there; on its own it is not guarded.
func LocalHTTPClient(maxIdle int) *awshttp.BuildableClient {
	c := awshttp.NewBuildableClient().WithReadTimeout(0)
	if maxIdle > 0 {
		c = c.WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConns = maxIdle
			t.MaxIdleConnsPerHost = maxIdle
		})
	}
	return c
}

// NewDynamoDBClient returns a DynamoDB client for the endpoint at url (such
// as a local Endpoint's base URL) with static placeholder credentials, so it
// never looks for real ones. A nil httpClient means LocalHTTPClient(0);
// optFns adjust the options further (retries, for example). Whatever HTTP
// client the options end with is wrapped against the SDK bug below.
//
// BUG: without that wrapper, aws-sdk-go-v2 (smithy-go v1.28) breaks its
// keep-alive connection on about one call in 30 and fails about one call in
// a few thousand with "deserialization failed: read tcp …: use of closed network
// connection" (aws/aws-sdk-go-v2 issues 1825, 2737); the endpoint has
// answered by then, so a retry is metered twice. smithy-go's ClientHandler
// closes the request body as soon as Do returns, which is as soon as the
// response headers arrive. net/http's writeLoop may not yet have made its
// last read of that body: after the Content-Length bytes it copies the rest
// to io.Discard to catch extra bytes. smithy-go's closed body answers that
// WriteTo with io.EOF, where io.WriterTo's contract says nil, so writeBody
// fails, and writeLoop closes the connection (persistConn.close) under the
// SDK, which is still reading the response body from it. A LocalServer
// makes that rarer from the server side (see there) but cannot prevent it.
func NewDynamoDBClient(url, region string, httpClient dynamodb.HTTPClient, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	if region == "" {
		region = DefaultRegion
	}
	if httpClient == nil {
		httpClient = LocalHTTPClient(0)
	}
	optFns = append(optFns[:len(optFns):len(optFns)], func(o *dynamodb.Options) {
		if o.HTTPClient != nil {
			o.HTTPClient = guardRequestBodies(o.HTTPClient)
		}
	})
	return dynamodb.New(dynamodb.Options{
		BaseEndpoint: aws.String(url),
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("abusesim", "abusesim", ""),
		HTTPClient:   httpClient,
	}, optFns...)
}

// httpDoer is the HTTP client interface of the SDK's service clients.
type httpDoer interface {
	Do(*http.Request) (*http.Response, error)
}

// guardRequestBodies returns c with every request body it sends stripped of
// WriteTo, so net/http drains the body with Read, which smithy-go's closed
// body answers with a clean io.EOF (see the BUG on NewDynamoDBClient).
func guardRequestBodies(c httpDoer) httpDoer {
	if _, ok := c.(bodyGuard); ok {
		return c
	}
	return bodyGuard{c}
}

// bodyGuard is the HTTP client guardRequestBodies returns.
type bodyGuard struct{ next httpDoer }

// Do sends r through the wrapped client with its body's WriteTo hidden.
func (g bodyGuard) Do(r *http.Request) (*http.Response, error) {
	if _, ok := r.Body.(io.WriterTo); ok && r.Body != http.NoBody {
		r = r.WithContext(r.Context())
		r.Body = readCloserOnly{r.Body}
	}
	return g.next.Do(r)
}

// readCloserOnly hides every method of its ReadCloser but Read and Close.
type readCloserOnly struct{ io.ReadCloser }

// RetryConnectionErrorsOnly sets a DynamoDB client to retry (up to three
// attempts, without back-off or a retry quota) only broken connections, so
// a caller sees every throttle and every other error from its first answer
// while a dropped connection does not fail the call. A retried call the
// endpoint had already served is metered twice, so tests that check
// metered figures use no retries at all instead, and see the broken
// connection itself.
func RetryConnectionErrorsOnly(o *dynamodb.Options) {
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = 3
		so.Retryables = []retry.IsErrorRetryable{retry.RetryableConnectionError{}}
		so.RateLimiter = ratelimit.None
		so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
	})
}
