package capacity

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestDescribeTableFilledIn: on the embedded engine, CreateTable and
// DescribeTable describe what the endpoint knows (attribute definitions,
// creation time, sizes, index ARNs, index throughput after UpdateTable),
// and every answer has a request id.
func TestDescribeTableFilledIn(t *testing.T) {
	ctx := context.Background()
	e := NewEndpoint(EndpointConfig{Now: newFakeClock(t0).Now})
	client := newClient(t, e)
	created, err := client.CreateTable(ctx, gsiTable("G", 10, 20, gsiOnGK("gi", types.ProjectionTypeAll, 3, 4)))
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	if id, _ := awsmiddleware.GetRequestIDMetadata(created.ResultMetadata); len(id) != 52 {
		t.Errorf("CreateTable request id %q, want 52 characters", id)
	}
	check := func(name string, d *types.TableDescription, gsiRCU, gsiWCU int64) {
		t.Helper()
		if len(d.AttributeDefinitions) != 2 || aws.ToString(d.AttributeDefinitions[1].AttributeName) != "gk" {
			t.Errorf("%s: AttributeDefinitions %+v", name, d.AttributeDefinitions)
		}
		if d.CreationDateTime == nil || !d.CreationDateTime.Equal(t0) {
			t.Errorf("%s: CreationDateTime %v, want %v", name, d.CreationDateTime, t0)
		}
		if d.TableSizeBytes == nil {
			t.Errorf("%s: TableSizeBytes missing", name)
		}
		if len(d.GlobalSecondaryIndexes) != 1 {
			t.Fatalf("%s: indexes %+v", name, d.GlobalSecondaryIndexes)
		}
		gsi := d.GlobalSecondaryIndexes[0]
		if want := "arn:aws:dynamodb:us-east-1:000000000000:table/G/index/gi"; aws.ToString(gsi.IndexArn) != want {
			t.Errorf("%s: IndexArn %q, want %q", name, aws.ToString(gsi.IndexArn), want)
		}
		pt := gsi.ProvisionedThroughput
		if pt == nil || aws.ToInt64(pt.ReadCapacityUnits) != gsiRCU || aws.ToInt64(pt.WriteCapacityUnits) != gsiWCU {
			t.Errorf("%s: index throughput %+v, want %d/%d", name, pt, gsiRCU, gsiWCU)
		}
	}
	check("CreateTable", created.TableDescription, 3, 4)

	_, err = client.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("G"),
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Update: &types.UpdateGlobalSecondaryIndexAction{
			IndexName: aws.String("gi"), ProvisionedThroughput: &types.ProvisionedThroughput{
				ReadCapacityUnits: aws.Int64(7), WriteCapacityUnits: aws.Int64(8)}}}}})
	if err != nil {
		t.Fatalf("UpdateTable: %v", err)
	}
	described, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("G")})
	if err != nil {
		t.Fatalf("DescribeTable: %v", err)
	}
	check("DescribeTable", described.Table, 7, 8)

	// An error answer has a request id too.
	_, err = client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("missing"), Key: key("a")})
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || len(re.ServiceRequestID()) != 52 {
		t.Errorf("GetItem of a missing table: %v, want an error with a request id", err)
	}
}
