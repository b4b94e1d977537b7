package ingest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// table reads a file of records under a header row, one record at a time:
// a CSV file, or one sheet of an .xlsx workbook (xlsx.go). Errors name the
// line (CSV) or the sheet, row and column (xlsx), and the field.
type table struct {
	file   string
	r      *csv.Reader // CSV
	sheet  *sheetRows  // xlsx: the sheet read
	header []string
	index  map[string]int // lower-cased, trimmed header -> column
	line   int            // line (CSV) or row (sheet) of the record last read
	width  int            // fields every record must have (headerless files); 0: any
	// headerLine is the line or row of the header (title rows may stand
	// above it in a workbook).
	headerLine int
}

// tableOpts says how to read a tabular file.
type tableOpts struct {
	// sheet is the workbook sheet to read (--sheet); "" finds it by header.
	sheet string
	// header names columns one of which the header row holds: it picks
	// the data sheet of a workbook and skips title rows above the header
	// (ONS workbooks put notes on the first rows). Empty: the first row
	// of two or more cells is the header.
	header []string
	// encoding decodes a CSV (decodeText) when decode is set; a workbook
	// is always UTF-8.
	encoding string
	decode   bool
}

// newTable reads a CSV file, or the first data sheet of an .xlsx workbook.
func newTable(file string, r io.Reader) (*table, error) {
	return readTable(file, r, tableOpts{})
}

// readTable opens a tabular file as o says: an .xlsx workbook (recognised
// by its content, whatever its name) or a CSV. Close the table when done:
// a workbook's sheets are read from temporary files.
func readTable(file string, r io.Reader, o tableOpts) (*table, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	switch kind := sniff(br); kind {
	case "xlsx":
		wb, err := openWorkbook(file, br)
		if err != nil {
			return nil, err
		}
		t, err := wb.table(o.sheet, o.header)
		if err != nil {
			_ = wb.Close()
			return nil, err
		}
		t.sheet.book = wb
		return t, nil
	case "xls", "ods":
		return nil, &InputError{File: file, Err: fmt.Errorf("this is %s: save it as .xlsx or CSV", map[string]string{
			"xls": "an Excel 97-2003 workbook (.xls)", "ods": "an OpenDocument spreadsheet (.ods)"}[kind])}
	}
	var in io.Reader = br
	if o.decode {
		dec, err := decodeText(br, o.encoding)
		if err != nil {
			return nil, &InputError{File: file, Field: "--encoding", Err: err}
		}
		in = dec
	}
	return newCSVTable(file, in, o.header)
}

// newCSVTable reads a CSV's header row. With header names given, title
// rows above the header (one cell or none, as a sheet saved as CSV has)
// are skipped.
func newCSVTable(file string, r io.Reader, names []string) (*table, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3) // UTF-8 byte order mark, as Excel writes
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	var header []string
	line := 0
	for {
		rec, err := cr.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, &InputError{File: file, Line: line + 1, Err: errors.New("file is empty: expected a header row")}
			}
			return nil, &InputError{File: file, Line: line + 1, Err: fmt.Errorf("header row: %w", err)}
		}
		line, _ = cr.FieldPos(0)
		if len(names) > 0 && line < maxTitleRows && nonEmpty(rec) <= 1 && !holdsAny(rec, names) {
			continue // a title or note above the header
		}
		header = append([]string(nil), rec...)
		break
	}
	cr.FieldsPerRecord = len(header)
	t := &table{file: file, r: cr, header: header, line: line, headerLine: line}
	t.indexHeader()
	return t, nil
}

// maxTitleRows is how far down a sheet the header row is looked for.
const maxTitleRows = 30

func nonEmpty(rec []string) int {
	n := 0
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			n++
		}
	}
	return n
}

// holdsAny reports whether a row holds one of the names (case-insensitive).
func holdsAny(rec, names []string) bool {
	for _, f := range rec {
		for _, n := range names {
			if normHeader(f) == normHeader(n) {
				return true
			}
		}
	}
	return false
}

// normHeader is a header cell as looked up: lower case, runs of white
// space (a line break in a workbook's header cell) as one space.
func normHeader(h string) string { return strings.ToLower(strings.Join(strings.Fields(h), " ")) }

func (t *table) indexHeader() {
	t.index = map[string]int{}
	for i, h := range t.header {
		k := normHeader(h)
		if _, dup := t.index[k]; !dup {
			t.index[k] = i
		}
	}
}

// close releases a workbook's temporary files; a CSV needs nothing.
func (t *table) close() {
	if t == nil || t.sheet == nil {
		return
	}
	_ = t.sheet.rows.Close()
	if t.sheet.book != nil {
		_ = t.sheet.book.Close()
	}
}

// closeOnError closes t when a constructor that opened it fails.
func closeOnError(t *table, err *error) {
	if *err != nil {
		t.close()
	}
}

// unit names what t.line counts, for messages: "line" or "row".
func (t *table) unit() string {
	if t.sheet != nil {
		return "row"
	}
	return "line"
}

// at locates staged rows of this table (numbered by t.line) in messages.
func (t *table) at() at {
	a := at{file: t.file, header: t.header}
	if t.sheet != nil {
		a.sheet = t.sheet.name
	}
	return a
}

// col returns the first of names present in the header (case-insensitive),
// or -1.
func (t *table) col(names ...string) int {
	for _, n := range names {
		if i, ok := t.index[normHeader(n)]; ok {
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
	e := &InputError{File: t.file, Line: max(t.headerLine, 1), Field: names[0],
		Err: fmt.Errorf("missing column (looked for %s)", quoteList(names))}
	if t.sheet != nil {
		e.Sheet = t.sheet.name
	}
	return -1, e
}

// next reads a record; it returns io.EOF at the end. The slice is reused.
func (t *table) next() ([]string, error) {
	if t.sheet != nil {
		rec, row, err := t.sheet.read()
		if err != nil {
			return nil, err
		}
		t.line = row
		return rec, t.checkText(rec)
	}
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
	if err := t.checkText(rec); err != nil {
		return nil, err
	}
	if t.width > 0 && len(rec) != t.width {
		return nil, &InputError{File: t.file, Line: t.line,
			Err: fmt.Errorf("%d fields, want %d (%s ... %s)", len(rec), t.width, t.header[0], t.header[t.width-1])}
	}
	return rec, nil
}

// checkText refuses fields PostgreSQL text cannot hold.
func (t *table) checkText(rec []string) error {
	for i, f := range rec {
		// PostgreSQL text holds neither invalid UTF-8 nor NUL: say so here,
		// where the line and field are known.
		if !utf8.ValidString(f) {
			return t.errf(i, "not UTF-8 text (a Windows-1252 file? give --encoding windows-1252)")
		}
		if strings.IndexByte(f, 0) >= 0 {
			return t.errf(i, "contains a NUL byte")
		}
	}
	return nil
}

// errf reports a problem with column i of the current record.
func (t *table) errf(i int, format string, args ...any) *InputError {
	field := ""
	if i >= 0 && i < len(t.header) {
		field = t.header[i]
	}
	e := &InputError{File: t.file, Line: t.line, Field: field, Err: fmt.Errorf(format, args...)}
	if t.sheet != nil {
		e.Sheet = t.sheet.name
		if i >= 0 {
			e.Column = columnName(i)
		}
	}
	return e
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

// newHeaderless reads a CSV file published without a header row (NHS ODS
// epraccur, OS Code-Point Open), naming its columns from the publisher's
// documentation so errors still name the field. Every record must have
// exactly len(names) fields; line numbers count from the first record.
func newHeaderless(file string, r io.Reader, names []string) *table {
	cr := csv.NewReader(bufio.NewReaderSize(r, 64<<10))
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	t := &table{file: file, r: cr, header: names, index: map[string]int{}, width: len(names)}
	for i, h := range names {
		t.index[strings.ToLower(h)] = i
	}
	return t
}

// Text encodings a CSV may come in.
const (
	encodingAuto        = ""
	encodingUTF8        = "utf-8"
	encodingWindows1252 = "windows-1252"
)

// decodeText returns r as UTF-8. Government CSVs saved from Excel on
// Windows (GIAS's edubasealldata) are Windows-1252: "St Mary’s" and "Café"
// are single bytes there and invalid UTF-8. With encodingAuto the file is
// read as it streams: ASCII passes through, and the first non-ASCII byte
// decides, for the rest of the file, between UTF-8 (it starts a valid UTF-8
// character) and Windows-1252 (it does not).
func decodeText(r io.Reader, enc string) (io.Reader, error) {
	switch strings.ToLower(enc) {
	case encodingUTF8, "utf8":
		return r, nil
	case encodingWindows1252, "cp1252", "latin1":
		return charmap.Windows1252.NewDecoder().Reader(r), nil
	case encodingAuto:
		return &autoDecoder{br: bufio.NewReaderSize(r, 64<<10)}, nil
	}
	return nil, fmt.Errorf("unknown encoding %q: use utf-8 or windows-1252", enc)
}

// autoDecoder passes ASCII through until the first non-ASCII byte, then
// reads the rest as UTF-8 or Windows-1252.
type autoDecoder struct {
	br   *bufio.Reader
	rest io.Reader // nil until decided
}

func (d *autoDecoder) Read(p []byte) (int, error) {
	if d.rest != nil {
		return d.rest.Read(p)
	}
	if _, err := d.br.Peek(1); err != nil {
		return 0, err
	}
	buf, _ := d.br.Peek(min(len(p), d.br.Buffered()))
	i := 0
	for i < len(buf) && buf[i] < utf8.RuneSelf {
		i++
	}
	if i > 0 {
		return d.br.Read(p[:i])
	}
	// buf[0] is the first non-ASCII byte: look at the character it starts.
	head, _ := d.br.Peek(utf8.UTFMax)
	if r, _ := utf8.DecodeRune(head); r != utf8.RuneError {
		d.rest = d.br
	} else {
		d.rest = charmap.Windows1252.NewDecoder().Reader(d.br)
	}
	return d.rest.Read(p)
}
