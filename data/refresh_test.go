package data_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"nbhd/data"
	"nbhd/data/dbtest"
	"nbhd/data/ingest"
)

// derivedSnapshot is every derived row, as text in a fixed order: what the
// incremental refresh must leave exactly as a full one would.
var derivedSnapshot = []string{
	`SELECT code, coalesce(lad_code, '') FROM nbhd.small_areas ORDER BY 1`,
	`SELECT set_id, code, coalesce(lad_code, '') FROM nbhd.neighbourhoods ORDER BY 1, 2`,
	`SELECT 'a', id, small_area_code FROM nbhd.asset_places UNION ALL SELECT 'g', code, small_area_code FROM nbhd.gp_places
	 UNION ALL SELECT 's', id, small_area_code FROM nbhd.school_places ORDER BY 1, 2`,
	`SELECT postcode, small_area_code, round(d_asset::numeric, 3), round(d_gp::numeric, 3), round(d_school::numeric, 3)
	 FROM nbhd.postcode_places ORDER BY 1`,
	`SELECT code, lad_code, population, population_period, imd_release, imd_rank, imd_decile, round(imd_percentile::numeric, 9),
	   assets, gp_practices, gp_patients, schools, postcodes, postcodes_near_asset, postcodes_near_gp, postcodes_near_school,
	   assets_within_reach, ST_AsText(ST_SnapToGrid(centre_bng, 0.001)) FROM nbhd.small_area_stats ORDER BY 1`,
	`SELECT small_area_code, segment, period, kind, round(count, 9), method FROM nbhd.demand ORDER BY 1, 2, 3, 4`,
	`SELECT set_id, code, lad_code, md5(ST_AsBinary(ST_SnapToGrid(geom, 0.0000001))), official_area_share, official_population_share
	 FROM nbhd.neighbourhood_areas ORDER BY 1, 2`,
	`SELECT set_id, code, lad_code, small_areas, population, deprived_10pct, deprived_20pct, assets, gp_practices, gp_patients,
	   schools, postcodes, postcodes_near_asset, postcodes_near_gp, postcodes_near_school, worst_domain
	 FROM nbhd.neighbourhood_stats ORDER BY 1, 2`,
	`SELECT * FROM nbhd.neighbourhood_demand ORDER BY 1, 2, 3`,
	`SELECT set_id, code, indicator, vintage, num, den, value, suppressed, source, method, period, lad_code, rank, ranked
	 FROM nbhd.indicator_values ORDER BY 1, 2, 3, 4`,
	`SELECT * FROM nbhd.comparator_values ORDER BY 1, 2, 3, 4`,
	`SELECT set_id, code, segment, period, suppressed, count FROM nbhd.demand_releases ORDER BY 1, 2, 3, 4`,
	`SELECT id, kind, key, rows, boroughs FROM nbhd.datasets ORDER BY 1`,
	// The published layers: every attribute and every generalised band.
	`SELECT to_jsonb(t) - 'geom' - 'geom_bng' - 'geom_3857' - 'geom_z8' - 'geom_z10' - 'geom_z12' - 'geom_z13',
	   md5(ST_AsBinary(geom_z8)), md5(ST_AsBinary(geom_z13)) FROM api.small_areas t ORDER BY code`,
	`SELECT lad_code, borough, imd_decile, small_areas, population, md5(ST_AsBinary(geom_z5)), md5(ST_AsBinary(geom_z7))
	 FROM api.small_area_groups ORDER BY 1, 3`,
	`SELECT to_jsonb(t) - 'geom' - 'geom_bng' - 'geom_3857' - 'geom_z5' - 'geom_z7' - 'geom_z8' - 'geom_z10' - 'geom_z12' - 'geom_z13',
	   md5(ST_AsBinary(geom_z5)), md5(ST_AsBinary(geom_z13)) FROM api.neighbourhoods t ORDER BY set_id, code`,
	`SELECT to_jsonb(t) - 'geom' - 'geom_bng' - 'geom_3857' - 'geom_z5' - 'geom_z7' - 'geom_z8' - 'geom_z10' - 'geom_z12' - 'geom_z13',
	   md5(ST_AsBinary(geom_z5)) FROM api.neighbourhood_boundaries t ORDER BY set_id, code`,
	`SELECT * FROM api.point_cells ORDER BY layer, z, cx, cy`,
	`SELECT layer, z, x, y, set_id, code, md5(ST_AsBinary(geom)) FROM api.tile_pieces ORDER BY 1, 2, 3, 4, 5, 6`,
}

func snapshot(t *testing.T, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) []string {
	t.Helper()
	var out []string
	for _, sql := range derivedSnapshot {
		rows, err := q.Query(context.Background(), sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		for rows.Next() {
			v, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(v...))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestIncrementalRefreshEqualsFullRefresh runs a random sequence of
// imports, drops and settings changes on the loaded sample, each refreshed
// for what it touched, and after every step checks that refreshing
// everything from scratch would give exactly the same derived rows.
func TestIncrementalRefreshEqualsFullRefresh(t *testing.T) {
	ctx := context.Background()
	url := dbtest.New(t, true)
	conn := dbtest.Conn(t, url)
	admin, err := data.Connect(ctx, url, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	r := rand.New(rand.NewPCG(2026, 11))
	var codes []string
	rows, err := conn.Query(ctx, "SELECT code FROM nbhd.small_areas ORDER BY code")
	if err != nil {
		t.Fatal(err)
	}
	if codes, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		t.Fatal(err)
	}
	importCSV := func(kind, name, body string, opts ingest.Options) {
		t.Helper()
		if _, err := dbtest.ImportText(t, conn, kind, name, body, opts); err != nil {
			t.Fatalf("import %s %s: %v", kind, name, err)
		}
	}
	// dropOne drops the dataset the query names, if any.
	dropOne := func(query string, args ...any) {
		t.Helper()
		var id int64
		err := conn.QueryRow(ctx, query, args...).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := admin.DropDataset(ctx, id, data.LockWait{}); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name string
		do   func(i int)
	}{
		{"new assets", func(i int) {
			var b strings.Builder
			b.WriteString("id,name,category,lon,lat\n")
			for k := range 1 + r.IntN(6) {
				fmt.Fprintf(&b, "a%d-%d,Lunch club %d,lunch_club,%.5f,%.5f\n", i, k, k, -2.74+0.33*r.Float64(), 53.45+0.15*r.Float64())
			}
			importCSV("assets-csv", fmt.Sprintf("assets%d.csv", i), b.String(), ingest.Options{"key": fmt.Sprintf("clubs-%d", r.IntN(3))})
		}},
		{"recorded demand", func(i int) {
			var b strings.Builder
			b.WriteString("small_area_code,segment,count,period,source\n")
			for _, c := range codes {
				if r.IntN(3) == 0 {
					fmt.Fprintf(&b, "%s,chaotic,%d,%d,case system\n", c, r.IntN(40), 2024+r.IntN(2))
				}
			}
			importCSV("demand", fmt.Sprintf("demand%d.csv", i), b.String(), ingest.Options{"key": "recorded", "revise": "true"})
		}},
		{"population", func(i int) {
			var b strings.Builder
			b.WriteString("area_code,all_ages\n")
			for _, c := range codes {
				fmt.Fprintf(&b, "%s,%d\n", c, 1000+r.IntN(2000))
			}
			importCSV("population", fmt.Sprintf("pop%d.csv", i), b.String(), ingest.Options{"period": fmt.Sprintf("mid-%d", 2020+r.IntN(3))})
		}},
		{"borough setting", func(int) {
			patch := fmt.Sprintf(`{"distance_m": %d}`, 500+100*r.IntN(8))
			if err := admin.ChangeSetting(ctx, "E08000010", "access", []byte(patch), data.LockWait{}); err != nil {
				t.Fatal(err)
			}
		}},
		{"moved boundaries", func(i int) {
			// Every small area again, at full precision, two of them a
			// little larger: what moved is drawn again, the rest kept.
			moved := map[string]bool{codes[r.IntN(len(codes))]: true, codes[r.IntN(len(codes))]: true}
			var list []string
			for c := range moved {
				list = append(list, c)
			}
			var body string
			err := conn.QueryRow(ctx, `SELECT json_build_object('type', 'FeatureCollection', 'features', json_agg(json_build_object(
				  'type', 'Feature',
				  'properties', json_build_object('LSOA21CD', code, 'LSOA21NM', name, 'lad_code', lad_code),
				  'geometry', ST_AsGeoJSON(CASE WHEN code = ANY($1) THEN
				    ST_Translate(ST_Scale(ST_Translate(geom, -ST_X(ST_Centroid(geom)), -ST_Y(ST_Centroid(geom))), 1.002, 1.002),
				                 ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom))) ELSE geom END, 15)::json) ORDER BY code))::text
				FROM nbhd.small_areas`, list).Scan(&body)
			if err != nil {
				t.Fatal(err)
			}
			importCSV("boundaries", fmt.Sprintf("lsoa%d.geojson", i), body, ingest.Options{"level": "lsoa"})
		}},
		{"council footprints", func(i int) {
			// A set of the council's own: its shapes change with who is in it.
			var b strings.Builder
			b.WriteString("small_area_code,neighbourhood\n")
			for _, c := range codes {
				fmt.Fprintf(&b, "%s,Footprint %d\n", c, r.IntN(4))
			}
			importCSV("neighbourhoods", fmt.Sprintf("footprints%d.csv", i), b.String(), ingest.Options{"set": "footprints", "set-title": "Footprints"})
		}},
		{"drop a neighbourhood set", func(int) {
			// its neighbourhoods are deleted: the refresh must unpublish them
			dropOne(`SELECT id FROM nbhd.datasets WHERE kind = 'neighbourhood_set' ORDER BY id DESC LIMIT 1`)
		}},
		{"drop a dataset", func(int) {
			dropOne(`SELECT id FROM nbhd.datasets WHERE kind IN ('community_assets', 'schools', 'demand')
				ORDER BY id OFFSET $1 LIMIT 1`, r.IntN(4))
		}},
	}
	// Every kind of step twice, in a random order.
	var order []int
	for range 2 {
		order = append(order, r.Perm(len(steps))...)
	}
	for i, k := range order {
		s := steps[k]
		s.do(i)
		incremental := snapshot(t, conn)
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "SELECT logic.refresh_all()"); err != nil {
			t.Fatal(err)
		}
		full := snapshot(t, tx)
		_ = tx.Rollback(ctx)
		if len(full) != len(incremental) {
			t.Fatalf("step %d (%s): %d derived rows incrementally, %d from a full refresh", i, s.name, len(incremental), len(full))
		}
		for k := range full {
			if full[k] != incremental[k] {
				t.Fatalf("step %d (%s): incremental and full refresh differ:\n  incremental %s\n  full        %s", i, s.name, incremental[k], full[k])
			}
		}
		t.Logf("step %d (%s): %d derived rows agree", i, s.name, len(full))
	}
}

// TestEmptyStatementsMakeNothingStale: every import replaces its earlier
// rows table by table, so statements that change no rows are common; they
// must not make anything stale (an empty delete of the region lookup once
// made every borough of England stale on each import). A statement that
// changes a row still does.
func TestEmptyStatementsMakeNothingStale(t *testing.T) {
	ctx := context.Background()
	conn := dbtest.Conn(t, dbtest.New(t, true))
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a test's transaction, never committed
	stale := func() string {
		var s string
		if err := tx.QueryRow(ctx, "SELECT coalesce(string_agg(what || ':' || code, ',' ORDER BY what, code), '') FROM nbhd.stale").Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := stale(); s != "" {
		t.Fatalf("stale before the test: %s", s)
	}
	for tbl, col := range map[string]string{"borough_regions": "dataset_id", "borough_cauths": "dataset_id",
		"neighbourhoods": "dataset_id", "small_areas": "dataset_id", "settings": "borough", "demand": "dataset_id"} {
		for _, sql := range []string{
			"DELETE FROM nbhd." + tbl + " WHERE false",
			"UPDATE nbhd." + tbl + " SET " + col + " = " + col + " WHERE false",
			"INSERT INTO nbhd." + tbl + " (" + col + ") SELECT " + col + " FROM nbhd." + tbl + " WHERE false",
		} {
			if _, err := tx.Exec(ctx, sql); err != nil {
				t.Fatalf("%s: %v", sql, err)
			}
			if s := stale(); s != "" {
				t.Fatalf("%s made %s stale", sql, s)
			}
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO nbhd.borough_regions (lad_code, region_code, region_name, dataset_id)
		SELECT 'E08000010', 'E12000002', 'North West', min(id) FROM nbhd.datasets
		ON CONFLICT (lad_code) DO UPDATE SET region_name = EXCLUDED.region_name`); err != nil {
		t.Fatal(err)
	}
	if s := stale(); s != "borough:*" {
		t.Errorf("a changed region lookup row made %q stale, want borough:*", s)
	}
}
