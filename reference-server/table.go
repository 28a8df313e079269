package refserver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TableAdmin is the part of *dynamodb.Client EnsureTable uses.
type TableAdmin interface {
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput,
		optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput,
		optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput,
		optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

var _ TableAdmin = (*dynamodb.Client)(nil)

// TableSpec is the table the server expects: partition key KeyAttribute
// ("" means DefaultKeyAttribute) and a GSI UserIndex ("" means
// DefaultUserIndex) on user_id, sorted by the key, projecting everything.
// It is billed on demand; SeedItems items "item-000000", ... are written
// with user ids "u-0" .. "u-9" and a payload that /search can find.
type TableSpec struct {
	Table        string
	KeyAttribute string
	UserIndex    string
	SeedItems    int
}

// EnsureTable creates the table and its GSI unless a table of that name
// exists, waits until it is active, then writes the seed items (an
// existing table gets them too, overwriting items of the same ids). It
// reports whether it created the table.
func EnsureTable(ctx context.Context, db TableAdmin, spec TableSpec) (created bool, err error) {
	if spec.Table == "" {
		return false, errors.New("refserver: ensure table: no table name")
	}
	key, index := spec.KeyAttribute, spec.UserIndex
	if key == "" {
		key = DefaultKeyAttribute
	}
	if index == "" {
		index = DefaultUserIndex
	}

	_, err = db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(spec.Table)})
	var missing *types.ResourceNotFoundException
	switch {
	case errors.As(err, &missing):
		if err := createTable(ctx, db, spec.Table, key, index); err != nil {
			return false, err
		}
		created = true
	case err != nil:
		return false, fmt.Errorf("refserver: describe table %s: %w", spec.Table, err)
	}

	if err := waitActive(ctx, db, spec.Table); err != nil {
		return created, err
	}
	return created, seed(ctx, db, spec.Table, key, spec.SeedItems)
}

func createTable(ctx context.Context, db TableAdmin, table, key, index string) error {
	s := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	elem := func(name string, kt types.KeyType) types.KeySchemaElement {
		return types.KeySchemaElement{AttributeName: aws.String(name), KeyType: kt}
	}
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{s(key), s("user_id")},
		KeySchema:            []types.KeySchemaElement{elem(key, types.KeyTypeHash)},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:  aws.String(index),
			KeySchema:  []types.KeySchemaElement{elem("user_id", types.KeyTypeHash), elem(key, types.KeyTypeRange)},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
		BillingMode: types.BillingModePayPerRequest,
	})
	if err != nil {
		return fmt.Errorf("refserver: create table %s: %w", table, err)
	}
	return nil
}

// waitActive polls DescribeTable every 200 ms until the table and its
// indexes are active, at most two minutes.
func waitActive(ctx context.Context, db TableAdmin, table string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()

	for {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			return fmt.Errorf("refserver: wait for table %s: %w", table, err)
		}
		if active(out.Table) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("refserver: table %s is not active yet: %w", table, ctx.Err())
		case <-tick.C:
		}
	}
}

func active(t *types.TableDescription) bool {
	if t == nil || t.TableStatus != types.TableStatusActive && t.TableStatus != "" {
		return false
	}
	for _, g := range t.GlobalSecondaryIndexes {
		if g.IndexStatus != types.IndexStatusActive && g.IndexStatus != "" {
			return false
		}
	}
	return true
}

func seed(ctx context.Context, db TableAdmin, table, key string, n int) error {
	for i := range n {
		id := fmt.Sprintf("item-%06d", i)
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(table),
			Item: map[string]types.AttributeValue{
				key:       &types.AttributeValueMemberS{Value: id},
				"user_id": &types.AttributeValueMemberS{Value: fmt.Sprintf("u-%d", i%10)},
				"payload": &types.AttributeValueMemberS{Value: fmt.Sprintf("seeded item %d of %d", i, n)},
			},
		})
		if err != nil {
			return fmt.Errorf("refserver: seed table %s: item %s: %w", table, id, err)
		}
	}
	return nil
}
