package scenarios

import (
	"fmt"

	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/token"
)

// Bounds on the shape of a scenario file, checked before it is parsed.
// The YAML parser allocates a few hundred bytes per byte of input, and its
// memory grows with the square of the nesting depth (a 200 KB line of '['
// takes gigabytes), so a file past either bound is refused outright. Real
// scenarios are a few kilobytes and nest about 8 levels deep.
const (
	MaxFileBytes = 1 << 20 // 1 MiB
	MaxNesting   = 64      // levels of mappings and lists, block and flow together
)

// tokenize splits data into YAML tokens, refusing a file larger than
// MaxFileBytes or nested deeper than MaxNesting. The lexer's memory is
// linear in the input; only the parser, which gets the tokens next, is not.
func tokenize(file string, data []byte) (token.Tokens, error) {
	if len(data) > MaxFileBytes {
		return nil, sizeError(file)
	}
	tokens := lexer.Tokenize(string(data))
	if tk := deepest(tokens); tk != nil {
		p := tk.Position
		return nil, &Error{File: file, Line: p.Line, Column: p.Column,
			Msg: fmt.Sprintf("mappings and lists nest more than %d levels deep here; "+
				"a scenario needs far fewer", MaxNesting)}
	}
	return tokens, nil
}

// sizeError says that file is too large to be a scenario.
func sizeError(file string) error {
	return fmt.Errorf("%s: the file is larger than the %d bytes (%d MiB) a scenario file may hold",
		file, MaxFileBytes, MaxFileBytes>>20)
}

// deepest returns the first token nested more than MaxNesting levels deep,
// or nil. Flow collections count their brackets; block collections count
// the distinct indentation columns open above a token that starts a line,
// and every '-' or '?' indicator (a line may hold "- - - x").
func deepest(tokens token.Tokens) *token.Token {
	var columns []int // columns of the open block collections, increasing
	flow, line := 0, 0
	for _, tk := range tokens {
		first := tk.Position.Line != line
		line = tk.Position.Line
		switch tk.Type {
		case token.CommentType:
			continue
		case token.DocumentHeaderType, token.DocumentEndType:
			columns, flow = columns[:0], 0
			continue
		case token.SequenceStartType, token.MappingStartType:
			flow++
		case token.SequenceEndType, token.MappingEndType:
			flow = max(flow-1, 0)
			continue
		}

		block := tk.Type == token.SequenceEntryType || tk.Type == token.MappingKeyType
		if flow == 0 && (first || block) {
			col := tk.Position.Column
			for len(columns) > 0 && columns[len(columns)-1] > col {
				columns = columns[:len(columns)-1]
			}
			if len(columns) == 0 || columns[len(columns)-1] < col {
				columns = append(columns, col)
			}
		}
		if len(columns)+flow > MaxNesting {
			return tk
		}
	}
	return nil
}
