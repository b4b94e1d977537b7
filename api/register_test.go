package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"nbhd/api"
	"nbhd/data"
	"nbhd/data/dbtest"
	"nbhd/data/ingest"
)

// send makes a request with a body and header pairs.
func (e *env) send(t *testing.T, method, path, body string, header ...string) (reply, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, e.url+path, r)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header}, b
}

// assetDoc is a feature as the register answers it.
type assetDoc struct {
	ID       string `json:"id"`
	Geometry struct {
		Coordinates []float64 `json:"coordinates"`
	} `json:"geometry"`
	Properties map[string]any `json:"properties"`
}

func decodeAsset(t *testing.T, b []byte) assetDoc {
	t.Helper()
	var a assetDoc
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("not a feature: %v: %s", err, b)
	}
	return a
}

// spot is a point inside one loaded small area.
type spot struct {
	code     string
	lon, lat float64
}

func (p spot) json() string {
	return fmt.Sprintf(`{"type": "Point", "coordinates": [%v, %v]}`, p.lon, p.lat)
}

// spots are points inside the first n small areas (by code).
func (e *env) spots(t *testing.T, n int) []spot {
	t.Helper()
	rows, err := dbtest.Conn(t, e.dbURL).Query(context.Background(), `SELECT code, round(ST_X(p)::numeric, 6)::float8, round(ST_Y(p)::numeric, 6)::float8
		FROM (SELECT code, ST_PointOnSurface(geom) AS p FROM nbhd.small_areas ORDER BY code LIMIT $1) x ORDER BY code`, n)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []spot
	for rows.Next() {
		var s spot
		if err := rows.Scan(&s.code, &s.lon, &s.lat); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if len(out) != n {
		t.Fatalf("%d small areas, want %d", len(out), n)
	}
	return out
}

// secondBorough makes the small areas codes a borough of their own
// (E08000001), as an import stating their local authority would: a second
// borough for the scopes to tell apart.
func (e *env) secondBorough(t *testing.T, codes ...string) {
	t.Helper()
	conn := dbtest.Conn(t, e.dbURL)
	ctx := context.Background()
	var ds int64
	if err := conn.QueryRow(ctx, "INSERT INTO nbhd.datasets (kind, key, title) VALUES ('lad_lookup', 'test', 'test: a second borough') RETURNING id").Scan(&ds); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO nbhd.boroughs (code, name) VALUES ('E08000001', 'Bolton') ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO nbhd.small_area_lads (code, lad_code, trust, dataset_id) SELECT unnest($1::text[]), 'E08000001', 1, $2", codes, ds); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SELECT logic.refresh()"); err != nil {
		t.Fatal(err)
	}
	if n := e.dbCount(t, "SELECT count(*) FROM nbhd.small_areas WHERE lad_code = 'E08000001'"); n != len(codes) {
		t.Fatalf("second borough has %d small areas, want %d", n, len(codes))
	}
}

const geoJSON = "application/geo+json"

// tileFeature finds a feature in the community-assets tile at zoom 14
// holding p, and returns it in longitude and latitude.
func (e *tileEnv) tileFeature(t *testing.T, id string, p orb.Point) (*tileAsset, bool) {
	t.Helper()
	tile := maptile.At(p, 14)
	path := fmt.Sprintf("/tiles/community-assets/14/%d/%d.mvt", tile.X, tile.Y)
	resp, b := e.get(t, path)
	if resp.StatusCode == http.StatusNoContent {
		return nil, false
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
	}
	ls, err := mvt.Unmarshal(e.tileMVT(t, path))
	if err != nil || len(ls) != 1 {
		t.Fatalf("%s: %d layers, %v", path, len(ls), err)
	}
	ls.ProjectToWGS84(tile)
	for _, f := range ls[0].Features {
		if f.Properties["id"] == id {
			pt, _ := f.Geometry.(orb.Point)
			return &tileAsset{name: fmt.Sprint(f.Properties["name"]), at: pt}, true
		}
	}
	return nil, false
}

type tileAsset struct {
	name string
	at   orb.Point
}

// near: within about a metre (a z14 tile cell is 2.4 m).
func near(a, b orb.Point) bool { return math.Abs(a[0]-b[0]) < 2e-5 && math.Abs(a[1]-b[1]) < 2e-5 }

// TestAssetRegisterLifecycle is Part 4's acceptance: create, read, update
// with a stale ETag (412), update, close, through the API with a scoped
// key; without a key 401, with another borough's key 403; every change and
// refusal audited with its borough; counts, tiles and features follow each
// change; the history lists every version with who, when and why.
func TestAssetRegisterLifecycle(t *testing.T) {
	e := &tileEnv{newEnv(t)}
	sp := e.spots(t, 3)
	a, b := sp[0], sp[1]
	e.secondBorough(t, sp[2].code)
	writer, writerID := e.staff(t, "borough:E08000010", "assets:write")
	reader, _ := e.staff(t, "borough:E08000010")
	bolton, boltonID := e.staff(t, "borough:E08000001", "assets:write")
	auth := func(token string) []string { return []string{"Authorization", "Bearer " + token} }
	withKey := func(token string, h ...string) []string { return append(auth(token), h...) }
	assetsIn := func(code string) int {
		return e.dbCount(t, "SELECT assets FROM nbhd.small_area_stats WHERE code = '"+code+"'")
	}
	version := func() int { return e.dbCount(t, "SELECT version::int FROM nbhd.data_version") }
	baseA, baseB := assetsIn(a.code), assetsIn(b.code)

	body := `{"type": "Feature", "geometry": ` + a.json() + `, "properties": {"name": "Leigh Warm Space", "category": "warm_space",
		"postcode": "wn7 1aa", "opening_hours": "Mo-Fr 10:00-16:00"}}`
	items := "/collections/community-assets/items"
	if resp, b := e.send(t, "POST", items+"?note=new", body, "Content-Type", geoJSON); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST without a key: %d %s", resp.StatusCode, b)
	}
	if resp, b := e.send(t, "POST", items+"?note=new", body, withKey(reader, "Content-Type", geoJSON)...); resp.StatusCode != http.StatusForbidden ||
		!strings.Contains(string(b), "assets:write") {
		t.Errorf("POST with a read-only key: %d %s", resp.StatusCode, b)
	}
	if resp, b := e.send(t, "POST", items+"?note=new", body, withKey(bolton, "Content-Type", geoJSON)...); resp.StatusCode != http.StatusForbidden ||
		!strings.Contains(string(b), "E08000010") {
		t.Errorf("POST into Wigan with Bolton's key: %d %s", resp.StatusCode, b)
	}
	if resp, b := e.send(t, "POST", "/collections/schools/items?note=new", body, withKey(writer, "Content-Type", geoJSON)...); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST to a read-only collection: %d %s", resp.StatusCode, b)
	}
	if resp, b := e.send(t, "POST", items, body, withKey(writer, "Content-Type", geoJSON)...); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "note") {
		t.Errorf("POST without a note: %d %s", resp.StatusCode, b)
	}

	// Create.
	v0 := version()
	resp, created := e.send(t, "POST", items+"?note=Opened+for+the+winter", body, withKey(writer, "Content-Type", geoJSON)...)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, created)
	}
	asset := decodeAsset(t, created)
	loc := resp.Header.Get("Location")
	etag1 := resp.Header.Get("ETag")
	if !strings.HasSuffix(loc, items+"/"+asset.ID) || !strings.HasPrefix(asset.ID, "register-") || etag1 == "" || strings.HasPrefix(etag1, "W/") {
		t.Fatalf("create: Location %q, id %q, ETag %q", loc, asset.ID, etag1)
	}
	if p := asset.Properties; p["name"] != "Leigh Warm Space" || p["postcode"] != "WN7 1AA" || p["source"] != "council register" ||
		p["lad_code"] != "E08000010" || p["edited"] != false || p["status"] != "open" {
		t.Errorf("created: %v", p)
	}
	if version() <= v0 {
		t.Error("create did not bump the data version")
	}
	if got := assetsIn(a.code); got != baseA+1 {
		t.Errorf("assets in %s after create: %d, want %d", a.code, got, baseA+1)
	}
	path := items + "/" + asset.ID

	// Read: publicly, and as staff with the same strong ETag.
	resp, pub := e.get(t, path)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(pub), `"source":"council register"`) || !strings.Contains(string(pub), `"edited":false`) {
		t.Errorf("public read: %d %s", resp.StatusCode, pub)
	}
	resp, _ = e.get(t, path, auth(writer)...)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") != etag1 || resp.Header.Get("Cache-Control") != "private, no-store" {
		t.Errorf("staff read: %d ETag %q (created %q) %q", resp.StatusCode, resp.Header.Get("ETag"), etag1, resp.Header.Get("Cache-Control"))
	}
	if resp, _ := e.get(t, path, withKey(writer, "If-None-Match", etag1)...); resp.StatusCode != http.StatusNotModified {
		t.Errorf("staff read with its ETag: %d", resp.StatusCode)
	}
	if at, ok := e.tileFeature(t, asset.ID, orb.Point{a.lon, a.lat}); !ok || at.name != "Leigh Warm Space" || !near(at.at, orb.Point{a.lon, a.lat}) {
		t.Errorf("tile after create: %+v %v", at, ok)
	}

	// Update: without If-Match 428; the right ETag 200; the now stale one 412.
	patch := `{"properties": {"name": "Leigh Library Warm Space", "phone": "01942 404404"}}`
	mp := "application/merge-patch+json"
	if resp, b := e.send(t, "PATCH", path+"?note=renamed", patch, withKey(writer, "Content-Type", mp)...); resp.StatusCode != http.StatusPreconditionRequired {
		t.Errorf("PATCH without If-Match: %d %s", resp.StatusCode, b)
	}
	if resp, b := e.send(t, "PATCH", path+"?note=renamed", patch, withKey(writer, "Content-Type", mp, "If-Match", "W/"+etag1)...); resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("PATCH with a weak ETag: %d %s", resp.StatusCode, b)
	}
	resp, updated := e.send(t, "PATCH", path+"?note=Renamed+as+the+library+runs+it", patch, withKey(writer, "Content-Type", mp, "If-Match", etag1)...)
	etag2 := resp.Header.Get("ETag")
	if resp.StatusCode != http.StatusOK || etag2 == "" || etag2 == etag1 {
		t.Fatalf("PATCH: %d ETag %q %s", resp.StatusCode, etag2, updated)
	}
	if p := decodeAsset(t, updated).Properties; p["name"] != "Leigh Library Warm Space" || p["phone"] != "01942 404404" || p["postcode"] != "WN7 1AA" {
		t.Errorf("patched: %v", p)
	}
	if resp, b := e.send(t, "PATCH", path+"?note=again", `{"properties": {"name": "Lost update"}}`, withKey(writer, "Content-Type", mp, "If-Match", etag1)...); resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("PATCH with the stale ETag: %d %s", resp.StatusCode, b)
	}
	// Bolton's key may not touch a Wigan asset, nor Wigan's move one to Bolton.
	if resp, b := e.send(t, "PATCH", path+"?note=mine", patch, withKey(bolton, "Content-Type", mp, "If-Match", etag2)...); resp.StatusCode != http.StatusForbidden {
		t.Errorf("PATCH with Bolton's key: %d %s", resp.StatusCode, b)
	}
	if resp, b := e.send(t, "DELETE", path+"?note=mine", "", withKey(bolton, "If-Match", etag2)...); resp.StatusCode != http.StatusForbidden {
		t.Errorf("DELETE with Bolton's key: %d %s", resp.StatusCode, b)
	}
	toBolton := `{"geometry": ` + sp[2].json() + `}`
	if resp, b := e.send(t, "PATCH", path+"?note=move", toBolton, withKey(writer, "Content-Type", mp, "If-Match", etag2)...); resp.StatusCode != http.StatusForbidden ||
		!strings.Contains(string(b), "E08000001") {
		t.Errorf("moving into Bolton with Wigan's key: %d %s", resp.StatusCode, b)
	}

	// Replace: the whole feature, moved to b; what it does not say is cleared.
	replace := `{"type": "Feature", "id": "` + asset.ID + `", "geometry": ` + b.json() + `, "properties": {"name": "Leigh Warm Space",
		"category": "warm_space", "address": "Library, Turnpike Centre", "source": "sent back, ignored"}}`
	resp, replaced := e.send(t, "PUT", path+"?note=Moved+to+the+library", replace, withKey(writer, "Content-Type", geoJSON, "If-Match", etag2)...)
	etag3 := resp.Header.Get("ETag")
	if resp.StatusCode != http.StatusOK || etag3 == etag2 {
		t.Fatalf("PUT: %d %s", resp.StatusCode, replaced)
	}
	ra := decodeAsset(t, replaced)
	if p := ra.Properties; p["phone"] != "" || p["postcode"] != "" || p["address"] != "Library, Turnpike Centre" || p["source"] != "council register" {
		t.Errorf("replaced: %v", p)
	}
	if got := assetsIn(a.code); got != baseA {
		t.Errorf("assets in %s after the move: %d, want %d", a.code, got, baseA)
	}
	if got := assetsIn(b.code); got != baseB+1 {
		t.Errorf("assets in %s after the move: %d, want %d", b.code, got, baseB+1)
	}
	if _, ok := e.tileFeature(t, asset.ID, orb.Point{a.lon, a.lat}); ok && maptile.At(orb.Point{a.lon, a.lat}, 14) != maptile.At(orb.Point{b.lon, b.lat}, 14) {
		t.Error("the old tile still draws the moved asset")
	}
	if at, ok := e.tileFeature(t, asset.ID, orb.Point{b.lon, b.lat}); !ok || at.name != "Leigh Warm Space" || !near(at.at, orb.Point{b.lon, b.lat}) {
		t.Errorf("tile after the move: %+v %v", at, ok)
	}
	_, pub = e.get(t, path)
	if pa := decodeAsset(t, pub); !near(orb.Point{pa.Geometry.Coordinates[0], pa.Geometry.Coordinates[1]}, orb.Point{b.lon, b.lat}) {
		t.Errorf("public feature after the move: %v", pa.Geometry.Coordinates)
	}

	// Close: 204; gone from the public register, tiles and counts; kept for staff.
	if resp, b := e.send(t, "DELETE", path+"?note=Closed+for+the+summer&closed_on=2099-01-01", "", withKey(writer, "If-Match", etag3)...); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("closing in the future: %d %s", resp.StatusCode, b)
	}
	if resp, b := e.send(t, "DELETE", path+"?note=Closed+for+the+summer", "", withKey(writer, "If-Match", etag3)...); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", resp.StatusCode, b)
	}
	if resp, _ := e.get(t, path); resp.StatusCode != http.StatusNotFound {
		t.Errorf("public read of a closed asset: %d", resp.StatusCode)
	}
	if got := assetsIn(b.code); got != baseB {
		t.Errorf("assets in %s after closing: %d, want %d", b.code, got, baseB)
	}
	if _, ok := e.tileFeature(t, asset.ID, orb.Point{b.lon, b.lat}); ok {
		t.Error("the tile still draws the closed asset")
	}
	resp, staffView := e.get(t, path, auth(reader)...)
	if resp.StatusCode != http.StatusOK || decodeAsset(t, staffView).Properties["status"] != "closed" {
		t.Errorf("staff read of the closed asset: %d %s", resp.StatusCode, staffView)
	}
	if resp, b := e.send(t, "PATCH", path+"?note=reopen", patch, withKey(writer, "Content-Type", mp, "If-Match", "*")...); resp.StatusCode != http.StatusGone {
		t.Errorf("PATCH of a closed asset: %d %s", resp.StatusCode, b)
	}

	// History: every version, with who, when and why.
	if resp, _ := e.get(t, path+"/history"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("history without a key: %d", resp.StatusCode)
	}
	if resp, _ := e.get(t, path+"/history", auth(bolton)...); resp.StatusCode != http.StatusForbidden {
		t.Errorf("history with Bolton's key: %d", resp.StatusCode)
	}
	resp, hb := e.get(t, path+"/history", auth(reader)...)
	var h struct {
		Status   string
		Versions []struct {
			Revision         int
			Action, At, Note string
			KeyID            *int64 `json:"key_id"`
			KeyName          string `json:"key_name"`
			Borough          string `json:"lad_code"`
			Changed          []string
			Feature          assetDoc
		}
	}
	if err := json.Unmarshal(hb, &h); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("history: %d %v %s", resp.StatusCode, err, hb)
	}
	var got []string
	for i, v := range h.Versions {
		got = append(got, v.Action+":"+v.Note)
		if v.Revision != i+1 || v.KeyID == nil || *v.KeyID != writerID || v.KeyName != "test key" || v.At == "" || v.Borough != "E08000010" {
			t.Errorf("version %d: %+v", i+1, v)
		}
	}
	want := []string{"create:Opened for the winter", "update:Renamed as the library runs it", "replace:Moved to the library", "close:Closed for the summer"}
	if !slices.Equal(got, want) || h.Status != "closed" {
		t.Errorf("history %s %v, want %v", h.Status, got, want)
	}
	if len(h.Versions) == 4 {
		if v := h.Versions[2]; !slices.Contains(v.Changed, "geometry") || v.Feature.Properties["address"] != "Library, Turnpike Centre" {
			t.Errorf("the replace version: %+v", v)
		}
	}

	// Audit: every change and refusal of a key, naming the borough it concerned.
	var rows []string
	r, err := dbtest.Conn(t, e.dbURL).Query(context.Background(),
		"SELECT key_id, method, status, lad_code FROM nbhd.audit_log WHERE key_id IN ($1, $2) AND path LIKE '/collections/community-assets/items%' ORDER BY id", writerID, boltonID)
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var k int64
		var m, lad string
		var st int
		if err := r.Scan(&k, &m, &st, &lad); err != nil {
			t.Fatal(err)
		}
		who := "wigan"
		if k == boltonID {
			who = "bolton"
		}
		rows = append(rows, fmt.Sprintf("%s %s %d %s", who, m, st, lad))
	}
	wantAudit := []string{
		"bolton POST 403 E08000010", "wigan POST 400 ", "wigan POST 201 E08000010", "wigan GET 200 E08000010", "wigan GET 304 E08000010",
		"wigan PATCH 428 E08000010", "wigan PATCH 412 E08000010", "wigan PATCH 200 E08000010", "wigan PATCH 412 E08000010",
		"bolton PATCH 403 E08000010", "bolton DELETE 403 E08000010", "wigan PATCH 403 E08000001", "wigan PUT 200 E08000010",
		"wigan DELETE 400 ", "wigan DELETE 204 E08000010", "wigan PATCH 410 E08000010", "bolton GET 403 E08000010",
	}
	if !slices.Equal(rows, wantAudit) {
		t.Errorf("audit rows:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(wantAudit, "\n"))
	}
}

// TestStaffCorrectionsSurviveReimport: a staff correction of an imported
// asset shows as such and the next import of its file keeps it; an asset
// staff closed stays closed; a change in the source to a field staff did
// not set comes through, and is a version in the asset's history.
func TestStaffCorrectionsSurviveReimport(t *testing.T) {
	e := &tileEnv{newEnv(t)}
	writer, _ := e.staff(t, "assets:write")
	auth := []string{"Authorization", "Bearer " + writer}
	ids := dbtest.Strings(t, e.dbURL, "SELECT id FROM nbhd.community_assets WHERE id LIKE 'libraries:%' ORDER BY id LIMIT 2")
	edited, closed := ids[0], ids[1]
	sp := e.spots(t, 1)[0]
	etagOf := func(id string) string {
		resp, b := e.get(t, "/collections/community-assets/items/"+id, auth...)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("staff read of %s: %d %s", id, resp.StatusCode, b)
		}
		return resp.Header.Get("ETag")
	}
	_, before := e.get(t, "/collections/community-assets/items/"+edited)
	orig := decodeAsset(t, before)
	resp, b := e.send(t, "PATCH", "/collections/community-assets/items/"+edited+"?note=The+library+moved",
		`{"properties": {"name": "Moved Library", "opening_hours": "Tu-Sa 09:00-17:00"}, "geometry": `+sp.json()+`}`,
		append(auth, "Content-Type", "application/merge-patch+json", "If-Match", etagOf(edited))...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH: %d %s", resp.StatusCode, b)
	}
	if resp, b := e.send(t, "DELETE", "/collections/community-assets/items/"+closed+"?note=Closed+by+the+council", "", append(auth, "If-Match", etagOf(closed))...); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", resp.StatusCode, b)
	}
	check := func(stage string) assetDoc {
		t.Helper()
		resp, b := e.get(t, "/collections/community-assets/items/"+edited)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", stage, resp.StatusCode, b)
		}
		a := decodeAsset(t, b)
		p := a.Properties
		if p["name"] != "Moved Library" || p["opening_hours"] != "Tu-Sa 09:00-17:00" || p["edited"] != true || p["edited_at"] == nil ||
			!near(orb.Point{a.Geometry.Coordinates[0], a.Geometry.Coordinates[1]}, orb.Point{sp.lon, sp.lat}) {
			t.Errorf("%s: %v %v", stage, p, a.Geometry.Coordinates)
		}
		if at, ok := e.tileFeature(t, edited, orb.Point{sp.lon, sp.lat}); !ok || at.name != "Moved Library" {
			t.Errorf("%s: tile %+v %v", stage, at, ok)
		}
		if resp, _ := e.get(t, "/collections/community-assets/items/"+closed); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: the closed asset answers %d", stage, resp.StatusCode)
		}
		return a
	}
	check("after the edit")
	if n := e.dbCount(t, "SELECT count(*) FROM api.community_assets WHERE edited"); n != 1 {
		t.Errorf("%d edited assets, want 1", n)
	}

	// The same file again: nothing staff set is undone.
	reimport := func(file string) {
		t.Helper()
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := ingest.Run(context.Background(), dbtest.Conn(t, e.dbURL), ingest.Job{Kind: "assets", File: file,
			Options: ingest.Options{"key": "libraries", "category": "library"},
			Dataset: ingest.Dataset{Title: "Libraries in Wigan", Licence: "Open Government Licence v3.0"}}, f); err != nil {
			t.Fatal(err)
		}
	}
	sample := "../data/sample/wigan/community/libraries.geojson"
	reimport(sample)
	a := check("after re-importing the file")
	if a.Properties["address"] != orig.Properties["address"] || a.Properties["category"] != "library" {
		t.Errorf("fields staff did not set: %v, imported %v", a.Properties, orig.Properties)
	}
	_, hb := e.get(t, "/collections/community-assets/items/"+edited+"/history", auth...)
	if strings.Count(string(hb), `"action":"import"`) != 1 || strings.Count(string(hb), `"action":"update"`) != 1 {
		t.Errorf("history after re-importing the same file: %s", hb)
	}

	// A source that changed the address: it comes through, under staff's values.
	raw, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	oldAddr, _ := orig.Properties["address"].(string)
	changed := strings.Replace(string(raw), `"Address":"`+oldAddr+`"`, `"Address":"1 New Street"`, 1)
	if changed == string(raw) || oldAddr == "" {
		t.Fatalf("could not find the address %q in the sample", oldAddr)
	}
	file := t.TempDir() + "/libraries.geojson"
	if err := os.WriteFile(file, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	reimport(file)
	a = check("after a changed source")
	if a.Properties["address"] != "1 New Street" {
		t.Errorf("the source's new address did not come through: %v", a.Properties)
	}
	_, hb = e.get(t, "/collections/community-assets/items/"+edited+"/history", auth...)
	var h struct {
		Versions []struct {
			Action  string
			Changed []string
			Feature assetDoc
		}
	}
	if err := json.Unmarshal(hb, &h); err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, v := range h.Versions {
		actions = append(actions, v.Action)
	}
	if !slices.Equal(actions, []string{"import", "update", "import"}) {
		t.Fatalf("history actions %v", actions)
	}
	if last := h.Versions[2]; !slices.Equal(last.Changed, []string{"address"}) || last.Feature.Properties["address"] != "1 New Street" ||
		last.Feature.Properties["name"] != "Moved Library" {
		t.Errorf("the import version: %+v", last)
	}

	// A source that no longer lists the asset: it goes, its history stays.
	var fc struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal([]byte(changed), &fc); err != nil {
		t.Fatal(err)
	}
	kept := fc.Features[:0]
	for _, f := range fc.Features {
		if !strings.Contains(string(f), `"1 New Street"`) {
			kept = append(kept, f)
		}
	}
	fc.Features = kept
	dropped, err := json.Marshal(fc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, dropped, 0o600); err != nil {
		t.Fatal(err)
	}
	reimport(file)
	if resp, _ := e.get(t, "/collections/community-assets/items/"+edited); resp.StatusCode != http.StatusNotFound {
		t.Errorf("public read of an asset its source dropped: %d", resp.StatusCode)
	}
	if resp, b := e.get(t, "/collections/community-assets/items/"+edited, auth...); resp.StatusCode != http.StatusNotFound || !strings.Contains(string(b), "history") {
		t.Errorf("staff read of an asset its source dropped: %d %s", resp.StatusCode, b)
	}
	resp, hb = e.get(t, "/collections/community-assets/items/"+edited+"/history", auth...)
	var removed struct {
		Status   string
		Versions []json.RawMessage
	}
	if err := json.Unmarshal(hb, &removed); err != nil || resp.StatusCode != http.StatusOK || removed.Status != "removed" || len(removed.Versions) != 3 {
		t.Errorf("history of an asset its source dropped: %d %v %s", resp.StatusCode, err, hb)
	}
}

// TestOutreachByBorough: a borough's key reads its own neighbourhoods'
// outreach lists and no other borough's; a set's key any neighbourhood of
// that set; each request's audit row names the neighbourhood's borough.
func TestOutreachByBorough(t *testing.T) {
	e := newEnv(t)
	ward := dbtest.Strings(t, e.dbURL, "SELECT code FROM nbhd.neighbourhoods WHERE set_id = 'ward' ORDER BY code LIMIT 1")[0]
	other := dbtest.Strings(t, e.dbURL, "SELECT code FROM nbhd.neighbourhoods WHERE set_id = 'ward' AND code <> $1 ORDER BY code LIMIT 1", ward)[0]
	// A ward that is all in the second borough is that borough's.
	e.secondBorough(t, dbtest.Strings(t, e.dbURL, "SELECT small_area_code FROM nbhd.neighbourhood_members WHERE set_id = 'ward' AND neighbourhood_code = $1", ward)...)
	if lad := dbtest.Strings(t, e.dbURL, "SELECT lad_code FROM nbhd.neighbourhoods WHERE set_id = 'ward' AND code = $1", ward)[0]; lad != "E08000001" {
		t.Fatalf("ward %s is in %s", ward, lad)
	}
	wigan, wiganID := e.staff(t, "borough:E08000010")
	bolton, boltonID := e.staff(t, "borough:E08000001")
	wards, _ := e.staff(t, "set:ward")
	msoas, _ := e.staff(t, "set:msoa")
	for _, c := range []struct {
		token, code string
		want        int
	}{
		{bolton, ward, 200}, {bolton, other, 403}, {wigan, ward, 403}, {wigan, other, 200},
		{wards, ward, 200}, {wards, other, 200}, {msoas, ward, 403},
	} {
		resp, b := e.get(t, "/outreach?set=ward&neighbourhood="+c.code, "Authorization", "Bearer "+c.token)
		if resp.StatusCode != c.want {
			t.Errorf("outreach of %s: %d, want %d: %.200s", c.code, resp.StatusCode, c.want, b)
		}
	}
	for _, c := range []struct {
		key  int64
		want string
	}{{boltonID, "200 E08000001,403 E08000010"}, {wiganID, "403 E08000001,200 E08000010"}} {
		got := dbtest.Strings(t, e.dbURL, "SELECT string_agg(status || ' ' || lad_code, ',' ORDER BY id) FROM nbhd.audit_log WHERE key_id = $1", c.key)[0]
		if got != c.want {
			t.Errorf("audit of key %d: %s, want %s", c.key, got, c.want)
		}
	}
}

// TestRegisterIsDeclared: the conformance classes, the collection's
// writable member, the OpenAPI operations with the bearer scheme, and
// OPTIONS naming each path's methods.
func TestRegisterIsDeclared(t *testing.T) {
	e := newEnvWith(t, api.Config{CORSOrigins: []string{"https://staff.example"}}, data.Config{})
	_, b := e.get(t, "/conformance")
	for _, c := range []string{"create-replace-delete", "update", "features"} {
		if !strings.Contains(string(b), `"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/`+c+`"`) {
			t.Errorf("/conformance lacks Part 4 %s: %s", c, b)
		}
	}
	var coll struct {
		Writable *struct {
			Methods     []string
			Description string
		}
	}
	_, b = e.get(t, "/collections/community-assets")
	if err := json.Unmarshal(b, &coll); err != nil || coll.Writable == nil || !slices.Equal(coll.Writable.Methods, []string{"POST", "PUT", "PATCH", "DELETE"}) ||
		!strings.Contains(coll.Writable.Description, "assets:write") {
		t.Errorf("community-assets does not say it is writable: %v %s", err, b)
	}
	_, b = e.get(t, "/collections/schools")
	if strings.Contains(string(b), `"writable"`) {
		t.Errorf("schools says it is writable: %s", b)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Security    []map[string][]string
			RequestBody *struct{ Content map[string]any }
			Responses   map[string]any
			Parameters  []map[string]any
		}
	}
	_, b = e.get(t, "/api")
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for path, methods := range map[string][]string{
		"/collections/community-assets/items":                     {"post"},
		"/collections/community-assets/items/{featureId}":         {"put", "patch", "delete"},
		"/collections/community-assets/items/{featureId}/history": {"get"},
	} {
		for _, m := range methods {
			op, ok := doc.Paths[path][m]
			if !ok || len(op.Security) != 1 || op.Security[0]["staffKey"] == nil || op.Responses["401"] == nil || op.Responses["403"] == nil {
				t.Errorf("/api: %s %s missing or without the bearer scheme: %+v", m, path, op)
			}
		}
	}
	if op := doc.Paths["/collections/community-assets/items/{featureId}"]["patch"]; op.RequestBody == nil || op.RequestBody.Content["application/merge-patch+json"] == nil ||
		op.Responses["412"] == nil || op.Responses["428"] == nil {
		t.Errorf("/api: PATCH: %+v", op)
	}
	if _, ok := doc.Paths["/collections/schools/items"]["post"]; ok {
		t.Error("/api documents writes to schools")
	}
	for path, want := range map[string]string{
		"/collections/community-assets/items":         "GET, HEAD, POST, OPTIONS",
		"/collections/community-assets/items/lib:1":   "GET, HEAD, PUT, PATCH, DELETE, OPTIONS",
		"/collections/schools/items/1":                "GET, HEAD, OPTIONS",
		"/collections/community-assets/items/a/b/c/d": "GET, HEAD, OPTIONS",
	} {
		if resp := e.do(t, "OPTIONS", path); resp.Header.Get("Allow") != want {
			t.Errorf("OPTIONS %s: Allow %q, want %q", path, resp.Header.Get("Allow"), want)
		}
	}
	resp := e.do(t, "OPTIONS", "/collections/community-assets/items/lib:1", "Origin", "https://staff.example",
		"Access-Control-Request-Method", "PATCH", "Access-Control-Request-Headers", "authorization, if-match, content-type")
	if m, h := resp.Header.Get("Access-Control-Allow-Methods"), resp.Header.Get("Access-Control-Allow-Headers"); !strings.Contains(m, "PATCH") ||
		!strings.Contains(h, "If-Match") || !strings.Contains(h, "Authorization") {
		t.Errorf("preflight from a listed origin: methods %q headers %q", m, h)
	}
	resp = e.do(t, "OPTIONS", "/collections/community-assets/items/lib:1", "Origin", "https://elsewhere.example", "Access-Control-Request-Method", "PATCH")
	if m := resp.Header.Get("Access-Control-Allow-Methods"); strings.Contains(m, "PATCH") {
		t.Errorf("preflight from an unlisted origin allows %q", m)
	}
}

// TestRegisterTakesBritishNationalGrid: a point in metres with
// Content-Crs is placed where the same point in degrees is.
func TestRegisterTakesBritishNationalGrid(t *testing.T) {
	e := newEnv(t)
	writer, _ := e.staff(t, "assets:write")
	sp := e.spots(t, 1)[0]
	xy := dbtest.Strings(t, e.dbURL, "SELECT format('[%s, %s]', round(ST_X(p)::numeric, 2), round(ST_Y(p)::numeric, 2)) FROM ST_Transform(ST_SetSRID(ST_MakePoint($1, $2), 4326), 27700) p", sp.lon, sp.lat)[0]
	body := `{"type": "Feature", "geometry": {"type": "Point", "coordinates": ` + xy + `}, "properties": {"name": "Grid Hall", "category": "community_centre"}}`
	resp, b := e.send(t, "POST", "/collections/community-assets/items?note=surveyed", body, "Authorization", "Bearer "+writer,
		"Content-Type", "application/json", "Content-Crs", "<http://www.opengis.net/def/crs/EPSG/0/27700>")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST in British National Grid: %d %s", resp.StatusCode, b)
	}
	a := decodeAsset(t, b)
	if !near(orb.Point{a.Geometry.Coordinates[0], a.Geometry.Coordinates[1]}, orb.Point{sp.lon, sp.lat}) {
		t.Errorf("placed at %v, want near %v, %v", a.Geometry.Coordinates, sp.lon, sp.lat)
	}
	resp, b = e.send(t, "POST", "/collections/community-assets/items?note=surveyed", body, "Authorization", "Bearer "+writer,
		"Content-Type", "application/json", "Content-Crs", "<http://www.opengis.net/def/crs/EPSG/0/3857>")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "Content-Crs") {
		t.Errorf("an unsupported Content-Crs: %d %s", resp.StatusCode, b)
	}
}

// TestConcurrentChangesLoseNoUpdate: changes made at once from the same
// ETag are made one at a time; the first wins, the rest are told the asset
// changed (412) — or, on a machine so loaded that the first takes longer
// than a change waits for the data lock, to try again (503 with
// Retry-After) — and none is lost silently.
func TestConcurrentChangesLoseNoUpdate(t *testing.T) {
	e := newEnv(t)
	writer, _ := e.staff(t, "assets:write")
	id := dbtest.Strings(t, e.dbURL, "SELECT id FROM nbhd.community_assets ORDER BY id LIMIT 1")[0]
	path := "/collections/community-assets/items/" + id
	resp, _ := e.get(t, path, "Authorization", "Bearer "+writer)
	etag := resp.Header.Get("ETag")
	const n = 4
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp, _ := e.send(t, "PATCH", fmt.Sprintf("%s?note=editor+%d", path, i), fmt.Sprintf(`{"properties": {"name": "Editor %d"}}`, i),
				"Authorization", "Bearer "+writer, "Content-Type", "application/merge-patch+json", "If-Match", etag)
			if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	got := map[int]int{}
	for s := range statuses {
		got[s]++
	}
	if got[http.StatusOK] != 1 || got[http.StatusPreconditionFailed]+got[http.StatusServiceUnavailable] != n-1 {
		t.Errorf("statuses %v, want one 200 and %d × 412 (or 503 when busy)", got, n-1)
	}
	t.Logf("statuses %v", got)
	if v := e.dbCount(t, "SELECT count(*) FROM nbhd.asset_history WHERE asset_id = '"+id+"' AND action = 'update'"); v != 1 {
		t.Errorf("%d update versions, want 1", v)
	}
}
