package refserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// acceptingDB accepts every write and finds no item, remembering nothing.
type acceptingDB struct{}

func (acceptingDB) GetItem(context.Context, *dynamodb.GetItemInput,
	...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return &dynamodb.GetItemOutput{}, nil
}

func (acceptingDB) PutItem(context.Context, *dynamodb.PutItemInput,
	...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return &dynamodb.PutItemOutput{}, nil
}

func FuzzRecord(f *testing.F) {
	for _, seed := range []string{
		`{"event_id":"e","user_id":"u","event_type":"t"}`,
		`{"event_id":"e","user_id":"u","event_type":"t","payload":{"a":[1,{"b":null}],"n":-1.5e3}}`,
		`{"event_id":"e","user_id":"u","event_type":"t","payload":null}`,
		`{"event_id":1}`,
		`{"event_id":"e","extra":{}}`,
		`[`, `null`, `""`, `{}`, `{"payload":{"":1}}`,
		`{"event_id":"e","user_id":"u","event_type":"t","payload":{"n":1e400}}`,
	} {
		f.Add([]byte(seed))
	}

	servers := make(map[string]*Server)
	for _, name := range ProfileNames() {
		p, err := BuiltinProfile(name)
		if err != nil {
			f.Fatal(err)
		}
		p.RateLimit = nil // the fuzzer sends far past any burst
		s, err := New(acceptingDB{}, Config{Table: testTable, Profile: p})
		if err != nil {
			f.Fatal(err)
		}
		servers[name] = s
	}

	f.Fuzz(func(t *testing.T, body []byte) {
		for name, s := range servers {
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodPost, "/record", strings.NewReader(string(body)))
			s.ServeHTTP(w, r)

			if w.Code >= 500 {
				t.Fatalf("%s: status %d for body %q: %s", name, w.Code, body, w.Body)
			}
			if w.Code != http.StatusCreated && !strings.Contains(w.Body.String(), `"error"`) {
				t.Fatalf("%s: status %d without a JSON error: %s", name, w.Code, w.Body)
			}
		}
	})
}
