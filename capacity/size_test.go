package capacity

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestNumberSize(t *testing.T) {
	for _, tc := range []struct {
		n    string
		want int
	}{
		{"0", 1},
		{"-0.000", 1},
		{"1", 2},
		{"9", 2},
		{"10", 2},      // base-100 digit 10
		{"100", 2},     // trailing zeros trimmed
		{"101", 3},     // 1|01
		{"12", 2},      // one pair
		{"123", 3},     // 1|23
		{"1234", 3},    // 12|34
		{"12345", 4},   // 1|23|45
		{"1.5", 3},     // 1 . 50: the point splits the pair
		{"12.34", 3},   // 12 . 34
		{"0.5", 2},     // .50
		{"0.05", 2},    // .05
		{"0.005", 2},   // .00|50: leading zeros of the fraction cost nothing
		{"001.100", 3}, // leading and trailing zeros trimmed: 1 . 10
		{"-1", 3},      // the sign costs a byte
		{"-12.34", 4},
		{"1e3", 2},    // 1000
		{"1.5E-3", 2}, // 0.0015: .00|15, one pair
		{"+7", 2},
		{strings.Repeat("9", 38), 20},         // 19 pairs + 1
		{"-" + strings.Repeat("9", 38), 21},   // + sign
		{"-9." + strings.Repeat("9", 37), 21}, // 20 pairs + 1 + sign, capped at 21
	} {
		t.Run(tc.n, func(t *testing.T) {
			got, err := numberSize(tc.n)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("numberSize(%q) = %d, want %d", tc.n, got, tc.want)
			}
		})
	}

	for _, bad := range []string{"", "-", ".", "abc", "1e", "1x", "1e99999"} {
		t.Run("bad "+bad, func(t *testing.T) {
			if _, err := numberSize(bad); err == nil {
				t.Errorf("numberSize(%q) succeeded, want an error", bad)
			}
		})
	}
}

func TestItemSize(t *testing.T) {
	for _, tc := range []struct {
		name string
		item string
		want int
	}{
		{"empty", `{}`, 0},
		{"string counts name and value", `{"id":{"S":"abc"}}`, 2 + 3},
		{"UTF-8 bytes, not characters", `{"né":{"S":"€"}}`, 3 + 3},
		{"number", `{"n":{"N":"123"}}`, 1 + 3},
		{"binary counts raw bytes", `{"b":{"B":"AAEC"}}`, 1 + 3}, // base64 of 3 bytes
		{"bool and null", `{"t":{"BOOL":true},"z":{"NULL":true}}`, 1 + 1 + 1 + 1},
		{"empty list", `{"l":{"L":[]}}`, 1 + 3},
		{"list elements cost one byte each", `{"l":{"L":[{"S":"ab"},{"N":"1"}]}}`, 1 + 3 + (1 + 2) + (1 + 2)},
		{"map elements include their names", `{"m":{"M":{"k":{"S":"v"}}}}`, 1 + 3 + 1 + 1 + 1},
		{"nested", `{"m":{"M":{"l":{"L":[{"BOOL":false}]}}}}`, 1 + 3 + (1 + 1 + (3 + 1 + 1))},
		{"string set", `{"ss":{"SS":["a","bc"]}}`, 2 + 1 + 2},
		{"number set", `{"ns":{"NS":["1","-1"]}}`, 2 + 2 + 3},
		{"binary set", `{"bs":{"BS":["AA==","AAA="]}}`, 2 + 1 + 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var item map[string]json.RawMessage
			if err := json.Unmarshal([]byte(tc.item), &item); err != nil {
				t.Fatal(err)
			}
			got, err := ItemSize(item)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("ItemSize(%s) = %d, want %d", tc.item, got, tc.want)
			}
		})
	}

	for _, bad := range []string{
		`{"a":{"S":"x","N":"1"}}`, // two data types
		`{"a":{}}`,
		`{"a":{"X":"1"}}`,
		`{"a":{"B":"!!!"}}`,
		`{"a":{"N":"one"}}`,
		`{"a":{"L":[{"S":1}]}}`,
		`{"a":"plain"}`,
	} {
		t.Run("bad "+bad, func(t *testing.T) {
			var item map[string]json.RawMessage
			if err := json.Unmarshal([]byte(bad), &item); err != nil {
				t.Fatal(err)
			}
			if _, err := ItemSize(item); err == nil {
				t.Errorf("ItemSize(%s) succeeded, want an error", bad)
			}
		})
	}
}

// TestItemSizeUnitBoundaries measures items built to straddle the 1 KB and
// 4 KB boundaries, attribute names included.
func TestItemSizeUnitBoundaries(t *testing.T) {
	item := func(total int) map[string]json.RawMessage {
		// "id":"k" costs 3 bytes, the name "payload" 7.
		pad := strings.Repeat("p", total-3-7)
		raw, _ := json.Marshal(map[string]map[string]string{"id": {"S": "k"}, "payload": {"S": pad}})
		var m map[string]json.RawMessage
		_ = json.Unmarshal(raw, &m)
		return m
	}
	for _, tc := range []struct {
		bytes            int
		wantWrite        float64
		wantStrong       float64
		wantEventualRead float64
	}{
		{1024, 1, 1, 0.5},
		{1025, 2, 1, 0.5},
		{4096, 4, 1, 0.5},
		{4097, 5, 2, 1},
		{8192, 8, 2, 1},
		{8193, 9, 3, 1.5},
	} {
		size, err := ItemSize(item(tc.bytes))
		if err != nil {
			t.Fatal(err)
		}
		if size != tc.bytes {
			t.Fatalf("ItemSize = %d, want %d", size, tc.bytes)
		}
		if got := WriteUnits(size); got != tc.wantWrite {
			t.Errorf("WriteUnits(%d) = %v, want %v", size, got, tc.wantWrite)
		}
		if got := ReadUnits(size, Strong); got != tc.wantStrong {
			t.Errorf("ReadUnits(%d, Strong) = %v, want %v", size, got, tc.wantStrong)
		}
		if got := ReadUnits(size, Eventual); got != tc.wantEventualRead {
			t.Errorf("ReadUnits(%d, Eventual) = %v, want %v", size, got, tc.wantEventualRead)
		}
	}
}

// FuzzCompactScalar checks that the fast path for {"S":…} and {"N":…}
// sizes every value exactly as decoding it does.
func FuzzCompactScalar(f *testing.F) {
	for _, s := range []string{`{"S":"abc"}`, `{"S":"é"}`, `{"N":"-12.50"}`, `{"S":"a\"b"}`,
		`{"S":"\u00e9"}`, `{"S":""}`, `{"N":"1e5"}`, "{\"S\":\"\xff\"}", `{"B":"AA=="}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if _, _, ok := compactScalar(raw); !ok {
			return
		}
		fast, errFast := attributeValueSize(raw)
		slow, errSlow := decodedValueSize(raw)
		if (errFast == nil) != (errSlow == nil) || fast != slow {
			t.Fatalf("%q: fast path %d (%v), decoding %d (%v)", raw, fast, errFast, slow, errSlow)
		}
	})
}

// FuzzCompactResponseItemSize checks the GetItem response fast path against
// decoding the response.
func FuzzCompactResponseItemSize(f *testing.F) {
	for _, s := range []string{`{"Item":{"id":{"S":"a"},"n":{"N":"12.5"}}}`, `{"Item":{}}`, `{}`,
		`{"Item":{"é":{"S":"x"}}}`, `{"Item":{"a":{"M":{}}}}`, `{"Item":{"a":{"S":"x"},}}`,
		`{"Item":{"a":{"S":"x"}},"ConsumedCapacity":{}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := compactResponseItemSize(body)
		if !ok {
			return
		}
		var out struct{ Item map[string]json.RawMessage }
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("%q: fast path sized %d but the response does not decode: %v", body, fast, err)
		}
		slow, err := ItemSize(out.Item)
		if err != nil || slow != fast {
			t.Fatalf("%q: fast path %d, decoding %d (%v)", body, fast, slow, err)
		}
	})
}
