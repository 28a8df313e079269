package capacity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// indexedTable creates table G (key id) with two global indexes:
// "all" projecting everything and "keys" projecting keys only (keyed on gk), with
// gsiWCU write units each, through client.
func indexedTable(t *testing.T, client *dynamodb.Client, gsiWCU int64) {
	t.Helper()
	_, err := client.CreateTable(context.Background(), gsiTable("G", 1000, 1000,
		gsiOnGK("all", types.ProjectionTypeAll, 100, gsiWCU), gsiOnGK("keys", types.ProjectionTypeKeysOnly, 100, gsiWCU)))
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
}

// indexUnits returns the table's and each global index's units of c.
func indexUnits(c *types.ConsumedCapacity) (table float64, gsi map[string]float64) {
	gsi = map[string]float64{}
	if c == nil {
		return -1, gsi
	}
	if c.Table != nil {
		table = aws.ToFloat64(c.Table.CapacityUnits)
	}
	for name, cap := range c.GlobalSecondaryIndexes {
		gsi[name] = aws.ToFloat64(cap.CapacityUnits)
	}
	return table, gsi
}

// TestIndexWrites checks each index write rule through the real SDK, with
// ReturnConsumedCapacity INDEXES.
func TestIndexWrites(t *testing.T) {
	clock := newFakeClock(t0)
	client := newClient(t, NewEndpoint(EndpointConfig{Now: clock.Now}))
	indexedTable(t, client, 1000)
	ctx := context.Background()
	str := func(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
	big := strings.Repeat("x", 1500) // the item is 2 KB; its keys-only entry is tiny
	key := map[string]types.AttributeValue{"id": str("i")}
	indexes := types.ReturnConsumedCapacityIndexes

	put := func(it map[string]types.AttributeValue) *types.ConsumedCapacity {
		t.Helper()
		out, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("G"), Item: it,
			ReturnConsumedCapacity: indexes})
		if err != nil {
			t.Fatalf("PutItem: %v", err)
		}
		return out.ConsumedCapacity
	}
	update := func(expr string, values map[string]types.AttributeValue) *types.ConsumedCapacity {
		t.Helper()
		out, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("G"), Key: key,
			UpdateExpression: aws.String(expr), ExpressionAttributeValues: values, ReturnConsumedCapacity: indexes})
		if err != nil {
			t.Fatalf("UpdateItem: %v", err)
		}
		return out.ConsumedCapacity
	}

	for _, tc := range []struct {
		name      string
		call      func() *types.ConsumedCapacity
		wantTable float64
		wantGSI   map[string]float64
		wantTotal float64
	}{
		{"new item outside the indexes", func() *types.ConsumedCapacity {
			return put(map[string]types.AttributeValue{"id": str("i"), "body": str(big)})
		}, 2, map[string]float64{}, 2},
		{"item enters the indexes: one write each", func() *types.ConsumedCapacity {
			return update("SET gk = :u", map[string]types.AttributeValue{":u": str("ann")})
		}, 2, map[string]float64{"all": 2, "keys": 1}, 5},
		{"projected attribute changes: one write where projected", func() *types.ConsumedCapacity {
			return update("SET body = :b", map[string]types.AttributeValue{":b": str(big + "y")})
		}, 2, map[string]float64{"all": 2}, 4},
		{"index key changes: two writes each", func() *types.ConsumedCapacity {
			return update("SET gk = :u", map[string]types.AttributeValue{":u": str("bob")})
		}, 2, map[string]float64{"all": 4, "keys": 2}, 8},
		// The embedded engine (minidyn v0.8.2) ignores REMOVE in update
		// expressions, so the item leaves the indexes by being deleted.
		{"item leaves the indexes: one write each", func() *types.ConsumedCapacity {
			out, err := client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("G"), Key: key,
				ReturnConsumedCapacity: indexes})
			if err != nil {
				t.Fatalf("DeleteItem: %v", err)
			}
			return out.ConsumedCapacity
		}, 2, map[string]float64{"all": 2, "keys": 1}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.call()
			table, gsi := indexUnits(c)
			if table != tc.wantTable || !sameUnits(gsi, tc.wantGSI) || aws.ToFloat64(c.CapacityUnits) != tc.wantTotal {
				t.Errorf("table %v, indexes %v, total %v; want %v, %v, %v",
					table, gsi, aws.ToFloat64(c.CapacityUnits), tc.wantTable, tc.wantGSI, tc.wantTotal)
			}
		})
	}

	t.Run("query on a global index is charged to the index", func(t *testing.T) {
		put(map[string]types.AttributeValue{"id": str("j"), "gk": str("cat"), "body": str(big)})
		out, err := client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("G"), IndexName: aws.String("keys"),
			KeyConditionExpression:    aws.String("gk = :u"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":u": str("cat")},
			ReturnConsumedCapacity:    indexes})
		if err != nil {
			t.Fatalf("Query: %v", err)
		}
		table, gsi := indexUnits(out.ConsumedCapacity)
		if table != 0 || !sameUnits(gsi, map[string]float64{"keys": 0.5}) {
			t.Errorf("table %v, indexes %v; want 0 and keys 0.5", table, gsi)
		}
	})
}

func sameUnits(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestIndexThrottlesTableWrites: a write whose global index is out of write
// capacity is refused, naming the index; the index's consumption and
// throttle events reach CloudWatch under GlobalSecondaryIndexName.
func TestIndexThrottlesTableWrites(t *testing.T) {
	rig := newCloudWatchRig(t, 1, 1)
	indexedTable(t, rig.ddb, 1)
	ctx := context.Background()
	item := func(id string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{
			"id": &types.AttributeValueMemberS{Value: id}, "gk": &types.AttributeValueMemberS{Value: "u"},
		}
	}
	if _, err := rig.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("G"), Item: item("a")}); err != nil {
		t.Fatalf("first put: %v", err)
	}
	_, err := rig.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("G"), Item: item("b")})
	var pte *types.ProvisionedThroughputExceededException
	if !errors.As(err, &pte) || len(pte.ThrottlingReasons) != 1 ||
		aws.ToString(pte.ThrottlingReasons[0].Reason) != "IndexWriteProvisionedThroughputExceeded" ||
		!strings.HasSuffix(aws.ToString(pte.ThrottlingReasons[0].Resource), "table/G/index/all") {
		t.Fatalf("second put at 1 index WCU: %v, want IndexWriteProvisionedThroughputExceeded on index all", err)
	}

	for _, tc := range []struct {
		metric string
		want   float64
	}{{"ConsumedWriteCapacityUnits", 1}, {"WriteThrottleEvents", 1}} {
		minuteSum(t, rig.cw, &cwtypes.Metric{Namespace: aws.String("AWS/DynamoDB"), MetricName: aws.String(tc.metric),
			Dimensions: []cwtypes.Dimension{
				{Name: aws.String("TableName"), Value: aws.String("G")},
				{Name: aws.String("GlobalSecondaryIndexName"), Value: aws.String("all")},
			}}, tc.want)
	}
}

// TestLocalIndexWrites: a local index's writes are shown under
// LocalSecondaryIndexes and count as the table's own consumption.
func TestLocalIndexWrites(t *testing.T) {
	rig := newCloudWatchRig(t, 100, 100)
	ctx := context.Background()
	_, err := rig.ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("L"),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("x"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		LocalSecondaryIndexes: []types.LocalSecondaryIndex{{
			IndexName: aws.String("byX"),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("x"), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}},
		BillingMode: types.BillingModeProvisioned,
		ProvisionedThroughput: &types.ProvisionedThroughput{
			ReadCapacityUnits: aws.Int64(100), WriteCapacityUnits: aws.Int64(100),
		},
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	out, err := rig.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("L"),
		Item:                   map[string]types.AttributeValue{"id": s("a"), "sk": s("1"), "x": s("v")},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes})
	if err != nil {
		t.Fatalf("PutItem: %v", err)
	}
	c := out.ConsumedCapacity
	if aws.ToFloat64(c.CapacityUnits) != 2 || aws.ToFloat64(c.Table.CapacityUnits) != 1 ||
		aws.ToFloat64(c.LocalSecondaryIndexes["byX"].CapacityUnits) != 1 {
		t.Errorf("ConsumedCapacity = total %v, table %v, local %v; want 2, 1, byX 1",
			aws.ToFloat64(c.CapacityUnits), aws.ToFloat64(c.Table.CapacityUnits), c.LocalSecondaryIndexes)
	}

	samples, err := (&CloudWatchSource{Client: rig.cw}).Samples(ctx, "L", t0, t0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) != 1 || samples[0].ConsumedWCU != 2 {
		t.Errorf("table L samples = %+v, want 2 WCU (table and local index)", samples)
	}
}

// TestHotIndexKeyThrottles: a global index has partitions of its own. On
// an index provisioned far above one partition, writes of items sharing
// one index key stop at that partition's 1,000 write units with
// IndexWriteKeyRangeThroughputExceeded naming the index, while an item with
// another index key still goes in; and queries of one index key stop at
// its partition's 3,000 read units, far below the index's 20,000 RCU.
func TestHotIndexKeyThrottles(t *testing.T) {
	clock := newFakeClock(t0)
	e := NewEndpoint(EndpointConfig{Now: clock.Now})
	client := inProcessClient(e)
	ctx := context.Background()
	_, err := client.CreateTable(ctx, gsiTable("G", 100, 20000, gsiOnGK("byGroup", types.ProjectionTypeAll, 20000, 20000)))
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	body := &types.AttributeValueMemberB{Value: make([]byte, 10*1024-100)} // 10 WCU with its names
	put := func(id, group string) error {
		_, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("G"),
			Item: map[string]types.AttributeValue{
				"id": &types.AttributeValueMemberS{Value: id}, "gk": &types.AttributeValueMemberS{Value: group},
				"body": body,
			}})
		return err
	}

	clock.Advance(time.Second)
	served := 0
	for ; served <= PartitionWriteUnits/10; served++ {
		if err = put(fmt.Sprint("w", served), "hot"); err != nil {
			break
		}
	}
	var pte *types.ProvisionedThroughputExceededException
	if served != PartitionWriteUnits/10 || !errors.As(err, &pte) || len(pte.ThrottlingReasons) != 1 ||
		aws.ToString(pte.ThrottlingReasons[0].Reason) != "IndexWriteKeyRangeThroughputExceeded" ||
		!strings.HasSuffix(aws.ToString(pte.ThrottlingReasons[0].Resource), "table/G/index/byGroup") {
		t.Fatalf("served %d writes of one index key, then %v; want %d then IndexWriteKeyRangeThroughputExceeded "+
			"on byGroup", served, err, PartitionWriteUnits/10)
	}
	parts := partitionCount(false, 20000, 20000)
	hotPart := partitionOf([]byte(`{"S":"hot"}`), parts)
	cold := "cold"
	for i := 0; partitionOf([]byte(fmt.Sprintf(`{"S":%q}`, cold)), parts) == hotPart; i++ {
		cold = fmt.Sprint("cold", i)
	}
	if err := put("c", cold); err != nil {
		t.Errorf("write with index key %s on another partition: %v", cold, err)
	}
	s := series{metric: "WriteKeyRangeThroughputThrottleEvents", table: "G", index: "byGroup"}
	if got := metricSum(e, s); got != 1 {
		t.Errorf("byGroup's WriteKeyRangeThroughputThrottleEvents = %v, want 1", got)
	}

	// One 100 KB item under its own index key: an eventually consistent
	// query of it reads 25 steps of 4 KB, 12.5 read units. Its index
	// partition has 2,980 of its 3,000 read units used already, so the
	// second query takes it past the budget and the third is refused.
	big := map[string]types.AttributeValue{
		"id": &types.AttributeValueMemberS{Value: "r"}, "gk": &types.AttributeValueMemberS{Value: "read"},
		"body": &types.AttributeValueMemberB{Value: make([]byte, 100*1024-len("idrgkreadbody"))},
	}
	putItem(t, client, "G", big)
	clock.Advance(time.Second)
	ix := e.table(ctx, "G").index("byGroup")
	readParts := ix.partitionsOf([]item{{"gk": json.RawMessage(`{"S":"read"}`)}})
	ix.lim.debit(clock.Now(), false, 2980, readParts)
	query := func(group string) error {
		values := map[string]types.AttributeValue{":g": &types.AttributeValueMemberS{Value: group}}
		_, err := client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("G"),
			IndexName: aws.String("byGroup"), KeyConditionExpression: aws.String("gk = :g"),
			ExpressionAttributeValues: values,
		})
		return err
	}
	for i := range 2 {
		if err := query("read"); err != nil {
			t.Fatalf("query %d: %v", i, err)
		}
	}
	err = query("read")
	if !errors.As(err, &pte) ||
		aws.ToString(pte.ThrottlingReasons[0].Reason) != "IndexReadKeyRangeThroughputExceeded" {
		t.Errorf("third query: %v, want IndexReadKeyRangeThroughputExceeded", err)
	}
	if ix.partitionsOf([]item{{"gk": json.RawMessage(`{"S":"` + cold + `"}`)}})[0] != readParts[0] {
		if err := query(cold); err != nil {
			t.Errorf("query of index key %s on another partition: %v", cold, err)
		}
	}
}
