package scenarios_test

import (
	"fmt"

	"github.com/abusesim/abusesim/scenarios"
)

func ExampleParse() {
	src := `name: typo
duration: 10s
table:
  name: Items
  billing_mode: PROVISIONED
  rcu: 5
  wcu: 5
  items: {count: 10, key_pattern: item-%03d, size_bytes: 100}
classes:
  - name: scraper
    source: 127.0.0.3
    rat: 50
    requests:
      - {method: GET, path: "/items/{{key}}"}
`
	_, err := scenarios.Parse("typo.yaml", []byte(src))
	fmt.Println(err)
	// Output:
	// typo.yaml:10:5: classes[0].rate: required: give rate (req/s, or {from, to} for a ramp) or phases
	// typo.yaml:12:5: classes[0].rat: unknown field "rat" (did you mean "rate"?)
}

func ExampleLoad() {
	s, err := scenarios.Load("scenarios/cost-amplification.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.File, s.Duration, s.Table.RCU, len(s.Classes))
	// Output:
	// builtin/cost-amplification.yaml 10s 50 2
}
