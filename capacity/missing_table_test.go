package capacity

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/truora/minidyn/server"
)

// TestMissingTableAskedOnce: requests naming a table the backend does not
// have ask it once (DescribeTable takes the engine's exclusive lock), and
// a CreateTable of that name makes it usable at once.
func TestMissingTableAskedOnce(t *testing.T) {
	engine := server.NewServer()
	var describes atomic.Int64
	counting := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") == targetPrefix+"DescribeTable" {
			describes.Add(1)
		}
		engine.ServeHTTP(w, r)
	})
	e := NewEndpoint(EndpointConfig{Backend: counting, ExclusiveBackend: true})
	client := inProcessClient(e)
	ctx := context.Background()
	key := map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "k"}}
	for range 5 {
		_, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Typo"), Key: key})
		var notFound *types.ResourceNotFoundException
		if !errors.As(err, &notFound) {
			t.Fatalf("GetItem on a missing table: %v, want ResourceNotFoundException", err)
		}
	}
	if n := describes.Load(); n != 1 {
		t.Errorf("backend asked %d times about the missing table, want once", n)
	}
	createTable(t, client, "Typo", false, 5, 5)
	if _, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Typo"), Key: key}); err != nil {
		t.Errorf("GetItem after CreateTable: %v", err)
	}
}
