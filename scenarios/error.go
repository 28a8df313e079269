package scenarios

import (
	"errors"
	"fmt"
	"strings"
)

// Error locates one problem in a scenario file. Line and Column count from
// 1; Field is the path of the offending field, such as "classes[1].rate",
// or "" when the problem is not a field's (a YAML syntax error).
type Error struct {
	File         string
	Line, Column int
	Field, Msg   string
}

// Error formats the problem as "file:line:col: field: message".
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%d: ", e.File, e.Line, e.Column)
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// maxErrors bounds how many problems one Parse reports; past it the rest
// are summed up in one line, since they are usually echoes of the first.
const maxErrors = 50

// joinErrors returns nil for no problems, the *Error itself for one, and
// errors.Join of them all otherwise.
func joinErrors(errs []*Error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}

	joined := make([]error, 0, min(len(errs), maxErrors)+1)
	for _, e := range errs[:min(len(errs), maxErrors)] {
		joined = append(joined, e)
	}
	if len(errs) > maxErrors {
		joined = append(joined, fmt.Errorf("%s: %d more problems not shown; fix these first",
			errs[0].File, len(errs)-maxErrors))
	}
	return errors.Join(joined...)
}

// notOneOf is the message for a value outside values, with the nearest
// valid one when it looks like a typo.
func notOneOf(got string, values []string) string {
	msg := fmt.Sprintf("must be one of %s, got %q", strings.Join(values, ", "), got)
	if s := Suggest(got, values); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return msg
}

// Suggest returns the candidate nearest to name by edit distance, or ""
// when none is near enough to be a likely typo.
func Suggest(name string, candidates []string) string {
	best, bestDist := "", len(name)/2+2
	for _, c := range candidates {
		if d := levenshtein(strings.ToLower(name), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// levenshtein counts the single-rune insertions, deletions and
// substitutions that turn a into b.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}

	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
