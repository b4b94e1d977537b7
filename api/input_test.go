package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestBadBytesAndOutOfRangeValuesAre400s replays the requests that got 500s
// in the fault sweep of issue 11: NUL and invalid UTF-8 in any path or query
// value, integers beyond their column's type. Each is a 400 that names the
// parameter.
func TestBadBytesAndOutOfRangeValuesAre400s(t *testing.T) {
	e := newEnv(t)
	cases := []struct{ path, names string }{
		{"/search?q=%00", `"q"`},
		{"/search?q=%FF", `"q"`},
		{"/neighbourhoods/ward/%FF", "code"},
		{"/neighbourhoods/%00", "set"},
		{"/collections/schools/items/%C3%28", "feature"},
		{"/collections/schools/items?name=%00", `"name"`},
		{"/collections/schools/items?name=a%C3", `"name"`},
		{"/collections/%FE/items", "collection"},
		{"/tiles/all/1/0/%FF.mvt", "y"},
		{"/outreach?set=ward&neighbourhood=%00", `"neighbourhood"`},
		{"/insights/asset-gaps?set=%C0%AF", `"set"`},
		{"/collections/schools/items?%FF=1", "name"},
		{"/collections/schools/items?bbox=%zz", "URL encoding"},
		{"/collections/small-areas/items?imd_decile=40000", "imd_decile"},
		{"/collections/small-areas/items?vintage=-32769", "vintage"},
		{"/collections/gp-practices/items?list_size=2147483648", "list_size"},
		{"/collections/schools/items?pupils=99999999999999999999", "pupils"},
		{"/collections/neighbourhoods-ward/items?chaotic_per_1000=NaN", "chaotic_per_1000"},
		{"/collections/neighbourhoods-ward/items?chaotic_per_1000=Infinity", "chaotic_per_1000"},
		{"/tiles/all/0/0/0.mvt?v=2", `"v"`},
		{"/tiles/all.json?access_token=x", `"access_token"`},
	}
	for _, c := range cases {
		resp, body := e.get(t, c.path)
		var eb errorBody
		if resp.StatusCode != http.StatusBadRequest || json.Unmarshal(body, &eb) != nil {
			t.Errorf("%s: %d %s, want a 400 error", c.path, resp.StatusCode, body)
			continue
		}
		if !strings.Contains(eb.Description, c.names) {
			t.Errorf("%s: %q does not name %s", c.path, eb.Description, c.names)
		}
	}
	// In range, the same filters work.
	for _, p := range []string{"/collections/small-areas/items?imd_decile=32767", "/collections/gp-practices/items?list_size=2147483647"} {
		if resp, body := e.get(t, p); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s", p, resp.StatusCode, body)
		}
	}
}

// TestPagingNeverOverflows asks for the largest offset there is: an empty
// page whose links are all sensible.
func TestPagingNeverOverflows(t *testing.T) {
	e := newEnv(t)
	for _, f := range []string{"json", "html"} {
		resp, body := e.get(t, "/collections/schools/items?limit=10000&offset=9223372036854775807&f="+f)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", f, resp.StatusCode, body)
		}
		if strings.Contains(string(body), "offset=-") || strings.Contains(string(body), `rel="next"`) || strings.Contains(string(body), `"rel":"next"`) {
			t.Errorf("%s: a negative offset or a next link on a page past the end: %.600s", f, body)
		}
	}
	var page struct {
		NumberReturned int `json:"numberReturned"`
		Links          []struct{ Href, Rel string }
	}
	_, body := e.get(t, "/collections/schools/items?limit=100&offset=9223372036854775807")
	if err := json.Unmarshal(body, &page); err != nil || page.NumberReturned != 0 {
		t.Fatalf("past the end: %v %s", err, body)
	}
	prev := ""
	for _, l := range page.Links {
		if l.Rel == "prev" {
			prev = l.Href
		}
	}
	if !strings.Contains(prev, "offset=9223372036854775707") {
		t.Errorf("prev link %q, want offset 9223372036854775707", prev)
	}
}

// TestBBoxAcrossTheAntimeridian: minx > maxx is OGC API – Features' box
// across the antimeridian, read as two boxes.
func TestBBoxAcrossTheAntimeridian(t *testing.T) {
	e := newEnv(t)
	count := func(q string) int {
		resp, body := e.get(t, "/collections/schools/items?limit=10000&"+q)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", q, resp.StatusCode, body)
		}
		var fc struct {
			N int `json:"numberMatched"`
		}
		if err := json.Unmarshal(body, &fc); err != nil {
			t.Fatal(err)
		}
		return fc.N
	}
	// The borough lies about 2.3° to 2.8° west: split at -2.6, the box from
	// 179° east across the antimeridian to -2.6° holds exactly the schools
	// west of -2.6.
	west := e.dbCount(t, "SELECT count(*) FROM api.schools WHERE ST_X(geom) < -2.6")
	if west == 0 || west == e.dbCount(t, "SELECT count(*) FROM api.schools") {
		t.Fatalf("%d schools west of -2.6: the split tests nothing", west)
	}
	if got := count("bbox=179,50,-2.6,56"); got != west {
		t.Errorf("across the antimeridian: %d schools, want %d", got, west)
	}
	if got := count("bbox=179,50,-179,56"); got != 0 {
		t.Errorf("a box around the antimeridian alone: %d schools, want 0", got)
	}
}
