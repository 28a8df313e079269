package main

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/truora/minidyn/server"

	"github.com/abusesim/abusesim/capacity"
)

func TestDDBLocalRefusesUnsafeFlags(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"public addr", []string{"--addr", "0.0.0.0:8000"}, "not a loopback address"},
		{"bad addr", []string{"--addr", "8000"}, "want host:port"},
		{"remote backend", []string{"--backend", "http://dynamodb.us-east-1.amazonaws.com"}, "not on loopback"},
		{"backend not a URL", []string{"--backend", "dynalite"}, `want "embedded" or a URL`},
		{"burst out of range", []string{"--burst-start-seconds", "301"}, "0 to 300"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append([]string{"ddb-local"}, tc.args...)...)
			if code != exitUsage || !strings.Contains(stderr, tc.wantErr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, exitUsage, tc.wantErr)
			}
		})
	}
}

// TestDDBLocalServes starts the command on a free loopback port, in front of
// the embedded engine and in front of a remote engine, and drives it with
// the real DynamoDB and CloudWatch clients.
func TestDDBLocalServes(t *testing.T) {
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	remote := httptest.NewServer(server.NewServer())
	t.Cleanup(remote.Close)

	for _, backend := range []string{"embedded", remote.URL} {
		t.Run(backend, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			ready := make(chan string, 1)
			var stdout bytes.Buffer
			opts := &ddbLocalOptions{addr: "127.0.0.1:0", backend: backend, region: "us-east-1",
				stdout: &stdout, stderr: &bytes.Buffer{}, ready: func(a string) { ready <- a }}
			done := make(chan error, 1)
			go func() { done <- runDDBLocal(ctx, opts) }()

			var addr string
			select {
			case addr = <-ready:
			case err := <-done:
				t.Fatalf("ddb-local stopped before serving: %v", err)
			}
			exerciseDDBLocal(t, "http://"+addr)

			cancel()
			if err := <-done; err != nil {
				t.Fatalf("ddb-local: %v", err)
			}
			if !strings.Contains(stdout.String(), "ddb-local: stopped") {
				t.Errorf("stdout = %q, want a stop message", stdout.String())
			}
		})
	}
}

func exerciseDDBLocal(t *testing.T, url string) {
	t.Helper()
	ctx := context.Background()
	db := capacity.NewDynamoDBClient(url, "", nil, capacity.RetryConnectionErrorsOnly)
	start := time.Now().Add(-time.Minute)
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("T"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModeProvisioned,
		ProvisionedThroughput: &types.ProvisionedThroughput{
			ReadCapacityUnits: aws.Int64(1), WriteCapacityUnits: aws.Int64(100),
		},
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	key := map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "k"}}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("T"), Item: key}); err != nil {
		t.Fatalf("PutItem: %v", err)
	}

	// One strongly consistent read per second fits 1 RCU; a burst of them
	// does not (the burst pool starts empty).
	var throttle *types.ProvisionedThroughputExceededException
	for i := 0; i < 20 && throttle == nil; i++ {
		_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("T"), Key: key,
			ConsistentRead: aws.Bool(true)})
		if err != nil && !errors.As(err, &throttle) {
			t.Fatalf("GetItem: %v", err)
		}
	}
	if throttle == nil || len(throttle.ThrottlingReasons) != 1 ||
		*throttle.ThrottlingReasons[0].Reason != "TableReadProvisionedThroughputExceeded" {
		t.Fatalf("20 reads at 1 RCU: throttle = %v, want TableReadProvisionedThroughputExceeded", throttle)
	}

	cw := capacity.NewCloudWatchClient(url, "us-east-1", nil)
	out, err := cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
		Namespace:  aws.String("AWS/DynamoDB"),
		MetricName: aws.String("ConsumedWriteCapacityUnits"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("TableName"), Value: aws.String("T")}},
		StartTime:  aws.Time(start), EndTime: aws.Time(start.Add(time.Hour)), Period: aws.Int32(3600),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticSum},
	})
	if err != nil {
		t.Fatalf("GetMetricStatistics: %v", err)
	}
	if len(out.Datapoints) != 1 || *out.Datapoints[0].Sum != 1 {
		t.Errorf("ConsumedWriteCapacityUnits datapoints = %+v, want one with Sum 1", out.Datapoints)
	}
}
