package api_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"nbhd/api"
	"nbhd/data"
)

// hitServer serves the sample with an info-level JSON access log.
func hitServer(t *testing.T, cfg api.Config) (*tileEnv, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	return &tileEnv{newEnvLog(t, cfg, data.Config{}, slog.New(slog.NewJSONHandler(logs, nil)))}, logs
}

// tileLogLines waits up to two seconds for want access log records of
// the tile route after the first skip lines of the log (a line is written
// after its response is sent), and returns them without their time,
// duration and request id, with the log's line count.
func tileLogLines(t *testing.T, logs *logBuffer, skip, want int) ([]string, int) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		all := strings.Split(strings.TrimSuffix(logs.String(), "\n"), "\n")
		var out []string
		for _, line := range all[skip:] {
			var r map[string]any
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("log line %q: %v", line, err)
			}
			if r["route"] == "/tiles/:layer/:z/:x/:y" {
				delete(r, "time")
				delete(r, "duration")
				delete(r, "request_id")
				b, _ := json.Marshal(r) // maps marshal in key order
				out = append(out, string(b))
			}
		}
		if len(out) >= want || time.Now().After(deadline) {
			return out, len(all)
		}
	}
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
		e, logs := hitServer(t, cfg)
		paths := []string{hindley, "/tiles/small-areas/14/8074/5296.mvt", "/tiles/schools,gp-practices/12/2018/1323.mvt",
			"/tiles/small-areas/14/0/0.mvt"} // the last at sea: 204
		for _, p := range paths {
			e.get(t, p, "Accept-Encoding", "gzip") // a miss: the router renders it
		}
		gz, _ := e.get(t, hindley, "Accept-Encoding", "gzip")
		plain, _ := e.get(t, hindley)
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
		_, seen := tileLogLines(t, logs, 0, len(paths)+2)
		for _, p := range paths {
			for _, v := range variants {
				before := e.metric(t, direct)
				viaRouter, routerBody := e.send(t, v[0], p+"?", "", v[1:]...)
				if got := e.metric(t, direct); got != before {
					t.Fatalf("%s %s? %v: served without the router", v[0], p, v[1:])
				}
				hit, hitBody := e.send(t, v[0], p, "", v[1:]...)
				if got := e.metric(t, direct); got != before+1 {
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
				// Two access log lines, the same but for the request id and
				// the duration.
				var lines []string
				lines, seen = tileLogLines(t, logs, seen, 2)
				if len(lines) != 2 || lines[0] != lines[1] {
					t.Errorf("%s: access log lines %v", name, lines)
				}
			}
		}
		// The map's borough choice: the first request renders through the
		// router, the second is a hit without it, and both answer alike.
		for _, p := range []string{hindley + "?borough=E08000010", "/tiles/small-areas/14/8074/5296.mvt?borough=E08000010,E08000001"} {
			before := e.metric(t, direct)
			miss, missBody := e.get(t, p, "Accept-Encoding", "gzip")
			hit, hitBody := e.get(t, p, "Accept-Encoding", "gzip")
			if got := e.metric(t, direct); got != before+1 {
				t.Errorf("%s: %v direct hits, want %v", p, got, before+1)
			}
			for _, h := range []http.Header{miss.Header, hit.Header} {
				h.Del("Date")
				h.Del("X-Request-Id")
			}
			if miss.StatusCode != http.StatusOK || hit.StatusCode != miss.StatusCode || !bytes.Equal(hitBody, missBody) ||
				fmtHeader(hit.Header) != fmtHeader(miss.Header) {
				t.Errorf("%s: %d %v, then %d %v", p, miss.StatusCode, miss.Header, hit.StatusCode, hit.Header)
			}
			if unfiltered, _ := e.get(t, strings.Split(p, "?")[0], "Accept-Encoding", "gzip"); unfiltered.Header.Get("ETag") == hit.Header.Get("ETag") {
				t.Errorf("%s: the unfiltered tile's ETag", p)
			}
		}
		// Every request above is counted under the tile route, both ways.
		perPath := e.metric(t, `nbhd_http_requests_total{method="GET",route="/tiles/:layer/:z/:x/:y",status="304"}`)
		if perPath != 4 { // hindley's two conditional variants, both ways
			t.Errorf("%v 304s counted, want 4", perPath)
		}
	}
}

// TestTileHitDeclines checks that requests the short path must not answer
// go through the router: with credentials (audited), a query other than
// one borough parameter, a tile not in the cache, and with the cache off.
func TestTileHitDeclines(t *testing.T) {
	const direct = "nbhd_tile_direct_hits_total"
	e, _ := hitServer(t, api.Config{})
	e.get(t, hindley)
	for _, req := range [][]string{
		{hindley, "Authorization", "Bearer not-a-key"},
		{hindley + "?borough=E08000010"}, // not cached yet
		{hindley + "?f=mvt"},
		{hindley + "?borough=E08000010&f=mvt"},
		{hindley + "?borough=E08000010&borough=E08000001"},
		{hindley + "?borough=E99999999"},
		{hindley + "?borough=%zz"},
		{hindley + "?"},
		{"/tiles/all/14/8074/5297.mvt"},
		{"/tiles/no-such-layer/14/8074/5296.mvt"},
		{"/tiles/all/14/8074/5296"},
		{"/tiles/all/99/8074/5296.mvt"},
	} {
		e.get(t, req[0], req[1:]...)
		if got := e.metric(t, direct); got != 0 {
			t.Errorf("%v: served without the router", req)
		}
	}
	e.get(t, hindley)
	if got := e.metric(t, direct); got != 1 {
		t.Errorf("a cached tile: %v direct hits, want 1", got)
	}
	off, _ := hitServer(t, api.Config{TileCacheBytes: -1})
	off.get(t, hindley)
	if resp, _ := off.get(t, hindley); resp.StatusCode != http.StatusOK || off.metric(t, direct) != 0 {
		t.Errorf("cache off: %d, %v direct hits", resp.StatusCode, off.metric(t, direct))
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
