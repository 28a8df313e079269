package scenarios

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// decoder walks a parsed YAML document and collects every problem it meets
// as an *Error, so one Parse reports them all rather than the first.
type decoder struct {
	file    string
	anchors map[string]ast.Node
	errs    []*Error
}

func newDecoder(file string, doc *ast.DocumentNode) *decoder {
	d := &decoder{file: file, anchors: map[string]ast.Node{}}
	for _, n := range ast.Filter(ast.AnchorType, doc) {
		a := n.(*ast.AnchorNode)
		d.anchors[a.Name.GetToken().Value] = a.Value
	}
	return d
}

// errorf records a problem with field at node n.
func (d *decoder) errorf(n ast.Node, field, format string, args ...any) {
	line, col := position(n)
	d.errs = append(d.errs, &Error{
		File: d.file, Line: line, Column: col, Field: field,
		Msg: fmt.Sprintf(format, args...),
	})
}

// at is where n is, for a problem found after parsing.
func (d *decoder) at(n ast.Node, field string) Location {
	line, col := position(n)
	return Location{File: d.file, Line: line, Column: col, Field: field}
}

// position is where a problem with n is reported: its first key for a
// block mapping (whose own token is the first ':'), else its first token.
func position(n ast.Node) (line, col int) {
	switch v := n.(type) {
	case *ast.MappingNode:
		if !v.IsFlowStyle && len(v.Values) > 0 {
			return position(v.Values[0].Key)
		}
	case *ast.MappingValueNode:
		return position(v.Key)
	}
	if n == nil || n.GetToken() == nil {
		return 1, 1
	}
	p := n.GetToken().Position
	return p.Line, p.Column
}

// resolve looks through anchors and aliases to the node that holds the
// value. It returns nil, having recorded why, for what it cannot resolve.
//
// TODO: a problem inside aliased content is reported at the anchor's
// position, not the alias's; the field path still names where it was used.
func (d *decoder) resolve(n ast.Node, field string) ast.Node {
	for range 64 { // an alias chain longer than this is a loop
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.AliasNode:
			name := v.Value.GetToken().Value
			target, ok := d.anchors[name]
			if !ok {
				d.errorf(n, field, "alias *%s names no anchor", name)
				return nil
			}
			n = target
		case *ast.TagNode:
			d.errorf(n, field, "YAML tags such as %s are not supported", v.Start.Value)
			return nil
		default:
			return n
		}
	}
	d.errorf(n, field, "alias chain too long")
	return nil
}

// object is one YAML mapping whose keys have been checked against the
// fields it may hold. A nil *object (the mapping was absent or invalid)
// answers every lookup with "absent", so callers need not check.
type object struct {
	d      *decoder
	node   ast.Node
	path   string
	values map[string]ast.Node
}

// object reads n as a mapping at path whose keys must be among fields.
func (d *decoder) object(n ast.Node, path string, fields ...string) *object {
	if n = d.resolve(n, path); n == nil {
		return nil
	}

	var entries []*ast.MappingValueNode
	switch v := n.(type) {
	case *ast.MappingNode:
		entries = v.Values
	case *ast.MappingValueNode:
		entries = []*ast.MappingValueNode{v}
	default:
		d.errorf(n, path, "want a mapping, got %s", describe(n))
		return nil
	}

	o := &object{d: d, node: n, path: path, values: map[string]ast.Node{}}
	for _, e := range entries {
		key := d.resolve(e.Key, path)
		if key == nil {
			continue
		}
		name := key.GetToken().Value
		if key.Type() == ast.MergeKeyType {
			d.errorf(key, path, "merge keys (<<) are not supported")
			continue
		}
		if !slices.Contains(fields, name) {
			d.errorf(key, join(path, name), "%s", unknownField(name, fields))
			continue
		}
		o.values[name] = e.Value
	}
	return o
}

func unknownField(name string, fields []string) string {
	if s := Suggest(name, fields); s != "" {
		return fmt.Sprintf("unknown field %q (did you mean %q?)", name, s)
	}
	return fmt.Sprintf("unknown field %q (valid fields: %s)", name, strings.Join(fields, ", "))
}

// join appends a field name to a field path.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// index appends a sequence index to a field path.
func index(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}

// has reports whether the mapping holds field name.
func (o *object) has(name string) bool {
	if o == nil {
		return false
	}
	_, ok := o.values[name]
	return ok
}

// get returns the value node of field name, or nil when absent.
func (o *object) get(name string) ast.Node {
	if o == nil {
		return nil
	}
	return o.values[name]
}

// field returns the path of field name.
func (o *object) field(name string) string {
	return join(o.path, name)
}

// require records every field of names that the mapping lacks.
func (o *object) require(names ...string) {
	if o == nil {
		return
	}
	for _, name := range names {
		if !o.has(name) {
			o.d.errorf(o.node, o.field(name), "required field is missing")
		}
	}
}

// errorf records a problem with the value of field name.
func (o *object) errorf(name, format string, args ...any) {
	o.d.errorf(o.get(name), o.field(name), format, args...)
}

// str returns field name as a string; ok is false when it is absent or
// not a scalar (which has been recorded).
func (o *object) str(name string) (s string, ok bool) {
	if !o.has(name) {
		return "", false
	}
	return o.d.str(o.get(name), o.field(name))
}

func (o *object) int(name string) (int64, bool) {
	if !o.has(name) {
		return 0, false
	}
	return o.d.int(o.get(name), o.field(name))
}

func (o *object) float(name string) (float64, bool) {
	if !o.has(name) {
		return 0, false
	}
	return o.d.float(o.get(name), o.field(name))
}

func (o *object) duration(name string) (time.Duration, bool) {
	if !o.has(name) {
		return 0, false
	}
	return o.d.duration(o.get(name), o.field(name))
}

func (o *object) seq(name string) ([]ast.Node, bool) {
	if !o.has(name) {
		return nil, false
	}
	return o.d.seq(o.get(name), o.field(name))
}

// str reads a scalar as text. Numbers and booleans keep their source
// spelling, so `name: 2024` is the name "2024".
func (d *decoder) str(n ast.Node, field string) (string, bool) {
	switch v := d.resolve(n, field).(type) {
	case nil:
		return "", false
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		return v.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		return v.GetToken().Value, true
	default:
		d.errorf(v, field, "want a string, got %s", describe(v))
		return "", false
	}
}

// Numbers are read the same way in every numeric field:
//   - decimal integers and fractions, with _ allowed between digits
//     (1_000), and 0x / 0o prefixes for hex and octal;
//   - an exponent (1e3, 2.5E-1), which YAML 1.2 reads as a number though
//     go-yaml leaves it a string when it has no dot;
//   - in an integer field, any of these whose value is whole (1e3, 10.0);
//   - never a leading 0 (010), which YAML 1.1 reads as octal 8: a trap.
//
// A quoted number is a string, as YAML says.

// exponentNumber is a plain scalar with an exponent, such as 1e3.
var exponentNumber = regexp.MustCompile(`^[-+]?([0-9][0-9_]*(\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$`)

// bigInteger is a plain decimal integer too large for go-yaml, which then
// leaves it a string.
var bigInteger = regexp.MustCompile(`^[-+]?[1-9][0-9_]*$`)

// isNumber reports whether n is a scalar read as a number.
func isNumber(n ast.Node) bool {
	switch v := n.(type) {
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return true
	case *ast.StringNode:
		return v.Token.Type == token.StringType &&
			(exponentNumber.MatchString(v.Value) || bigInteger.MatchString(v.Value))
	}
	return false
}

// number reads any numeric scalar as a float64, recording why not.
func (d *decoder) number(v ast.Node, field string) (float64, bool) {
	switch v := v.(type) {
	case *ast.IntegerNode:
		if t := strings.TrimLeft(v.Token.Value, "+-"); v.Token.Type == token.OctetIntegerType &&
			!strings.HasPrefix(t, "0o") && !strings.HasPrefix(t, "0O") {
			d.errorf(v, field, "write %s without its leading 0: YAML reads it as the octal number %v",
				v.Token.Value, v.Value)
			return 0, false
		}
		switch i := v.Value.(type) {
		case int64:
			return float64(i), true
		case uint64:
			return float64(i), true
		}
	case *ast.FloatNode:
		if !math.IsInf(v.Value, 0) && !math.IsNaN(v.Value) {
			return v.Value, true
		}
	case *ast.StringNode:
		if isNumber(v) {
			f, err := strconv.ParseFloat(strings.ReplaceAll(v.Value, "_", ""), 64)
			if err == nil {
				return f, true
			}
		}
	case *ast.InfinityNode, *ast.NanNode:
	default:
		d.errorf(v, field, "want a number, got %s", describe(v))
		return 0, false
	}
	d.errorf(v, field, "want a finite number, got %s", v.GetToken().Value)
	return 0, false
}

func (d *decoder) int(n ast.Node, field string) (int64, bool) {
	v := d.resolve(n, field)
	if v == nil {
		return 0, false
	}
	if !isNumber(v) {
		d.errorf(v, field, "want an integer, got %s", describe(v))
		return 0, false
	}
	if in, ok := v.(*ast.IntegerNode); ok {
		if _, ok := d.number(v, field); !ok {
			return 0, false
		}
		switch i := in.Value.(type) {
		case int64:
			return i, true
		case uint64:
			if i <= math.MaxInt64 {
				return int64(i), true
			}
		}
		d.errorf(v, field, "integer %s is out of range", in.Token.Value)
		return 0, false
	}

	f, ok := d.number(v, field)
	switch {
	case !ok:
		return 0, false
	case f != math.Trunc(f):
		d.errorf(v, field, "want a whole number, got %s", v.GetToken().Value)
		return 0, false
	case math.Abs(f) >= 1<<63:
		d.errorf(v, field, "integer %s is out of range", v.GetToken().Value)
		return 0, false
	}
	return int64(f), true
}

func (d *decoder) float(n ast.Node, field string) (float64, bool) {
	v := d.resolve(n, field)
	if v == nil {
		return 0, false
	}
	return d.number(v, field)
}

// duration reads a Go duration string such as "20s" or "1m30s".
func (d *decoder) duration(n ast.Node, field string) (time.Duration, bool) {
	v := d.resolve(n, field)
	switch v := v.(type) {
	case nil:
		return 0, false
	case *ast.StringNode:
		dur, err := time.ParseDuration(v.Value)
		if err != nil {
			d.errorf(v, field, "want a duration such as \"20s\" or \"1m30s\", got %q", v.Value)
			return 0, false
		}
		return dur, true
	case *ast.IntegerNode, *ast.FloatNode:
		d.errorf(v, field, "want a duration with a unit, such as \"%ss\", got %s",
			v.GetToken().Value, describe(v))
		return 0, false
	default:
		d.errorf(v, field, "want a duration such as \"20s\", got %s", describe(v))
		return 0, false
	}
}

func (d *decoder) seq(n ast.Node, field string) ([]ast.Node, bool) {
	v := d.resolve(n, field)
	if v == nil {
		return nil, false
	}
	s, ok := v.(*ast.SequenceNode)
	if !ok {
		d.errorf(v, field, "want a list, got %s", describe(v))
		return nil, false
	}
	return s.Values, true
}

// describe names a node's kind and, for a scalar, its value, for "want X,
// got Y" messages.
func describe(n ast.Node) string {
	switch v := n.(type) {
	case *ast.StringNode:
		return "string " + excerpt(v.Value)
	case *ast.LiteralNode:
		return "a block of text"
	case *ast.IntegerNode:
		return "integer " + v.Token.Value
	case *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "number " + v.GetToken().Value
	case *ast.BoolNode:
		return "boolean " + v.Token.Value
	case *ast.NullNode:
		return "nothing (null)"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	default:
		return n.Type().String()
	}
}

// maxExcerpt is how many bytes of a value a message quotes.
const maxExcerpt = 40

// excerpt quotes s, escaped, cut to about its first maxExcerpt bytes: a
// binary file read as YAML is one long string.
func excerpt(s string) string {
	if len(s) <= maxExcerpt {
		return fmt.Sprintf("%q", s)
	}
	n := maxExcerpt
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return fmt.Sprintf("%q... (%d bytes)", s[:n], len(s))
}
