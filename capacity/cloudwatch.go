package capacity

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// CloudWatch's wire protocol as aws-sdk-go-v2/service/cloudwatch v1.76 speaks
// it: Smithy RPC v2 CBOR. Every call is a POST to
// /service/GraniteServiceVersion20100801/operation/<Operation> with header
// Smithy-Protocol: rpc-v2-cbor and a CBOR map of the input's members; the
// answer is a CBOR map of the output's members, timestamps as tag 1 epoch
// seconds, or for an error a map with "__type" and "message".
const (
	cloudWatchPathPrefix = "/service/GraniteServiceVersion20100801/operation/"
	cborContentType      = "application/cbor"
	// namespaceDynamoDB is the only namespace the endpoint publishes.
	namespaceDynamoDB = "AWS/DynamoDB"
	// maxDatapoints bounds one GetMetricData answer, as CloudWatch does.
	maxDatapoints = 100800
)

// cwEncoding writes timestamps as CloudWatch does: tag 1 around epoch
// seconds, fractional when needed.
var cwEncoding = func() cbor.EncMode {
	m, err := cbor.EncOptions{Time: cbor.TimeUnixDynamic, TimeTag: cbor.EncTagRequired}.EncMode()
	if err != nil {
		panic(err)
	}
	return m
}()

// cwDecoding reads requests, refusing oversized or deeply nested input.
var cwDecoding = func() cbor.DecMode {
	m, err := cbor.DecOptions{MaxNestedLevels: 16, MaxArrayElements: 4096, MaxMapPairs: 4096}.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}()

// cwError is a CloudWatch client error: its type (a shape of the CloudWatch
// model) and message.
type cwError struct {
	typ, message string
}

func (e *cwError) Error() string { return e.message }

func invalidParameter(format string, args ...any) error {
	return &cwError{typ: "InvalidParameterValueException", message: fmt.Sprintf(format, args...)}
}

type cwDimension struct {
	Name  string `cbor:"Name"`
	Value string `cbor:"Value,omitempty"`
}

type cwMetric struct {
	Namespace  string        `cbor:"Namespace,omitempty"`
	MetricName string        `cbor:"MetricName,omitempty"`
	Dimensions []cwDimension `cbor:"Dimensions,omitempty"`
}

type cwGetMetricDataInput struct {
	MetricDataQueries []struct {
		ID         string `cbor:"Id"`
		Label      string `cbor:"Label"`
		Expression string `cbor:"Expression"`
		ReturnData *bool  `cbor:"ReturnData"`
		MetricStat *struct {
			Metric cwMetric `cbor:"Metric"`
			Period int64    `cbor:"Period"`
			Stat   string   `cbor:"Stat"`
		} `cbor:"MetricStat"`
	} `cbor:"MetricDataQueries"`
	StartTime time.Time `cbor:"StartTime"`
	EndTime   time.Time `cbor:"EndTime"`
	ScanBy    string    `cbor:"ScanBy"`
}

type cwMetricDataResult struct {
	ID         string      `cbor:"Id"`
	Label      string      `cbor:"Label"`
	StatusCode string      `cbor:"StatusCode"`
	Timestamps []time.Time `cbor:"Timestamps"`
	Values     []float64   `cbor:"Values"`
}

type cwGetMetricStatisticsInput struct {
	cwMetric
	StartTime          time.Time `cbor:"StartTime"`
	EndTime            time.Time `cbor:"EndTime"`
	Period             int64     `cbor:"Period"`
	Statistics         []string  `cbor:"Statistics"`
	ExtendedStatistics []string  `cbor:"ExtendedStatistics"`
}

type cwDatapoint struct {
	Timestamp   time.Time `cbor:"Timestamp"`
	SampleCount *float64  `cbor:"SampleCount,omitempty"`
	Average     *float64  `cbor:"Average,omitempty"`
	Sum         *float64  `cbor:"Sum,omitempty"`
	Minimum     *float64  `cbor:"Minimum,omitempty"`
	Maximum     *float64  `cbor:"Maximum,omitempty"`
	Unit        string    `cbor:"Unit,omitempty"`
}

// serveCloudWatch answers one CloudWatch call.
func (e *Endpoint) serveCloudWatch(w http.ResponseWriter, r *http.Request, op string, body []byte) {
	if r.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" {
		writeCBORError(w, http.StatusBadRequest, &cwError{typ: "InvalidParameterValueException",
			message: "CloudWatch calls need the header Smithy-Protocol: rpc-v2-cbor"})
		return
	}
	out, err := e.cloudWatchCall(op, body)
	if err != nil {
		writeCBORError(w, http.StatusBadRequest, err)
		return
	}
	raw, err := cwEncoding.Marshal(out)
	if err != nil {
		writeCBORError(w, http.StatusInternalServerError, &cwError{typ: "InternalServiceFault", message: err.Error()})
		return
	}
	writeCBOR(w, http.StatusOK, raw)
}

// cloudWatchCall answers CloudWatch operation op whose input is body, a
// CBOR map, with its output, to be encoded in CBOR.
func (e *Endpoint) cloudWatchCall(op string, body []byte) (out any, err error) {
	switch op {
	case "GetMetricData":
		out, err = e.getMetricData(body)
	case "GetMetricStatistics":
		out, err = e.getMetricStatistics(body)
	case "ListMetrics":
		out, err = e.listMetrics(body)
	default:
		err = &cwError{typ: "UnknownOperationException",
			message: "the local endpoint serves GetMetricData, GetMetricStatistics and ListMetrics, not " +
				strconv.Quote(op)}
	}
	return out, err
}

// decodeCBOR reads a request body (empty means no members) into v.
func decodeCBOR(body []byte, v any) error {
	if len(body) == 0 {
		return nil
	}
	if err := cwDecoding.Unmarshal(body, v); err != nil {
		return &cwError{typ: "SerializationException", message: "cannot decode CBOR request: " + err.Error()}
	}
	return nil
}

func (e *Endpoint) getMetricData(body []byte) (any, error) {
	var in cwGetMetricDataInput
	if err := decodeCBOR(body, &in); err != nil {
		return nil, err
	}
	if err := checkRange(in.StartTime, in.EndTime); err != nil {
		return nil, err
	}
	if len(in.MetricDataQueries) == 0 || len(in.MetricDataQueries) > 500 {
		return nil, invalidParameter("MetricDataQueries must hold 1 to 500 queries, got %d", len(in.MetricDataQueries))
	}

	results := []cwMetricDataResult{}
	total := 0
	for i, q := range in.MetricDataQueries {
		if q.Expression != "" || q.MetricStat == nil {
			return nil, invalidParameter("MetricDataQueries[%d]: the local endpoint answers MetricStat queries only, "+
				"not expressions", i)
		}
		s, err := seriesOf(q.MetricStat.Metric)
		if err != nil {
			return nil, fmt.Errorf("MetricDataQueries[%d]: %w", i, err)
		}
		if err := checkPeriod(q.MetricStat.Period); err != nil {
			return nil, fmt.Errorf("MetricDataQueries[%d]: %w", i, err)
		}
		value, err := statistic(q.MetricStat.Stat)
		if err != nil {
			return nil, fmt.Errorf("MetricDataQueries[%d]: %w", i, err)
		}
		if q.ReturnData != nil && !*q.ReturnData {
			continue
		}

		points := e.rec.points(s, in.StartTime, in.EndTime, q.MetricStat.Period)
		if in.ScanBy != "TimestampAscending" {
			slices.Reverse(points)
		}
		total += len(points)
		if total > maxDatapoints {
			return nil, invalidParameter("the query would return more than %d datapoints", maxDatapoints)
		}
		res := cwMetricDataResult{ID: q.ID, Label: q.Label, StatusCode: "Complete",
			Timestamps: []time.Time{}, Values: []float64{}}
		if res.Label == "" {
			res.Label = s.metric
		}
		for _, p := range points {
			res.Timestamps = append(res.Timestamps, p.start)
			res.Values = append(res.Values, value(p.stat))
		}
		results = append(results, res)
	}
	return map[string]any{"MetricDataResults": results, "Messages": []any{}}, nil
}

func (e *Endpoint) getMetricStatistics(body []byte) (any, error) {
	var in cwGetMetricStatisticsInput
	if err := decodeCBOR(body, &in); err != nil {
		return nil, err
	}
	if err := checkRange(in.StartTime, in.EndTime); err != nil {
		return nil, err
	}
	if err := checkPeriod(in.Period); err != nil {
		return nil, err
	}
	if len(in.ExtendedStatistics) > 0 {
		return nil, invalidParameter("ExtendedStatistics (percentiles) are not served by the local endpoint")
	}
	if len(in.Statistics) == 0 {
		return nil, &cwError{typ: "MissingRequiredParameterException",
			message: "Statistics or ExtendedStatistics must be given"}
	}
	for _, name := range in.Statistics {
		if _, err := statistic(name); err != nil {
			return nil, err
		}
	}
	s, err := seriesOf(in.cwMetric)
	if err != nil {
		return nil, err
	}

	datapoints := []cwDatapoint{}
	for _, p := range e.rec.points(s, in.StartTime, in.EndTime, in.Period) {
		d := cwDatapoint{Timestamp: p.start, Unit: unitOf(s.metric)}
		for _, name := range in.Statistics {
			v, _ := statistic(name)
			x := v(p.stat)
			switch name {
			case "SampleCount":
				d.SampleCount = &x
			case "Average":
				d.Average = &x
			case "Sum":
				d.Sum = &x
			case "Minimum":
				d.Minimum = &x
			case "Maximum":
				d.Maximum = &x
			}
		}
		datapoints = append(datapoints, d)
	}
	return map[string]any{"Label": s.metric, "Datapoints": datapoints}, nil
}

func (e *Endpoint) listMetrics(body []byte) (any, error) {
	var in cwMetric
	if err := decodeCBOR(body, &in); err != nil {
		return nil, err
	}
	metrics := []cwMetric{}
	if in.Namespace != "" && in.Namespace != namespaceDynamoDB {
		return map[string]any{"Metrics": metrics}, nil
	}
	for _, s := range e.rec.list() {
		m := cwMetric{Namespace: namespaceDynamoDB, MetricName: s.metric, Dimensions: dimensionsOf(s)}
		if in.MetricName != "" && in.MetricName != s.metric {
			continue
		}
		if matchesDimensions(m.Dimensions, in.Dimensions) {
			metrics = append(metrics, m)
		}
	}
	return map[string]any{"Metrics": metrics}, nil
}

// seriesOf names the series a metric asks for: the AWS/DynamoDB namespace
// and exactly the dimensions the series carries.
func seriesOf(m cwMetric) (series, error) {
	if m.Namespace != namespaceDynamoDB {
		return series{}, invalidParameter("namespace %q: the local endpoint publishes %s only", m.Namespace,
			namespaceDynamoDB)
	}
	if m.MetricName == "" {
		return series{}, &cwError{typ: "MissingRequiredParameterException", message: "MetricName is required"}
	}
	s := series{metric: m.MetricName}
	for _, d := range m.Dimensions {
		switch d.Name {
		case "TableName":
			s.table = d.Value
		case "GlobalSecondaryIndexName":
			s.index = d.Value
		case "Operation":
			s.op = d.Value
		default:
			return series{}, invalidParameter("dimension %q is not one AWS/DynamoDB publishes here", d.Name)
		}
	}
	return s, nil
}

func dimensionsOf(s series) []cwDimension {
	dims := []cwDimension{{Name: "TableName", Value: s.table}}
	if s.index != "" {
		dims = append(dims, cwDimension{Name: "GlobalSecondaryIndexName", Value: s.index})
	}
	if s.op != "" {
		dims = append(dims, cwDimension{Name: "Operation", Value: s.op})
	}
	return dims
}

// matchesDimensions applies ListMetrics' dimension filters: each filter's
// name must be present, with its value when one is given.
func matchesDimensions(dims, filters []cwDimension) bool {
	for _, f := range filters {
		if !slices.ContainsFunc(dims, func(d cwDimension) bool {
			return d.Name == f.Name && (f.Value == "" || d.Value == f.Value)
		}) {
			return false
		}
	}
	return true
}

func checkRange(start, end time.Time) error {
	if start.IsZero() || end.IsZero() {
		return &cwError{typ: "MissingRequiredParameterException", message: "StartTime and EndTime are required"}
	}
	if !start.Before(end) {
		return invalidParameter("StartTime %s must be before EndTime %s",
			start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339))
	}
	return nil
}

// checkPeriod accepts 1 second (a local extension: CloudWatch's own
// high-resolution periods are 1, 5, 10 and 30 s for custom metrics only) and
// multiples of 60 seconds.
func checkPeriod(period int64) error {
	if period == 1 || (period > 0 && period%60 == 0) {
		return nil
	}
	return invalidParameter("period %d s: the local endpoint serves periods of 1 s or multiples of 60 s", period)
}

// statistic returns how to compute a named statistic from a period's stat.
func statistic(name string) (func(stat) float64, error) {
	switch name {
	case "Sum":
		return func(s stat) float64 { return s.sum }, nil
	case "SampleCount":
		return func(s stat) float64 { return float64(s.count) }, nil
	case "Minimum":
		return func(s stat) float64 { return s.min }, nil
	case "Maximum":
		return func(s stat) float64 { return s.max }, nil
	case "Average":
		return func(s stat) float64 {
			if s.count == 0 {
				return math.NaN()
			}
			return s.sum / float64(s.count)
		}, nil
	}
	return nil, invalidParameter("statistic %q: the local endpoint serves Sum, SampleCount, Average, "+
		"Minimum and Maximum", name)
}

func unitOf(metric string) string {
	if metric == metricLatency {
		return "Milliseconds"
	}
	return "Count"
}

// writeCBOR writes a complete CBOR response.
func writeCBOR(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Smithy-Protocol", "rpc-v2-cbor")
	h.Set("Content-Type", cborContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	setRequestID(h)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeCBORError writes err in RPC v2 CBOR's error form.
func writeCBORError(w http.ResponseWriter, status int, err error) {
	var ce *cwError
	if !errors.As(err, &ce) {
		ce = &cwError{typ: "InvalidParameterValueException"}
	}
	body, _ := cwEncoding.Marshal(map[string]string{
		"__type":  "com.amazonaws.cloudwatch#" + ce.typ,
		"message": err.Error(),
	})
	writeCBOR(w, status, body)
}
