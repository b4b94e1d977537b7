package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb/geojson"

	"nbhd/api"
	"nbhd/data"
	"nbhd/data/dbtest"
	"nbhd/geo"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

type env struct {
	url   string // server URL
	dbURL string
	store *data.Store
}

func newEnv(t *testing.T) *env { return newEnvWith(t, api.Config{}, data.Config{}) }

func newEnvWith(t *testing.T, cfg api.Config, dcfg data.Config) *env { return newEnvTB(t, cfg, dcfg) }

func newEnvTB(t testing.TB, cfg api.Config, dcfg data.Config) *env {
	t.Helper()
	return newEnvLog(t, cfg, dcfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// newEnvLog is newEnvWith logging to log.
func newEnvLog(t testing.TB, cfg api.Config, dcfg data.Config, log *slog.Logger) *env {
	t.Helper()
	dbURL := dbtest.New(t, true)
	dcfg.URL = dbURL
	store, err := data.Open(context.Background(), dcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	// Wired as `nbhd serve` wires it: data changes purge the tile cache.
	handler := api.New(cfg, store, log)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go store.WatchVersion(ctx, log, handler.DataChanged)
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return &env{url: srv.URL, dbURL: dbURL, store: store}
}

// reply is a finished response.
type reply struct {
	StatusCode int
	Header     http.Header
}

// rawClient never asks for or undoes compression: tests see exactly the
// bytes the server sent.
var rawClient = &http.Client{Transport: &http.Transport{DisableCompression: true}}

// get fetches a path with the given header pairs.
func (e *env) get(t *testing.T, path string, header ...string) (reply, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, e.url+path, nil)
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

// dbCount counts rows with an admin connection, independently of the API.
func (e *env) dbCount(t *testing.T, sql string) int {
	t.Helper()
	var n int
	if err := dbtest.Conn(t, e.dbURL).QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

var tooPrecise = regexp.MustCompile(`\d\.\d{7,}`)

func TestEveryLayerServesValidGeoJSON(t *testing.T) {
	e := newEnv(t)
	layers := map[string]int{
		"small-areas":         e.dbCount(t, "SELECT count(*) FROM nbhd.small_areas"),
		"neighbourhoods-ward": e.dbCount(t, "SELECT count(*) FROM nbhd.neighbourhoods WHERE set_id = 'ward'"),
		"neighbourhoods-msoa": e.dbCount(t, "SELECT count(*) FROM nbhd.neighbourhoods WHERE set_id = 'msoa'"),
		"community-assets":    e.dbCount(t, "SELECT count(*) FROM nbhd.community_assets"),
		"gp-practices":        e.dbCount(t, "SELECT count(*) FROM nbhd.gp_practices"),
		"schools":             e.dbCount(t, "SELECT count(*) FROM nbhd.schools"),
	}
	want := map[string]int{"small-areas": 200, "neighbourhoods-ward": 25, "neighbourhoods-msoa": 40, "schools": 129}
	for id, n := range layers {
		if w, ok := want[id]; ok && n != w {
			t.Errorf("%s: %d rows in the database, want %d", id, n, w)
		}
		resp, body := e.get(t, "/collections/"+id+"/items?limit=10000")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d: %s", id, resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/geo+json") {
			t.Errorf("%s: Content-Type %q", id, ct)
		}
		fc, err := geojson.UnmarshalFeatureCollection(body)
		if err != nil {
			t.Fatalf("%s: not GeoJSON: %v", id, err)
		}
		if len(fc.Features) != n {
			t.Errorf("%s: %d features, database has %d", id, len(fc.Features), n)
		}
		if m := tooPrecise.Find(body); m != nil {
			t.Errorf("%s: coordinate %s has more than 6 decimals", id, m)
		}
		ids := map[any]bool{}
		for _, f := range fc.Features {
			if f.ID == nil || ids[f.ID] {
				t.Errorf("%s: feature id %v missing or repeated", id, f.ID)
			}
			ids[f.ID] = true
			if err := geo.CheckLonLat(f.Geometry, geo.BritishIsles); err != nil {
				t.Errorf("%s %v: %v", id, f.ID, err)
			}
		}
	}
	if n := layers["gp-practices"]; n < 58 {
		t.Errorf("gp-practices: %d, want at least 58", n)
	}
	if n := layers["community-assets"]; n < 250 {
		t.Errorf("community-assets: %d, want at least 250", n)
	}
}

func TestHealthReadinessAndMetrics(t *testing.T) {
	e := newEnv(t)
	if resp, _ := e.get(t, "/healthz"); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz: %d", resp.StatusCode)
	}
	resp, body := e.get(t, "/readyz")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"ready"`) {
		t.Errorf("/readyz: %d %s", resp.StatusCode, body)
	}
	e.get(t, "/collections/schools/items?limit=1")
	_, body = e.get(t, "/metrics")
	for _, want := range []string{
		`nbhd_http_requests_total{method="GET",route="/collections/:collection/items",status="200"} 1`,
		`nbhd_http_request_duration_seconds_bucket{method="GET",route="/collections/:collection/items"`,
		`nbhd_db_pool_max_conns{pool="public"}`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id on the response")
	}
	resp, _ = e.get(t, "/healthz", "X-Request-Id", "abc-123")
	if got := resp.Header.Get("X-Request-Id"); got != "abc-123" {
		t.Errorf("client request id not echoed: %q", got)
	}
}

func TestReadyzFailsWhenTheDatabaseIsGone(t *testing.T) {
	e := newEnv(t)
	e.store.Close()
	resp, body := e.get(t, "/readyz")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the pools closed: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(string(body), "closed") || strings.Contains(string(body), "pool") {
		t.Errorf("/readyz leaks internal text: %s", body)
	}
}

// An applied migration edited afterwards (its stored checksum no longer
// matches the file) makes /readyz fail, naming the file.
func TestReadyzNamesAnEditedMigration(t *testing.T) {
	e := newEnv(t)
	conn := dbtest.Conn(t, e.dbURL)
	if _, err := conn.Exec(context.Background(), "UPDATE nbhd.schema_migrations SET sha256 = repeat('f', 64) WHERE name = '0001_schema.sql'"); err != nil {
		t.Fatal(err)
	}
	resp, body := e.get(t, "/readyz")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "0001_schema.sql") {
		t.Errorf("/readyz after an edited migration: %d %s", resp.StatusCode, body)
	}
}

func TestErrorsAreJSONWithoutInternals(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		path   string
		status int
	}{
		{"/collections/nope/items", 404},
		{"/collections/schools/items?limit=-1", 400},
		{"/collections/schools/items?limit=ten", 400},
		{"/collections/schools/items?offset=x", 400},
		{"/collections/schools/items?bbox=1,2,3", 400},
		{"/collections/schools/items?bbox=1,2,a,4", 400},
		{"/nowhere", 404},
	}
	for _, c := range cases {
		resp, body := e.get(t, c.path)
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", c.path, resp.StatusCode, c.status)
		}
		var eb struct{ Code, Description string }
		if err := json.Unmarshal(body, &eb); err != nil || eb.Code == "" || eb.Description == "" {
			t.Errorf("%s: body %s is not {code, description}", c.path, body)
		}
		if strings.Contains(strings.ToLower(string(body)), "sql") || strings.Contains(string(body), "SELECT") {
			t.Errorf("%s: body leaks SQL: %s", c.path, body)
		}
	}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, e.url+"/collections/schools/items", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST items: %d, want 405", resp.StatusCode)
	}
}

func waitFor(seconds int) <-chan time.Time { return time.After(time.Duration(seconds) * time.Second) }

func newBenchEnv(b *testing.B) *env {
	b.Helper()
	return newEnvTB(b, api.Config{}, data.Config{})
}
