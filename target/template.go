package target

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// templateFunc names what a placeholder expands to.
type templateFunc int

const (
	funcLiteral templateFunc = iota
	funcKey
	funcRandID
	funcSeq
	funcUUID
	funcNow
	funcClass
	funcClient
	funcAPIKey
)

var templateFuncs = map[string]templateFunc{
	"key":    funcKey,
	"randid": funcRandID,
	"seq":    funcSeq,
	"uuid":   funcUUID,
	"now":    funcNow,
	"class":  funcClass,
	"client": funcClient,
	"apikey": funcAPIKey,
}

// TemplateFuncs lists the placeholder functions a [Template] understands,
// in the order the documentation gives them.
func TemplateFuncs() []string {
	return []string{"key", "randid", "seq", "uuid", "now", "class", "client", "apikey"}
}

// A Template is literal text with {{func}} placeholders, parsed once by
// [ParseTemplate] and executed per request by [Template.Append].
//
// The functions are:
//   - key: the request's key, drawn from the class's [KeyDist]
//   - randid: 16 random lowercase hex digits
//   - seq: the request's number in its class's schedule (0, 1, 2, ...;
//     a dropped request keeps its number, leaving a gap)
//   - uuid: a random version 4 UUID in canonical form
//   - now: the send time, RFC 3339 in UTC with nanoseconds
//   - class: the class name
//   - client: the request's virtual client number (the closed model's
//     client, one of Class.Clients drawn per request, else the request
//     number), the identity a template can name
//   - apikey: the API key of the request's identity, "" without one
//
// Spaces inside the braces are allowed ({{ key }}). Text outside
// placeholders, including a lone "{" or "}}", is copied as is.
// Substitution is raw: nothing is escaped for URLs or JSON. Every built-in
// function except key, class and apikey yields only letters, digits, '-' ':' and
// '.', so a placeholder inside a JSON string keeps the body valid; keys and
// class names must be chosen JSON- and URL-safe by whoever defines them.
//
// A Template is immutable and safe for concurrent use.
type Template struct {
	src   string
	parts []templatePart
	uses  map[templateFunc]bool
}

type templatePart struct {
	fn  templateFunc
	lit string // text of a funcLiteral part
}

// TemplateContext is what one execution of a [Template] draws on. Rand must
// not be shared between goroutines without a lock.
type TemplateContext struct {
	Rand   *rand.Rand // for randid and uuid
	Key    string     // for key
	Seq    int64      // for seq
	Now    time.Time  // for now
	Class  string     // for class
	Client int64      // for client
	APIKey string     // for apikey
}

// ParseTemplate parses s. An unknown function or a "{{" without its "}}" is
// an error naming the 1-based column where the placeholder starts.
func ParseTemplate(s string) (*Template, error) {
	t := &Template{src: s, uses: map[templateFunc]bool{}}
	rest, col := s, 1
	for rest != "" {
		open := strings.Index(rest, "{{")
		if open < 0 {
			t.addLiteral(rest)
			break
		}
		t.addLiteral(rest[:open])
		col += open

		end := strings.Index(rest[open+2:], "}}")
		if end < 0 {
			return nil, fmt.Errorf("template %q: column %d: unclosed {{", s, col)
		}
		name := strings.TrimSpace(rest[open+2 : open+2+end])
		fn, ok := templateFuncs[name]
		if !ok {
			return nil, fmt.Errorf("template %q: column %d: unknown function %q (want one of %s)",
				s, col, name, strings.Join(TemplateFuncs(), ", "))
		}
		t.parts = append(t.parts, templatePart{fn: fn})
		t.uses[fn] = true

		width := 2 + end + 2
		col += width
		rest = rest[open+width:]
	}
	return t, nil
}

// MustParseTemplate is like [ParseTemplate] but panics on error. It is for
// templates written into code, not for user input.
func MustParseTemplate(s string) *Template {
	t, err := ParseTemplate(s)
	if err != nil {
		panic(err)
	}
	return t
}

func (t *Template) addLiteral(s string) {
	if s == "" {
		return
	}
	t.parts = append(t.parts, templatePart{fn: funcLiteral, lit: s})
}

// String returns the template's source text.
func (t *Template) String() string { return t.src }

// UsesKey reports whether the template has a {{key}} placeholder, so a
// caller can skip drawing a key nobody reads.
func (t *Template) UsesKey() bool { return t.uses[funcKey] }

// Append executes the template with c and appends the result to dst.
func (t *Template) Append(dst []byte, c *TemplateContext) []byte {
	for _, p := range t.parts {
		switch p.fn {
		case funcLiteral:
			dst = append(dst, p.lit...)
		case funcKey:
			dst = append(dst, c.Key...)
		case funcRandID:
			dst = appendHex64(dst, c.Rand.Uint64())
		case funcSeq:
			dst = strconv.AppendInt(dst, c.Seq, 10)
		case funcUUID:
			dst = appendUUID(dst, c.Rand)
		case funcNow:
			dst = c.Now.UTC().AppendFormat(dst, time.RFC3339Nano)
		case funcClass:
			dst = append(dst, c.Class...)
		case funcClient:
			dst = appendClient(dst, c.Client)
		case funcAPIKey:
			dst = append(dst, c.APIKey...)
		}
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendHex64 appends v as exactly 16 lowercase hex digits.
func appendHex64(dst []byte, v uint64) []byte {
	for shift := 60; shift >= 0; shift -= 4 {
		dst = append(dst, hexDigits[(v>>shift)&0xf])
	}
	return dst
}

// appendUUID appends a random RFC 9562 version 4 UUID drawn from r.
func appendUUID(dst []byte, r *rand.Rand) []byte {
	var b [16]byte
	hi, lo := r.Uint64(), r.Uint64()
	for i := range 8 {
		b[i] = byte(hi >> (56 - 8*i))
		b[8+i] = byte(lo >> (56 - 8*i))
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // variant 10

	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return dst
}
