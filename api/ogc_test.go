package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/paulmach/orb/geojson"

	"nbhd/api"
	"nbhd/data"
	"nbhd/data/dbtest"
)

var collectionIDs = []string{"small-areas", "neighbourhoods-ward", "neighbourhoods-msoa", "neighbourhoods-ward-boundary",
	"neighbourhoods-msoa-boundary", "community-assets", "gp-practices", "schools"}

type errorBody struct{ Code, Description string }

func TestParametersAndErrors(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		path   string
		status int
		accept string
	}{
		{"/collections/schools/items", 200, ""},
		{"/collections/schools/items?limit=0", 200, ""},
		{"/collections/schools/items?limit=20000", 200, ""},
		{"/collections/schools/items?offset=1000", 200, ""},
		{"/collections/schools/items?bbox=-2.7,53.4,-2.4,53.6", 200, ""},
		{"/collections/schools/items?bbox=350000,395000,375000,415000&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/27700", 200, ""},
		{"/collections/schools/items?crs=http://www.opengis.net/def/crs/EPSG/0/27700", 200, ""},
		{"/collections/schools/items?phase=Primary&sortby=-name&properties=name,phase", 200, ""},
		{"/collections/small-areas/items?imd_decile=1", 200, ""},
		{"/collections/gp-practices/items?list_size=5578", 200, ""},
		{"/collections/schools/items?datetime=2020-01-01T00:00:00Z", 200, ""},
		// 400: malformed values
		{"/collections/schools/items?bbox=1,2,3", 400, ""},
		{"/collections/schools/items?bbox=a,b,c,d", 400, ""},
		{"/collections/schools/items?bbox=1,4,3,2", 400, ""},
		{"/collections/schools/items?bbox=350000,395000,375000,415000", 400, ""},
		{"/collections/schools/items?bbox-crs=EPSG:27700", 400, ""},
		{"/collections/schools/items?limit=-1", 400, ""},
		{"/collections/schools/items?limit=many", 400, ""},
		{"/collections/schools/items?offset=-5", 400, ""},
		{"/collections/schools/items?offset=1.5", 400, ""},
		{"/collections/schools/items?crs=EPSG:3857", 400, ""},
		{"/collections/schools/items?crs=", 400, ""},
		{"/collections/schools/items?sortby=address", 400, ""},
		{"/collections/schools/items?sortby=nonsense", 400, ""},
		{"/collections/schools/items?sortby=", 400, ""},
		{"/collections/schools/items?properties=nonsense", 400, ""},
		{"/collections/gp-practices/items?address=x", 400, ""}, // not queryable
		{"/collections/schools/items?colour=red", 400, ""},     // unknown
		{"/collections/small-areas/items?imd_decile=high", 400, ""},
		{"/collections/gp-practices/items/P92001?limit=1", 400, ""},
		// 404
		{"/collections/nope", 404, ""},
		{"/collections/nope/items", 404, ""},
		{"/collections/nope/queryables", 404, ""},
		{"/collections/gp-practices/items/NOPE", 404, ""},
		{"/nowhere", 404, ""},
		// 406
		{"/collections/schools/items?f=xml", 406, ""},
		{"/collections/schools?f=csv", 406, ""},
		{"/collections/schools/items", 406, "image/png"},
		{"/", 406, "application/xml"},
	}
	for _, c := range cases {
		var resp reply
		var body []byte
		if c.accept != "" {
			resp, body = e.get(t, c.path, "Accept", c.accept)
		} else {
			resp, body = e.get(t, c.path)
		}
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d, want %d: %.300s", c.path, resp.StatusCode, c.status, body)
			continue
		}
		if c.status >= 400 {
			var eb errorBody
			if err := json.Unmarshal(body, &eb); err != nil || eb.Code == "" || eb.Description == "" {
				t.Errorf("%s: error body %s is not {code, description}", c.path, body)
			}
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Errorf("%s: error Content-Type %q", c.path, resp.Header.Get("Content-Type"))
			}
			for _, bad := range []string{"SELECT", "pgx", "SQLSTATE", "panic", "goroutine"} {
				if strings.Contains(string(body), bad) {
					t.Errorf("%s: body leaks %q: %s", c.path, bad, body)
				}
			}
		}
	}
}

type fc struct {
	Type           string `json:"type"`
	NumberMatched  int    `json:"numberMatched"`
	NumberReturned int    `json:"numberReturned"`
	Features       []struct {
		ID         any            `json:"id"`
		Geometry   map[string]any `json:"geometry"`
		Properties map[string]any `json:"properties"`
	} `json:"features"`
	Links []struct{ Href, Rel, Type string } `json:"links"`
}

func (e *env) page(t *testing.T, u string) fc {
	t.Helper()
	path := strings.TrimPrefix(u, e.url)
	resp, body := e.get(t, path)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
	}
	var out fc
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

func linkHref(p fc, rel string) string {
	for _, l := range p.Links {
		if l.Rel == rel {
			return l.Href
		}
	}
	return ""
}

func TestPagingFollowsNextLinksThroughEveryCollection(t *testing.T) {
	e := newEnv(t)
	want := map[string]int{
		"small-areas":                  e.dbCount(t, "SELECT count(*) FROM nbhd.small_areas"),
		"neighbourhoods-ward":          e.dbCount(t, "SELECT count(*) FROM nbhd.neighbourhoods WHERE set_id='ward'"),
		"neighbourhoods-msoa":          e.dbCount(t, "SELECT count(*) FROM nbhd.neighbourhoods WHERE set_id='msoa'"),
		"neighbourhoods-ward-boundary": e.dbCount(t, "SELECT count(*) FROM nbhd.neighbourhoods WHERE set_id='ward'"),
		"neighbourhoods-msoa-boundary": e.dbCount(t, "SELECT count(*) FROM nbhd.neighbourhoods WHERE set_id='msoa'"),
		"community-assets":             e.dbCount(t, "SELECT count(*) FROM nbhd.community_assets"),
		"gp-practices":                 e.dbCount(t, "SELECT count(*) FROM nbhd.gp_practices"),
		"schools":                      e.dbCount(t, "SELECT count(*) FROM nbhd.schools"),
	}
	for _, id := range collectionIDs {
		seen := map[any]bool{}
		next := e.url + "/collections/" + id + "/items?limit=37"
		pages := 0
		for next != "" {
			p := e.page(t, next)
			pages++
			if p.NumberMatched != want[id] || p.NumberReturned != len(p.Features) {
				t.Errorf("%s page %d: numberMatched %d (want %d), numberReturned %d for %d features", id, pages, p.NumberMatched, want[id], p.NumberReturned, len(p.Features))
			}
			if pages > 1 && linkHref(p, "prev") == "" {
				t.Errorf("%s page %d has no prev link", id, pages)
			}
			for _, f := range p.Features {
				if seen[f.ID] {
					t.Errorf("%s: feature %v on two pages", id, f.ID)
				}
				seen[f.ID] = true
			}
			next = linkHref(p, "next")
		}
		if len(seen) != want[id] {
			t.Errorf("%s: paged through %d features, database has %d", id, len(seen), want[id])
		}
	}
}

func TestLimitIsClampedTo10000(t *testing.T) {
	e := newEnv(t)
	p := e.page(t, e.url+"/collections/community-assets/items?limit=999999")
	if len(p.Features) != p.NumberMatched {
		t.Errorf("limit=999999 returned %d of %d", len(p.Features), p.NumberMatched)
	}
	next := linkHref(e.page(t, e.url+"/collections/community-assets/items?limit=999999&offset=1"), "prev")
	if !strings.Contains(next, "limit=10000") {
		t.Errorf("prev link %q does not carry the clamped limit", next)
	}
}

func TestFiltersSortingAndPropertySelection(t *testing.T) {
	e := newEnv(t)
	p := e.page(t, e.url+"/collections/community-assets/items?category=library&limit=1000")
	if want := e.dbCount(t, "SELECT count(*) FROM nbhd.community_assets WHERE category='library'"); p.NumberMatched != want || len(p.Features) != want {
		t.Errorf("category=library: %d matched, %d returned; database has %d", p.NumberMatched, len(p.Features), want)
	}
	p = e.page(t, e.url+"/collections/small-areas/items?sortby=-population,code&limit=1000&properties=population")
	last := math.Inf(1)
	for _, f := range p.Features {
		if len(f.Properties) != 1 {
			t.Fatalf("properties=population gave %v", f.Properties)
		}
		v := f.Properties["population"].(float64)
		if v > last {
			t.Fatalf("sortby=-population out of order: %v after %v", v, last)
		}
		last = v
	}
	p = e.page(t, e.url+"/collections/small-areas/items?imd_decile=1&limit=1000")
	if want := e.dbCount(t, "SELECT count(*) FROM nbhd.deprivation WHERE imd_decile=1"); len(p.Features) != want || want == 0 {
		t.Errorf("imd_decile=1: %d features, database has %d", len(p.Features), want)
	}
	p = e.page(t, e.url+"/collections/small-areas/items?properties=&limit=1")
	if len(p.Features[0].Properties) != 0 {
		t.Errorf("properties= (none) gave %v", p.Features[0].Properties)
	}
}

func TestBBoxInEitherCRS(t *testing.T) {
	e := newEnv(t)
	want := e.dbCount(t, "SELECT count(*) FROM nbhd.schools WHERE ST_Intersects(geom, ST_MakeEnvelope(-2.65, 53.50, -2.55, 53.56, 4326))")
	p := e.page(t, e.url+"/collections/schools/items?bbox=-2.65,53.50,-2.55,53.56&limit=1000")
	if len(p.Features) != want || want == 0 {
		t.Errorf("bbox: %d features, database has %d", len(p.Features), want)
	}
	want = e.dbCount(t, "SELECT count(*) FROM nbhd.schools WHERE ST_Intersects(geom_bng, ST_MakeEnvelope(355000, 400000, 362000, 407000, 27700))")
	p = e.page(t, e.url+"/collections/schools/items?bbox=355000,400000,362000,407000&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/27700&limit=1000")
	if len(p.Features) != want || want == 0 {
		t.Errorf("bbox in BNG: %d features, database has %d", len(p.Features), want)
	}
}

func TestBritishNationalGridOutput(t *testing.T) {
	e := newEnv(t)
	resp, body := e.get(t, "/collections/gp-practices/items?limit=1000&crs=http://www.opengis.net/def/crs/EPSG/0/27700")
	if got := resp.Header.Get("Content-Crs"); got != "<http://www.opengis.net/def/crs/EPSG/0/27700>" {
		t.Errorf("Content-Crs %q", got)
	}
	var p fc
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	conn := dbtest.Conn(t, e.dbURL)
	for _, f := range p.Features {
		c := f.Geometry["coordinates"].([]any)
		var x, y float64
		if err := conn.QueryRow(context.Background(), "SELECT ST_X(ST_Transform(geom, 27700)), ST_Y(ST_Transform(geom, 27700)) FROM nbhd.gp_practices WHERE code = $1", f.ID).Scan(&x, &y); err != nil {
			t.Fatal(err)
		}
		if d := math.Hypot(c[0].(float64)-x, c[1].(float64)-y); d > 1 {
			t.Errorf("%v: (%v, %v) is %.2f m from PostGIS's (%v, %v)", f.ID, c[0], c[1], d, x, y)
		}
	}
	if resp, _ := e.get(t, "/collections/gp-practices/items?limit=1"); resp.Header.Get("Content-Crs") != "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>" {
		t.Errorf("default Content-Crs %q", resp.Header.Get("Content-Crs"))
	}
}

func TestCSV(t *testing.T) {
	e := newEnv(t)
	resp, body := e.get(t, "/collections/gp-practices/items?f=csv&limit=1000")
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := recs[0]
	if head[0] != "id" || head[len(head)-2] != "lon" || head[len(head)-1] != "lat" {
		t.Errorf("point CSV header %v", head)
	}
	if len(recs)-1 != e.dbCount(t, "SELECT count(*) FROM nbhd.gp_practices") {
		t.Errorf("%d CSV rows", len(recs)-1)
	}
	_, body = e.get(t, "/collections/neighbourhoods-ward/items?f=csv&properties=name")
	recs, err = csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != "id,name,wkt" || !strings.HasPrefix(recs[1][2], "MULTIPOLYGON") || len(recs) != 26 {
		t.Errorf("polygon CSV: header %v, first row %.60v, %d rows", recs[0], recs[1], len(recs))
	}
	_, body = e.get(t, "/collections/schools/items?f=csv&limit=1&crs=http://www.opengis.net/def/crs/EPSG/0/27700")
	if !strings.Contains(strings.SplitN(string(body), "\n", 2)[0], "easting,northing") {
		t.Errorf("BNG CSV header: %s", strings.SplitN(string(body), "\n", 2)[0])
	}
}

func TestHTMLByNegotiationOrF(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/", "/conformance", "/api", "/collections", "/collections/schools", "/collections/schools/queryables",
		"/collections/schools/items", "/collections/gp-practices/items/P92001"} {
		for _, h := range [][]string{{"Accept", "text/html,application/xhtml+xml,*/*;q=0.8"}, nil} {
			p := path
			if h == nil {
				p += map[bool]string{true: "&", false: "?"}[strings.Contains(p, "?")] + "f=html"
			}
			resp, body := e.get(t, p, h...)
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !bytes.Contains(body, []byte("</html>")) {
				t.Errorf("%s (%v): %d %s", p, h, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
		}
	}
	_, body := e.get(t, "/collections/gp-practices/items?f=html&limit=5")
	if !bytes.Contains(body, []byte("MEDICENTRE")) || !bytes.Contains(body, []byte(`rel="next"`)) {
		t.Errorf("items HTML lacks the first practice or a next link")
	}
}

func TestCachingHeadersAndConditionalGET(t *testing.T) {
	e := newEnv(t)
	path := "/collections/schools/items?limit=5"
	resp, body := e.get(t, path)
	etag := resp.Header.Get("ETag")
	if etag == "" || resp.Header.Get("Last-Modified") == "" || !strings.Contains(resp.Header.Get("Cache-Control"), "public") {
		t.Fatalf("validators missing: %v", resp.Header)
	}
	_, again := e.get(t, path)
	if !bytes.Equal(body, again) {
		t.Error("identical requests gave different bytes")
	}
	if resp, body := e.get(t, path, "If-None-Match", etag); resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("If-None-Match current: %d, %d bytes", resp.StatusCode, len(body))
	}
	if resp, _ := e.get(t, path, "If-Modified-Since", resp.Header.Get("Last-Modified")); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-Modified-Since current: %d", resp.StatusCode)
	}
	if resp, _ := e.get(t, "/collections/schools/items?limit=6", "If-None-Match", etag); resp.StatusCode != 200 {
		t.Errorf("If-None-Match for another page: %d", resp.StatusCode)
	}
	// An import changes the data version, and so the ETag.
	conn := dbtest.Conn(t, e.dbURL)
	if _, err := conn.Exec(context.Background(), "UPDATE nbhd.datasets SET title = title || '.' WHERE kind = 'schools'"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.RefreshVersion(context.Background()); err != nil {
		t.Fatal(err)
	}
	if resp, _ := e.get(t, path, "If-None-Match", etag); resp.StatusCode != 200 || resp.Header.Get("ETag") == etag {
		t.Errorf("after an import: %d, ETag %s (was %s)", resp.StatusCode, resp.Header.Get("ETag"), etag)
	}
	// Errors are not cacheable.
	if resp, _ := e.get(t, "/collections/schools/items?limit=x"); resp.Header.Get("ETag") != "" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("error response carries cache headers: %v", resp.Header)
	}
}

func TestGzipWhenAsked(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/collections/small-areas/items?limit=200", "/collections", "/api"} {
		_, plain := e.get(t, path)
		resp, zipped := e.get(t, path, "Accept-Encoding", "gzip")
		if resp.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("%s: no gzip", path)
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(zipped))
		if err != nil {
			t.Fatal(err)
		}
		unzipped, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(unzipped, plain) {
			t.Errorf("%s: gunzipped body differs from the plain one (%v)", path, err)
		}
		if len(zipped) >= len(plain) {
			t.Errorf("%s: gzip %d bytes, plain %d", path, len(zipped), len(plain))
		}
	}
	// A body under 1 KB goes as it is: the same bytes, still varying by
	// Accept-Encoding for caches.
	path := "/search?q=" + url.QueryEscape(dbtest.Strings(t, e.dbURL, "SELECT postcode FROM nbhd.postcodes ORDER BY postcode LIMIT 1")[0])
	_, plain := e.get(t, path)
	resp, sent := e.get(t, path, "Accept-Encoding", "gzip")
	if len(plain) == 0 || len(plain) >= 1024 || resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(sent, plain) ||
		!strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Accept-Encoding") {
		t.Errorf("%s (%d bytes): Content-Encoding %q, Vary %q, same bytes %v", path, len(plain),
			resp.Header.Get("Content-Encoding"), resp.Header.Values("Vary"), bytes.Equal(sent, plain))
	}
}

func TestCORSAndMethods(t *testing.T) {
	e := newEnv(t)
	resp, _ := e.get(t, "/collections", "Origin", "https://example.org")
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("default CORS: %v", resp.Header)
	}
	do := func(method, path string, h ...string) reply {
		req, _ := http.NewRequestWithContext(context.Background(), method, e.url+path, nil)
		for i := 0; i+1 < len(h); i += 2 {
			req.Header.Set(h[i], h[i+1])
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, r.Body) //nolint:errcheck
		r.Body.Close()
		return reply{r.StatusCode, r.Header}
	}
	r := do(http.MethodOptions, "/collections/schools/items", "Origin", "https://example.org", "Access-Control-Request-Method", "GET")
	if r.StatusCode != http.StatusNoContent || !strings.Contains(r.Header.Get("Access-Control-Allow-Methods"), "GET") {
		t.Errorf("preflight: %d %v", r.StatusCode, r.Header)
	}
	r = do(http.MethodHead, "/collections/schools/items")
	if r.StatusCode != 200 || r.Header.Get("ETag") == "" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/geo+json") {
		t.Errorf("HEAD: %d %v", r.StatusCode, r.Header)
	}

	limited := newEnvWith(t, api.Config{CORSOrigins: []string{"https://council.example"}}, data.Config{})
	resp, _ = limited.get(t, "/collections", "Origin", "https://council.example")
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://council.example" {
		t.Errorf("allow-listed origin: %v", resp.Header)
	}
	resp, _ = limited.get(t, "/collections", "Origin", "https://elsewhere.example")
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("origin off the list allowed: %v", resp.Header)
	}
	// With a list, the answer depends on the Origin, so every response
	// says so, tiles and TileJSON too (a shared cache would otherwise give
	// one origin's Access-Control-Allow-Origin to another).
	for _, path := range []string{"/collections", "/tiles/small-areas/12/2018/1323.mvt", "/tiles/small-areas.json"} {
		resp, _ = limited.get(t, path, "Origin", "https://council.example", "Accept-Encoding", "gzip")
		vary := strings.Join(resp.Header.Values("Vary"), ", ")
		if resp.StatusCode != http.StatusOK || !strings.Contains(vary, "Origin") {
			t.Errorf("%s with an origin list: %d, Vary %q", path, resp.StatusCode, vary)
		}
		if strings.HasSuffix(path, ".mvt") && !strings.Contains(vary, "Accept-Encoding") {
			t.Errorf("%s: Vary %q lacks Accept-Encoding", path, vary)
		}
	}
}

func TestLandingConformanceAndQueryables(t *testing.T) {
	e := newEnv(t)
	var landing struct {
		Links []struct{ Href, Rel, Type string }
	}
	_, body := e.get(t, "/")
	if err := json.Unmarshal(body, &landing); err != nil {
		t.Fatal(err)
	}
	rels := map[string]bool{}
	for _, l := range landing.Links {
		rels[l.Rel] = true
	}
	for _, r := range []string{"self", "service-desc", "service-doc", "conformance", "data"} {
		if !rels[r] {
			t.Errorf("landing page lacks rel=%s", r)
		}
	}
	var conf struct{ ConformsTo []string }
	_, body = e.get(t, "/conformance")
	if err := json.Unmarshal(body, &conf); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"ogcapi-features-1/1.0/conf/core", "conf/geojson", "conf/html", "conf/oas30", "ogcapi-features-2/1.0/conf/crs"} {
		if !strings.Contains(strings.Join(conf.ConformsTo, " "), c) {
			t.Errorf("conformance lacks %s", c)
		}
	}
	resp, body := e.get(t, "/collections/gp-practices/queryables")
	var q struct {
		Properties map[string]struct{ Type string }
	}
	if err := json.Unmarshal(body, &q); err != nil || resp.Header.Get("Content-Type") != "application/schema+json" {
		t.Fatalf("queryables: %v %s", err, resp.Header.Get("Content-Type"))
	}
	if q.Properties["list_size"].Type != "integer" || q.Properties["code"].Type != "string" {
		t.Errorf("queryables: %+v", q.Properties)
	}
	if _, ok := q.Properties["address"]; ok {
		t.Error("address is listed as queryable")
	}
}

func TestCollectionMetadata(t *testing.T) {
	e := newEnv(t)
	var cs struct {
		Collections []struct {
			ID, Attribution, StorageCrs, Updated string
			CRS                                  []string
			Extent                               struct{ Spatial struct{ BBox [][]float64 } }
			Links                                []struct{ Href, Rel, Type, Title string }
		}
	}
	_, body := e.get(t, "/collections")
	if err := json.Unmarshal(body, &cs); err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, c := range cs.Collections {
		got = append(got, c.ID)
		rels := map[string]bool{}
		for _, l := range c.Links {
			rels[l.Rel] = true
		}
		if !rels["items"] || !rels["license"] || !rels["http://www.opengis.net/def/rel/ogc/1.0/queryables"] {
			t.Errorf("%s links: %v", c.ID, rels)
		}
		if c.Attribution == "" || c.Updated == "" || c.StorageCrs == "" || len(c.CRS) != 2 {
			t.Errorf("%s: attribution %q updated %q storageCrs %q crs %v", c.ID, c.Attribution, c.Updated, c.StorageCrs, c.CRS)
		}
		b := c.Extent.Spatial.BBox
		if len(b) != 1 || b[0][0] > -2.4 || b[0][2] < -2.7 || b[0][1] > 53.5 || b[0][3] < 53.55 {
			t.Errorf("%s extent %v does not cover Wigan", c.ID, b)
		}
	}
	sort.Strings(got)
	want := append([]string(nil), collectionIDs...)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("collections %v, want %v", got, want)
	}
}

func TestSingleFeature(t *testing.T) {
	e := newEnv(t)
	resp, body := e.get(t, "/collections/gp-practices/items/P92001")
	f, err := geojson.UnmarshalFeature(body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %v %s", resp.StatusCode, err, body)
	}
	if f.ID != "P92001" || f.Properties["name"] != "MEDICENTRE" {
		t.Errorf("feature %v %v", f.ID, f.Properties)
	}
	var withLinks struct{ Links []struct{ Rel string } }
	if err := json.Unmarshal(body, &withLinks); err != nil || len(withLinks.Links) < 2 {
		t.Errorf("feature links: %s", body)
	}
	id := url.PathEscape("places-of-worship:D41C27B7-47DF-4197-85E1-03B0D40E08C5")
	if resp, _ := e.get(t, "/collections/community-assets/items/"+id); resp.StatusCode != 200 {
		t.Errorf("asset by id: %d", resp.StatusCode)
	}
}

func TestOpenAPIDocumentValidatesAndListsEveryParameter(t *testing.T) {
	e := newEnv(t)
	resp, body := e.get(t, "/api")
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/vnd.oai.openapi+json") {
		t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	doc, err := openapi3.NewLoader().LoadFromData(body)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("OpenAPI document is invalid: %v", err)
	}
	cat, err := e.store.Catalogue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range cat.Layers {
		op := doc.Paths.Find("/collections/" + l.ID + "/items")
		if op == nil || op.Get == nil {
			t.Fatalf("no items path for %s", l.ID)
		}
		names := map[string]bool{}
		for _, p := range op.Get.Parameters {
			names[p.Value.Name] = true
		}
		for _, want := range []string{"f", "bbox", "bbox-crs", "crs", "limit", "offset", "properties", "sortby"} {
			if !names[want] {
				t.Errorf("%s items: parameter %s not listed", l.ID, want)
			}
		}
		for _, f := range l.Fields {
			if f.Queryable && !names[f.Name] {
				t.Errorf("%s items: queryable %s not listed", l.ID, f.Name)
			}
		}
	}
	limit := doc.Components.Parameters["limit"].Value.Schema.Value
	if limit.Max == nil || *limit.Max != 10000 {
		t.Errorf("limit maximum %v, want 10000", limit.Max)
	}
}

// TestClientsHangingUpNeverWedgeThePool sends many large requests and drops
// each after its first bytes, on a pool of two connections. If a cancelled
// query kept its connection, later requests would wait for ever.
func TestClientsHangingUpNeverWedgeThePool(t *testing.T) {
	e := newEnvWith(t, api.Config{}, data.Config{MaxConns: 2})
	for range 20 {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/collections/small-areas/items?limit=10000", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			buf := make([]byte, 512)
			_, _ = resp.Body.Read(buf)
		}
		cancel()
		if err == nil {
			resp.Body.Close()
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 10 {
			if resp, _ := e.get(t, "/collections/schools/items?limit=10"); resp.StatusCode != 200 {
				t.Errorf("after hang-ups: %d", resp.StatusCode)
			}
		}
	}()
	select {
	case <-done:
	case <-waitFor(30):
		t.Fatal("requests after client hang-ups did not finish: the pool is wedged")
	}
}
