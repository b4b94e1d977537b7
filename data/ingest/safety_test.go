package ingest_test

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"nbhd/data/dbtest"
	"nbhd/data/ingest"
)

// An --la that keeps no row (a typo) would replace a borough's data with
// nothing: refused, naming the file and the filter, and the earlier import
// stays.
func TestImportOfNoRowsIsRefusedAndKeepsTheDataset(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	f5 := fixture("File_5_-_IoD2019_Scores.csv")
	runResult(t, conn, "imd", f5, ingest.Options{"la": "E08000010"})
	id := datasetID(t, conn, "deprivation", "imd2019-file5")
	scores := "SELECT count(*) FROM nbhd.deprivation WHERE income_score IS NOT NULL"
	if n := count(t, conn, scores); n != 2 {
		t.Fatalf("%d small areas with scores after the first import, want the file's 2 Wigan rows", n)
	}
	_, err := importFile(conn, "imd", f5, ingest.Options{"la": "E08000099"})
	var ie *ingest.InputError
	if !errors.As(err, &ie) {
		t.Fatalf("--la E08000099 (no rows): %v, want an input error", err)
	}
	for _, want := range []string{"File_5_-_IoD2019_Scores.csv", "--la E08000099", "no rows", "3 rows of other local authorities",
		"deprivation imd2019-file5 is unchanged", "--allow-empty"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if got := datasetID(t, conn, "deprivation", "imd2019-file5"); got != id {
		t.Errorf("the dataset was replaced: id %d -> %d", id, got)
	}
	if n := count(t, conn, scores); n != 2 {
		t.Errorf("%d small areas keep their scores after the refused import, want 2", n)
	}
	// A code of the wrong form is refused before anything is read.
	if _, err := importFile(conn, "imd", f5, ingest.Options{"la": "E0800001"}); err == nil || !strings.Contains(err.Error(), `"E0800001" is not a local authority code`) {
		t.Errorf("--la E0800001: %v", err)
	}
	// A file with a header and no rows.
	empty := writeFile(t, "population.csv", "area_code,all_ages_mid2024\n")
	if _, err := importFile(conn, "population", empty, ingest.Options{}); !errors.As(err, &ie) ||
		!strings.Contains(err.Error(), "population.csv: no rows to import") {
		t.Errorf("a population file of no rows: %v", err)
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.small_area_population"); n != 200 {
		t.Errorf("%d population rows after the refused import, want the sample's 200", n)
	}
	// --allow-empty is the way to clear a dataset by import.
	demand := writeFile(t, "demand.csv", "small_area_code,segment,count,period,source\n")
	if res := runResult(t, conn, "demand", demand, ingest.Options{"allow-empty": "true"}); res.Rows != 0 {
		t.Errorf("an allowed empty import has %d rows", res.Rows)
	}
	datasetID(t, conn, "demand", "recorded")
}

func TestLAFilterTakesAListOfAuthorities(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	gias := fixture("edubasealldata20260401.csv")
	// The fixture: five open schools of Wigan (DfE 359, E08000010) less one
	// closed, and one of Bolton (DfE 350, E08000001).
	for _, c := range []struct {
		la   string
		want int
	}{{"359,350", 5}, {"E08000010,E08000001", 5}, {"E08000010, 350", 5}, {"359", 4}, {"350", 1}} {
		res := runResult(t, conn, "gias", gias, ingest.Options{"la": c.la})
		if res.Rows != c.want {
			t.Errorf("--la %s: %d schools, want %d (notes %v)", c.la, res.Rows, c.want, res.Notes)
		}
	}
	// A code that keeps nothing beside one that does is named in the notes.
	res := runResult(t, conn, "gias", gias, ingest.Options{"la": "359,351"})
	if res.Rows != 4 || !hasNote(res, "no rows of 351") {
		t.Errorf("--la 359,351: %d schools, notes %v", res.Rows, res.Notes)
	}
	// The manifest form: a JSON list.
	var opts ingest.Options
	if err := json.Unmarshal([]byte(`{"la": ["359", "350"], "include_closed": true}`), &opts); err != nil {
		t.Fatal(err)
	}
	if res := runResult(t, conn, "gias", gias, opts); res.Rows != 6 {
		t.Errorf("manifest la [359, 350] with include_closed: %d schools, want 6", res.Rows)
	}
}

func TestOptionsAreCheckedAgainstTheKind(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	path := writeFile(t, "ward.geojson", sampleText(t, "boundaries/ward_2022_generalised.geojson"))
	for _, c := range []struct {
		kind string
		opts ingest.Options
		want string
	}{
		{"neighbourhoods", ingest.Options{"set": "w", "la": "E08000010"}, `--la is not an option of import kind "neighbourhoods"`},
		{"gias", ingest.Options{"level": "lsoa"}, `--level is not an option of import kind "gias"`},
		{"osm", ingest.Options{"la": "E08000010"}, "an OpenStreetMap export has no local-authority field"},
		{"imd", ingest.Options{"frobnicate": "1"}, "--frobnicate is not an option of any import kind"},
		{"boundaries", ingest.Options{"level": "lsoa", "vintage": "twenty"}, `--vintage: "twenty" is not a year`},
		{"boundaries", ingest.Options{"level": "lsoa", "set": "ward"}, "--set names a neighbourhood set"},
	} {
		_, err := importFile(conn, c.kind, path, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %v: %v, want %q", c.kind, c.opts, err, c.want)
		}
	}
	var oe *ingest.OptionError
	if err := ingest.CheckOptions("neighbourhoods", ingest.Options{"la": "E08000010"}); !errors.As(err, &oe) || oe.Option != "la" {
		t.Errorf("CheckOptions: %v", err)
	}
	var opts ingest.Options
	if err := json.Unmarshal([]byte(`{"set_title": {"a": 1}}`), &opts); err == nil {
		t.Error("a manifest option holding an object was accepted")
	}
}

// The title and source are published with every feature: a local path must
// never be one.
func TestNoLocalPathIsPublished(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	dir := t.TempDir()
	path := dir + "/private-folder/council_assets.csv"
	if err := os.MkdirAll(dir+"/private-folder", 0o700); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(fixture("council_assets.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	runResult(t, conn, "assets-csv", path, ingest.Options{"key": "council"})
	var title, source, fileName string
	if err := conn.QueryRow(t.Context(), "SELECT title, source, file_name FROM nbhd.datasets WHERE key = 'council'").Scan(&title, &source, &fileName); err != nil {
		t.Fatal(err)
	}
	if title != "council_assets.csv (assets-csv)" || source != "" || fileName != "council_assets.csv" {
		t.Errorf("title %q, source %q, file name %q; want the base name and the kind, nothing, the base name", title, source, fileName)
	}
	if n := count(t, conn, "SELECT count(*) FROM api.community_assets WHERE source LIKE '%private-folder%'"); n != 0 {
		t.Errorf("%d public assets name the local folder", n)
	}
	for _, d := range []ingest.Dataset{{Title: path}, {Source: path}, {Source: "./assets.csv"}, {Title: `C:\Users\me\assets.csv`}} {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ingest.Run(t.Context(), conn, ingest.Job{Kind: "assets-csv", File: path, Options: ingest.Options{"key": "council"}, Dataset: d}, f)
		f.Close()
		var oe *ingest.OptionError
		if !errors.As(err, &oe) || !strings.Contains(err.Error(), "local path") {
			t.Errorf("provenance %+v: %v, want it refused as a local path", d, err)
		}
	}
}

// An epraccur-shaped file of other organisations (egpcur, epharmacyhq ...)
// or no rows at all is refused, not imported as an empty dataset.
func TestEpraccurOfTheWrongFileFails(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	b, err := os.ReadFile(fixture("epraccur.csv"))
	if err != nil {
		t.Fatal(err)
	}
	others := writeFile(t, "epharmacyhq.csv", strings.ReplaceAll(string(b), `,"4",`, `,"13",`))
	_, err = importFile(conn, "epraccur", others, ingest.Options{"la": "E08000010"})
	if err == nil || !strings.Contains(err.Error(), "epharmacyhq.csv") || !strings.Contains(err.Error(), "none of the 6 rows is a GP practice") {
		t.Errorf("an epraccur-shaped file of no practices: %v", err)
	}
	if _, err := importFile(conn, "epraccur", writeFile(t, "epraccur.csv", ""), ingest.Options{}); err == nil ||
		!strings.Contains(err.Error(), "no rows to import") {
		t.Errorf("an empty epraccur.csv: %v", err)
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.datasets WHERE kind = 'gp_practices'"); n != 1 {
		t.Errorf("%d GP practice datasets, want the sample's one", n)
	}
}
