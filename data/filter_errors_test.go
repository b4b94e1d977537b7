package data_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"nbhd/data"
	"nbhd/data/dbtest"
	"nbhd/geo"
	"nbhd/geo/cql2"
)

// testLayer is a layer of the static catalogue, without a database.
func testLayer(t *testing.T, id string) *data.Layer {
	t.Helper()
	s := open(t, dbtest.New(t, false))
	l, ok := catalogue(t, s).Layer(id)
	if !ok {
		t.Fatalf("no layer %s", id)
	}
	return l
}

// TestFilterErrorsNameTheProblem: filters that parse but do not fit the
// layer are *cql2.Error with a position, never a database error.
func TestFilterErrorsNameTheProblem(t *testing.T) {
	sa := testLayer(t, "small-areas")
	for _, c := range []struct {
		filter  string
		crs     geo.CRS
		column  int
		message string
	}{
		{"imd_decle <= 2", geo.CRS84, 1, `unknown property "imd_decle" at column 1: queryables of small-areas: code, name, vintage, lad_code, population, imd_release, imd_rank`},
		{"IMD_DECILE <= 2", geo.CRS84, 1, `unknown property "IMD_DECILE" at column 1: did you mean imd_decile?`},
		{"imd_score > 30", geo.CRS84, 1, `property "imd_score" of small-areas cannot be used in a filter`},
		{"population_period = 'mid-2017'", geo.CRS84, 1, `property "population_period" of small-areas cannot be used in a filter`},
		{"code = 'x' AND imd_decile = 'two'", geo.CRS84, 27, "= cannot compare imd_decile, which is a number, with 'two', which is a string"},
		{"name > 3", geo.CRS84, 6, "> cannot compare name, which is a string, with 3, which is a number"},
		{"imd_decile IN (1, '2')", geo.CRS84, 12, "IN cannot compare imd_decile, which is a number, with '2', which is a string"},
		{"imd_decile BETWEEN 'a' AND 'b'", geo.CRS84, 12, "BETWEEN cannot compare"},
		{"imd_decile LIKE '1%'", geo.CRS84, 1, "imd_decile is a number, not string at column 1: LIKE matches strings"},
		{"CASEI(population) = CASEI('1')", geo.CRS84, 7, "population is a number, not string at column 7: CASEI needs a string"},
		{"name + 1 > 2", geo.CRS84, 1, "name is a string, not number at column 1: arithmetic needs numbers"},
		{"imd_decile = TRUE", geo.CRS84, 12, "= cannot compare imd_decile, which is a number, with TRUE, which is a boolean"},
		{"name", geo.CRS84, 1, "name is a string, not boolean at column 1: a property used as a condition must be a boolean"},
		{"S_INTERSECTS(name, POINT(-2.6 53.5))", geo.CRS84, 1, "S_INTERSECTS does not apply to name, which is a string"},
		{"S_INTERSECTS(geometry, POINT(358000 405000))", geo.CRS84, 24, "coordinate (358000 405000) is not a longitude and latitude (CRS84) at column 24: for British National Grid coordinates give filter-crs=http://www.opengis.net/def/crs/EPSG/0/27700"},
		{"S_WITHIN(geometry, BBOX(-200, 53, -2, 54))", geo.CRS84, 20, "coordinate (-200 53) is not a longitude and latitude"},
		{"geometry = 1", geo.CRS84, 10, "= does not apply to geometry, which is a geometry"},
		{"population > DATE('2020-01-01')", geo.CRS84, 12, "> cannot compare population, which is a number, with DATE('2020-01-01'), which is a date"},
	} {
		_, err := sa.ParseFilter(cql2.LangText, c.filter, c.crs)
		var pe *cql2.Error
		if !errors.As(err, &pe) {
			t.Errorf("%q: %v, want a *cql2.Error", c.filter, err)
			continue
		}
		if pe.Pos.Column != c.column || !strings.Contains(err.Error(), c.message) {
			t.Errorf("%q:\n got %q (column %d)\nwant %q at column %d", c.filter, err, pe.Pos.Column, c.message, c.column)
		}
	}
	// BNG coordinates are fine with filter-crs EPSG:27700.
	if _, err := sa.ParseFilter(cql2.LangText, "S_INTERSECTS(geometry, POINT(358000 405000))", geo.BNG); err != nil {
		t.Errorf("BNG point with filter-crs 27700: %v", err)
	}
	// A JSON filter's errors point into the JSON.
	_, err := sa.ParseFilter(cql2.LangJSON, `{"op": "=", "args": [{"property": "nope"}, 1]}`, geo.CRS84)
	var pe *cql2.Error
	if !errors.As(err, &pe) || pe.Pos.Column != 22 || !strings.Contains(err.Error(), `unknown property "nope"`) {
		t.Errorf("JSON unknown property: %v", err)
	}
}

// TestFilterSurvivesHostileInput runs filters that are valid but extreme
// against PostGIS: none may cause a database error (a 500).
func TestFilterSurvivesHostileInput(t *testing.T) {
	s := open(t, dbtest.New(t, true))
	cat := catalogue(t, s)
	bowtie := "POLYGON((-2.7 53.4, -2.5 53.6, -2.5 53.4, -2.7 53.6, -2.7 53.4))"
	collection := "GEOMETRYCOLLECTION(POINT(-2.6 53.5), LINESTRING(-2.7 53.4, -2.5 53.6), " + bowtie + ")"
	var in []string
	for i := range 3000 {
		in = append(in, fmt.Sprint(i))
	}
	filters := map[string][]string{
		"small-areas": {
			"population * 1e300 * 1e300 * 1e300 * 1e300 * 1e300 * 1e300 * 1e300 * 1e300 * 1e300 * 1e300 > 1",
			"population / 1e-300 / 1e-300 / 1e-300 / 1e-300 / 1e-300 / 1e-300 / 1e-300 / 1e-300 / 1e-300 > 1",
			"1e-300 * 1e-300 * 1e-300 * 1e-300 * 1e-300 * 1e-300 * 1e-300 * 1e-300 * 1e-300 * 1e-300 * 1e-300 * 1e-300 * 1e-300 * 1e-300 * 1e-300 * 1e-300 * 1e-300 * 1e-300 * 1e-300 * 1e-300 * 1e-300 > population",
			"population ^ 1e300 > 1 OR population ^ -1e300 > 1 OR (0 - population) ^ 0.5 > 1 OR 0 ^ -1 > 1",
			"(1e300 ^ 3) ^ 3 > 1 OR 1e-300 ^ -4 > 1 OR 0.5 ^ 1e300 >= 0 OR (0 - 1) ^ 1e300 > 0",
			"population % 0 = 1 OR population div 0 = 1 OR population / (imd_decile - imd_decile) = 1",
			"population div 1e-300 > 1 AND population % 1e-300 >= 0",
			"imd_decile IN (" + strings.Join(in, ", ") + ")",
			"name LIKE '%%%%_%\\%\\_\\\\%' OR name LIKE '''; DROP TABLE nbhd.small_areas; --'",
			"CASEI(ACCENTI(name)) = CASEI(ACCENTI('ǅ ß ﬁ Ω \u200d 😀 \\a\\b\\t\\n\\v\\f\\r'))",
			`"name""; DROP TABLE x; --" = 1`,
		},
		"gp-practices": {
			"S_INTERSECTS(geometry, " + bowtie + ")",
			"S_CONTAINS(geometry, " + bowtie + ") OR S_WITHIN(geometry, " + bowtie + ") OR S_OVERLAPS(geometry, " + bowtie + ")",
			"S_TOUCHES(geometry, " + bowtie + ") OR S_CROSSES(geometry, " + bowtie + ") OR S_EQUALS(geometry, " + bowtie + ")",
			"S_INTERSECTS(geometry, " + collection + ") OR S_WITHIN(geometry, " + collection + ") OR S_CONTAINS(" + collection + ", geometry)",
			"S_TOUCHES(geometry, " + collection + ") OR S_CROSSES(geometry, " + collection + ") OR S_OVERLAPS(geometry, " + collection + ") OR S_EQUALS(geometry, " + collection + ")",
			"S_DISJOINT(" + collection + ", " + bowtie + ") AND S_INTERSECTS(BBOX(-180, -90, 180, 90), POINT(0 0))",
			"S_INTERSECTS(geometry, POLYGON((-2.7 53.4, -2.7 53.4, -2.7 53.4, -2.7 53.4)))",
			"S_INTERSECTS(geometry, LINESTRING(-2.7 53.4, -2.7 53.4))",
			"geometry IS NULL OR POINT(1 2) IS NOT NULL OR BBOX(1, 2, 3, 4) IS NULL",
			"S_EQUALS(geometry, geom) AND 'a' = 'a' AND 1 < 2 AND TRUE",
		},
	}
	ctx := context.Background()
	for id, fs := range filters {
		l, _ := cat.Layer(id)
		for _, f := range fs {
			// The zero CRS is read as CRS84, the default filter-crs.
			for _, crs := range []geo.CRS{geo.CRS84, geo.BNG, {}} {
				p, err := l.ParseFilter(cql2.LangText, f, crs)
				var pe *cql2.Error
				if err != nil && errors.As(err, &pe) && strings.Contains(f, "DROP TABLE x") {
					continue // an unknown property, as it should be
				}
				if err != nil {
					t.Errorf("%.80s: %v", f, err)
					continue
				}
				q := data.FeatureQuery{Where: p, CRS: crs, Limit: 10}
				err = s.Features(ctx, data.Public, l, q, data.TableRows, func([][]byte) error { return nil })
				if err == nil {
					_, err = s.CountFeatures(ctx, data.Public, l, q)
				}
				if err != nil {
					t.Errorf("%.80s (%s): database error %v", f, crs.URI, err)
				}
			}
		}
	}
}

// TestFilterOnDates filters a date field. No published layer has a
// queryable date yet, so the test makes one: the GP practices' view with
// list_size_date queryable. Expected dates come from the source's column
// names (registered_patients_YYYY_MM).
func TestFilterOnDates(t *testing.T) {
	s := open(t, dbtest.New(t, true))
	l := &data.Layer{ID: "gp-dates", View: pgx.Identifier{"api", "gp_practices"}, Key: "code", GeometryType: "Point",
		Fields: []data.Field{
			{Name: "code", Type: data.String, Queryable: true},
			{Name: "list_size_date", Type: data.Date, Queryable: true},
		}}
	dates := map[string]any{}
	for _, r := range readCSV(t, "health/gp_practices.csv") {
		if r["status_code"] != "A" && r["status_code"] != "" {
			continue
		}
		switch {
		case r["registered_patients_2026_04"] != "":
			dates[r["practice_code"]] = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
		case r["registered_patients_2021_01"] != "":
			dates[r["practice_code"]] = time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
		default:
			dates[r["practice_code"]] = nil
		}
	}
	for _, filter := range []string{
		"list_size_date = DATE('2026-04-01')",
		"list_size_date < DATE('2022-01-01')",
		"list_size_date BETWEEN DATE('2020-12-31') AND DATE('2021-01-01')",
		"list_size_date IN (DATE('2021-01-01'), DATE('1999-01-01'))",
		"list_size_date IS NULL OR list_size_date <> DATE('2026-04-01')",
	} {
		e, err := cql2.ParseText(filter)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for code, d := range dates {
			ok, err := cql2.Eval(e, map[string]any{"code": code, "list_size_date": d}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				want = append(want, code)
			}
		}
		if len(want) == 0 || len(want) == len(dates) {
			t.Fatalf("%s selects %d of %d practices: choose a filter that discriminates", filter, len(want), len(dates))
		}
		got := selectWith(t, s, l, e, geo.CRS84)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", filter, got, want)
		}
	}
	_, err := l.ParseFilter(cql2.LangText, "list_size_date > TIMESTAMP('2021-01-01T00:00:00Z')", geo.CRS84)
	if err == nil || !strings.Contains(err.Error(), "compare a date with DATE('YYYY-MM-DD')") {
		t.Errorf("date against timestamp: %v", err)
	}
}

// TestPredicateSQLFitsAnotherQuery renders a predicate with another alias
// and argument offset, as the tile query will, and checks that it selects
// what FeatureQuery.Where does.
func TestPredicateSQLFitsAnotherQuery(t *testing.T) {
	s := open(t, dbtest.New(t, true))
	l, _ := catalogue(t, s).Layer("small-areas")
	text := "imd_decile <= 2 AND S_INTERSECTS(geometry, BBOX(-2.6543, 53.5281, -2.6102, 53.5579)) AND name LIKE 'Wigan%'"
	p, err := l.ParseFilter(cql2.LangText, text, geo.CRS84)
	if err != nil {
		t.Fatal(err)
	}
	same, err := l.ParseFilter(cql2.LangJSON, `{"op": "and", "args": [{"op": "<=", "args": [{"property": "imd_decile"}, 2]},
		{"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [-2.6543, 53.5281, -2.6102, 53.5579]}]},
		{"op": "like", "args": [{"property": "name"}, "Wigan%"]}]}`, geo.CRS84)
	if err != nil || same.Key() != p.Key() {
		t.Errorf("the same filter in JSON has key %q, in text %q (%v)", same.Key(), p.Key(), err)
	}
	if bng, err := l.ParseFilter(cql2.LangText, text, geo.BNG); err != nil || bng.Key() == p.Key() {
		t.Errorf("keys ignore the CRS: %q", p.Key())
	}
	sql, args := p.SQL("q", []any{"first", "second"})
	if len(args) != 2+6 || args[0] != "first" || !strings.Contains(sql, `"q"."imd_decile"`) || !strings.Contains(sql, "$3::numeric") || strings.Contains(sql, "$1") {
		t.Fatalf("SQL %s with %d args", sql, len(args))
	}
	for _, v := range args[2:] {
		if s, ok := v.(string); ok && strings.Contains(sql, s) {
			t.Errorf("argument %q appears in the SQL text", s)
		}
	}
	var n int64
	err = s.QueryArgsForTest(context.Background(), data.Public,
		"SELECT count(*) FROM api.small_areas q WHERE $1::text = 'first' AND $2::text = 'second' AND "+sql, args, &n)
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.CountFeatures(context.Background(), data.Public, l, data.FeatureQuery{Where: p})
	if err != nil {
		t.Fatal(err)
	}
	if n != want || n == 0 {
		t.Errorf("the predicate in another query counts %d, FeatureQuery.Where %d", n, want)
	}
}
