package ingest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// table reads a CSV file with a header row, one record at a time.
type table struct {
	file   string
	r      *csv.Reader
	header []string
	index  map[string]int // lower-cased, trimmed header -> column
	line   int            // line of the record last read
}

func newTable(file string, r io.Reader) (*table, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3) // UTF-8 byte order mark, as Excel writes
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &InputError{File: file, Line: 1, Err: errors.New("file is empty: expected a header row")}
		}
		return nil, &InputError{File: file, Line: 1, Err: fmt.Errorf("header row: %w", err)}
	}
	t := &table{file: file, r: cr, header: append([]string(nil), header...), index: map[string]int{}, line: 1}
	for i, h := range t.header {
		k := strings.ToLower(strings.TrimSpace(h))
		if _, dup := t.index[k]; !dup {
			t.index[k] = i
		}
	}
	return t, nil
}

// col returns the first of names present in the header (case-insensitive),
// or -1.
func (t *table) col(names ...string) int {
	for _, n := range names {
		if i, ok := t.index[strings.ToLower(n)]; ok {
			return i
		}
	}
	return -1
}

// need is col for a required column.
func (t *table) need(names ...string) (int, error) {
	if i := t.col(names...); i >= 0 {
		return i, nil
	}
	return -1, &InputError{File: t.file, Line: 1, Field: names[0],
		Err: fmt.Errorf("missing column (looked for %s)", quoteList(names))}
}

// next reads a record; it returns io.EOF at the end. The slice is reused.
func (t *table) next() ([]string, error) {
	rec, err := t.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, &InputError{File: t.file, Line: pe.Line, Err: pe.Err}
		}
		return nil, &InputError{File: t.file, Line: t.line + 1, Err: err}
	}
	t.line, _ = t.r.FieldPos(0)
	return rec, nil
}

// errf reports a problem with column i of the current record.
func (t *table) errf(i int, format string, args ...any) *InputError {
	field := ""
	if i >= 0 && i < len(t.header) {
		field = t.header[i]
	}
	return &InputError{File: t.file, Line: t.line, Field: field, Err: fmt.Errorf(format, args...)}
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// field returns the trimmed value of column i, or "" when i < 0.
func field(rec []string, i int) string {
	if i < 0 || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}
