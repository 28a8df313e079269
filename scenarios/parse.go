package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Parse reads and validates one scenario from data; file names it in
// errors and in Scenario.File. Every problem found is reported as an
// *Error; several come back joined.
//
// A UTF-8 byte order mark at the start, which some Windows editors write,
// is skipped. A file larger than MaxFileBytes, or nested deeper than
// MaxNesting, is refused before it is parsed.
func Parse(file string, data []byte) (*Scenario, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	tokens, err := tokenize(file, data)
	if err != nil {
		return nil, err
	}
	f, err := parser.Parse(tokens, 0)
	if err != nil {
		return nil, syntaxError(file, err)
	}
	if len(f.Docs) != 1 {
		line, col := 1, 1
		if doc := f.Docs[1]; doc.Start != nil {
			line, col = doc.Start.Position.Line, doc.Start.Position.Column
		} else if doc.Body != nil {
			line, col = position(doc.Body)
		}
		return nil, &Error{File: file, Line: line, Column: col,
			Msg: fmt.Sprintf("a scenario file holds one YAML document, found %d", len(f.Docs))}
	}
	if f.Docs[0].Body == nil {
		return nil, &Error{File: file, Line: 1, Column: 1, Msg: "the scenario file is empty"}
	}

	d := newDecoder(file, f.Docs[0])
	s := d.scenario(f.Docs[0].Body)
	slices.SortStableFunc(d.errs, func(a, b *Error) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
	if err := joinErrors(d.errs); err != nil {
		return nil, err
	}
	s.File = file
	return s, nil
}

// utf8BOM is the byte order mark some editors put at the start of a file.
var utf8BOM = []byte("\xef\xbb\xbf")

// syntaxError turns go-yaml's parse error into an *Error at its token.
func syntaxError(file string, err error) error {
	var ye yaml.Error
	if !errors.As(err, &ye) || ye.GetToken() == nil {
		return fmt.Errorf("%s: parse YAML: %w", file, err)
	}
	p := ye.GetToken().Position
	return &Error{File: file, Line: p.Line, Column: p.Column, Msg: ye.GetMessage()}
}

// identifier is what scenario, class and profile names may look like: they
// end up in file names under the results folder.
var identifier = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// tableName is DynamoDB's rule for table names.
var tableName = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)

func (d *decoder) scenario(n ast.Node) *Scenario {
	o := d.object(n, "", fieldsOf[docScenario]()...)
	o.require("name", "duration", "table", "classes")
	s := &Scenario{Profiles: slices.Clone(DefaultProfiles)}

	if name, ok := o.str("name"); ok {
		s.Name = name
		o.checkIdentifier("name", name)
	}
	s.Description, _ = o.str("description")
	s.Seed, _ = o.int("seed")
	if dur, ok := o.duration("duration"); ok {
		if dur <= 0 || dur > MaxDuration {
			o.errorf("duration", "must be more than 0 and at most %v, got %v", MaxDuration, dur)
		} else {
			s.Duration = dur
		}
	}
	if o.has("table") {
		s.Table = d.table(o.get("table"), o.field("table"))
	}
	if o.has("profiles") {
		s.ProfileSpecs = d.profiles(o.get("profiles"), o.field("profiles"))
		s.Profiles = nil
		for _, p := range s.ProfileSpecs {
			s.Profiles = append(s.Profiles, p.Name)
		}
	} else {
		for _, name := range s.Profiles {
			s.ProfileSpecs = append(s.ProfileSpecs, ProfileSpec{Name: name})
		}
	}
	if o.has("classes") {
		s.Classes = d.classes(o.get("classes"), o.field("classes"), s)
	}
	return s
}

// checkIdentifier records a problem when a name is unfit for file names.
func (o *object) checkIdentifier(field, name string) {
	if !identifier.MatchString(name) {
		o.errorf(field, "%q: use 1 to 64 letters, digits, '_', '.' or '-', "+
			"starting with a letter or digit", name)
	}
}

func (d *decoder) table(n ast.Node, path string) Table {
	o := d.object(n, path, fieldsOf[docTable]()...)
	t := Table{PartitionKey: DefaultPartitionKey}
	if o == nil {
		return t
	}
	o.require("name", "billing_mode", "items")

	if name, ok := o.str("name"); ok {
		t.Name = name
		if !tableName.MatchString(name) {
			o.errorf("name", "%q is not a DynamoDB table name: use 3 to 255 letters, "+
				"digits, '_', '.' or '-'", name)
		}
	}
	if key, ok := o.str("partition_key"); ok {
		t.PartitionKey = key
		if key == "" || len(key) > 255 {
			o.errorf("partition_key", "must be 1 to 255 bytes long")
		}
	}
	if mode, ok := o.str("billing_mode"); ok {
		t.BillingMode = mode
		if mode != BillingProvisioned && mode != BillingPayPerRequest {
			o.errorf("billing_mode", "must be %s or %s, got %q",
				BillingProvisioned, BillingPayPerRequest, mode)
		}
	}
	t.RCU = o.capacityUnits("rcu", t.BillingMode)
	t.WCU = o.capacityUnits("wcu", t.BillingMode)
	if burst, ok := o.float("burst_start_seconds"); ok {
		t.BurstStartSeconds = burst
		if burst < 0 || burst > MaxBurstStartSeconds {
			o.errorf("burst_start_seconds", "must be between 0 and %d, got %v",
				MaxBurstStartSeconds, burst)
		}
	}
	if o.has("items") {
		t.Items = d.items(o.get("items"), o.field("items"))
	}
	return t
}

// capacityUnits reads rcu or wcu, which a provisioned table needs and an
// on-demand table must not have.
func (o *object) capacityUnits(name, billingMode string) int64 {
	units, ok := o.int(name)
	switch {
	case billingMode == BillingProvisioned && !o.has(name):
		o.d.errorf(o.node, o.field(name), "required when billing_mode is %s", BillingProvisioned)
	case billingMode == BillingPayPerRequest && o.has(name):
		o.errorf(name, "only a %s table has provisioned capacity", BillingProvisioned)
	case ok && units <= 0:
		o.errorf(name, "must be more than 0, got %d", units)
	case ok && units > MaxCapacityUnits:
		o.errorf(name, "must be at most %d, AWS's default per-table quota, which the local "+
			"endpoint enforces; got %d", MaxCapacityUnits, units)
	}
	return units
}

// MaxCapacityUnits is the most read (or write) capacity a table may be
// provisioned with: AWS's default per-table quota, as capacity.TableQuotaUnits
// enforces it (a harness test keeps the two equal).
const MaxCapacityUnits = 40000

func (d *decoder) items(n ast.Node, path string) ItemSeed {
	o := d.object(n, path, fieldsOf[docItems]()...)
	o.require("count", "key_pattern", "size_bytes")
	var seed ItemSeed

	if count, ok := o.int("count"); ok {
		if count <= 0 || count > MaxItems {
			o.errorf("count", "must be between 1 and %d: every item is written to a local "+
				"table before each profile runs, got %d", MaxItems, count)
		} else {
			seed.Count = int(count)
		}
	}
	patternOK := false
	if pattern, ok := o.str("key_pattern"); ok {
		seed.KeyPattern = pattern
		if err := checkKeyPattern(pattern); err != nil {
			o.errorf("key_pattern", "%v", err)
		} else {
			patternOK = true
		}
	}
	if size, ok := o.int("size_bytes"); ok {
		if size <= 0 || size > MaxItemBytes {
			o.errorf("size_bytes", "must be between 1 and %d (DynamoDB's 400 KB item size "+
				"limit), got %d", MaxItemBytes, size)
		} else {
			seed.SizeBytes = int(size)
		}
	}

	if patternOK && seed.Count > 0 {
		if longest := keyBytes(seed.KeyPattern, seed.Count); longest > MaxPartitionKeyBytes {
			o.errorf("key_pattern", "%q makes keys of up to %d bytes (%.20q...), longer than "+
				"DynamoDB's %d-byte limit on a partition key", seed.KeyPattern, longest,
				fmt.Sprintf(seed.KeyPattern, seed.Count-1), MaxPartitionKeyBytes)
		}
	}
	if seed.Count > 0 && seed.SizeBytes > 0 && int64(seed.Count)*int64(seed.SizeBytes) > MaxSeedBytes {
		o.d.errorf(o.node, o.path, "%d items of %d bytes make %.1f GiB of seed data, more than "+
			"the %d GiB a local run seeds; use fewer or smaller items", seed.Count, seed.SizeBytes,
			float64(seed.Count)*float64(seed.SizeBytes)/(1<<30), MaxSeedBytes>>30)
	}
	return seed
}

// keyBytes returns the length of the longest key pattern makes for items
// 0 .. count-1: the first or the last, since an integer verb's output only
// grows with the number.
func keyBytes(pattern string, count int) int {
	return max(len(fmt.Sprintf(pattern, 0)), len(fmt.Sprintf(pattern, count-1)))
}

// checkKeyPattern accepts a fmt pattern with exactly one integer verb
// (d, x, X, o or b, with flags and width), whose keys cannot be mistaken
// for the ids drawn for missing keys.
func checkKeyPattern(p string) error {
	verbs := 0
	for i := 0; i < len(p); i++ {
		if p[i] != '%' {
			continue
		}
		if i++; i < len(p) && p[i] == '%' {
			continue
		}
		for i < len(p) && strings.IndexByte("+-# 0123456789", p[i]) >= 0 {
			i++
		}
		if i == len(p) {
			return fmt.Errorf("%q ends in the middle of a %% verb", p)
		}
		if strings.IndexByte("dxXob", p[i]) < 0 {
			return fmt.Errorf("%q: %%%c is not an integer verb; use one like %%06d", p, p[i])
		}
		verbs++
	}
	if verbs != 1 {
		return fmt.Errorf("%q must hold exactly one integer verb such as %%06d, found %d", p, verbs)
	}
	if strings.HasPrefix(fmt.Sprintf(p, 0), MissingPrefix) {
		return fmt.Errorf("%q: keys may not start with %q, which marks ids that are not in the table",
			p, MissingPrefix)
	}
	return nil
}

func (d *decoder) profiles(n ast.Node, path string) []ProfileSpec {
	nodes, ok := d.seq(n, path)
	if !ok {
		return nil
	}
	if len(nodes) == 0 {
		d.errorf(n, path, "name at least one profile, or leave the field out for %s",
			strings.Join(DefaultProfiles, ", "))
	}

	// Names and bases are checked for shape only: whether a built-in
	// profile of that name exists, and whether the overrides name real
	// profile fields, is the harness's and the reference server's to say,
	// since this package may not import the reference server. spec.At lets
	// them report the problem where it is (abusesim validate asks them).
	var specs []ProfileSpec
	for i, pn := range nodes {
		spec, ok := d.profile(pn, index(path, i))
		if !ok {
			continue
		}
		spec.At = d.at(pn, index(path, i))
		if slices.ContainsFunc(specs, func(p ProfileSpec) bool { return p.Name == spec.Name }) {
			d.errorf(pn, index(path, i), "profile %q is listed twice", spec.Name)
		}
		specs = append(specs, spec)
	}
	return specs
}

// profile reads a profile name, or {name, base, overrides}.
func (d *decoder) profile(n ast.Node, path string) (ProfileSpec, bool) {
	v := d.resolve(n, path)
	switch v.(type) {
	case nil:
		return ProfileSpec{}, false
	case *ast.MappingNode, *ast.MappingValueNode:
	default:
		name, ok := d.str(v, path)
		if ok && !identifier.MatchString(name) {
			d.errorf(v, path, "%q is not a profile name", name)
		}
		return ProfileSpec{Name: name}, ok
	}

	o := d.object(v, path, fieldsOf[docProfile]()...)
	o.require("name")
	var spec ProfileSpec
	if name, ok := o.str("name"); ok {
		spec.Name = name
		o.checkIdentifier("name", name)
	}
	if b, ok := o.str("base"); ok {
		spec.Base = b
		o.checkIdentifier("base", b)
	}
	if o.has("overrides") {
		spec.Overrides = d.raw(o.get("overrides"), o.field("overrides"))
	}
	return spec, spec.Name != ""
}

// raw decodes a mapping to plain Go values, for fields another package
// checks.
func (d *decoder) raw(n ast.Node, path string) map[string]any {
	v := d.resolve(n, path)
	switch v.(type) {
	case nil:
		return nil
	case *ast.MappingNode, *ast.MappingValueNode:
	default:
		d.errorf(v, path, "want a mapping of profile fields, got %s", describe(v))
		return nil
	}
	var out map[string]any
	if err := yaml.NodeToValue(v, &out); err != nil {
		d.errorf(v, path, "%v", err)
		return nil
	}
	return out
}
