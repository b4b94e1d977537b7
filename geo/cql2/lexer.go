package cql2

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

type tokKind int

const (
	tEOF    tokKind = iota
	tIdent          // name or keyword
	tQuoted         // "double-quoted" property name
	tString         // 'character literal'
	tNumber         // unsigned number
	tLParen
	tRParen
	tComma
	tOp // = <> < > <= >= + - * / % ^
)

type token struct {
	kind tokKind
	text string // as written
	val  string // decoded string or quoted name
	num  float64
	pos  Pos
}

// keywords are the cql2-text words that cannot name a property unless it is
// double-quoted.
var keywords = map[string]bool{}

func init() {
	for _, k := range strings.Fields(`A_EQUALS A_CONTAINS A_CONTAINEDBY A_OVERLAPS ACCENTI AND BBOX
		BETWEEN CASEI DATE DIV FALSE GEOMETRYCOLLECTION IN INTERVAL IS LIKE LINESTRING MULTILINESTRING
		MULTIPOINT MULTIPOLYGON NOT NULL OR POINT POLYGON S_INTERSECTS S_EQUALS S_DISJOINT S_TOUCHES
		S_WITHIN S_OVERLAPS S_CROSSES S_CONTAINS T_AFTER T_BEFORE T_CONTAINS T_DISJOINT T_DURING
		T_EQUALS T_FINISHEDBY T_FINISHES T_INTERSECTS T_MEETS T_METBY T_OVERLAPPEDBY T_OVERLAPS
		T_STARTEDBY T_STARTS TIMESTAMP TRUE`) {
		keywords[k] = true
	}
}

// identStart and identPart follow the CQL2 BNF's identifier rules.
func identStart(r rune) bool {
	return r == ':' || r == '_' || unicode.IsLetter(r)
}

func identPart(r rune) bool {
	return identStart(r) || r == '.' || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || r == '\u203F' || r == '\u2040'
}

// lexer splits cql2-text into tokens, tracking line and column.
type lexer struct {
	src  string
	off  int
	line int
	col  int
}

func (l *lexer) pos() Pos { return Pos{Offset: l.off, Line: l.line, Column: l.col} }

func (l *lexer) peek() (rune, int) {
	if l.off >= len(l.src) {
		return -1, 0
	}
	return utf8.DecodeRuneInString(l.src[l.off:])
}

func (l *lexer) advance() rune {
	r, n := l.peek()
	l.off += n
	if r == '\n' {
		l.line++
		l.col = 1
	} else {
		l.col++
	}
	return r
}

// lex reads the whole of src, which the caller has checked is valid UTF-8.
func lex(src string) ([]token, error) {
	l := &lexer{src: src, line: 1, col: 1}
	var toks []token
	for {
		for r, _ := l.peek(); r != -1 && unicode.IsSpace(r); r, _ = l.peek() {
			l.advance()
		}
		start := l.pos()
		r, _ := l.peek()
		var t token
		var err error
		switch {
		case r == -1:
			return append(toks, token{kind: tEOF, pos: start}), nil
		case r == '(':
			l.advance()
			t = token{kind: tLParen}
		case r == ')':
			l.advance()
			t = token{kind: tRParen}
		case r == ',':
			l.advance()
			t = token{kind: tComma}
		case strings.ContainsRune("=+-*/%^", r):
			l.advance()
			t = token{kind: tOp}
		case r == '<':
			l.advance()
			if n, _ := l.peek(); n == '>' || n == '=' {
				l.advance()
			}
			t = token{kind: tOp}
		case r == '>':
			l.advance()
			if n, _ := l.peek(); n == '=' {
				l.advance()
			}
			t = token{kind: tOp}
		case r == '!':
			l.advance()
			if n, _ := l.peek(); n == '=' {
				return nil, &Error{Pos: start, Problem: "unexpected '!='", Hint: "CQL2 writes not-equal as <>"}
			}
			return nil, &Error{Pos: start, Problem: "unexpected character '!'", Hint: "negate a condition with NOT"}
		case r == '\'':
			t, err = l.string()
		case r == '"':
			t, err = l.quoted()
		case r == '.' || (r >= '0' && r <= '9'):
			t, err = l.number()
		case identStart(r):
			for r, _ := l.peek(); r != -1 && identPart(r); r, _ = l.peek() {
				l.advance()
			}
			t = token{kind: tIdent}
		default:
			return nil, &Error{Pos: start, Problem: "unexpected character " + strconv.QuoteRune(r)}
		}
		if err != nil {
			return nil, err
		}
		t.pos = start
		t.text = src[start.Offset:l.off]
		toks = append(toks, t)
	}
}

// string reads a character literal. A quote inside is doubled or written
// \', a backslash is \\, and \a \b \t \n \v \f \r are the control
// characters. Other backslashes are kept as written, so a LIKE pattern's \%
// and \_ reach the pattern.
func (l *lexer) string() (token, error) {
	start := l.pos()
	l.advance()
	var b strings.Builder
	for {
		r := l.advance()
		switch r {
		case -1:
			return token{}, &Error{Pos: start, Problem: "unterminated string", Hint: "close it with '"}
		case 0:
			return token{}, &Error{Pos: start, Problem: "string contains a NUL character"}
		case '\'':
			if n, _ := l.peek(); n == '\'' {
				l.advance()
				b.WriteByte('\'')
				continue
			}
			return token{kind: tString, val: b.String()}, nil
		case '\\':
			n, _ := l.peek()
			if e, ok := escapes[n]; ok {
				l.advance()
				b.WriteString(e)
				continue
			}
			b.WriteByte('\\')
		default:
			b.WriteRune(r)
		}
	}
}

var escapes = map[rune]string{'\'': "'", '\\': `\`, 'a': "\a", 'b': "\b", 't': "\t", 'n': "\n", 'v': "\v", 'f': "\f", 'r': "\r"}

// quoted reads a double-quoted property name, the way to use a name that is
// also a keyword.
func (l *lexer) quoted() (token, error) {
	start := l.pos()
	l.advance()
	from := l.off
	for {
		switch r := l.advance(); r {
		case -1, '\n':
			return token{}, &Error{Pos: start, Problem: "unterminated quoted property name", Hint: `close it with "`}
		case '"':
			name := l.src[from : l.off-1]
			if name == "" {
				return token{}, &Error{Pos: start, Problem: `empty property name ""`}
			}
			return token{kind: tQuoted, val: name}, nil
		}
	}
}

// number reads an unsigned decimal or scientific literal; the parser
// applies signs.
func (l *lexer) number() (token, error) {
	start := l.pos()
	digits := func() int {
		n := 0
		for r, _ := l.peek(); r >= '0' && r <= '9'; r, _ = l.peek() {
			l.advance()
			n++
		}
		return n
	}
	n := digits()
	if r, _ := l.peek(); r == '.' {
		l.advance()
		n += digits()
	}
	if n == 0 {
		return token{}, &Error{Pos: start, Problem: "unexpected '.'", Hint: "a number needs digits"}
	}
	if r, _ := l.peek(); r == 'e' || r == 'E' {
		l.advance()
		if r, _ := l.peek(); r == '+' || r == '-' {
			l.advance()
		}
		if digits() == 0 {
			return token{}, &Error{Pos: start, Problem: "malformed number " + strconv.Quote(l.src[start.Offset:l.off]), Hint: "an exponent needs digits"}
		}
	}
	text := l.src[start.Offset:l.off]
	if r, _ := l.peek(); identStart(r) {
		return token{}, &Error{Pos: start, Problem: "malformed number " + strconv.Quote(text+string(r)), Hint: "put a space between a number and a name"}
	}
	v, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(v, 0) || math.Abs(v) > maxNumber {
		return token{}, &Error{Pos: start, Problem: "number " + text + " is out of range", Hint: "numbers must lie within ±1e300"}
	}
	return token{kind: tNumber, num: v}, nil
}

// maxNumber bounds numeric literals (see MaxArithmetic).
const maxNumber = 1e300

// describe names a token for an error message.
func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of filter"
	case tString:
		return "string " + clip(t.text)
	case tNumber:
		return "number " + t.text
	case tIdent:
		if keywords[strings.ToUpper(t.text)] {
			return strings.ToUpper(t.text)
		}
		return "'" + clip(t.text) + "'"
	}
	return "'" + clip(t.text) + "'"
}

func clip(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	return string([]rune(s)[:37]) + "..."
}
