package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// profileScenario is a valid scenario but for the profiles list below it.
const profileScenario = `name: p
duration: 5s
table:
  name: items
  billing_mode: PAY_PER_REQUEST
  items: {count: 10, key_pattern: item-%03d, size_bytes: 100}
classes:
  - name: u
    rate: 5
    requests: [{method: GET, path: /x}]
`

// Validate resolves profiles as run does, and reports a problem at the
// spec in the user's file, without go-yaml's positions in the YAML the
// harness builds internally.
// yamlPosition is how go-yaml names a place in the text it decoded; no
// message about a user's file may carry one into YAML the user never saw.
var yamlPosition = regexp.MustCompile(`\[\d+:\d+\] `)

func TestValidateChecksProfiles(t *testing.T) {
	tests := []struct {
		name     string
		profiles string
		want     []string // one line per problem; nil: valid
	}{
		{"override of a real field", `profiles:
  - name: strict
    base: protected
    overrides:
      rate_limit: {anonymous: {requests: 5, period: 1s, burst: 10}}
`, nil},
		{"unknown override field", `profiles:
  - unprotected
  - name: strict
    base: protected
    overrides:
      rate_limit: {requests_per_second: 5}
`, []string{`p.yaml:13:5: profiles[1]: profile "strict" (base protected): profile: ` +
			`unknown field "requests_per_second"`}},
		{"unknown base", "profiles: [{name: bogus, base: nosuch}, nosuch2]\n", []string{
			`p.yaml:11:12: profiles[0]: profile "bogus": base "nosuch" is not a built-in profile (known: `,
			`p.yaml:11:41: profiles[1]: profile "nosuch2" is not a built-in profile (known: `}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			if err := os.WriteFile(filepath.Join(dir, "p.yaml"), []byte(profileScenario+tt.profiles), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout bytes.Buffer
			err := runValidate(&validateOptions{files: []string{"p.yaml"}, stdout: &stdout, stderr: &stdout})
			if tt.want == nil {
				if err != nil || stdout.String() != "p.yaml: ok\n" {
					t.Fatalf("got %v, stdout %q; want ok", err, stdout.String())
				}
				return
			}
			if err == nil {
				t.Fatalf("validate passed, want %q", tt.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want)+1 {
				t.Fatalf("got %d lines:\n%v\nwant %d problems", len(lines), err, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(lines[i], w) || yamlPosition.MatchString(lines[i]) {
					t.Errorf("line %d: got %q, want it to start %q, with no [line:col]", i, lines[i], w)
				}
			}
		})
	}
}
