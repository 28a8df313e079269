package capacity

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// MetricDataReader is the CloudWatch call a CloudWatchSource needs;
// *cloudwatch.Client implements it.
type MetricDataReader interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput,
		optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

var _ MetricDataReader = (*cloudwatch.Client)(nil)

// DefaultCloudWatchPeriod is the period a CloudWatchSource asks for when
// Period is 0: one second, which the local endpoint serves. AWS publishes
// DynamoDB's metrics at one minute; set Period to time.Minute there.
const DefaultCloudWatchPeriod = time.Second

// CloudWatchSource is a Source that reads a table's AWS/DynamoDB metrics
// (ConsumedReadCapacityUnits, ConsumedWriteCapacityUnits, ReadThrottleEvents,
// WriteThrottleEvents, each as Sum) with CloudWatch's GetMetricData, from
// AWS or from the local Endpoint, which speaks the same protocol. With a
// period longer than a second, each period's sum is spread evenly over its
// seconds (throttle events as whole events, the remainder in the first
// seconds). It is safe for concurrent use when its Client is.
type CloudWatchSource struct {
	Client MetricDataReader
	Period time.Duration // whole seconds; 0 -> DefaultCloudWatchPeriod
}

var _ Source = (*CloudWatchSource)(nil)

// NewCloudWatchClient returns a CloudWatch client for the endpoint at url
// (such as a local Endpoint's base URL) with static placeholder credentials,
// so it never looks for real ones. A nil httpClient means LocalHTTPClient(0);
// either way it is wrapped against the SDK bug told on NewDynamoDBClient.
func NewCloudWatchClient(url, region string, httpClient cloudwatch.HTTPClient) *cloudwatch.Client {
	if region == "" {
		region = DefaultRegion
	}
	opts := cloudwatch.Options{
		BaseEndpoint: aws.String(url),
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("abusesim", "abusesim", ""),
	}
	if httpClient == nil {
		httpClient = LocalHTTPClient(0)
	}
	opts.HTTPClient = guardRequestBodies(httpClient)
	return cloudwatch.New(opts)
}

// sourceMetrics are the metrics a Sample is made of, in query order.
var sourceMetrics = []string{metricConsumedRead, metricConsumedWrite, metricReadThrottles, metricWriteThrottles}

// Samples implements Source: it reads [start, end) in one GetMetricData
// call (following NextToken) and returns one Sample per second with data.
func (s *CloudWatchSource) Samples(ctx context.Context, table string, start, end time.Time) ([]Sample, error) {
	if s.Client == nil {
		return nil, fmt.Errorf("cloudwatch source: no client")
	}
	period := s.Period
	if period <= 0 {
		period = DefaultCloudWatchPeriod
	}
	periodSeconds := int64(period / time.Second)
	if periodSeconds < 1 || period%time.Second != 0 {
		return nil, fmt.Errorf("cloudwatch source: period %s is not a whole number of seconds", period)
	}

	in := &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(start.Truncate(period)),
		EndTime:   aws.Time(end),
		ScanBy:    cwtypes.ScanByTimestampAscending,
	}
	for i, name := range sourceMetrics {
		in.MetricDataQueries = append(in.MetricDataQueries, cwtypes.MetricDataQuery{
			Id: aws.String(fmt.Sprintf("m%d", i)),
			MetricStat: &cwtypes.MetricStat{
				Metric: &cwtypes.Metric{
					Namespace:  aws.String(namespaceDynamoDB),
					MetricName: aws.String(name),
					Dimensions: []cwtypes.Dimension{{Name: aws.String("TableName"), Value: aws.String(table)}},
				},
				Period: aws.Int32(int32(periodSeconds)),
				Stat:   aws.String("Sum"),
			},
		})
	}

	b := sampleBuilder{start: start, end: end, period: periodSeconds, bySecond: map[int64]*Sample{}}
	for {
		out, err := s.Client.GetMetricData(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("cloudwatch source: table %s: GetMetricData: %w", table, err)
		}
		for _, r := range out.MetricDataResults {
			if err := b.add(r); err != nil {
				return nil, fmt.Errorf("cloudwatch source: table %s: %w", table, err)
			}
		}
		if out.NextToken == nil || *out.NextToken == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	return b.samples(), nil
}

// sampleBuilder lays GetMetricData results out as per-second samples.
type sampleBuilder struct {
	start, end time.Time
	period     int64
	bySecond   map[int64]*Sample
}

func (b *sampleBuilder) add(r cwtypes.MetricDataResult) error {
	var index int
	if r.Id == nil || len(*r.Id) < 2 {
		return fmt.Errorf("result without a query id")
	}
	if _, err := fmt.Sscanf(*r.Id, "m%d", &index); err != nil || index < 0 || index >= len(sourceMetrics) {
		return fmt.Errorf("result for unknown query %q", *r.Id)
	}
	if len(r.Timestamps) != len(r.Values) {
		return fmt.Errorf("query %s: %d timestamps but %d values", *r.Id, len(r.Timestamps), len(r.Values))
	}
	for i, ts := range r.Timestamps {
		b.spread(index, ts.Unix(), r.Values[i])
	}
	return nil
}

// spread adds value, one period's sum of metric index starting at second
// first, to the seconds of that period inside [start, end).
func (b *sampleBuilder) spread(index int, first int64, value float64) {
	events := int64(value + 0.5)
	for k := range b.period {
		sec := first + k
		t := time.Unix(sec, 0).UTC()
		if t.Before(b.start.Truncate(time.Second)) || !t.Before(b.end) {
			continue
		}
		s := b.bySecond[sec]
		if s == nil {
			s = &Sample{Start: t}
			b.bySecond[sec] = s
		}
		share := events / b.period
		if k < events%b.period {
			share++
		}
		switch index {
		case 0:
			s.ConsumedRCU += value / float64(b.period)
		case 1:
			s.ConsumedWCU += value / float64(b.period)
		case 2:
			s.ReadThrottleEvents += share
		case 3:
			s.WriteThrottleEvents += share
		}
	}
}

func (b *sampleBuilder) samples() []Sample {
	out := make([]Sample, 0, len(b.bySecond))
	for _, s := range b.bySecond {
		out = append(out, *s)
	}
	sortSamples(out)
	return out
}
