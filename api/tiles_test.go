package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb/encoding/mvt"

	"nbhd/api"
	"nbhd/data"
	"nbhd/data/dbtest"
	"nbhd/tiles"
)

// tileEnv is the tests' server (newEnv) with tile helpers.
type tileEnv struct{ *env }

func newTileEnv(t *testing.T, cfg api.Config) *tileEnv {
	t.Helper()
	return &tileEnv{newEnvWith(t, cfg, data.Config{})}
}

// tileMVT fetches a tile with gzip and returns it decompressed.
func (e *tileEnv) tileMVT(t *testing.T, path string) []byte {
	t.Helper()
	resp, b := e.get(t, path, "Accept-Encoding", "gzip")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("%s: %d %q %s", path, resp.StatusCode, resp.Header.Get("Content-Encoding"), b)
	}
	raw, err := tiles.Gunzip(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// metric reads one sample from /metrics: a name, with its labels as
// written if it has any.
func (e *tileEnv) metric(t *testing.T, name string) float64 {
	t.Helper()
	_, b := e.get(t, "/metrics")
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no %s in /metrics", name)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const hindley = "/tiles/all/14/8074/5296.mvt" // central Hindley, full of features

func TestTileRequestsAreValidated(t *testing.T) {
	e := newTileEnv(t, api.Config{})
	cases := []struct {
		path string
		want int
	}{
		{"/tiles/small-areas/12/2018/1323.mvt", 200},
		{"/tiles/neighbourhoods-ward/12/2018/1323.mvt", 200},
		{"/tiles/all/0/0/0.mvt", 200},
		{"/tiles/small-areas/12/0/0.mvt", 204}, // the Arctic
		{"/tiles/all/12/0/0.mvt", 204},
		{"/tiles/neighbourhoods-ward-boundary/0/0/0.mvt", 204}, // official boundaries from zoom 8
		{"/tiles/all/22/4194303/4194303.mvt", 204},
		{"/tiles/small-areas/23/0/0.mvt", 400},
		{"/tiles/small-areas/-1/0/0.mvt", 400},
		{"/tiles/small-areas/12/4096/0.mvt", 400},
		{"/tiles/small-areas/12/0/4096.mvt", 400},
		{"/tiles/small-areas/0/1/0.mvt", 400},
		{"/tiles/small-areas/z/0/0.mvt", 400},
		{"/tiles/small-areas/2/1/1.5.mvt", 400},
		{"/tiles/small-areas/2/1/.mvt", 400},
		{"/tiles/nope/12/2018/1323.mvt", 404},
		{"/tiles/small-areas/12/2018/1323.png", 404},
		{"/tiles/nope.json", 404},
		{"/tiles/small-areas", 404},
	}
	for _, c := range cases {
		resp, body := e.get(t, c.path, "Accept-Encoding", "gzip")
		if resp.StatusCode != c.want {
			t.Errorf("%s: %d, want %d: %s", c.path, resp.StatusCode, c.want, body)
			continue
		}
		if c.want >= 400 {
			var apiErr struct{ Code, Description string }
			if err := json.Unmarshal(body, &apiErr); err != nil || apiErr.Code == "" || apiErr.Description == "" {
				t.Errorf("%s: error body %s", c.path, body)
			}
		}
		if c.want == 204 && (len(body) != 0 || resp.Header.Get("ETag") == "") {
			t.Errorf("%s: 204 with %d bytes, ETag %q", c.path, len(body), resp.Header.Get("ETag"))
		}
	}
}

func TestTileEncodingValidatorsAndCache(t *testing.T) {
	e := newTileEnv(t, api.Config{})
	gzResp, gz := e.get(t, hindley, "Accept-Encoding", "gzip, deflate, br")
	h := gzResp.Header
	if gzResp.StatusCode != 200 || h.Get("Content-Type") != "application/vnd.mapbox-vector-tile" ||
		h.Get("Content-Encoding") != "gzip" || h.Get("Vary") != "Accept-Encoding" ||
		!strings.HasPrefix(h.Get("Cache-Control"), "public, max-age=") || h.Get("ETag") == "" {
		t.Fatalf("gzip response: %d %v", gzResp.StatusCode, h)
	}
	raw, err := tiles.Gunzip(gz, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, ae := range []string{"", "identity", "gzip;q=0, identity", "br"} {
		resp, body := e.get(t, hindley, "Accept-Encoding", ae)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, raw) ||
			resp.Header.Get("ETag") == h.Get("ETag") || resp.Header.Get("Content-Length") != strconv.Itoa(len(raw)) {
			t.Errorf("Accept-Encoding %q: %d, %q, %d bytes (want %d uncompressed), ETag %s", ae,
				resp.StatusCode, resp.Header.Get("Content-Encoding"), len(body), len(raw), resp.Header.Get("ETag"))
		}
	}
	for inm, want := range map[string]int{
		h.Get("ETag"):               304,
		"W/" + h.Get("ETag"):        304,
		`"other", ` + h.Get("ETag"): 304,
		"*":                         304,
		`"other"`:                   200,
		strings.TrimSuffix(h.Get("ETag"), `-gz"`) + `"`: 200, // the identity tag
	} {
		resp, body := e.get(t, hindley, "Accept-Encoding", "gzip", "If-None-Match", inm)
		if resp.StatusCode != want || (want == 304 && (len(body) != 0 || resp.Header.Get("ETag") != h.Get("ETag"))) {
			t.Errorf("If-None-Match %s: %d with %d bytes, want %d", inm, resp.StatusCode, len(body), want)
		}
	}
	// Only the first request rendered; the rest were hits.
	if r, hits := e.metric(t, "nbhd_tile_renders_total"), e.metric(t, "nbhd_tile_cache_hits_total"); r != 1 || hits < 10 {
		t.Errorf("%v renders and %v hits, want 1 render", r, hits)
	}
}

func TestCompositeTileHasEveryLayer(t *testing.T) {
	e := newTileEnv(t, api.Config{})
	cat, err := e.store.Catalogue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, tjBody := e.get(t, "/tiles/all.json")
	var tj tiles.TileJSON
	if err := json.Unmarshal(tjBody, &tj); err != nil {
		t.Fatal(err)
	}
	all, err := mvt.Unmarshal(e.tileMVT(t, hindley))
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(cat.Layers) || len(all) < 6 {
		t.Fatalf("%d MVT layers, %d in the catalogue", len(all), len(cat.Layers))
	}
	for i, l := range all {
		if l.Name != cat.Layers[i].ID || l.Name != tj.VectorLayers[i].ID || l.Version != 2 || l.Extent != tiles.Extent {
			t.Errorf("layer %d: %s v%d extent %d; catalogue %s", i, l.Name, l.Version, l.Extent, cat.Layers[i].ID)
		}
		// The composite is each layer's own tile, concatenated.
		own, err := mvt.Unmarshal(e.tileMVT(t, strings.Replace(hindley, "/all/", "/"+l.Name+"/", 1)))
		if err != nil || len(own) != 1 || len(own[0].Features) != len(l.Features) || len(l.Features) == 0 {
			t.Errorf("%s: %d features in the composite, single-layer tile %v (%v)", l.Name, len(l.Features), own, err)
		}
		for _, f := range l.Features {
			for k := range f.Properties {
				if _, ok := tj.VectorLayers[i].Fields[k]; !ok {
					t.Errorf("%s: property %s is not in TileJSON", l.Name, k)
				}
			}
			b := f.Geometry.Bound()
			if b.Min[0] < -tiles.Buffer || b.Min[1] < -tiles.Buffer || b.Max[0] > tiles.Extent+tiles.Buffer || b.Max[1] > tiles.Extent+tiles.Buffer {
				t.Errorf("%s: %v outside the tile and its buffer", l.Name, b)
			}
		}
	}
	// Points at z14 are all there: count them independently.
	wantPoints := e.count(t, `SELECT count(*) FROM api.community_assets WHERE geom_3857 && ST_TileEnvelope(14, 8074, 5296, margin => 64.0/4096)`)
	for _, l := range all {
		if l.Name == "community-assets" && len(l.Features) != wantPoints {
			t.Errorf("community-assets: %d features, %d points in the tile and its buffer", len(l.Features), wantPoints)
		}
	}
}

// A composite of chosen layers holds those layers alone, in catalogue
// order whatever the order asked, as each layer's own tile; its TileJSON
// describes them and names the canonical list. Lists that cannot be one
// are refused.
func TestCompositeOfChosenLayers(t *testing.T) {
	e := newTileEnv(t, api.Config{})
	chosen := "schools,small-areas" // catalogue order: small-areas first
	got, err := mvt.Unmarshal(e.tileMVT(t, strings.Replace(hindley, "/all/", "/"+chosen+"/", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "small-areas" || got[1].Name != "schools" {
		t.Fatalf("layers %v, want small-areas and schools", got)
	}
	for _, l := range got {
		own, err := mvt.Unmarshal(e.tileMVT(t, strings.Replace(hindley, "/all/", "/"+l.Name+"/", 1)))
		if err != nil || len(own) != 1 || len(own[0].Features) != len(l.Features) || len(l.Features) == 0 {
			t.Errorf("%s: %d features in the composite, single-layer tile %v (%v)", l.Name, len(l.Features), own, err)
		}
	}
	// Either order is one tile set: one render, the same bytes.
	before := e.metric(t, "nbhd_tile_renders_total")
	a := e.tileMVT(t, strings.Replace(hindley, "/all/", "/small-areas,schools/", 1))
	b := e.tileMVT(t, strings.Replace(hindley, "/all/", "/"+chosen+"/", 1))
	if !bytes.Equal(a, b) || e.metric(t, "nbhd_tile_renders_total") != before {
		t.Errorf("the same layers in another order rendered again or differ (%d and %d bytes)", len(a), len(b))
	}

	_, body := e.get(t, "/tiles/"+chosen+".json")
	var tj tiles.TileJSON
	if err := json.Unmarshal(body, &tj); err != nil {
		t.Fatal(err)
	}
	if len(tj.VectorLayers) != 2 || tj.VectorLayers[0].ID != "small-areas" || tj.VectorLayers[1].ID != "schools" ||
		len(tj.Tiles) != 1 || !strings.HasSuffix(tj.Tiles[0], "/tiles/small-areas,schools/{z}/{x}/{y}.mvt") ||
		!strings.Contains(tj.Name, "small-areas, schools") || tj.Attribution == "" {
		t.Errorf("TileJSON of %s: %s", chosen, body)
	}

	for path, want := range map[string]int{
		"/tiles/small-areas,nope/12/2018/1323.mvt":                            404,
		"/tiles/small-areas,nope.json":                                        404,
		"/tiles/small-areas,small-areas/12/2018/1323.mvt":                     400,
		"/tiles/small-areas,/12/2018/1323.mvt":                                400,
		"/tiles/all,schools/12/2018/1323.mvt":                                 400,
		"/tiles/,schools.json":                                                400,
		"/tiles/small-areas,schools/12/2018/1323.mvt?filter=population>1000":  400,
		"/tiles/small-areas,schools/12/2018/1323.mvt?borough=E08000010":       200,
		"/collections/small-areas,schools/tiles/WebMercatorQuad/12/1323/2018": 404,
	} {
		resp, body := e.get(t, path)
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d: %s", path, resp.StatusCode, want, body)
		}
	}
}

func (e *tileEnv) count(t *testing.T, sql string) int {
	t.Helper()
	var n int
	if err := dbtest.Conn(t, e.dbURL).QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTileJSON(t *testing.T) {
	e := newTileEnv(t, api.Config{})
	host := strings.TrimPrefix(e.url, "http://")
	conn := dbtest.Conn(t, e.dbURL)
	for _, c := range []struct{ name, proto, scheme string }{
		{"all", "", "http"}, {"small-areas", "https", "https"}, {"neighbourhoods-ward", "gopher", "http"},
	} {
		resp, body := e.get(t, "/tiles/"+c.name+".json", "X-Forwarded-Proto", c.proto)
		var tj tiles.TileJSON
		if resp.StatusCode != 200 || json.Unmarshal(body, &tj) != nil {
			t.Fatalf("%s: %d %s", c.name, resp.StatusCode, body)
		}
		if want := c.scheme + "://" + host + "/tiles/" + c.name + "/{z}/{x}/{y}.mvt"; len(tj.Tiles) != 1 || tj.Tiles[0] != want {
			t.Errorf("%s: tiles %v, want %s", c.name, tj.Tiles, want)
		}
		if tj.TileJSON != "3.0.0" || tj.MinZoom != 0 || tj.MaxZoom != tiles.DetailZoom || tj.Scheme != "xyz" {
			t.Errorf("%s: %s", c.name, body)
		}
		// Bounds and provenance, read independently from the database.
		views, kinds := "api.small_areas", "'small_areas','population','deprivation'"
		switch c.name {
		case "all":
			views, kinds = "api.small_areas UNION ALL SELECT geom FROM api.neighbourhoods UNION ALL SELECT geom FROM api.neighbourhood_boundaries UNION ALL SELECT geom FROM api.community_assets UNION ALL SELECT geom FROM api.gp_practices UNION ALL SELECT geom FROM api.schools", "'small_areas','population','deprivation','community_assets','gp_practices','gp_list_sizes','schools','neighbourhood_set'"
		case "neighbourhoods-ward":
			views, kinds = "api.neighbourhoods WHERE set_id = 'ward'", "'population'"
		}
		var b [4]float64
		if err := conn.QueryRow(context.Background(), `SELECT round(ST_XMin(e)::numeric, 6), round(ST_YMin(e)::numeric, 6), round(ST_XMax(e)::numeric, 6), round(ST_YMax(e)::numeric, 6)
			FROM (SELECT ST_Extent(geom) e FROM (SELECT geom FROM `+views+`) g) x`).Scan(&b[0], &b[1], &b[2], &b[3]); err != nil {
			t.Fatal(err)
		}
		if tj.Bounds != b {
			t.Errorf("%s: bounds %v, want %v", c.name, tj.Bounds, b)
		}
		if tj.Centre[0] < b[0] || tj.Centre[0] > b[2] || tj.Centre[1] < b[1] || tj.Centre[1] > b[3] || tj.Centre[2] < 9 || tj.Centre[2] > 11 {
			t.Errorf("%s: centre %v", c.name, tj.Centre)
		}
		rows, err := conn.Query(context.Background(), "SELECT DISTINCT attribution FROM nbhd.datasets WHERE kind IN ("+kinds+") AND attribution <> ''")
		if err != nil {
			t.Fatal(err)
		}
		var attributions []string
		for rows.Next() {
			var a string
			if err := rows.Scan(&a); err != nil {
				t.Fatal(err)
			}
			attributions = append(attributions, a)
		}
		rows.Close()
		if len(attributions) == 0 {
			t.Fatalf("%s: no attribution in the database", c.name)
		}
		// Every sentence of every dataset's attribution is there (once).
		for _, a := range attributions {
			for _, sentence := range strings.Split(a, ". ") {
				sentence = strings.TrimSuffix(sentence, ".")
				if n := strings.Count(tj.Attribution, sentence); n == 0 {
					t.Errorf("%s: attribution lacks %q", c.name, sentence)
				}
			}
		}
		if n := strings.Count(tj.Attribution, "Contains OS data © Crown copyright and database right 2025"); c.name == "all" && n != 1 {
			t.Errorf("all: the OS statement appears %d times", n)
		}
		var ids []string
		for _, vl := range tj.VectorLayers {
			ids = append(ids, vl.ID)
			if vl.Fields["id"] != "String" || vl.MaxZoom != tiles.DetailZoom {
				t.Errorf("%s: vector layer %+v", c.name, vl)
			}
		}
		if c.name != "all" && !slices.Equal(ids, []string{c.name}) || c.name == "all" && len(ids) < 6 {
			t.Errorf("%s: vector layers %v", c.name, ids)
		}
	}
	_, body := e.get(t, "/tiles/small-areas.json")
	for field, typ := range map[string]string{"code": "String", "population": "Number", "imd_decile": "Number", "name": "String"} {
		if !strings.Contains(string(body), fmt.Sprintf("%q:%q", field, typ)) {
			t.Errorf("small-areas TileJSON lacks field %s: %s", field, typ)
		}
	}
	// A configured base URL wins over the request's.
	based := newTileEnv(t, api.Config{BaseURL: "https://maps.example.org/nbhd/"})
	_, body = based.get(t, "/tiles/schools.json")
	if !strings.Contains(string(body), `"tiles":["https://maps.example.org/nbhd/tiles/schools/{z}/{x}/{y}.mvt"]`) {
		t.Errorf("with BaseURL: %s", body)
	}
}

// TestGDALOpensAServedTile checks that GDAL's MVT driver reads a served
// tile: its layers, feature counts and Web Mercator extent.
func TestGDALOpensAServedTile(t *testing.T) {
	ogrinfo, err := exec.LookPath("ogrinfo")
	if err != nil {
		msg := "ogrinfo (gdal-bin) is not installed; scripts/deps.sh test installs it"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	e := newTileEnv(t, api.Config{})
	resp, gz := e.get(t, hindley, "Accept-Encoding", "gzip")
	if resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	// GDAL georeferences a lone tile from its z/x/y path; it reads gzip.
	path := filepath.Join(t.TempDir(), "14", "8074", "5296.mvt")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, gz, 0o600); err != nil {
		t.Fatal(err)
	}
	layers, err := mvt.UnmarshalGzipped(gz)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, ogrinfo, "-ro", "-so", "-al", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo: %v\n%s", err, out)
	}
	text := string(out)
	if !strings.Contains(text, "using driver `MVT' successful") {
		t.Fatalf("GDAL did not open the tile with its MVT driver:\n%s", text)
	}
	// The tile's Web Mercator square, widened by the buffer.
	const world = 2 * 20037508.342789244
	size := world / (1 << 14)
	pad := size * tiles.Buffer / tiles.Extent
	minX, maxY := -world/2+8074*size-pad, world/2-5296*size+pad
	maxX, minY := minX+size+2*pad, maxY-size-2*pad
	extent := regexp.MustCompile(`Extent: \((\S+), (\S+)\) - \((\S+), (\S+)\)`)
	for _, l := range layers {
		want := fmt.Sprintf("Layer name: %s\n", l.Name)
		i := strings.Index(text, want)
		if i < 0 {
			t.Errorf("GDAL does not list layer %s", l.Name)
			continue
		}
		section := text[i:]
		if j := strings.Index(section[len(want):], "Layer name:"); j >= 0 {
			section = section[:len(want)+j]
		}
		if !strings.Contains(section, fmt.Sprintf("Feature Count: %d\n", len(l.Features))) {
			t.Errorf("%s: GDAL counts differ from orb's %d:\n%s", l.Name, len(l.Features), section)
		}
		if !strings.Contains(section, "EPSG\",3857") || !strings.Contains(section, "id: String") {
			t.Errorf("%s: GDAL sees no Web Mercator or no id field:\n%s", l.Name, section)
		}
		m := extent.FindStringSubmatch(section)
		if m == nil {
			t.Errorf("%s: no extent from GDAL", l.Name)
			continue
		}
		var ext [4]float64
		for k := range ext {
			ext[k], _ = strconv.ParseFloat(m[k+1], 64)
		}
		if ext[0] < minX || ext[1] < minY || ext[2] > maxX || ext[3] > maxY {
			t.Errorf("%s: GDAL extent %v outside the tile (%v %v %v %v)", l.Name, ext, minX, minY, maxX, maxY)
		}
	}
}

// TestDataChangeReachesTiles changes a small area's population in the
// database, as an import would (bumping the data version), and expects the
// served tile to show it within 2 s, with the cache purged on the way.
func TestDataChangeReachesTiles(t *testing.T) {
	e := newTileEnv(t, api.Config{})
	const path = "/tiles/small-areas/14/8074/5296.mvt"
	population := func() map[string]float64 {
		ls, err := mvt.Unmarshal(e.tileMVT(t, path))
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]float64{}
		for _, f := range ls[0].Features {
			out[f.Properties["code"].(string)], _ = f.Properties["population"].(float64)
		}
		return out
	}
	before := population()
	population() // a cache hit
	if n := e.metric(t, "nbhd_tile_cache_entries"); n != 1 {
		t.Fatalf("%v cached tiles, want 1", n)
	}
	var code string
	for c := range before {
		code = max(code, c)
	}
	conn := dbtest.Conn(t, e.dbURL)
	tx, err := conn.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), "UPDATE nbhd.small_area_population SET population = population + 1000 WHERE code = $1", code); err != nil {
		t.Fatal(err)
	}
	// As an import does: the derived figures are refreshed in the same
	// transaction, which bumps the data version.
	if _, err := tx.Exec(context.Background(), "SELECT logic.refresh()"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	changed := time.Now()
	for population()[code] != before[code]+1000 {
		if time.Since(changed) > 2*time.Second {
			t.Fatalf("%s still shows population %v 2 s after the change", code, before[code])
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r := e.metric(t, "nbhd_tile_renders_total"); r < 2 {
		t.Errorf("%v renders; the changed tile must be rendered again", r)
	}
}

func TestTileJSONIsValidForMapLibre(t *testing.T) {
	// MapLibre resolves tile URLs as given: they must be absolute and
	// keep their {z}/{x}/{y} placeholders unescaped.
	e := newTileEnv(t, api.Config{})
	_, body := e.get(t, "/tiles/all.json")
	var tj tiles.TileJSON
	if err := json.Unmarshal(body, &tj); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(strings.NewReplacer("{z}", "1", "{x}", "2", "{y}", "3").Replace(tj.Tiles[0]))
	if err != nil || !u.IsAbs() || u.Path != "/tiles/all/1/2/3.mvt" {
		t.Errorf("tile URL %q", tj.Tiles[0])
	}
}
