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

// table reads a CSV file with a header row, one record at a time.
type table struct {
	file   string
	r      *csv.Reader
	header []string
	index  map[string]int // lower-cased, trimmed header -> column
	line   int            // line of the record last read
	width  int            // fields every record must have (headerless files); 0: any
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
	for i, f := range rec {
		// PostgreSQL text holds neither invalid UTF-8 nor NUL: say so here,
		// where the line and field are known.
		if !utf8.ValidString(f) {
			return nil, t.errf(i, "not UTF-8 text (a Windows-1252 file? give --encoding windows-1252)")
		}
		if strings.IndexByte(f, 0) >= 0 {
			return nil, t.errf(i, "contains a NUL byte")
		}
	}
	if t.width > 0 && len(rec) != t.width {
		return nil, &InputError{File: t.file, Line: t.line,
			Err: fmt.Errorf("%d fields, want %d (%s ... %s)", len(rec), t.width, t.header[0], t.header[t.width-1])}
	}
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
