package api_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"nbhd/geo/cql2"
)

// An item is a feature as the API returned it, unfiltered: the expected
// result of a filter is computed from these in the test, with the Go
// evaluator cql2.Eval, never by PostGIS.
type item struct {
	id    string
	props map[string]any
	geom  orb.Geometry
}

// allItems fetches every feature of a collection without a filter, in
// CRS84 or in the CRS of a crs parameter given.
func (e *env) allItems(t *testing.T, collection string, crs ...string) []item {
	t.Helper()
	path := "/collections/" + collection + "/items?limit=10000"
	if len(crs) > 0 {
		path += "&crs=" + url.QueryEscape(crs[0])
	}
	resp, body := e.get(t, path)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", collection, resp.StatusCode, body)
	}
	fc, err := geojson.UnmarshalFeatureCollection(body)
	if err != nil {
		t.Fatal(err)
	}
	var out []item
	for _, f := range fc.Features {
		props := map[string]any{}
		for k, v := range f.Properties {
			// Dates are the only typed strings a filter compares.
			if s, ok := v.(string); ok && k == "list_size_date" {
				if d, err := time.Parse(time.DateOnly, s); err == nil {
					v = d
				}
			}
			props[k] = v
		}
		out = append(out, item{id: fmt.Sprint(f.ID), props: props, geom: f.Geometry})
	}
	if len(out) == 0 {
		t.Fatalf("%s has no features", collection)
	}
	return out
}

// expect evaluates a filter over items in Go.
func expect(t *testing.T, lang, filter string, items []item) []string {
	t.Helper()
	e, err := cql2.Parse(lang, filter)
	if err != nil {
		t.Fatalf("%s: %v", filter, err)
	}
	var ids []string
	for _, it := range items {
		ok, err := cql2.Eval(e, it.props, it.geom)
		if err != nil {
			t.Fatalf("%s on %s: %v", filter, it.id, err)
		}
		if ok {
			ids = append(ids, it.id)
		}
	}
	slices.Sort(ids)
	return ids
}

// filtered fetches every feature a filter selects, following rel=next
// links from small pages so that paging is tested with the filter; it
// checks that every page says the same numberMatched.
func (e *env) filtered(t *testing.T, collection string, q url.Values) []string {
	t.Helper()
	q.Set("limit", "7")
	next := e.url + "/collections/" + collection + "/items?" + q.Encode()
	var ids []string
	matched := -1
	for pages := 0; next != ""; pages++ {
		if pages > 100 {
			t.Fatalf("%s: more than 100 pages", next)
		}
		p := e.page(t, next)
		if matched >= 0 && p.NumberMatched != matched {
			t.Errorf("%s: numberMatched %d, first page said %d", next, p.NumberMatched, matched)
		}
		matched = p.NumberMatched
		for _, f := range p.Features {
			ids = append(ids, fmt.Sprint(f.ID))
		}
		next = linkHref(p, "next")
		if next != "" {
			u, err := url.Parse(next)
			if err != nil || u.Query().Get("filter") != q.Get("filter") || u.Query().Get("filter-lang") != q.Get("filter-lang") {
				t.Fatalf("next link %s drops the filter", next)
			}
		}
	}
	if matched != len(ids) {
		t.Errorf("%v: numberMatched %d, %d features returned", q, matched, len(ids))
	}
	slices.Sort(ids)
	return ids
}

// Literals over Wigan with four decimals, so that no vertex falls on a
// boundary of the data (cql2.Eval reports it if one does).
const (
	centralWigan = "POLYGON((-2.6612 53.5307, -2.6011 53.5251, -2.5893 53.5603, -2.6487 53.5712, -2.6612 53.5307))"
	leighBox     = "BBOX(-2.5467, 53.4852, -2.4791, 53.5133)"
	westBox      = "BBOX(-2.7513, 53.4301, -2.6321, 53.6203)"
)

// apiFilterCases are filters as clients send them over HTTP, in both
// encodings, across the collections.
var apiFilterCases = []struct {
	collection, lang, filter string
}{
	// The QGIS query builder's shape: a comparison and a drawn polygon.
	{"small-areas", "cql2-text", "imd_decile <= 2 AND S_INTERSECTS(geometry, " + centralWigan + ")"},
	{"small-areas", "cql2-json", `{"op": "and", "args": [{"op": "<=", "args": [{"property": "imd_decile"}, 2]},
		{"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Polygon", "coordinates": [[[-2.6612, 53.5307], [-2.6011, 53.5251], [-2.5893, 53.5603], [-2.6487, 53.5712], [-2.6612, 53.5307]]]}]}]}`},
	{"small-areas", "", "imd_decile = 1"},
	{"small-areas", "", "imd_rank BETWEEN 5000 AND 15000 OR health_decile IN (1, 2)"},
	{"small-areas", "", "NOT (income_decile < imd_decile) AND population > 1600"},
	{"small-areas", "", "name LIKE 'Wigan 02%'"},
	{"small-areas", "", "S_WITHIN(geometry, " + westBox + ")"},
	{"small-areas", "", "population / 1000 > 1.7"},
	{"small-areas", "cql2-json", `{"op": "in", "args": [{"property": "imd_decile"}, [1, 3, 5]]}`},
	{"community-assets", "", "category IN ('library', 'food_bank')"},
	{"community-assets", "", "CASEI(name) LIKE CASEI('%library%')"},
	{"community-assets", "", "S_INTERSECTS(geometry, " + leighBox + ") AND category <> 'place_of_worship'"},
	{"community-assets", "cql2-json", `{"op": "like", "args": [{"property": "postcode"}, "WN7%"]}`},
	{"gp-practices", "", "list_size > 8000"},
	{"gp-practices", "", "list_size IS NULL OR list_size < 5000"},
	{"gp-practices", "cql2-json", `{"op": "s_within", "args": [{"property": "geometry"}, {"bbox": [-2.7513, 53.4301, -2.6321, 53.6203]}]}`},
	{"schools", "", "phase = 'Secondary' AND NOT S_INTERSECTS(geometry, " + centralWigan + ")"},
	{"schools", "cql2-json", `{"op": "in", "args": [{"property": "phase"}, ["Secondary", "Special"]]}`},
	{"neighbourhoods-ward", "", "S_INTERSECTS(geometry, POINT(-2.6317 53.5449)) OR deprived_20pct_share >= 50"},
	{"neighbourhoods-ward", "", "chaotic_per_1000 > 20 OR worst_domain = 'Crime'"},
}

func TestItemsFilterSelectsWhatAClientSideFilterSelects(t *testing.T) {
	e := newEnv(t)
	items := map[string][]item{}
	for _, c := range apiFilterCases {
		if items[c.collection] == nil {
			items[c.collection] = e.allItems(t, c.collection)
		}
		lang := c.lang
		if lang == "" {
			lang = cql2.LangText
		}
		want := expect(t, lang, c.filter, items[c.collection])
		if len(want) == 0 || len(want) == len(items[c.collection]) {
			t.Errorf("%s %s: selects %d of %d features, so it cannot tell right from wrong", c.collection, c.filter, len(want), len(items[c.collection]))
		}
		q := url.Values{"filter": {c.filter}}
		if c.lang != "" {
			q.Set("filter-lang", c.lang)
		}
		got := e.filtered(t, c.collection, q)
		if !slices.Equal(got, want) {
			t.Errorf("%s %s:\n got %v\nwant %v", c.collection, c.filter, got, want)
		}
		// The same features as CSV (ids in the first column) and HTML.
		q.Set("f", "csv")
		q.Set("limit", "10000")
		resp, body := e.get(t, "/collections/"+c.collection+"/items?"+q.Encode())
		recs, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
		if resp.StatusCode != 200 || err != nil || len(recs) != len(want)+1 {
			t.Errorf("%s %s as CSV: %d, %v, %d rows for %d features", c.collection, c.filter, resp.StatusCode, err, len(recs)-1, len(want))
		}
		q.Set("f", "html")
		resp, body = e.get(t, "/collections/"+c.collection+"/items?"+q.Encode())
		if resp.StatusCode != 200 || strings.Count(string(body), `<tr><td><a href=`) != len(want) ||
			!strings.Contains(string(body), fmt.Sprintf("of %d matching the filter", len(want))) {
			t.Errorf("%s %s as HTML: %d, %d rows for %d features", c.collection, c.filter, resp.StatusCode,
				strings.Count(string(body), `<tr><td><a href=`), len(want))
		}
	}
}

// Spellings of one filter select the same features, and the equality
// parameters combine with a filter.
func TestFilterSpellingsAndEqualityParameters(t *testing.T) {
	e := newEnv(t)
	items := e.allItems(t, "small-areas")
	want := expect(t, cql2.LangText, "imd_decile = 1 AND health_decile = 1", items)
	for _, q := range []url.Values{
		{"filter": {"imd_decile = 1 AND health_decile = 1"}},
		{"filter": {"(imd_decile=1)and(health_decile=1)"}, "filter-lang": {"cql2-text"}},
		{"filter": {"health_decile = 1"}, "imd_decile": {"1"}},
		{"filter": {`{"op":"=","args":[{"property":"health_decile"},1]}`}, "filter-lang": {"cql2-json"}, "imd_decile": {"1"}},
		{"filter": {"1 = imd_decile AND 1 = health_decile"}, "filter-crs": {"http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
	} {
		if got := e.filtered(t, "small-areas", q); !slices.Equal(got, want) {
			t.Errorf("%v: %v, want %v", q, got, want)
		}
	}
	// British National Grid literals with filter-crs, against the features
	// in British National Grid.
	bngItems := e.allItems(t, "small-areas", bngURI)
	for _, f := range []string{"S_INTERSECTS(geometry, BBOX(363000, 399000, 367500, 402000))",
		"imd_decile <= 3 AND S_INTERSECTS(geometry, POLYGON((354100 402100, 359900 401700, 360800 405900, 355300 406900, 354100 402100)))"} {
		want := expect(t, cql2.LangText, f, bngItems)
		got := e.filtered(t, "small-areas", url.Values{"filter": {f}, "filter-crs": {bngURI}})
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("%s in British National Grid: %v, want %v", f, got, want)
		}
	}
}

const bngURI = "http://www.opengis.net/def/crs/EPSG/0/27700"

var columnIn = regexp.MustCompile(`column \d+`)

func TestBadFiltersAre400sThatSayWhere(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		query url.Values
		want  []string // in the description
	}{
		{url.Values{"filter": {"imd_decile <= 2 AND ("}}, []string{"filter:", "column 22"}},
		{url.Values{"filter": {"imd_decle = 1"}}, []string{"unknown property", "imd_decle", "column 1", "imd_decile"}},
		{url.Values{"filter": {"imd_decile = 'two'"}}, []string{"cannot compare", "column 12"}},
		{url.Values{"filter": {"S_INTERSECTS(geometry, POINT(358000 405000))"}}, []string{"not a longitude and latitude", "filter-crs="}},
		{url.Values{"filter": {"population_period = 'x'"}}, []string{"cannot be used in a filter"}},
		{url.Values{"filter": {"name = 'x' ) OR (1=1"}}, []string{"column"}},
		{url.Values{"filter": {"'; DROP TABLE nbhd.small_areas; --"}}, []string{"column"}},
		{url.Values{"filter": {strings.Repeat("(", 200) + "imd_decile = 1" + strings.Repeat(")", 200)}}, []string{"nested too deeply"}},
		{url.Values{"filter": {strings.Repeat("imd_decile = 1 OR ", 6000) + "TRUE"}}, []string{"too"}},
		{url.Values{"filter": {`{"op": "=", "args": [{"property": "imd_decile"}]`}, "filter-lang": {"cql2-json"}}, []string{"filter:", "column"}},
		{url.Values{"filter": {"imd_decile = 1"}, "filter-lang": {"cql2-json"}}, []string{"filter:"}},
		{url.Values{"filter": {"imd_decile = 1"}, "filter-lang": {"ecql"}}, []string{"filter-lang must be cql2-text or cql2-json"}},
		{url.Values{"filter": {"imd_decile = 1"}, "filter-crs": {"EPSG:3857"}}, []string{"filter-crs"}},
		{url.Values{"filter-lang": {"cql2-text"}}, []string{"filter-lang is given without filter"}},
		{url.Values{"filter-crs": {"http://www.opengis.net/def/crs/EPSG/0/27700"}}, []string{"filter-crs is given without filter"}},
		{url.Values{"filter": {"  "}}, []string{"filter is empty"}},
	}
	for _, c := range cases {
		for _, path := range []string{"/collections/small-areas/items?", "/tiles/small-areas/12/2018/1323.mvt?",
			"/collections/small-areas/tiles/WebMercatorQuad/12/1323/2018?"} {
			resp, body := e.get(t, path+c.query.Encode())
			var eb errorBody
			if err := json.Unmarshal(body, &eb); err != nil || resp.StatusCode != http.StatusBadRequest || eb.Code != "InvalidParameterValue" {
				t.Errorf("%s%v: %d %s", path, c.query, resp.StatusCode, body)
				continue
			}
			for _, w := range c.want {
				if !strings.Contains(eb.Description, w) {
					t.Errorf("%s%v: description %q lacks %q", path, c.query, eb.Description, w)
				}
			}
			if internalText.MatchString(eb.Description) {
				t.Errorf("%s%v: description leaks internals: %s", path, c.query, eb.Description)
			}
		}
	}
	// A filter that parses but has no position-free meaning still names
	// where: every error description above that is the parser's carries a
	// column.
	_, body := e.get(t, "/collections/schools/items?filter="+url.QueryEscape("phase = = 'x'"))
	if !columnIn.Match(body) {
		t.Errorf("no column in %s", body)
	}
}

func TestConformanceAndQueryablesDeclareFiltering(t *testing.T) {
	e := newEnv(t)
	var conf struct{ ConformsTo []string }
	_, body := e.get(t, "/conformance")
	if err := json.Unmarshal(body, &conf); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{
		"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
		"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
		"http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
		"http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
		"http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
		"http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
		"http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
		"http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
		"http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
	} {
		if !slices.Contains(conf.ConformsTo, c) {
			t.Errorf("conformance lacks %s", c)
		}
	}
	for id, format := range map[string]string{"small-areas": "geometry-multipolygon", "schools": "geometry-point"} {
		var q struct {
			Description string
			Properties  map[string]map[string]any
		}
		_, body := e.get(t, "/collections/"+id+"/queryables")
		if err := json.Unmarshal(body, &q); err != nil {
			t.Fatal(err)
		}
		g := q.Properties["geometry"]
		if g["format"] != format || g["x-ogc-role"] != "primary-geometry" || !strings.Contains(q.Description, "filter=") {
			t.Errorf("%s queryables: geometry %v, description %q", id, g, q.Description)
		}
		_, html := e.get(t, "/collections/"+id+"/queryables?f=html")
		if strings.Contains(string(html), "(equality)") || !strings.Contains(string(html), "CQL2") || !strings.Contains(string(html), format) {
			t.Errorf("%s queryables page does not describe CQL2 filters", id)
		}
	}
}
