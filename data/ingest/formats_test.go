package ingest_test

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
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

// fixture is the path of a file in testdata/, written for these tests in
// the publisher's exact column layout.
func fixture(name string) string { return filepath.Join("testdata", name) }

func runResult(t *testing.T, conn *pgx.Conn, kind, path string, spec ingest.Options) ingest.Result {
	t.Helper()
	res, err := importFile(conn, kind, path, spec)
	if err != nil {
		t.Fatalf("import %s %s: %v", kind, path, err)
	}
	return res
}

func importFile(conn *pgx.Conn, kind, path string, spec ingest.Options) (ingest.Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return ingest.Result{}, err
	}
	defer f.Close()
	return ingest.Run(context.Background(), conn, ingest.Job{Kind: kind, File: path, Options: spec,
		Open: func(p string) (io.ReadCloser, error) { return os.Open(p) }}, f)
}

// drop removes a dataset as `nbhd datasets drop` does.
func drop(t *testing.T, conn *pgx.Conn, id int64) {
	t.Helper()
	db, err := data.Connect(context.Background(), conn.Config().ConnString(), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	if _, err := db.DropDataset(context.Background(), id, data.LockWait{}); err != nil {
		t.Fatalf("drop dataset %d: %v", id, err)
	}
}

func hasNote(res ingest.Result, fragment string) bool {
	for _, n := range res.Notes {
		if strings.Contains(n, fragment) {
			return true
		}
	}
	return false
}

// bngDistance is the distance in metres between a stored point and the
// British National Grid coordinate transformed by a separate PostGIS query
// (not the importer's SQL).
func bngDistance(t *testing.T, conn *pgx.Conn, table, keyCol, key string, e, n float64) float64 {
	t.Helper()
	var lon, lat float64
	if err := conn.QueryRow(context.Background(), "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform('SRID=27700;POINT("+
		fmt.Sprintf("%f %f", e, n)+")'::geometry, 4326) AS p) x").Scan(&lon, &lat); err != nil {
		t.Fatal(err)
	}
	return lonLatDistance(t, conn, table, keyCol, key, lon, lat)
}

func lonLatDistance(t *testing.T, conn *pgx.Conn, table, keyCol, key string, lon, lat float64) float64 {
	t.Helper()
	var d float64
	q := fmt.Sprintf("SELECT ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography) FROM nbhd.%s WHERE %s = $1",
		pgx.Identifier{table}.Sanitize(), pgx.Identifier{keyCol}.Sanitize())
	if err := conn.QueryRow(context.Background(), q, key, lon, lat).Scan(&d); err != nil {
		t.Fatalf("%s %s: %v", table, key, err)
	}
	return d
}

func datasetID(t *testing.T, conn *pgx.Conn, kind, key string) int64 {
	t.Helper()
	var id int64
	if err := conn.QueryRow(context.Background(), "SELECT id FROM nbhd.datasets WHERE kind = $1 AND key = $2", kind, key).Scan(&id); err != nil {
		t.Fatalf("dataset %s/%s: %v", kind, key, err)
	}
	return id
}

// datasetIDs lists every import of a dataset: one borough's may sit beside
// another's.
func datasetIDs(t *testing.T, conn *pgx.Conn, kind, key string) []int64 {
	t.Helper()
	rows, err := conn.Query(context.Background(), "SELECT id FROM nbhd.datasets WHERE kind = $1 AND key = $2 ORDER BY id", kind, key)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(ids) == 0 {
		t.Fatalf("dataset %s/%s: %v (%d)", kind, key, err, len(ids))
	}
	return ids
}

func TestGIASSchools(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	file := fixture("edubasealldata20260401.csv")
	res := runResult(t, conn, "gias", file, ingest.Options{"la": "E08000010"})
	// Five Wigan establishments, one closed: four; Bolton's is filtered out.
	if res.Rows != 4 {
		t.Errorf("%d schools, want 4 (notes %v)", res.Rows, res.Notes)
	}
	if !hasNote(res, "1 closed") || !hasNote(res, "1 rows of other local authorities") {
		t.Errorf("notes %v do not report the closed and other-LA rows", res.Notes)
	}
	// Windows-1252 decoded: the right single quote is 0x92 in the file.
	if n := count(t, conn, "SELECT count(*) FROM nbhd.schools WHERE name IN ('St Mary\u2019s Catholic Primary School', 'Café Learning Academy')"); n != 2 {
		t.Errorf("%d names decoded from Windows-1252, want 2", n)
	}
	// Easting/Northing 358016, 405780 lands within 1 m of PostGIS's own
	// transform, and within 5 m of OS Code-Point's PROJ-converted lon/lat
	// for the same grid point (the sample's WN1 1AA row).
	if d := bngDistance(t, conn, "schools", "urn", "106466", 358016, 405780); d > 1 {
		t.Errorf("URN 106466 is %.2f m from its transformed Easting/Northing", d)
	}
	if d := lonLatDistance(t, conn, "schools", "urn", "106466", -2.635089, 53.546967); d > 5 {
		t.Errorf("URN 106466 is %.2f m from the independent PROJ transform", d)
	}
	// No coordinates: placed at its postcode.
	var atPostcode bool
	if err := conn.QueryRow(context.Background(), `SELECT ST_Equals(s.geom, p.geom) FROM nbhd.schools s
		JOIN nbhd.postcodes p ON p.postcode = 'WN4 9AZ' WHERE s.urn = '106502'`).Scan(&atPostcode); err != nil || !atPostcode {
		t.Errorf("URN 106502 (no coordinates) not placed at WN4 9AZ: %v", err)
	}
	var fsm *float64
	var pupils, capacity *int
	var status, phase string
	if err := conn.QueryRow(context.Background(), "SELECT fsm_percent::float8, pupils, capacity, status, phase FROM nbhd.schools WHERE urn = '106466'").
		Scan(&fsm, &pupils, &capacity, &status, &phase); err != nil {
		t.Fatal(err)
	}
	if fsm == nil || *fsm != 21.4 || pupils == nil || *pupils != 398 || capacity == nil || *capacity != 420 || status != "open" || phase != "Primary" {
		t.Errorf("URN 106466: fsm %v pupils %v capacity %v status %q phase %q", fsm, pupils, capacity, status, phase)
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.schools WHERE urn = '106500' AND fsm_percent IS NULL"); n != 1 {
		t.Error("PercentageFSM SUPP is not NULL")
	}
	// The DfE LA code filters the same; --include-closed keeps the closed one;
	// no filter keeps Bolton's too. Each re-import replaces the last.
	for _, c := range []struct {
		spec ingest.Options
		want int
	}{{ingest.Options{"la": "359"}, 4}, {ingest.Options{"la": "359", "include-closed": "true"}, 5}, {ingest.Options{}, 5}} {
		if res := runResult(t, conn, "gias", file, c.spec); res.Rows != c.want {
			t.Errorf("%+v: %d schools, want %d", c.spec, res.Rows, c.want)
		}
		if n := count(t, conn, "SELECT count(*) FROM nbhd.schools WHERE id LIKE 'gias:%'"); n != c.want {
			t.Errorf("%+v: %d GIAS schools loaded after re-import, want %d", c.spec, n, c.want)
		}
	}
}

func TestEpraccurAndListSizes(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	ctx := context.Background()
	// The sample's practices hold these codes: a clear error says so.
	_, err := importFile(conn, "epraccur", fixture("epraccur.csv"), ingest.Options{"la": "E08000010"})
	if err == nil || !strings.Contains(err.Error(), "already loaded by dataset") {
		t.Fatalf("importing over the sample's practices: %v", err)
	}
	drop(t, conn, datasetID(t, conn, "gp_practices", "gp-practices"))
	// Without --la every practice's postcode must be loaded: Bolton's is not.
	_, err = importFile(conn, "epraccur", fixture("epraccur.csv"), ingest.Options{})
	var ie *ingest.InputError
	if !errors.As(err, &ie) || ie.Line != 5 || ie.Field != "Postcode" || !strings.Contains(err.Error(), "BL1 1PP") {
		t.Fatalf("practice with an unloaded postcode: %v", err)
	}
	res := runResult(t, conn, "epraccur", fixture("epraccur.csv"), ingest.Options{"la": "E08000010"})
	if res.Rows != 2 {
		t.Errorf("%d practices, want 2 active GP practices in Wigan (notes %v)", res.Rows, res.Notes)
	}
	for _, n := range []string{"2 closed, dormant", "1 organisations whose prescribing setting", "1 practices whose postcode is not loaded: P82001"} {
		if !hasNote(res, n) {
			t.Errorf("notes %v lack %q", res.Notes, n)
		}
	}
	var address, phone string
	if err := conn.QueryRow(ctx, "SELECT address, phone FROM nbhd.gp_practices WHERE code = 'P92001'").Scan(&address, &phone); err != nil {
		t.Fatal(err)
	}
	if address != "ASHTON HEALTH CENTRE, COUNCIL AVENUE, ASHTON IN MAKERFIELD" || phone != "01942 483755" {
		t.Errorf("P92001: address %q phone %q", address, phone)
	}
	// Geocoded: the practice stands on its postcode's point (Code-Point
	// WA3 2HY: 361936, 398008).
	if d := bngDistance(t, conn, "gp_practices", "code", "P92002", 361936, 398008); d > 1 {
		t.Errorf("P92002 is %.2f m from its postcode", d)
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.gp_practices WHERE dataset_id = $1", datasetID(t, conn, "gp_practices", "epraccur")); n != 2 {
		t.Errorf("%d practices in the epraccur dataset", n)
	}

	// List sizes: the May extract (NHS layout with PUBLICATION, SEX, AGE),
	// then the April extract (the sample's real subset, older layout).
	may := runResult(t, conn, "gp-list-sizes", fixture("gp-reg-pat-prac-all.csv"), ingest.Options{})
	if may.Rows != 2 || !hasNote(may, "1 practices that are not loaded") || !hasNote(may, "1 breakdown rows") {
		t.Errorf("May: %d rows, notes %v", may.Rows, may.Notes)
	}
	april := runResult(t, conn, "gp-list-sizes", filepath.Join("..", "sample", "wigan", "health", "gp_registered_patients_2026-04_subset.csv"), ingest.Options{})
	if april.Rows != 2 {
		t.Errorf("April: %d rows, want the 2 loaded practices", april.Rows)
	}
	datasetID(t, conn, "gp_list_sizes", "gp-list-sizes-2026-05")
	datasetID(t, conn, "gp_list_sizes", "gp-list-sizes-2026-04")
	// The public view shows the latest extract with its date.
	var size int
	var date string
	if err := conn.QueryRow(ctx, "SELECT list_size, list_size_date::text FROM api.gp_practices WHERE code = 'P92001'").Scan(&size, &date); err != nil {
		t.Fatal(err)
	}
	if size != 5590 || date != "2026-05-01" {
		t.Errorf("P92001 shows %d patients at %s, want 5590 at 2026-05-01", size, date)
	}
	// --la: practices whose postcode lies elsewhere are left out.
	if res, err := importFile(conn, "gp-list-sizes", fixture("gp-reg-pat-prac-all.csv"), ingest.Options{"la": "E08000001"}); err == nil || !ingest.IsInputError(err) {
		t.Errorf("list sizes for Bolton, where no practice is loaded: %v %v", res, err)
	}
	// Re-importing May replaces it, April stays.
	runResult(t, conn, "gp-list-sizes", fixture("gp-reg-pat-prac-all.csv"), ingest.Options{"la": "E08000010"})
	if n := count(t, conn, "SELECT count(*) FROM nbhd.gp_list_sizes WHERE practice_code = 'P92001'"); n != 2 {
		t.Errorf("P92001 has %d list sizes, want 2 (April and May)", n)
	}
}

func TestCodePointAndONSPD(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, false))
	res := runResult(t, conn, "codepoint", fixture("wn.csv"), ingest.Options{})
	if res.Rows != 4 || !hasNote(res, "1 postcodes without coordinates") {
		t.Errorf("Code-Point: %d rows, notes %v; want 4 and the quality-90 row skipped", res.Rows, res.Notes)
	}
	datasetID(t, conn, "postcodes", "codepoint-wn")
	// Re-importing for one authority replaces the dataset there only: the
	// postcode of another authority stays, with the earlier import.
	res = runResult(t, conn, "codepoint", fixture("wn.csv"), ingest.Options{"la": "E08000010"})
	if res.Rows != 3 || count(t, conn, "SELECT count(*) FROM nbhd.postcodes WHERE la_code = 'E08000010'") != 3 ||
		count(t, conn, "SELECT count(*) FROM nbhd.postcodes") != 4 || count(t, conn, "SELECT count(*) FROM nbhd.datasets") != 2 ||
		count(t, conn, "SELECT rows FROM nbhd.datasets ORDER BY id LIMIT 1") != 1 {
		t.Errorf("re-import with --la: %d rows, want 3 replacing the 3 of that authority and the other kept", res.Rows)
	}
	if d := bngDistance(t, conn, "postcodes", "postcode", "WN1 1AA", 358016, 405780); d > 1 {
		t.Errorf("WN1 1AA is %.2f m from its transformed grid reference", d)
	}
	if d := lonLatDistance(t, conn, "postcodes", "postcode", "WN1 1AA", -2.635089, 53.546967); d > 5 {
		t.Errorf("WN1 1AA is %.2f m from the independent PROJ transform", d)
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.postcodes WHERE la_code = 'E08000010' AND quality = 10"); n != 3 {
		t.Errorf("%d postcodes keep their district and quality", n)
	}

	// ONSPD over Code-Point: the same postcodes, so the user chooses.
	_, err := importFile(conn, "onspd", fixture("ONSPD_FEB_2026_UK.csv"), ingest.Options{})
	if err == nil || !strings.Contains(err.Error(), "WN1 1AA is already loaded by dataset") || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("ONSPD over Code-Point: %v", err)
	}
	for _, id := range datasetIDs(t, conn, "postcodes", "codepoint-wn") {
		drop(t, conn, id)
	}
	res = runResult(t, conn, "onspd", fixture("ONSPD_FEB_2026_UK.csv"), ingest.Options{})
	// Live: WN1 1AA, WN8 0AA, BT1 1AA; WN1 1AB terminated; GY1 1AA has no grid reference.
	if res.Rows != 3 || !hasNote(res, "1 terminated") || !hasNote(res, "1 postcodes without coordinates") {
		t.Errorf("ONSPD: %d rows, notes %v", res.Rows, res.Notes)
	}
	// Northern Ireland is placed by ONSPD's lon/lat, not its Irish Grid reference.
	if d := lonLatDistance(t, conn, "postcodes", "postcode", "BT1 1AA", -5.92802, 54.59967); d > 0.5 {
		t.Errorf("BT1 1AA is %.2f m from its published lon/lat", d)
	}
	if d := bngDistance(t, conn, "postcodes", "postcode", "WN8 0AA", 349950, 406500); d > 1 {
		t.Errorf("WN8 0AA is %.2f m from its transformed grid reference", d)
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.postcodes WHERE postcode = 'WN1 1AA' AND quality = 10 AND la_code = 'E08000010'"); n != 1 {
		t.Error("ONSPD grid indicator 1 should be quality 10 and oslaua kept")
	}
	if res := runResult(t, conn, "onspd", fixture("ONSPD_FEB_2026_UK.csv"), ingest.Options{"include-closed": "true", "la": "E08000010"}); res.Rows != 2 {
		t.Errorf("ONSPD --include-closed --la: %d rows, want WN1 1AA and WN1 1AB", res.Rows)
	}
}

func deprivation(t *testing.T, conn *pgx.Conn, code string) (rank, decile *int, score *float64, method string) {
	t.Helper()
	if err := conn.QueryRow(context.Background(), "SELECT imd_rank, imd_decile, imd_score::float8, method FROM nbhd.deprivation WHERE code = $1", code).
		Scan(&rank, &decile, &score, &method); err != nil {
		t.Fatalf("deprivation of %s: %v", code, err)
	}
	return
}

func TestIMDFilesCombineAndReplaceTheirOwnValues(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	ctx := context.Background()
	res := runResult(t, conn, "imd", fixture("File_5_-_IoD2019_Scores.csv"), ingest.Options{"la": "E08000010"})
	if res.Rows != 2 {
		t.Errorf("File 5: %d rows, want the 2 Wigan rows", res.Rows)
	}
	file5 := datasetID(t, conn, "deprivation", "imd2019-file5")
	// Ranks from File 2 (the sample), scores from File 5, one row per area.
	rank, decile, score, _ := deprivation(t, conn, "E01006212")
	if rank == nil || *rank != 14456 || decile == nil || *decile != 5 || score == nil || *score != 21.552 {
		t.Errorf("E01006212: rank %v decile %v score %v; want 14456, 5, 21.552", rank, decile, score)
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.deprivation"); n != 200 {
		t.Errorf("%d deprivation rows, want 200", n)
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.deprivation WHERE income_score IS NOT NULL"); n != 2 {
		t.Errorf("%d rows with an income score, want 2", n)
	}
	// Re-importing File 2 replaces the ranks only.
	runResult(t, conn, "imd", filepath.Join("..", "sample", "wigan", "deprivation", "IoD2019_File2_domains_ranks_deciles.csv"), ingest.Options{})
	if _, _, score, _ := deprivation(t, conn, "E01006212"); score == nil || *score != 21.552 {
		t.Errorf("re-importing File 2 lost File 5's score: %v", score)
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.datasets WHERE kind = 'deprivation'"); n != 2 {
		t.Errorf("%d deprivation datasets, want File 2 and File 5", n)
	}
	// Dropping File 5 removes its scores and keeps File 2's ranks.
	drop(t, conn, file5)
	if rank, _, score, _ := deprivation(t, conn, "E01006212"); rank == nil || *rank != 14456 || score != nil {
		t.Errorf("after dropping File 5: rank %v score %v", rank, score)
	}
	// File 7 has everything.
	if res := runResult(t, conn, "imd", fixture("File_7_-_All_IoD2019_Scores__Ranks__Deciles_and_Population_Denominators.csv"), ingest.Options{}); res.Rows != 1 {
		t.Errorf("File 7: %d rows", res.Rows)
	}
	datasetID(t, conn, "deprivation", "imd2019-file7")
	var livingScore float64
	var livingRank int
	if err := conn.QueryRow(ctx, "SELECT living_env_score::float8, living_env_rank FROM nbhd.deprivation WHERE code = 'E01006212'").Scan(&livingScore, &livingRank); err != nil {
		t.Fatal(err)
	}
	if livingScore != 12.421 || livingRank != 29091 {
		t.Errorf("File 7 living environment: score %v rank %d", livingScore, livingRank)
	}
}

func TestIMDCarriedFrom2011To2021(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	file := fixture("File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv")
	_, err := importFile(conn, "imd", file, ingest.Options{})
	if err == nil || !strings.Contains(err.Error(), "E01099991") || !strings.Contains(err.Error(), "--lookup") {
		t.Fatalf("2011 codes without a lookup: %v", err)
	}
	res := runResult(t, conn, "imd", file, ingest.Options{"lookup": "LSOA_(2011)_to_LSOA_(2021)_to_Local_Authority_District_(2022)_Lookup.csv"})
	datasetID(t, conn, "deprivation", "imd2019-file1")
	// 2021 areas reached: 6212 and 6213 (split), 6214 (merged), 6215
	// (unchanged), 6216 and 6217 (complex).
	if res.Rows != 6 || !hasNote(res, "skipped 1 rows whose LSOAs are not loaded") {
		t.Errorf("%d rows, notes %v", res.Rows, res.Notes)
	}
	for _, c := range []struct {
		code, method string
		rank, decile int
	}{
		{"E01006212", "split", 30000, 10}, {"E01006213", "split", 30000, 10}, // each child inherits its parent
		{"E01006214", "merged", 500, 1}, // the most deprived of 500 and 9000
		{"E01006215", "unchanged", 1489, 1},
		{"E01006216", "complex", 7000, 3}, // most deprived of 12000 and 7000
		{"E01006217", "complex", 7000, 3},
	} {
		rank, decile, _, method := deprivation(t, conn, c.code)
		if rank == nil || *rank != c.rank || decile == nil || *decile != c.decile || method != c.method {
			t.Errorf("%s: rank %v decile %v method %q; want %d %d %s", c.code, rank, decile, method, c.rank, c.decile, c.method)
		}
	}
	var source string
	if err := conn.QueryRow(context.Background(), "SELECT source_code FROM nbhd.deprivation WHERE code = 'E01006214'").Scan(&source); err != nil || source != "E01099992" {
		t.Errorf("merged E01006214 took its values from %q, want E01099992: %v", source, err)
	}
	// Domain deciles File 1 does not have still come from File 2.
	if n := count(t, conn, "SELECT count(*) FROM nbhd.deprivation WHERE code = 'E01006212' AND income_rank = 16830"); n != 1 {
		t.Error("File 2's income rank was lost")
	}
}

func TestOpenStreetMapAssets(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	ctx := context.Background()
	res := runResult(t, conn, "osm", fixture("osm_overpass.geojson"), ingest.Options{})
	// library, community centre (way), food bank, place of worship
	// (relation), sports club; the bench matches nothing.
	if res.Rows != 5 || !hasNote(res, "skipped 1 of 6 features") {
		t.Errorf("overpass: %d assets, notes %v", res.Rows, res.Notes)
	}
	want := map[string]string{"osm:node/101": "library", "osm:way/202": "community_centre", "osm:node/303": "food_bank",
		"osm:relation/505": "place_of_worship", "osm:node/606": "sports_club"}
	for id, cat := range want {
		if n := count(t, conn, "SELECT count(*) FROM nbhd.community_assets WHERE id = $1 AND category = $2 AND source_ref = $3", id, cat, strings.TrimPrefix(id, "osm:")); n != 1 {
			t.Errorf("%s is not a %s", id, cat)
		}
	}
	var name, address, postcode, hours string
	if err := conn.QueryRow(ctx, "SELECT name, address, postcode, opening_hours FROM nbhd.community_assets WHERE id = 'osm:node/101'").
		Scan(&name, &address, &postcode, &hours); err != nil {
		t.Fatal(err)
	}
	if name != "Wigan Library" || address != "1 Library Street, Wigan" || postcode != "WN1 1AA" || hours != "Mo-Fr 09:00-17:00" {
		t.Errorf("node/101: %q %q %q %q", name, address, postcode, hours)
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.community_assets WHERE id = 'osm:node/606' AND name = 'Sports club'"); n != 1 {
		t.Error("an unnamed asset should be named by its category")
	}
	// The way's polygon became a point inside it.
	if n := count(t, conn, `SELECT count(*) FROM nbhd.community_assets WHERE id = 'osm:way/202'
		AND ST_Within(geom, ST_MakeEnvelope(-2.58, 53.53, -2.579, 53.531, 4326))`); n != 1 {
		t.Error("way/202 is not a point inside its polygon")
	}
	var licence, attribution string
	if err := conn.QueryRow(ctx, "SELECT licence, attribution FROM nbhd.datasets WHERE kind = 'community_assets' AND key = 'osm'").Scan(&licence, &attribution); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(licence, "ODbL") || attribution != "© OpenStreetMap contributors, ODbL" {
		t.Errorf("licence %q attribution %q", licence, attribution)
	}
	// osmtogeojson's nested tags and numeric id.
	if res := runResult(t, conn, "osm", fixture("osm_osmtogeojson.geojson"), ingest.Options{"key": "osm-leigh"}); res.Rows != 1 {
		t.Errorf("osmtogeojson: %d assets, want the pharmacy", res.Rows)
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.community_assets WHERE id = 'osm-leigh:node/707' AND category = 'pharmacy'"); n != 1 {
		t.Error("node/707 pharmacy missing")
	}
	// osmium ids (n909, w1001) with a JSON mapping, and a CSV mapping.
	if res := runResult(t, conn, "osm", fixture("osm_osmium.geojson"), ingest.Options{"key": "osm-osmium", "categories": "osm_categories.json"}); res.Rows != 2 {
		t.Errorf("osmium: %d assets", res.Rows)
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.community_assets WHERE id IN ('osm-osmium:node/909', 'osm-osmium:way/1001') AND category IN ('library', 'green_space')"); n != 2 {
		t.Error("osmium ids or JSON mapping not applied")
	}
	if res := runResult(t, conn, "osm", fixture("osm_overpass.geojson"), ingest.Options{"key": "osm-csv", "categories": "osm_categories.csv"}); res.Rows != 3 {
		t.Errorf("CSV mapping: %d assets, want library, bench and the leisure=* sports centre", res.Rows)
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.community_assets WHERE id = 'osm-csv:node/606' AND category = 'leisure'"); n != 1 {
		t.Error("wildcard rule not applied")
	}
}

func TestCouncilAssetsCSV(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	res := runResult(t, conn, "assets-csv", fixture("council_assets.csv"), ingest.Options{"key": "council"})
	if res.Rows != 3 {
		t.Errorf("%d assets, want 3", res.Rows)
	}
	var atPostcode bool
	if err := conn.QueryRow(context.Background(), `SELECT ST_Equals(a.geom, p.geom) FROM nbhd.community_assets a
		JOIN nbhd.postcodes p ON p.postcode = 'WN1 1AA' WHERE a.id = 'council:A1'`).Scan(&atPostcode); err != nil || !atPostcode {
		t.Errorf("A1 not placed at WN1 1AA: %v", err)
	}
	if d := lonLatDistance(t, conn, "community_assets", "id", "council:A2", -2.5201, 53.4975); d > 0.01 {
		t.Errorf("A2 is %.3f m from its lon/lat", d)
	}
}

// footprintCSV writes a council's own neighbourhoods: the sample's 200
// small areas in seven footprints, made from the ward lookup.
func footprintCSV(t *testing.T) (string, map[string]int) {
	t.Helper()
	f, err := sample.FS.Open("wigan/lookups/lsoa21_to_ward22_bestfit.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("lsoa21cd,neighbourhood\n")
	sizes := map[string]int{}
	for _, r := range recs[1:] {
		// Seven footprints by ward code: whole wards stay together.
		var sum int
		for _, c := range r[2] {
			sum += int(c)
		}
		name := fmt.Sprintf("Footprint %d", sum%7+1)
		sizes[name]++
		fmt.Fprintf(&b, "%s,%s\n", r[0], name)
	}
	return writeFile(t, "footprints.csv", b.String()), sizes
}

func TestNeighbourhoodList(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	path, sizes := footprintCSV(t)
	res := runResult(t, conn, "neighbourhoods", path, ingest.Options{"set": "footprints", "set-title": "Service footprints"})
	if res.Rows != len(sizes) {
		t.Errorf("%d neighbourhoods, want %d", res.Rows, len(sizes))
	}
	for name, n := range sizes {
		if got := count(t, conn, "SELECT count(*) FROM nbhd.neighbourhood_members WHERE set_id = 'footprints' AND neighbourhood_code = $1 AND method = 'list'", name); got != n {
			t.Errorf("%s: %d members, want %d", name, got, n)
		}
	}
	// Geometry is the union of the members: same area (to 0.1%), and the
	// population adds up to the borough's published total.
	var union, parts float64
	if err := conn.QueryRow(context.Background(), `SELECT (SELECT sum(ST_Area(geom_bng)) FROM nbhd.neighbourhoods WHERE set_id = 'footprints'),
		(SELECT sum(ST_Area(geom_bng)) FROM nbhd.small_areas)`).Scan(&union, &parts); err != nil {
		t.Fatal(err)
	}
	if math.Abs(union-parts) > 0.001*parts {
		t.Errorf("footprints cover %.0f m², small areas %.0f m²", union, parts)
	}
	if got := count(t, conn, "SELECT sum(population) FROM api.neighbourhoods WHERE set_id = 'footprints'"); got != 324650 {
		t.Errorf("footprint population %d, want 324650", got)
	}
	// Two neighbourhoods for one small area: both lines named.
	_, err := importFile(conn, "neighbourhoods", fixture("footprints_duplicate.csv"), ingest.Options{"set": "dup"})
	if err == nil || !strings.Contains(err.Error(), "line 4") || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "E01006212") {
		t.Errorf("small area in two neighbourhoods: %v", err)
	}
	// Small areas in none: an error listing them, or a note with --allow-gaps.
	gaps := writeFile(t, "gaps.csv", "lsoa21cd,neighbourhood\nE01006212,Wigan Central\n")
	_, err = importFile(conn, "neighbourhoods", gaps, ingest.Options{"set": "gaps"})
	if err == nil || !strings.Contains(err.Error(), "199 loaded small areas are in no neighbourhood: E01006213") {
		t.Errorf("small areas in none: %v", err)
	}
	if res := runResult(t, conn, "neighbourhoods", gaps, ingest.Options{"set": "gaps", "allow-gaps": "true"}); !hasNote(res, "199 loaded small areas") {
		t.Errorf("--allow-gaps notes %v", res.Notes)
	}
	// Re-import replaces; dropping the set removes it.
	runResult(t, conn, "neighbourhoods", path, ingest.Options{"set": "footprints"})
	if n := count(t, conn, "SELECT count(*) FROM nbhd.neighbourhood_members WHERE set_id = 'footprints'"); n != 200 {
		t.Errorf("%d members after re-import", n)
	}
	drop(t, conn, datasetID(t, conn, "neighbourhood_set", "footprints"))
	if n := count(t, conn, "SELECT count(*) FROM nbhd.neighbourhoods WHERE set_id = 'footprints'"); n != 0 {
		t.Errorf("%d neighbourhoods left after drop", n)
	}
}

func TestNewFormatsRejectBadInput(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	read := func(name string) string {
		b, err := os.ReadFile(fixture(name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	gias, ep, lists := read("edubasealldata20260401.csv"), read("epraccur.csv"), read("gp-reg-pat-prac-all.csv")
	cp, onspd, f5, lookup := read("wn.csv"), read("ONSPD_FEB_2026_UK.csv"), read("File_5_-_IoD2019_Scores.csv"), read("LSOA_(2011)_to_LSOA_(2021)_to_Local_Authority_District_(2022)_Lookup.csv")
	osm, assets := read("osm_overpass.geojson"), read("council_assets.csv")
	cases := []struct {
		name, kind, file, content string
		spec                      ingest.Options
		want                      []string
	}{
		{"GIAS URN", "gias", "g.csv", strings.Replace(gias, `106466,359`, `1O6466,359`, 1), ingest.Options{}, []string{"g.csv", "line 2", `"URN"`, "1O6466"}},
		{"GIAS easting", "gias", "g.csv", strings.Replace(gias, "358016", "35801x", 1), ingest.Options{}, []string{"g.csv", "line 2", `"Easting"`}},
		{"GIAS percentage", "gias", "g.csv", strings.Replace(gias, "21.4", "121.4", 1), ingest.Options{}, []string{"g.csv", "line 2", `"PercentageFSM"`}},
		{"GIAS without Northing", "gias", "g.csv", strings.Replace(gias, "Northing", "Nothing", 1), ingest.Options{}, []string{"g.csv", "line 1", `"Northing"`, "missing column"}},
		{"GIAS bad --la", "gias", "g.csv", gias, ingest.Options{"la": "Wigan"}, []string{"g.csv", "--la", "Wigan"}},
		{"GIAS duplicate URN", "gias", "g.csv", strings.Replace(gias, `106503,359`, `106466,359`, 1), ingest.Options{}, []string{"g.csv", "line 7", "URN 106466 already appears on line 2"}},
		{"epraccur short row", "epraccur", "e.csv", strings.Replace(ep, `,"4",""`, `,"4"`, 1), ingest.Options{"la": "E08000010"}, []string{"e.csv", "line 1", "26 fields, want 27"}},
		{"epraccur status", "epraccur", "e.csv", strings.Replace(ep, `"A","B"`, `"Q","B"`, 1), ingest.Options{"la": "E08000010"}, []string{"e.csv", "line 1", `"Status Code"`}},
		{"epraccur postcode", "epraccur", "e.csv", strings.Replace(ep, `"WN4 9AZ"`, `"WN4"`, 1), ingest.Options{"la": "E08000010"}, []string{"e.csv", "line 1", `"Postcode"`}},
		{"list size", "gp-list-sizes", "l.csv", strings.Replace(lists, "5590", "55g0", 1), ingest.Options{}, []string{"l.csv", "line 2", `"NUMBER_OF_PATIENTS"`}},
		{"two extracts", "gp-list-sizes", "l.csv", strings.Replace(lists, "01MAY2026,GP,P92002", "01APR2026,GP,P92002", 1), ingest.Options{}, []string{"l.csv", "line 3", `"EXTRACT_DATE"`, "one extract per file"}},
		{"Code-Point easting", "codepoint", "wn.csv", strings.Replace(cp, "358016", "9358016", 1), ingest.Options{}, []string{"wn.csv", "line 1", `"Eastings"`}},
		{"Code-Point columns", "codepoint", "wn.csv", strings.Replace(cp, `,"E05015010"`, ``, 2), ingest.Options{}, []string{"wn.csv", "line 1", "9 fields, want 10"}},
		{"ONSPD without doterm", "onspd", "o.csv", strings.Replace(onspd, "doterm", "dotermx", 1), ingest.Options{}, []string{"o.csv", "line 1", `"doterm"`}},
		{"ONSPD postcode", "onspd", "o.csv", strings.Replace(onspd, ",WN8 0AA,", ",WN8 0A,", 1), ingest.Options{}, []string{"o.csv", "line 4", `"pcds"`}},
		{"IMD score", "imd", "f5.csv", strings.Replace(f5, "0.129", "0.1.29", 1), ingest.Options{}, []string{"f5.csv", "line 2", `"Income Score (rate)"`}},
		{"IMD lookup change", "imd", "f1.csv", read("File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv"), ingest.Options{"lookup": "lookup.csv"},
			[]string{"lookup.csv", "line 6", `"CHGIND"`, `"Q"`}},
		{"OSM without id", "osm", "x.geojson", strings.Replace(strings.Replace(osm, `"@id": "node/303",`, ``, 1), `"id": "node/303"`, `"idx": 1`, 1), ingest.Options{},
			[]string{"x.geojson", "feature 3", `"@id"`}},
		{"OSM category mapping", "osm", "x.geojson", osm, ingest.Options{"categories": "cats.csv"}, []string{"cats.csv", "line 2", `"category"`}},
		{"assets lon", "assets-csv", "a.csv", strings.Replace(assets, "-2.5201", "west", 1), ingest.Options{"key": "a"}, []string{"a.csv", "line 3", `"lon"`}},
		{"assets postcode not loaded", "assets-csv", "a.csv", strings.Replace(assets, "WN1 1AA", "ZE1 0AA", 1), ingest.Options{"key": "a"}, []string{"a.csv", "line 2", `"postcode"`, "ZE1 0AA"}},
		{"footprint code", "neighbourhoods", "n.csv", "lsoa21cd,neighbourhood\nE0100621,X\n", ingest.Options{"set": "n"}, []string{"n.csv", "line 2", `"lsoa21cd"`}},
	}
	before := counts(t, conn)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, c.file, c.content)
			dir := filepath.Dir(path)
			if err := os.WriteFile(filepath.Join(dir, "lookup.csv"), []byte(strings.Replace(lookup, ",U,", ",Q,", 1)), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "cats.csv"), []byte("tag,value,category\namenity,library,Library!\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := importFile(conn, c.kind, path, c.spec)
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

// TestPointsAreWrittenInTheOrderOfTheirPlaces checks that every point
// layer the sample loads is stored in the order of its places (a tile's
// points then sit in a few heap pages), dataset by dataset. The sample is
// loaded into empty tables, so the rows' physical order is the order they
// were written in.
func TestPointsAreWrittenInTheOrderOfTheirPlaces(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	for _, table := range []string{"community_assets", "gp_practices", "schools"} {
		rows, err := conn.Query(context.Background(), `SELECT dataset_id, count(*),
			array_agg(ST_AsText(geom) ORDER BY ctid) = array_agg(ST_AsText(geom) ORDER BY geom)
			FROM nbhd.`+table+` GROUP BY dataset_id ORDER BY dataset_id`)
		if err != nil {
			t.Fatal(err)
		}
		type dataset struct {
			ID, Rows int64
			InOrder  bool
		}
		sets, err := pgx.CollectRows(rows, pgx.RowToStructByPos[dataset])
		if err != nil || len(sets) == 0 {
			t.Fatalf("%s: %d datasets (%v)", table, len(sets), err)
		}
		for _, ds := range sets {
			if !ds.InOrder || ds.Rows < 5 {
				t.Errorf("%s: the %d rows of dataset %d are not stored in the order of their places", table, ds.Rows, ds.ID)
			}
		}
	}
}
