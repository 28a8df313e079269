package capacity

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// dynaliteHowTo says how to get what TestDynaliteCrossCheck needs.
const dynaliteHowTo = "install Node.js 20 and run `npm install --prefix .ci dynalite@4` " +
	"at the repository root (.ci/run does), or set ABUSESIM_DYNALITE to a dynalite executable"

// startDynalite starts dynalite on a free loopback port for the test and
// returns its URL, skipping the test when Node or dynalite is missing.
func startDynalite(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("ABUSESIM_DYNALITE")
	if bin == "" {
		bin = filepath.Join("..", ".ci", "node_modules", ".bin", "dynalite")
	}
	if _, err := os.Stat(bin); err != nil {
		skipOrFailInCI(t, "dynalite not found at %s: %s", bin, dynaliteHowTo)
	}
	if _, err := exec.LookPath("node"); err != nil {
		skipOrFailInCI(t, "node not on PATH: %s", dynaliteHowTo)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, bin, "--host", "127.0.0.1", "--port", fmt.Sprint(port),
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start dynalite: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})

	// dynalite prints one line once it listens.
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- line
	}()
	select {
	case line := <-ready:
		if !strings.Contains(line, "listening") {
			t.Fatalf("dynalite did not start: %q", line)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("dynalite did not report listening within 30 s")
	}
	return fmt.Sprintf("http://127.0.0.1:%d", port)
}

// utf16Len is how dynalite measures a string: in UTF-16 code units.
func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }

// TestDynaliteCrossCheck plays the same operations against dynalite itself,
// against ddb-local in front of dynalite and against ddb-local in front of
// the embedded engine, and compares the ConsumedCapacity each reports.
// ddb-local must report the same figures whatever its backend. dynalite's
// own figures must match, except where it measures strings in UTF-16 code
// units and AWS (and ddb-local) in UTF-8 bytes, and where it ignores
// ConsistentRead on Scan: there each side must match its own rule.
func TestDynaliteCrossCheck(t *testing.T) {
	url := startDynalite(t)
	remote, err := NewRemoteBackend(url, nil)
	if err != nil {
		t.Fatal(err)
	}

	direct := newRemoteClient(t, url)
	viaDynalite := newClient(t, NewEndpoint(EndpointConfig{Backend: remote}))
	embedded := newClient(t, NewEndpoint(EndpointConfig{}))

	ascii := strings.Repeat("a", 2900)
	accented := strings.Repeat("é", 700) // 1,400 UTF-8 bytes, 700 UTF-16 units
	str := func(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
	key := func(id string) map[string]types.AttributeValue { return map[string]types.AttributeValue{"id": str(id)} }
	itemA := map[string]types.AttributeValue{"id": str("a"), "body": str(ascii)}
	itemA2 := map[string]types.AttributeValue{"id": str("a"), "body": str(ascii + ascii)}
	itemB := map[string]types.AttributeValue{"id": str("b"), "body": str(accented)}
	sizeA2 := len("id") + 1 + len("body") + 2*len(ascii)
	sizeB8 := len("id") + 1 + len("body") + len(accented)
	sizeB16 := len("id") + 1 + len("body") + utf16Len(accented)

	total := types.ReturnConsumedCapacityTotal
	steps := []struct {
		name          string
		call          func(c *dynamodb.Client, tn *string) (*types.ConsumedCapacity, error)
		aws, dynalite float64
	}{
		{"put ascii", func(c *dynamodb.Client, tn *string) (*types.ConsumedCapacity, error) {
			o, err := c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: tn, Item: itemA, ReturnConsumedCapacity: total})
			return cc(o, err, func() *types.ConsumedCapacity { return o.ConsumedCapacity })
		}, 3, 3},
		{"put accented", func(c *dynamodb.Client, tn *string) (*types.ConsumedCapacity, error) {
			o, err := c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: tn, Item: itemB, ReturnConsumedCapacity: total})
			return cc(o, err, func() *types.ConsumedCapacity { return o.ConsumedCapacity })
		}, WriteUnits(sizeB8), WriteUnits(sizeB16)},
		{"get strong", func(c *dynamodb.Client, tn *string) (*types.ConsumedCapacity, error) {
			o, err := c.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: tn, Key: key("a"),
				ConsistentRead: aws.Bool(true), ReturnConsumedCapacity: total})
			return cc(o, err, func() *types.ConsumedCapacity { return o.ConsumedCapacity })
		}, 1, 1},
		{"get missing, eventual", func(c *dynamodb.Client, tn *string) (*types.ConsumedCapacity, error) {
			o, err := c.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: tn, Key: key("nope"),
				ReturnConsumedCapacity: total})
			return cc(o, err, func() *types.ConsumedCapacity { return o.ConsumedCapacity })
		}, 0.5, 0.5},
		{"overwrite with a larger item", func(c *dynamodb.Client, tn *string) (*types.ConsumedCapacity, error) {
			o, err := c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: tn, Item: itemA2, ReturnConsumedCapacity: total})
			return cc(o, err, func() *types.ConsumedCapacity { return o.ConsumedCapacity })
		}, 6, 6},
		{"scan", func(c *dynamodb.Client, tn *string) (*types.ConsumedCapacity, error) {
			o, err := c.Scan(context.Background(), &dynamodb.ScanInput{TableName: tn, ConsistentRead: aws.Bool(true),
				ReturnConsumedCapacity: total})
			return cc(o, err, func() *types.ConsumedCapacity { return o.ConsumedCapacity })
		}, math.Ceil(float64(sizeA2+sizeB8) / 4096),
			// dynalite's Scan validation drops ConsistentRead, so it charges
			// an eventually consistent scan.
			0.5 * math.Ceil(float64(sizeA2+sizeB16)/4096)},
		{"delete", func(c *dynamodb.Client, tn *string) (*types.ConsumedCapacity, error) {
			o, err := c.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: tn, Key: key("a"),
				ReturnConsumedCapacity: total})
			return cc(o, err, func() *types.ConsumedCapacity { return o.ConsumedCapacity })
		}, 6, 6},
		{"delete missing", func(c *dynamodb.Client, tn *string) (*types.ConsumedCapacity, error) {
			o, err := c.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: tn, Key: key("a"),
				ReturnConsumedCapacity: total})
			return cc(o, err, func() *types.ConsumedCapacity { return o.ConsumedCapacity })
		}, 1, 1},
	}

	// dynalite holds two of the tables, so each target has its own name.
	targets := []struct {
		name, table string
		client      *dynamodb.Client
		dynalite    bool
	}{
		{"dynalite itself", "direct", direct, true},
		{"ddb-local in front of dynalite", "fronted", viaDynalite, false},
		{"ddb-local embedded", "embedded", embedded, false},
	}
	for _, tg := range targets {
		createOnDemandTable(t, tg.client, tg.table)
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			for _, tg := range targets {
				want := s.aws
				if tg.dynalite {
					want = s.dynalite
				}
				got, err := s.call(tg.client, aws.String(tg.table))
				if err != nil {
					t.Fatalf("%s: %v", tg.name, err)
				}
				if got == nil || aws.ToFloat64(got.CapacityUnits) != want {
					t.Errorf("%s: ConsumedCapacity = %v, want %v", tg.name, units(got), want)
				}
			}
		})
	}
}

func cc[T any](out *T, err error, get func() *types.ConsumedCapacity) (*types.ConsumedCapacity, error) {
	if err != nil || out == nil {
		return nil, err
	}
	return get(), nil
}

func units(c *types.ConsumedCapacity) any {
	if c == nil {
		return "none"
	}
	return aws.ToFloat64(c.CapacityUnits)
}

func newRemoteClient(t *testing.T, url string) *dynamodb.Client {
	t.Helper()
	return NewDynamoDBClient(url, "", nil, noRetries)
}

func createOnDemandTable(t *testing.T, c *dynamodb.Client, name string) {
	t.Helper()
	_, err := c.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatalf("CreateTable %s: %v", name, err)
	}
}
