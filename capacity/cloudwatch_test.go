package capacity

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// cloudWatchRig is an endpoint on loopback with real DynamoDB and
// CloudWatch clients pointed at it, and a fake clock.
type cloudWatchRig struct {
	clock *fakeClock
	ddb   *dynamodb.Client
	cw    *cloudwatch.Client
}

func newCloudWatchRig(t *testing.T, rcu, wcu int64) *cloudWatchRig {
	t.Helper()
	clock := newFakeClock(t0)
	e := NewEndpoint(EndpointConfig{Now: clock.Now})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	rig := &cloudWatchRig{
		clock: clock,
		ddb:   newClient(t, e),
		cw:    NewCloudWatchClient(srv.URL, "us-east-1", nil),
	}
	createTable(t, rig.ddb, "T", false, rcu, wcu)
	return rig
}

func tableMetric(name string, extra ...cwtypes.Dimension) *cwtypes.Metric {
	dims := append([]cwtypes.Dimension{{Name: aws.String("TableName"), Value: aws.String("T")}}, extra...)
	return &cwtypes.Metric{Namespace: aws.String("AWS/DynamoDB"), MetricName: aws.String(name), Dimensions: dims}
}

// minuteSum reads m's Sum over the minute from t0 (period 60) through cw
// with GetMetricStatistics, and fails t unless it is one data point of
// want.
func minuteSum(t *testing.T, cw *cloudwatch.Client, m *cwtypes.Metric, want float64) {
	t.Helper()
	out, err := cw.GetMetricStatistics(context.Background(), &cloudwatch.GetMetricStatisticsInput{
		Namespace: m.Namespace, MetricName: m.MetricName, Dimensions: m.Dimensions,
		StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(time.Minute)), Period: aws.Int32(60),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticSum},
	})
	if err != nil {
		t.Fatalf("GetMetricStatistics %s: %v", aws.ToString(m.MetricName), err)
	}
	if len(out.Datapoints) != 1 || aws.ToFloat64(out.Datapoints[0].Sum) != want {
		t.Errorf("%s %v = %+v, want Sum %v", aws.ToString(m.MetricName), m.Dimensions, out.Datapoints, want)
	}
}

// TestCloudWatchReadsBackConsumption plays writes and reads over three
// seconds through the real DynamoDB client, then reads the consumption back
// through the real CloudWatch client and compares it with the
// ConsumedCapacity each call returned.
func TestCloudWatchReadsBackConsumption(t *testing.T) {
	rig := newCloudWatchRig(t, 1000, 1000)
	ctx := context.Background()
	wantRead := map[int64]float64{}
	wantWrite := map[int64]float64{}
	wantCount := map[int64]float64{}

	for s := range 3 {
		for i := range 4 + s {
			item := map[string]types.AttributeValue{
				"id":      &types.AttributeValueMemberS{Value: string(rune('a' + i))},
				"payload": &types.AttributeValueMemberB{Value: make([]byte, 1500*(i+1))},
			}
			put, err := rig.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("T"), Item: item,
				ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
			if err != nil {
				t.Fatalf("PutItem: %v", err)
			}
			wantWrite[int64(s)] += *put.ConsumedCapacity.CapacityUnits
			get, err := rig.ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("T"),
				Key:                    map[string]types.AttributeValue{"id": item["id"]},
				ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
			if err != nil {
				t.Fatalf("GetItem: %v", err)
			}
			wantRead[int64(s)] += *get.ConsumedCapacity.CapacityUnits
			wantCount[int64(s)]++
		}
		rig.clock.Advance(time.Second)
	}

	out, err := rig.cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(t0),
		EndTime:   aws.Time(t0.Add(time.Hour)),
		ScanBy:    cwtypes.ScanByTimestampAscending,
		MetricDataQueries: []cwtypes.MetricDataQuery{
			{Id: aws.String("r"), MetricStat: &cwtypes.MetricStat{Metric: tableMetric("ConsumedReadCapacityUnits"),
				Period: aws.Int32(1), Stat: aws.String("Sum")}},
			{Id: aws.String("w"), MetricStat: &cwtypes.MetricStat{Metric: tableMetric("ConsumedWriteCapacityUnits"),
				Period: aws.Int32(1), Stat: aws.String("Sum")}},
			{Id: aws.String("n"), MetricStat: &cwtypes.MetricStat{Metric: tableMetric("ConsumedReadCapacityUnits"),
				Period: aws.Int32(1), Stat: aws.String("SampleCount")}},
			{Id: aws.String("minute"), MetricStat: &cwtypes.MetricStat{Metric: tableMetric("ConsumedWriteCapacityUnits"),
				Period: aws.Int32(60), Stat: aws.String("Sum")}},
		},
	})
	if err != nil {
		t.Fatalf("GetMetricData: %v", err)
	}

	totalWrite := 0.0
	for _, w := range wantWrite {
		totalWrite += w
	}
	for _, r := range out.MetricDataResults {
		want := map[string]map[int64]float64{"r": wantRead, "w": wantWrite, "n": wantCount,
			"minute": {0: totalWrite}}[*r.Id]
		if len(r.Timestamps) != len(want) {
			t.Fatalf("%s: %d datapoints, want %d (%v)", *r.Id, len(r.Timestamps), len(want), r.Values)
		}
		for i, ts := range r.Timestamps {
			sec := int64(ts.Sub(t0) / time.Second)
			if got := r.Values[i]; got != want[sec] {
				t.Errorf("%s at second %d = %v, want %v", *r.Id, sec, got, want[sec])
			}
		}
		if r.StatusCode != cwtypes.StatusCodeComplete {
			t.Errorf("%s status = %s, want Complete", *r.Id, r.StatusCode)
		}
	}

	// The monitor's source reads the same figures.
	src := &CloudWatchSource{Client: rig.cw}
	samples, err := src.Samples(ctx, "T", t0, t0.Add(3*time.Second))
	if err != nil {
		t.Fatalf("Samples: %v", err)
	}
	if len(samples) != 3 {
		t.Fatalf("Samples = %v, want 3 seconds", samples)
	}
	for i, s := range samples {
		if s.ConsumedRCU != wantRead[int64(i)] || s.ConsumedWCU != wantWrite[int64(i)] {
			t.Errorf("sample %d = %+v, want RCU %v WCU %v", i, s, wantRead[int64(i)], wantWrite[int64(i)])
		}
	}
}

// TestCloudWatchThrottleMetrics throttles reads and checks the event,
// request and reason metrics through GetMetricStatistics and ListMetrics.
func TestCloudWatchThrottleMetrics(t *testing.T) {
	rig := newCloudWatchRig(t, 1, 1)
	ctx := context.Background()
	key := map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "k"}}

	throttled := 0
	for range 5 {
		_, err := rig.ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("T"), Key: key,
			ConsistentRead: aws.Bool(true)})
		var pte *types.ProvisionedThroughputExceededException
		if errors.As(err, &pte) {
			throttled++
		} else if err != nil {
			t.Fatalf("GetItem: %v", err)
		}
	}
	if throttled != 4 {
		t.Fatalf("throttled %d of 5 reads at 1 RCU, want 4", throttled)
	}

	for _, tc := range []struct {
		metric string
		dims   []cwtypes.Dimension
	}{
		{"ReadThrottleEvents", nil},
		{"ReadProvisionedThroughputThrottleEvents", nil},
		{"ThrottledRequests", []cwtypes.Dimension{{Name: aws.String("Operation"), Value: aws.String("GetItem")}}},
	} {
		m := tableMetric(tc.metric, tc.dims...)
		out, err := rig.cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
			Namespace: m.Namespace, MetricName: m.MetricName, Dimensions: m.Dimensions,
			StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(time.Minute)), Period: aws.Int32(60),
			Statistics: []cwtypes.Statistic{cwtypes.StatisticSum, cwtypes.StatisticMaximum},
		})
		if err != nil {
			t.Fatalf("GetMetricStatistics %s: %v", tc.metric, err)
		}
		if len(out.Datapoints) != 1 || *out.Datapoints[0].Sum != 4 || *out.Datapoints[0].Maximum != 1 {
			t.Errorf("%s datapoints = %+v, want one with Sum 4, Maximum 1", tc.metric, out.Datapoints)
		}
	}

	list, err := rig.cw.ListMetrics(ctx, &cloudwatch.ListMetricsInput{
		Namespace: aws.String("AWS/DynamoDB"), MetricName: aws.String("ThrottledRequests"),
	})
	if err != nil {
		t.Fatalf("ListMetrics: %v", err)
	}
	if len(list.Metrics) != 1 || len(list.Metrics[0].Dimensions) != 2 ||
		*list.Metrics[0].Dimensions[1].Value != "GetItem" {
		t.Errorf("ListMetrics = %+v, want ThrottledRequests by TableName and Operation GetItem", list.Metrics)
	}
}

func TestCloudWatchRejectsBadQueries(t *testing.T) {
	rig := newCloudWatchRig(t, 1, 1)
	for _, tc := range []struct {
		name, code string
		period     int32
		stat       string
	}{
		{"period 5 s", "InvalidParameterValueException", 5, "Sum"},
		{"percentile", "InvalidParameterValueException", 60, "p99"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rig.cw.GetMetricData(context.Background(), &cloudwatch.GetMetricDataInput{
				StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(time.Minute)),
				MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("a"), MetricStat: &cwtypes.MetricStat{
					Metric: tableMetric("ConsumedReadCapacityUnits"), Period: aws.Int32(tc.period),
					Stat: aws.String(tc.stat)}}},
			})
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tc.code {
				t.Fatalf("err = %v, want %s", err, tc.code)
			}
			if apiErr.ErrorMessage() == "" {
				t.Error("error has no message")
			}
		})
	}
}

// TestBatchThrottleCountsEvents: at 1 WCU, a batch of ten puts processes
// one and hands nine back (nine throttle events, no throttled request); a
// second batch of ten is throttled whole: one throttled request and ten
// throttle events.
func TestBatchThrottleCountsEvents(t *testing.T) {
	rig := newCloudWatchRig(t, 1, 1)
	ctx := context.Background()
	batch := func(prefix string) (*dynamodb.BatchWriteItemOutput, error) {
		var reqs []types.WriteRequest
		for i := range 10 {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
				"id": &types.AttributeValueMemberS{Value: prefix + string(rune('a'+i))},
			}}})
		}
		return rig.ddb.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{"T": reqs},
		})
	}
	if out, err := batch("x"); err != nil || len(out.UnprocessedItems["T"]) != 9 {
		t.Fatalf("first batch: %v, %d unprocessed; want 9", err, len(out.UnprocessedItems["T"]))
	}
	var pte *types.ProvisionedThroughputExceededException
	if _, err := batch("y"); !errors.As(err, &pte) {
		t.Fatalf("second batch at 1 WCU: %v, want ProvisionedThroughputExceededException", err)
	}

	for _, tc := range []struct {
		metric string
		dims   []cwtypes.Dimension
		want   float64
	}{
		{"WriteThrottleEvents", nil, 19},
		{"WriteProvisionedThroughputThrottleEvents", nil, 19},
		{"ThrottledRequests", []cwtypes.Dimension{{Name: aws.String("Operation"), Value: aws.String("BatchWriteItem")}}, 1},
		{"ConsumedWriteCapacityUnits", nil, 1},
	} {
		minuteSum(t, rig.cw, tableMetric(tc.metric, tc.dims...), tc.want)
	}
}

// TestCloudWatchRetention: through the real CloudWatch client, a write read
// back per second within 3 hours is absent per second after them (no data
// points, no error, as CloudWatch answers for expired high-resolution
// data) and still exact per minute.
func TestCloudWatchRetention(t *testing.T) {
	rig := newCloudWatchRig(t, 10, 10)
	ctx := context.Background()
	putItem(t, rig.ddb, "T", map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "a"}})
	get := func(period int32) []cwtypes.Datapoint {
		t.Helper()
		m := tableMetric("ConsumedWriteCapacityUnits")
		out, err := rig.cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
			Namespace: m.Namespace, MetricName: m.MetricName, Dimensions: m.Dimensions,
			StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(time.Minute)), Period: aws.Int32(period),
			Statistics: []cwtypes.Statistic{cwtypes.StatisticSum},
		})
		if err != nil {
			t.Fatalf("GetMetricStatistics period %d: %v", period, err)
		}
		return out.Datapoints
	}
	if got := get(1); len(got) != 1 || aws.ToFloat64(got[0].Sum) != 1 {
		t.Fatalf("per second while fresh = %+v, want Sum 1", got)
	}
	rig.clock.Advance(SecondRetention + time.Second)
	if got := get(1); len(got) != 0 {
		t.Errorf("per second after 3 hours = %+v, want none", got)
	}
	if got := get(60); len(got) != 1 || aws.ToFloat64(got[0].Sum) != 1 {
		t.Errorf("per minute after 3 hours = %+v, want Sum 1", got)
	}
	rig.clock.Advance(MinuteRetention)
	if got := get(60); len(got) != 0 {
		t.Errorf("per minute after 15 days = %+v, want none", got)
	}
}
