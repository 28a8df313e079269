package scenarios

import (
	"errors"
	"testing"
)

// FuzzParse checks that no input makes Parse panic, and that every failure
// it reports carries a position.
func FuzzParse(f *testing.F) {
	builtin, err := builtins.ReadFile("cost-amplification.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(base))
	f.Add(builtin)
	f.Add([]byte("classes: [1, {name: a, rate: *x}]\ntable: &x {}\n"))
	f.Add([]byte("a: !!str 1\n<<: {b: 2}\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("f.yaml", data)
		if err == nil {
			if s == nil {
				t.Fatal("Parse returned neither a scenario nor an error")
			}
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("error %v holds no *Error", err)
		}
		if e.Line < 1 || e.Column < 1 {
			t.Fatalf("error %v has no position", e)
		}
	})
}
