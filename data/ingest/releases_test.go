package ingest_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"nbhd/data"
	"nbhd/data/dbtest"
	"nbhd/data/ingest"
)

// This year's releases beside last: IoD2025 with IoD2019, population
// periods, wards by year, and each small area's borough.

const (
	iod25File1 = "File_1_IoD2025_Index_of_Multiple_Deprivation.csv"
	iod25File2 = "File_2_IoD2025_Domains_of_Deprivation.csv"
	iod25File5 = "File_5_IoD2025_Scores_for_the_Indices_of_Deprivation.csv"
	iod25File7 = "File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv"
	imdRankCol = "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)"
	imdDecCol  = "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"
)

type depRow struct {
	rank, decile                  *int
	score, idaciScore, incomeRate *float64
	idaciRank, outdoorsDecile     *int
}

func deprivationOf(t *testing.T, conn *pgx.Conn, code string, release int) depRow {
	t.Helper()
	var d depRow
	if err := conn.QueryRow(context.Background(), `SELECT imd_rank, imd_decile, imd_score::float8, idaci_score::float8, income_score::float8,
		idaci_rank, outdoors_decile FROM nbhd.deprivation WHERE code = $1 AND release = $2`, code, release).
		Scan(&d.rank, &d.decile, &d.score, &d.idaciScore, &d.incomeRate, &d.idaciRank, &d.outdoorsDecile); err != nil {
		t.Fatalf("deprivation %d of %s: %v", release, code, err)
	}
	return d
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return n
}

func atof(t *testing.T, s string) float64 {
	t.Helper()
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return x
}

func TestIoD2025FilesInCSVAndXLSXBesideIoD2019(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	before2019 := count(t, conn, "SELECT count(*) FROM nbhd.deprivation WHERE release = 2019")
	if before2019 != 200 {
		t.Fatalf("the sample has %d IoD2019 rows, want 200", before2019)
	}
	// File 1, 2 and 5 as CSV: their own datasets, combining per area.
	for _, c := range []struct{ file, key string }{{iod25File1, "imd2025-file1"}, {iod25File2, "imd2025-file2"}, {iod25File5, "imd2025-file5"}} {
		res := runResult(t, conn, "imd", fixture(c.file), ingest.Options{})
		if res.Rows != 6 || !hasNote(res, "Deprivation 2025") {
			t.Errorf("%s: %d rows, notes %v", c.file, res.Rows, res.Notes)
		}
		datasetID(t, conn, "deprivation", c.key)
	}
	f2 := records(readCSV(t, fixture(iod25File2)), "LSOA code (2021)")
	f5 := records(readCSV(t, fixture(iod25File5)), "LSOA code (2021)")
	for code, r := range f2 {
		d := deprivationOf(t, conn, code, 2025)
		if d.rank == nil || *d.rank != atoi(t, r[imdRankCol]) || d.score == nil || *d.score != atof(t, f5[code]["Index of Multiple Deprivation (IMD) Score"]) ||
			d.idaciScore == nil || *d.idaciScore != atof(t, f5[code]["Income Deprivation Affecting Children Index (IDACI) Score (rate)"]) {
			t.Errorf("%s 2025: rank %v score %v IDACI score %v", code, d.rank, d.score, d.idaciScore)
		}
	}
	// IoD2019 is untouched, and the 2019 dataset kept.
	if n := count(t, conn, "SELECT count(*) FROM nbhd.deprivation WHERE release = 2019"); n != before2019 {
		t.Errorf("%d IoD2019 rows after loading IoD2025, want %d", n, before2019)
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.deprivation_parts WHERE release = 2019"); n != 200 {
		t.Errorf("%d IoD2019 parts left", n)
	}
	// The same files as published workbooks, each replacing its CSV twin.
	for _, c := range []struct{ file, sheet, key string }{
		{iod25File1, "IMD25", "imd2025-file1"}, {iod25File2, "IoD2025 Domains", "imd2025-file2"},
		{iod25File5, "IoD2025 Scores", "imd2025-file5"}, {iod25File7, "IoD2025 All", "imd2025-file7"},
	} {
		book := workbookFromCSV(t, fixture(c.file), c.sheet)
		res := runResult(t, conn, "imd", book, ingest.Options{})
		want := 6
		if c.file == iod25File7 {
			want = 200
		}
		if res.Rows != want {
			t.Errorf("%s: %d rows, want %d (notes %v)", filepath.Base(book), res.Rows, want, res.Notes)
		}
		if n := count(t, conn, "SELECT count(*) FROM nbhd.datasets WHERE kind = 'deprivation' AND key = $1", c.key); n != 1 {
			t.Errorf("%d datasets %s, want the workbook's alone", n, c.key)
		}
	}
	// File 7's every value, recomputed from the CSV: ranks, deciles and
	// scores of the IMD, a domain, a supplementary index and a sub-domain.
	for code, r := range records(readCSV(t, fixture(iod25File7)), "LSOA code (2021)") {
		d := deprivationOf(t, conn, code, 2025)
		ok := d.rank != nil && *d.rank == atoi(t, r[imdRankCol]) && d.decile != nil && *d.decile == atoi(t, r[imdDecCol]) &&
			d.incomeRate != nil && *d.incomeRate == atof(t, r["Income Score (rate)"]) &&
			d.idaciRank != nil && *d.idaciRank == atoi(t, r["Income Deprivation Affecting Children Index (IDACI) Rank (where 1 is most deprived)"]) &&
			d.outdoorsDecile != nil && *d.outdoorsDecile == atoi(t, r["Outdoors Sub-domain Decile (where 1 is most deprived 10% of LSOAs)"])
		if !ok {
			t.Errorf("%s 2025 after File 7: %+v", code, d)
		}
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.deprivation WHERE release = 2025"); n != 200 {
		t.Errorf("%d IoD2025 rows, want 200", n)
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.deprivation WHERE release = 2019"); n != before2019 {
		t.Errorf("%d IoD2019 rows at the end, want %d", n, before2019)
	}
	// --release agrees with the header or is refused; --lookup is IoD2019's.
	if _, err := importFile(conn, "imd", fixture(iod25File1), ingest.Options{"release": "2019"}); err == nil ||
		!strings.Contains(err.Error(), "--release 2019") || !strings.Contains(err.Error(), "LSOA code (2021)") {
		t.Errorf("--release 2019 on an IoD2025 file: %v", err)
	}
	if _, err := importFile(conn, "imd", fixture(iod25File1), ingest.Options{"lookup": "LSOA_(2011)_to_LSOA_(2021)_to_Local_Authority_District_(2022)_Lookup.csv"}); err == nil ||
		!strings.Contains(err.Error(), "2021 LSOAs already") {
		t.Errorf("--lookup on an IoD2025 file: %v", err)
	}
}

func TestIoDBadRowsNameTheirPlaceInCSVAndXLSX(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	f1 := readCSV(t, fixture(iod25File1))
	bad := make([][]string, len(f1))
	for i, r := range f1 {
		bad[i] = append([]string(nil), r...)
	}
	bad[3][4] = "40000" // rank out of 1..33,755, on line 4, column E
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "f1.csv")
	var b strings.Builder
	for _, r := range bad {
		b.WriteString(strings.Join(r, ",") + "\n")
	}
	if err := os.WriteFile(csvPath, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	book := filepath.Join(dir, "f1.xlsx")
	writeWorkbook(t, book, []sheetSpec{{name: "Notes", titles: []string{"Notes"}},
		{name: "IMD25", titles: []string{"English Indices of Deprivation 2025: File 1"}, rows: bad}})
	before := counts(t, conn)
	for _, c := range []struct {
		path string
		want []string
	}{
		{csvPath, []string{"f1.csv: line 4", `field "` + imdRankCol + `"`, "40000 is outside 1..33755"}},
		// The title row pushes the header to row 2, so line 4 is row 5.
		{book, []string{`f1.xlsx: sheet "IMD25", row 5`, `field "` + imdRankCol + `" (column E)`, "40000 is outside 1..33755"}},
	} {
		_, err := importFile(conn, "imd", c.path, ingest.Options{})
		if err == nil || !ingest.IsInputError(err) {
			t.Fatalf("%s: %v, want an input error", c.path, err)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q does not say %q", err, w)
			}
		}
	}
	// A workbook's staged checks name the sheet too: a duplicate code.
	dup := make([][]string, 0, len(f1)+1)
	dup = append(dup, f1...)
	dup = append(dup, f1[2])
	writeWorkbook(t, book, []sheetSpec{{name: "IMD25", rows: dup}})
	if _, err := importFile(conn, "imd", book, ingest.Options{}); err == nil ||
		!strings.Contains(err.Error(), `sheet "IMD25", row 8`) || !strings.Contains(err.Error(), "(column A)") ||
		!strings.Contains(err.Error(), "already appears on row 3") {
		t.Errorf("duplicate code in a workbook: %v", err)
	}
	// A named sheet that is not there, and a workbook with no data sheet.
	if _, err := importFile(conn, "imd", book, ingest.Options{"sheet": "IMD2025"}); err == nil || !strings.Contains(err.Error(), `no sheet "IMD2025"`) {
		t.Errorf("--sheet of a missing sheet: %v", err)
	}
	writeWorkbook(t, book, []sheetSpec{{name: "Notes", titles: []string{"Nothing here"}}})
	if _, err := importFile(conn, "imd", book, ingest.Options{}); err == nil || !strings.Contains(err.Error(), "no sheet has a header row") {
		t.Errorf("a workbook of notes: %v", err)
	}
	after := counts(t, conn)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s: %d rows before the bad imports, %d after", k, v, after[k])
		}
	}
}

// stripBoroughs removes the lad_code and lad_name properties from the
// sample's LSOA boundaries.
func stripBoroughs(t *testing.T) string {
	t.Helper()
	s := sampleText(t, "boundaries/lsoa_2021_generalised.geojson")
	s = strings.NewReplacer(`,"lad_code":"E08000010"`, "", `,"lad_name":"Wigan"`, "").Replace(s)
	if strings.Contains(s, "lad_code") {
		t.Fatal("the sample's boundaries changed: lad_code is still there")
	}
	return writeFile(t, "lsoa.geojson", s)
}

func TestSmallAreasKnowTheirBoroughFromTheFiles(t *testing.T) {
	ctx := context.Background()
	boundaries := ingest.Options{"level": "lsoa", "vintage": "2021"}
	t.Run("from the IMD's LAD columns", func(t *testing.T) {
		conn := dbtest.Conn(t, dbtest.New(t, false))
		runResult(t, conn, "boundaries", stripBoroughs(t), boundaries)
		if n := count(t, conn, "SELECT count(*) FROM nbhd.small_areas WHERE lad_code IS NOT NULL"); n != 0 {
			t.Fatalf("%d small areas have a borough before any file named one", n)
		}
		runResult(t, conn, "imd", fixture(iod25File7), ingest.Options{})
		want := records(readCSV(t, fixture(iod25File7)), "LSOA code (2021)")
		rows, err := conn.Query(ctx, `SELECT sa.code, coalesce(sa.lad_code, ''), coalesce(b.name, '') FROM nbhd.small_areas sa
			LEFT JOIN nbhd.boroughs b ON b.code = sa.lad_code`)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var code, lad, name string
			if err := rows.Scan(&code, &lad, &name); err != nil {
				t.Fatal(err)
			}
			n++
			if w := want[code]; lad != w["Local Authority District code (2024)"] || name != w["Local Authority District name (2024)"] {
				t.Errorf("%s is in %q (%q), the IMD says %q (%q)", code, lad, name,
					w["Local Authority District code (2024)"], w["Local Authority District name (2024)"])
			}
		}
		if rows.Err() != nil || n != 200 {
			t.Errorf("%d small areas read: %v", n, rows.Err())
		}
		if n := count(t, conn, "SELECT count(*) FROM nbhd.small_area_lads WHERE trust = 3"); n != 200 {
			t.Errorf("%d statements at the IoD's trust, want 200", n)
		}
	})
	t.Run("from --la, named later by a file", func(t *testing.T) {
		conn := dbtest.Conn(t, dbtest.New(t, false))
		opts := ingest.Options{"level": "lsoa", "vintage": "2021", "la": "E08000010"}
		res := runResult(t, conn, "boundaries", stripBoroughs(t), opts)
		if !hasNote(res, "200 small areas placed") {
			t.Errorf("notes %v", res.Notes)
		}
		if n := count(t, conn, "SELECT count(*) FROM nbhd.small_areas WHERE lad_code = 'E08000010'"); n != 200 {
			t.Errorf("%d small areas in E08000010 after --la", n)
		}
		var name string
		if err := conn.QueryRow(ctx, "SELECT name FROM nbhd.boroughs WHERE code = 'E08000010'").Scan(&name); err != nil || name != "E08000010" {
			t.Errorf("borough named %q before any file named it: %v", name, err)
		}
		// Two boroughs and no LAD property: nothing to tell them apart by.
		if _, err := importFile(conn, "boundaries", stripBoroughs(t), ingest.Options{"level": "lsoa", "vintage": "2021", "la": "E08000010,E08000001"}); err == nil ||
			!strings.Contains(err.Error(), "no borough property") {
			t.Errorf("--la of two boroughs without a LAD property: %v", err)
		}
		// The region lookup names it; the IMD's statement does not move a
		// small area given on import (trust 1 beats 3).
		runResult(t, conn, "lad-lookup", fixture("LAD24_RGN24_EN_LU.csv"), ingest.Options{})
		if err := conn.QueryRow(ctx, "SELECT name FROM nbhd.boroughs WHERE code = 'E08000010'").Scan(&name); err != nil || name != "Wigan" {
			t.Errorf("borough named %q after the region lookup: %v", name, err)
		}
		// A bare code never replaces a real name.
		if _, err := conn.Exec(ctx, "UPDATE nbhd.small_area_lads SET lad_code = lad_code"); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(ctx, "SELECT name FROM nbhd.boroughs WHERE code = 'E08000010'").Scan(&name); err != nil || name != "Wigan" {
			t.Errorf("borough renamed %q: %v", name, err)
		}
	})
}

func TestRegionAndCombinedAuthorityLookups(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	ctx := context.Background()
	res := runResult(t, conn, "lad-lookup", fixture("LAD24_RGN24_EN_LU.csv"), ingest.Options{})
	if res.Rows != 4 || !hasNote(res, "4 boroughs in 2 regions") {
		t.Errorf("regions: %d rows, notes %v", res.Rows, res.Notes)
	}
	datasetID(t, conn, "lad_lookup", "lad-region")
	res = runResult(t, conn, "lad-lookup", fixture("LAD24_CAUTH24_EN_LU.csv"), ingest.Options{})
	if res.Rows != 3 {
		t.Errorf("combined authorities: %d rows", res.Rows)
	}
	cauth := datasetID(t, conn, "lad_lookup", "lad-cauth")
	var region, ca, bolton string
	if err := conn.QueryRow(ctx, `SELECT r.region_name, c.cauth_name, (SELECT name FROM nbhd.boroughs WHERE code = 'E08000001')
		FROM nbhd.borough_regions r JOIN nbhd.borough_cauths c USING (lad_code) WHERE lad_code = 'E08000010'`).Scan(&region, &ca, &bolton); err != nil {
		t.Fatal(err)
	}
	if region != "North West" || ca != "Greater Manchester" || bolton != "Bolton" {
		t.Errorf("Wigan: region %q, combined authority %q; Bolton named %q", region, ca, bolton)
	}
	// A newer lookup replaces the older; dropping it removes its rows only.
	runResult(t, conn, "lad-lookup", fixture("LAD24_CAUTH24_EN_LU.csv"), ingest.Options{})
	if n := count(t, conn, "SELECT count(*) FROM nbhd.borough_cauths"); n != 3 {
		t.Errorf("%d combined-authority rows after re-import", n)
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.datasets WHERE id = $1", cauth); n != 0 {
		t.Error("the earlier lookup's dataset is still there")
	}
	drop(t, conn, datasetID(t, conn, "lad_lookup", "lad-cauth"))
	if n := count(t, conn, "SELECT count(*) FROM nbhd.borough_cauths"); n != 0 {
		t.Errorf("%d combined-authority rows after drop", n)
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.borough_regions"); n != 4 {
		t.Errorf("%d region rows after dropping the other lookup", n)
	}
	// A borough in two regions, and a lookup of neither.
	two := strings.Replace(sampleOf(t, "LAD24_RGN24_EN_LU.csv"), "E06000001,Hartlepool,", "E08000010,Wigan,", 1)
	if _, err := importFile(conn, "lad-lookup", writeFile(t, "r.csv", two), ingest.Options{}); err == nil ||
		!strings.Contains(err.Error(), "r.csv: line 5") || !strings.Contains(err.Error(), "E08000010 is in E12000001 here but in E12000002 on line 3") {
		t.Errorf("a borough in two regions: %v", err)
	}
	if _, err := importFile(conn, "lad-lookup", writeFile(t, "x.csv", "LAD24CD,LAD24NM,CTRY24CD\nE08000010,Wigan,E92000001\n"), ingest.Options{}); err == nil ||
		!strings.Contains(err.Error(), "RGN24CD") {
		t.Errorf("a lookup of neither: %v", err)
	}
	if _, err := importFile(conn, "lad-lookup", fixture("LAD24_RGN24_EN_LU.csv"), ingest.Options{"la": "E08000010"}); err == nil ||
		!strings.Contains(err.Error(), "loaded whole") {
		t.Errorf("--la: %v", err)
	}
}

func sampleOf(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(fixture(name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wardsOf renames the sample's 2022 ward boundaries to a year's synthetic
// codes (as the lookup fixtures do) and property names.
func wardsOf(t *testing.T, codeKey, nameKey string, lookup string, codeCol string) string {
	t.Helper()
	sample := records(readCSVText(t, sampleText(t, "lookups/lsoa21_to_ward22_bestfit.csv")), "lsoa21cd")
	lk := readCSV(t, fixture(lookup))
	next := records(lk, lk[0][0])
	s := sampleText(t, "boundaries/ward_2022_generalised.geojson")
	pairs := []string{`"area_code":`, `"` + codeKey + `":`, `"area_name":`, `"` + nameKey + `":`}
	seen := map[string]bool{}
	for lsoa, r := range sample {
		old, nu := r["wd22cd"], next[lsoa][codeCol]
		if !seen[old] {
			seen[old] = true
			pairs = append(pairs, `"`+old+`"`, `"`+nu+`"`)
		}
	}
	return writeFile(t, "wards.geojson", strings.NewReplacer(pairs...).Replace(s))
}

func TestWardsOf2024And2025LoadAsSetsByYear(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	ctx := context.Background()
	setOf := func(id string) (level, vintage string, hoods, members int) {
		t.Helper()
		if err := conn.QueryRow(ctx, `SELECT level, vintage, (SELECT count(*) FROM nbhd.neighbourhoods WHERE set_id = $1),
			(SELECT count(*) FROM nbhd.neighbourhood_members WHERE set_id = $1) FROM nbhd.neighbourhood_sets WHERE id = $1`, id).
			Scan(&level, &vintage, &hoods, &members); err != nil {
			t.Fatalf("set %s: %v", id, err)
		}
		return
	}
	// 2024: boundaries with the ONS best-fit lookup; the year from WD24CD.
	wards24 := wardsOf(t, "WD24CD", "WD24NM", "LSOA21_WD24_LAD24_EW_LU.csv", "WD24CD")
	lookup24, err := filepath.Abs(fixture("LSOA21_WD24_LAD24_EW_LU.csv"))
	if err != nil {
		t.Fatal(err)
	}
	res := runResult(t, conn, "boundaries", wards24, ingest.Options{"level": "ward", "set": "ward-2024", "lookup": lookup24})
	if !hasNote(res, "200 small areas placed by lookup, 0 by largest overlap, 0 in no neighbourhood") {
		t.Errorf("ward-2024 notes %v", res.Notes)
	}
	if level, vintage, hoods, members := setOf("ward-2024"); level != "ward" || vintage != "2024" || hoods != 25 || members != 200 {
		t.Errorf("ward-2024: level %q vintage %q, %d wards, %d members", level, vintage, hoods, members)
	}
	// The lookup's LAD column is an ONS statement about each small area.
	if n := count(t, conn, `SELECT count(*) FROM nbhd.small_area_lads l JOIN nbhd.datasets d ON d.id = l.dataset_id
		WHERE d.key = 'ward-2024' AND l.trust = 2 AND l.lad_code = 'E08000010'`); n != 200 {
		t.Errorf("%d borough statements from the 2024 lookup, want 200", n)
	}
	// A lookup of another year is refused.
	lookup25, err := filepath.Abs(fixture("LSOA21_WD25_LAD25_EW_LU.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := importFile(conn, "boundaries", wards24, ingest.Options{"level": "ward", "set": "ward-x", "lookup": lookup25}); err == nil ||
		!strings.Contains(err.Error(), "of 2025 but the boundaries") {
		t.Errorf("a 2025 lookup with 2024 wards: %v", err)
	}
	// 2025 from the lookup alone: unions of small areas, no official boundary.
	res = runResult(t, conn, "set-lookup", fixture("LSOA21_WD25_LAD25_EW_LU.csv"), ingest.Options{"set": "ward-2025", "la": "E08000010"})
	if res.Rows != 25 || !hasNote(res, "200 small areas in 25 neighbourhoods") || !hasNote(res, "skipped 1 rows of other local authorities") {
		t.Errorf("ward-2025: %d rows, notes %v", res.Rows, res.Notes)
	}
	if level, vintage, hoods, members := setOf("ward-2025"); level != "custom" || vintage != "2025" || hoods != 25 || members != 200 {
		t.Errorf("ward-2025: level %q vintage %q, %d wards, %d members", level, vintage, hoods, members)
	}
	var name string
	var equal bool
	if err := conn.QueryRow(ctx, `SELECT n.name, ST_Equals(n.geom, (SELECT ST_Multi(ST_Union(sa.geom)) FROM nbhd.neighbourhood_members m
		JOIN nbhd.small_areas sa ON sa.code = m.small_area_code WHERE m.set_id = n.set_id AND m.neighbourhood_code = n.code))
		FROM nbhd.neighbourhoods n WHERE n.set_id = 'ward-2025' ORDER BY n.code LIMIT 1`).Scan(&name, &equal); err != nil || !equal || !strings.HasSuffix(name, "(2025)") {
		t.Errorf("ward-2025's first ward %q is the union of its small areas: %v (%v)", name, equal, err)
	}
	// Without --la the Bolton row is of a small area that is not loaded.
	res = runResult(t, conn, "set-lookup", fixture("LSOA21_WD25_LAD25_EW_LU.csv"), ingest.Options{"set": "ward-2025"})
	if !hasNote(res, "skipped 1 rows of small areas that are not loaded") {
		t.Errorf("notes %v", res.Notes)
	}
	// The 2022 set of the sample is still there beside both.
	if _, _, hoods, members := setOf("ward"); hoods != 25 || members != 200 {
		t.Errorf("the sample's ward set has %d wards and %d members", hoods, members)
	}
	// Bad lookups: two wards for one small area; a year that disagrees.
	lk := sampleOf(t, "LSOA21_WD25_LAD25_EW_LU.csv")
	lines := strings.Split(lk, "\r\n")
	twice := lk + strings.Replace(lines[1], ",E0501", ",E0509", 1) + "\r\n"
	if _, err := importFile(conn, "set-lookup", writeFile(t, "lu.csv", twice), ingest.Options{"set": "w"}); err == nil ||
		!strings.Contains(err.Error(), "lu.csv: line 203") || !strings.Contains(err.Error(), `field "wd25cd"`) || !strings.Contains(err.Error(), "on line 2") {
		t.Errorf("a small area in two wards: %v", err)
	}
	if _, err := importFile(conn, "set-lookup", fixture("LSOA21_WD25_LAD25_EW_LU.csv"), ingest.Options{"set": "w", "vintage": "2024"}); err == nil ||
		!strings.Contains(err.Error(), "--vintage 2024, but the lookup's neighbourhoods are of 2025") {
		t.Errorf("--vintage against the lookup: %v", err)
	}
}

func TestPopulationPeriodsFromTheWorkbookCensusAndCSV(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	ctx := context.Background()
	codes := sortedKeys(smallAreaNames(t))
	book := populationWorkbook(t, codes)
	res := runResult(t, conn, "population", book, ingest.Options{})
	if res.Rows != 600 || !hasNote(res, "periods: mid-2022, mid-2023, mid-2024") {
		t.Errorf("workbook: %d rows, notes %v", res.Rows, res.Notes)
	}
	datasetID(t, conn, "population", "population-mid-2022-to-mid-2024")
	check := func(period string, year int) {
		t.Helper()
		rows, err := conn.Query(ctx, `SELECT code, population, age_0_15, age_16_64, age_65_plus FROM nbhd.small_area_population WHERE period = $1`, period)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var code string
			var total, a0, a1, a2 int
			if err := rows.Scan(&code, &total, &a0, &a1, &a2); err != nil {
				t.Fatal(err)
			}
			n++
			wt, wb := popFigures(code, year)
			if total != wt || [3]int{a0, a1, a2} != wb {
				t.Errorf("%s %s: %d (%d, %d, %d), want %d %v", code, period, total, a0, a1, a2, wt, wb)
			}
		}
		if n != 200 {
			t.Errorf("%d rows of %s", n, period)
		}
	}
	for _, y := range []int{2022, 2023, 2024} {
		check(fmt.Sprintf("mid-%d", y), y)
	}
	// The sample's mid-2017 is kept beside them.
	if n := count(t, conn, "SELECT count(*) FROM nbhd.small_area_population WHERE period = 'mid-2017'"); n != 200 {
		t.Errorf("%d mid-2017 rows left", n)
	}
	// Census 2021 TS001 as period census-2021.
	res = runResult(t, conn, "population", fixture("census2021-ts001-lsoa.csv"), ingest.Options{})
	datasetID(t, conn, "population", "population-census-2021")
	ts := records(readCSV(t, fixture("census2021-ts001-lsoa.csv")), "geography code")
	var mismatched int
	for code, r := range ts {
		var v int
		if err := conn.QueryRow(ctx, "SELECT population FROM nbhd.small_area_population WHERE code = $1 AND period = 'census-2021'", code).Scan(&v); err != nil ||
			v != atoi(t, r["Residence type: Total; measures: Value"]) {
			mismatched++
		}
	}
	if res.Rows != 200 || mismatched != 0 {
		t.Errorf("TS001: %d rows, %d mismatched", res.Rows, mismatched)
	}
	// One sheet saved as CSV, title rows and all, replaces that period only.
	sheet := popSheet(2023, smallAreaNames(t), codes)
	var b strings.Builder
	for _, title := range sheet.titles {
		b.WriteString(`"` + title + `"` + "\n")
	}
	for i, r := range sheet.rows {
		if i == 1 {
			r = append([]string(nil), r...)
			r[4], r[5] = strconv.Itoa(atoi(t, r[4])+1000), strconv.Itoa(atoi(t, r[5])+1000) // F0 +1000
		}
		b.WriteString(strings.Join(r, ",") + "\n")
	}
	res = runResult(t, conn, "population", writeFile(t, "mid2023.csv", b.String()), ingest.Options{"period": "mid-2023"})
	if res.Rows != 200 {
		t.Errorf("mid-2023 CSV: %d rows", res.Rows)
	}
	var total, a0 int
	first := sheet.rows[1][2]
	if err := conn.QueryRow(ctx, "SELECT population, age_0_15 FROM nbhd.small_area_population WHERE code = $1 AND period = 'mid-2023'", first).Scan(&total, &a0); err != nil {
		t.Fatal(err)
	}
	if wt, wb := popFigures(first, 2023); total != wt+1000 || a0 != wb[0]+1000 {
		t.Errorf("%s mid-2023 after the CSV: %d, %d", first, total, a0)
	}
	check("mid-2022", 2022)
	check("mid-2024", 2024)
	if n := count(t, conn, "SELECT count(*) FROM nbhd.small_area_population"); n != 1000 {
		t.Errorf("%d population rows, want 5 periods of 200", n)
	}
	// Broad ages give the same bands.
	broad := [][]string{{"LAD 2023 Code", "LAD 2023 Name", "LSOA 2021 Code", "LSOA 2021 Name", "Total",
		"F0-15", "F16-29", "F30-44", "F45-64", "F65+", "M0-15", "M16-29", "M30-44", "M45-64", "M65+"}}
	for _, c := range codes {
		total, _ := popFigures(c, 2024)
		rec := []string{"E08000010", "Wigan", c, "", strconv.Itoa(total)}
		for _, sex := range []byte{'F', 'M'} {
			for _, band := range [][2]int{{0, 15}, {16, 29}, {30, 44}, {45, 64}, {65, 90}} {
				n := 0
				for a := band[0]; a <= band[1]; a++ {
					n += popCount(c, 2024, sex, a)
				}
				rec = append(rec, strconv.Itoa(n))
			}
		}
		broad = append(broad, rec)
	}
	broadBook := filepath.Join(t.TempDir(), "sapelsoabroadage20222024.xlsx")
	writeWorkbook(t, broadBook, []sheetSpec{{name: "Contents", titles: []string{"Contents"}},
		{name: "Mid-2024 LSOA 2021", titles: []string{"Mid-2024 population estimates by broad age", "Source: ONS"}, rows: broad}})
	runResult(t, conn, "population", broadBook, ingest.Options{"key": "broad"})
	check("mid-2024", 2024)
	// Bad rows name the sheet, row and column.
	broad[5][6] = "x"
	writeWorkbook(t, broadBook, []sheetSpec{{name: "Mid-2024 LSOA 2021", titles: []string{"title", "source"}, rows: broad}})
	if _, err := importFile(conn, "population", broadBook, ingest.Options{}); err == nil ||
		!strings.Contains(err.Error(), `sheet "Mid-2024 LSOA 2021", row 8, field "F16-29" (column G)`) {
		t.Errorf("a bad count: %v", err)
	}
	broad[5][6] = "0"
	writeWorkbook(t, broadBook, []sheetSpec{{name: "Mid-2024 LSOA 2021", rows: broad}})
	if _, err := importFile(conn, "population", broadBook, ingest.Options{}); err == nil ||
		!strings.Contains(err.Error(), `row 6, field "Total" (column E)`) || !strings.Contains(err.Error(), "add up to") {
		t.Errorf("ages that do not add up: %v", err)
	}
	if _, err := importFile(conn, "population", book, ingest.Options{"period": "mid-2022"}); err == nil ||
		!strings.Contains(err.Error(), "give --sheet") {
		t.Errorf("--period with a workbook of three periods: %v", err)
	}
	if _, err := importFile(conn, "population", book, ingest.Options{"period": "2022-23"}); err == nil ||
		!strings.Contains(err.Error(), "mid-YYYY") {
		t.Errorf("a period of the wrong form: %v", err)
	}
	// --la without a LAD column goes by the small areas' borough.
	if _, err := importFile(conn, "population", fixture("census2021-ts001-lsoa.csv"), ingest.Options{"la": "E08000001"}); err == nil ||
		!strings.Contains(err.Error(), "no rows to import") {
		t.Errorf("TS001 --la of a borough not loaded: %v", err)
	}
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestEveryTabularKindTakesAWorkbook(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	lk := readCSVText(t, sampleText(t, "lookups/lsoa21_to_ward22_bestfit.csv"))
	rows := [][]string{{"lsoa21cd", "neighbourhood"}}
	for _, r := range lk[1:] {
		rows = append(rows, []string{r[0], r[3]})
	}
	book := filepath.Join(t.TempDir(), "footprints.xlsx")
	writeWorkbook(t, book, []sheetSpec{{name: "Footprints", titles: []string{"Our neighbourhoods, April 2026"}, rows: rows}})
	res := runResult(t, conn, "neighbourhoods", book, ingest.Options{"set": "footprints"})
	if res.Rows != 25 || count(t, conn, "SELECT count(*) FROM nbhd.neighbourhood_members WHERE set_id = 'footprints'") != 200 {
		t.Errorf("footprints from a workbook: %d neighbourhoods", res.Rows)
	}
	// An old binary workbook is named as such.
	xls := writeFile(t, "old.xls", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 rest")
	if _, err := importFile(conn, "neighbourhoods", xls, ingest.Options{"set": "x"}); err == nil || !strings.Contains(err.Error(), "Excel 97-2003") {
		t.Errorf("an .xls: %v", err)
	}
}

// round2 rounds as the profile does (two decimals).
func round2(x float64) float64 { return math.Round(x*100) / 100 }

func near(a *float64, b float64) bool { return a != nil && math.Abs(*a-b) < 0.006 }

func TestProfileShowsBothReleasesAndEveryPeriodWithTheirChange(t *testing.T) {
	url := dbtest.New(t, true)
	conn := dbtest.Conn(t, url)
	ctx := context.Background()
	codes := sortedKeys(smallAreaNames(t))
	runResult(t, conn, "imd", fixture(iod25File7), ingest.Options{})
	runResult(t, conn, "population", populationWorkbook(t, codes), ingest.Options{})
	runResult(t, conn, "population", fixture("census2021-ts001-lsoa.csv"), ingest.Options{})
	store, err := data.Open(ctx, data.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()

	// Recomputed from the files alone.
	members := map[string][]string{}
	for _, r := range readCSVText(t, sampleText(t, "lookups/lsoa21_to_ward22_bestfit.csv"))[1:] {
		members[r[2]] = append(members[r[2]], r[0])
	}
	dec19 := records(readCSVText(t, sampleText(t, "deprivation/IoD2019_File2_domains_ranks_deciles.csv")), "LSOA code (2011)")
	dec25 := records(readCSV(t, fixture(iod25File7)), "LSOA code (2021)")
	mid17 := records(readCSVText(t, sampleText(t, "population/lsoa11_population_mid2017.csv")), "area_code")
	census := records(readCSV(t, fixture("census2021-ts001-lsoa.csv")), "geography code")
	share := func(lsoas []string, rows map[string]map[string]string) float64 {
		n := 0
		for _, c := range lsoas {
			if rows[c][imdDecCol] == "1" {
				n++
			}
		}
		return round2(100 * float64(n) / float64(len(lsoas)))
	}
	pops := func(lsoas []string) (p17, p21, p22, p23, p24, old24 int) {
		for _, c := range lsoas {
			p17 += atoi(t, mid17[c]["all_ages_mid2017"])
			p21 += atoi(t, census[c]["Residence type: Total; measures: Value"])
			v, _ := popFigures(c, 2022)
			p22 += v
			v, _ = popFigures(c, 2023)
			p23 += v
			v, b := popFigures(c, 2024)
			p24 += v
			old24 += b[2]
		}
		return
	}
	wards := make([]string, 0, len(members))
	for w := range members {
		wards = append(wards, w)
	}
	sort.Strings(wards)
	changed := 0
	for _, w := range wards {
		p, err := store.Profile(ctx, "ward", w, "")
		if err != nil {
			t.Fatalf("profile of %s: %v", w, err)
		}
		inds := map[string]data.Indicator{}
		for _, ind := range p.Indicators {
			inds[ind.ID] = ind
		}
		lsoas := members[w]
		s19, s25 := share(lsoas, dec19), share(lsoas, dec25)
		d := inds["deprived_10pct_share"]
		if d.Trend == nil || len(d.Trend.Points) != 2 || d.Trend.Points[0].Vintage != "2019" || d.Trend.Points[1].Vintage != "2025" {
			t.Fatalf("%s: deprived_10pct_share trend %+v", w, d.Trend)
		}
		if !near(d.Trend.Points[0].Value, s19) || !near(d.Trend.Points[1].Value, s25) || !near(d.Value, s25) ||
			!near(d.Trend.Change, round2(s25-s19)) {
			t.Errorf("%s deprived 10%%: %v (2019 %v, 2025 %v, change %v); recomputed 2019 %.2f, 2025 %.2f",
				w, ptr(d.Value), ptr(d.Trend.Points[0].Value), ptr(d.Trend.Points[1].Value), ptr(d.Trend.Change), s19, s25)
		}
		if s19 != s25 {
			changed++
		}
		p17, p21, p22, p23, p24, old24 := pops(lsoas)
		pop := inds["population"]
		want := []struct {
			v string
			n int
		}{{"mid-2017", p17}, {"census-2021", p21}, {"mid-2022", p22}, {"mid-2023", p23}, {"mid-2024", p24}}
		if pop.Trend == nil || len(pop.Trend.Points) != len(want) {
			t.Fatalf("%s: population trend %+v", w, pop.Trend)
		}
		for i, x := range want {
			if pt := pop.Trend.Points[i]; pt.Vintage != x.v || !near(pt.Value, float64(x.n)) {
				t.Errorf("%s population %s: %s %v, recomputed %d", w, x.v, pt.Vintage, ptr(pt.Value), x.n)
			}
		}
		if !near(pop.Value, float64(p24)) || !near(pop.Trend.Change, float64(p24-p17)) ||
			!near(pop.Trend.ChangePct, round2(100*float64(p24-p17)/float64(p17))) {
			t.Errorf("%s population %v, change %v (%v%%); recomputed %d, %d", w, ptr(pop.Value), ptr(pop.Trend.Change), ptr(pop.Trend.ChangePct), p24, p24-p17)
		}
		if old := inds["age_65_plus_pct"]; !near(old.Value, round2(100*float64(old24)/float64(p24))) {
			t.Errorf("%s aged 65+: %v%%, recomputed %.2f%%", w, ptr(old.Value), round2(100*float64(old24)/float64(p24)))
		}
	}
	if changed == 0 {
		t.Error("no ward's share changed between the releases: the fixture tests nothing")
	}
}

func ptr(v *float64) string {
	if v == nil {
		return "null"
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}
