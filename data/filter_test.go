package data_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"nbhd/data"
	"nbhd/data/dbtest"
	"nbhd/geo"
	"nbhd/geo/cql2"
)

// filterCase is one filter run through Store.Features in both encodings.
// The expected features come from the sample's source files, evaluated with
// cql2.Eval and, where want is set, with a hand-written predicate too.
type filterCase struct {
	layer string
	text  string // a cql2-text filter, or
	json  string // a cql2-json one
	crs   geo.CRS
	want  func(fixture) bool
	// empty and all say that the filter is meant to select no feature or
	// every one; any other filter must select some features and not all,
	// so that it tells right from wrong.
	empty, all bool
}

func num(f fixture, name string) float64 {
	v, _ := f.props[name].(float64)
	return v
}

func str(f fixture, name string) string {
	v, _ := f.props[name].(string)
	return v
}

// Literals over Wigan. Coordinates carry four decimals so that no vertex of
// a literal falls on a boundary in the source data (the evaluator reports it
// if one does).
const (
	central       = "POLYGON((-2.6612 53.5307, -2.6011 53.5251, -2.5893 53.5603, -2.6487 53.5712, -2.6612 53.5307))"
	centralBox    = "BBOX(-2.6543, 53.5281, -2.6102, 53.5579)"
	leighBox      = "BBOX(-2.5467, 53.4852, -2.4791, 53.5133)"
	westBox       = "BBOX(-2.7513, 53.4301, -2.6321, 53.6203)"
	acrossLine    = "LINESTRING(-2.7013 53.5011, -2.5566 53.5284, -2.4512 53.5523)"
	insideOneLSOA = "POINT(-2.6317 53.5449)"
	// Practice P92001 is at (-2.639264, 53.48753), the centroid of postcode
	// WN4 9AZ, like practice Y02378; P92002 is at (-2.574985, 53.477412).
	atP92001 = "POINT(-2.639264 53.48753)"
	// A triangle with one corner on P92001, which it therefore touches.
	cornerOnP92001 = "POLYGON((-2.639264 53.48753, -2.6301 53.4801, -2.6201 53.4911, -2.639264 53.48753))"
)

var filterCases = []filterCase{
	// Comparisons on small areas.
	{layer: "small-areas", text: "imd_decile = 1", want: func(f fixture) bool { return num(f, "imd_decile") == 1 }},
	{layer: "small-areas", text: "imd_decile <> 1", want: func(f fixture) bool { return num(f, "imd_decile") != 1 }},
	{layer: "small-areas", text: "imd_decile < 3", want: func(f fixture) bool { return num(f, "imd_decile") < 3 }},
	{layer: "small-areas", text: "imd_decile <= 2"},
	{layer: "small-areas", text: "imd_rank > 25000", want: func(f fixture) bool { return num(f, "imd_rank") > 25000 }},
	{layer: "small-areas", text: "imd_rank >= 20000"},
	{layer: "small-areas", text: "2 >= imd_decile", want: func(f fixture) bool { return num(f, "imd_decile") <= 2 }},
	{layer: "small-areas", text: "code = 'E01006212'", want: func(f fixture) bool { return f.key == "E01006212" }},
	{layer: "small-areas", text: `"name" = 'Wigan 026A'`},
	{layer: "small-areas", text: "name > 'Wigan 030'", want: func(f fixture) bool { return str(f, "name") > "Wigan 030" }},
	{layer: "small-areas", text: "income_decile < imd_decile", want: func(f fixture) bool { return num(f, "income_decile") < num(f, "imd_decile") }},
	{layer: "small-areas", text: "vintage = 2021", all: true},
	{layer: "small-areas", text: "TRUE", all: true},
	{layer: "small-areas", text: "FALSE", empty: true},
	// Logic, precedence and parentheses.
	{layer: "small-areas", text: "imd_decile <= 2 AND health_decile = 1",
		want: func(f fixture) bool { return num(f, "imd_decile") <= 2 && num(f, "health_decile") == 1 }},
	{layer: "small-areas", text: "imd_decile = 1 OR crime_decile = 10"},
	{layer: "small-areas", text: "NOT (imd_decile > 2)", want: func(f fixture) bool { return num(f, "imd_decile") <= 2 }},
	{layer: "small-areas", text: "not imd_decile > 2 and not crime_decile < 3"},
	{layer: "small-areas", text: "imd_decile = 1 OR imd_decile = 10 AND crime_decile > 5",
		want: func(f fixture) bool {
			return num(f, "imd_decile") == 1 || num(f, "imd_decile") == 10 && num(f, "crime_decile") > 5
		}},
	{layer: "small-areas", text: "(imd_decile = 1 OR imd_decile = 10) AND crime_decile > 5",
		want: func(f fixture) bool {
			return (num(f, "imd_decile") == 1 || num(f, "imd_decile") == 10) && num(f, "crime_decile") > 5
		}},
	{layer: "small-areas", text: "imd_decile <= 2 AND (income_decile = 1 OR employment_decile = 1 OR education_decile = 1)"},
	// Advanced comparison: LIKE, BETWEEN, IN.
	{layer: "small-areas", text: "name LIKE 'Wigan 01%'", want: func(f fixture) bool { return strings.HasPrefix(str(f, "name"), "Wigan 01") }},
	{layer: "small-areas", text: "name NOT LIKE '%A'", want: func(f fixture) bool { return !strings.HasSuffix(str(f, "name"), "A") }},
	{layer: "small-areas", text: "name LIKE 'Wigan 0_5_'"},
	{layer: "small-areas", text: "imd_decile BETWEEN 3 AND 5", want: func(f fixture) bool { d := num(f, "imd_decile"); return d >= 3 && d <= 5 }},
	{layer: "small-areas", text: "imd_decile NOT BETWEEN 2 AND 9"},
	{layer: "small-areas", text: "imd_decile IN (1, 10)", want: func(f fixture) bool { d := num(f, "imd_decile"); return d == 1 || d == 10 }},
	{layer: "small-areas", text: "imd_decile NOT IN (1, 2, 3, 4, 5)"},
	{layer: "small-areas", text: "code IN ('E01006212', 'E01006213', 'E00000000')"},
	// Case- and accent-insensitive comparison.
	{layer: "small-areas", text: "CASEI(name) = CASEI('WIGAN 026A')", want: func(f fixture) bool { return str(f, "name") == "Wigan 026A" }},
	{layer: "small-areas", text: "CASEI(name) LIKE CASEI('wIGAN 01%')"},
	{layer: "small-areas", text: "ACCENTI(name) = ACCENTI('Wìgán 026A')", want: func(f fixture) bool { return str(f, "name") == "Wigan 026A" }},
	{layer: "small-areas", text: "CASEI(ACCENTI(name)) LIKE ACCENTI(CASEI('WÏGAN 02%'))"},
	// Null tests.
	{layer: "small-areas", text: "population IS NOT NULL", all: true},
	{layer: "small-areas", text: "population IS NULL", empty: true},
	{layer: "small-areas", text: "(imd_decile = 1) IS NULL", empty: true},
	// Arithmetic.
	{layer: "small-areas", text: "population * 2 > 4000", want: func(f fixture) bool { return num(f, "population")*2 > 4000 }},
	{layer: "small-areas", text: "population / 100 >= 18.5"},
	{layer: "small-areas", text: "population - 1500 < 0"},
	{layer: "small-areas", text: "population + 0.5 > 1800.25"},
	{layer: "small-areas", text: "population % 2 = 0"},
	{layer: "small-areas", text: "population div 1000 = 1"},
	{layer: "small-areas", text: "imd_decile ^ 2 <= 4"},
	{layer: "small-areas", text: "-imd_decile >= -2"},
	{layer: "small-areas", text: "imd_rank - income_decile * 1000 > 10000"},
	{layer: "small-areas", text: "population / 0 > 1", empty: true},
	{layer: "small-areas", text: "(imd_decile - 1) ^ -1 > 0.3"},
	// Spatial functions on polygons.
	{layer: "small-areas", text: "imd_decile <= 2 AND S_INTERSECTS(geometry, " + central + ")"},
	{layer: "small-areas", text: "S_INTERSECTS(geometry, " + insideOneLSOA + ")"},
	{layer: "small-areas", text: "S_INTERSECTS(geometry, " + centralBox + ")"},
	{layer: "small-areas", text: "S_DISJOINT(geometry, " + centralBox + ")"},
	{layer: "small-areas", text: "S_CONTAINS(geometry, " + insideOneLSOA + ")"},
	{layer: "small-areas", text: "S_WITHIN(geometry, " + westBox + ")"},
	{layer: "small-areas", text: "S_OVERLAPS(geometry, " + centralBox + ")"},
	{layer: "small-areas", text: "S_CROSSES(geometry, " + acrossLine + ")"},
	{layer: "small-areas", text: "S_CONTAINS(" + westBox + ", geometry)"},
	{layer: "small-areas", text: "S_INTERSECTS(geom, MULTIPOINT((-2.6317 53.5449), (-2.5011 53.4999)))"},
	// GP practices: points against every spatial function.
	{layer: "gp-practices", text: "list_size > 10000", want: func(f fixture) bool { return num(f, "list_size") > 10000 }},
	{layer: "gp-practices", text: "list_size BETWEEN 5000 AND 8000"},
	{layer: "gp-practices", text: "list_size IS NULL"},
	{layer: "gp-practices", text: "status = 'A'", all: true},
	{layer: "gp-practices", text: "name LIKE '%SURGERY%'"},
	{layer: "gp-practices", text: "CASEI(name) LIKE '%surgery%'"},
	{layer: "gp-practices", text: "postcode LIKE 'WN1 %' OR postcode LIKE 'WN2%'"},
	{layer: "gp-practices", text: "code IN ('P92001', 'P92002')", want: func(f fixture) bool { return f.key == "P92001" || f.key == "P92002" }},
	{layer: "gp-practices", text: "list_size / 1000 > 8 AND list_size IS NOT NULL"},
	{layer: "gp-practices", text: "S_INTERSECTS(geometry, " + centralBox + ")",
		want: func(f fixture) bool {
			return orb.Bound{Min: orb.Point{-2.6543, 53.5281}, Max: orb.Point{-2.6102, 53.5579}}.Contains(f.geom.(orb.Point))
		}},
	{layer: "gp-practices", text: "S_WITHIN(geometry, " + central + ")"},
	{layer: "gp-practices", text: "S_CONTAINS(" + central + ", geometry)"},
	{layer: "gp-practices", text: "S_DISJOINT(geometry, " + central + ")"},
	{layer: "gp-practices", text: "S_EQUALS(geometry, " + atP92001 + ")", want: atWN49AZ},
	{layer: "gp-practices", text: "S_CONTAINS(geometry, " + atP92001 + ")", want: atWN49AZ},
	{layer: "gp-practices", text: "S_TOUCHES(geometry, " + cornerOnP92001 + ")", want: atWN49AZ},
	{layer: "gp-practices", text: "S_INTERSECTS(geometry, LINESTRING(-2.7 53.4, -2.639264 53.48753, -2.574985 53.477412))"},
	{layer: "gp-practices", text: "S_TOUCHES(geometry, LINESTRING(-2.639264 53.48753, -2.574985 53.477412))"},
	{layer: "gp-practices", text: "S_WITHIN(geometry, MULTIPOINT((-2.639264 53.48753), (-2.574985 53.477412), (0 0)))"},
	{layer: "gp-practices", text: "S_OVERLAPS(geometry, " + central + ")", empty: true},
	{layer: "gp-practices", text: "S_CROSSES(geometry, " + central + ")", empty: true},
	{layer: "gp-practices", text: "S_INTERSECTS(geometry, GEOMETRYCOLLECTION(" + atP92001 + ", " + central + "))"},
	// filter-crs: British National Grid literals against geom_bng.
	{layer: "gp-practices", crs: geo.BNG, text: "S_INTERSECTS(geometry, BBOX(355123, 398321, 361629, 404647))",
		want: func(f fixture) bool {
			return f.east > 355123 && f.east < 361629 && f.north > 398321 && f.north < 404647
		}},
	{layer: "gp-practices", crs: geo.BNG, text: "S_DISJOINT(geometry, POLYGON((356111 401092, 361629 401092, 361629 408111, 356111 408111, 356111 401092)))",
		want: func(f fixture) bool {
			return !(f.east > 356111 && f.east < 361629 && f.north > 401092 && f.north < 408111)
		}},
	// Schools.
	{layer: "schools", text: "phase = 'Primary'", want: func(f fixture) bool { return str(f, "phase") == "Primary" }},
	{layer: "schools", text: "phase IN ('Secondary', 'Special')"},
	{layer: "schools", text: "kind LIKE 'Non State%'"},
	{layer: "schools", text: "pupils IS NULL", all: true},
	{layer: "schools", text: "pupils > 100", empty: true},
	{layer: "schools", text: "name LIKE '%St%' AND phase = 'Primary'"},
	{layer: "schools", text: "phase = 'Secondary' AND S_WITHIN(geometry, " + leighBox + ")"},
	{layer: "schools", text: "S_INTERSECTS(geometry, " + central + ")"},
	{layer: "schools", text: "S_DISJOINT(geometry, " + westBox + ")"},
	// Community assets (point sources only; see assetPointCategories).
	{layer: "community-assets", text: "category = 'library'", want: func(f fixture) bool { return str(f, "category") == "library" }},
	{layer: "community-assets", text: "name LIKE '%Library%'"},
	{layer: "community-assets", text: "CASEI(name) LIKE CASEI('%PHARMACY%')"},
	{layer: "community-assets", text: "postcode LIKE 'WN7%'"},
	{layer: "community-assets", text: "S_WITHIN(geometry, " + central + ")"},
	{layer: "community-assets", text: "S_INTERSECTS(geometry, " + leighBox + ")"},
	{layer: "community-assets", text: "category = 'pharmacy' AND S_DISJOINT(geometry, " + westBox + ")"},
	{layer: "community-assets", text: "S_CONTAINS(" + centralBox + ", geometry) OR category = 'park'"},
	// cql2-json written by hand, as a client would send it.
	{layer: "small-areas", json: `{"op": "and", "args": [
		{"op": "<=", "args": [{"property": "imd_decile"}, 2]},
		{"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Polygon", "coordinates": [[[-2.6612, 53.5307], [-2.6011, 53.5251], [-2.5893, 53.5603], [-2.6487, 53.5712], [-2.6612, 53.5307]]]}]}]}`},
	{layer: "small-areas", json: `{"op": "like", "args": [{"property": "name"}, "Wigan 01%"]}`},
	{layer: "small-areas", json: `{"op": "between", "args": [{"property": "imd_decile"}, 3, 5]}`},
	{layer: "small-areas", json: `{"op": "or", "args": [{"op": "=", "args": [{"property": "imd_decile"}, 1]}, {"op": "=", "args": [{"property": "crime_decile"}, 10]}, {"op": "=", "args": [{"property": "health_decile"}, 10]}]}`},
	{layer: "small-areas", json: `{"op": ">", "args": [{"op": "*", "args": [{"property": "population"}, 2]}, 4000]}`},
	{layer: "small-areas", json: `{"op": "=", "args": [{"op": "casei", "args": [{"property": "name"}]}, {"op": "casei", "args": ["wigan 026a"]}]}`},
	{layer: "small-areas", json: `{"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Point", "coordinates": [-2.6317, 53.5449]}]}`},
	{layer: "gp-practices", json: `{"op": "in", "args": [{"property": "code"}, ["P92001", "P92002"]]}`},
	{layer: "gp-practices", json: `{"op": "not", "args": [{"op": "isNull", "args": [{"property": "list_size"}]}]}`},
	{layer: "gp-practices", json: `{"op": "s_within", "args": [{"property": "geometry"}, {"bbox": [-2.6543, 53.5281, -2.6102, 53.5579]}]}`},
	{layer: "schools", json: `{"op": "isNull", "args": [{"property": "pupils"}]}`, all: true},
	{layer: "schools", json: `{"op": "s_intersects", "args": [{"bbox": [-2.5467, 53.4852, -2.4791, 53.5133]}, {"property": "geometry"}]}`},
	{layer: "community-assets", json: `{"op": "and", "args": [{"op": "=", "args": [{"property": "category"}, "food_bank"]}, {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [-2.7513, 53.4301, -2.4001, 53.6203]}]}]}`},
}

// atWN49AZ selects the two practices in one health centre.
func atWN49AZ(f fixture) bool { return f.key == "P92001" || f.key == "Y02378" }

// featureKey identifies a feature the way its fixture's key does.
func featureKey(t *testing.T, layer string, row []byte) string {
	t.Helper()
	f, err := geojson.UnmarshalFeature(row)
	if err != nil {
		t.Fatalf("decode feature: %v", err)
	}
	if layer == "community-assets" {
		return pointKey(f.Properties.MustString("name"), f.Geometry.(orb.Point))
	}
	return fmt.Sprint(f.ID)
}

func TestFilterSelectsWhatTheSourceFilesSay(t *testing.T) {
	s := open(t, dbtest.New(t, true))
	cat := catalogue(t, s)
	fixtures := map[string][]fixture{
		"small-areas": smallAreaFixtures(t), "gp-practices": gpFixtures(t),
		"schools": schoolFixtures(t), "community-assets": assetFixtures(t),
	}
	restrict, err := cql2.ParseText("category IN ('" + strings.Join(assetPointCategories, "', '") + "')")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(filterCases); n < 60 {
		t.Fatalf("only %d filter cases", n)
	}
	for i, c := range filterCases {
		t.Run(fmt.Sprintf("%03d_%s", i, c.layer), func(t *testing.T) {
			l, ok := cat.Layer(c.layer)
			if !ok {
				t.Fatalf("no layer %s", c.layer)
			}
			lang, src := cql2.LangText, c.text
			if c.json != "" {
				lang, src = cql2.LangJSON, c.json
			}
			e, err := cql2.Parse(lang, src)
			if err != nil {
				t.Fatalf("%s: %v", src, err)
			}
			if c.layer == "community-assets" {
				e = &cql2.Logical{Op: "and", Args: []cql2.Expr{e, restrict}}
			}
			want := expectedKeys(t, c, e, fixtures[c.layer])
			t.Logf("%s: %d of %d", src, len(want), len(fixtures[c.layer]))
			crs := c.crs
			if crs.URI == "" {
				crs = geo.CRS84
			}
			// The same filter in the other encoding, through the JSON the
			// tree encodes to.
			j, err := cql2.JSON(e)
			if err != nil {
				t.Fatal(err)
			}
			ej, err := cql2.ParseJSON(j)
			if err != nil {
				t.Fatalf("%s: %v", j, err)
			}
			for _, enc := range []struct {
				name string
				e    cql2.Expr
			}{{"text", e}, {"json", ej}} {
				got := selectWith(t, s, l, enc.e, crs)
				if !slices.Equal(got, want) {
					t.Errorf("%s\n(%s) selects %d features, want %d:\n got %v\nwant %v", src, enc.name, len(got), len(want), got, want)
				}
			}
		})
	}
}

// expectedKeys evaluates e over the fixtures, checks it against the case's
// hand-written predicate and its empty/all flags, and returns the sorted
// keys selected.
func expectedKeys(t *testing.T, c filterCase, e cql2.Expr, fs []fixture) []string {
	t.Helper()
	var keys []string
	for _, f := range fs {
		g := f.geom
		if c.crs.SRID == geo.BNG.SRID {
			g = f.bng
		}
		// "geom" is nbhd's alias of the geometry property.
		props := maps.Clone(f.props)
		props["geom"] = g
		ok, err := cql2.Eval(e, props, g)
		if err != nil {
			t.Fatalf("evaluate for %s: %v", f.key, err)
		}
		if c.crs.SRID == geo.BNG.SRID {
			// PostGIS projects the source's longitude and latitude, which
			// lands within metres of its own grid reference: no practice
			// may lie so near an edge that this could matter.
			p := g.(orb.Point)
			for _, d := range []orb.Point{{-50, 0}, {50, 0}, {0, -50}, {0, 50}} {
				props["geom"] = orb.Point{p[0] + d[0], p[1] + d[1]}
				if moved, err := cql2.Eval(e, props, props["geom"].(orb.Point)); err != nil || moved != ok {
					t.Fatalf("%s lies within 50 m of an edge of the filter's geometry (%v)", f.key, err)
				}
			}
		}
		if c.want != nil && c.want(f) != ok {
			t.Fatalf("for %s the evaluator says %v and the hand-written predicate %v", f.key, ok, c.want(f))
		}
		if ok {
			keys = append(keys, f.key)
		}
	}
	switch {
	case c.empty != (len(keys) == 0):
		t.Fatalf("selects %d of %d fixtures; empty = %v", len(keys), len(fs), c.empty)
	case c.all != (len(keys) == len(fs)) && (c.layer != "community-assets" || c.all):
		t.Fatalf("selects %d of %d fixtures; all = %v", len(keys), len(fs), c.all)
	}
	slices.Sort(keys)
	return keys
}

// selectWith compiles e for l and returns the sorted keys of the features
// Store.Features gives, checking that CountFeatures agrees.
func selectWith(t *testing.T, s *data.Store, l *data.Layer, e cql2.Expr, crs geo.CRS) []string {
	t.Helper()
	p, err := l.CompileFilter(e, crs)
	if err != nil {
		t.Fatalf("compile %s: %v", e, err)
	}
	ctx := context.Background()
	q := data.FeatureQuery{Where: p, CRS: geo.CRS84, Limit: 100_000}
	var keys []string
	err = s.Features(ctx, data.Public, l, q, data.GeoJSONRows, func(row [][]byte) error {
		keys = append(keys, featureKey(t, l.ID, row[0]))
		return nil
	})
	if err != nil {
		t.Fatalf("features: %v", err)
	}
	n, err := s.CountFeatures(ctx, data.Public, l, q)
	if err != nil {
		t.Fatalf("count: %v", err)
	}
	if n != int64(len(keys)) {
		t.Errorf("CountFeatures says %d, Features gave %d", n, len(keys))
	}
	slices.Sort(keys)
	return keys
}
