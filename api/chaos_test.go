package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/paulmach/orb/maptile"

	"nbhd/api"
	"nbhd/data"
	"nbhd/data/dbtest"
)

// The chaos tests (issue 11's acceptance): a seeded bad-input sweep, slow
// clients, a frozen database, a database restart under load and a
// hang-up storm on the composite tile query. They take minutes, stop and
// freeze PostgreSQL clusters of their own and load the machine, so they
// run only with NBHD_CHAOS set: `make test-chaos`, which .ci/run runs after
// `make test`. They assert behaviour with wide margins, not speed.
func chaos(t *testing.T) {
	t.Helper()
	if os.Getenv("NBHD_CHAOS") == "" {
		t.Skip("chaos test: run with `make test-chaos` (NBHD_CHAOS=1)")
	}
}

// logBuffer collects a server's log for the test to read.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// chaosEnv is the API in this process over a database of the test's
// choosing, with its log kept.
type chaosEnv struct {
	*env
	log     *logBuffer
	handler *api.Server
}

func newChaosEnv(t *testing.T, dbURL string, cfg api.Config, dcfg data.Config) *chaosEnv {
	t.Helper()
	dcfg.URL = dbURL
	store, err := data.Open(context.Background(), dcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	lb := &logBuffer{}
	log := slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelInfo}))
	handler := api.New(cfg, store, log)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go store.WatchVersion(ctx, log, handler.DataChanged)
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return &chaosEnv{env: &env{url: srv.URL, dbURL: dbURL, store: store}, log: lb, handler: handler}
}

// internalText is what must never reach a client: SQL and its errors, Go
// errors and stack traces, file paths, role names.
var internalText = regexp.MustCompile(`SQLSTATE|pgx|pgconn|pq: |ERROR: |syntax error|goroutine \d|panic|runtime error|` +
	`\.go:\d|/work/|/root/|/home/|/tmp/|/usr/|nbhd_public|nbhd_staff|relation "|column "|context deadline|` +
	`context canceled|dial tcp|connection refused|invalid byte sequence|unexpected EOF|i/o timeout|broken pipe`)

// rss is the process's resident memory in bytes.
func rss(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// settle waits until the goroutine count is back within slack of base,
// and reports the count it saw last.
func settle(base, slack int, within time.Duration) int {
	deadline := time.Now().Add(within)
	for {
		runtime.GC()
		n := runtime.NumGoroutine()
		if n <= base+slack || time.Now().After(deadline) {
			return n
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// quietGoroutines returns the number of goroutines once it has not changed
// for a second, or after within.
func quietGoroutines(within time.Duration) int {
	deadline := time.Now().Add(within)
	n, since := runtime.NumGoroutine(), time.Now()
	for time.Since(since) < time.Second && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		runtime.GC()
		if m := runtime.NumGoroutine(); m != n {
			n, since = m, time.Now()
		}
	}
	return n
}

// sweepRequest is one generated request.
type sweepRequest struct {
	method, path string
	header       http.Header
	body         []byte
}

// sweepValues are the values the sweep tries: valid ones, edge cases and
// hostile ones. Raw ones are written into the URL as they are (bad
// percent-escapes, NUL, bytes that are not UTF-8); the others are escaped.
var (
	sweepValues = []string{"", " ", "0", "1", "-1", "7", "10", "100", "10000", "10001", "32767", "32768", "2147483647",
		"2147483648", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "1.5", "1e309", "-1e-400",
		"NaN", "Infinity", "-Inf", "true", "maybe", "2020-01-01", "2020-13-45", "0000-00-00", "json", "html", "csv", "xml",
		"geojson", "ward", "msoa", "nope", "E05000840", "E01006256", "WN1", "WN1 1LU", "P92001", "Leigh", "a",
		"-2.7,53.4,-2.4,53.6", "170,-20,-170,-10", "1,2,3", "1,2,3,4,5,6", "-181,-91,181,91", "a,b,c,d", ",,,",
		"http://www.opengis.net/def/crs/OGC/1.3/CRS84", "http://www.opengis.net/def/crs/EPSG/0/27700", "EPSG:4326",
		"[EPSG:27700]", "name", "-name", "+population", "code,name", "population,,", "'; DROP TABLE nbhd.small_areas;--",
		"' OR '1'='1", "<script>alert(1)</script>", "{{.}}", "%s%s%n", "../../../etc/passwd", "\u202e\u0000", "😀",
		"\x7f", "\t\r\n", strings.Repeat("a", 3000), strings.Repeat("9", 400), "=HYPERLINK(\"x\")", "null", "[]", "{}"}
	sweepRaw = []string{"%00", "%FF", "%C3%28", "%E2%82", "%C0%AF", "%ED%A0%80", "a%00b", "%F4%90%80%80",
		"%EF%BF%BE", "%25", "%26", "%3D", "%2F..%2F", "%0D%0A", "+%00+"}
	// sweepRawQuery are also tried in query strings; in a path they are
	// not a URL at all (net/http answers 400 before nbhd sees them).
	sweepRawQuery = append([]string{"%zz", "%", "%2", ";", "a;b"}, sweepRaw...)
	sweepParams   = []string{"f", "bbox", "bbox-crs", "crs", "limit", "offset", "properties", "sortby", "datetime", "q", "set",
		"neighbourhood", "code", "name", "population", "imd_decile", "imd_rank", "vintage", "list_size", "pupils",
		"category", "phase", "chaotic_per_1000", "assets", "access_asset_pct", "list_size_date", "assets_within_reach",
		"colour", "", "%00", "f%FF", "limit[]", "LIMIT", "filter", "filter", "filter-lang", "filter-crs"}
	// sweepFilters are CQL2 filters for the filter parameter: valid ones
	// over the collections and hostile ones (syntax, nesting, size, types,
	// numbers, geometries, unsupported functions, injection).
	sweepFilters = []string{"imd_decile <= 2", "category = 'library'", "list_size > 5000 AND S_WITHIN(geometry, BBOX(-2.75, 53.43, -2.63, 53.62))",
		"imd_decile <= 2 AND S_INTERSECTS(geometry, POLYGON((-2.6612 53.5307, -2.6011 53.5251, -2.5893 53.5603, -2.6487 53.5712, -2.6612 53.5307)))",
		`{"op": "in", "args": [{"property": "phase"}, ["Secondary", "Special"]]}`, `{"op": "<=", "args": [{"property": "imd_decile"}, 2]}`,
		"CASEI(name) LIKE CASEI('%wigan%')", "ACCENTI(name) = ACCENTI('Café')", "name = '😀' OR name LIKE '%\\%'", "population / 0 > 1",
		"population ^ 1000 > 1", "(-8) ^ 0.5 = 2", "1e300 * 1e300 * 1e300 > 1", "2 ^ 2 ^ 2 ^ 2 ^ 2 ^ 2 ^ 2 ^ 2 ^ 2 ^ 2 > 1", "imd_decile = 'two'",
		"imd_decile BETWEEN 'a' AND 3", "population + 'a' > 1", "CASEI(1) = 'a'", "name IN ()", "geometry = 1", "S_INTERSECTS(geometry, 1)",
		"S_INTERSECTS(geometry, POINT(1e308 1e308))", "S_INTERSECTS(geometry, POINT(358000 405000))", "S_WITHIN(geometry, BBOX(10, 10, -10, -10))",
		"S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))", "S_CROSSES(geometry, LINESTRING(0 0))",
		"S_INTERSECTS(geometry, GEOMETRYCOLLECTION(GEOMETRYCOLLECTION(POINT(0 0))))", "T_INTERSECTS(datetime, INTERVAL('..', '..'))",
		"A_CONTAINS(name, ('a'))", "nosuch(name) = 1", "imd_decile <= 2 AND (", "name = 'unterminated", "'; DROP TABLE nbhd.small_areas; --",
		"1 = 1) OR (1 = 1", `"name" = "name"`, "name = name", "NOT NOT NOT TRUE", "imd_decile IS NOT NULL", "list_size_date > DATE('2024-01-01')",
		"list_size < TIMESTAMP('2024-01-01T00:00:00Z')", "DATE('2024-13-45') = DATE('2024-01-01')",
		strings.Repeat("(", 300) + "TRUE" + strings.Repeat(")", 300), strings.Repeat("NOT ", 500) + "TRUE",
		strings.Repeat("imd_decile = 1 OR ", 3000) + "FALSE", strings.Repeat("x", 70_000), "population = " + strings.Repeat("9", 400),
		"S_INTERSECTS(geometry, POLYGON((" + strings.Repeat("-2.6 53.5, ", 3000) + "-2.6 53.5)))",
		strings.Repeat(`{"op": "not", "args": [`, 200) + "true" + strings.Repeat("]}", 200), `{"op": "and", "args": []}`,
		`{"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}]}`,
		`{"op": "=", "args": [{"property": "name"}, 1e999]}`, `{"op": "=", "args": [{"property": {"property": "name"}}, 1]}`, `{"op"`, `[]`, `null`}
	sweepAccept = []string{"", "application/json", "application/geo+json", "text/html", "text/csv", "*/*", "image/png",
		"text/html;q=abc", ";;;,", "application/json;q=0", strings.Repeat("a/b,", 200)}
)

// sweepRequests generates n requests from seed over every endpoint.
func sweepRequests(seed uint64, n int, token string, codes map[string][]string) []sweepRequest {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	// value gives a valid value from good about half the time, else a
	// hostile one, escaped for the place it goes.
	value := func(good []string, escape func(string) string, raw []string) string {
		switch k := r.IntN(10); {
		case k < 5 && len(good) > 0:
			return escape(pick(good))
		case k < 8:
			return escape(pick(sweepValues))
		default:
			return pick(raw)
		}
	}
	seg := func(good ...string) string { return value(good, url.PathEscape, sweepRaw) }
	collections := []string{"small-areas", "community-assets", "gp-practices", "schools", "neighbourhoods-ward", "neighbourhoods-msoa"}
	layers := append([]string{"all"}, collections...)
	endpoints := []func() string{
		func() string { return "/" },
		func() string { return "/conformance" },
		func() string { return "/api" },
		func() string { return "/collections" },
		func() string { return "/collections/" + seg(collections...) },
		func() string { return "/collections/" + seg(collections...) + "/queryables" },
		func() string { return "/collections/" + seg(collections...) + "/items" },
		func() string { return "/collections/" + seg(collections...) + "/items" },
		func() string { return "/collections/" + seg(collections...) + "/items" },
		func() string {
			return "/collections/" + seg(collections...) + "/items/" + seg(append(codes["ward"], codes["feature"]...)...)
		},
		func() string { return "/neighbourhoods" },
		func() string { return "/neighbourhoods/" + seg("ward", "msoa") },
		func() string {
			return "/neighbourhoods/" + seg("ward", "msoa") + "/" + seg(append(codes["ward"], codes["msoa"]...)...)
		},
		func() string { return "/neighbourhoods/" + seg("ward", "msoa") + "/" + seg(codes["ward"]...) },
		func() string { return "/insights/asset-gaps" },
		func() string { return "/outreach" },
		func() string { return "/outreach" },
		func() string { return "/search" },
		func() string { return "/boroughs" },
		func() string { return "/boroughs/" + seg("E08000010", "E08000001") },
		func() string { return "/indicators" },
		func() string { return "/insights/investment" },
		func() string { return "/gp-practices/" + seg(codes["feature"]...) + "/doorstep" },
		func() string { return "/schools/" + seg(codes["school"]...) + "/doorstep" },
		func() string {
			return "/map/" + seg("", "app.js", "style.css", "config.json", "index.html", "vendor/maplibre-gl.css",
				"view.json", "indicators.json", "values.json")
		},
		func() string { return "/tiles/" + seg(layers...) + ".json" },
		func() string {
			z := r.IntN(16)
			x, y := strconv.Itoa(r.IntN(1<<z)), strconv.Itoa(r.IntN(1<<z))
			if z >= 8 { // mostly tiles over the borough
				t := maptile.At([2]float64{-2.6 + r.Float64()*0.3 - 0.15, 53.53 + r.Float64()*0.16 - 0.08}, maptile.Zoom(z))
				x, y = strconv.Itoa(int(t.X)), strconv.Itoa(int(t.Y))
			}
			zs := strconv.Itoa(z)
			if r.IntN(4) == 0 {
				zs, x, y = seg("23", "-1", "0"), seg(x, "99999999999"), seg(y, "1e3")
			}
			return "/tiles/" + seg(layers...) + "/" + zs + "/" + x + "/" + y + pick([]string{".mvt", ".mvt", ".mvt", ".pbf", ""})
		},
		func() string { return "/tileMatrixSets" },
		func() string { return "/tileMatrixSets/" + seg("WebMercatorQuad", "WorldCRS84Quad") },
		func() string { return "/tiles" },
		func() string { return "/tiles/" + seg("WebMercatorQuad", "WorldCRS84Quad") },
		func() string { return "/collections/" + seg(collections...) + "/tiles" },
		func() string {
			return "/collections/" + seg(collections...) + "/tiles/" + seg("WebMercatorQuad", "all")
		},
		func() string {
			z := r.IntN(17)
			t := maptile.At([2]float64{-2.6 + r.Float64()*0.3 - 0.15, 53.53 + r.Float64()*0.16 - 0.08}, maptile.Zoom(z))
			row, col := seg(strconv.Itoa(int(t.Y)), "99999999999", "-1"), seg(strconv.Itoa(int(t.X)), strconv.Itoa(int(t.X))+".mvt", "1e3")
			base := "/collections/" + seg(collections...) + "/tiles/"
			if r.IntN(3) == 0 {
				base = "/tiles/"
			}
			return base + seg("WebMercatorQuad", "WorldCRS84Quad") + "/" + seg(strconv.Itoa(z), "25", "-1") + "/" + row + "/" + col
		},
		func() string { return "/healthz" },
		func() string { return "/readyz" },
		func() string { return "/metrics" },
		func() string { return "/" + seg("nowhere", "collections/", "map", "tiles") },
	}
	goodFor := map[string][]string{"f": {"json", "html", "csv", "geojson"}, "limit": {"1", "10", "100", "10000"},
		"offset": {"0", "5", "190"}, "set": {"ward", "msoa"}, "neighbourhood": codes["ward"], "q": {"Leigh", "WN", "E0100"},
		"crs": {"http://www.opengis.net/def/crs/EPSG/0/27700"}, "bbox-crs": {"http://www.opengis.net/def/crs/EPSG/0/27700"},
		"bbox": {"-2.7,53.4,-2.4,53.6", "170,50,-2.5,56", "350000,395000,375000,415000"}, "sortby": {"name", "-population"},
		"properties": {"name", "name,code"}, "imd_decile": {"1", "10"}, "category": {"library"},
		"indicator": {"population", "asset:library", "no_such"}, "borough": {"E08000010", "E99999999"},
		"filter": sweepFilters, "filter-lang": {"cql2-text", "cql2-json"},
		"filter-crs": {"http://www.opengis.net/def/crs/OGC/1.3/CRS84", "http://www.opengis.net/def/crs/EPSG/0/27700"}}
	var out []sweepRequest
	for len(out) < n {
		path := endpoints[r.IntN(len(endpoints))]()
		var q []string
		for range r.IntN(4) {
			name := pick(sweepParams)
			q = append(q, url.QueryEscape(name)+"="+value(goodFor[name], url.QueryEscape, sweepRawQuery))
		}
		if strings.HasPrefix(path, "/collections/small-areas/items") || strings.HasPrefix(path, "/collections/neighbourhoods-") {
			// Full pages of polygons are slow: keep them to a few.
			q = append(q, "limit="+pick([]string{"1", "5", "20"}))
		}
		if len(q) > 0 {
			path += "?" + strings.Join(q, "&")
		}
		h := http.Header{}
		if a := pick(sweepAccept); a != "" {
			h.Set("Accept", a)
		}
		if r.IntN(2) == 0 {
			h.Set("Accept-Encoding", "gzip")
		}
		switch r.IntN(8) {
		case 0:
			h.Set("Authorization", "Bearer "+token)
		case 1:
			h.Set("Authorization", pick([]string{"Bearer nbhd_1_guess", "Basic YTpi", "Bearer", "Bearer " + strings.Repeat("x", 500)}))
		case 2:
			h.Set("If-None-Match", pick([]string{"*", `"x"`, `W/"1-2"`, ",,,"}))
		case 3:
			h.Set("If-Modified-Since", pick([]string{"Mon, 02 Jan 2006 15:04:05 GMT", "yesterday", ""}))
		case 4:
			h.Set("Origin", pick([]string{"https://elsewhere.example", "null"}))
		}
		method := "GET"
		switch k := r.IntN(20); {
		case k == 0:
			method = "POST"
		case k == 1:
			method = "OPTIONS"
		case k < 4:
			method = "HEAD"
		}
		out = append(out, sweepRequest{method: method, path: path, header: h})
	}
	return out
}

// TestChaosBadInputSweep sends at least 10,000 generated requests (seeded:
// NBHD_CHAOS_SEED, default 11) across every endpoint and parameter, good,
// edge-case and hostile values mixed, and 2,000 writes to the asset
// register (api/register_chaos_test.go) among them: no 5xx, no internal
// text in any body, errors as {code, description}, and goroutines and
// memory back to where they were.
func TestChaosBadInputSweep(t *testing.T) {
	chaos(t)
	seed := uint64(11)
	if s := os.Getenv("NBHD_CHAOS_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	// Failed key checks are not rate-limited here, so that requests with
	// the valid keys reach their handlers (the limiter has tests of its own).
	e := newChaosEnv(t, dbtest.New(t, true), api.Config{AuthFailuresPerMinute: 1 << 20}, data.Config{})
	token, _ := e.staff(t)
	codes := map[string][]string{}
	for kind, sql := range map[string]string{
		"ward":    "SELECT code FROM nbhd.neighbourhoods WHERE set_id = 'ward' ORDER BY code LIMIT 5",
		"msoa":    "SELECT code FROM nbhd.neighbourhoods WHERE set_id = 'msoa' ORDER BY code LIMIT 5",
		"feature": "(SELECT code FROM nbhd.small_areas ORDER BY code LIMIT 3) UNION ALL (SELECT code FROM nbhd.gp_practices ORDER BY code LIMIT 3)",
		"school":  "SELECT id::text FROM nbhd.schools ORDER BY id LIMIT 3",
	} {
		codes[kind] = dbtest.Strings(t, e.dbURL, sql)
	}
	writer, _ := e.staff(t, "assets:write")
	codes["asset"] = dbtest.Strings(t, e.dbURL, "SELECT id FROM nbhd.community_assets ORDER BY id LIMIT 4")
	codes["point"] = dbtest.Strings(t, e.dbURL, "SELECT format('[%s, %s]', round(ST_X(p)::numeric, 6), round(ST_Y(p)::numeric, 6)) FROM (SELECT ST_PointOnSurface(geom) p FROM nbhd.small_areas ORDER BY code LIMIT 2) x")
	reqs := sweepWithWrites(seed, sweepRequests(seed, 10_200, token, codes), sweepWrites(seed, 2_000, token, writer, codes), writer, codes)
	// Bodies of a megabyte and more are sent as curl sends them, with
	// Expect: 100-continue, so a server that refuses them unread never
	// receives them (without it, the unread rest of a body resets the
	// connection under a client still writing, which is TCP, not nbhd).
	client := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 16, ExpectContinueTimeout: 5 * time.Second},
		Timeout: time.Minute}

	send := func(q sweepRequest) (int, http.Header, []byte, error) {
		var sent io.Reader
		if q.body != nil {
			sent = bytes.NewReader(q.body)
		}
		req, err := http.NewRequestWithContext(context.Background(), q.method, e.url+q.path, sent)
		if err != nil {
			return 0, nil, nil, err
		}
		req.Header = q.header.Clone()
		if len(q.body) >= 1<<20 {
			req.Header.Set("Expect", "100-continue")
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err == nil && resp.Header.Get("Content-Encoding") == "gzip" && len(body) > 0 {
			zr, zerr := gzip.NewReader(bytes.NewReader(body))
			if zerr != nil {
				return resp.StatusCode, resp.Header, body, fmt.Errorf("bad gzip: %w", zerr)
			}
			body, err = io.ReadAll(zr)
		}
		return resp.StatusCode, resp.Header, body, err
	}
	// Warm up (catalogue, tile listener, pools), then take the baseline.
	for _, q := range reqs[:200] {
		_, _, _, _ = send(q)
	}
	client.CloseIdleConnections()
	time.Sleep(time.Second)
	runtime.GC()
	debug.FreeOSMemory()
	baseG, baseRSS := runtime.NumGoroutine(), rss(t)

	start := time.Now()
	var mu sync.Mutex
	statuses := map[int]int{}
	var failures []string
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(failures) < 30 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(reqs) {
					return
				}
				q := reqs[i]
				status, h, body, err := send(q)
				if err != nil {
					fail("%s %s: %v", q.method, q.path, err)
					continue
				}
				mu.Lock()
				statuses[status]++
				mu.Unlock()
				if status >= 500 {
					fail("%s %s: %d %.300s", q.method, q.path, status, body)
				}
				if m := internalText.Find(body); m != nil {
					fail("%s %s: %d body holds %q: %.300s", q.method, q.path, status, m, body)
				}
				if status >= 400 && q.method != "HEAD" && h.Get("Content-Type") == "application/json; charset=utf-8" {
					var eb struct{ Code, Description string }
					if json.Unmarshal(body, &eb) != nil || eb.Code == "" || eb.Description == "" {
						fail("%s %s: %d error body %.300s", q.method, q.path, status, body)
					}
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	checkSweepWrites(t, e.env, codes)
	client.CloseIdleConnections()
	goroutines := settle(baseG, 5, 15*time.Second)
	runtime.GC()
	debug.FreeOSMemory()
	afterRSS := rss(t)

	var summary []string
	for s, n := range statuses {
		summary = append(summary, fmt.Sprintf("%d×%d", n, s))
	}
	sort.Strings(summary)
	t.Logf("seed %d: %d requests in %s (%.0f/s): %s", seed, len(reqs), took.Round(time.Millisecond), float64(len(reqs))/took.Seconds(), strings.Join(summary, " "))
	t.Logf("goroutines %d before, %d after; RSS %.1f MB before, %.1f MB after", baseG, goroutines, float64(baseRSS)/(1<<20), float64(afterRSS)/(1<<20))
	for _, f := range failures {
		t.Error(f)
	}
	if len(reqs) < 10_000 {
		t.Errorf("only %d requests", len(reqs))
	}
	if goroutines > baseG+5 {
		t.Errorf("goroutines %d after the sweep, %d before", goroutines, baseG)
	}
	// The test binary's heap and the pools' buffers grow a little with
	// use; a leak of responses or spools would be far more.
	if afterRSS > baseRSS+48<<20 {
		t.Errorf("RSS grew from %.1f MB to %.1f MB", float64(baseRSS)/(1<<20), float64(afterRSS)/(1<<20))
	}
}

// slowClient opens a connection that asks for large responses, pipelined,
// and never reads: the server blocks writing to it as soon as the socket
// buffers are full (the receive window is 4 KiB; the server's send buffer
// may grow to 4 MiB, so the requests ask for well over that).
func slowClient(t *testing.T, base string, paths []string) net.Conn {
	t.Helper()
	u, _ := url.Parse(base)
	conn, err := (&net.Dialer{}).DialContext(context.Background(), "tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.(*net.TCPConn).SetReadBuffer(4096)
	var b strings.Builder
	for range 300 {
		for _, p := range paths {
			fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", p, u.Host)
		}
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	return conn
}

// TestChaosSlowClientsNeverHoldThePool: four times the pool size of
// clients ask for large responses and never read them. Normal requests
// that need the database still answer within a second, and the slow
// clients are cut off by the write deadline, logged as cut, their
// goroutines gone.
func TestChaosSlowClientsNeverHoldThePool(t *testing.T) {
	chaos(t)
	const pool = 2
	e := newChaosEnv(t, dbtest.New(t, true), api.Config{WriteTimeout: 5 * time.Second, TileCacheBytes: -1}, data.Config{MaxConns: pool})
	e.get(t, "/collections") // catalogue loaded
	// The count once the server is quiet: counted while the start's
	// background reads still ran, it once held goroutines that ended
	// during the test, and the slow clients seemed not to be served.
	baseG := quietGoroutines(10 * time.Second)
	large := [][]string{
		{"/collections/small-areas/items?limit=10000"},
		{"/collections/small-areas/items?limit=10000&f=csv"},
		{"/collections/neighbourhoods-msoa/items?limit=10000&f=html"},
		{"/insights/asset-gaps?set=ward"},
	}
	for i := range 4 * pool {
		slowClient(t, e.url, large[i%len(large)])
	}
	// Wait until every slow client has a handler blocked on it (at least
	// its connection's goroutine), for less than the write timeout, after
	// which they are cut off.
	for wait := time.Now().Add(4 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		g := runtime.NumGoroutine()
		if g >= baseG+4*pool {
			break
		}
		if time.Now().After(wait) {
			t.Fatalf("%d goroutines with %d slow clients (%d before): the clients are not being served", g, 4*pool, baseG)
		}
	}
	time.Sleep(500 * time.Millisecond) // and blocked, not just started
	var worst time.Duration
	for _, p := range []string{"/collections/schools/items?limit=10", "/neighbourhoods/ward/E05000840",
		"/collections/gp-practices/items/P92001", "/tiles/all/12/2018/1323.mvt", "/search?q=Leigh",
		"/collections/community-assets/items?limit=50&f=csv", "/neighbourhoods/ward?f=csv", "/readyz"} {
		for range 3 {
			start := time.Now()
			resp, body := e.get(t, p)
			took := time.Since(start)
			worst = max(worst, took)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s with slow clients: %d %s", p, resp.StatusCode, body)
			}
			if took > time.Second {
				t.Errorf("%s with %d slow clients on a pool of %d: %s", p, 4*pool, pool, took)
			}
		}
	}
	t.Logf("%d slow clients, pool of %d: slowest normal request %s", 4*pool, pool, worst.Round(time.Microsecond))
	// The write deadline (5 s) cuts the slow clients off.
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(e.log.String(), "cut=true") < 4*pool && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if n := strings.Count(e.log.String(), "cut=true"); n < 4*pool {
		t.Errorf("%d responses logged as cut, want %d:\n%s", n, 4*pool, e.log.String())
	}
	for _, line := range strings.Split(e.log.String(), "\n") {
		if strings.Contains(line, "cut=true") && (!strings.Contains(line, "status=200") || !strings.Contains(line, "level=WARN")) {
			t.Errorf("cut response logged as %q", line)
		}
	}
	if g := settle(baseG, 3, 15*time.Second); g > baseG+3 {
		t.Errorf("%d goroutines after the slow clients were cut, %d before", g, baseG)
	}
}

// outageRequests are requests that need the database, each a different
// uncached tile or query so nothing is answered from a cache.
func outageRequests(i int) string {
	switch i % 4 {
	case 0:
		return fmt.Sprintf("/collections/schools/items?limit=%d", 1+i%50)
	case 1:
		return []string{"/neighbourhoods/ward/E05000840", "/neighbourhoods/msoa/E02001287?f=csv", "/insights/asset-gaps?set=ward"}[i/4%3]
	case 2:
		return fmt.Sprintf("/tiles/all/14/%d/%d.mvt", 8085+i%9, 5290+i%7)
	}
	return fmt.Sprintf("/search?q=WN%d", i%9)
}

// TestChaosStalledDatabase freezes the database (SIGSTOP on every process
// of a cluster of the test's own) for longer than the request deadline.
// Requests that need it end with 503 and Retry-After within the deadline;
// /healthz and cached tiles still answer; the outage is logged once per
// interval, not per request; after SIGCONT the service recovers by itself.
func TestChaosStalledDatabase(t *testing.T) {
	chaos(t)
	cl := dbtest.NewCluster(t)
	dbURL := cl.NewDatabase(t, "nbhd", true)
	const deadline = 4 * time.Second
	e := newChaosEnv(t, dbURL, api.Config{RequestTimeout: deadline},
		data.Config{StatementTimeout: 2 * time.Second, AcquireTimeout: 2 * time.Second, ConnectTimeout: 2 * time.Second})
	cached := "/tiles/all/12/2018/1323.mvt"
	if resp, _ := e.get(t, cached); resp.StatusCode != 200 {
		t.Fatalf("warming %s: %d", cached, resp.StatusCode)
	}
	for i := range 8 { // the pool's connections made and idle
		e.get(t, outageRequests(4*i))
	}
	baseG := settle(0, 1<<30, 0)

	cl.Signal(t, syscall.SIGSTOP)
	frozen := time.Now()
	stopped := true
	defer func() {
		if stopped {
			cl.Signal(t, syscall.SIGCONT)
		}
	}()
	type result struct {
		path   string
		status int
		retry  string
		took   time.Duration
	}
	var mu sync.Mutex
	var results []result
	var wg sync.WaitGroup
	for i := 0; time.Since(frozen) < 10*time.Second; i++ {
		p := outageRequests(i)
		wg.Go(func() {
			start := time.Now()
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, e.url+p, nil)
			resp, err := rawClient.Do(req)
			r := result{path: p, took: time.Since(start)}
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				r.status, r.retry = resp.StatusCode, resp.Header.Get("Retry-After")
			}
			mu.Lock()
			results = append(results, r)
			mu.Unlock()
		})
		time.Sleep(100 * time.Millisecond)
		if i%10 == 0 {
			if resp, _ := e.get(t, "/healthz"); resp.StatusCode != 200 {
				t.Errorf("/healthz with the database frozen: %d", resp.StatusCode)
			}
			if resp, _ := e.get(t, cached); resp.StatusCode != 200 {
				t.Errorf("cached tile with the database frozen: %d", resp.StatusCode)
			}
		}
	}
	wg.Wait()
	if resp, _ := e.get(t, "/readyz"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the database frozen: %d", resp.StatusCode)
	}
	cl.Signal(t, syscall.SIGCONT)
	stopped = false
	thawed := time.Now()
	var slowest time.Duration
	for _, r := range results {
		slowest = max(slowest, r.took)
		if r.status != http.StatusServiceUnavailable || r.retry == "" {
			t.Errorf("%s with the database frozen: %d (Retry-After %q) after %s, want 503 with Retry-After", r.path, r.status, r.retry, r.took)
		}
		if r.took > deadline+time.Second {
			t.Errorf("%s took %s, past the %s deadline", r.path, r.took, deadline)
		}
	}
	// Recovery, with nothing restarted.
	recovered := time.Duration(0)
	for time.Since(thawed) < 30*time.Second {
		ok := true
		for i := range 4 {
			if resp, _ := e.get(t, outageRequests(100+i)); resp.StatusCode >= 500 {
				ok = false
			}
		}
		if ok {
			recovered = time.Since(thawed)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if recovered == 0 {
		t.Fatalf("not recovered 30 s after SIGCONT:\n%s", e.log.String())
	}
	// Report lines, not mentions: a report's error and /readyz's warning
	// can say "database unavailable" too (a run counted 4 for 2 reports).
	reports := strings.Count(e.log.String(), `msg="database unavailable: answering 503"`)
	t.Logf("frozen 10 s: %d requests, all 503 within %s (deadline %s); %d outage log lines; recovered %s after SIGCONT",
		len(results), slowest.Round(time.Millisecond), deadline, reports, recovered.Round(time.Millisecond))
	if reports > 3 || reports == 0 {
		t.Errorf("%d outage log lines for %d refused requests in 10 s, want 1 to 3 (once per 10 s)", reports, len(results))
	}
	if n := strings.Count(e.log.String(), "level=ERROR"); n > reports+2 {
		t.Errorf("%d ERROR lines in the log, want about one per 10 s:\n%.3000s", n, e.log.String())
	}
	if g := settle(baseG, 5, 15*time.Second); g > baseG+5 {
		t.Errorf("%d goroutines after the stall, %d before", g, baseG)
	}
}

// TestChaosRestartUnderLoad stops PostgreSQL for 10 s under load. Errors
// are 503 with Retry-After (no 500s), cached tiles are served throughout,
// and success resumes within 2 s of PostgreSQL accepting connections.
func TestChaosRestartUnderLoad(t *testing.T) {
	chaos(t)
	cl := dbtest.NewCluster(t)
	dbURL := cl.NewDatabase(t, "nbhd", true)
	e := newChaosEnv(t, dbURL, api.Config{RequestTimeout: 10 * time.Second},
		data.Config{StatementTimeout: 5 * time.Second, AcquireTimeout: 2 * time.Second, ConnectTimeout: 2 * time.Second})
	cached := []string{"/tiles/all/12/2018/1323.mvt", "/tiles/small-areas/12/2018/1323.mvt"}
	for _, p := range cached {
		if resp, _ := e.get(t, p); resp.StatusCode != 200 {
			t.Fatalf("warming %s: %d", p, resp.StatusCode)
		}
	}
	type sample struct {
		at     time.Time
		path   string
		status int
		retry  string
		cached bool
	}
	var mu sync.Mutex
	var samples []sample
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var n atomic.Int64
	for w := range 6 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := int(n.Add(1))
				p, isCached := outageRequests(i), w == 0
				if isCached {
					p = cached[i%len(cached)]
				}
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, e.url+p, nil)
				resp, err := rawClient.Do(req)
				s := sample{at: time.Now(), path: p, cached: isCached}
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					s.status, s.retry = resp.StatusCode, resp.Header.Get("Retry-After")
				}
				mu.Lock()
				samples = append(samples, s)
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	time.Sleep(2 * time.Second)
	stopAt := time.Now()
	cl.Stop(t)
	time.Sleep(10 * time.Second)
	cl.Start(t)
	// pg_ctl -w has seen it accept connections; confirm with one of ours.
	var ready time.Time
	for start := time.Now(); time.Since(start) < 30*time.Second; time.Sleep(20 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := dbtest.Ping(ctx, dbURL)
		cancel()
		if err == nil {
			ready = time.Now()
			break
		}
	}
	if ready.IsZero() {
		t.Fatal("PostgreSQL did not come back")
	}
	time.Sleep(5 * time.Second)
	close(stop)
	wg.Wait()

	var firstOK time.Time
	during, errs := 0, 0
	for _, s := range samples {
		switch {
		case s.cached:
			if s.status != 200 {
				t.Errorf("cached %s at +%s: %d, want 200 throughout", s.path, s.at.Sub(stopAt).Round(time.Millisecond), s.status)
			}
			continue
		case s.at.After(stopAt) && s.at.Before(ready):
			during++
		}
		if s.status >= 500 || s.status == 0 {
			errs++
			if s.status != http.StatusServiceUnavailable || s.retry == "" {
				t.Errorf("%s at +%s: %d (Retry-After %q), want 503 with Retry-After", s.path, s.at.Sub(stopAt).Round(time.Millisecond), s.status, s.retry)
			}
		}
		if s.at.After(ready) && s.status < 500 && s.status != 0 && firstOK.IsZero() {
			firstOK = s.at
		}
	}
	if firstOK.IsZero() {
		t.Fatalf("no success after PostgreSQL came back:\n%.3000s", e.log.String())
	}
	resumed := firstOK.Sub(ready)
	t.Logf("%d requests: %d during the 10 s outage, %d answered 503; success resumed %s after PostgreSQL accepted connections",
		len(samples), during, errs, resumed.Round(time.Millisecond))
	if resumed > 2*time.Second {
		t.Errorf("success resumed %s after PostgreSQL accepted connections, want within 2 s", resumed)
	}
	// After resuming, nothing fails.
	for _, s := range samples {
		if s.at.After(ready.Add(2*time.Second)) && (s.status >= 500 || s.status == 0) {
			t.Errorf("%s at +%s after recovery: %d", s.path, s.at.Sub(ready).Round(time.Millisecond), s.status)
		}
	}
	if during < 50 || errs == 0 {
		t.Errorf("%d requests during the outage, %d errors: the test did not exercise it", during, errs)
	}
}

// TestChaosTileHangupStorm soaks the composite tile query under a storm
// of hang-ups, two ways: clients of the API that drop their requests
// mid-render, and connections of the test's own that cancel the composite
// ST_AsMVT query itself (cancel requests, as a hanging-up client used to
// cause) at random points. PostgreSQL must survive: no backend killed by
// a signal, no crash recovery in its log, the same postmaster after.
func TestChaosTileHangupStorm(t *testing.T) {
	chaos(t)
	cl := dbtest.NewCluster(t)
	dbURL := cl.NewDatabase(t, "nbhd", true)
	postmaster := cl.PIDs(t)[0]
	e := newChaosEnv(t, dbURL, api.Config{TileCacheBytes: -1}, data.Config{MaxConns: 6})
	cat, err := e.store.Catalogue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	layers, _ := cat.TileLayers(data.AllLayers)
	tileAt := func(r *rand.Rand) maptile.Tile {
		z := maptile.Zoom(8 + r.IntN(7))
		return maptile.At([2]float64{-2.6 + r.Float64()*0.3 - 0.15, 53.53 + r.Float64()*0.16 - 0.08}, z)
	}
	var versions string
	if err := dbtest.Conn(t, dbURL).QueryRow(context.Background(), "SELECT version() || ' / ' || postgis_full_version()").Scan(&versions); err != nil {
		t.Fatal(err)
	}
	t.Logf("under test: %s", versions)
	const storm = 20 * time.Second
	end := time.Now().Add(storm)
	var httpReqs, cancels, completed atomic.Int64
	var wg sync.WaitGroup
	// API clients that hang up after 0-60 ms.
	for w := range 12 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for time.Now().Before(end) {
				tl := tileAt(r)
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(r.IntN(60))*time.Millisecond)
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/tiles/all/%d/%d/%d.mvt", e.url, tl.Z, tl.X, tl.Y), nil)
				if resp, err := http.DefaultClient.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				cancel()
				httpReqs.Add(1)
			}
		})
	}
	// Direct connections that cancel the composite query with cancel
	// requests after 0-80 ms, then reuse the connection.
	for w := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(100+w), 2))
			c, d := dbtest.CancelStorm(t, dbURL, "nbhd_public", end,
				func() (string, []any) { return data.TileSQL(layers, tileAt(r)) },
				func() time.Duration { return time.Duration(r.IntN(80)) * time.Millisecond })
			cancels.Add(c)
			completed.Add(d)
		})
	}
	wg.Wait()
	log := cl.Log(t)
	canceled := strings.Count(log, "canceling statement due to user request")
	t.Logf("%s storm: %d API requests dropped by their clients; %d composite queries cancelled (%d acknowledged in the log), %d completed",
		storm, httpReqs.Load(), cancels.Load(), canceled, completed.Load())
	for _, bad := range []string{"terminated by signal", "was terminated", "server process (PID", "all server processes terminated",
		"reinitializing", "not properly shut down", "automatic recovery", "PANIC", "double linked list", "corrupted"} {
		if strings.Contains(log, bad) {
			t.Errorf("PostgreSQL log has %q:\n%s", bad, tail(log, 40))
		}
	}
	if pids := cl.PIDs(t); pids[0] != postmaster {
		t.Errorf("postmaster %d, was %d", pids[0], postmaster)
	}
	if canceled < 20 {
		t.Errorf("only %d cancels reached PostgreSQL: the storm tested nothing", canceled)
	}
	if resp, _ := e.get(t, "/tiles/all/12/2018/1323.mvt"); resp.StatusCode != 200 {
		t.Errorf("a tile after the storm: %d", resp.StatusCode)
	}
}

func tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	return strings.Join(l[max(0, len(l)-lines):], "\n")
}
