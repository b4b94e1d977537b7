package ingest

import (
	"errors"
	"fmt"
	"strings"
)

// InputError is a problem with an input file, located as precisely as the
// format allows: a CSV line, a workbook's sheet, row and column, or a
// GeoJSON feature; and a field.
type InputError struct {
	File    string
	Sheet   string // workbook sheet; Line is then its row
	Line    int    // CSV line number, 1-based, header included; or sheet row
	Feature int    // GeoJSON feature number, 1-based
	Field   string
	Column  string // workbook column letter (A, B ... AA)
	Err     error
}

func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	switch {
	case e.Sheet != "":
		fmt.Fprintf(&b, ": sheet %q", e.Sheet)
		if e.Line > 0 {
			fmt.Fprintf(&b, ", row %d", e.Line)
		}
	case e.Line > 0:
		fmt.Fprintf(&b, ": line %d", e.Line)
	case e.Feature > 0:
		fmt.Fprintf(&b, ": feature %d", e.Feature)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ", field %q", e.Field)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, " (column %s)", e.Column)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *InputError) Unwrap() error { return e.Err }

// IsInputError reports whether err is about the input rather than the system.
func IsInputError(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}

// at locates a staged row: staging tables number rows by CSV line, sheet
// row or feature.
type at struct {
	file    string
	feature bool
	sheet   string   // a workbook's sheet: n is its row
	header  []string // a workbook sheet's header, to name a field's column
}

func (a at) err(n int, field string, format string, args ...any) *InputError {
	e := &InputError{File: a.file, Field: field, Err: fmt.Errorf(format, args...)}
	switch {
	case a.feature:
		e.Feature = n
	default:
		e.Line = n
	}
	if a.sheet != "" {
		e.Sheet = a.sheet
		for i, h := range a.header {
			if h == field {
				e.Column = columnName(i)
				break
			}
		}
	}
	return e
}
