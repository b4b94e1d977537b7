package ingest_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"nbhd/data"
	"nbhd/data/dbtest"
	"nbhd/data/ingest"
	"nbhd/data/sample"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// sampleFeatures counts a sample GeoJSON file's features by reading it
// directly, independently of the importers.
func sampleFeatures(t *testing.T, file string) int {
	t.Helper()
	b, err := fs.ReadFile(sample.FS, "wigan/"+file)
	if err != nil {
		t.Fatal(err)
	}
	var fc struct{ Features []json.RawMessage }
	if err := json.Unmarshal(b, &fc); err != nil {
		t.Fatal(err)
	}
	return len(fc.Features)
}

// sampleRows counts a sample CSV's data rows where column col equals want
// (or every row when col is "").
func sampleRows(t *testing.T, file, col, want string) int {
	t.Helper()
	f, err := sample.FS.Open("wigan/" + file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	idx := -1
	for i, h := range recs[0] {
		if h == col {
			idx = i
		}
	}
	n := 0
	for _, r := range recs[1:] {
		if col == "" || r[idx] == want {
			n++
		}
	}
	return n
}

func count(t *testing.T, conn *pgx.Conn, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// counts is a snapshot of every table's row count.
func counts(t *testing.T, conn *pgx.Conn) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, tbl := range []string{"datasets", "small_areas", "small_area_population", "deprivation", "neighbourhood_sets",
		"neighbourhoods", "neighbourhood_members", "community_assets", "gp_practices", "gp_list_sizes", "schools", "postcodes"} {
		out[tbl] = count(t, conn, "SELECT count(*) FROM nbhd."+tbl)
	}
	return out
}

func TestSampleLoadsEveryLayer(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	checks := []struct {
		what string
		got  int
		want int
	}{
		{"small areas", count(t, conn, "SELECT count(*) FROM nbhd.small_areas"), sampleFeatures(t, "boundaries/lsoa_2021_generalised.geojson")},
		{"wards", count(t, conn, "SELECT count(*) FROM nbhd.neighbourhoods WHERE set_id = 'ward'"), sampleFeatures(t, "boundaries/ward_2022_generalised.geojson")},
		{"MSOAs", count(t, conn, "SELECT count(*) FROM nbhd.neighbourhoods WHERE set_id = 'msoa'"), sampleFeatures(t, "boundaries/msoa_2021_generalised.geojson")},
		{"active GP practices", count(t, conn, "SELECT count(*) FROM nbhd.gp_practices WHERE status = 'A'"), sampleRows(t, "health/gp_practices.csv", "status_code", "A")},
		{"schools", count(t, conn, "SELECT count(*) FROM nbhd.schools"), sampleFeatures(t, "education/school_sites_osopenmaplocal_2018_points.geojson")},
		{"postcodes", count(t, conn, "SELECT count(*) FROM nbhd.postcodes"), sampleRows(t, "postcodes/codepoint_open_postcodes.csv", "", "")},
		{"deprivation rows", count(t, conn, "SELECT count(*) FROM nbhd.deprivation"), sampleRows(t, "deprivation/IoD2019_File2_domains_ranks_deciles.csv", "", "")},
		{"ward members", count(t, conn, "SELECT count(*) FROM nbhd.neighbourhood_members WHERE set_id = 'ward'"), sampleRows(t, "lookups/lsoa21_to_ward22_bestfit.csv", "", "")},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %d loaded, source has %d", c.what, c.got, c.want)
		}
	}
	// The acceptance floor from the issue, on top of the source counts.
	if n := count(t, conn, "SELECT count(*) FROM nbhd.gp_practices"); n < 58 {
		t.Errorf("GP practices: %d, want at least 58", n)
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.community_assets"); n < 250 {
		t.Errorf("community assets: %d, want at least 250", n)
	}
	// Every asset file's features are in, except buildings merged into one
	// named place of worship.
	for _, f := range []struct{ file, category string }{
		{"community/libraries.geojson", "library"}, {"community/food_banks.geojson", "food_bank"},
		{"community/post_offices_osopenmaplocal.geojson", "post_office"}, {"community/green_flag_parks.geojson", "park"},
		{"health/pharmacies.geojson", "pharmacy"},
	} {
		if got, want := count(t, conn, "SELECT count(*) FROM nbhd.community_assets WHERE category = $1", f.category), sampleFeatures(t, f.file); got != want {
			t.Errorf("%s: %d assets, file has %d", f.category, got, want)
		}
	}
	// Population: the sample's LAD total row equals the sum of its LSOAs.
	if got := count(t, conn, "SELECT sum(population) FROM nbhd.small_area_population"); got != 324650 {
		t.Errorf("population total %d, want the published LAD total 324650", got)
	}
	// List sizes: the latest extract's published sum (SOURCES.md: 352,205 over 56 practices).
	if got := count(t, conn, "SELECT sum(patients) FROM nbhd.gp_list_sizes WHERE extract_date = '2026-04-01'"); got != 352205 {
		t.Errorf("April 2026 list sizes sum to %d, want 352205", got)
	}
}

func TestSampleReloadReplacesNotDuplicates(t *testing.T) {
	dbURL := dbtest.New(t, true)
	conn := dbtest.Conn(t, dbURL)
	before := counts(t, conn)
	if err := ingest.LoadSample(context.Background(), conn, sample.FS, sample.Dir, data.LockWait{}, nil, nil); err != nil {
		t.Fatal(err)
	}
	after := counts(t, conn)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s: %d rows before reload, %d after", k, v, after[k])
		}
	}
}

func TestPolygonsBecomePointsAndBuildingsMerge(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	if n := count(t, conn, "SELECT count(*) FROM nbhd.community_assets WHERE GeometryType(geom) <> 'POINT'"); n != 0 {
		t.Errorf("%d assets are not points", n)
	}
	// A point on the surface lies inside the building it came from.
	var polys, pows int
	polys = sampleFeatures(t, "community/places_of_worship_osopenmaplocal.geojson")
	pows = count(t, conn, "SELECT count(*) FROM nbhd.community_assets WHERE category = 'place_of_worship'")
	if pows >= polys || pows == 0 {
		t.Errorf("places of worship: %d assets from %d building polygons; same-named buildings within 50 m should merge", pows, polys)
	}
	// Features 1-3 are three buildings of Holy Family Roman Catholic Church
	// in Boothstown, within 50 m; feature 71 is a namesake in Wigan, 11 km
	// away. Three buildings become one asset named by the first's OS id.
	if n := count(t, conn, "SELECT count(*) FROM nbhd.community_assets WHERE name = 'Holy Family Roman Catholic Church'"); n != 2 {
		t.Errorf("Holy Family Roman Catholic Church: %d assets, want 2 (one per church)", n)
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.community_assets WHERE id = 'places-of-worship:D41C27B7-47DF-4197-85E1-03B0D40E08C5'"); n != 1 {
		t.Errorf("merged church not found under the first building's id")
	}
}

// writeFile writes a fixture into a temp dir and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func runFile(conn *pgx.Conn, kind, path string, spec ingest.Options) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = ingest.Run(context.Background(), conn, ingest.Job{Kind: kind, File: path, Options: spec,
		Open: func(p string) (io.ReadCloser, error) { return os.Open(p) }}, f)
	return err
}

func sampleText(t *testing.T, file string) string {
	t.Helper()
	b, err := fs.ReadFile(sample.FS, "wigan/"+file)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBadInputIsRejectedWithItsPlaceAndChangesNothing(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	lsoa := sampleText(t, "boundaries/lsoa_2021_generalised.geojson")
	imd := sampleText(t, "deprivation/IoD2019_File2_domains_ranks_deciles.csv")
	pop := sampleText(t, "population/lsoa11_population_mid2017.csv")
	imdLines := strings.Split(imd, "\n")
	header := strings.Split(imdLines[0], ",")

	point := func(coords string) string {
		return `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"A"},"geometry":{"type":"Point","coordinates":[-2.6,53.5]}},
			{"type":"Feature","properties":{"name":"B"},"geometry":{"type":"Point","coordinates":` + coords + `}}]}`
	}
	cases := []struct {
		name, kind, file, content string
		spec                      ingest.Options
		want                      []string // fragments the message must contain
	}{
		{"truncated GeoJSON", "boundaries", "lsoa.geojson", lsoa[:len(lsoa)/2], ingest.Options{"level": "lsoa", "vintage": "2021"},
			[]string{"lsoa.geojson", "feature", "truncated"}},
		{"GeoJSON cut after its last feature", "boundaries", "lsoa.geojson", lsoa[:len(lsoa)-3], ingest.Options{"level": "lsoa", "vintage": "2021"},
			[]string{"lsoa.geojson", "truncated"}},
		{"not JSON", "assets", "x.geojson", "name,lat\nA,1", ingest.Options{"key": "x", "category": "library"},
			[]string{"x.geojson", "FeatureCollection"}},
		{"CSV missing a column", "imd", "imd.csv", strings.Replace(imd, "Index of Multiple Deprivation (IMD) Decile", "Something Else", 1), ingest.Options{},
			[]string{"imd.csv", "line 1", "Index of Multiple Deprivation (IMD) Decile", "missing column"}},
		{"CSV without its code column", "imd", "imd.csv", strings.Replace(imd, "LSOA code (2011)", "Area", 1), ingest.Options{},
			[]string{"imd.csv", "line 1", "LSOA code (2011)", "missing column"}},
		{"unknown LSOA code", "imd", "imd.csv", strings.Replace(imd, "E01006213", "E01999999", 1), ingest.Options{},
			[]string{"imd.csv", "line 3", header[0], "E01999999"}},
		{"unknown LSOA code in population", "population", "pop.csv", strings.Replace(pop, "E01006315", "E01999998", 1), ingest.Options{},
			[]string{"pop.csv", "line 3", "area_code", "E01999998"}},
		{"rank out of range", "imd", "imd.csv", strings.Replace(imd, "E01006212,Wigan 026A,E08000010,Wigan,14456", "E01006212,Wigan 026A,E08000010,Wigan,99999", 1), ingest.Options{},
			[]string{"imd.csv", "line 2", "Index of Multiple Deprivation (IMD) Rank", "99999"}},
		{"British National Grid coordinates", "assets", "bng.geojson", point("[357680, 399170]"), ingest.Options{"key": "x", "category": "library"},
			[]string{"bng.geojson", "feature 2", "geometry", "not lon/lat"}},
		{"latitude and longitude swapped", "assets", "swap.geojson", point("[53.5, -2.6]"), ingest.Options{"key": "x", "category": "library"},
			[]string{"swap.geojson", "feature 2", "swapped"}},
		{"empty geometry", "assets", "empty.geojson", point("[]"), ingest.Options{"key": "x", "category": "library"},
			[]string{"empty.geojson", "feature 2"}},
		{"null geometry", "schools", "null.geojson", strings.Replace(point("[1,1]"), `{"type":"Point","coordinates":[1,1]}`, "null", 1), ingest.Options{},
			[]string{"null.geojson", "feature 2", "geometry", "empty"}},
		{"bow-tie polygon", "assets", "bowtie.geojson", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"X"},"geometry":{"type":"Polygon","coordinates":[[[-2.6,53.5],[-2.5,53.6],[-2.5,53.5],[-2.6,53.6],[-2.6,53.5]]]}}]}`,
			ingest.Options{"key": "x", "category": "library"}, []string{"bowtie.geojson", "feature 1", "geometry", "invalid polygon"}},
		{"unclosed ring", "boundaries", "open.geojson", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"area_code":"E01006212","area_name":"X"},"geometry":{"type":"Polygon","coordinates":[[[-2.6,53.5],[-2.5,53.6],[-2.5,53.5],[-2.6,53.6]]]}}]}`,
			ingest.Options{"level": "lsoa", "vintage": "2021"}, []string{"open.geojson", "feature 1", "not closed"}},
		{"ward codes as LSOAs", "boundaries", "wards.geojson", sampleText(t, "boundaries/ward_2022_generalised.geojson"), ingest.Options{"level": "lsoa", "vintage": "2021"},
			[]string{"wards.geojson", "feature 1", "area_code", "not a LSOA code"}},
		{"CSV with a broken quote", "population", "quote.csv", "area_code,all_ages_mid2017\nE01006212,\"12\n", ingest.Options{},
			[]string{"quote.csv", "line 2"}},
		{"GP practice without coordinates", "gp-practices", "gp.csv", "practice_code,practice_name,postcode,lon,lat\nP92001,X,WN4 9AZ,,\n", ingest.Options{},
			[]string{"gp.csv", "line 2", "lon"}},
		{"lookup naming a ward not in the file", "boundaries", "ward.geojson", sampleText(t, "boundaries/ward_2022_generalised.geojson"),
			ingest.Options{"level": "ward", "set": "ward", "lookup": "lookup.csv"}, []string{"lookup.csv", "line 3", "wd22cd", "E05000999"}},
	}
	before := counts(t, conn)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, c.file, c.content)
			if c.spec["lookup"] != "" {
				if err := os.WriteFile(filepath.Join(filepath.Dir(path), c.spec["lookup"]),
					[]byte("lsoa21cd,wd22cd\nE01006212,E05000840\nE01006213,E05000999\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			err := runFile(conn, c.kind, path, c.spec)
			if err == nil {
				t.Fatal("import succeeded; want an error")
			}
			if !ingest.IsInputError(err) {
				t.Errorf("error %v is not an input error", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	after := counts(t, conn)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s: %d rows before the bad imports, %d after", k, v, after[k])
		}
	}
}

func TestMembershipFallsBackToLargestOverlap(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	path := writeFile(t, "ward.geojson", sampleText(t, "boundaries/ward_2022_generalised.geojson"))
	if err := runFile(conn, "boundaries", path, ingest.Options{"level": "ward", "set": "ward-overlap"}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.neighbourhood_members WHERE set_id = 'ward-overlap' AND method = 'overlap'"); n != 200 {
		t.Errorf("%d small areas placed by overlap, want all 200", n)
	}
	// The ONS best-fit lookup and the largest overlap agree for nearly all
	// small areas (best fit uses population-weighted centroids instead).
	agree := count(t, conn, `SELECT count(*) FROM nbhd.neighbourhood_members a JOIN nbhd.neighbourhood_members b
		USING (small_area_code) WHERE a.set_id = 'ward' AND b.set_id = 'ward-overlap' AND a.neighbourhood_code = b.neighbourhood_code`)
	if agree < 190 {
		t.Errorf("overlap agrees with the ONS best-fit lookup for %d of 200 small areas, want at least 190", agree)
	}
}

func TestReimportOfSmallAreasKeepsTheirData(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	before := counts(t, conn)
	path := writeFile(t, "lsoa.geojson", sampleText(t, "boundaries/lsoa_2021_generalised.geojson"))
	if err := runFile(conn, "boundaries", path, ingest.Options{"level": "lsoa", "vintage": "2021"}); err != nil {
		t.Fatal(err)
	}
	after := counts(t, conn)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s: %d rows before re-importing the boundaries, %d after", k, v, after[k])
		}
	}
}

func TestRecordedDemandImportRefusesPersonLevelAndBadRows(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	good := "small_area_code,segment,count,period,source\nE01006212,chaotic,12,2025-26,Early help\nE01006212,just_coping,140,2025-26,Early help\n"
	cases := []struct{ name, content, want string }{
		{"a name column", "name,small_area_code,segment,count,period,source\nJo,E01006212,chaotic,1,2025,x\n", `"name"`},
		{"an NHS number column", "nhs_number,small_area_code,segment,count,period,source\n1,E01006212,chaotic,1,2025,x\n", "person-level"},
		{"a date of birth column", "small_area_code,Date of Birth,segment,count,period,source\nE01006212,1980-01-01,chaotic,1,2025,x\n", "person-level"},
		{"an address column", "small_area_code,address_line_1,segment,count,period,source\nE01006212,1 High St,chaotic,1,2025,x\n", "person-level"},
		{"duplicate keys", good + "E01006212,chaotic,1,2025-26,Early help\n", "line 4"},
		{"a bad segment", "small_area_code,segment,count,period,source\nE01006212,struggling,1,2025,x\n", "segment"},
		{"a negative count", "small_area_code,segment,count,period,source\nE01006212,chaotic,-1,2025,x\n", "count"},
		{"a fractional count", "small_area_code,segment,count,period,source\nE01006212,chaotic,1.5,2025,x\n", "count"},
		{"a bad period", "small_area_code,segment,count,period,source\nE01006212,chaotic,1,last year,x\n", "period"},
		{"an unknown small area", "small_area_code,segment,count,period,source\nE01999999,chaotic,1,2025,x\n", "E01999999"},
		{"no count column", "small_area_code,segment,period,source\nE01006212,chaotic,2025,x\n", "missing column"},
	}
	before := count(t, conn, "SELECT count(*) FROM nbhd.demand WHERE kind = 'recorded'")
	for _, c := range cases {
		err := runFile(conn, "demand", writeFile(t, "demand.csv", c.content), ingest.Options{})
		if err == nil || !ingest.IsInputError(err) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "demand.csv") {
			t.Errorf("%s: %v, want an input error naming demand.csv and %q", c.name, err, c.want)
		}
	}
	if after := count(t, conn, "SELECT count(*) FROM nbhd.demand WHERE kind = 'recorded'"); after != before {
		t.Errorf("recorded rows %d -> %d after refused files", before, after)
	}
	if err := runFile(conn, "demand", writeFile(t, "demand.csv", good), ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.demand WHERE kind = 'recorded' AND period = '2025-26'"); n != 2 {
		t.Errorf("%d recorded rows, want 2", n)
	}
	// Re-importing replaces; estimates stay for every small area.
	if err := runFile(conn, "demand", writeFile(t, "demand.csv", good), ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.demand WHERE kind = 'recorded'"); n != 2 {
		t.Errorf("%d recorded rows after re-import, want 2", n)
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.demand WHERE kind = 'estimated'"); n != 400 {
		t.Errorf("%d estimates, want 400", n)
	}
	// Recorded counts now take precedence for neighbourhoods.
	if n := count(t, conn, "SELECT count(*) FROM nbhd.neighbourhood_demand WHERE source = 'recorded' AND period = '2025-26'"); n != 2*(25+40) {
		t.Errorf("%d recorded neighbourhood rows, want %d", n, 2*(25+40))
	}
}

// TestBulkLoadBuildsThePostcodeIndexesAgain loads the sample into an empty
// database, where the postcode files load without their spatial indexes:
// afterwards the table has exactly the indexes its migrations made.
func TestBulkLoadBuildsThePostcodeIndexesAgain(t *testing.T) {
	url := dbtest.New(t, false)
	conn := dbtest.Conn(t, url)
	defs := func() []string {
		return dbtest.Strings(t, url,
			"SELECT indexname || ': ' || indexdef FROM pg_indexes WHERE schemaname = 'nbhd' AND tablename = 'postcodes' ORDER BY 1")
	}
	before := defs()
	gist := 0
	for _, d := range before {
		if strings.Contains(d, "USING gist") {
			gist++
		}
	}
	if gist != 3 {
		t.Fatalf("want the 3 GiST indexes of the migrations before the load, have %v", before)
	}
	if err := ingest.LoadSample(context.Background(), conn, sample.FS, sample.Dir, data.LockWait{}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if after := defs(); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("indexes after the load:\n%s\nbefore:\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.postcodes"); n == 0 {
		t.Error("the sample loaded no postcodes")
	}
}
