package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"nbhd/api"
	"nbhd/data"
	"nbhd/data/dbtest"
)

func TestCacheHeadersForACDN(t *testing.T) {
	e := newEnvWith(t, api.Config{CacheSMaxAge: 10 * time.Minute, StaleWhileRevalidate: 30 * time.Second}, data.Config{})
	v := e.store.Version()
	cases := []struct {
		path string
		keys []string
	}{
		{"/collections/schools/items?limit=1", []string{"nbhd-data", "nbhd-layer-schools"}},
		{"/neighbourhoods/ward", []string{"nbhd-data", "nbhd-layer-neighbourhoods-ward"}},
		{"/tiles/schools.json", []string{"nbhd-data", "nbhd-layer-schools"}},
		{"/tiles/all/10/504/331.mvt", []string{"nbhd-data", "nbhd-layer-small-areas", "nbhd-layer-gp-practices", "nbhd-layer-neighbourhoods-ward"}},
	}
	for _, tc := range cases {
		resp, _ := e.get(t, tc.path)
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
			t.Errorf("%s: %d", tc.path, resp.StatusCode)
			continue
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=60, s-maxage=600, stale-while-revalidate=30" {
			t.Errorf("%s: Cache-Control %q", tc.path, cc)
		}
		sk := " " + resp.Header.Get("Surrogate-Key") + " "
		tag := "," + resp.Header.Get("Cache-Tag") + ","
		for _, k := range append(tc.keys, "nbhd-v"+itoa(v)) {
			if !strings.Contains(sk, " "+k+" ") || !strings.Contains(tag, ","+k+",") {
				t.Errorf("%s: key %s missing: Surrogate-Key %q, Cache-Tag %q", tc.path, k, sk, tag)
			}
		}
	}
	// Path text that is no layer id never reaches the header.
	resp, _ := e.get(t, "/neighbourhoods/ward%20x")
	if sk := resp.Header.Get("Surrogate-Key"); strings.Contains(sk, " x") {
		t.Errorf("Surrogate-Key from path text: %q", sk)
	}
	// Without the settings, browsers' max-age alone.
	plain := newEnv(t)
	resp, _ = plain.get(t, "/tiles/all/10/504/331.mvt")
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=60" {
		t.Errorf("default Cache-Control %q", cc)
	}
}

func itoa(v int64) string { b, _ := json.Marshal(v); return string(b) }

// hook is a purge endpoint that records its calls and answers with the
// statuses given, then 204.
type hook struct {
	mu       sync.Mutex
	bodies   []map[string]any
	statuses []int
	block    chan struct{} // when set, calls wait for it
	auth     []string
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.block != nil {
		select {
		case <-h.block:
		case <-r.Context().Done():
			return
		}
	}
	b, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(b, &body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.bodies = append(h.bodies, body)
	h.auth = append(h.auth, r.Header.Get("Authorization"))
	status := http.StatusNoContent
	if len(h.statuses) > 0 {
		status, h.statuses = h.statuses[0], h.statuses[1:]
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		status = http.StatusBadRequest
	}
	w.WriteHeader(status)
}

func (h *hook) calls() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]any(nil), h.bodies...)
}

// purgeEnv serves a sample database with the purge hook at hookURL.
func purgeEnv(t *testing.T, hookURL string) *env {
	t.Helper()
	dbURL := dbtest.New(t, true)
	store, err := data.Open(context.Background(), data.Config{URL: dbURL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	handler := api.New(api.Config{PurgeURL: hookURL, PurgeHeader: "Authorization: Bearer cdn-token"}, store, log)
	api.SetPurgeRetry(handler, 50*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); handler.Abort() })
	go store.WatchVersion(ctx, log, handler.DataChanged)
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return &env{url: srv.URL, dbURL: dbURL, store: store}
}

func bump(t *testing.T, dbURL string) {
	t.Helper()
	if _, err := dbtest.Conn(t, dbURL).Exec(context.Background(), "SELECT logic.data_changed()"); err != nil {
		t.Fatal(err)
	}
}

// TestPurgeHookAfterADataChange: a data change POSTs the superseded
// version's key, retrying failures a bounded number of times.
func TestPurgeHookAfterADataChange(t *testing.T) {
	h := &hook{statuses: []int{503, 502}}
	hs := httptest.NewServer(h)
	defer hs.Close()
	e := purgeEnv(t, hs.URL)
	old := e.store.Version()
	bump(t, e.dbURL)
	deadline := time.Now().Add(5 * time.Second)
	for len(h.calls()) < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	calls := h.calls()
	if len(calls) != 3 {
		t.Fatalf("purge hook called %d times, want 3 (two failures, then success): %v", len(calls), calls)
	}
	last := calls[2]
	keys, _ := last["keys"].([]any)
	if len(keys) != 1 || keys[0] != "nbhd-v"+itoa(old) || last["data_version"] != float64(old+1) || last["previous_version"] != float64(old) {
		t.Errorf("purge body %v; want the key of version %d", last, old)
	}
	if h.auth[0] != "Bearer cdn-token" {
		t.Errorf("purge header %q", h.auth[0])
	}
	// A hook that always fails is tried 5 times, then given up.
	h.mu.Lock()
	h.bodies, h.statuses = nil, []int{500, 500, 500, 500, 500, 500, 500}
	h.mu.Unlock()
	bump(t, e.dbURL)
	time.Sleep(3 * time.Second) // 50+100+200+400 ms of waits, with room
	if n := len(h.calls()); n != 5 {
		t.Errorf("a failing hook was called %d times, want 5", n)
	}
	_, body := e.get(t, "/metrics")
	if !strings.Contains(string(body), "nbhd_purge_failures_total 1") || !strings.Contains(string(body), "nbhd_purge_calls_total 1") {
		t.Errorf("purge metrics:\n%s", grepLines(string(body), "nbhd_purge"))
	}
}

// TestPurgeHookNeverBlocksRequests: a hook that does not answer holds up
// nothing; changes made meanwhile are merged into the next call.
func TestPurgeHookNeverBlocksRequests(t *testing.T) {
	h := &hook{block: make(chan struct{})}
	hs := httptest.NewServer(h)
	defer hs.Close()
	defer close(h.block)
	e := purgeEnv(t, hs.URL)
	old := e.store.Version()
	for range 3 {
		bump(t, e.dbURL)
		time.Sleep(200 * time.Millisecond)
	}
	start := time.Now()
	for _, p := range []string{"/collections/schools/items?limit=5", "/tiles/all/10/504/331.mvt", "/readyz"} {
		if resp, _ := e.get(t, p); resp.StatusCode >= 300 {
			t.Errorf("%s: %d while the purge hook hangs", p, resp.StatusCode)
		}
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("requests took %s while the purge hook hangs", took)
	}
	if v := e.store.Version(); v != old+3 {
		t.Fatalf("version %d, want %d", v, old+3)
	}
	h.block <- struct{}{} // the first call (old → old+1) completes
	h.block <- struct{}{} // then one call for the two changes since
	deadline := time.Now().Add(3 * time.Second)
	for len(h.calls()) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	calls := h.calls()
	if len(calls) != 2 {
		t.Fatalf("purge calls %v", calls)
	}
	keys, _ := calls[1]["keys"].([]any)
	if len(keys) != 2 || keys[0] != "nbhd-v"+itoa(old+1) || keys[1] != "nbhd-v"+itoa(old+2) {
		t.Errorf("merged purge keys %v, want versions %d and %d", keys, old+1, old+2)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestMapConfigNamesThePMTilesArchive: --pmtiles-url reaches the viewer,
// and the map's CSP lets it fetch from the archive's origin.
func TestMapConfigNamesThePMTilesArchive(t *testing.T) {
	e := newEnvWith(t, api.Config{PMTilesURL: "https://static.example/nbhd-v42.pmtiles"}, data.Config{})
	resp, body := e.get(t, "/map/config.json")
	var cfg struct {
		PMTiles string `json:"pmtiles"`
	}
	if err := json.Unmarshal(body, &cfg); err != nil || cfg.PMTiles != "https://static.example/nbhd-v42.pmtiles" {
		t.Errorf("map config %s: %v", body, err)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "connect-src 'self' https://static.example data: blob:") {
		t.Errorf("map CSP lacks the archive's origin: %q", csp)
	}
	// A path on the same origin needs nothing more than 'self'.
	same := newEnvWith(t, api.Config{PMTilesURL: "/static/nbhd.pmtiles"}, data.Config{})
	resp, body = same.get(t, "/map/config.json")
	if !strings.Contains(string(body), `"pmtiles":"/static/nbhd.pmtiles"`) || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "connect-src 'self' data: blob:") {
		t.Errorf("same-origin archive: %s, CSP %q", body, resp.Header.Get("Content-Security-Policy"))
	}
	resp, body = newEnv(t).get(t, "/map/config.json")
	if !strings.Contains(string(body), `"pmtiles":null`) {
		t.Errorf("no archive configured: %d %s", resp.StatusCode, body)
	}
}
