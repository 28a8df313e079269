package capacity

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// pagedItems is how many 100,000-byte items pagedTable holds in partition
// "p": ten of them are 1,000,000 bytes, under 1 MB (1,048,576 bytes), so a
// page takes eleven, the eleventh crossing the limit; 30 items are pages of
// 11, 11 and 8.
const pagedItems = 30

// pagedName is the table pagedTable creates.
const pagedName = "Paged"

// pagedTable creates table Paged (keys id, sk; global index "byg" on gk, sk)
// and fills partition "p" with pagedItems items of exactly 100,000 bytes:
// sk "000".."029", gk "g", f "y" for even sk and "n" for odd. The clock
// moves a second after each write, which a partition's 1,000 WCU allow.
func pagedTable(t *testing.T, client *dynamodb.Client, clock *fakeClock) {
	t.Helper()
	str := types.ScalarAttributeTypeS
	_, err := client.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName: aws.String(pagedName),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("id"), AttributeType: str},
			{AttributeName: aws.String("sk"), AttributeType: str},
			{AttributeName: aws.String("gk"), AttributeType: str},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String("byg"),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String("gk"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	for i := range pagedItems {
		flag := "n"
		if i%2 == 0 {
			flag = "y"
		}
		// id "p" 3 bytes, sk 5, gk 3, f 2: the data attribute makes up the rest.
		pad := 100_000 - 3 - 5 - 3 - 2 - len("data")
		putItem(t, client, pagedName, map[string]types.AttributeValue{
			"id": s("p"), "sk": s(fmt.Sprintf("%03d", i)), "gk": s("g"), "f": s(flag),
			"data": s(strings.Repeat("x", pad)),
		})
		clock.Advance(time.Second)
	}
}

// pageWant is what one page of a paginated Query or Scan should show.
type pageWant struct {
	count, scanned int
	units          float64 // eventually consistent read units
}

// Pages of 11, 11 and 8 items of 100,000 bytes: 1,100,000 bytes is 269
// steps of 4 KB (134.5 units eventually consistent), 800,000 bytes 196 (98).
var onePartitionPages = []pageWant{{11, 11, 134.5}, {11, 11, 134.5}, {8, 8, 98}}

// checkPages compares the pages a paginator gave with want and checks that
// the items seen, by sk, are exactly wantSK in order.
func checkPages(t *testing.T, got []pageGot, want []pageWant, wantSK []string) {
	t.Helper()
	var sks []string
	for i, p := range got {
		sks = append(sks, p.sks...)
		if i >= len(want) {
			continue
		}
		w := want[i]
		if p.count != w.count || p.scanned != w.scanned || p.units != w.units {
			t.Errorf("page %d: Count %d, ScannedCount %d, %v units; want %d, %d, %v",
				i, p.count, p.scanned, p.units, w.count, w.scanned, w.units)
		}
		if (i < len(want)-1) != (p.lastKey != nil) {
			t.Errorf("page %d: LastEvaluatedKey %v, want one on every page but the last", i, p.lastKey)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d pages, want %d", len(got), len(want))
	}
	if !slices.Equal(sks, wantSK) {
		t.Errorf("items seen %v, want %v", sks, wantSK)
	}
}

// pageGot is one page a paginator gave.
type pageGot struct {
	count, scanned int
	units          float64
	sks            []string // the items' sk, when shown
	lastKey        map[string]types.AttributeValue
	attrs          map[string]bool // every attribute any item showed
}

func gotPage(items []map[string]types.AttributeValue, count, scanned int32,
	cc *types.ConsumedCapacity, last map[string]types.AttributeValue) pageGot {
	p := pageGot{count: int(count), scanned: int(scanned), lastKey: last, attrs: map[string]bool{}}
	if cc != nil {
		p.units = aws.ToFloat64(cc.CapacityUnits)
	}
	for _, it := range items {
		if v, ok := it["sk"].(*types.AttributeValueMemberS); ok {
			p.sks = append(p.sks, v.Value)
		}
		for name := range it {
			p.attrs[name] = true
		}
	}
	return p
}

func queryPages(t *testing.T, client *dynamodb.Client, in *dynamodb.QueryInput) []pageGot {
	t.Helper()
	in.TableName = aws.String(pagedName)
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	var pages []pageGot
	pager := dynamodb.NewQueryPaginator(client, in)
	for pager.HasMorePages() && len(pages) < 100 {
		out, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatalf("Query page %d: %v", len(pages), err)
		}
		pages = append(pages, gotPage(out.Items, out.Count, out.ScannedCount, out.ConsumedCapacity,
			out.LastEvaluatedKey))
	}
	return pages
}

func scanPages(t *testing.T, client *dynamodb.Client, in *dynamodb.ScanInput) []pageGot {
	t.Helper()
	in.TableName = aws.String(pagedName)
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	var pages []pageGot
	pager := dynamodb.NewScanPaginator(client, in)
	for pager.HasMorePages() && len(pages) < 100 {
		out, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatalf("Scan page %d: %v", len(pages), err)
		}
		pages = append(pages, gotPage(out.Items, out.Count, out.ScannedCount, out.ConsumedCapacity,
			out.LastEvaluatedKey))
	}
	return pages
}

// sksFrom returns the sk of items from..to-1, and only the even ones when
// even is set.
func sksFrom(from, to int, even bool) []string {
	var out []string
	for i := from; i < to; i++ {
		if !even || i%2 == 0 {
			out = append(out, fmt.Sprintf("%03d", i))
		}
	}
	return out
}

// TestPagesStopAtOneMegabyte: a Query or Scan page stops once it has read
// 1 MB of items, before any filter, and is charged what it read; a client
// paginating with the real SDK's paginator sees every item once.
func TestPagesStopAtOneMegabyte(t *testing.T) {
	clock := newFakeClock(t0)
	testPages(t, EndpointConfig{Now: clock.Now}, clock)
}

// TestPagesStopAtOneMegabyteOnDynalite: the same pages in front of dynalite,
// which stops a page at 1 MB by a size of its own.
func TestPagesStopAtOneMegabyteOnDynalite(t *testing.T) {
	backend, err := NewRemoteBackend(startDynalite(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock(t0)
	testPages(t, EndpointConfig{Backend: backend, Now: clock.Now}, clock)
}

func testPages(t *testing.T, cfg EndpointConfig, clock *fakeClock) {
	client := newClient(t, NewEndpoint(cfg))
	pagedTable(t, client, clock)
	inP := func() *dynamodb.QueryInput {
		return &dynamodb.QueryInput{KeyConditionExpression: aws.String("id = :p"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("p")}}
	}
	all := sksFrom(0, pagedItems, false)
	evens := sksFrom(0, pagedItems, true)

	t.Run("query", func(t *testing.T) {
		checkPages(t, queryPages(t, client, inP()), onePartitionPages, all)
	})
	t.Run("scan", func(t *testing.T) {
		checkPages(t, scanPages(t, client, &dynamodb.ScanInput{}), onePartitionPages, all)
	})
	t.Run("global index query", func(t *testing.T) {
		in := &dynamodb.QueryInput{IndexName: aws.String("byg"), KeyConditionExpression: aws.String("gk = :g"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":g": s("g")}}
		pages := queryPages(t, client, in)
		checkPages(t, pages, onePartitionPages, all)
		if len(pages) > 0 {
			var names []string
			for name := range pages[0].lastKey {
				names = append(names, name)
			}
			slices.Sort(names)
			if !slices.Equal(names, []string{"gk", "id", "sk"}) {
				t.Errorf("LastEvaluatedKey names %v, want the table's and the index's keys", names)
			}
		}
	})

	// The filter applies after the cut: pages read 11 items (6 even, 5
	// even) and are charged for all of them.
	filtered := []pageWant{{6, 11, 134.5}, {5, 11, 134.5}, {4, 8, 98}}
	t.Run("filtered query", func(t *testing.T) {
		in := inP()
		in.FilterExpression = aws.String("f = :y")
		in.ExpressionAttributeValues[":y"] = s("y")
		checkPages(t, queryPages(t, client, in), filtered, evens)
	})
	t.Run("filtered scan", func(t *testing.T) {
		in := &dynamodb.ScanInput{FilterExpression: aws.String("f = :y"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":y": s("y")}}
		checkPages(t, scanPages(t, client, in), filtered, evens)
	})
	t.Run("filtered, projected query", func(t *testing.T) {
		in := inP()
		in.FilterExpression = aws.String("f = :y")
		in.ProjectionExpression = aws.String("#s, f")
		in.ExpressionAttributeNames = map[string]string{"#s": "sk"}
		in.ExpressionAttributeValues[":y"] = s("y")
		pages := queryPages(t, client, in)
		checkPages(t, pages, filtered, evens)
		for i, p := range pages {
			if !hasExactly(p.attrs, "f", "sk") {
				t.Errorf("page %d shows attributes %v, want only f and sk", i, p.attrs)
			}
		}
	})
	t.Run("filtered count", func(t *testing.T) {
		in := inP()
		in.FilterExpression = aws.String("f = :y")
		in.Select = types.SelectCount
		in.ExpressionAttributeValues[":y"] = s("y")
		checkPages(t, queryPages(t, client, in), filtered, nil)
	})

	// Limit counts items read, before the filter, and the 1 MB cut comes
	// first when it is reached first.
	t.Run("limit above the cut", func(t *testing.T) {
		in := inP()
		in.Limit = aws.Int32(20)
		checkPages(t, queryPages(t, client, in), onePartitionPages, all)
	})
	t.Run("limit below the cut, filtered", func(t *testing.T) {
		// Items in another partition that sorts first: minidyn counts
		// them towards a filtered Query's Limit; DynamoDB does not.
		for i := range 10 {
			putItem(t, client, pagedName, map[string]types.AttributeValue{
				"id": s("a"), "sk": s(fmt.Sprint(i)), "f": s("y")})
		}
		in := inP()
		in.Limit = aws.Int32(8)
		in.FilterExpression = aws.String("f = :y")
		in.ExpressionAttributeValues[":y"] = s("y")
		// 8 items of 100,000 bytes read per page: 196 steps, 98 units.
		want := []pageWant{{4, 8, 98}, {4, 8, 98}, {4, 8, 98}, {3, 6, 73.5}}
		checkPages(t, queryPages(t, client, in), want, evens)
	})
}

// hasExactly reports whether set holds exactly names.
func hasExactly(set map[string]bool, names ...string) bool {
	if len(set) != len(names) {
		return false
	}
	for _, n := range names {
		if !set[n] {
			return false
		}
	}
	return true
}
