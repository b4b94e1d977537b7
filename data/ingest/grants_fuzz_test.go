package ingest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/xuri/excelize/v2"
)

// FuzzGrants feeds the 360Giving reader any bytes, as CSV, JSON or xlsx
// by their first bytes: it ends in io.EOF or an *InputError naming the
// file, and every row has the staging table's width.
//
//	go test -run '^$' -fuzz '^FuzzGrants$' -fuzztime 60s ./data/ingest
func FuzzGrants(f *testing.F) {
	for _, name := range []string{"grants_wigan.csv", "grants_wigan.json", "grants_foreign.csv"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "api", "testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
		f.Add(b[:len(b)*2/3], false)
	}
	// A small workbook, and one cut short.
	wb := excelize.NewFile()
	for i, row := range [][]any{{"Identifier", "Currency", "Amount Awarded", "Award Date"}, {"A", "GBP", 10.5, 45000}} {
		for j, v := range row {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			_ = wb.SetCellValue("Sheet1", cell, v)
		}
	}
	var buf bytes.Buffer
	if err := wb.Write(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes(), false)
	f.Add(buf.Bytes()[:buf.Len()/2], false)
	for _, s := range []string{"", "{", `{"grants":[`, `{"grants":[{"id":"A","amountAwarded":"x"}]}`, `[1]`, "PK\x03\x04", "\xD0\xCF\x11\xE0"} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, b []byte, filtered bool) {
		opts := Options{}
		if filtered {
			opts = Options{"funder": "gb-lae-wgn", "from": "2023-01-01", "to": "2023-12-31"}
		}
		r, closeReader, err := openGrants(fuzzFile, bytes.NewReader(b), opts)
		if err != nil {
			checkInputError(t, err)
			return
		}
		defer closeReader()
		rows := &grantRows{r: r, filter: newGrantFilter(opts), funders: map[string]bool{}}
		drain(t, 17, rows.next)
	})
}
