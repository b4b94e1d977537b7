package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb/maptile"

	"nbhd/api/browsertest"
	"nbhd/data/dbtest"
)

// TestScaleOut is issue 15's acceptance, on one primary (the sample
// borough loaded) and one streaming hot standby of it, in clusters of the
// test's own, with real nbhd processes and nginx. Its parts share the
// clusters and run in order; the last pauses the standby's replay.
func TestScaleOut(t *testing.T) {
	scaleTest(t, "nginx", "chromium")
	began := time.Now()
	primary := dbtest.NewCluster(t)
	primaryURL := primary.NewDatabase(t, "nbhd", true)
	standby := primary.NewStandby(t)
	replicaURL := standby.URL("nbhd")
	bin := nbhdBinary(t)
	t.Cleanup(func() { _ = os.RemoveAll(filepath.Dir(bin)) })
	t.Logf("primary with the sample, its standby and the binary ready in %v", time.Since(began).Round(time.Millisecond))

	t.Run("ImportReachesServersReadingTheStandby", func(t *testing.T) {
		importThroughTheStandby(t, primaryURL, standby)
	})
	t.Run("NginxOverTwoServersOneKilled", func(t *testing.T) {
		nginxFailoverAndCache(t, primaryURL, replicaURL)
	})
	t.Run("MapFromAPMTilesArchive", func(t *testing.T) {
		mapFromPMTiles(t, primaryURL, replicaURL)
	})
	t.Run("ReadyzFailsWhenTheStandbyLags", func(t *testing.T) {
		readyzWithALaggingStandby(t, primaryURL, standby)
	})
}

// sqlExec runs statements on a database as the cluster's superuser.
func sqlExec(t *testing.T, url string, stmts ...string) {
	t.Helper()
	conn := dbtest.Conn(t, url)
	for _, s := range stmts {
		if _, err := conn.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// observation is one response from the server under test.
type observation struct {
	at     time.Duration // since the import returned (negative: before)
	path   string
	status int
	etag   string
	body   []byte
	header http.Header
}

// importThroughTheStandby: a server reading from the standby serves a
// feature imported on the primary, and the new tile, within 2 s; and no
// response in the meantime carries a new version's validator with the old
// data. The standby replays 500 ms late (recovery_min_apply_delay), so the
// primary's notification always arrives before the standby has the data:
// a server that moved on the notification alone would be caught.
func importThroughTheStandby(t *testing.T, primaryURL string, standby *dbtest.Cluster) {
	sqlExec(t, standby.URL("postgres"), "ALTER SYSTEM SET recovery_min_apply_delay = '500ms'", "SELECT pg_reload_conf()")
	t.Cleanup(func() {
		sqlExec(t, standby.URL("postgres"), "ALTER SYSTEM RESET recovery_min_apply_delay", "SELECT pg_reload_conf()")
	})
	// The reference reads the primary itself; the server under test, the
	// standby.
	reference := startNBHD(t, "--database-url", primaryURL)
	onStandby := startNBHD(t, "--database-url", primaryURL, "--read-database-url", standby.URL("nbhd"))

	tile := maptile.New(8074, 5296, 14) // central Hindley
	b := tile.Bound()
	tilePath := fmt.Sprintf("/tiles/all/%d/%d/%d.mvt", tile.Z, tile.X, tile.Y)
	itemsPath := fmt.Sprintf("/collections/community-assets/items?bbox=%f,%f,%f,%f", b.Min[0], b.Min[1], b.Max[0], b.Max[1])
	status, h, oldTile := fetch(reference.base+tilePath, nil)
	if status != http.StatusOK {
		t.Fatalf("reference %s: %d", tilePath, status)
	}
	oldETag := h.Get("ETag")
	if status, h, body := fetch(onStandby.base+tilePath, nil); status != http.StatusOK || h.Get("ETag") != oldETag || !bytes.Equal(body, oldTile) {
		t.Fatalf("before the import the two servers disagree: %d %s %s", status, h.Get("ETag"), oldETag)
	}
	oldVersion := dataVersion(t, reference)

	// Watch the server on the standby as fast as it answers.
	const newName = "Scale Test Community Library"
	var (
		mu       sync.Mutex
		seen     []observation
		imported atomic.Int64 // unix nanoseconds; 0 before the import
		stop     = make(chan struct{})
		watching sync.WaitGroup
	)
	watching.Add(1)
	go func() {
		defer watching.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			p := tilePath
			if i%2 == 1 {
				p = itemsPath
			}
			status, h, body := fetch(onStandby.base+p, nil)
			at := time.Duration(-1)
			if n := imported.Load(); n != 0 {
				at = time.Since(time.Unix(0, n))
			}
			mu.Lock()
			seen = append(seen, observation{at: at, path: p, status: status, etag: h.Get("ETag"), body: body, header: h})
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	}()

	file := filepath.Join(t.TempDir(), "library.geojson")
	c := [2]float64{(b.Min[0] + b.Max[0]) / 2, (b.Min[1] + b.Max[1]) / 2}
	gj := fmt.Sprintf(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":%q},"geometry":{"type":"Point","coordinates":[%f,%f]}}]}`, newName, c[0], c[1])
	if err := os.WriteFile(file, []byte(gj), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := nbhd(t, "import", "assets", file, "--key", "scale-test", "--category", "library",
		"--licence", "Open Government Licence v3.0", "--database-url", primaryURL); code != 0 {
		t.Fatalf("import: %d %s %s", code, out, errs)
	}
	imported.Store(time.Now().UnixNano())
	start := time.Now()

	// The reference has the new tile at once (it reads the primary).
	var newTile []byte
	var newETag string
	for newETag == "" || newETag == oldETag {
		if time.Since(start) > 5*time.Second {
			t.Fatal("the server on the primary did not serve the new tile within 5 s")
		}
		var h http.Header
		_, h, newTile = fetch(reference.base+tilePath, nil)
		newETag = h.Get("ETag")
		time.Sleep(10 * time.Millisecond)
	}
	newVersion := dataVersion(t, reference)
	referenceMoved := time.Since(start)
	// Wait for the server on the standby, then watch a little longer.
	for time.Since(start) < 3*time.Second {
		mu.Lock()
		n := len(seen)
		done := n > 0 && seen[n-1].path == tilePath && seen[n-1].etag == newETag
		mu.Unlock()
		if done {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	watching.Wait()

	tileAt, itemsAt := time.Duration(-1), time.Duration(-1)
	checked := 0
	for _, o := range seen {
		if o.status != http.StatusOK {
			t.Errorf("%s at %v: status %d %s", o.path, o.at, o.status, o.body)
			continue
		}
		checked++
		switch o.path {
		case tilePath:
			isOld, isNew := bytes.Equal(o.body, oldTile), bytes.Equal(o.body, newTile)
			switch {
			case o.etag == newETag && !isNew:
				t.Errorf("tile at %v: the new ETag %s with other bytes (old data: %v)", o.at, o.etag, isOld)
			case o.etag == oldETag && !isOld:
				t.Errorf("tile at %v: the old ETag with other bytes", o.at)
			case o.etag != newETag && o.etag != oldETag:
				t.Errorf("tile at %v: ETag %s is neither the old nor the new one", o.at, o.etag)
			case isNew && tileAt < 0:
				tileAt = o.at
			}
		case itemsPath:
			v := etagVersion(t, o.etag)
			has := bytes.Contains(gunzipped(t, o.header, o.body), []byte(newName))
			switch {
			case v >= newVersion && !has:
				t.Errorf("items at %v: ETag %s names version %d, but the body lacks the imported feature", o.at, o.etag, v)
			case v < newVersion && has:
				t.Errorf("items at %v: ETag %s names version %d, but the body has the feature of version %d", o.at, o.etag, v, newVersion)
			case has && itemsAt < 0:
				itemsAt = o.at
			}
		}
	}
	if tileAt < 0 || tileAt > 2*time.Second {
		t.Errorf("the server on the standby served the new tile %v after the import (want within 2 s)", tileAt)
	}
	if itemsAt < 0 || itemsAt > 2*time.Second {
		t.Errorf("the server on the standby served the new feature %v after the import (want within 2 s)", itemsAt)
	}
	t.Logf("version %d -> %d; %d responses checked against the primary's bytes; the reference moved %v after the import returned, "+
		"the server on the standby (replaying 500 ms late) served the new tile after %v and the new feature after %v",
		oldVersion, newVersion, checked, referenceMoved.Round(time.Millisecond), tileAt.Round(time.Millisecond), itemsAt.Round(time.Millisecond))
}

// dataVersion is the data version a server serves, from /readyz.
func dataVersion(t *testing.T, p *proc) int64 {
	t.Helper()
	status, _, body := fetch(p.base+"/readyz", nil)
	var r struct {
		DataVersion int64 `json:"data_version"`
	}
	if err := json.Unmarshal(body, &r); err != nil || status != http.StatusOK {
		t.Fatalf("/readyz: %d %s", status, body)
	}
	return r.DataVersion
}

// etagVersion reads the data version from a response ETag W/"V-hash".
func etagVersion(t *testing.T, etag string) int64 {
	t.Helper()
	s := strings.Trim(strings.TrimPrefix(etag, "W/"), `"`)
	v, _, _ := strings.Cut(s, "-")
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("ETag %q has no version", etag)
	}
	return n
}

func hostOf(base string) string { return strings.TrimPrefix(base, "http://") }

// tileRange lists the composite's tiles of zoom z around (x, y).
func tileRange(z maptile.Zoom, x, y, r uint32) []string {
	var out []string
	for i := x - r; i <= x+r; i++ {
		for j := y - r; j <= y+r; j++ {
			out = append(out, fmt.Sprintf("/tiles/all/%d/%d/%d.mvt", z, i, j))
		}
	}
	return out
}

// nginxFailoverAndCache: 2,000 requests through nginx over two servers
// reading from the standby; one server is killed (SIGKILL) a third of the
// way in and no client sees an error; repeated tiles come from nginx's
// cache without reaching nbhd.
func nginxFailoverAndCache(t *testing.T, primaryURL, replicaURL string) {
	args := []string{"--database-url", primaryURL, "--read-database-url", replicaURL, "--trusted-proxies", "127.0.0.1",
		"--cache-s-maxage", "5m", "--cache-stale-while-revalidate", "1m"}
	a, b := startNBHD(t, args...), startNBHD(t, args...)
	staticDir := publicDir(t)
	ng := startNginx(t, staticDir, hostOf(a.base), hostOf(b.base))

	tiles := append(tileRange(14, 8074, 5296, 3), tileRange(12, 2018, 1324, 1)...)
	const total, workers, killAt = 2000, 8, 700
	rng := rand.New(rand.NewPCG(15, 15)) //nolint:gosec // a seeded workload, not security
	paths := make([]string, total)
	for i := range paths {
		switch i % 4 {
		case 0, 1:
			paths[i] = tiles[rng.IntN(len(tiles))]
		case 2:
			// Pages nobody asked for yet: misses that reach nbhd.
			paths[i] = fmt.Sprintf("/collections/community-assets/items?limit=5&offset=%d", i)
		default:
			paths[i] = []string{"/neighbourhoods/ward", "/collections", "/search?q=Hindley", "/tiles/all.json"}[rng.IntN(4)]
		}
	}
	var (
		next, done atomic.Int64
		errMu      sync.Mutex
		errs       []string
		cacheMu    sync.Mutex
		cache      = map[string]int{}
		killed     = make(chan time.Duration, 1)
		wg         sync.WaitGroup
	)
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= total {
					return
				}
				if i == killAt {
					a.kill()
					killed <- time.Since(start)
				}
				status, h, body := fetch(ng.base+paths[i], nil)
				if status != http.StatusOK && status != http.StatusNoContent && status != http.StatusNotModified {
					errMu.Lock()
					errs = append(errs, fmt.Sprintf("%s: %d %.200s", paths[i], status, body))
					errMu.Unlock()
				}
				cacheMu.Lock()
				cache[h.Get("X-Cache-Status")]++
				cacheMu.Unlock()
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	killedAt := <-killed
	if len(errs) > 0 {
		t.Errorf("%d of %d requests failed with a server killed mid-run: %v", len(errs), total, errs[:min(10, len(errs))])
	}
	// nginx's log says which server answered each request it passed on,
	// and which it tried first and then passed to the other.
	retried, servedBy := 0, map[string]int{}
	for _, line := range strings.Split(ng.accessLog(t), "\n") {
		if strings.Contains(line, "upstream=") && strings.Contains(line, ", 127.0.0.1") {
			retried++
		}
		for _, p := range []*proc{a, b} {
			if strings.Contains(line, "upstream="+hostOf(p.base)+" upstream_status=2") {
				servedBy[hostOf(p.base)]++
			}
		}
	}
	if servedBy[hostOf(a.base)] == 0 || servedBy[hostOf(b.base)] == 0 {
		t.Errorf("requests answered per server %v: want both to have served", servedBy)
	}
	t.Logf("%d requests through nginx in %v (%.0f/s, %d workers), server A killed (SIGKILL) at %v after %d requests: %d client errors; "+
		"nginx retried %d requests on the other server; answered by A %d, by B %d, from the cache %v",
		done.Load(), took.Round(time.Millisecond), float64(done.Load())/took.Seconds(), workers, killedAt.Round(time.Millisecond), killAt,
		len(errs), retried, servedBy[hostOf(a.base)], servedBy[hostOf(b.base)], cache)

	// Repeat tiles come from the cache: warm a set once, then ask for it
	// five times more; the surviving server answers none of those.
	var cached []string
	for _, p := range tileRange(13, 4037, 2648, 2) {
		if status, h, _ := fetch(ng.base+p, nil); status == http.StatusOK && h.Get("X-Cache-Status") != "" {
			cached = append(cached, p)
		}
	}
	if len(cached) < 10 {
		t.Fatalf("only %d tiles with data to check the cache with", len(cached))
	}
	before := b.settledTileRequests(t)
	hits := 0
	for range 5 {
		for _, p := range cached {
			status, h, _ := fetch(ng.base+p, nil)
			if status != http.StatusOK || h.Get("X-Cache-Status") != "HIT" {
				t.Errorf("%s repeated: %d, X-Cache-Status %q", p, status, h.Get("X-Cache-Status"))
			} else {
				hits++
			}
		}
	}
	if after := b.settledTileRequests(t); after != before {
		t.Errorf("repeated tiles reached nbhd: its tile requests went from %.0f to %.0f", before, after)
	}
	t.Logf("%d repeated tile requests: %d answered by nginx's cache, %.0f reached nbhd (nbhd_http_requests_total for tiles stayed at %.0f)",
		5*len(cached), hits, b.tileRequests(t)-before, before)
}

// publicDir makes a directory nginx's workers (which drop root) can read.
func publicDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "nbhd-static-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// mapFromPMTiles: the map drawn from an archive nginx serves with range
// requests looks the same as the map drawn from the live tile endpoints.
func mapFromPMTiles(t *testing.T, primaryURL, replicaURL string) {
	staticDir := publicDir(t)
	archive := filepath.Join(staticDir, "nbhd.pmtiles")
	start := time.Now()
	if code, out, errs := nbhd(t, "export", "pmtiles", "--layer", "all", "--minzoom", "0", "--maxzoom", "13", archive, "--database-url", primaryURL); code != 0 {
		t.Fatalf("export: %d %s %s", code, out, errs)
	}
	if err := os.Chmod(archive, 0o644); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(archive)
	t.Logf("exported z0-13 (%d bytes) in %v", fi.Size(), time.Since(start).Round(time.Millisecond))
	live := startNBHD(t, "--database-url", primaryURL, "--read-database-url", replicaURL)
	static := startNBHD(t, "--database-url", primaryURL, "--read-database-url", replicaURL, "--pmtiles-url", "/static/nbhd.pmtiles")
	ng := startNginx(t, staticDir, hostOf(static.base))

	// The archive answers range requests through nginx.
	status, h, body := fetch(ng.base+"/static/nbhd.pmtiles", map[string]string{"Range": "bytes=0-126"})
	if status != http.StatusPartialContent || len(body) != 127 || !bytes.HasPrefix(body, []byte("PMTiles")) {
		t.Fatalf("range request for the archive's header: %d %q %d bytes", status, h.Get("Content-Range"), len(body))
	}
	_, _, cfg := fetch(ng.base+"/map/config.json", nil)
	if !bytes.Contains(cfg, []byte(`"pmtiles":"/static/nbhd.pmtiles"`)) {
		t.Fatalf("map config: %s", cfg)
	}

	// One browser per map, so the second page does not replace the first in
	// one tab: that navigation once dropped the page's execution context
	// under the readiness poll.
	ctx, problems := browsertest.Start(t, 3*time.Minute)
	view := "#map=11.50/53.5400/-2.5800&set=ward&ind=chaotic_per_1000&layers=neighbourhoods,small-areas"
	fromLive := mapShot(t, ctx, live.base+"/map/"+view, "scale-map-live", problems)
	tilesBefore := static.tileRequests(t)
	ctx2, problems2 := browsertest.Start(t, 3*time.Minute)
	fromArchive := mapShot(t, ctx2, ng.base+"/map/"+view, "scale-map-pmtiles", problems2)
	if p := append(problems(), problems2()...); len(p) > 0 {
		t.Errorf("browser problems: %v", p)
	}
	if n := static.tileRequests(t) - tilesBefore; n != 0 {
		t.Errorf("the map with --pmtiles-url asked nbhd for %.0f tiles", n)
	}
	ranges := 0
	for _, line := range strings.Split(ng.accessLog(t), "\n") {
		if strings.Contains(line, "GET /static/nbhd.pmtiles") && strings.Contains(line, `" 206 `) {
			ranges++
		}
	}
	if ranges < 2 {
		t.Errorf("the map made %d range requests for the archive:\n%s", ranges, ng.accessLog(t))
	}
	if fromLive.Bounds() != fromArchive.Bounds() {
		t.Fatalf("canvas sizes differ: %v and %v", fromLive.Bounds(), fromArchive.Bounds())
	}
	sampled, differing, distinct, drawn := compareImages(fromLive, fromArchive, 8)
	if distinct < 6 || drawn < sampled/4 {
		t.Errorf("the live map looks blank: %d colours, %d of %d sampled pixels drawn", distinct, drawn, sampled)
	}
	if float64(differing) > 0.005*float64(sampled) {
		t.Errorf("%d of %d sampled pixels differ between the live and the PMTiles map (tolerance 0.5%%); see var/artefacts/scale-map-*.png", differing, sampled)
	}
	t.Logf("map from the archive (%d range requests through nginx) vs live tiles: %d of %d sampled pixels differ by more than 8/255 (%d colours, %d drawn)",
		ranges, differing, sampled, distinct, drawn)
}

// readyzWithALaggingStandby: with the standby's replay paused and a change
// on the primary, /readyz fails once the lag passes --max-replica-lag, the
// version served stays the one the standby has, and both recover when
// replay resumes.
func readyzWithALaggingStandby(t *testing.T, primaryURL string, standby *dbtest.Cluster) {
	s := startNBHD(t, "--database-url", primaryURL, "--read-database-url", standby.URL("nbhd"),
		"--max-replica-lag", "2s", "--version-poll-interval", "200ms")
	before := dataVersion(t, s)
	sqlExec(t, standby.URL("postgres"), "SELECT pg_wal_replay_pause()")
	resumed := false
	t.Cleanup(func() {
		if !resumed {
			sqlExec(t, standby.URL("postgres"), "SELECT pg_wal_replay_resume()")
		}
	})
	sqlExec(t, primaryURL, "SELECT logic.data_changed()")
	changed := time.Now()
	var body []byte
	var status int
	for {
		status, _, body = fetch(s.base+"/readyz", nil)
		if status != http.StatusOK {
			break
		}
		if time.Since(changed) > 8*time.Second {
			t.Fatalf("/readyz still 200 8 s after the standby stopped replaying (limit 2 s): %s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	failedAfter := time.Since(changed)
	var r struct {
		Code        string `json:"code"`
		Description string `json:"description"`
		DataVersion int64  `json:"data_version"`
		Replicas    []struct {
			LagSeconds   float64 `json:"lag_seconds"`
			BehindBytes  int64   `json:"behind_bytes"`
			ReplayPaused bool    `json:"replay_paused"`
		} `json:"replicas"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("/readyz: %d %s", status, body)
	}
	if status != http.StatusServiceUnavailable || r.Code != "NotReady" || len(r.Replicas) != 1 || !r.Replicas[0].ReplayPaused ||
		r.Replicas[0].LagSeconds < 2 || r.Replicas[0].BehindBytes <= 0 {
		t.Errorf("/readyz with a lagging standby: %d %s", status, body)
	}
	if failedAfter < 1500*time.Millisecond {
		t.Errorf("/readyz failed %v after the change, before the lag could pass 2 s", failedAfter)
	}
	if r.DataVersion != before {
		t.Errorf("the version served moved to %d while the standby had only %d", r.DataVersion, before)
	}
	// Reads still work meanwhile, from the data the standby has.
	if status, _, _ := fetch(s.base+"/collections/schools/items?limit=1", nil); status != http.StatusOK {
		t.Errorf("items with a lagging standby: %d", status)
	}
	sqlExec(t, standby.URL("postgres"), "SELECT pg_wal_replay_resume()")
	resumed = true
	resumedAt := time.Now()
	for {
		status, _, body = fetch(s.base+"/readyz", nil)
		if status == http.StatusOK {
			break
		}
		if time.Since(resumedAt) > 5*time.Second {
			t.Fatalf("/readyz not 200 5 s after replay resumed: %s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	after := dataVersion(t, s)
	if after != before+1 {
		t.Errorf("after replay resumed the version is %d, want %d", after, before+1)
	}
	t.Logf("/readyz failed %v after a change on the primary with replay paused (limit 2 s, lag reported %.1f s, %d bytes behind); ready again %v after replay resumed, at version %d",
		failedAfter.Round(time.Millisecond), r.Replicas[0].LagSeconds, r.Replicas[0].BehindBytes, time.Since(resumedAt).Round(time.Millisecond), after)
}
