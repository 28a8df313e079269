package scenarios

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/scenario.schema.json from the Go types")

const schemaFile = "../docs/scenario.schema.json"

// The schema in docs is what Schema generates from the doc types, which
// are also where the decoder takes its field names: regenerate with
// go test ./scenarios -run TestSchemaInSync -update.
func TestSchemaInSync(t *testing.T) {
	got, err := Schema()
	if err != nil {
		t.Fatalf("Schema: %v", err)
	}
	if *update {
		if err := os.WriteFile(schemaFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatalf("read %s: %v (generate it with -update)", schemaFile, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date: run go test ./scenarios -run TestSchemaInSync -update", schemaFile)
	}

	var doc map[string]any
	if err := json.Unmarshal(got, &doc); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	class := doc["properties"].(map[string]any)["classes"].(map[string]any)["items"].(map[string]any)
	props := class["properties"].(map[string]any)
	for _, f := range []string{"executor", "identities", "client", "thresholds", "arrival"} {
		if props[f] == nil {
			t.Errorf("class schema has no %q", f)
		}
	}
	if class["additionalProperties"] != false {
		t.Errorf("class schema allows unknown fields")
	}
}

// Every field the schema describes is one the decoder accepts: a file
// setting each documented class field parses without an unknown-field
// error.
func TestFieldsOfMatchDecoder(t *testing.T) {
	for _, f := range fieldsOf[docClass]() {
		src := edit(t, "  - name: b\n", "  - name: b\n    "+f+": !!null\n")
		_, err := Parse("t.yaml", []byte(src))
		for _, p := range problemsOrNone(err) {
			if p.Field == "classes[1]."+f && bytes.Contains([]byte(p.Msg), []byte("unknown field")) {
				t.Errorf("schema field %q is unknown to the decoder", f)
			}
		}
	}
}

func problemsOrNone(err error) []*Error {
	if err == nil {
		return nil
	}
	var out []*Error
	var joined interface{ Unwrap() []error }
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		joined = j
		for _, e := range joined.Unwrap() {
			out = append(out, problemsOrNone(e)...)
		}
		return out
	}
	if e, ok := err.(*Error); ok {
		out = append(out, e)
	}
	return out
}
