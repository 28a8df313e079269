package capacity

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/truora/minidyn/server"
)

// benchMix plays an 80/20 GetItem/PutItem mix against h in process.
func benchMix(b *testing.B, h http.Handler) {
	do := func(op, body string) int {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(body)))
		req.Header.Set("X-Amz-Target", targetPrefix+op)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if c := do("CreateTable", `{"TableName":"bench","AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],`+
		`"KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"BillingMode":"PROVISIONED",`+
		`"ProvisionedThroughput":{"ReadCapacityUnits":40000,"WriteCapacityUnits":40000}}`); c != 200 {
		b.Fatalf("CreateTable: %d", c)
	}
	put := func(i int) string {
		return fmt.Sprintf(`{"TableName":"bench","Item":{"id":{"S":"item-%04d"},`+
			`"payload":{"S":"a payload of some two hundred bytes, give or take"},"n":{"N":"%d"}}}`, i, i)
	}
	for i := range 1000 {
		do("PutItem", put(i))
	}
	b.ResetTimer()
	for i := range b.N {
		k := i * 7919 % 1000
		var c int
		if i%5 == 0 {
			c = do("PutItem", put(k))
		} else {
			c = do("GetItem", fmt.Sprintf(`{"TableName":"bench","Key":{"id":{"S":"item-%04d"}}}`, k))
		}
		if c != 200 {
			b.Fatalf("status %d", c)
		}
	}
}

func BenchmarkMixBareMinidyn(b *testing.B) { benchMix(b, server.NewServer()) }

func BenchmarkMixEndpoint(b *testing.B) { benchMix(b, NewEndpoint(EndpointConfig{})) }
