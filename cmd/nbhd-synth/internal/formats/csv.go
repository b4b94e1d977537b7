package formats

import (
	"bufio"
	"encoding/csv"
	"io"
	"strings"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/transform"
)

// CSV writes records with encoding/csv (quotes only where needed, as ONS
// and most publishers do).
type CSV struct {
	w    *csv.Writer
	rows int
}

// NewCSV writes the header row.
func NewCSV(w io.Writer, header ...string) *CSV {
	c := &CSV{w: csv.NewWriter(bufio.NewWriterSize(w, 1<<20))}
	if len(header) > 0 {
		_ = c.w.Write(header)
	}
	return c
}

// Row writes one record.
func (c *CSV) Row(fields ...string) {
	_ = c.w.Write(fields)
	c.rows++
}

// Rows is the number of records written, without the header.
func (c *CSV) Rows() int { return c.rows }

// Close flushes.
func (c *CSV) Close() error {
	c.w.Flush()
	return c.w.Error()
}

// Quoted writes headerless records whose text fields are always quoted and
// whose numeric fields are not, the layout of OS Code-Point Open and NHS
// ODS files.
type Quoted struct {
	w    *bufio.Writer
	rows int
	buf  []byte
}

// NewQuoted starts a headerless file.
func NewQuoted(w io.Writer) *Quoted { return &Quoted{w: bufio.NewWriterSize(w, 1<<20)} }

// Field is one value of a Quoted row.
type Field struct {
	S      string
	Number bool
}

// T is a quoted text field, N an unquoted number.
func T(s string) Field { return Field{S: s} }

// N is an unquoted numeric field.
func N(s string) Field { return Field{S: s, Number: true} }

// Row writes one record.
func (q *Quoted) Row(fields ...Field) {
	b := q.buf[:0]
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		if f.Number {
			b = append(b, f.S...)
		} else {
			b = append(b, '"')
			b = append(b, strings.ReplaceAll(f.S, `"`, `""`)...)
			b = append(b, '"')
		}
	}
	b = append(b, '\n')
	q.buf = b
	_, _ = q.w.Write(b)
	q.rows++
}

// Rows is the number of records written.
func (q *Quoted) Rows() int { return q.rows }

// Close flushes.
func (q *Quoted) Close() error { return q.w.Flush() }

// Windows1252 wraps w so UTF-8 text is written as Windows-1252, as DfE
// publishes GIAS. Close it to flush the encoder.
func Windows1252(w io.Writer) io.WriteCloser {
	return transform.NewWriter(w, charmap.Windows1252.NewEncoder())
}
