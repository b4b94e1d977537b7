package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"testing"

	"nbhd/api"
	"nbhd/data"
	"nbhd/data/dbtest"
)

// syncBuffer is a log destination the server's goroutines share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// take returns the log records written since the last take.
func (s *syncBuffer) take(t *testing.T) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var recs []map[string]any
	sc := bufio.NewScanner(&s.b)
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	s.b.Reset()
	return recs
}

// hitServer serves the sample with an info-level JSON access log.
func hitServer(t *testing.T, cfg api.Config) (string, *syncBuffer) {
	t.Helper()
	store, err := data.Open(context.Background(), data.Config{URL: dbtest.New(t, true)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	logs := &syncBuffer{}
	srv := httptest.NewServer(api.New(cfg, store, slog.New(slog.NewJSONHandler(logs, nil))))
	t.Cleanup(srv.Close)
	return srv.URL, logs
}

// fetch is env.get with a method and a full URL.
func fetch(t *testing.T, method, url string, header ...string) (reply, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, nil)
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

// scrape reads one sample of /metrics: name with its labels, as written.
func scrape(t *testing.T, base, sample string) float64 {
	t.Helper()
	_, b := fetch(t, http.MethodGet, base+"/metrics")
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` (\S+)$`).FindSubmatch(b)
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestTileHitMatchesRouter asks for cached tiles both ways: plainly, which
// the server answers without its router (api/tilehit.go), and with an
// empty query ("?"), which always goes through the router. Status,
// headers (but Date, and the request id nbhd makes up), body, the access
// log line and the request metrics must be the same, for gzip and plain,
// HEAD, validators, empty tiles, CORS from any origin and from a list,
// and a client's request id.
func TestTileHitMatchesRouter(t *testing.T) {
	const direct = "nbhd_tile_direct_hits_total"
	for _, cfg := range []api.Config{{}, {CORSOrigins: []string{"*", "https://council.example"}}} {
		base, logs := hitServer(t, cfg)
		paths := []string{hindley, "/tiles/small-areas/14/8074/5296.mvt", "/tiles/schools,gp-practices/12/2018/1323.mvt",
			"/tiles/small-areas/14/0/0.mvt"} // the last at sea: 204
		for _, p := range paths {
			fetch(t, http.MethodGet, base+p, "Accept-Encoding", "gzip") // a miss: the router renders it
		}
		gz, _ := fetch(t, http.MethodGet, base+hindley, "Accept-Encoding", "gzip")
		plain, _ := fetch(t, http.MethodGet, base+hindley)
		variants := [][]string{
			{http.MethodGet, "Accept-Encoding", "gzip"},
			{http.MethodGet},
			{http.MethodHead, "Accept-Encoding", "gzip"},
			{http.MethodGet, "Accept-Encoding", "gzip", "If-None-Match", gz.Header.Get("ETag")},
			{http.MethodGet, "If-None-Match", plain.Header.Get("ETag")},
			{http.MethodGet, "Accept-Encoding", "gzip", "Origin", "https://council.example"},
			{http.MethodGet, "Origin", "https://elsewhere.example"},
			{http.MethodGet, "Accept-Encoding", "gzip", "X-Request-Id", "client-chosen.1"},
		}
		logs.take(t)
		for _, p := range paths {
			for _, v := range variants {
				before := scrape(t, base, direct)
				viaRouter, routerBody := fetch(t, v[0], base+p+"?", v[1:]...)
				if got := scrape(t, base, direct); got != before {
					t.Fatalf("%s %s? %v: served without the router", v[0], p, v[1:])
				}
				hit, hitBody := fetch(t, v[0], base+p, v[1:]...)
				if got := scrape(t, base, direct); got != before+1 {
					t.Fatalf("%s %s %v: not served without the router (%v direct hits, want %v)", v[0], p, v[1:], got, before+1)
				}
				name := v[0] + " " + p + " " + strconv.FormatBool(cfg.CORSOrigins != nil) + " " + fmtHeaders(v[1:])
				if hit.StatusCode != viaRouter.StatusCode || !bytes.Equal(hitBody, routerBody) {
					t.Errorf("%s: %d with %d bytes, the router %d with %d", name, hit.StatusCode, len(hitBody), viaRouter.StatusCode, len(routerBody))
				}
				if len(v) == 1 && p == hindley && (hit.StatusCode != http.StatusOK || len(hitBody) == 0) {
					t.Errorf("%s: %d with %d bytes, want a tile", name, hit.StatusCode, len(hitBody))
				}
				for _, h := range []http.Header{hit.Header, viaRouter.Header} {
					if h.Get("X-Request-Id") == "" {
						t.Errorf("%s: no request id", name)
					}
					h.Del("Date")
					if len(v) < 3 || v[len(v)-2] != "X-Request-Id" {
						h.Del("X-Request-Id")
					}
				}
				if a, b := fmtHeader(hit.Header), fmtHeader(viaRouter.Header); a != b {
					t.Errorf("%s: headers differ\nwithout the router:\n%s\nthrough it:\n%s", name, a, b)
				}
				// Two access log lines (and the scrapes'), the same but for
				// the request id and the duration.
				var lines []map[string]any
				for _, r := range logs.take(t) {
					if r["route"] == "/tiles/:layer/:z/:x/:y" {
						delete(r, "time")
						delete(r, "duration")
						delete(r, "request_id")
						lines = append(lines, r)
					}
				}
				if len(lines) != 2 || fmtJSON(lines[0]) != fmtJSON(lines[1]) {
					t.Errorf("%s: access log lines %v", name, lines)
				}
			}
		}
		// Every request above is counted under the tile route, both ways.
		perPath := scrape(t, base, `nbhd_http_requests_total{method="GET",route="/tiles/:layer/:z/:x/:y",status="304"}`)
		if perPath != 4 { // hindley's two conditional variants, both ways
			t.Errorf("%v 304s counted, want 4", perPath)
		}
	}
}

// TestTileHitDeclines checks that requests the short path must not answer
// go through the router: with credentials (audited), a query, a tile not
// in the cache, and with the cache off.
func TestTileHitDeclines(t *testing.T) {
	const direct = "nbhd_tile_direct_hits_total"
	base, _ := hitServer(t, api.Config{})
	fetch(t, http.MethodGet, base+hindley)
	for _, req := range [][]string{
		{hindley, "Authorization", "Bearer not-a-key"},
		{hindley + "?borough=E08000010"},
		{hindley + "?f=mvt"},
		{"/tiles/all/14/8074/5297.mvt"},
		{"/tiles/no-such-layer/14/8074/5296.mvt"},
		{"/tiles/all/14/8074/5296"},
		{"/tiles/all/99/8074/5296.mvt"},
	} {
		fetch(t, http.MethodGet, base+req[0], req[1:]...)
		if got := scrape(t, base, direct); got != 0 {
			t.Errorf("%v: served without the router", req)
		}
	}
	if got := scrape(t, base, direct); got != 0 {
		t.Fatalf("%v direct hits", got)
	}
	fetch(t, http.MethodGet, base+hindley)
	if got := scrape(t, base, direct); got != 1 {
		t.Errorf("a cached tile: %v direct hits, want 1", got)
	}
	off, _ := hitServer(t, api.Config{TileCacheBytes: -1})
	fetch(t, http.MethodGet, off+hindley)
	if resp, _ := fetch(t, http.MethodGet, off+hindley); resp.StatusCode != http.StatusOK || scrape(t, off, direct) != 0 {
		t.Errorf("cache off: %d, %v direct hits", resp.StatusCode, scrape(t, off, direct))
	}
}

func fmtHeaders(kv []string) string {
	b, _ := json.Marshal(kv)
	return string(b)
}

func fmtHeader(h http.Header) string {
	var b bytes.Buffer
	_ = h.Write(&b)
	return b.String()
}

func fmtJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
