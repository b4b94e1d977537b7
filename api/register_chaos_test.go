package api_test

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"nbhd/data/dbtest"
)

// The bad-input sweep's writes (TestChaosBadInputSweep): requests to the
// asset register with hostile JSON, huge bodies, wrong types and media
// types, bad and stale If-Match, odd CRSs and notes, with no key, a
// read-only key, a writing key and garbage. None of the generated writes
// can succeed; sweepWithWrites adds four deliberate ones that do (with
// hostile but valid text), spread through the sweep, so reads and refusals
// run while the register changes.

// hugeBody is shared by the huge requests, so the sweep holds it once.
var hugeBody = func() []byte {
	b := bytes.Repeat([]byte("a"), 5<<20)
	copy(b, `{"type": "Feature", "properties": {"name": "`)
	return b
}()

// sweepWriteBodies are bodies no write accepts: each is refused for its
// syntax, its size, a type, a value or a place.
func sweepWriteBodies(point string) [][]byte {
	feature := func(props, geometry string) []byte {
		return []byte(`{"type": "Feature", "geometry": ` + geometry + `, "properties": {` + props + `}}`)
	}
	pt := `{"type": "Point", "coordinates": ` + point + `}`
	ok := `"name": "Test", "category": "warm_space"`
	bodies := [][]byte{
		nil, []byte(""), []byte(" "), []byte("null"), []byte("[]"), []byte("{}"), []byte("{"), []byte("}"), []byte(`"Feature"`), []byte("12"),
		[]byte(`{"type": "Feature"}`), []byte(`{"type": "Feature", "properties": null, "geometry": null}`),
		[]byte(`{"type": "FeatureCollection", "features": [` + string(feature(ok, pt)) + `]}`),
		[]byte(strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)),
		[]byte(strings.Repeat(`{"a": `, 20_000) + "1" + strings.Repeat("}", 20_000)),
		[]byte(`{"type": "Feature", "properties": {"name": "` + strings.Repeat("x", 60_000) + `", "category": "a"}, "geometry": ` + pt + `}`),
		[]byte(`{"type": "Feature", "properties": {"name": "` + strings.Repeat("x", 70_000) + `"}}`),
		hugeBody[:1<<20], hugeBody,
		[]byte("{\"type\": \"Feature\xff\xfe\"}"), []byte("\xef\xbb\xbf{\"type\": \"Feature\"}"), []byte("\xff\xfe{\x00\"\x00"),
		[]byte("{\"type\": \"Feature\", \"properties\": {\"name\": \"a\x00b\"}}"),
		[]byte(`{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1e999, 1e999]}, "properties": {` + ok + `}}`),
		[]byte(`{"type": "Feature", "geometry": {"type": "Point", "coordinates": [NaN, Infinity]}, "properties": {` + ok + `}}`),
		[]byte(`{"type": "Feature", /* comment */ "geometry": null}`), []byte(`{"type": "Feature",}`),
		[]byte(`{"type": "Feature", "type": "Point", "coordinates": [1, 2]}`),
		feature(`"name": "x\u0000y", "category": "warm_space"`, pt),
		feature(`"name": "\ud800", "category": "warm_space"`, pt),
		feature(`"name": "line\nbreak", "category": "warm_space"`, pt),
		feature(`"name": "'; DROP TABLE nbhd.community_assets; --", "category": "'; DROP TABLE nbhd.community_assets; --"`, pt),
		feature(`"name": "<script>alert(1)</script>", "category": "<b>"`, pt),
		feature(`"name": "😀", "category": "😀"`, pt),
		feature(`"name": "\u202e\u0000", "category": "warm_space"`, pt),
		feature(`"category": "warm_space"`, pt), feature(`"name": "Test"`, pt), feature(`"name": "", "category": ""`, pt),
		feature(`"name": 1, "category": "warm_space"`, pt), feature(`"name": true, "category": "warm_space"`, pt),
		feature(`"name": ["a"], "category": "warm_space"`, pt), feature(`"name": {"en": "a"}, "category": "warm_space"`, pt),
		feature(ok+`, "phone": 1942828000`, pt), feature(ok+`, "postcode": "WN1"`, pt), feature(ok+`, "email": "@"`, pt),
		feature(ok+`, "url": "javascript:alert(1)"`, pt), feature(ok+`, "url": "http://"`, pt), feature(ok+`, "phone": "`+strings.Repeat("9", 400)+`"`, pt),
		feature(ok+`, "colour": "red"`, pt), feature(ok+`, "id": "x"`, pt), feature(ok+`, "dataset_id": 1`, pt),
		feature(`"name": "`+strings.Repeat("n", 201)+`", "category": "warm_space"`, pt),
		feature(ok+`, "address": "`+strings.Repeat("a", 501)+`"`, pt),
		feature(ok, `null`), feature(ok, `{}`), feature(ok, `"POINT(1 2)"`), feature(ok, `{"type": "Point"}`),
		feature(ok, `{"type": "Point", "coordinates": []}`), feature(ok, `{"type": "Point", "coordinates": [1]}`),
		feature(ok, `{"type": "Point", "coordinates": [1, 2, 3, 4]}`), feature(ok, `{"type": "Point", "coordinates": ["-2.6", "53.5"]}`),
		feature(ok, `{"type": "Point", "coordinates": [[-2.6, 53.5]]}`), feature(ok, `{"type": "Point", "coordinates": [-200, 95]}`),
		feature(ok, `{"type": "Point", "coordinates": [53.5, -2.6]}`), feature(ok, `{"type": "Point", "coordinates": [0, 0]}`),
		feature(ok, `{"type": "Point", "coordinates": [358000, 405000]}`), feature(ok, `{"type": "Point", "coordinates": [1e308, -1e308]}`),
		feature(ok, `{"type": "Point", "coordinates": [-0.1276, 51.5072]}`), feature(ok, `{"type": "Point", "coordinates": [179.9999999, 89.9999999]}`),
		feature(ok, `{"type": "Polygon", "coordinates": [[[-2.6, 53.5], [-2.5, 53.5], [-2.5, 53.6], [-2.6, 53.5]]]}`),
		feature(ok, `{"type": "GeometryCollection", "geometries": [`+pt+`]}`),
		feature(ok, `{"type": "MultiPoint", "coordinates": [`+point+`]}`),
		[]byte(`{"properties": {}}`), []byte(`{"properties": {"name": null}}`), []byte(`{"properties": {"category": null}}`),
		[]byte(`{"geometry": null}`), []byte(`{"properties": {"source": "x", "edited": false}}`), []byte(`{"properties": "name"}`),
		[]byte(`{"properties": {"name": {"$set": "x"}}}`), []byte(`{"op": "replace", "path": "/properties/name", "value": "x"}`),
		[]byte(`[{"op": "replace", "path": "/properties/name", "value": "x"}]`),
	}
	return bodies
}

// sweepWrites generates n write requests that must all be refused.
func sweepWrites(seed uint64, n int, reader, writer string, codes map[string][]string) []sweepRequest {
	r := rand.New(rand.NewPCG(seed^0x5eed, seed))
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	seg := func(good ...string) string {
		if r.IntN(5) > 0 && len(good) > 0 {
			return url.PathEscape(pick(good))
		}
		if r.IntN(2) == 0 {
			return pick(sweepRaw)
		}
		return url.PathEscape(pick(sweepValues))
	}
	bodies := sweepWriteBodies(codes["point"][0])
	ids := append([]string{"register-1", "register-999999", "nope"}, codes["asset"]...)
	notes := []string{"Opened", "Opened", "", "+", "%00", "a%00b", "%FF", "'%3B+DROP+TABLE+nbhd.audit_log%3B--", url.QueryEscape(strings.Repeat("n", 501)),
		url.QueryEscape("😀 <script>"), "%E2%80%AE", url.QueryEscape("line\nbreak"), "%zz", "%"}
	var out []sweepRequest
	for len(out) < n {
		method := pick([]string{"POST", "POST", "PUT", "PATCH", "PATCH", "DELETE"})
		coll := "community-assets"
		if r.IntN(6) == 0 {
			coll = seg("schools", "small-areas", "gp-practices", "nowhere")
		}
		path := "/collections/" + coll + "/items"
		if method != "POST" || r.IntN(10) == 0 {
			path += "/" + seg(ids...)
		}
		if r.IntN(15) == 0 {
			path += pick([]string{"/history", "/", "/x/y"})
		}
		var q []string
		if r.IntN(8) > 0 {
			q = append(q, "note="+pick(notes))
		}
		if method == "DELETE" && r.IntN(2) == 0 {
			q = append(q, "closed_on="+pick([]string{"2024-01-01", "2099-01-01", "0000-00-00", "yesterday", "%00", "1899-12-31"}))
		}
		if r.IntN(8) == 0 {
			q = append(q, pick([]string{"f=json", "f=html", "limit=1", "crs=EPSG:27700", "%00=1", "note=a&note=b"}))
		}
		if len(q) > 0 {
			path += "?" + strings.Join(q, "&")
		}
		h := http.Header{}
		token := ""
		switch r.IntN(8) {
		case 0:
		case 1, 2:
			token = reader
		case 3:
			h.Set("Authorization", pick([]string{"Bearer nbhd_1_guess", "Basic YTpi", "Bearer", "Bearer " + strings.Repeat("x", 500)}))
		default:
			token = writer
		}
		if token != "" {
			h.Set("Authorization", "Bearer "+token)
		}
		if r.IntN(10) > 0 {
			h.Set("Content-Type", pick([]string{"application/geo+json", "application/json", "application/merge-patch+json", "application/geo+json",
				"text/plain", "application/json; charset=utf-16", ";;;", "application/x-www-form-urlencoded", strings.Repeat("a/b;", 100)}))
		}
		ifMatch := pick([]string{"", "*", `"x"`, `W/"x"`, ",,,", `"`, strings.Repeat("a", 5000), `"0123456789abcdef0123456789abcdef"`})
		if ifMatch == "*" && token == writer && method == "DELETE" {
			ifMatch = `"stale"` // a DELETE that could succeed would close a real asset
		}
		if ifMatch != "" {
			h.Set("If-Match", ifMatch)
		}
		if r.IntN(6) == 0 {
			h.Set("Content-Crs", pick([]string{"<http://www.opengis.net/def/crs/EPSG/0/27700>", "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>",
				"EPSG:4326", "nonsense", "<>", strings.Repeat("<", 300)}))
		}
		if r.IntN(10) == 0 {
			h.Set("Origin", pick([]string{"https://elsewhere.example", "null"}))
		}
		var body []byte
		if method != "DELETE" || r.IntN(5) == 0 {
			body = bodies[r.IntN(len(bodies))]
		}
		out = append(out, sweepRequest{method: method, path: path, header: h, body: body})
	}
	return out
}

// sweepWithWrites mixes the writes into the sweep's reads (seeded), and
// adds four writes that succeed, a quarter of the way apart, with hostile
// text that is valid and must be stored and served as it is.
func sweepWithWrites(seed uint64, reads, writes []sweepRequest, writer string, codes map[string][]string) []sweepRequest {
	r := rand.New(rand.NewPCG(seed, seed^0x7f4a7c15))
	out := make([]sweepRequest, 0, len(reads)+len(writes)+4)
	out = append(out, reads...)
	for _, w := range writes {
		out = append(out, w)
		i, last := r.IntN(len(out)), len(out)-1
		out[i], out[last] = out[last], out[i]
	}
	h := func(ct string) http.Header {
		hh := http.Header{"Authorization": {"Bearer " + writer}, "If-Match": {"*"}}
		if ct != "" {
			hh.Set("Content-Type", ct)
		}
		return hh
	}
	hostile := `"name": "'; DROP TABLE nbhd.community_assets;-- 😀 <script>alert(1)</script> \u202e", "category": "warm_space", "opening_hours": "{{.}} %s%s%n"`
	good := []sweepRequest{
		{method: "POST", path: "/collections/community-assets/items?note=" + url.QueryEscape("'; DROP TABLE nbhd.audit_log;-- 😀"), header: h("application/geo+json"),
			body: []byte(`{"type": "Feature", "geometry": {"type": "Point", "coordinates": ` + codes["point"][0] + `}, "properties": {` + hostile + `}}`)},
		{method: "PATCH", path: "/collections/community-assets/items/" + url.PathEscape(codes["asset"][0]) + "?note=sweep", header: h("application/merge-patch+json"),
			body: []byte(`{"properties": {"opening_hours": "=HYPERLINK(\"x\")", "phone": null}}`)},
		{method: "PUT", path: "/collections/community-assets/items/" + url.PathEscape(codes["asset"][1]) + "?note=sweep", header: h("application/json"),
			body: []byte(`{"type": "Feature", "id": "` + codes["asset"][1] + `", "geometry": {"type": "Point", "coordinates": ` + codes["point"][1] + `}, "properties": {` + hostile + `}}`)},
		{method: "DELETE", path: "/collections/community-assets/items/" + url.PathEscape(codes["asset"][2]) + "?note=sweep", header: h("")},
	}
	for i, g := range good {
		at := (i + 1) * len(out) / 5
		out = append(out, sweepRequest{})
		copy(out[at+1:], out[at:])
		out[at] = g
	}
	return out
}

// checkSweepWrites checks that the sweep's four deliberate writes were
// made, their hostile text stored as it was sent, and nothing else changed
// the register.
func checkSweepWrites(t *testing.T, e *env, codes map[string][]string) {
	t.Helper()
	hostile := "'; DROP TABLE nbhd.community_assets;-- 😀 <script>alert(1)</script> \u202e"
	for _, c := range []struct{ sql, want string }{
		{"SELECT count(*)::text FROM nbhd.asset_register WHERE origin = 'register'", "1"},
		{"SELECT name FROM nbhd.community_assets WHERE id = 'register-1'", hostile},
		{"SELECT opening_hours FROM nbhd.community_assets WHERE id = 'register-1'", "{{.}} %s%s%n"},
		{"SELECT opening_hours || '|' || phone FROM nbhd.community_assets WHERE id = '" + codes["asset"][0] + "'", `=HYPERLINK("x")|`},
		{"SELECT name FROM nbhd.community_assets WHERE id = '" + codes["asset"][1] + "'", hostile},
		{"SELECT (closed_on IS NOT NULL AND NOT EXISTS (SELECT 1 FROM nbhd.community_assets WHERE id = '" + codes["asset"][2] + "'))::text FROM nbhd.asset_register WHERE id = '" + codes["asset"][2] + "'", "true"},
		{"SELECT count(*)::text FROM nbhd.asset_history WHERE key_id IS NOT NULL", "4"},
	} {
		got := dbtest.Strings(t, e.dbURL, c.sql)
		if len(got) != 1 || got[0] != c.want {
			t.Errorf("after the sweep, %s: %q, want %q", c.sql, got, c.want)
		}
	}
}
