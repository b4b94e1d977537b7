package api

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"nbhd/data"
)

// rowJSON encodes a row as an object with its columns in query order, so
// output bytes are stable.
func rowJSON(r data.Row) (json.RawMessage, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, c := range r.Columns {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(c)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(r.Values[i])
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", c, err)
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func rowsJSON(rows []data.Row) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, 0, len(rows))
	for _, r := range rows {
		j, err := rowJSON(r)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

// jsonObject writes one JSON object member by member, so that arrays of
// rows can be streamed into it as they are read. Callers give members in
// the order encoding/json would (sorted keys), so bytes match a document
// marshalled whole.
type jsonObject struct {
	w   io.Writer
	n   int
	err error
}

func newJSONObject(w io.Writer) *jsonObject {
	o := &jsonObject{w: w}
	o.raw("{")
	return o
}

func (o *jsonObject) raw(s string) {
	if o.err == nil {
		_, o.err = io.WriteString(o.w, s)
	}
}

func (o *jsonObject) key(k string) {
	if o.n > 0 {
		o.raw(",")
	}
	o.n++
	kb, _ := json.Marshal(k)
	o.raw(string(kb) + ":")
}

// value writes a member as encoding/json does, without escaping HTML.
func (o *jsonObject) value(k string, v any) {
	o.key(k)
	var b bytes.Buffer
	if err := encodeJSON(&b, v); err != nil && o.err == nil {
		o.err = err
	}
	o.raw(string(bytes.TrimSuffix(b.Bytes(), []byte("\n"))))
}

// rows starts an array member and returns the function that appends one
// row to it; end closes it.
func (o *jsonObject) rows(k string) (add data.RowFunc, end func()) {
	o.key(k)
	o.raw("[")
	n := 0
	add = func(r data.Row) error {
		j, err := rowJSON(r)
		if err != nil {
			return err
		}
		if n > 0 {
			o.raw(",")
		}
		n++
		if o.err == nil {
			_, o.err = o.w.Write(j)
		}
		return o.err
	}
	return add, func() { o.raw("]") }
}

// close ends the object (with a newline, as json.Encoder does) and reports
// the first error.
func (o *jsonObject) close() error {
	o.raw("}\n")
	return o.err
}

// cellText renders a value for CSV: numbers without exponents, nulls empty,
// nested values as JSON.
func cellText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 32)
	case int, int16, int32, int64, bool:
		return fmt.Sprint(v)
	case time.Time:
		return v.Format(time.RFC3339)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// csvWriter is encoding/csv with spreadsheet formula injection defused:
// a cell that begins with =, +, -, @, a tab or a carriage return is
// prefixed with an apostrophe, so Excel, LibreOffice and Google Sheets
// show it as text instead of running it (=HYPERLINK(...) in an asset's
// name, say). Cells that are plain decimal numbers (-2.5, -1e-3, +7) are
// left as they are: a spreadsheet reads them as numbers, which is what a
// negative figure or coordinate is, and a number cannot carry a formula.
// Every CSV nbhd writes goes through one.
type csvWriter struct {
	*csv.Writer
	rec []string
}

func newCSVWriter(w io.Writer) *csvWriter { return &csvWriter{Writer: csv.NewWriter(w)} }

func (w *csvWriter) Write(rec []string) error {
	w.rec = w.rec[:0]
	for _, cell := range rec {
		w.rec = append(w.rec, csvCell(cell))
	}
	return w.Writer.Write(w.rec)
}

// csvCell defuses one cell (see csvWriter).
func csvCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if isDecimal(s) {
			return s
		}
		return "'" + s
	}
	return s
}

// isDecimal reports whether s is a plain decimal number: an optional sign,
// digits with at most one point, and an optional exponent. No spaces, no
// Inf or NaN, no hex.
func isDecimal(s string) bool {
	mant, exp, hasExp := s, "", false
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant, exp, hasExp = s[:i], s[i+1:], true
	}
	whole, frac, _ := strings.Cut(trimSign(mant), ".")
	if whole+frac == "" || !allDigits(whole) || !allDigits(frac) {
		return false
	}
	if hasExp {
		exp = trimSign(exp)
		return exp != "" && allDigits(exp)
	}
	return true
}

func trimSign(s string) string {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		return s[1:]
	}
	return s
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// writeRowsCSV writes a header from the first row's columns (prefixed by
// extra leading columns) and one line per row.
func writeRowsCSV(w *csvWriter, lead []string, leadValues []string, rows []data.Row) error {
	if len(rows) == 0 {
		return nil
	}
	if err := w.Write(append(append([]string(nil), lead...), rows[0].Columns...)); err != nil {
		return err
	}
	rec := make([]string, len(lead)+len(rows[0].Columns))
	for _, r := range rows {
		copy(rec, leadValues)
		for i, v := range r.Values {
			rec[len(lead)+i] = cellText(v)
		}
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	return nil
}
