package refserver_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/truora/minidyn/server"

	"github.com/abusesim/abusesim/capacity"
	refserver "github.com/abusesim/abusesim/reference-server"
)

func ExampleNew() {
	// A DynamoDB engine on loopback and an SDK client pointed at it.
	engine := httptest.NewServer(server.NewServer())
	defer engine.Close()
	db := capacity.NewDynamoDBClient(engine.URL, "", nil)
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

// A profile is data: this one is the protected profile minus its cache, an
// ablation for a run that asks what caching buys.
func ExampleLoadProfile() {
	p, err := refserver.LoadProfile([]byte(`
name: protected-minus-cache
rate_limit:
  algorithm: gcra
  key: ip
  anonymous: {requests: 20, period: 1s, burst: 40}
consistent_read: false
conditional_writes: true
throttle_status: 503
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Name, p.RateLimit.Algorithm, p.RateLimit.Anonymous.Burst, p.Cache == nil)

	_, err = refserver.LoadProfile([]byte("name: typo\nrate_limt: {}\n"))
	fmt.Println(err != nil)
	// Output:
	// protected-minus-cache gcra 40 true
	// true
}
