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

func (acceptingDB) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput,
	_ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return &dynamodb.UpdateItemOutput{Attributes: in.Key}, nil
}

func (acceptingDB) Query(context.Context, *dynamodb.QueryInput,
	...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return &dynamodb.QueryOutput{}, nil
}

func (acceptingDB) Scan(context.Context, *dynamodb.ScanInput,
	...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	return &dynamodb.ScanOutput{}, nil
}

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
		s, err := New(acceptingDB{}, Config{Table: testTable, Profile: withoutRedis(p)})
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
			ok := w.Code == http.StatusCreated ||
				w.Code == http.StatusOK && strings.Contains(w.Body.String(), `"skipped":true`)
			if !ok && !strings.Contains(w.Body.String(), `"error"`) {
				t.Fatalf("%s: status %d without a JSON error: %s", name, w.Code, w.Body)
			}
		}
	})
}

// FuzzRoutes sends arbitrary methods, paths, query strings and bodies to
// every route of every profile: a client's mistake is never a 5xx, and
// every answer that is not a success is a JSON error.
func FuzzRoutes(f *testing.F) {
	for _, seed := range []struct{ method, target, body string }{
		{"PUT", "/items/a", `{"color":"red","n":1.5,"tags":["x"]}`},
		{"PUT", "/items/a", `{"id":"other"}`},
		{"PUT", "/items/a", `{}`},
		{"GET", "/users/u-1/items?limit=5&cursor=eyJpZCI6ImEifQ", ""},
		{"GET", "/users/u-1/items?limit=-1", ""},
		{"GET", "/users/u-1/items?cursor=%%%", ""},
		{"GET", "/search?q=seeded&limit=100000000", ""},
		{"GET", "/search", ""},
		{"DELETE", "/items/a", ""},
		{"GET", "/metrics", ""},
	} {
		f.Add(seed.method, seed.target, []byte(seed.body))
	}

	var servers []*Server
	for _, name := range ProfileNames() {
		p, err := BuiltinProfile(name)
		if err != nil {
			f.Fatal(err)
		}
		p.RateLimit, p.WriteLimit, p.Scan = nil, nil, nil // the fuzzer sends far past any limit
		s, err := New(acceptingDB{}, Config{Table: testTable, Profile: withoutRedis(p)})
		if err != nil {
			f.Fatal(err)
		}
		servers = append(servers, s)
	}

	f.Fuzz(func(t *testing.T, method, target string, body []byte) {
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\t#") ||
			method == "" || strings.ContainsAny(method, " \r\n\t/") || method == http.MethodConnect {
			return // not a request line net/http would hand a handler
		}
		for _, s := range servers {
			r, err := http.NewRequest(method, "http://127.0.0.1"+target, strings.NewReader(string(body)))
			if err != nil {
				return
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)

			if w.Code >= 500 {
				t.Fatalf("%s %s %q: status %d: %s", method, target, body, w.Code, w.Body)
			}
			if w.Code >= 400 && !strings.Contains(w.Body.String(), `"error"`) {
				t.Fatalf("%s %s: status %d without a JSON error: %s", method, target, w.Code, w.Body)
			}
		}
	})
}
