package refserver_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/truora/minidyn/server"

	refserver "github.com/abusesim/abusesim/reference-server"
)

func ExampleNew() {
	// A DynamoDB engine on loopback and an SDK client pointed at it.
	engine := httptest.NewServer(server.NewServer())
	defer engine.Close()
	db := dynamodb.New(dynamodb.Options{
		BaseEndpoint: aws.String(engine.URL),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("x", "y", ""),
	})
	_, err := db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName: aws.String("items"),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash},
		},
		BillingMode: types.BillingModePayPerRequest,
	})
	if err != nil {
		log.Fatal(err)
	}

	profile, err := refserver.BuiltinProfile("protected")
	if err != nil {
		log.Fatal(err)
	}
	api, err := refserver.New(db, refserver.Config{Table: "items", Profile: profile})
	if err != nil {
		log.Fatal(err)
	}

	for _, req := range []*http.Request{
		httptest.NewRequest("POST", "/record",
			strings.NewReader(`{"event_id":"ev-1","user_id":"u-1","event_type":"signup"}`)),
		httptest.NewRequest("POST", "/record",
			strings.NewReader(`{"event_id":"ev-1","user_id":"u-1","event_type":"signup"}`)),
		httptest.NewRequest("GET", "/items/nope", nil),
	} {
		w := httptest.NewRecorder()
		api.ServeHTTP(w, req)
		fmt.Print(w.Code, " ", w.Body)
	}
	// Output:
	// 201 {"written":true}
	// 200 {"reason":"already_exists","skipped":true}
	// 404 {"error":"item not found"}
}
