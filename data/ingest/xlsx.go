package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Excel workbooks (.xlsx), as government publishers release their tables
// (the IoD2025 files, ONS population estimates), read with excelize. A
// sheet is read as a stream of rows (excelize's Rows iterator; sheets larger
// than a few megabytes are unpacked to a temporary file, not to memory) and
// becomes a table like a CSV's, so every tabular import kind takes either,
// with errors that name the sheet, row and column.

// maxUnzipped bounds what a workbook may unpack to: far above any
// published table, far below what would fill a disk.
const maxUnzipped = 8 << 30

// sniff tells a workbook from text by its first bytes: "xlsx" (a zip),
// "ods" (an OpenDocument zip), "xls" (an OLE compound file), or "".
func sniff(br *bufio.Reader) string {
	head, _ := br.Peek(4)
	switch {
	case bytes.Equal(head, []byte("PK\x03\x04")):
		// An OpenDocument file begins with its uncompressed mimetype entry.
		more, _ := br.Peek(128)
		if bytes.Contains(more, []byte("opendocument")) {
			return "ods"
		}
		return "xlsx"
	case bytes.Equal(head, []byte{0xD0, 0xCF, 0x11, 0xE0}):
		return "xls"
	}
	return ""
}

// workbook is an open .xlsx file.
type workbook struct {
	file string
	f    *excelize.File
}

// openWorkbook reads a workbook from r. A zip is read from its end, so the
// stream is first copied to a temporary file (removed once open); excelize
// then holds the small parts in memory and unpacks large sheets to
// temporary files of its own, removed by Close.
func openWorkbook(file string, r io.Reader) (*workbook, error) {
	tmp, err := os.CreateTemp("", "nbhd-*.xlsx")
	if err != nil {
		return nil, fmt.Errorf("spool workbook: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := io.Copy(tmp, r); err != nil {
		_ = tmp.Close()
		return nil, &InputError{File: file, Err: fmt.Errorf("read workbook: %w", err)}
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("spool workbook: %w", err)
	}
	f, err := excelize.OpenFile(tmp.Name(), excelize.Options{RawCellValue: true, UnzipSizeLimit: maxUnzipped})
	if err != nil {
		if f != nil {
			_ = f.Close()
		}
		return nil, &InputError{File: file, Err: fmt.Errorf("not a readable .xlsx workbook: %w", err)}
	}
	return &workbook{file: file, f: f}, nil
}

// Close removes the workbook's temporary files.
func (w *workbook) Close() error { return w.f.Close() }

// sheets lists the workbook's sheets in order.
func (w *workbook) sheets() []string { return w.f.GetSheetList() }

// table reads one sheet: the one named (--sheet), else the first whose
// header row holds one of the header names (the first with a row of two or
// more cells when none are given), so cover, contents and notes sheets are
// passed over.
func (w *workbook) table(sheet string, header []string) (*table, error) {
	if sheet != "" {
		name, ok := w.find(sheet)
		if !ok {
			return nil, &InputError{File: w.file, Field: "--sheet",
				Err: fmt.Errorf("the workbook has no sheet %q (it has %s)", sheet, quoteList(w.sheets()))}
		}
		t, found, err := w.sheetTable(name, header)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, &InputError{File: w.file, Sheet: name, Err: noHeader(header)}
		}
		return t, nil
	}
	for _, name := range w.sheets() {
		t, found, err := w.sheetTable(name, header)
		if err != nil {
			return nil, err
		}
		if found {
			return t, nil
		}
	}
	return nil, &InputError{File: w.file, Err: fmt.Errorf("no sheet has a header row (sheets %s): %w; name the sheet with --sheet",
		quoteList(w.sheets()), noHeader(header))}
}

func noHeader(header []string) error {
	if len(header) == 0 {
		return fmt.Errorf("no row of two or more cells in the first %d rows", maxTitleRows)
	}
	return fmt.Errorf("no header row with %s in the first %d rows", quoteList(header), maxTitleRows)
}

// find matches a sheet name, ignoring case and surrounding space.
func (w *workbook) find(sheet string) (string, bool) {
	for _, s := range w.sheets() {
		if strings.EqualFold(strings.TrimSpace(s), strings.TrimSpace(sheet)) {
			return s, true
		}
	}
	return "", false
}

// sheetTable looks for a header row in the first rows of a sheet; found is
// false when there is none.
func (w *workbook) sheetTable(name string, header []string) (*table, bool, error) {
	rows, err := w.f.Rows(name)
	if err != nil {
		return nil, false, &InputError{File: w.file, Sheet: name, Err: fmt.Errorf("read sheet: %w", err)}
	}
	s := &sheetRows{file: w.file, name: name, rows: rows}
	for s.row < maxTitleRows {
		rec, _, err := s.read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			_ = rows.Close()
			return nil, false, err
		}
		if (len(header) > 0 && holdsAny(rec, header)) || (len(header) == 0 && nonEmpty(rec) >= 2) {
			t := &table{file: w.file, sheet: s, header: append([]string(nil), rec...), line: s.row, headerLine: s.row}
			t.indexHeader()
			return t, true, nil
		}
	}
	_ = rows.Close()
	return nil, false, nil
}

// sheetRows streams a sheet's non-empty rows with their row numbers.
type sheetRows struct {
	file, name string
	rows       *excelize.Rows
	row        int       // the row last read
	book       *workbook // closed with the table, when the table owns it
}

func (s *sheetRows) read() ([]string, int, error) {
	for s.rows.Next() {
		s.row++
		rec, err := s.rows.Columns()
		if err != nil {
			return nil, s.row, &InputError{File: s.file, Sheet: s.name, Line: s.row, Err: fmt.Errorf("read row: %w", err)}
		}
		if nonEmpty(rec) == 0 {
			continue
		}
		return rec, s.row, nil
	}
	if err := s.rows.Error(); err != nil {
		return nil, s.row, &InputError{File: s.file, Sheet: s.name, Line: s.row + 1, Err: fmt.Errorf("read row: %w", err)}
	}
	return nil, s.row, io.EOF
}

// columnName is a column's letter(s) as Excel shows them (0 is A).
func columnName(i int) string {
	name, err := excelize.ColumnNumberToName(i + 1)
	if err != nil {
		return ""
	}
	return name
}
