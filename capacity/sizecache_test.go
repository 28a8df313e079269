package capacity

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/truora/minidyn/server"
)

// TestWriteChargesWithAndWithoutSizeCache plays writes whose charge depends
// on the item they replace, with the endpoint's own engine (size cache on)
// and with a shared engine that is also written behind the endpoint's back
// (size cache off), which must still be charged the item really there.
func TestWriteChargesWithAndWithoutSizeCache(t *testing.T) {
	str := func(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
	big := map[string]types.AttributeValue{"id": str("k"), "body": str(strings.Repeat("x", 3000))}
	small := map[string]types.AttributeValue{"id": str("k")}
	key := map[string]types.AttributeValue{"id": str("k")}

	shared := server.NewServer()
	for _, tc := range []struct {
		name      string
		cfg       EndpointConfig
		behind    *dynamodb.Client // writes to the engine without the endpoint
		wantCache bool
	}{
		{"own engine", EndpointConfig{}, nil, true},
		{"shared engine", EndpointConfig{Backend: shared}, newClient(t, shared), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEndpoint(tc.cfg)
			if got := e.sizes != nil; got != tc.wantCache {
				t.Fatalf("size cache on = %v, want %v", got, tc.wantCache)
			}
			client := newClient(t, e)
			ctx := context.Background()
			createOnDemandTable(t, client, "S")
			put := func(it map[string]types.AttributeValue) float64 {
				t.Helper()
				out, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("S"), Item: it,
					ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
				if err != nil {
					t.Fatalf("PutItem: %v", err)
				}
				return aws.ToFloat64(out.ConsumedCapacity.CapacityUnits)
			}
			del := func() float64 {
				t.Helper()
				out, err := client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("S"), Key: key,
					ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
				if err != nil {
					t.Fatalf("DeleteItem: %v", err)
				}
				return aws.ToFloat64(out.ConsumedCapacity.CapacityUnits)
			}

			for i, step := range []struct {
				call func() float64
				want float64
			}{
				{func() float64 { return put(big) }, 3},
				{func() float64 { return put(small) }, 3}, // replaces the big item
				{func() float64 { return put(small) }, 1},
				{del, 1},
				{del, 1}, // nothing to delete
				{func() float64 { return put(big) }, 3},
				{del, 3},
			} {
				if got := step.call(); got != step.want {
					t.Errorf("step %d: %v WCU, want %v", i, got, step.want)
				}
			}

			if tc.behind == nil {
				return
			}
			put(small)
			if _, err := tc.behind.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("S"), Item: big}); err != nil {
				t.Fatal(err)
			}
			if got := put(small); got != 3 {
				t.Errorf("put over an item written behind the endpoint: %v WCU, want 3", got)
			}
		})
	}
}
