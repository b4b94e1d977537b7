package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"nbhd/api"
	"nbhd/geo/cql2"
	"nbhd/tiles"
)

// layerOf decodes a tile and returns its one MVT layer.
func (e *tileEnv) layerOf(t *testing.T, path string) *mvt.Layer {
	t.Helper()
	ls, err := mvt.Unmarshal(e.tileMVT(t, path))
	if err != nil || len(ls) != 1 {
		t.Fatalf("%s: %d layers, %v", path, len(ls), err)
	}
	return ls[0]
}

// TestFilteredTilesHoldExactlyTheMatchingFeatures compares a filtered tile
// with the same tile unfiltered: its features are those of the unfiltered
// tile that a client-side evaluation of the filter selects, no more, no
// fewer, on both tile paths.
func TestFilteredTilesHoldExactlyTheMatchingFeatures(t *testing.T) {
	e := newTileEnv(t, api.Config{})
	cases := []struct {
		collection, lang, filter string
		z, x, y                  uint32
	}{
		{"small-areas", "", "imd_decile <= 2", 12, 2018, 1323},
		{"small-areas", "", "imd_decile <= 2 AND S_INTERSECTS(geometry, " + centralWigan + ")", 12, 2018, 1323},
		{"small-areas", "cql2-json", `{"op": "or", "args": [{"op": "<", "args": [{"property": "population"}, 1500]}, {"op": "like", "args": [{"property": "name"}, "Wigan 01%"]}]}`, 13, 4036, 2646},
		{"community-assets", "", "category IN ('library', 'pharmacy', 'post_office')", 14, 8074, 5296},
		{"community-assets", "", "NOT S_INTERSECTS(geometry, BBOX(-2.5890, 53.5310, -2.5790, 53.5370))", 14, 8074, 5296},
		{"neighbourhoods-ward", "", "chaotic_per_1000 > 30", 11, 1009, 661},
		{"schools", "cql2-json", `{"op": "=", "args": [{"property": "phase"}, "Primary"]}`, 13, 4037, 2648},
	}
	items := map[string][]item{}
	for _, c := range cases {
		if items[c.collection] == nil {
			items[c.collection] = e.allItems(t, c.collection)
		}
		lang := c.lang
		if lang == "" {
			lang = cql2.LangText
		}
		want := expect(t, lang, c.filter, items[c.collection])
		legacy := fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", c.collection, c.z, c.x, c.y)
		ogc := fmt.Sprintf("/collections/%s/tiles/WebMercatorQuad/%d/%d/%d", c.collection, c.z, c.y, c.x)
		q := url.Values{"filter": {c.filter}}
		if c.lang != "" {
			q.Set("filter-lang", c.lang)
		}
		all := e.layerOf(t, legacy)
		var wantIDs, allIDs []string
		for _, f := range all.Features {
			id := fmt.Sprint(f.Properties["id"])
			allIDs = append(allIDs, id)
			if _, found := slices.BinarySearch(want, id); found {
				wantIDs = append(wantIDs, id)
			}
		}
		if len(wantIDs) == 0 || len(wantIDs) == len(allIDs) {
			t.Errorf("%s %s: %d of the tile's %d features match, so the tile cannot tell right from wrong", c.collection, c.filter, len(wantIDs), len(allIDs))
		}
		slices.Sort(wantIDs)
		var body []byte
		for i, path := range []string{legacy + "?" + q.Encode(), ogc + "?" + q.Encode()} {
			raw := e.tileMVT(t, path)
			if i == 1 && !bytes.Equal(raw, body) {
				t.Errorf("%s: the OGC path's filtered tile differs from the XYZ path's", path)
			}
			body = raw
			ls, err := mvt.Unmarshal(raw)
			if err != nil || len(ls) != 1 {
				t.Fatalf("%s: %v", path, err)
			}
			var got []string
			for _, f := range ls[0].Features {
				got = append(got, fmt.Sprint(f.Properties["id"]))
			}
			slices.Sort(got)
			if !slices.Equal(got, wantIDs) {
				t.Errorf("%s:\n got %v\nwant %v", path, got, wantIDs)
			}
		}
	}
}

// Below zoom 13 points are clustered: with a filter, clusters are made of
// the matching points only.
func TestFilteredClustersCountOnlyMatchingPoints(t *testing.T) {
	e := newTileEnv(t, api.Config{})
	const path = "/tiles/community-assets/10/504/330.mvt"
	unfiltered := e.layerOf(t, path)
	l := e.layerOf(t, path+"?filter="+url.QueryEscape("category = 'library'"))
	points, clusters := 0, 0
	for _, f := range l.Features {
		if f.Properties["cluster"] == true {
			clusters++
			points += int(f.Properties["point_count"].(float64))
			continue
		}
		points++
		if f.Properties["category"] != "library" {
			t.Errorf("a lone point of category %v in the filtered tile", f.Properties["category"])
		}
	}
	libraries := len(expect(t, cql2.LangText, "category = 'library'", e.allItems(t, "community-assets")))
	total := 0
	for _, f := range unfiltered.Features {
		if n, ok := f.Properties["point_count"].(float64); ok {
			total += int(n)
		} else {
			total++
		}
	}
	if points == 0 || points > libraries || total <= points {
		t.Errorf("filtered tile stands for %d points (%d clusters); %d libraries in all; the unfiltered tile for %d", points, clusters, libraries, total)
	}
}

func TestFilteredTileCacheKeyAndETag(t *testing.T) {
	e := newTileEnv(t, api.Config{})
	const path = "/tiles/small-areas/12/2018/1323.mvt"
	plain, _ := e.get(t, path, "Accept-Encoding", "gzip")
	renders := e.metric(t, "nbhd_tile_renders_total")
	var etag string
	for i, q := range []string{
		"filter=" + url.QueryEscape("imd_decile <= 2"),
		"filter=" + url.QueryEscape("(imd_decile<=2)") + "&filter-lang=cql2-text",
		"filter-lang=cql2-json&filter=" + url.QueryEscape(`{"op":"<=","args":[{"property":"imd_decile"},2]}`),
	} {
		resp, _ := e.get(t, path+"?"+q, "Accept-Encoding", "gzip")
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", q, resp.StatusCode)
		}
		if i == 0 {
			etag = resp.Header.Get("ETag")
		} else if resp.Header.Get("ETag") != etag {
			t.Errorf("%s: ETag %s, the same filter spelt otherwise has %s", q, resp.Header.Get("ETag"), etag)
		}
		// The OGC path shares the entry.
		resp, _ = e.get(t, "/collections/small-areas/tiles/WebMercatorQuad/12/1323/2018?"+q, "Accept-Encoding", "gzip")
		if resp.Header.Get("ETag") != etag {
			t.Errorf("OGC path %s: ETag %s, want %s", q, resp.Header.Get("ETag"), etag)
		}
	}
	if got := e.metric(t, "nbhd_tile_renders_total"); got != renders+1 {
		t.Errorf("%v renders for three spellings of one filter on two paths, want 1", got-renders)
	}
	if etag == plain.Header.Get("ETag") || etag == "" {
		t.Errorf("filtered tile's ETag %s equals the unfiltered tile's", etag)
	}
	resp, body := e.get(t, path+"?filter="+url.QueryEscape("imd_decile <= 2"), "Accept-Encoding", "gzip", "If-None-Match", etag)
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("If-None-Match on a filtered tile: %d", resp.StatusCode)
	}
	resp, _ = e.get(t, path+"?filter="+url.QueryEscape("imd_decile <= 3"), "Accept-Encoding", "gzip")
	if resp.Header.Get("ETag") == etag || e.metric(t, "nbhd_tile_renders_total") != renders+2 {
		t.Errorf("another filter shares the tile: ETag %s", resp.Header.Get("ETag"))
	}
}

func TestCompositeTilesRefuseAFilter(t *testing.T) {
	e := newTileEnv(t, api.Config{})
	for _, path := range []string{"/tiles/all/12/2018/1323.mvt", "/tiles/WebMercatorQuad/12/1323/2018"} {
		for _, p := range []string{"filter=" + url.QueryEscape("imd_decile <= 2"), "filter-lang=cql2-text", "filter-crs=" + url.QueryEscape(bngURI)} {
			resp, body := e.get(t, path+"?"+p)
			var eb errorBody
			if resp.StatusCode != 400 || json.Unmarshal(body, &eb) != nil || !strings.Contains(eb.Description, "one collection's queryables") {
				t.Errorf("%s?%s: %d %s", path, p, resp.StatusCode, body)
			}
		}
	}
}

// The OGC API – Tiles paths serve the very bytes of the XYZ paths, from
// the same cache, with row and column in OGC's order.
func TestOGCTilesAreTheXYZTiles(t *testing.T) {
	e := newTileEnv(t, api.Config{})
	for _, c := range []struct {
		set     string
		z, x, y uint32
	}{
		{"all", 14, 8074, 5296}, {"all", 12, 2018, 1323}, {"all", 8, 126, 82}, {"small-areas", 12, 2018, 1323},
		{"community-assets", 10, 504, 330}, {"neighbourhoods-msoa", 13, 4036, 2646}, {"schools", 12, 2018, 1324},
	} {
		xyz := fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", c.set, c.z, c.x, c.y)
		ogc := fmt.Sprintf("/collections/%s/tiles/WebMercatorQuad/%d/%d/%d", c.set, c.z, c.y, c.x)
		if c.set == "all" {
			ogc = fmt.Sprintf("/tiles/WebMercatorQuad/%d/%d/%d", c.z, c.y, c.x)
		}
		for _, ae := range []string{"gzip", ""} {
			want, wantBody := e.get(t, xyz, "Accept-Encoding", ae)
			renders := e.metric(t, "nbhd_tile_renders_total")
			for _, v := range []struct{ path, accept string }{
				{ogc, ""}, {ogc + ".mvt", ""}, {ogc + "?f=mvt", "text/html"}, {ogc, "application/vnd.mapbox-vector-tile"},
				{ogc, "text/html,application/xhtml+xml,*/*;q=0.8"},
			} {
				got, body := e.get(t, v.path, "Accept-Encoding", ae, "Accept", v.accept)
				if got.StatusCode != want.StatusCode || !bytes.Equal(body, wantBody) || got.Header.Get("ETag") != want.Header.Get("ETag") ||
					got.Header.Get("Content-Type") != want.Header.Get("Content-Type") {
					t.Errorf("%s (Accept %q, Accept-Encoding %q): %d, %d bytes, ETag %s; XYZ path: %d, %d bytes, ETag %s",
						v.path, v.accept, ae, got.StatusCode, len(body), got.Header.Get("ETag"), want.StatusCode, len(wantBody), want.Header.Get("ETag"))
				}
			}
			if r := e.metric(t, "nbhd_tile_renders_total"); r != renders {
				t.Errorf("%s rendered again (%v renders): it does not share the XYZ path's cache", ogc, r-renders)
			}
		}
	}
}

// A dataset tile with collections (collections-selection) is the
// composite of those collections: the bytes and cache of /tiles/{ids}/...
// Parameters that name no collection, or one twice, are 400s, and a
// collection's own tiles take no collections.
func TestOGCDatasetTilesSelectCollections(t *testing.T) {
	e := newTileEnv(t, api.Config{})
	want, wantBody := e.get(t, "/tiles/small-areas,schools/12/2018/1323.mvt", "Accept-Encoding", "gzip")
	if want.StatusCode != 200 {
		t.Fatalf("composite: %d", want.StatusCode)
	}
	renders := e.metric(t, "nbhd_tile_renders_total")
	for _, q := range []string{"schools,small-areas", "small-areas,schools", "small-areas%2Cschools"} {
		got, body := e.get(t, "/tiles/WebMercatorQuad/12/1323/2018?collections="+q, "Accept-Encoding", "gzip")
		if got.StatusCode != 200 || !bytes.Equal(body, wantBody) || got.Header.Get("ETag") != want.Header.Get("ETag") {
			t.Errorf("collections=%s: %d, %d bytes, ETag %s; want the composite's %d bytes, ETag %s",
				q, got.StatusCode, len(body), got.Header.Get("ETag"), len(wantBody), want.Header.Get("ETag"))
		}
	}
	if r := e.metric(t, "nbhd_tile_renders_total"); r != renders {
		t.Errorf("selected collections rendered again (%v renders): not the composite's cache", r-renders)
	}
	layers, err := mvt.Unmarshal(e.tileMVT(t, "/tiles/WebMercatorQuad/12/1323/2018?collections=schools"))
	if err != nil || len(layers) != 1 || layers[0].Name != "schools" {
		t.Errorf("collections=schools: layers %v (%v)", layers, err)
	}
	for path, status := range map[string]int{
		"/tiles/WebMercatorQuad/12/1323/2018?collections=":                            400,
		"/tiles/WebMercatorQuad/12/1323/2018?collections=all":                         400,
		"/tiles/WebMercatorQuad/12/1323/2018?collections=nope":                        400,
		"/tiles/WebMercatorQuad/12/1323/2018?collections=schools,schools":             400,
		"/tiles/WebMercatorQuad/12/1323/2018?collections=schools,":                    400,
		"/collections/schools/tiles/WebMercatorQuad/12/1323/2018?collections=schools": 400,
	} {
		resp, body := e.get(t, path)
		var eb errorBody
		if resp.StatusCode != status || json.Unmarshal(body, &eb) != nil || eb.Description == "" {
			t.Errorf("%s: %d %s, want %d", path, resp.StatusCode, body, status)
		}
	}
}

func TestOGCTileAddresses(t *testing.T) {
	e := newTileEnv(t, api.Config{})
	cases := []struct {
		path   string
		status int
		accept string
	}{
		{"/collections/small-areas/tiles/WebMercatorQuad/12/1323/2018", 200, ""},
		{"/collections/small-areas/tiles/WebMercatorQuad/0/0/0", 204, ""}, // in the limits; no area is a unit wide
		{"/tiles/WebMercatorQuad/0/0/0", 200, ""},
		{"/tiles/WebMercatorQuad/12/1323/2018", 200, ""},
		{"/collections/small-areas/tiles/WebMercatorQuad/12/1323/2018?f=json", 406, ""},
		{"/collections/small-areas/tiles/WebMercatorQuad/12/1323/2018", 406, "text/html"},
		{"/collections/small-areas/tiles/WebMercatorQuad/12/1323/2018?z=1", 400, ""},
		{"/collections/small-areas/tiles/WebMercatorQuad/12/x/2018", 400, ""},
		{"/collections/small-areas/tiles/WebMercatorQuad/-1/0/0", 400, ""},
		{"/collections/small-areas/tiles/WebMercatorQuad/12/1323/2018.png", 400, ""},
		{"/collections/small-areas/tiles/WebMercatorQuad/25/0/0", 404, ""}, // no such tile matrix
		{"/collections/small-areas/tiles/WebMercatorQuad/3/8/0", 404, ""},  // row past the matrix
		{"/collections/small-areas/tiles/WebMercatorQuad/3/0/8", 404, ""},  // column past the matrix
		{"/collections/small-areas/tiles/WebMercatorQuad/12/0/0", 404, ""}, // outside the limits: no data
		{"/collections/small-areas/tiles/WebMercatorQuad/15/0/0", 404, ""}, // past the limits' matrices
		{"/tiles/WebMercatorQuad/16/42330/32297", 404, ""},                 // z16 over Wigan: past 14
		{"/collections/small-areas/tiles/WorldCRS84Quad/12/1323/2018", 404, ""},
		{"/collections/small-areas/tiles/WorldCRS84Quad", 404, ""},
		{"/collections/nope/tiles/WebMercatorQuad/12/1323/2018", 404, ""},
		{"/collections/nope/tiles", 404, ""},
		{"/collections/all/tiles", 404, ""},
		{"/collections/all/tiles/WebMercatorQuad/12/1323/2018", 404, ""},
		{"/tileMatrixSets/WorldCRS84Quad", 404, ""},
		{"/tiles?limit=1", 400, ""},
		{"/tiles/WebMercatorQuad?f=xml", 406, ""},
	}
	for _, c := range cases {
		resp, body := e.get(t, c.path, "Accept", c.accept)
		if resp.StatusCode != c.status {
			t.Errorf("%s (Accept %q): %d, want %d: %s", c.path, c.accept, resp.StatusCode, c.status, body)
			continue
		}
		if c.status >= 400 {
			var eb errorBody
			if json.Unmarshal(body, &eb) != nil || eb.Code == "" || eb.Description == "" {
				t.Errorf("%s: error body %s", c.path, body)
			}
		}
	}
}

// TestTileMatrixSetIsTheRegisteredDefinition checks /tileMatrixSets
// against figures copied from the OGC registry's WebMercatorQuad.json.
func TestTileMatrixSetIsTheRegisteredDefinition(t *testing.T) {
	e := newTileEnv(t, api.Config{})
	var list struct {
		TileMatrixSets []struct {
			ID, URI string
			Links   []struct{ Href, Rel, Type string }
		}
	}
	_, body := e.get(t, "/tileMatrixSets")
	if err := json.Unmarshal(body, &list); err != nil || len(list.TileMatrixSets) != 1 {
		t.Fatalf("%v %s", err, body)
	}
	ref := list.TileMatrixSets[0]
	if ref.ID != "WebMercatorQuad" || ref.URI != "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad" || len(ref.Links) == 0 ||
		ref.Links[0].Rel != "self" || !strings.HasSuffix(ref.Links[0].Href, "/tileMatrixSets/WebMercatorQuad") {
		t.Errorf("tile matrix set list: %+v", ref)
	}
	var tms struct {
		ID, URI, CRS, WellKnownScaleSet string
		OrderedAxes                     []string
		TileMatrices                    []struct {
			ID                                               string
			ScaleDenominator, CellSize                       float64
			CornerOfOrigin                                   string
			PointOfOrigin                                    []float64
			TileWidth, TileHeight, MatrixWidth, MatrixHeight int
		}
	}
	resp, body := e.get(t, strings.TrimPrefix(ref.Links[0].Href, e.url))
	if err := json.Unmarshal(body, &tms); err != nil || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%v %s", err, resp.Header.Get("Content-Type"))
	}
	if tms.ID != "WebMercatorQuad" || tms.CRS != "http://www.opengis.net/def/crs/EPSG/0/3857" ||
		tms.WellKnownScaleSet != "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible" ||
		!slices.Equal(tms.OrderedAxes, []string{"X", "Y"}) || len(tms.TileMatrices) != 25 {
		t.Fatalf("definition: %+v", tms)
	}
	registry := map[int][2]float64{ // scale denominator, cell size
		0: {559082264.028717, 156543.033928041}, 3: {69885283.0035897, 19567.8792410051},
		12: {136494.693366386, 38.2185141425881}, 14: {34123.6733415964, 9.55462853564703},
		24: {33.3238997476528, 0.0093306919293428},
	}
	close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Abs(b) }
	for z, m := range tms.TileMatrices {
		if m.ID != strconv.Itoa(z) || m.CornerOfOrigin != "topLeft" || m.TileWidth != 256 || m.TileHeight != 256 ||
			m.MatrixWidth != 1<<z || m.MatrixHeight != 1<<z || len(m.PointOfOrigin) != 2 ||
			!close(m.PointOfOrigin[0], -20037508.3427892) || !close(m.PointOfOrigin[1], 20037508.3427892) {
			t.Errorf("tile matrix %d: %+v", z, m)
		}
		if r, ok := registry[z]; ok && (!close(m.ScaleDenominator, r[0]) || !close(m.CellSize, r[1])) {
			t.Errorf("tile matrix %d: scale %v cell %v, the registry has %v", z, m.ScaleDenominator, m.CellSize, r)
		}
	}
}

type tilesetLink struct {
	Href, Rel, Type string
	Templated       bool
}

type tilesetDoc struct {
	Title, DataType, CRS, TileMatrixSetURI string
	TileMatrixSetLimits                    []struct {
		TileMatrix                                     string
		MinTileRow, MaxTileRow, MinTileCol, MaxTileCol uint32
	}
	Layers []struct {
		ID               string
		PropertiesSchema struct {
			Properties map[string]struct{ Type string }
		}
	}
	Links []tilesetLink
}

func linkOf(links []tilesetLink, rel, typ string) (tilesetLink, bool) {
	for _, l := range links {
		if l.Rel == rel && (typ == "" || l.Type == typ) {
			return l, true
		}
	}
	return tilesetLink{}, false
}

// TestTilesetsLeadFromTheLandingPageToTiles follows the links a client
// follows: landing page or collection, tilesets list, tileset metadata,
// tile matrix set and a tile from the template, for the dataset and every
// collection.
func TestTilesetsLeadFromTheLandingPageToTiles(t *testing.T) {
	e := newTileEnv(t, api.Config{})
	var doc struct{ Links []tilesetLink }
	get := func(href string, v any) {
		t.Helper()
		resp, body := e.get(t, strings.TrimPrefix(href, e.url))
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("%s: %d %s", href, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("%s: %v", href, err)
		}
	}
	get(e.url+"/", &doc)
	starts := map[string]string{} // tile set name: its tilesets list
	if l, ok := linkOf(doc.Links, "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", "application/json"); ok {
		starts["all"] = l.Href
	} else {
		t.Error("landing page has no tilesets-vector link")
	}
	if _, ok := linkOf(doc.Links, "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes", "application/json"); !ok {
		t.Error("landing page has no tiling-schemes link")
	}
	for _, id := range collectionIDs {
		get(e.url+"/collections/"+id, &doc)
		if l, ok := linkOf(doc.Links, "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", "application/json"); ok {
			starts[id] = l.Href
		} else {
			t.Errorf("collection %s has no tilesets-vector link", id)
		}
	}
	var tj tiles.TileJSON
	_, tjBody := e.get(t, "/tiles/all.json")
	if err := json.Unmarshal(tjBody, &tj); err != nil {
		t.Fatal(err)
	}
	fields := map[string]map[string]string{}
	for _, vl := range tj.VectorLayers {
		fields[vl.ID] = vl.Fields
	}
	for name, href := range starts {
		var list struct {
			Tilesets []struct {
				DataType, TileMatrixSetURI string
				Links                      []tilesetLink
			}
		}
		get(href, &list)
		if len(list.Tilesets) != 1 || list.Tilesets[0].DataType != "vector" || list.Tilesets[0].TileMatrixSetURI != tiles.WebMercatorQuadURI {
			t.Fatalf("%s: %+v", href, list)
		}
		self, ok := linkOf(list.Tilesets[0].Links, "self", "application/json")
		if !ok {
			t.Fatalf("%s: no self link to the tileset", href)
		}
		var ts tilesetDoc
		get(self.Href, &ts)
		if ts.DataType != "vector" || ts.CRS != tiles.WebMercatorCRS || ts.TileMatrixSetURI != tiles.WebMercatorQuadURI || len(ts.TileMatrixSetLimits) != 15 {
			t.Errorf("%s: %+v", self.Href, ts)
		}
		scheme, ok := linkOf(ts.Links, "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", "application/json")
		var def struct{ ID string }
		if get(scheme.Href, &def); !ok || def.ID != tiles.WebMercatorQuadID {
			t.Errorf("%s: tiling-scheme link %+v", self.Href, scheme)
		}
		item, ok := linkOf(ts.Links, "item", "application/vnd.mapbox-vector-tile")
		if !ok || !item.Templated || !strings.HasSuffix(item.Href, "/{tileMatrix}/{tileRow}/{tileCol}") {
			t.Fatalf("%s: item link %+v", self.Href, item)
		}
		if _, ok := linkOf(ts.Links, "alternate", "application/json"); !ok {
			t.Errorf("%s: no link to the TileJSON", self.Href)
		}
		// Every layer's properties are those TileJSON lists.
		if (name == "all" && len(ts.Layers) != len(collectionIDs)) || (name != "all" && (len(ts.Layers) != 1 || ts.Layers[0].ID != name)) {
			t.Errorf("%s: layers %+v", self.Href, ts.Layers)
		}
		for _, l := range ts.Layers {
			var got, want []string
			for p := range l.PropertiesSchema.Properties {
				got = append(got, p)
			}
			for p := range fields[l.ID] {
				want = append(want, p)
			}
			slices.Sort(got)
			slices.Sort(want)
			if len(got) == 0 || !slices.Equal(got, want) {
				t.Errorf("%s layer %s: properties %v, TileJSON fields %v", self.Href, l.ID, got, want)
			}
		}
		// The limits hold every feature, and a tile from the template
		// inside them is served.
		layers := []string{name}
		if name == "all" {
			layers = collectionIDs
		}
		for _, id := range layers {
			for _, it := range e.allItems(t, id) {
				for _, lim := range ts.TileMatrixSetLimits {
					z, _ := strconv.Atoi(lim.TileMatrix)
					for _, p := range vertices(it.geom) {
						tile := maptile.At(p, maptile.Zoom(z))
						if tile.X < lim.MinTileCol || tile.X > lim.MaxTileCol || tile.Y < lim.MinTileRow || tile.Y > lim.MaxTileRow {
							t.Fatalf("%s: %s %s at %v is in tile %d/%d/%d, outside the limits %+v", self.Href, id, it.id, p, z, tile.Y, tile.X, lim)
						}
					}
				}
			}
		}
		lim := ts.TileMatrixSetLimits[12]
		u := strings.NewReplacer("{tileMatrix}", "12", "{tileRow}", strconv.Itoa(int(lim.MinTileRow+lim.MaxTileRow)/2),
			"{tileCol}", strconv.Itoa(int(lim.MinTileCol+lim.MaxTileCol)/2)).Replace(item.Href)
		if resp, _ := e.get(t, strings.TrimPrefix(u, e.url)); resp.StatusCode != 200 && resp.StatusCode != 204 {
			t.Errorf("%s from the template: %d", u, resp.StatusCode)
		}
		// The HTML pages.
		for _, h := range []string{href, self.Href, scheme.Href} {
			resp, body := e.get(t, strings.TrimPrefix(h, e.url)+"?f=html")
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !bytes.Contains(body, []byte("</html>")) {
				t.Errorf("%s as HTML: %d %s", h, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
		}
	}
}

func TestConformanceAndOpenAPIDeclareTiles(t *testing.T) {
	e := newTileEnv(t, api.Config{})
	var conf struct{ ConformsTo []string }
	_, body := e.get(t, "/conformance")
	if err := json.Unmarshal(body, &conf); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"core", "tileset", "tilesets-list", "geodata-tilesets", "dataset-tilesets", "collections-selection", "mvt", "oas30"} {
		if !slices.Contains(conf.ConformsTo, "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/"+c) {
			t.Errorf("conformance lacks OGC API – Tiles %s", c)
		}
	}
	if !slices.Contains(conf.ConformsTo, "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset") {
		t.Error("conformance lacks TMS tilematrixset")
	}
	_, body = e.get(t, "/api")
	doc, err := openapi3.NewLoader().LoadFromData(body)
	if err != nil {
		t.Fatal(err)
	}
	params := func(path string) []string {
		t.Helper()
		op := doc.Paths.Find(path)
		if op == nil || op.Get == nil {
			t.Fatalf("no %s in the OpenAPI document", path)
		}
		var names []string
		for _, p := range op.Get.Parameters {
			names = append(names, p.Value.Name)
		}
		return names
	}
	for _, p := range []string{"/tileMatrixSets", "/tileMatrixSets/{tileMatrixSetId}", "/tiles", "/tiles/{tileMatrixSetId}", "/tiles/{tileSet}.json"} {
		params(p)
	}
	for _, n := range []string{"tileMatrixSetId", "tileMatrix", "tileRow", "tileCol"} {
		if !slices.Contains(params("/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"), n) {
			t.Errorf("dataset tiles lack %s", n)
		}
	}
	for _, id := range collectionIDs {
		params("/collections/" + id + "/tiles")
		params("/collections/" + id + "/tiles/{tileMatrixSetId}")
		for _, path := range []string{"/collections/" + id + "/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}", "/collections/" + id + "/items"} {
			for _, n := range []string{"filter", "filter-lang", "filter-crs"} {
				if !slices.Contains(params(path), n) {
					t.Errorf("%s lacks %s", path, n)
				}
			}
		}
	}
	if !slices.Contains(params("/tiles/{tileSet}/{z}/{x}/{y}.mvt"), "filter") {
		t.Error("XYZ tiles lack filter")
	}
}
