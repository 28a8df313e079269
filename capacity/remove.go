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
// (indexfix.go), after checkRemoveUpdate has made the checks of the update
// expression that the engine, seeing only the put, cannot.

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

// checkRemoveUpdate refuses, as DynamoDB does, an update that goes as a
// PutItem because it removes a top-level attribute (indexfix.go) when the
// embedded engine, which no longer sees the update expression, would not:
// placeholders that no expression uses, and document paths that overlap.
func checkRemoveUpdate(update map[string]json.RawMessage) *apiError {
	var expr, cond string
	_ = json.Unmarshal(update["UpdateExpression"], &expr)
	_ = json.Unmarshal(update["ConditionExpression"], &cond)
	if e := checkUnused(update, expr+" "+cond); e != nil {
		return e
	}
	var aliases map[string]string
	_ = json.Unmarshal(update["ExpressionAttributeNames"], &aliases)
	return checkOverlap(updatePaths(expr, aliases))
}

// checkUnused refuses the ExpressionAttributeNames and then the
// ExpressionAttributeValues of req that expr does not use, naming them in
// order.
func checkUnused(req map[string]json.RawMessage, expr string) *apiError {
	unused := unusedRefs(req, expr)
	for _, field := range placeholderFields {
		if refs := unused[field]; len(refs) > 0 {
			return validationError("Value provided in %s unused in expressions: keys: {%s}",
				field, strings.Join(refs, ", "))
		}
	}
	return nil
}

// checkOverlap refuses two paths of which one is the other or lies inside
// it, naming them in the order given.
func checkOverlap(paths [][]string) *apiError {
	for i, a := range paths {
		for _, b := range paths[i+1:] {
			short, long := a, b
			if len(short) > len(long) {
				short, long = b, a
			}
			if slices.Equal(short, long[:len(short)]) {
				return validationError("Invalid UpdateExpression: Two document paths overlap with each other; "+
					"must remove or rewrite one of these paths; path one: [%s], path two: [%s]",
					strings.Join(a, ", "), strings.Join(b, ", "))
			}
		}
	}
	return nil
}

// updatePaths returns the document paths the clauses of the update
// expression expr write, in order, each as its elements (a name, or an
// index such as [0]) with #name placeholders resolved through aliases. A
// path it cannot read is left out: the engine refuses it itself.
func updatePaths(expr string, aliases map[string]string) [][]string {
	var paths [][]string
	for _, c := range updateClauses(expr) {
		for _, action := range splitTopLevel(c.body) {
			target := action
			switch strings.ToUpper(c.keyword) {
			case "SET":
				target, _, _ = strings.Cut(action, "=")
			case "ADD", "DELETE":
				if fields := strings.Fields(action); len(fields) > 0 {
					target = fields[0]
				}
			}
			if path, ok := documentPath(target, aliases); ok {
				paths = append(paths, path)
			}
		}
	}
	return paths
}

// splitTopLevel splits s at the commas outside parentheses.
func splitTopLevel(s string) []string {
	var parts []string
	open, start := 0, 0
	for i, r := range s {
		switch r {
		case '(':
			open++
		case ')':
			open--
		case ',':
			if open == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}

// documentPath reads a document path such as #a.b[0] into its elements,
// reporting false when it is not one.
func documentPath(s string, aliases map[string]string) ([]string, bool) {
	var path []string
	for _, part := range strings.Split(strings.TrimSpace(s), ".") {
		name, indexes, _ := strings.Cut(part, "[")
		name = strings.TrimSpace(name)
		if strings.HasPrefix(name, "#") {
			resolved, ok := aliases[name]
			if !ok {
				return nil, false
			}
			name = resolved
		} else if !plainPath.MatchString(name) {
			return nil, false
		}
		path = append(path, name)
		if indexes == "" {
			continue
		}
		for _, ix := range strings.Split(indexes, "[") {
			ix = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(ix), "]"))
			if ix == "" {
				return nil, false
			}
			path = append(path, "["+ix+"]")
		}
	}
	return path, len(path) > 0
}
