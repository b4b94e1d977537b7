package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"nbhd/api"
	"nbhd/data"
	"nbhd/data/dbtest"
)

// TestSecurityHeaders: every response says nosniff, refuses framing and
// limits referrers; HTML pages allow only their own stylesheet (whose hash
// the test takes from the page itself); the map allows its workers and the
// configured basemap's origin.
func TestSecurityHeaders(t *testing.T) {
	e := newEnvWith(t, api.Config{BasemapStyle: "https://basemap.example/styles/light.json",
		BasemapOrigins: []string{"https://tiles.example"}}, data.Config{})
	for _, p := range []string{"/", "/?f=html", "/collections/schools/items?f=html", "/collections/schools/items",
		"/collections/nope", "/tiles/all/0/0/0.mvt", "/map/", "/map/app.js", "/healthz"} {
		resp, _ := e.get(t, p)
		h := resp.Header
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: nosniff %q, referrer %q, frame %q", p, h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"), h.Get("X-Frame-Options"))
		}
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q without frame-ancestors 'none'", p, csp)
		}
	}
	resp, body := e.get(t, "/collections/schools/items?f=html")
	_, css, _ := strings.Cut(string(body), "<style>")
	css, _, _ = strings.Cut(css, "</style>")
	sum := sha256.Sum256([]byte(css))
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") || strings.Contains(csp, "script-src") || strings.Contains(string(body), "style=") {
		t.Errorf("HTML page CSP %q does not allow exactly its stylesheet (or the page has style attributes)", csp)
	}
	resp, _ = e.get(t, "/map/")
	csp = resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"worker-src 'self' blob:", "script-src 'self'", "connect-src 'self' https://basemap.example https://tiles.example", "img-src 'self' https://basemap.example https://tiles.example data: blob:"} {
		if !strings.Contains(csp, want) {
			t.Errorf("map CSP %q lacks %q", csp, want)
		}
	}
	if resp, _ := e.get(t, "/collections"); resp.Header.Get("Content-Security-Policy") != "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'" {
		t.Errorf("JSON CSP %q", resp.Header.Get("Content-Security-Policy"))
	}
}

// TestCORSNeverCoversStaffRoutesByWildcard: with the default "*", public
// routes are open to any origin and /outreach (or anything sent with
// credentials) to none; an origin listed by name may use both.
func TestCORSNeverCoversStaffRoutesByWildcard(t *testing.T) {
	e := newEnv(t)
	token, _ := e.staff(t)
	origin := "https://elsewhere.example"
	if resp, _ := e.get(t, "/collections", "Origin", origin); resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("public route: ACAO %q", resp.Header.Get("Access-Control-Allow-Origin"))
	}
	for _, req := range [][]string{
		{"GET", "/outreach?set=ward&neighbourhood=E05000840", "Authorization", "Bearer " + token},
		{"OPTIONS", "/outreach?set=ward&neighbourhood=E05000840", "Access-Control-Request-Headers", "authorization"},
		{"OPTIONS", "/collections", "Access-Control-Request-Headers", "Authorization"},
		{"GET", "/collections", "Authorization", "Bearer " + token},
	} {
		resp := e.do(t, req[0], req[1], "Origin", origin, req[2], req[3])
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("%s %s with %s: ACAO %q, want none", req[0], req[1], req[2], got)
		}
	}
	listed := newEnvWith(t, api.Config{CORSOrigins: []string{"*", "https://council.example"}}, data.Config{})
	ltoken, _ := listed.staff(t)
	resp := listed.do(t, "OPTIONS", "/outreach", "Origin", "https://council.example", "Access-Control-Request-Headers", "authorization")
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://council.example" || !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("listed origin preflight: %v", resp.Header)
	}
	resp = listed.do(t, "GET", "/outreach?set=ward&neighbourhood=E05000840", "Origin", "https://council.example", "Authorization", "Bearer "+ltoken)
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "https://council.example" {
		t.Errorf("listed origin: %d ACAO %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	if resp := listed.do(t, "GET", "/outreach?set=ward&neighbourhood=E05000840", "Origin", origin, "Authorization", "Bearer "+ltoken); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("unlisted origin on a staff route: ACAO %q", resp.Header.Get("Access-Control-Allow-Origin"))
	}
}

// do sends a request with any method and header pairs and drains it.
func (e *env) do(t *testing.T, method, path string, header ...string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, e.url+path, nil)
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
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return reply{resp.StatusCode, resp.Header}
}

// TestMetrics: HEAD works, and with SeparateMetrics the API no longer
// serves /metrics, which MetricsHandler serves instead.
func TestMetrics(t *testing.T) {
	e := newEnv(t)
	if resp := e.do(t, "HEAD", "/metrics"); resp.StatusCode != 200 {
		t.Errorf("HEAD /metrics: %d", resp.StatusCode)
	}
	store, err := data.Open(context.Background(), data.Config{URL: e.dbURL})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	h := api.New(api.Config{SeparateMetrics: true}, store, slog.New(slog.NewTextHandler(io.Discard, nil)))
	public := httptest.NewServer(h)
	defer public.Close()
	metrics := httptest.NewServer(h.MetricsHandler())
	defer metrics.Close()
	for _, c := range []struct {
		base, method string
		want         int
	}{{public.URL, "GET", 404}, {public.URL, "HEAD", 404}, {metrics.URL, "GET", 200}, {metrics.URL, "HEAD", 200}, {metrics.URL, "POST", 405}} {
		resp := (&env{url: c.base}).do(t, c.method, "/metrics")
		if resp.StatusCode != c.want {
			t.Errorf("%s %s/metrics: %d, want %d", c.method, c.base, resp.StatusCode, c.want)
		}
	}
	_, body := (&env{url: metrics.URL}).get(t, "/metrics")
	if !strings.Contains(string(body), "nbhd_db_pool_max_conns") {
		t.Error("the metrics listener does not serve nbhd's metrics")
	}
}

// TestCSVDefusesFormulas gives community assets names a spreadsheet would
// run, and reads them back from every CSV that shows asset names: each
// such cell starts with an apostrophe; negative coordinates stay numbers.
func TestCSVDefusesFormulas(t *testing.T) {
	e := newEnv(t)
	conn := dbtest.Conn(t, e.dbURL)
	formulas := []string{`=HYPERLINK("http://evil.example","click")`, "+1+cmd", "-1+2", "@SUM(A1)", "\tx", "\rx"}
	if _, err := conn.Exec(context.Background(), `UPDATE nbhd.community_assets SET name = ($1::text[])[1 + abs(hashtext(id)) % 6]`, formulas); err != nil {
		t.Fatal(err)
	}
	check := func(what string, body []byte, nameCols ...string) {
		recs, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
		if err != nil || len(recs) < 2 {
			t.Fatalf("%s: %v %s", what, err, body)
		}
		cells := 0
		for _, r := range recs[1:] {
			for i, h := range recs[0] {
				v := r[i]
				switch {
				case containsName(nameCols, h):
					cells++
					if !strings.HasPrefix(v, "'") {
						t.Errorf("%s: %s = %q is not defused", what, h, v)
					}
				case h == "lon" && !strings.HasPrefix(v, "-"):
					t.Errorf("%s: lon %q is not a plain negative number", what, v)
				}
			}
		}
		if cells == 0 {
			t.Errorf("%s: no asset names checked", what)
		}
	}
	_, body := e.get(t, "/collections/community-assets/items?f=csv&limit=10000")
	check("items CSV", body, "name")
	token, _ := e.staff(t)
	_, body = e.get(t, "/outreach?set=ward&neighbourhood=E05000840&f=csv", "Authorization", "Bearer "+token)
	check("outreach CSV", body, "asset_1_name", "asset_2_name", "asset_3_name")
}

func containsName(names []string, s string) bool {
	for _, n := range names {
		if n == s {
			return true
		}
	}
	return false
}

// TestEveryAuthenticatedRequestIsAudited: a valid key's requests are
// audited whatever they are answered with, including requests refused for
// bad input before their handler ran.
func TestEveryAuthenticatedRequestIsAudited(t *testing.T) {
	e := newEnv(t)
	token, id := e.staff(t)
	scoped, _ := e.staff(t, "ward:E05000841")
	auth := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
	want := map[int]int{}
	for _, c := range []struct {
		method, path string
		token        string
		status       int
	}{
		{"GET", "/outreach?set=ward&neighbourhood=E05000840", token, 200},
		{"GET", "/outreach?set=ward", token, 400},
		{"GET", "/outreach?set=ward&neighbourhood=E05000840&colour=red", token, 400},
		{"GET", "/outreach?set=ward&neighbourhood=%00", token, 400},
		{"GET", "/outreach?set=ward&neighbourhood=NOPE", token, 404},
		{"GET", "/outreach?set=nope&neighbourhood=NOPE", token, 404},
		{"GET", "/outreach?set=ward&neighbourhood=E05000840&f=xml", token, 406},
		{"POST", "/outreach?set=ward&neighbourhood=E05000840", token, 405},
		{"GET", "/outreach?set=ward&neighbourhood=E05000840", scoped, 403},
	} {
		resp := e.do(t, c.method, c.path, auth(c.token)...)
		if resp.StatusCode != c.status {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.status)
		}
		if c.token == token {
			want[c.status]++
		}
	}
	rows, err := dbtest.Conn(t, e.dbURL).Query(context.Background(), "SELECT status, count(*) FROM nbhd.audit_log WHERE key_id = $1 GROUP BY status", id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[int]int{}
	for rows.Next() {
		var status, n int
		if err := rows.Scan(&status, &n); err != nil {
			t.Fatal(err)
		}
		got[status] = n
	}
	for status, n := range want {
		if got[status] != n {
			t.Errorf("status %d: %d audit rows, want %d (all: %v)", status, got[status], n, got)
		}
	}
	// Requests without a valid key are not authenticated: not audited.
	e.do(t, "GET", "/outreach?set=ward&neighbourhood=%00", auth("nbhd_1_guess")...)
	if n := e.dbCount(t, "SELECT count(*) FROM nbhd.audit_log WHERE key_id NOT IN (SELECT id FROM nbhd.api_keys)"); n != 0 {
		t.Errorf("%d audit rows for unknown keys", n)
	}
}
