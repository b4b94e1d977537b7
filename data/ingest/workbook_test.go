package ingest_test

import (
	"encoding/csv"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// Workbooks for the tests are written here with excelize from the CSV
// fixtures (or, for the population estimates, from popCount), in the
// publishers' layouts: cover and notes sheets first, title rows above the
// header where ONS puts them, numbers stored as numbers.

// sheetSpec is one sheet of a test workbook.
type sheetSpec struct {
	name   string
	titles []string   // rows above the header, one cell each
	rows   [][]string // the header, then the records
}

// writeWorkbook writes sheets to path as an .xlsx.
func writeWorkbook(t *testing.T, path string, sheets []sheetSpec) {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, s := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", s.name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(s.name); err != nil {
			t.Fatal(err)
		}
		sw, err := f.NewStreamWriter(s.name)
		if err != nil {
			t.Fatal(err)
		}
		r := 1
		for _, title := range s.titles {
			if err := sw.SetRow(cellName(t, 1, r), []any{title}); err != nil {
				t.Fatal(err)
			}
			r++
		}
		for j, rec := range s.rows {
			vals := make([]any, len(rec))
			for k, v := range rec {
				vals[k] = cellValue(v, j == 0)
			}
			if err := sw.SetRow(cellName(t, 1, r), vals); err != nil {
				t.Fatal(err)
			}
			r++
		}
		if err := sw.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
}

// cellValue stores numbers as numbers, as published workbooks do (the
// header stays text).
func cellValue(v string, header bool) any {
	if header {
		return v
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n
	}
	if x, err := strconv.ParseFloat(v, 64); err == nil {
		return x
	}
	return v
}

func cellName(t *testing.T, col, row int) string {
	t.Helper()
	c, err := excelize.CoordinatesToCellName(col, row)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// readCSV reads a fixture's records, header first.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// records keys a CSV's rows by the named column, each row a map by header.
func records(recs [][]string, key string) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		out[m[key]] = m
	}
	return out
}

// workbookFromCSV writes a fixture as a workbook with a notes sheet before
// its data sheet, and returns the workbook's path.
func workbookFromCSV(t *testing.T, fixturePath, sheet string) string {
	t.Helper()
	name := strings.TrimSuffix(filepath.Base(fixturePath), ".csv") + ".xlsx"
	path := filepath.Join(t.TempDir(), name)
	writeWorkbook(t, path, []sheetSpec{
		{name: "Notes", titles: []string{"English Indices of Deprivation 2025", "This workbook holds one table."}},
		{name: sheet, rows: readCSV(t, fixturePath)},
	})
	return path
}

// The ONS population estimates by single year of age: popCount is the
// number of one sex at one age in a small area in a year, made up but
// fixed, so tests can recompute every total and band.
func popCount(code string, year int, sex byte, age int) int {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d/%c/%d", code, year, sex, age)
	return int(h.Sum32() % 13)
}

// popFigures is a small area's total and bands (0-15, 16-64, 65+) in a year.
func popFigures(code string, year int) (total int, bands [3]int) {
	for _, sex := range []byte{'F', 'M'} {
		for age := 0; age <= 90; age++ {
			n := popCount(code, year, sex, age)
			total += n
			switch {
			case age <= 15:
				bands[0] += n
			case age <= 64:
				bands[1] += n
			default:
				bands[2] += n
			}
		}
	}
	return total, bands
}

// smallAreaNames are the sample's LSOAs (code -> name), from its IoD2019 file.
func smallAreaNames(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for code, r := range records(readCSVText(t, sampleText(t, "deprivation/IoD2019_File2_domains_ranks_deciles.csv")), "LSOA code (2011)") {
		out[code] = r["LSOA name (2011)"]
	}
	return out
}

func readCSVText(t *testing.T, s string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// popSheet is a "Mid-YYYY LSOA 2021" sheet of sapelsoasyoa20222024.xlsx:
// three title rows, the header on row 4, single years F0 ... F90, M0 ... M90.
func popSheet(year int, names map[string]string, codes []string) sheetSpec {
	header := []string{"LAD 2023 Code", "LAD 2023 Name", "LSOA 2021 Code", "LSOA 2021 Name", "Total"}
	for _, sex := range []string{"F", "M"} {
		for age := 0; age <= 90; age++ {
			header = append(header, fmt.Sprintf("%s%d", sex, age))
		}
	}
	rows := [][]string{header}
	for _, c := range codes {
		total, _ := popFigures(c, year)
		rec := []string{"E08000010", "Wigan", c, names[c], strconv.Itoa(total)}
		for _, sex := range []byte{'F', 'M'} {
			for age := 0; age <= 90; age++ {
				rec = append(rec, strconv.Itoa(popCount(c, year, sex, age)))
			}
		}
		rows = append(rows, rec)
	}
	return sheetSpec{
		name: fmt.Sprintf("Mid-%d LSOA 2021", year),
		titles: []string{
			fmt.Sprintf("Mid-%d population estimates for Lower layer Super Output Areas (LSOAs) in England and Wales by single year of age and sex", year),
			"This worksheet contains one table. Some cells refer to notes which can be found on the Notes worksheet.",
			"Source: Office for National Statistics",
		},
		rows: rows,
	}
}

// populationWorkbook writes sapelsoasyoa20222024.xlsx for the codes: cover,
// contents and notes sheets, then mid-2022, mid-2023 and mid-2024.
func populationWorkbook(t *testing.T, codes []string) string {
	t.Helper()
	names := smallAreaNames(t)
	path := filepath.Join(t.TempDir(), "sapelsoasyoa20222024.xlsx")
	sheets := []sheetSpec{
		{name: "Cover sheet", titles: []string{"Lower layer Super Output Area population estimates, mid-2022 to mid-2024", "Released 2025"}},
		{name: "Table of contents", titles: []string{"Table of contents", "Mid-2022 LSOA 2021", "Mid-2023 LSOA 2021", "Mid-2024 LSOA 2021"}},
		{name: "Notes", titles: []string{"Notes", "Note 1: figures may not sum because of rounding."}},
	}
	for _, y := range []int{2022, 2023, 2024} {
		sheets = append(sheets, popSheet(y, names, codes))
	}
	writeWorkbook(t, path, sheets)
	return path
}
