package cql2

import "fmt"

// Limits on one filter, so a hostile expression cannot exhaust the parser's
// stack, the database's expression evaluator or the number of bind
// arguments (PostgreSQL allows 65535).
const (
	// MaxLength is the longest filter accepted, in bytes. A polygon drawn
	// in QGIS with a thousand vertices takes about 25 KiB.
	MaxLength = 64 << 10
	// MaxDepth is the deepest nesting of operators and parentheses.
	MaxDepth = 64
	// MaxNodes is the largest number of operators, properties and literals
	// (a geometry literal counts once).
	MaxNodes = 10_000
	// MaxArithmetic is the largest number of arithmetic operators. With
	// numeric literals at most 1e300 in size, it keeps every intermediate
	// value far inside PostgreSQL's numeric range.
	MaxArithmetic = 20
)

// Pos is a position in a filter's text: Offset counts bytes from 0, Line and
// Column count from 1, Column in characters.
type Pos struct {
	Offset, Line, Column int
}

// Error is a filter that cannot be read or used, with the position of the
// problem. Every error this package returns is an *Error, and so is every
// error the data package returns for a filter that does not fit a layer:
// callers answer them with 400 Bad Request.
type Error struct {
	Pos Pos
	// Problem says what is wrong at Pos, e.g. "unexpected ')'".
	Problem string
	// Hint says what was expected or how to fix it; it may be empty.
	Hint string
}

func (e *Error) Error() string {
	at := fmt.Sprintf("column %d", e.Pos.Column)
	if e.Pos.Line > 1 {
		at = fmt.Sprintf("line %d, column %d", e.Pos.Line, e.Pos.Column)
	}
	if e.Hint == "" {
		return e.Problem + " at " + at
	}
	return e.Problem + " at " + at + ": " + e.Hint
}

// Errorf makes an *Error at p. The data package uses it for errors of
// meaning (an unknown property, mismatched types) found after parsing.
func Errorf(p Pos, hint, format string, args ...any) *Error {
	return &Error{Pos: p, Problem: fmt.Sprintf(format, args...), Hint: hint}
}
