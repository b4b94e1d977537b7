package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"nbhd/api"
	"nbhd/api/browsertest"
	"nbhd/data"
	"nbhd/data/dbtest"
	"nbhd/tiles"
)

// colours counts the distinct colours of an image, and its painted
// pixels (browsertest.Painted).
func colours(img image.Image) (distinct, drawn int) {
	seen := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[(r>>8)<<16|(g>>8)<<8|bl>>8] = true
		}
	}
	return len(seen), browsertest.Painted(img)
}

func differing(a, b image.Image) int {
	n := 0
	bd := a.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y += 2 {
		for x := bd.Min.X; x < bd.Max.X; x += 2 {
			if a.At(x, y) != b.At(x, y) {
				n++
			}
		}
	}
	return n
}

func TestMapViewerInABrowser(t *testing.T) {
	e := newEnv(t)
	ctx, problems := browsertest.Start(t, 4*time.Minute)
	if err := chromedp.Run(ctx,
		chromedp.Navigate(e.url+"/map/"),
		chromedp.Poll(`!!(window.nbhd && window.nbhd.ready)`, nil, chromedp.WithPollingTimeout(2*time.Minute)),
		browsertest.Idle(),
	); err != nil {
		t.Fatalf("the map did not become ready: %v; problems: %v", err, problems())
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("console errors on load: %v", p)
	}

	// The canvas shows the wards coloured by a demand indicator.
	first := browsertest.MapShot(t, ctx, "map-demand")
	distinct, drawn := colours(first)
	if drawn < first.Bounds().Dx()*first.Bounds().Dy()/4/4 || distinct < 6 {
		t.Errorf("the map looks blank: %d distinct colours, %d drawn pixels (of %d sampled)", distinct, drawn, first.Bounds().Dx()*first.Bounds().Dy()/4)
	}
	var hash string
	if err := chromedp.Run(ctx, chromedp.Evaluate(`location.hash`, &hash)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(hash, "ind=chaotic_per_1000") || !strings.Contains(hash, "set=ward") || !strings.Contains(hash, "map=") {
		t.Errorf("the view is not in the URL: %q", hash)
	}

	// Switching the indicator changes the picture.
	if err := chromedp.Run(ctx,
		chromedp.SetValue("#indicator", "access_gp_pct", chromedp.ByID),
		chromedp.Evaluate(`document.querySelector('#indicator').dispatchEvent(new Event('change'))`, nil),
		chromedp.Sleep(300*time.Millisecond), browsertest.Idle(),
	); err != nil {
		t.Fatal(err)
	}
	second := browsertest.MapShot(t, ctx, "map-access-gp")
	if d := differing(first, second); d < 1000 {
		t.Errorf("switching the indicator changed only %d sampled pixels", d)
	}
	if err := chromedp.Run(ctx, chromedp.Evaluate(`location.hash`, &hash)); err != nil || !strings.Contains(hash, "ind=access_gp_pct") {
		t.Errorf("indicator not in the URL: %q %v", hash, err)
	}

	// Clicking a known ward opens its profile with its name and population.
	var lon, lat float64
	if err := dbtest.Conn(t, e.dbURL).QueryRow(context.Background(),
		"SELECT ST_X(label_point), ST_Y(label_point) FROM nbhd.neighbourhoods WHERE set_id = 'ward' AND code = 'E05000840'").Scan(&lon, &lat); err != nil {
		t.Fatal(err)
	}
	var pt struct{ X, Y float64 }
	var name, hint string
	if err := chromedp.Run(ctx,
		// Hide the points so the click lands on the ward, not a school.
		chromedp.Evaluate(`for (const b of document.querySelectorAll('input[name=layer]')) { if (b.value !== 'neighbourhoods' && b.checked) b.click(); }`, nil),
		browsertest.Idle(),
		chromedp.Evaluate(fmt.Sprintf(`(() => { const p = nbhd.map.project([%f, %f]); const r = nbhd.map.getContainer().getBoundingClientRect(); return {x: p.x + r.left, y: p.y + r.top}; })()`, lon, lat), &pt),
	); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Run(ctx,
		chromedp.MouseClickXY(pt.X, pt.Y),
		chromedp.WaitVisible("#profile-name", chromedp.ByID),
		chromedp.Text("#profile-name", &name, chromedp.ByID),
		chromedp.Text("#profile-body .hint", &hint, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("clicking Abram: %v; problems %v", err, problems())
	}
	var population int
	if err := dbtest.Conn(t, e.dbURL).QueryRow(context.Background(),
		"SELECT sum(p.population) FROM nbhd.neighbourhood_members m JOIN nbhd.small_area_population p ON p.code = m.small_area_code WHERE m.set_id='ward' AND m.neighbourhood_code='E05000840'").Scan(&population); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%d,%03d", population/1000, population%1000)
	if name != "Abram" || !strings.Contains(hint, want) {
		t.Errorf("profile shows %q / %q; want Abram with population %s", name, hint, want)
	}
	browsertest.MapShot(t, ctx, "map-profile-abram")

	// The staff flow: a key shows the ranked outreach list for the ward.
	token, _, err := data.CreateKey(context.Background(), dbtest.Conn(t, e.dbURL), "browser test", "staff", nil)
	if err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := chromedp.Run(ctx,
		chromedp.SendKeys("#staff-key", token, chromedp.ByID),
		chromedp.Click("#outreach-button", chromedp.ByID),
		chromedp.WaitVisible("#outreach-table", chromedp.ByID),
		chromedp.Evaluate(`document.querySelectorAll('#outreach-table tbody tr').length`, &rows),
		browsertest.Idle(),
	); err != nil {
		t.Fatalf("outreach: %v; problems %v", err, problems())
	}
	if want := e.dbCount(t, "SELECT count(*) FROM nbhd.neighbourhood_members WHERE set_id='ward' AND neighbourhood_code='E05000840'"); rows != want {
		t.Errorf("outreach list has %d rows; the ward has %d small areas", rows, want)
	}
	var stored string
	if err := chromedp.Run(ctx, chromedp.Evaluate(`sessionStorage.getItem('nbhd-staff-key') + '|' + (localStorage.getItem('nbhd-staff-key') || '')`, &stored)); err != nil {
		t.Fatal(err)
	}
	if stored != token+"|" {
		t.Errorf("the key should be in session storage only, found %q", stored)
	}
	browsertest.MapShot(t, ctx, "map-outreach")

	// A wrong key shows a clear error.
	var msg string
	if err := chromedp.Run(ctx,
		chromedp.Click("#forget-key", chromedp.ByID),
		chromedp.SendKeys("#staff-key", "nbhd_1_wrong", chromedp.ByID),
		chromedp.Click("#outreach-button", chromedp.ByID),
		chromedp.WaitVisible("#outreach-error", chromedp.ByID),
		chromedp.Text("#message", &msg, chromedp.ByID),
	); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "Key rejected") {
		t.Errorf("wrong key message: %q", msg)
	}
	browsertest.MapShot(t, ctx, "map-wrong-key")
	// The 401 for the wrong key is expected; nothing else may have gone wrong.
	for _, p := range problems() {
		if !strings.Contains(p, "401") {
			t.Errorf("console error: %s", p)
		}
	}
}

func TestMapWithoutViewerAssetsSaysHowToBuild(t *testing.T) {
	e := newEnvWith(t, api.Config{ViewerFS: fstest.MapFS{"index.html": {Data: []byte("<html></html>")}}}, data.Config{})
	resp, body := e.get(t, "/map/")
	if resp.StatusCode != http.StatusServiceUnavailable || !bytes.Contains(body, []byte("make viewer")) {
		t.Errorf("/map/ without MapLibre: %d %s", resp.StatusCode, body)
	}
	resp, _ = e.get(t, "/map")
	if resp.StatusCode != 200 && resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/map: %d", resp.StatusCode)
	}
}

// secondBoroughSQL adds a second borough beside the sample's: eight small
// areas east of it (population, IMD 2019 deciles 1 to 8) in two wards of
// the sample's ward set, and a combined authority holding both boroughs.
// The project's synthetic borough generator is not on this branch, so the
// fixture is written here, as the importers would leave it, and
// logic.refresh makes its figures. The ward set is also marked as fitted
// to official wards, so its official boundaries are a layer of their own.
const secondBoroughSQL = `
UPDATE nbhd.neighbourhood_sets SET level = 'ward' WHERE id = 'ward';
WITH ds AS (
  INSERT INTO nbhd.datasets (kind, key, title, source, licence, attribution, vintage, boroughs)
  VALUES ('small_areas', 'test-second-borough', 'Second borough (test fixture)', 'nbhd test fixture', 'OGL v3', 'Test fixture', '2021', '{E08000099}')
  RETURNING id
), b AS (
  INSERT INTO nbhd.boroughs (code, name) VALUES ('E08000099', 'Testham') ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name
), cells AS (
  SELECT i, format('E01099%s', lpad(i::text, 3, '0')) AS code,
         ST_Multi(ST_MakeEnvelope(-2.40 + ((i - 1) % 4) * 0.025, 53.50 + ((i - 1) / 4) * 0.04,
                                  -2.375 + ((i - 1) % 4) * 0.025, 53.54 + ((i - 1) / 4) * 0.04, 4326)) AS geom
  FROM generate_series(1, 8) i
), sa AS (
  INSERT INTO nbhd.small_areas (code, name, vintage, geom, dataset_id, lad_code)
  SELECT code, 'Testham ' || lpad(i::text, 3, '0') || 'A', 2021, geom, ds.id, 'E08000099' FROM cells, ds RETURNING code
), lads AS (
  INSERT INTO nbhd.small_area_lads (code, lad_code, trust, dataset_id) SELECT code, 'E08000099', 1, ds.id FROM cells, ds
), pop AS (
  INSERT INTO nbhd.small_area_population (code, population, period, dataset_id)
  SELECT code, 1400 + i * 37, 'mid-2017', ds.id FROM cells, ds
), dep AS (
  INSERT INTO nbhd.deprivation (code, source_code, imd_rank, imd_decile, dataset_id, release)
  SELECT code, code, 1000 + i * 3500, i, ds.id, 2019 FROM cells, ds
), hoods AS (
  INSERT INTO nbhd.neighbourhoods (set_id, code, name, geom, dataset_id, lad_code)
  SELECT 'ward', 'E05099' || lpad(g::text, 3, '0'), CASE g WHEN 1 THEN 'Testham South' ELSE 'Testham North' END,
         ST_Multi(ST_Union(c.geom)), ds.id, 'E08000099'
  FROM cells c, ds, LATERAL (SELECT (c.i - 1) / 4 + 1 AS g) x GROUP BY g, ds.id
), ca AS (
  INSERT INTO nbhd.borough_cauths (lad_code, cauth_code, cauth_name, dataset_id)
  SELECT code, 'E47000001', 'Greater Manchester', ds.id FROM (VALUES ('E08000010'), ('E08000099')) v(code), ds
)
SELECT 1;
INSERT INTO nbhd.neighbourhood_members (set_id, small_area_code, neighbourhood_code, method)
SELECT 'ward', format('E01099%s', lpad(i::text, 3, '0')), 'E05099' || lpad(((i - 1) / 4 + 1)::text, 3, '0'), 'lookup'
FROM generate_series(1, 8) i;
SELECT logic.refresh();`

// testIndicatorSQL adds an indicator in SQL alone: a catalogue row and
// values for the sample borough's wards. No Go or JavaScript knows it.
const testIndicatorSQL = `
INSERT INTO logic.indicators (id, position, kind, label, description, grp)
VALUES ('volunteering_pct', 15, 'percent', 'Residents who volunteer', 'Percent of residents who gave unpaid help in the last year (test survey)', 'community');
INSERT INTO nbhd.indicator_values (set_id, code, indicator, value, source, method, period, lad_code)
SELECT set_id, code, 'volunteering_pct', 8 + (row_number() OVER (ORDER BY code) % 13) * 1.5, 'survey', 'test survey of residents', '2025', lad_code
FROM nbhd.neighbourhoods WHERE set_id = 'ward' AND lad_code = 'E08000010';
-- A second IoD release of one ward's deprived share: the sample has only
-- IoD 2019, and the profile gives a trend wherever there are two vintages.
INSERT INTO nbhd.indicator_values (set_id, code, indicator, vintage, value, lad_code)
  VALUES ('ward', 'E05000840', 'deprived_10pct_share', '2025', 11.11, 'E08000010');`

// mapRequests records every request a test server answers.
type mapRequests struct {
	mu   sync.Mutex
	uris []string
}

func (l *mapRequests) add(uri string) {
	l.mu.Lock()
	l.uris = append(l.uris, uri)
	l.mu.Unlock()
}

// since is the requests after the first n, and how many there are now.
func (l *mapRequests) since(n int) ([]string, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.uris[n:]...), len(l.uris)
}

// newManyBoroughEnv serves the sample, a second borough and an indicator
// added in SQL, recording the requests it answers (the map's tile requests
// come from MapLibre's workers, which the page does not see). Files in
// static, if given, are served under /static/, with range requests, as a
// web server beside nbhd would.
func newManyBoroughEnv(t *testing.T, cfg api.Config, static string) (*env, *mapRequests) {
	t.Helper()
	dbURL := dbtest.New(t, true)
	admin := dbtest.Conn(t, dbURL)
	for _, sql := range []string{secondBoroughSQL, testIndicatorSQL} {
		if _, err := admin.Exec(context.Background(), sql); err != nil {
			t.Fatal(err)
		}
	}
	store, err := data.Open(context.Background(), data.Config{URL: dbURL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	handler := api.New(cfg, store, logger)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go store.WatchVersion(ctx, logger, handler.DataChanged)
	reqs := &mapRequests{}
	files := http.StripPrefix("/static/", http.FileServer(http.Dir(static)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.add(r.URL.RequestURI())
		if static != "" && strings.HasPrefix(r.URL.Path, "/static/") {
			files.ServeHTTP(w, r)
			return
		}
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return &env{url: srv.URL, dbURL: dbURL, store: store}, reqs
}

// js evaluates an expression in the page, awaiting it when it is a promise.
func js[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	var out T
	if err := chromedp.Run(ctx, chromedp.Evaluate(expr, &out, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) })); err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return out
}

// choose picks a value in a select as a person would, and waits until the
// map has done all it started.
func choose(t *testing.T, ctx context.Context, sel, value string) {
	t.Helper()
	js[bool](t, ctx, fmt.Sprintf(`(async () => { const s = document.querySelector(%q); s.value = %q;
		if (s.value !== %q) throw new Error('no option ' + %q + ' in ' + %q);
		s.dispatchEvent(new Event('change')); await nbhd.settled(); return true; })()`, sel, value, value, value, sel))
}

// decimal matches a number with a fractional part as the map writes one.
var decimal = regexp.MustCompile(`\d\.\d`)

func TestMapManyBoroughsInABrowser(t *testing.T) {
	e, reqs := newManyBoroughEnv(t, api.Config{}, "")
	ctx, problems := browsertest.Start(t, 4*time.Minute)
	if err := chromedp.Run(ctx,
		chromedp.Navigate(e.url+"/map/"),
		chromedp.Poll(`!!(window.nbhd && window.nbhd.ready)`, nil, chromedp.WithPollingTimeout(2*time.Minute)),
		browsertest.Idle(),
	); err != nil {
		t.Fatalf("the map did not become ready: %v; problems: %v", err, problems())
	}

	// The switcher lists every loaded borough, all of them, and the
	// combined authority they share.
	_, body := e.get(t, "/boroughs")
	var loaded struct {
		Boroughs []struct{ Code, Name string }
	}
	if err := json.Unmarshal(body, &loaded); err != nil {
		t.Fatal(err)
	}
	want := []string{"|All boroughs (2)", "E47000001|Greater Manchester (2 boroughs)"}
	for _, b := range loaded.Boroughs {
		name := b.Name
		want = append(want, b.Code+"|"+name)
	}
	options := js[[]string](t, ctx, `[...document.querySelectorAll('#borough option')].map((o) => o.value + '|' + o.textContent)`)
	if strings.Join(options, "\n") != strings.Join(want, "\n") {
		t.Errorf("borough switcher lists\n%s\nwant\n%s", strings.Join(options, "\n"), strings.Join(want, "\n"))
	}
	all := browsertest.MapShot(t, ctx, "boroughs-all")

	// Choosing the second borough filters what is drawn and asked for,
	// fits the view to it and names it.
	_, n := reqs.since(0)
	choose(t, ctx, "#borough", "E08000099")
	asked, _ := reqs.since(n)
	// The map's tiles hold what it draws: at first the set alone (small
	// areas when shown, official boundaries when switched on); points come
	// as GeoJSON, so not in tiles.
	mapTiles := "/tiles/neighbourhoods-ward/"
	for _, prefix := range []string{mapTiles, "/collections/gp-practices/items", "/neighbourhoods/ward?", "/map/values.json"} {
		found := false
		for _, u := range asked {
			found = found || strings.HasPrefix(u, prefix) && strings.Contains(u, "borough=E08000099")
		}
		if !found {
			t.Errorf("after choosing the borough, no request for %s… with borough=E08000099 among %d: %v", prefix, len(asked), asked)
		}
	}
	for _, u := range asked {
		if strings.HasPrefix(u, "/tiles/") && !strings.HasPrefix(u, mapTiles) {
			t.Errorf("the map asked for tiles of other layers: %s", u)
		}
	}
	one := browsertest.MapShot(t, ctx, "boroughs-testham")
	if d := differing(all, one); d < 1000 {
		t.Errorf("choosing a borough changed only %d sampled pixels", d)
	}
	drawn := js[[]string](t, ctx, `[...new Set(nbhd.map.queryRenderedFeatures({ layers: ['n-fill'] }).map((f) => f.properties.lad_code))]`)
	if strings.Join(drawn, ",") != "E08000099" {
		t.Errorf("neighbourhoods drawn are of boroughs %v; want only E08000099", drawn)
	}
	words := js[[]string](t, ctx, `[document.title, document.querySelector('#search-input').placeholder, location.hash,
		[...document.querySelectorAll('#hood option')].slice(1).map((o) => o.textContent).join(',')]`)
	if !strings.Contains(words[0], "Testham") || !strings.Contains(words[1], "Testham") || !strings.Contains(words[2], "borough=E08000099") ||
		words[3] != "Testham North (Testham),Testham South (Testham)" {
		t.Errorf("title, placeholder, hash, neighbourhoods after choosing Testham: %q", words)
	}
	choose(t, ctx, "#borough", "E47000001")
	if h := js[string](t, ctx, `location.hash`); !strings.Contains(h, "borough=E47000001") {
		t.Errorf("combined authority not in the URL: %s", h)
	}
	both := js[[]string](t, ctx, `[...new Set(nbhd.map.queryRenderedFeatures({ layers: ['n-fill'] }).map((f) => f.properties.lad_code))].sort()`)
	if strings.Join(both, ",") != "E08000010,E08000099" {
		t.Errorf("the combined authority draws neighbourhoods of %v", both)
	}
	choose(t, ctx, "#borough", "E08000010")

	// Switching the official boundaries on asks for them in the composite.
	_, n = reqs.since(0)
	js[bool](t, ctx, `(async () => { document.querySelector('#layer-list input[value="boundary"]').click(); await nbhd.settled(); return true; })()`)
	asked, _ = reqs.since(n)
	withBoundary := false
	for _, u := range asked {
		withBoundary = withBoundary || strings.HasPrefix(u, "/tiles/neighbourhoods-ward,neighbourhoods-ward-boundary/") && strings.Contains(u, "borough=E08000010")
	}
	if !withBoundary {
		t.Errorf("after switching the official boundaries on, no tile of them among %v", asked)
	}
	js[bool](t, ctx, `(async () => { document.querySelector('#layer-list input[value="boundary"]').click(); await nbhd.settled(); return true; })()`)

	// Deciles: ten classes, 1 to 10, the ends in words. Colouring small
	// areas asks for their tiles.
	_, n = reqs.since(0)
	choose(t, ctx, "#indicator", "imd_decile@small-areas")
	asked, _ = reqs.since(n)
	withAreas := false
	for _, u := range asked {
		withAreas = withAreas || strings.HasPrefix(u, "/tiles/small-areas,neighbourhoods-ward/")
	}
	if !withAreas {
		t.Errorf("after colouring small areas, no tile of them among %v", asked)
	}
	legend := js[[]string](t, ctx, `[...document.querySelectorAll('#legend .legend-row[data-class]')].map((r) => r.textContent)`)
	if len(legend) != 10 || !strings.HasPrefix(legend[0], "1 (most deprived)") || !strings.HasPrefix(legend[9], "10 (least deprived)") {
		t.Errorf("decile legend: %q", legend)
	}
	browsertest.MapShot(t, ctx, "map-imd-deciles")
	choose(t, ctx, "#indicator", "imd_decile_change@small-areas")
	if kind := js[string](t, ctx, `document.querySelector('#legend .legend-classes').dataset.kind + ':' + document.querySelectorAll('#legend .legend-row[data-class]').length`); kind != "change:7" {
		t.Errorf("decile change legend: %s", kind)
	}

	// No count of people shows a decimal: in the legend, neighbourhoods
	// and small areas (estimates rounded), with the method said.
	for _, ind := range []string{"chaotic", "just_coping", "population", "chaotic_estimate@small-areas", "just_coping_estimate@small-areas", "population@small-areas"} {
		choose(t, ctx, "#indicator", ind)
		text := js[string](t, ctx, `document.querySelector('#legend').textContent`)
		rows := js[[]string](t, ctx, `[...document.querySelectorAll('#legend .legend-row')].map((r) => r.textContent)`)
		if decimal.MatchString(strings.Join(rows, " ")) || len(rows) < 2 {
			t.Errorf("legend of %s shows a decimal: %q", ind, rows)
		}
		if ind == "chaotic" && !strings.Contains(text, "nbhd-demand") {
			t.Errorf("legend of %s does not say how the figures were made: %q", ind, text)
		}
	}
	browsertest.MapShot(t, ctx, "map-chaotic-estimate-small-areas")
	// ...nor a small area's popup.
	var lon, lat float64
	if err := dbtest.Conn(t, e.dbURL).QueryRow(context.Background(),
		"SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM nbhd.small_areas WHERE lad_code = 'E08000010' ORDER BY code LIMIT 1").Scan(&lon, &lat); err != nil {
		t.Fatal(err)
	}
	hideLayers(t, ctx)
	clickAt(t, ctx, lon, lat)
	popup := js[[]string](t, ctx, `[...document.querySelectorAll('.maplibregl-popup tr')].filter((r) => /population|estimate$/.test(r.dataset.field)).map((r) => r.dataset.field + '=' + r.lastChild.textContent)`)
	if len(popup) < 3 || decimal.MatchString(strings.Join(popup, " ")) {
		t.Errorf("small-area popup counts: %q", popup)
	}
	browsertest.MapShot(t, ctx, "map-small-area-popup")
	if err := chromedp.Run(ctx, chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatal(err)
	}
	if n := js[int](t, ctx, `document.querySelectorAll('.maplibregl-popup').length`); n != 0 {
		t.Errorf("Escape left %d popups open", n)
	}
	// ...nor a GP practice's registered patients.
	if err := dbtest.Conn(t, e.dbURL).QueryRow(context.Background(),
		"SELECT ST_X(geom), ST_Y(geom) FROM api.gp_practices WHERE lad_code = 'E08000010' AND list_size >= 1000 ORDER BY code LIMIT 1").Scan(&lon, &lat); err != nil {
		t.Fatal(err)
	}
	js[bool](t, ctx, `(async () => { document.querySelector('#layer-list input[value="gp-practices"]').click(); await nbhd.settled(); return true; })()`)
	clickAt(t, ctx, lon, lat)
	patients := js[string](t, ctx, `document.querySelector('.maplibregl-popup tr[data-field="list_size"] td')?.textContent || ''`)
	if !regexp.MustCompile(`^\d{1,3}(,\d{3})+$`).MatchString(patients) {
		t.Errorf("a GP practice's registered patients show as %q", patients)
	}
	browsertest.MapShot(t, ctx, "map-gp-popup")
	if err := chromedp.Run(ctx, chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatal(err)
	}

	// The indicator added in SQL alone is a choice, colours the map and is
	// in the profile; the profile's counts are whole numbers and its
	// comparator columns say in words what they are.
	label := js[string](t, ctx, `document.querySelector('#indicator option[value="volunteering_pct"]')?.textContent || ''`)
	if label != "Residents who volunteer" {
		t.Errorf("the new indicator is not a choice: %q", label)
	}
	choose(t, ctx, "#indicator", "volunteering_pct")
	if rows := js[int](t, ctx, `document.querySelectorAll('#legend .legend-row[data-class]').length`); rows != 5 {
		t.Errorf("the new indicator's legend has %d classes", rows)
	}
	browsertest.MapShot(t, ctx, "map-new-indicator")
	choose(t, ctx, "#hood", "E05000840")
	if err := chromedp.Run(ctx, chromedp.WaitVisible("#profile-table", chromedp.ByID)); err != nil {
		t.Fatal(err)
	}
	_, body = e.get(t, "/neighbourhoods/ward/E05000840")
	var profile struct {
		Comparators map[string]struct{ Label string }
		Indicators  []struct {
			ID    string
			Unit  string
			Value *float64
		}
	}
	if err := json.Unmarshal(body, &profile); err != nil {
		t.Fatal(err)
	}
	heads := js[[]string](t, ctx, `[...document.querySelectorAll('#profile-table thead th[data-scope]')].map((h) => h.dataset.scope + '=' + h.textContent)`)
	if want := []string{"borough=" + profile.Comparators["borough"].Label, "cauth=" + profile.Comparators["cauth"].Label, "england=" + profile.Comparators["england"].Label}; strings.Join(heads, "|") != strings.Join(want, "|") {
		t.Errorf("profile columns %q; want %q", heads, want)
	}
	var volunteering float64
	if err := dbtest.Conn(t, e.dbURL).QueryRow(context.Background(),
		"SELECT value::float8 FROM nbhd.indicator_values WHERE set_id = 'ward' AND code = 'E05000840' AND indicator = 'volunteering_pct'").Scan(&volunteering); err != nil {
		t.Fatal(err)
	}
	row := js[string](t, ctx, `(document.querySelector('#profile-table tr[data-indicator="volunteering_pct"]')?.textContent) || ''`)
	if !strings.Contains(row, "Residents who volunteer") || !strings.Contains(row, strconv.FormatFloat(volunteering, 'f', 1, 64)+"%") {
		t.Errorf("the new indicator's profile row: %q (value %v)", row, volunteering)
	}
	if trend := js[string](t, ctx, `document.querySelector('#profile-table tr[data-indicator="deprived_10pct_share"] .trend')?.textContent || ''`); trend != "2019 → 2025: 22.2% → 11.1% (−11.1 points)" {
		t.Errorf("trend: %q", trend)
	}
	countRows := js[[]string](t, ctx, `[...document.querySelectorAll('#profile-table tr[data-unit="count"]')].map((r) => r.dataset.indicator + ': ' + [...r.querySelectorAll('td.num')].map((c) => c.textContent).join(' | '))`)
	counted := 0
	for _, ind := range profile.Indicators {
		if ind.Unit == "count" {
			counted++
		}
	}
	if len(countRows) != counted || counted < 5 {
		t.Errorf("profile shows %d count rows; the API has %d", len(countRows), counted)
	}
	for _, r := range countRows {
		if decimal.MatchString(r) {
			t.Errorf("a count in the profile shows a decimal: %s", r)
		}
	}
	browsertest.MapShot(t, ctx, "map-profile-comparators")

	// Every point layer has a symbol in the layer list, and no two kinds
	// of point share a colour.
	symbols := js[[]string](t, ctx, `[...document.querySelectorAll('#layer-list label')].filter((l) => l.querySelector('canvas.symbol')).map((l) => l.querySelector('input').value + '=' + l.querySelector('canvas').dataset.shape + '/' + l.querySelector('canvas').dataset.colour)`)
	colourOf := map[string]string{}
	for _, s := range symbols {
		kind, look, _ := strings.Cut(s, "=")
		if kind == "community-assets" { // the layer's own box; its categories have the colours
			continue
		}
		if other, dup := colourOf[look]; dup {
			t.Errorf("%s and %s look alike: %s", kind, other, look)
		}
		colourOf[look] = kind
	}
	var list []byte
	if err := chromedp.Run(ctx, chromedp.ScrollIntoView("#layers", chromedp.ByID), chromedp.Screenshot("#layers", &list, chromedp.ByID)); err == nil {
		_ = os.WriteFile(filepath.Join(browsertest.Artefacts(t), "map-layer-list.png"), list, 0o644)
	}
	for _, layer := range []string{"gp-practices", "schools", "community-assets"} {
		found := false
		for _, s := range symbols {
			found = found || strings.HasPrefix(s, layer+"=")
		}
		if !found {
			t.Errorf("no symbol for %s in the layer list: %v", layer, symbols)
		}
	}

	// The official boundaries are an outline to switch on.
	before := browsertest.MapShot(t, ctx, "map-without-boundaries")
	js[bool](t, ctx, `(async () => { document.querySelector('#layer-list input[value="boundary"]').click(); await nbhd.settled(); return true; })()`)
	outline := js[[]string](t, ctx, `[nbhd.map.getLayer('n-boundary')?.type, nbhd.map.getLayer('n-boundary')?.sourceLayer, nbhd.map.getLayoutProperty('n-boundary', 'visibility'), location.hash]`)
	if outline[0] != "line" || outline[1] != "neighbourhoods-ward-boundary" || outline[2] != "visible" || !strings.Contains(outline[3], "boundary") {
		t.Errorf("official boundary layer: %q", outline)
	}
	// Tiles hold them from zoom 9 (TileJSON's minzoom), and the list says so.
	if label := js[string](t, ctx, `document.querySelector('#layer-list input[value="boundary"]').closest('label').textContent`); !strings.Contains(label, "from zoom 9") {
		t.Errorf("the boundary layer's entry %q does not say from which zoom it is drawn", label)
	}
	if d := differing(before, browsertest.MapShot(t, ctx, "map-official-boundaries")); d < 30 {
		t.Errorf("the official boundaries changed only %d sampled pixels", d)
	}

	// Every control has a label.
	if unlabelled := js[[]string](t, ctx, `[...document.querySelectorAll('input, select, button')].filter((c) => !c.labels?.length && !c.getAttribute('aria-label') && !c.textContent.trim() && !c.title).map((c) => c.outerHTML.slice(0, 80))`); len(unlabelled) > 0 {
		t.Errorf("controls without a label: %q", unlabelled)
	}
	// Search from the keyboard: Enter, then the arrow keys and Enter again.
	if err := chromedp.Run(ctx,
		chromedp.SendKeys("#search-input", "Testham\r", chromedp.ByID),
		chromedp.WaitVisible("#search-results li", chromedp.ByQuery),
		chromedp.KeyEvent(kb.ArrowDown),
	); err != nil {
		t.Fatal(err)
	}
	focused := js[string](t, ctx, `document.activeElement.textContent + '|' + document.activeElement.getAttribute('aria-selected')`)
	if !strings.HasSuffix(focused, "|true") || !strings.Contains(focused, "Testham") {
		t.Errorf("after the arrow key, the focus is on %q", focused)
	}
	if err := chromedp.Run(ctx, chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	js[bool](t, ctx, `nbhd.settled().then(() => true)`)
	if h := js[string](t, ctx, `location.hash`); !strings.Contains(h, "borough=E08000099") {
		t.Errorf("choosing a Testham result did not show its borough: %s", h)
	}

	if p := problems(); len(p) > 0 {
		t.Errorf("console errors: %v", p)
	}
	if errs := js[[]string](t, ctx, `nbhd.errors`); len(errs) > 0 {
		t.Errorf("map errors: %v", errs)
	}
}

// hideLayers switches off every layer but the neighbourhoods, so a click
// lands on an area, not a point.
func hideLayers(t *testing.T, ctx context.Context) {
	t.Helper()
	js[bool](t, ctx, `(async () => { for (const b of document.querySelectorAll('input[name=layer]')) { if (b.value !== 'neighbourhoods' && b.checked) b.click(); } await nbhd.settled(); return true; })()`)
}

// clickAt clicks the map at a longitude and latitude.
func clickAt(t *testing.T, ctx context.Context, lon, lat float64) {
	t.Helper()
	pt := js[struct{ X, Y float64 }](t, ctx, fmt.Sprintf(`(() => { const p = nbhd.map.project([%f, %f]); const r = nbhd.map.getContainer().getBoundingClientRect(); return {x: p.x + r.left, y: p.y + r.top}; })()`, lon, lat))
	if err := chromedp.Run(ctx, chromedp.MouseClickXY(pt.X, pt.Y)); err != nil {
		t.Fatal(err)
	}
	js[bool](t, ctx, `nbhd.settled().then(() => true)`)
}

// TestMapValuesAgreeWithProfiles: /map/values.json gives, for every
// neighbourhood, the value its profile shows, for catalogued indicators,
// family members and one added in SQL alone; ?borough= keeps that
// borough's neighbourhoods; /map/indicators.json lists what the set has;
// /map/view.json bounds every borough's small areas; bad requests are 4xx
// that say why.
func TestMapValuesAgreeWithProfiles(t *testing.T) {
	e, _ := newManyBoroughEnv(t, api.Config{}, "")
	type value struct {
		Code       string
		Value      *float64
		Suppressed bool
		Source     string
	}
	values := func(path string) []value {
		t.Helper()
		resp, body := e.get(t, path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'") {
			t.Errorf("%s is data, served under %q", path, csp)
		}
		var r struct{ Values []value }
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatal(err)
		}
		return r.Values
	}
	profiles := map[string]map[string]value{}
	var codes []string
	for _, c := range dbtest.Strings(t, e.dbURL, "SELECT code FROM nbhd.neighbourhoods WHERE set_id = 'ward' ORDER BY code COLLATE \"C\"") {
		_, body := e.get(t, "/neighbourhoods/ward/"+c)
		var p struct {
			Indicators []struct {
				ID         string
				Value      *float64
				Suppressed bool
				Source     string
			}
		}
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		profiles[c] = map[string]value{}
		for _, i := range p.Indicators {
			profiles[c][i.ID] = value{c, i.Value, i.Suppressed, i.Source}
		}
		codes = append(codes, c)
	}
	show := func(v *float64) string {
		if v == nil {
			return "null"
		}
		return strconv.FormatFloat(*v, 'f', -1, 64)
	}
	for _, ind := range []string{"population", "chaotic", "access_gp_pct", "asset:library", "school:Primary", "volunteering_pct"} {
		got := values("/map/values.json?set=ward&indicator=" + ind)
		if len(got) != len(codes) {
			t.Fatalf("%s: %d values for %d neighbourhoods", ind, len(got), len(codes))
		}
		for i, v := range got {
			want, ok := profiles[codes[i]][ind]
			if v.Code != codes[i] {
				t.Fatalf("%s: value %d is for %s, want %s (code order)", ind, i, v.Code, codes[i])
			}
			switch {
			case !ok && strings.Contains(ind, ":"):
				// A profile lists the family members its borough has; a
				// neighbourhood has none of the others.
				zero := 0.0
				want = value{Code: codes[i], Value: &zero}
			case !ok:
				want = value{Code: codes[i]}
			}
			if show(v.Value) != show(want.Value) || v.Suppressed != want.Suppressed || v.Source != want.Source {
				t.Errorf("%s of %s: map %s (%v, %q), profile %s (%v, %q)", ind, v.Code, show(v.Value), v.Suppressed, v.Source, show(want.Value), want.Suppressed, want.Source)
			}
		}
	}
	if got := values("/map/values.json?set=ward&indicator=population&borough=E08000099"); len(got) != 2 || got[0].Code != "E05099001" || got[1].Code != "E05099002" {
		t.Errorf("Testham's wards: %+v", got)
	}

	_, body := e.get(t, "/map/indicators.json?set=ward&borough=E08000099")
	var ids struct{ Indicators []string }
	if err := json.Unmarshal(body, &ids); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(ids.Indicators, "population") || slices.Contains(ids.Indicators, "volunteering_pct") || slices.Contains(ids.Indicators, "asset:library") {
		t.Errorf("Testham's ward indicators (it has people and no assets or survey): %v", ids.Indicators)
	}
	_, body = e.get(t, "/map/indicators.json?set=ward")
	if err := json.Unmarshal(body, &ids); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"population", "volunteering_pct", "asset:library", "school:Primary"} {
		if !slices.Contains(ids.Indicators, id) {
			t.Errorf("the ward set's indicators lack %s: %v", id, ids.Indicators)
		}
	}

	// view.json: each borough's box holds every point of its small areas,
	// and touches them (computed here from the public GeoJSON).
	_, body = e.get(t, "/map/view.json")
	var view struct {
		Bounds   [4]float64
		Boroughs []struct {
			Code string
			BBox [4]float64
		}
	}
	if err := json.Unmarshal(body, &view); err != nil {
		t.Fatal(err)
	}
	if len(view.Boroughs) != 2 {
		t.Fatalf("view.json: %s", body)
	}
	for _, b := range view.Boroughs {
		_, fc := e.get(t, "/collections/small-areas/items?limit=10000&properties=code&borough="+b.Code)
		var items struct {
			Features []struct {
				Geometry struct{ Coordinates [][][][2]float64 }
			}
		}
		if err := json.Unmarshal(fc, &items); err != nil {
			t.Fatal(err)
		}
		box := [4]float64{180, 90, -180, -90}
		for _, f := range items.Features {
			for _, poly := range f.Geometry.Coordinates {
				for _, ring := range poly {
					for _, p := range ring {
						box = [4]float64{min(box[0], p[0]), min(box[1], p[1]), max(box[2], p[0]), max(box[3], p[1])}
					}
				}
			}
		}
		for i := range box {
			if d := box[i] - b.BBox[i]; d > 1e-5 || d < -1e-5 {
				t.Errorf("%s: view.json box %v, its small areas span %v", b.Code, b.BBox, box)
				break
			}
		}
		if b.BBox[0] < view.Bounds[0] || b.BBox[1] < view.Bounds[1] || b.BBox[2] > view.Bounds[2] || b.BBox[3] > view.Bounds[3] {
			t.Errorf("bounds %v do not hold %s's %v", view.Bounds, b.Code, b.BBox)
		}
	}

	for path, want := range map[string]string{
		"/map/values.json?set=ward":                                 "400 indicator is required",
		"/map/values.json?indicator=population":                     "400 set is required",
		"/map/values.json?set=nope&indicator=population":            "404 no neighbourhood set \"nope\"",
		"/map/values.json?set=ward&indicator=nope":                  "404 no indicator \"nope\"",
		"/map/values.json?set=ward&indicator=asset:":                "404 no indicator \"asset:\"",
		"/map/values.json?set=ward&indicator=population&borough=x1": "400 borough:",
		"/map/values.json?set=ward&indicator=population&sort=1":     "400 unknown parameter \"sort\"",
		"/map/indicators.json?set=ward&indicator=population":        "400 unknown parameter \"indicator\"",
		"/map/view.json?borough=E08000010":                          "400 unknown parameter \"borough\"",
	} {
		resp, body := e.get(t, path)
		var problem struct{ Description string }
		_ = json.Unmarshal(body, &problem)
		if got := fmt.Sprintf("%d %s", resp.StatusCode, problem.Description); !strings.HasPrefix(got, want) {
			t.Errorf("%s: %s; want %s…", path, got, want)
		}
	}
}

// TestMapFromPMTilesByBorough: with --pmtiles-url the map draws from the
// archive (every borough's features in it) and still shows only the
// borough chosen, asking nbhd for no tile.
func TestMapFromPMTilesByBorough(t *testing.T) {
	static := t.TempDir()
	e, reqs := newManyBoroughEnv(t, api.Config{PMTilesURL: "/static/nbhd.pmtiles"}, static)
	ctx := context.Background()
	cat, err := e.store.Catalogue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	layers, src, _ := cat.TileSet(data.AllLayers)
	tj := tiles.NewTileJSON(src, "")
	tj.Tiles, tj.MinZoom, tj.MaxZoom = nil, 0, 13
	for i := range tj.VectorLayers {
		tj.VectorLayers[i].MinZoom, tj.VectorLayers[i].MaxZoom = 0, 13
	}
	if _, err := e.store.ExportArchive(ctx, layers, src, tj, filepath.Join(static, "nbhd.pmtiles"), 2, cat.Version, nil); err != nil {
		t.Fatal(err)
	}

	bctx, problems := browsertest.Start(t, 4*time.Minute)
	if err := chromedp.Run(bctx,
		chromedp.Navigate(e.url+"/map/"),
		chromedp.Poll(`!!(window.nbhd && window.nbhd.ready)`, nil, chromedp.WithPollingTimeout(2*time.Minute)),
		browsertest.Idle(),
	); err != nil {
		t.Fatalf("the map did not become ready: %v; problems: %v", err, problems())
	}
	if src := js[string](t, bctx, `nbhd.map.getSource('nbhd').url || ''`); !strings.HasPrefix(src, "pmtiles://") {
		t.Fatalf("the map's tiles come from %q, not the archive", src)
	}
	all := browsertest.MapShot(t, bctx, "pmtiles-all-boroughs")
	choose(t, bctx, "#borough", "E08000099")
	drawn := js[[]string](t, bctx, `[...new Set(nbhd.map.queryRenderedFeatures({ layers: ['n-fill'] }).map((f) => f.properties.lad_code))]`)
	if strings.Join(drawn, ",") != "E08000099" {
		t.Errorf("from the archive, neighbourhoods drawn are of boroughs %v; want only E08000099", drawn)
	}
	if d := differing(all, browsertest.MapShot(t, bctx, "pmtiles-testham")); d < 1000 {
		t.Errorf("choosing a borough changed only %d sampled pixels", d)
	}
	asked, _ := reqs.since(0)
	archive := 0
	for _, u := range asked {
		if strings.HasPrefix(u, "/tiles/") && !strings.HasSuffix(u, ".json") || strings.HasPrefix(u, "/collections/") && strings.Contains(u, "/tiles/") {
			t.Errorf("the map asked nbhd for a tile: %s", u)
		}
		if strings.HasPrefix(u, "/static/nbhd.pmtiles") {
			archive++
		}
	}
	if archive < 2 {
		t.Errorf("the map read the archive %d times", archive)
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("console errors: %v", p)
	}
}
