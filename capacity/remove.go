package capacity

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// The embedded engine, minidyn v0.8.2, drops a top-level attribute a REMOVE
// clause names from its working copy of the item but then writes that copy
// over the stored item attribute by attribute, so the attribute stays
// (interpreter/language/environment.go, Apply). A nested path (a.b, l[0])
// is removed inside its container, which is written back whole, so those
// work. The scratch engine is minidyn too: scratchUpdate takes the names
// out of its result itself, and on the embedded backend an update with a
// top-level REMOVE goes as a conditional PutItem of that result
// (indexfix.go).

// updateClause matches the keyword that opens a clause of an update
// expression.
var updateClause = regexp.MustCompile(`(?i)\b(SET|REMOVE|ADD|DELETE)\b`)

// plainPath matches a path that is one top-level attribute: a name or a
// #name placeholder.
var plainPath = regexp.MustCompile(`^#?[A-Za-z0-9_]+$`)

// mentionsRemove reports whether body may hold a REMOVE clause: whether
// the word appears in it at all, in any case. It saves decoding the
// updates that cannot.
func mentionsRemove(body []byte) bool {
	return bytes.Contains(bytes.ToUpper(body), []byte("REMOVE"))
}

// removedNames returns the top-level attributes the REMOVE clauses of
// update (an UpdateItem request or a transaction's Update, in wire form)
// name, with #name placeholders resolved; nested paths are left out. It
// returns nil for an update without a REMOVE clause.
func removedNames(update map[string]json.RawMessage) ([]string, error) {
	var expr string
	if raw, ok := update["UpdateExpression"]; !ok || json.Unmarshal(raw, &expr) != nil {
		return nil, nil
	}
	var aliases map[string]string
	if raw, ok := update["ExpressionAttributeNames"]; ok {
		if err := json.Unmarshal(raw, &aliases); err != nil {
			return nil, fmt.Errorf("ExpressionAttributeNames: %w", err)
		}
	}

	var names []string
	for _, clause := range updateClauses(expr) {
		if !strings.EqualFold(clause.keyword, "REMOVE") {
			continue
		}
		for _, path := range strings.Split(clause.body, ",") {
			path = strings.TrimSpace(path)
			if !plainPath.MatchString(path) {
				continue
			}
			if strings.HasPrefix(path, "#") {
				name, ok := aliases[path]
				if !ok {
					return nil, fmt.Errorf("UpdateExpression: REMOVE %s: no such ExpressionAttributeNames entry", path)
				}
				path = name
			}
			if !slices.Contains(names, path) {
				names = append(names, path)
			}
		}
	}
	return names, nil
}

// updateClause is one clause of an update expression: its keyword and
// what follows it up to the next clause.
type clause struct {
	keyword, body string
}

// updateClauses splits an update expression into its clauses. A keyword
// inside parentheses (a function's argument) does not open a clause;
// outside them it cannot be an attribute name, since DynamoDB reserves all
// four words.
func updateClauses(expr string) []clause {
	var starts [][]int
	for _, loc := range updateClause.FindAllStringIndex(expr, -1) {
		if depth(expr[:loc[0]]) == 0 && !inPlaceholder(expr, loc[0]) {
			starts = append(starts, loc)
		}
	}
	clauses := make([]clause, len(starts))
	for i, loc := range starts {
		end := len(expr)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		clauses[i] = clause{keyword: expr[loc[0]:loc[1]], body: expr[loc[1]:end]}
	}
	return clauses
}

// depth is how many parentheses s leaves open.
func depth(s string) int {
	return strings.Count(s, "(") - strings.Count(s, ")")
}

// inPlaceholder reports whether the word at i in expr is part of a #name
// or :value placeholder.
func inPlaceholder(expr string, i int) bool {
	return i > 0 && (expr[i-1] == '#' || expr[i-1] == ':')
}

// withoutNames returns it without the named attributes; it is it itself
// when none of them is there.
func withoutNames(it item, names []string) item {
	found := false
	for _, n := range names {
		if _, ok := it[n]; ok {
			found = true
		}
	}
	if !found {
		return it
	}
	out := make(item, len(it))
	for k, v := range it {
		if !slices.Contains(names, k) {
			out[k] = v
		}
	}
	return out
}
