package streamsql

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A token is one word, literal or symbol of a query.
type token struct {
	kind   tokenKind
	text   string // a keyword or name upper-cased unless quoted; a string literal unquoted
	quoted bool   // a "quoted" name: matched exactly
	pos    int    // byte offset in the query
}

type tokenKind uint8

const (
	tokEOF tokenKind = iota
	tokName
	tokNumber
	tokString
	tokSymbol
)

// Error is a query the package cannot run: Pos is the byte offset of the
// trouble in the query, and Line and Column (from 1) the same place.
type Error struct {
	Pos, Line, Column int
	Msg               string
}

// Error says where the trouble is, as line:column, and what it is.
func (e *Error) Error() string {
	return fmt.Sprintf("streamsql: %d:%d: %s", e.Line, e.Column, e.Msg)
}

func errorAt(query string, pos int, format string, args ...any) *Error {
	pos = min(max(pos, 0), len(query))
	line := 1 + strings.Count(query[:pos], "\n")
	col := 1 + utf8.RuneCountInString(query[strings.LastIndexByte(query[:pos], '\n')+1:pos])
	return &Error{Pos: pos, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

// lex splits a query into tokens. Comments (-- to the end of the line)
// and white space separate tokens.
func lex(query string) ([]token, error) {
	var toks []token
	for i := 0; i < len(query); {
		c := query[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			for i < len(query) && query[i] != '\n' {
				i++
			}
		case c == '\'':
			start := i
			var b strings.Builder
			for i++; ; i++ {
				if i >= len(query) {
					return nil, errorAt(query, start, "a string is not closed")
				}
				if query[i] == '\'' {
					if i+1 < len(query) && query[i+1] == '\'' { // '' is a quote
						b.WriteByte('\'')
						i++
						continue
					}
					i++
					break
				}
				b.WriteByte(query[i])
			}
			toks = append(toks, token{kind: tokString, text: b.String(), pos: start})
		case c == '"':
			start := i
			end := strings.IndexByte(query[i+1:], '"')
			if end < 0 {
				return nil, errorAt(query, start, "a quoted name is not closed")
			}
			name := query[i+1 : i+1+end]
			if name == "" {
				return nil, errorAt(query, start, "an empty quoted name")
			}
			toks = append(toks, token{kind: tokName, text: name, quoted: true, pos: start})
			i += end + 2
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(query) && query[i+1] >= '0' && query[i+1] <= '9':
			start := i
			for i < len(query) && (query[i] >= '0' && query[i] <= '9' || query[i] == '.') {
				i++
			}
			if i < len(query) && (query[i] == 'e' || query[i] == 'E') {
				i++
				if i < len(query) && (query[i] == '+' || query[i] == '-') {
					i++
				}
				for i < len(query) && query[i] >= '0' && query[i] <= '9' {
					i++
				}
			}
			toks = append(toks, token{kind: tokNumber, text: query[start:i], pos: start})
		case isNameStart(query[i:]):
			start := i
			for i < len(query) {
				r, n := utf8.DecodeRuneInString(query[i:])
				if !(r == '_' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
					break
				}
				i += n
			}
			toks = append(toks, token{kind: tokName, text: strings.ToUpper(query[start:i]), pos: start})
		default:
			start := i
			for _, sym := range []string{"<=", ">=", "<>", "!=", "(", ")", ",", ".", "*", "=", "<", ">", ";"} {
				if strings.HasPrefix(query[i:], sym) {
					toks = append(toks, token{kind: tokSymbol, text: sym, pos: start})
					i += len(sym)
					break
				}
			}
			if i == start {
				r, _ := utf8.DecodeRuneInString(query[i:])
				return nil, errorAt(query, i, "unexpected character %q", r)
			}
		}
	}
	return append(toks, token{kind: tokEOF, pos: len(query)}), nil
}

func isNameStart(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return r == '_' || unicode.IsLetter(r)
}
