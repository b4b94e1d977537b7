package ingest

import (
	"errors"
	"fmt"
	"strings"
)

// InputError is a problem with an input file, located as precisely as the
// format allows: a CSV line or a GeoJSON feature, and a field.
type InputError struct {
	File    string
	Line    int // CSV line number, 1-based, header included
	Feature int // GeoJSON feature number, 1-based
	Field   string
	Err     error
}

func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	switch {
	case e.Line > 0:
		fmt.Fprintf(&b, ": line %d", e.Line)
	case e.Feature > 0:
		fmt.Fprintf(&b, ": feature %d", e.Feature)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ", field %q", e.Field)
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

// at locates a staged row: staging tables number rows by CSV line or feature.
type at struct {
	file    string
	feature bool
}

func (a at) err(n int, field string, format string, args ...any) *InputError {
	e := &InputError{File: a.file, Field: field, Err: fmt.Errorf(format, args...)}
	if a.feature {
		e.Feature = n
	} else {
		e.Line = n
	}
	return e
}
