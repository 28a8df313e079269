package refserver

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestItemToJSON(t *testing.T) {
	item := map[string]types.AttributeValue{
		"s":    &types.AttributeValueMemberS{Value: "text"},
		"n":    &types.AttributeValueMemberN{Value: "123456789012345678901234567890.5"},
		"b":    &types.AttributeValueMemberB{Value: []byte{0, 1, 2}},
		"bool": &types.AttributeValueMemberBOOL{Value: false},
		"null": &types.AttributeValueMemberNULL{Value: true},
		"ss":   &types.AttributeValueMemberSS{Value: []string{"a"}},
		"ns":   &types.AttributeValueMemberNS{Value: []string{"1", "2.5"}},
		"bs":   &types.AttributeValueMemberBS{Value: [][]byte{{255}}},
		"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{
				&types.AttributeValueMemberS{Value: "x"},
			}},
		}},
	}

	plain, err := itemToJSON(item)
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(plain)
	if err != nil {
		t.Fatal(err)
	}

	got := string(body)
	want := `{"b":"AAEC","bool":false,"bs":["/w=="],"m":{"l":["x"]},` +
		`"n":123456789012345678901234567890.5,"ns":[1,2.5],"null":null,"s":"text","ss":["a"]}`
	if got != want {
		t.Errorf("JSON = %s\nwant   %s", got, want)
	}
}

func TestItemToJSONRefusesUnknownMember(t *testing.T) {
	item := map[string]types.AttributeValue{"x": &types.UnknownUnionMember{Tag: "Z"}}

	if _, err := itemToJSON(item); err == nil || !strings.Contains(err.Error(), `"x"`) {
		t.Errorf("err = %v, want an error naming attribute \"x\"", err)
	}
}

func TestJSONToValueRoundTrip(t *testing.T) {
	in := `{"s":"x","n":-0.001,"t":true,"z":null,"l":[1,"a",[]],"m":{"k":{}}}`
	dec := json.NewDecoder(strings.NewReader(in))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}

	av, err := jsonToValue(v, 0)
	if err != nil {
		t.Fatal(err)
	}
	back, err := valueToJSON(av)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, v) {
		t.Errorf("round trip = %v, want %v", back, v)
	}
}

func TestCheckNumber(t *testing.T) {
	tests := []struct {
		n  string
		ok bool
	}{
		{"0", true},
		{"-0.000", true},
		{"0e5", true},
		{"0e999999999999", false}, // an absurd exponent is refused, even on zero
		{"1", true},
		{"12345678901234567890123456789012345678", true},   // 38 digits
		{"123456789012345678901234567890123456789", false}, // 39
		{"1234567890123456789012345678901234567800000", true},
		{"0.00012345678901234567890123456789012345678", true},
		{"1E-130", true},
		{"1e-131", false},
		{"0.1e-129", true},
		{"9.9999999999999999999999999999999999999E+125", true},
		{"1e126", false},
		{"10e125", false},
		{"-1e126", false},
		{"1e99999999999999999999", false},
		{"1e-99999999999999999999", false},
	}
	for _, tt := range tests {
		t.Run(tt.n, func(t *testing.T) {
			err := checkNumber(tt.n)
			if got := err == nil; got != tt.ok {
				t.Errorf("checkNumber(%s) = %v, want ok=%v", tt.n, err, tt.ok)
			}
		})
	}
}
