package capacity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// createTable creates a table keyed by "id" (and "sk" when sorted) through
// the client; rcu 0 means on demand.
func createTable(t *testing.T, client *dynamodb.Client, name string, sorted bool, rcu, wcu int64) {
	t.Helper()
	in := &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
	}
	if sorted {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS,
		})
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{
			AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange,
		})
	}
	if rcu == 0 {
		in.BillingMode = types.BillingModePayPerRequest
	} else {
		in.BillingMode = types.BillingModeProvisioned
		in.ProvisionedThroughput = &types.ProvisionedThroughput{
			ReadCapacityUnits: aws.Int64(rcu), WriteCapacityUnits: aws.Int64(wcu),
		}
	}
	if _, err := client.CreateTable(context.Background(), in); err != nil {
		t.Fatalf("CreateTable %s: %v", name, err)
	}
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// sizedItem returns an item keyed id whose size is exactly bytes: the key
// costs len("id")+len(id), the rest is the "data" string attribute.
func sizedItem(id string, bytes int) map[string]types.AttributeValue {
	pad := bytes - len("id") - len(id) - len("data")
	return map[string]types.AttributeValue{"id": s(id), "data": s(strings.Repeat("x", pad))}
}

func key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"id": s(id)}
}

func TestEndpointConsumedCapacity(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock(t0)
	e := NewEndpoint(EndpointConfig{Now: clock.Now, BurstStartSeconds: BurstSeconds})
	client := newClient(t, e)
	createTable(t, client, "T", false, 1000, 1000)
	createTable(t, client, "Q", true, 1000, 1000)

	put := func(t *testing.T, it map[string]types.AttributeValue) *types.ConsumedCapacity {
		t.Helper()
		out, err := client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String("T"), Item: it, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
		})
		if err != nil {
			t.Fatalf("PutItem: %v", err)
		}
		return out.ConsumedCapacity
	}
	get := func(t *testing.T, id string, strong bool, projection string) *types.ConsumedCapacity {
		t.Helper()
		in := &dynamodb.GetItemInput{
			TableName: aws.String("T"), Key: key(id), ConsistentRead: aws.Bool(strong),
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
		}
		if projection != "" {
			in.ProjectionExpression = aws.String(projection)
		}
		out, err := client.GetItem(ctx, in)
		if err != nil {
			t.Fatalf("GetItem: %v", err)
		}
		return out.ConsumedCapacity
	}
	wantWrite := func(t *testing.T, cc *types.ConsumedCapacity, table string, want float64) {
		t.Helper()
		if cc == nil {
			t.Fatal("ConsumedCapacity = nil")
		}
		if aws.ToString(cc.TableName) != table || aws.ToFloat64(cc.CapacityUnits) != want ||
			aws.ToFloat64(cc.WriteCapacityUnits) != want || cc.ReadCapacityUnits != nil {
			t.Errorf("ConsumedCapacity = %s %v (write %v, read %v), want %s %v",
				aws.ToString(cc.TableName), aws.ToFloat64(cc.CapacityUnits),
				aws.ToFloat64(cc.WriteCapacityUnits), cc.ReadCapacityUnits, table, want)
		}
	}
	wantRead := func(t *testing.T, cc *types.ConsumedCapacity, table string, want float64) {
		t.Helper()
		if cc == nil {
			t.Fatal("ConsumedCapacity = nil")
		}
		if aws.ToString(cc.TableName) != table || aws.ToFloat64(cc.CapacityUnits) != want ||
			aws.ToFloat64(cc.ReadCapacityUnits) != want || cc.WriteCapacityUnits != nil {
			t.Errorf("ConsumedCapacity = %s %v (read %v), want %s %v", aws.ToString(cc.TableName),
				aws.ToFloat64(cc.CapacityUnits), aws.ToFloat64(cc.ReadCapacityUnits), table, want)
		}
	}

	t.Run("PutItem at the 1 KB boundary", func(t *testing.T) {
		wantWrite(t, put(t, sizedItem("w1", 1024)), "T", 1)
		wantWrite(t, put(t, sizedItem("w2", 1025)), "T", 2)
	})
	t.Run("PutItem charges the larger of old and new", func(t *testing.T) {
		wantWrite(t, put(t, sizedItem("w2", 10)), "T", 2) // replaces 1025 bytes
		wantWrite(t, put(t, sizedItem("w2", 10)), "T", 1) // replaces 10 bytes
	})
	t.Run("GetItem at the 4 KB boundary", func(t *testing.T) {
		put(t, sizedItem("r1", 4096))
		put(t, sizedItem("r2", 4097))
		wantRead(t, get(t, "r1", true, ""), "T", 1)
		wantRead(t, get(t, "r2", true, ""), "T", 2)
		wantRead(t, get(t, "r1", false, ""), "T", 0.5)
		wantRead(t, get(t, "r2", false, ""), "T", 1)
	})
	t.Run("GetItem of a missing item", func(t *testing.T) {
		wantRead(t, get(t, "nothing", true, ""), "T", 1)
		wantRead(t, get(t, "nothing", false, ""), "T", 0.5)
	})
	t.Run("GetItem with a projection charges the whole item", func(t *testing.T) {
		wantRead(t, get(t, "r2", true, "id"), "T", 2)
	})
	t.Run("no ReturnConsumedCapacity, no ConsumedCapacity", func(t *testing.T) {
		out, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("T"), Key: key("r1")})
		if err != nil {
			t.Fatal(err)
		}
		if out.ConsumedCapacity != nil {
			t.Errorf("ConsumedCapacity = %+v, want nil", out.ConsumedCapacity)
		}
		if out.Item == nil {
			t.Error("Item = nil, want the stored item")
		}
	})
	t.Run("INDEXES adds the table figures", func(t *testing.T) {
		out, err := client.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String("T"), Key: key("r2"), ConsistentRead: aws.Bool(true),
			ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes,
		})
		if err != nil {
			t.Fatal(err)
		}
		wantRead(t, out.ConsumedCapacity, "T", 2)
		if tbl := out.ConsumedCapacity.Table; tbl == nil || aws.ToFloat64(tbl.CapacityUnits) != 2 ||
			aws.ToFloat64(tbl.ReadCapacityUnits) != 2 {
			t.Errorf("Table = %+v, want 2 read units", tbl)
		}
	})
	t.Run("UpdateItem charges the larger of before and after", func(t *testing.T) {
		put(t, sizedItem("u1", 1020))
		out, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String("T"), Key: key("u1"),
			UpdateExpression:          aws.String("SET extra = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("abcdefgh")},
			ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal,
		})
		if err != nil {
			t.Fatal(err)
		}
		wantWrite(t, out.ConsumedCapacity, "T", 2) // 1020 + 5 + 8 bytes
	})
	t.Run("DeleteItem charges the deleted item", func(t *testing.T) {
		put(t, sizedItem("d1", 2049))
		del := func(id string) *types.ConsumedCapacity {
			out, err := client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
				TableName: aws.String("T"), Key: key(id), ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
			})
			if err != nil {
				t.Fatal(err)
			}
			return out.ConsumedCapacity
		}
		wantWrite(t, del("d1"), "T", 3)
		wantWrite(t, del("d1"), "T", 1) // already gone
	})
	t.Run("Query sums sizes and rounds once", func(t *testing.T) {
		for _, sk := range []string{"a", "b", "c"} {
			_, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Q"), Item: map[string]types.AttributeValue{
				"id": s("p"), "sk": s(sk), "data": s(strings.Repeat("y", 2000-len("idpskadata"))),
			}})
			if err != nil {
				t.Fatal(err)
			}
		}
		query := func(filter bool) *types.ConsumedCapacity {
			in := &dynamodb.QueryInput{
				TableName: aws.String("Q"), KeyConditionExpression: aws.String("id = :p"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("p")},
				ConsistentRead:            aws.Bool(true), ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
			}
			if filter {
				in.FilterExpression = aws.String("sk = :none")
				in.ExpressionAttributeValues[":none"] = s("zzz")
			}
			out, err := client.Query(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{false: 3, true: 0}[filter]; len(out.Items) != want {
				t.Errorf("Query returned %d items, want %d", len(out.Items), want)
			}
			return out.ConsumedCapacity
		}
		wantRead(t, query(false), "Q", 2) // 6000 bytes
		wantRead(t, query(true), "Q", 2)  // the filter drops items after they are read
	})
	t.Run("batch calls round each item", func(t *testing.T) {
		// AWS's example: 1.5 KB and 6.5 KB read by BatchGetItem cost 4 KB + 8 KB.
		bw, err := client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{"T": {
				{PutRequest: &types.PutRequest{Item: sizedItem("b1", 1536)}},
				{PutRequest: &types.PutRequest{Item: sizedItem("b2", 6656)}},
			}},
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(bw.ConsumedCapacity) != 1 {
			t.Fatalf("BatchWriteItem ConsumedCapacity = %+v, want one table", bw.ConsumedCapacity)
		}
		wantWrite(t, &bw.ConsumedCapacity[0], "T", 2+7)

		bg, err := client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
			RequestItems: map[string]types.KeysAndAttributes{"T": {
				Keys: []map[string]types.AttributeValue{key("b1"), key("b2"), key("missing")}, ConsistentRead: aws.Bool(true),
			}},
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(bg.ConsumedCapacity) != 1 {
			t.Fatalf("BatchGetItem ConsumedCapacity = %+v, want one table", bg.ConsumedCapacity)
		}
		wantRead(t, &bg.ConsumedCapacity[0], "T", 1+2+1)
	})
	t.Run("failed conditional write still consumes", func(t *testing.T) {
		clock.Advance(10 * time.Second)
		at := clock.Now()
		_, err := client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String("T"), Item: sizedItem("r2", 100),
			ConditionExpression: aws.String("attribute_not_exists(id)"),
		})
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			t.Fatalf("error = %v, want ConditionalCheckFailedException", err)
		}
		samples, _ := e.Samples(ctx, "T", at, at.Add(time.Second))
		if len(samples) != 1 || samples[0].ConsumedWCU != 5 { // the existing 4097-byte item
			t.Errorf("samples = %+v, want 5 WCU", samples)
		}
	})
	t.Run("DescribeTable shows what the endpoint enforces", func(t *testing.T) {
		out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("T")})
		if err != nil {
			t.Fatal(err)
		}
		tbl := out.Table
		if tbl.TableStatus != types.TableStatusActive ||
			aws.ToString(tbl.TableArn) != "arn:aws:dynamodb:us-east-1:000000000000:table/T" ||
			tbl.ProvisionedThroughput == nil || aws.ToInt64(tbl.ProvisionedThroughput.ReadCapacityUnits) != 1000 {
			t.Errorf("Table = status %q arn %q throughput %+v", tbl.TableStatus,
				aws.ToString(tbl.TableArn), tbl.ProvisionedThroughput)
		}
	})
}

func TestEndpointThrottles(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock(t0)
	e := NewEndpoint(EndpointConfig{Now: clock.Now, Region: "eu-west-1", AccountID: "123456789012"})
	client := newClient(t, e)
	createTable(t, client, "P", false, 5, 2)
	const arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/P"

	putItem(t, client, "P", sizedItem("a", 100))

	getStrong := func() error {
		_, err := client.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String("P"), Key: key("a"), ConsistentRead: aws.Bool(true),
		})
		return err
	}
	wantThrottle := func(t *testing.T, err error, reason string) {
		t.Helper()
		var pte *types.ProvisionedThroughputExceededException
		if !errors.As(err, &pte) {
			t.Fatalf("error = %v, want ProvisionedThroughputExceededException", err)
		}
		if len(pte.ThrottlingReasons) != 1 || aws.ToString(pte.ThrottlingReasons[0].Reason) != reason ||
			aws.ToString(pte.ThrottlingReasons[0].Resource) != arn {
			t.Errorf("ThrottlingReasons = %+v, want %s on %s", pte.ThrottlingReasons, reason, arn)
		}
	}

	t.Run("reads past 5 RCU in one second", func(t *testing.T) {
		for i := range 5 {
			if err := getStrong(); err != nil {
				t.Fatalf("read %d: %v", i, err)
			}
		}
		wantThrottle(t, getStrong(), "TableReadProvisionedThroughputExceeded")
		wantThrottle(t, getStrong(), "TableReadProvisionedThroughputExceeded")
	})
	t.Run("writes past 2 WCU in one second", func(t *testing.T) {
		// The seeding PutItem used one of the two units.
		putItem(t, client, "P", sizedItem("b", 100))
		_, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("P"), Item: sizedItem("c", 100)})
		wantThrottle(t, err, "TableWriteProvisionedThroughputExceeded")
	})
	t.Run("the next second has capacity again", func(t *testing.T) {
		clock.Advance(time.Second)
		if err := getStrong(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("per-second samples", func(t *testing.T) {
		got, err := e.Samples(ctx, "P", t0, t0.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		want := []Sample{
			{Start: t0, ConsumedRCU: 5, ConsumedWCU: 2, ReadThrottleEvents: 2, WriteThrottleEvents: 1},
			{Start: t0.Add(time.Second), ConsumedRCU: 1},
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Samples =\n%+v\nwant\n%+v", got, want)
		}
	})
	t.Run("UpdateTable raises the limit", func(t *testing.T) {
		_, err := client.UpdateTable(ctx, &dynamodb.UpdateTableInput{
			TableName: aws.String("P"),
			ProvisionedThroughput: &types.ProvisionedThroughput{
				ReadCapacityUnits: aws.Int64(50), WriteCapacityUnits: aws.Int64(2),
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 49 { // one unit of this second went to the read above
			if err := getStrong(); err != nil {
				t.Fatalf("read %d: %v", i, err)
			}
		}
		wantThrottle(t, getStrong(), "TableReadProvisionedThroughputExceeded")
	})
}

func TestEndpointOnDemandIsNotThrottled(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock(t0)
	e := NewEndpoint(EndpointConfig{Now: clock.Now})
	client := newClient(t, e)
	createTable(t, client, "D", false, 0, 0)

	for i := range 50 {
		if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String("D"), Item: sizedItem(fmt.Sprint(i), 2048),
		}); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	got, _ := e.Samples(ctx, "D", t0, t0.Add(time.Second))
	if len(got) != 1 || got[0].ConsumedWCU != 100 || got[0].WriteThrottleEvents != 0 {
		t.Errorf("Samples = %+v, want 100 WCU and no throttles", got)
	}
}

// TestEndpointConcurrent runs hundreds of concurrent calls (run with -race)
// and checks that every unit is accounted for.
func TestEndpointConcurrent(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock(t0)
	e := NewEndpoint(EndpointConfig{Now: clock.Now})
	client := newClient(t, e)
	createTable(t, client, "C", false, 0, 0)
	zero := &types.AttributeValueMemberN{Value: "0"}
	putItem(t, client, "C", map[string]types.AttributeValue{"id": s("counter"), "n": zero})

	const workers = 300
	var wg sync.WaitGroup
	errs := make(chan error, workers*3)
	for i := range workers {
		wg.Go(func() {
			id := fmt.Sprintf("item-%d", i)
			put := &dynamodb.PutItemInput{TableName: aws.String("C"), Item: sizedItem(id, 3000)}
			if _, err := client.PutItem(ctx, put); err != nil {
				errs <- err
			}
			if _, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("C"), Key: key(id)}); err != nil {
				errs <- err
			}
			if _, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName: aws.String("C"), Key: key("counter"),
				UpdateExpression:          aws.String("SET n = n + :one"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}},
			}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	got, _ := e.Samples(ctx, "C", t0, t0.Add(time.Second))
	// Seed 1 WCU; each worker: put 3 WCU, eventual get 0.5 RCU, update 1 WCU.
	want := Sample{Start: t0, ConsumedRCU: workers * 0.5, ConsumedWCU: 1 + workers*4}
	if len(got) != 1 || got[0] != want {
		t.Errorf("Samples = %+v, want [%+v]", got, want)
	}

	out, err := client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String("C"), Key: key("counter"), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := out.Item["n"].(*types.AttributeValueMemberN).Value; n != fmt.Sprint(workers) {
		t.Errorf("counter = %s, want %d", n, workers)
	}
}
