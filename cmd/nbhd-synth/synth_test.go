package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"nbhd/data"
	"nbhd/data/dbtest"
	"nbhd/data/ingest"
	"nbhd/data/sample"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func generate(t *testing.T, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	var out, errs bytes.Buffer
	if code := run(context.Background(), append(args, "--out", dir), &out, &errs); code != 0 {
		t.Fatalf("nbhd-synth %v: exit %d: %s", args, code, errs.String())
	}
	return dir
}

// sameTree fails unless the two directories hold the same files with the
// same bytes.
func sameTree(t *testing.T, a, b string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		x, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil {
			t.Errorf("%s: only in the first run", rel)
			return nil
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs with the same seed", rel)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Fatalf("only %d files generated", n)
	}
}

func TestEnglandIsDeterministic(t *testing.T) {
	a := generate(t, "england", "--seed", "7", "--scale", "0.01")
	b := generate(t, "england", "--seed", "7", "--scale", "0.01")
	sameTree(t, a, b)
	c := generate(t, "england", "--seed", "8", "--scale", "0.01")
	x, _ := os.ReadFile(filepath.Join(a, fileOf(t, a, "boundaries", "Lower_layer")))
	y, _ := os.ReadFile(filepath.Join(c, fileOf(t, c, "boundaries", "Lower_layer")))
	if bytes.Equal(x, y) {
		t.Fatal("seeds 7 and 8 gave the same LSOA boundaries")
	}
}

func TestBoroughIsDeterministic(t *testing.T) {
	a := generate(t, "borough", "--seed", "3", "--lad", "E08000001", "--name", "Bolton")
	b := generate(t, "borough", "--seed", "3", "--lad", "E08000001", "--name", "Bolton")
	sameTree(t, a, b)
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"england", "--scale", "0.01"},
		{"england", "--out", t.TempDir(), "--scale", "-1"},
		{"borough", "--out", t.TempDir(), "--lad", "X1", "--name", "Bolton"},
		{"borough", "--out", t.TempDir(), "--lad", "E08000001"},
		{"nonsense"},
	} {
		var out, errs bytes.Buffer
		if code := run(context.Background(), args, &out, &errs); code != 2 || errs.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a message", args, code, errs.String())
		}
	}
}

func fileOf(t *testing.T, dir, sub, prefix string) string {
	t.Helper()
	es, err := os.ReadDir(filepath.Join(dir, sub))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if strings.HasPrefix(e.Name(), prefix) {
			return filepath.Join(sub, e.Name())
		}
	}
	t.Fatalf("no %s/%s* file", sub, prefix)
	return ""
}

type summary struct {
	Counts  map[string]int `json:"counts"`
	Imports []struct {
		Kind, File string
		Rows       int
	} `json:"imports"`
	Bounds [4]float64 `json:"bounds"`
}

func readSummary(t *testing.T, dir string) summary {
	t.Helper()
	var s summary
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// load runs today's `nbhd load-sample --dir` code path on dir.
func load(t *testing.T, ctx context.Context, url, dir string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if err := ingest.LoadSample(ctx, conn, os.DirFS(dir), ".", data.LockWait{}, nil, nil); err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	return conn
}

// checkImports compares each dataset's row count with what the generator
// says it wrote.
func checkImports(t *testing.T, ctx context.Context, conn *pgx.Conn, s summary) {
	t.Helper()
	for _, im := range s.Imports {
		var rows int
		if err := conn.QueryRow(ctx, "SELECT rows FROM nbhd.datasets WHERE file_name = $1", filepath.Base(im.File)).Scan(&rows); err != nil {
			t.Errorf("%s %s: %v", im.Kind, im.File, err)
			continue
		}
		if rows != im.Rows || rows == 0 {
			t.Errorf("%s %s: imported %d rows, the generator wrote %d", im.Kind, im.File, rows, im.Rows)
		}
	}
}

// checkGeometry loads the LSOA file's geometries as written (not as the
// importer may have repaired them) and checks in PostGIS that every one is
// valid and that together they are a partition: the sum of their areas is
// the area of their union (no overlaps), which has no holes (no gaps).
func checkGeometry(t *testing.T, ctx context.Context, conn *pgx.Conn, file string, wantCells int) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Features []struct {
			Geometry json.RawMessage `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		t.Fatal(err)
	}
	if len(fc.Features) != wantCells {
		t.Fatalf("%s: %d features, want %d", file, len(fc.Features), wantCells)
	}
	geoms := make([]string, len(fc.Features))
	for i, f := range fc.Features {
		geoms[i] = string(f.Geometry)
	}
	var invalid, holes, parts int
	var sum, union float64
	err = conn.QueryRow(ctx, `WITH g AS (SELECT ST_SetSRID(ST_GeomFromGeoJSON(j), 4326) AS geom FROM unnest($1::text[]) AS j),
		u AS (SELECT ST_Union(geom) AS geom FROM g)
		SELECT (SELECT count(*) FROM g WHERE NOT ST_IsValid(geom)),
		       (SELECT sum(ST_Area(ST_Transform(geom, 27700))) FROM g),
		       (SELECT ST_Area(ST_Transform(geom, 27700)) FROM u),
		       (SELECT coalesce(sum(ST_NumInteriorRings(d.geom)), 0) FROM u, ST_Dump(u.geom) d),
		       (SELECT ST_NumGeometries(ST_Multi(geom)) FROM u)`, geoms).Scan(&invalid, &sum, &union, &holes, &parts)
	if err != nil {
		t.Fatal(err)
	}
	if invalid > 0 {
		t.Errorf("%s: %d invalid polygons", file, invalid)
	}
	if math.Abs(sum-union) > 1e-6*union {
		t.Errorf("%s: areas sum to %.0f m², their union is %.0f m²: the polygons overlap", file, sum, union)
	}
	if holes > 0 {
		t.Errorf("%s: the union of the small areas has %d holes: gaps between them", file, holes)
	}
	if parts != 1 {
		t.Errorf("%s: the small areas form %d separate pieces, want one", file, parts)
	}
}

// checkPointsInside fails when a loaded postcode, practice, school or
// asset lies outside every small area.
func checkPointsInside(t *testing.T, ctx context.Context, conn *pgx.Conn) {
	t.Helper()
	for _, table := range []string{"postcodes", "gp_practices", "schools", "community_assets"} {
		var outside, total int
		err := conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM nbhd.small_areas sa WHERE ST_Contains(sa.geom, p.geom))), count(*)
			FROM nbhd.`+pgx.Identifier{table}.Sanitize()+` p`).Scan(&outside, &total)
		if err != nil {
			t.Fatal(err)
		}
		if total == 0 || outside > 0 {
			t.Errorf("%s: %d of %d lie outside every small area", table, outside, total)
		}
	}
}

func TestEnglandImportsWithTodaysImporters(t *testing.T) {
	url := dbtest.New(t, false)
	dir := generate(t, "england", "--seed", "11", "--scale", "0.01")
	s := readSummary(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conn := load(t, ctx, url, dir)
	checkImports(t, ctx, conn, s)
	for q, want := range map[string]int{
		"SELECT count(*) FROM nbhd.small_areas":                          s.Counts["lsoas"],
		"SELECT count(*) FROM nbhd.neighbourhoods WHERE set_id = 'ward'": s.Counts["wards"],
		"SELECT count(*) FROM nbhd.neighbourhoods WHERE set_id = 'msoa'": s.Counts["msoas"],
		"SELECT count(*) FROM nbhd.neighbourhood_members":                2 * s.Counts["lsoas"],
		// Both releases, each for every LSOA: IoD2019 through the lookup, IoD2025 on 2021 codes.
		"SELECT count(*) FROM nbhd.deprivation WHERE imd_rank IS NOT NULL AND release = 2019": s.Counts["lsoas"],
		"SELECT count(*) FROM nbhd.deprivation WHERE imd_rank IS NOT NULL AND release = 2025": s.Counts["lsoas"],
		"SELECT count(*) FROM nbhd.postcodes":                                                 s.Counts["postcodes_with_coordinates"],
		"SELECT count(*) FROM nbhd.gp_practices":                                              s.Counts["gp_practices"],
		"SELECT count(*) FROM nbhd.schools":                                                   s.Counts["schools"],
		"SELECT count(*) FROM nbhd.community_assets":                                          s.Counts["community_assets"],
	} {
		var got int
		if err := conn.QueryRow(ctx, q).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want || got == 0 {
			t.Errorf("%s: %d, want %d", q, got, want)
		}
	}
	checkGeometry(t, ctx, conn, filepath.Join(dir, fileOf(t, dir, "boundaries", "Lower_layer")), s.Counts["lsoas"])
	checkPointsInside(t, ctx, conn)
	// IoD2019 ranks come through the 2011 -> 2021 lookup with every change
	// type; IoD2025's are on 2021 codes already.
	for release, want := range map[int]string{2019: "merged,split,unchanged", 2025: "direct"} {
		var methods string
		if err := conn.QueryRow(ctx, `SELECT string_agg(DISTINCT method, ',' ORDER BY method) FROM nbhd.deprivation WHERE release = $1`,
			release).Scan(&methods); err != nil {
			t.Fatal(err)
		}
		if methods != want {
			t.Errorf("IoD%d methods %q, want %q", release, methods, want)
		}
	}
}

func TestBoroughImportsAndStaysApartFromTheSample(t *testing.T) {
	url := dbtest.New(t, false)
	dir := generate(t, "borough", "--seed", "5", "--lad", "E08000001", "--name", "Bolton", "--near", "wigan")
	s := readSummary(t, dir)
	// The same file names as the sample's manifest, in the same order.
	var mine, wigan ingest.Manifest
	mine, err := ingest.ReadManifest(os.DirFS(dir), ".")
	if err != nil {
		t.Fatal(err)
	}
	if wigan, err = ingest.ReadManifest(sample.FS, sample.Dir); err != nil {
		t.Fatal(err)
	}
	if len(mine.Imports) != len(wigan.Imports) {
		t.Fatalf("%d imports, the sample has %d", len(mine.Imports), len(wigan.Imports))
	}
	for i := range mine.Imports {
		a, b := mine.Imports[i], wigan.Imports[i]
		if a.Kind != b.Kind || a.File != b.File || !maps.Equal(a.Options, b.Options) {
			t.Errorf("import %d: %s %s %+v; the sample has %s %s %+v", i+1, a.Kind, a.File, a.Options, b.Kind, b.File, b.Options)
		}
	}
	// Its codes are its own and its polygons lie east of the sample's.
	sampleText := readAll(t, sample.FS)
	for _, prefix := range []string{"E01990", "E02990", "E05990", "E00990", "\"BL1 ", "P82"} {
		if strings.Contains(sampleText, prefix) {
			t.Errorf("the sample already uses %s codes", prefix)
		}
	}
	east, _, _, err := sampleBounds()
	if err != nil {
		t.Fatal(err)
	}
	if s.Bounds[0] <= east {
		t.Errorf("the borough starts at longitude %f, inside the sample's extent (east edge %f)", s.Bounds[0], east)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conn := load(t, ctx, url, dir)
	checkImports(t, ctx, conn, s)
	checkGeometry(t, ctx, conn, filepath.Join(dir, "boundaries", "lsoa_2021_generalised.geojson"), s.Counts["lsoas"])
	checkPointsInside(t, ctx, conn)
}

func readAll(t *testing.T, fsys fs.FS) string {
	t.Helper()
	var b strings.Builder
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := fsys.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(&b, f)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
