package capacity

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// usersTable creates table Users (key id) with the global index
// user_id-index on user_id, as the reference server's /users route reads it.
func usersTable(t *testing.T, client *dynamodb.Client) {
	t.Helper()
	_, err := client.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName: aws.String("Users"),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("user_id"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema:   []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode: types.BillingModePayPerRequest,
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:  aws.String("user_id-index"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("user_id"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
}

// usersOf returns the ids the index holds for user, sorted.
func usersOf(t *testing.T, client *dynamodb.Client, user string) []string {
	t.Helper()
	out, err := client.Query(context.Background(), &dynamodb.QueryInput{TableName: aws.String("Users"),
		IndexName: aws.String("user_id-index"), KeyConditionExpression: aws.String("user_id = :u"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":u": s(user)}})
	if err != nil {
		t.Fatalf("Query user_id-index for %s: %v", user, err)
	}
	var ids []string
	for _, it := range out.Items {
		ids = append(ids, it["id"].(*types.AttributeValueMemberS).Value)
	}
	slices.Sort(ids)
	return ids
}

// TestUpdatesKeepGlobalIndexRight: items that enter a global index, or move
// in it, through UpdateItem or a TransactWriteItems Update are found by an
// index query, and the items already there still are. minidyn v0.8.2 alone
// loses an entry of the index when an update makes an item enter it.
func TestUpdatesKeepGlobalIndexRight(t *testing.T) {
	ctx := context.Background()
	client := newClient(t, NewEndpoint(EndpointConfig{}))
	usersTable(t, client)
	for i := range 3 {
		putItem(t, client, "Users", map[string]types.AttributeValue{
			"id": s(fmt.Sprintf("a%d", i)), "user_id": s("ann")})
	}
	for _, id := range []string{"x", "y"} {
		putItem(t, client, "Users", map[string]types.AttributeValue{"id": s(id), "n": s("1")})
	}
	setUser := func(user string) *types.Update {
		return &types.Update{TableName: aws.String("Users"), UpdateExpression: aws.String("SET user_id = :u"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":u": s(user)}}
	}

	steps := []struct {
		name string
		run  func() error
		want map[string][]string
	}{
		{"UpdateItem makes x enter the index", func() error {
			u := setUser("bob")
			_, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: u.TableName, Key: key("x"),
				UpdateExpression: u.UpdateExpression, ExpressionAttributeValues: u.ExpressionAttributeValues})
			return err
		}, map[string][]string{"ann": {"a0", "a1", "a2"}, "bob": {"x"}}},
		{"a transaction makes y enter the index", func() error {
			u := setUser("ann")
			u.Key = key("y")
			_, err := client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
				TransactItems: []types.TransactWriteItem{{Update: u}}})
			return err
		}, map[string][]string{"ann": {"a0", "a1", "a2", "y"}, "bob": {"x"}}},
		{"UpdateItem moves a1 to another key", func() error {
			u := setUser("bob")
			_, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: u.TableName, Key: key("a1"),
				UpdateExpression: u.UpdateExpression, ExpressionAttributeValues: u.ExpressionAttributeValues})
			return err
		}, map[string][]string{"ann": {"a0", "a2", "y"}, "bob": {"a1", "x"}}},
		{"an update outside the index key changes nothing there", func() error {
			_, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("Users"),
				Key: key("a0"), UpdateExpression: aws.String("SET n = :n"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":n": s("2")}})
			return err
		}, map[string][]string{"ann": {"a0", "a2", "y"}, "bob": {"a1", "x"}}},
	}
	steps = append(steps, []struct {
		name string
		run  func() error
		want map[string][]string
	}{
		{"a failed condition leaves the index alone", func() error {
			u := setUser("bob")
			_, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: u.TableName, Key: key("a2"),
				UpdateExpression: u.UpdateExpression, ConditionExpression: aws.String("n = :no"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":u": s("bob"), ":no": s("none")}})
			var ccf *types.ConditionalCheckFailedException
			if !errors.As(err, &ccf) {
				return fmt.Errorf("UpdateItem: %v, want ConditionalCheckFailedException", err)
			}
			return nil
		}, map[string][]string{"ann": {"a0", "a2", "y"}, "bob": {"a1", "x"}}},
		{"ReturnValues answers as UpdateItem does", func() error {
			putItem(t, client, "Users", map[string]types.AttributeValue{"id": s("z"), "n": s("1")})
			out, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("Users"),
				Key: key("z"), UpdateExpression: aws.String("SET user_id = :u"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":u": s("cat")},
				ReturnValues:              types.ReturnValueUpdatedNew})
			if err != nil {
				return err
			}
			if len(out.Attributes) != 1 || out.Attributes["user_id"] == nil {
				return fmt.Errorf("UPDATED_NEW attributes %v, want user_id alone", out.Attributes)
			}
			return nil
		}, map[string][]string{"ann": {"a0", "a2", "y"}, "bob": {"a1", "x"}, "cat": {"z"}}},
		// The engine leaves the entry of an item put without the index key
		// behind; deleting the item later then drops others from the index.
		{"PutItem takes a0 out of the index, DeleteItem removes it", func() error {
			putItem(t, client, "Users", map[string]types.AttributeValue{"id": s("a0"), "n": s("3")})
			_, err := client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("Users"),
				Key: key("a0")})
			return err
		}, map[string][]string{"ann": {"a2", "y"}, "bob": {"a1", "x"}, "cat": {"z"}}},
		{"a batch put and a transaction put take items out, deletes follow", func() error {
			_, err := client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
				RequestItems: map[string][]types.WriteRequest{"Users": {{PutRequest: &types.PutRequest{
					Item: map[string]types.AttributeValue{"id": s("a2")}}}}}})
			if err != nil {
				return err
			}
			_, err = client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
				TransactItems: []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String("Users"),
					Item: map[string]types.AttributeValue{"id": s("x")}}}}})
			if err != nil {
				return err
			}
			for _, id := range []string{"a2", "x"} {
				if _, err := client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("Users"),
					Key: key(id)}); err != nil {
					return err
				}
			}
			return nil
		}, map[string][]string{"ann": {"y"}, "bob": {"a1"}, "cat": {"z"}}},
	}...)
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := st.run(); err != nil {
				t.Fatal(err)
			}
			for user, want := range st.want {
				if got := usersOf(t, client, user); !slices.Equal(got, want) {
					t.Errorf("index holds %v for %s, want %v", got, user, want)
				}
			}
		})
	}
}
