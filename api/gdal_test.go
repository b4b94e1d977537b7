package api_test

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"nbhd/data/dbtest"
)

// gdal runs a GDAL command-line tool. GDAL is a real OGC API – Features
// client: if it reads what nbhd serves, QGIS (which uses it) does too.
func gdal(t *testing.T, tool string, args ...string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		msg := tool + " not found: `make test` installs gdal-bin (scripts/deps.sh)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(os.Environ(), "GDAL_HTTP_TIMEOUT=60", "CPL_VSIL_CURL_CACHE_SIZE=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", tool, args, err, out)
	}
	return string(out)
}

var featureCount = regexp.MustCompile(`(?m)^Layer name: (\S+)$[\s\S]*?^Feature Count: (\d+)$`)

func TestGDALListsEveryCollectionWithItsCount(t *testing.T) {
	e := newEnv(t)
	out := gdal(t, "ogrinfo", "-ro", "-al", "-so", "OAPIF:"+e.url)
	got := map[string]int{}
	for _, m := range featureCount.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[2])
		got[m[1]] = n
	}
	for id, sql := range map[string]string{
		"small-areas":                  "SELECT count(*) FROM nbhd.small_areas",
		"neighbourhoods-ward":          "SELECT count(*) FROM nbhd.neighbourhoods WHERE set_id='ward'",
		"neighbourhoods-msoa":          "SELECT count(*) FROM nbhd.neighbourhoods WHERE set_id='msoa'",
		"neighbourhoods-ward-boundary": "SELECT count(*) FROM nbhd.neighbourhoods WHERE set_id='ward'",
		"neighbourhoods-msoa-boundary": "SELECT count(*) FROM nbhd.neighbourhoods WHERE set_id='msoa'",
		"community-assets":             "SELECT count(*) FROM nbhd.community_assets",
		"gp-practices":                 "SELECT count(*) FROM nbhd.gp_practices",
		"schools":                      "SELECT count(*) FROM nbhd.schools",
	} {
		if want := e.dbCount(t, sql); got[id] != want {
			t.Errorf("ogrinfo: %s has %d features, database %d", id, got[id], want)
		}
	}
	if len(got) != len(collectionIDs) {
		t.Errorf("ogrinfo listed %d layers: %v", len(got), got)
	}
	if !strings.Contains(out, `ID["EPSG",4326]`) {
		t.Error("ogrinfo reports no WGS 84 CRS")
	}
}

func TestGDALCopiesEveryCollectionThroughPaging(t *testing.T) {
	e := newEnv(t)
	gpkg := filepath.Join(t.TempDir(), "nbhd.gpkg")
	// A page size far below the collections' sizes makes GDAL follow
	// rel=next links many times.
	gdal(t, "ogr2ogr", "-f", "GPKG", gpkg, "OAPIF:"+e.url, "-oo", "PAGE_SIZE=45")
	out := gdal(t, "ogrinfo", "-ro", "-al", "-so", gpkg)
	got := map[string]int{}
	for _, m := range featureCount.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[2])
		got[m[1]] = n
	}
	want := map[string]int{
		"small-areas":         e.dbCount(t, "SELECT count(*) FROM nbhd.small_areas"),
		"neighbourhoods-ward": e.dbCount(t, "SELECT count(*) FROM nbhd.neighbourhoods WHERE set_id='ward'"),
		"neighbourhoods-msoa": e.dbCount(t, "SELECT count(*) FROM nbhd.neighbourhoods WHERE set_id='msoa'"),
		"community-assets":    e.dbCount(t, "SELECT count(*) FROM nbhd.community_assets"),
		"gp-practices":        e.dbCount(t, "SELECT count(*) FROM nbhd.gp_practices"),
		"schools":             e.dbCount(t, "SELECT count(*) FROM nbhd.schools"),
	}
	for id, n := range want {
		if got[id] != n {
			t.Errorf("GeoPackage %s: %d features, database %d", id, got[id], n)
		}
	}
}

var point = regexp.MustCompile(`POINT \(([-\d.]+) ([-\d.]+)\)`)

func TestGDALReadsBritishNationalGrid(t *testing.T) {
	e := newEnv(t)
	gpkg := filepath.Join(t.TempDir(), "bng.gpkg")
	// GDAL 3.6 passes query parameters given on the collection URL on to
	// every items request.
	gdal(t, "ogr2ogr", "-f", "GPKG", gpkg, "OAPIF:"+e.url+"/collections/gp-practices?crs=http://www.opengis.net/def/crs/EPSG/0/27700",
		"-a_srs", "EPSG:27700", "-oo", "PAGE_SIZE=20")
	out := gdal(t, "ogrinfo", "-ro", "-al", gpkg, "-sql", "SELECT code, geom FROM \"gp-practices\" ORDER BY code")
	codes := regexp.MustCompile(`code \(String\) = (\w+)`).FindAllStringSubmatch(out, -1)
	pts := point.FindAllStringSubmatch(out, -1)
	if len(codes) == 0 || len(codes) != len(pts) {
		t.Fatalf("read %d codes and %d points:\n%.2000s", len(codes), len(pts), out)
	}
	conn := dbtest.Conn(t, e.dbURL)
	for i, c := range codes {
		x, _ := strconv.ParseFloat(pts[i][1], 64)
		y, _ := strconv.ParseFloat(pts[i][2], 64)
		var wx, wy float64
		if err := conn.QueryRow(context.Background(), "SELECT ST_X(ST_Transform(geom, 27700)), ST_Y(ST_Transform(geom, 27700)) FROM nbhd.gp_practices WHERE code = $1", c[1]).Scan(&wx, &wy); err != nil {
			t.Fatal(err)
		}
		if d := math.Hypot(x-wx, y-wy); d > 1 {
			t.Errorf("%s: GDAL read (%v, %v), %.2f m from PostGIS ST_Transform (%v, %v)", c[1], x, y, d, wx, wy)
		}
	}
}
