package capacity

import (
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
//
// BUG: with or without it, about one call in a few hundred against a
// loopback server fails with "deserialization failed: read tcp …: use of
// closed network connection" (aws/aws-sdk-go-v2 issues 1825 and 2737: the
// transport closes a connection whose answer is still being read). The
// SDK's standard retryer retries it; a client without retries sees it, so
// those use RetryConnectionErrorsOnly.
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
// optFns adjust the options further (retries, for example).
func NewDynamoDBClient(url, region string, httpClient dynamodb.HTTPClient, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	if region == "" {
		region = DefaultRegion
	}
	if httpClient == nil {
		httpClient = LocalHTTPClient(0)
	}
	return dynamodb.New(dynamodb.Options{
		BaseEndpoint: aws.String(url),
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("abusesim", "abusesim", ""),
		HTTPClient:   httpClient,
	}, optFns...)
}

// RetryConnectionErrorsOnly sets a DynamoDB client to retry (up to three
// attempts, without back-off or a retry quota) only broken connections, so
// a caller sees every throttle and every other error from its first answer
// while a connection the transport dropped, as the BUG on LocalHTTPClient
// describes, does not fail the call. Tests and benchmarks that count
// throttles use it instead of RetryMaxAttempts 1.
func RetryConnectionErrorsOnly(o *dynamodb.Options) {
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = 3
		so.Retryables = []retry.IsErrorRetryable{retry.RetryableConnectionError{}}
		so.RateLimiter = ratelimit.None
		so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
	})
}
