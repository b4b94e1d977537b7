package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/paulmach/orb"

	"nbhd/api/browsertest"
	"nbhd/data/dbtest"
)

// doorstepJSON is the part of a doorstep document the map shows.
type doorstepJSON struct {
	Place struct {
		Code, Name string
	} `json:"place"`
	Circle struct {
		Centre  [2]float64 `json:"centre"`
		RadiusM float64    `json:"radius_m"`
	} `json:"circle"`
	Assets     int `json:"assets"`
	Categories []struct {
		Label  string `json:"label"`
		Assets []struct {
			ID           string  `json:"id"`
			Name         string  `json:"name"`
			OpeningHours string  `json:"opening_hours"`
			Phone        string  `json:"phone"`
			DistanceM    float64 `json:"distance_m"`
		} `json:"assets"`
	} `json:"categories"`
}

func (e *env) doorstepJSON(t *testing.T, path string) doorstepJSON {
	t.Helper()
	resp, body := e.get(t, path)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
	}
	var d doorstepJSON
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// loneDoorstepPlace is the place of a view (api.gp_practices keyed by
// code, api.schools by id) in the sample borough with the most community
// assets within 800 m and no other GP practice or school within 100 m, so
// a click at it finds it alone; and where it is.
func loneDoorstepPlace(t *testing.T, dbURL, view, key string) (code string, lon, lat float64) {
	t.Helper()
	q := fmt.Sprintf(`SELECT p.%[2]s, ST_X(p.geom), ST_Y(p.geom) FROM api.%[1]s p
		WHERE p.lad_code = 'E08000010'
		  AND NOT EXISTS (SELECT 1 FROM api.gp_practices o WHERE o.code <> p.%[2]s AND ST_DWithin(o.geom_bng, p.geom_bng, 100))
		  AND NOT EXISTS (SELECT 1 FROM api.schools o WHERE o.id <> p.%[2]s AND ST_DWithin(o.geom_bng, p.geom_bng, 100))
		ORDER BY (SELECT count(*) FROM api.community_assets a WHERE ST_DWithin(a.geom_bng, p.geom_bng, 800)) DESC, 1 LIMIT 1`, view, key)
	if err := dbtest.Conn(t, dbURL).QueryRow(context.Background(), q).Scan(&code, &lon, &lat); err != nil {
		t.Fatal(err)
	}
	return code, lon, lat
}

// showOnly switches the point layers so that only the one given is on,
// and centres the map on lon, lat at zoom 15.
func showOnly(t *testing.T, ctx context.Context, layer string, lon, lat float64) {
	t.Helper()
	js[bool](t, ctx, fmt.Sprintf(`(async () => {
		for (const b of document.querySelectorAll('input[name=layer]')) {
			if (b.value !== 'neighbourhoods' && b.checked !== (b.value === %q)) b.click();
		}
		for (const p of document.querySelectorAll('.maplibregl-popup')) p.remove();
		nbhd.map.fitBounds([[%[2]f - 0.002, %[3]f - 0.001], [%[2]f + 0.002, %[3]f + 0.001]], { maxZoom: 15, duration: 0 });
		await nbhd.settled(); return true; })()`, layer, lon, lat))
}

// circleOnMap is the doorstep source's features' geometries.
type circleGeometry struct {
	Type        string
	Coordinates [][][2]float64
}

func circleOnMap(t *testing.T, ctx context.Context) []circleGeometry {
	t.Helper()
	return js[[]circleGeometry](t, ctx, `nbhd.map.getSource('doorstep').getData().then((d) => d.features.map((f) => f.geometry))`)
}

// TestMapDoorstepAndInvestmentInABrowser: clicking a GP practice opens
// its doorstep beside the map, the assets in the API's order with their
// distances, links to the printable page and the CSV, and the circle
// drawn; a school replaces it; Escape and the close button take panel and
// circle away. With grants loaded, investment per resident is a choice
// that colours the neighbourhoods.
func TestMapDoorstepAndInvestmentInABrowser(t *testing.T) {
	e := newEnv(t)
	indicators := func() []string {
		_, body := e.get(t, "/map/indicators.json?set=ward")
		var r struct{ Indicators []string }
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatal(err)
		}
		return r.Indicators
	}
	if ids := indicators(); slices.Contains(ids, "grant_amount_per_resident") {
		t.Errorf("with no grants loaded the map offers investment: %v", ids)
	}
	if _, err := importGrants(t, e.dbURL, filepath.Join("testdata", "grants_wigan.csv")); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); !slices.Contains(indicators(), "grant_amount_per_resident"); {
		if time.Now().After(deadline) {
			t.Fatalf("with grants loaded /map/indicators.json lacks investment: %v", indicators())
		}
		time.Sleep(200 * time.Millisecond)
	}

	ctx, problems := browsertest.Start(t, 4*time.Minute)
	if err := chromedp.Run(ctx,
		chromedp.Navigate(e.url+"/map/"),
		chromedp.Poll(`!!(window.nbhd && window.nbhd.ready)`, nil, chromedp.WithPollingTimeout(2*time.Minute)),
		browsertest.Idle(),
	); err != nil {
		t.Fatalf("the map did not become ready: %v; problems: %v", err, problems())
	}

	// A GP practice: its doorstep, as the API lists it.
	code, lon, lat := loneDoorstepPlace(t, e.dbURL, "gp_practices", "code")
	want := e.doorstepJSON(t, "/gp-practices/"+code+"/doorstep")
	if want.Assets < 2 || len(want.Categories) < 2 {
		t.Fatalf("the sample's practice %s has %d assets in %d categories on its doorstep: pick another", code, want.Assets, len(want.Categories))
	}
	showOnly(t, ctx, "gp-practices", lon, lat)
	before := browsertest.MapShot(t, ctx, "map-before-doorstep")
	clickAt(t, ctx, lon, lat)
	if err := chromedp.Run(ctx, chromedp.WaitVisible("#doorstep-rule", chromedp.ByID)); err != nil {
		t.Fatalf("no doorstep panel after clicking %s: %v; problems %v", code, err, problems())
	}
	if got := js[string](t, ctx, `document.querySelector('#doorstep-name').textContent`); got != "On the doorstep of "+want.Place.Name {
		t.Errorf("panel heading %q; want the practice %q", got, want.Place.Name)
	}
	var wantIDs, wantHeads []string
	for _, g := range want.Categories {
		wantHeads = append(wantHeads, fmt.Sprintf("%s (%d)", g.Label, len(g.Assets)))
		for _, a := range g.Assets {
			wantIDs = append(wantIDs, a.ID)
		}
	}
	ids := js[[]string](t, ctx, `[...document.querySelectorAll('#doorstep li[data-asset-id]')].map((li) => li.dataset.assetId)`)
	if strings.Join(ids, "\n") != strings.Join(wantIDs, "\n") || len(ids) != want.Assets {
		t.Errorf("the panel lists %d assets\n%v\nthe API %d\n%v", len(ids), ids, want.Assets, wantIDs)
	}
	if heads := js[[]string](t, ctx, `[...document.querySelectorAll('#doorstep section h3')].map((h) => h.textContent)`); strings.Join(heads, "|") != strings.Join(wantHeads, "|") {
		t.Errorf("category headings %q; want %q", heads, wantHeads)
	}
	texts := js[[]string](t, ctx, `[...document.querySelectorAll('#doorstep li[data-asset-id]')].map((li) => li.textContent)`)
	i := 0
	for _, g := range want.Categories {
		for _, a := range g.Assets {
			if i >= len(texts) {
				break
			}
			for _, part := range []string{a.Name, fmt.Sprintf("%d m, about", int(math.Round(a.DistanceM))), a.OpeningHours, a.Phone} {
				if !strings.Contains(texts[i], part) {
					t.Errorf("asset %s shows %q, without %q", a.ID, texts[i], part)
				}
			}
			i++
		}
	}
	links := js[[]string](t, ctx, `[...document.querySelectorAll('.doorstep-links a')].map((a) => a.textContent + '=' + a.href)`)
	for _, l := range links {
		_, href, _ := strings.Cut(l, "=")
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, href, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", l, resp.StatusCode)
		}
	}
	base := e.url + "/gp-practices/" + code + "/doorstep"
	if len(links) != 2 || !strings.HasSuffix(links[0], "="+base+"?f=html") || !strings.HasSuffix(links[1], "="+base+"?f=csv") {
		t.Errorf("the panel's links: %q", links)
	}
	if focus := js[string](t, ctx, `document.activeElement.id`); focus != "doorstep" {
		t.Errorf("after opening, the focus is on %q, not the panel", focus)
	}

	// The circle: one polygon around the practice whose every corner is
	// the access distance from it, measured on the National Grid.
	circles := circleOnMap(t, ctx)
	if len(circles) != 1 || circles[0].Type != "Polygon" || len(circles[0].Coordinates) != 1 || len(circles[0].Coordinates[0]) < 33 {
		t.Fatalf("the doorstep's source holds %+v", circles)
	}
	ring := circles[0].Coordinates[0]
	if ring[0] != ring[len(ring)-1] {
		t.Errorf("the circle's ring is not closed")
	}
	centre := orb.Point(want.Circle.Centre)
	if math.Abs(centre[0]-lon) > 1e-6 || math.Abs(centre[1]-lat) > 1e-6 {
		t.Errorf("the doorstep's centre %v is not the practice's %v", centre, [2]float64{lon, lat})
	}
	for _, p := range ring {
		if d := gridDistance(centre, orb.Point(p)); math.Abs(d-want.Circle.RadiusM) > 0.005*want.Circle.RadiusM {
			t.Errorf("a corner of the circle is %.1f m from the practice; the doorstep's radius is %g m", d, want.Circle.RadiusM)
			break
		}
	}
	if n := js[int](t, ctx, `nbhd.map.queryRenderedFeatures({ layers: ['doorstep-line'] }).length`); n == 0 {
		t.Errorf("the circle is not drawn")
	}
	if d := differing(before, browsertest.MapShot(t, ctx, "map-doorstep-gp")); d < 200 {
		t.Errorf("the doorstep's circle changed only %d sampled pixels", d)
	}

	// A school replaces the practice, and its circle the practice's.
	id, slon, slat := loneDoorstepPlace(t, e.dbURL, "schools", "id")
	school := e.doorstepJSON(t, "/schools/"+id+"/doorstep")
	showOnly(t, ctx, "schools", slon, slat)
	clickAt(t, ctx, slon, slat)
	if got := js[string](t, ctx, `document.querySelector('#doorstep-name')?.textContent + '|' + document.querySelectorAll('#doorstep li[data-asset-id]').length`); got != fmt.Sprintf("On the doorstep of %s|%d", school.Place.Name, school.Assets) {
		t.Errorf("after clicking school %s the panel shows %q", id, got)
	}
	if circles := circleOnMap(t, ctx); len(circles) != 1 ||
		math.Abs(gridDistance(orb.Point(school.Circle.Centre), orb.Point(circles[0].Coordinates[0][0]))-school.Circle.RadiusM) > 0.005*school.Circle.RadiusM {
		t.Errorf("after choosing the school the source holds %d circles, not the school's", len(circles))
	}
	browsertest.MapShot(t, ctx, "map-doorstep-school")

	// Escape closes panel, circle and popup; so does the close button.
	if err := chromedp.Run(ctx, chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatal(err)
	}
	if state := js[string](t, ctx, `document.querySelector('#doorstep').hidden + '|' + document.querySelectorAll('.maplibregl-popup').length + '|' + document.activeElement.tagName`); state != "true|0|CANVAS" {
		t.Errorf("after Escape: panel hidden, popups, focus = %s", state)
	}
	if circles := circleOnMap(t, ctx); len(circles) != 0 {
		t.Errorf("Escape left the circle: %+v", circles)
	}
	clickAt(t, ctx, slon, slat)
	if err := chromedp.Run(ctx, chromedp.WaitVisible("#doorstep-rule", chromedp.ByID), chromedp.Click("#close-doorstep", chromedp.ByID)); err != nil {
		t.Fatal(err)
	}
	if hidden := js[bool](t, ctx, `document.querySelector('#doorstep').hidden`); !hidden || len(circleOnMap(t, ctx)) != 0 {
		t.Errorf("the close button left the panel (hidden %v) or the circle", hidden)
	}

	// Investment per resident is a choice, in its group, and colours the
	// neighbourhoods by their values.
	offered := js[[]string](t, ctx, `[...document.querySelectorAll('#indicator option')].filter((o) => /^grant/.test(o.value)).map((o) => o.value + '=' + o.textContent + '@' + o.parentElement.label)`)
	for _, w := range []string{"grant_amount_per_resident=Grant funding per resident (£)@", "grants_per_1000=Grants per 1,000 residents@", "grants_per_1000_just_coping=Grants per 1,000 just-coping residents@"} {
		found := false
		for _, o := range offered {
			found = found || strings.HasPrefix(o, w) && strings.HasSuffix(o, ": Investment")
		}
		if !found {
			t.Errorf("the map does not offer %s…: Investment among %q", w, offered)
		}
	}
	hideLayers(t, ctx)
	choose(t, ctx, "#indicator", "chaotic_per_1000")
	js[bool](t, ctx, `(async () => { const v = (await (await fetch('view.json')).json()).bounds; nbhd.map.fitBounds([[v[0], v[1]], [v[2], v[3]]], { duration: 0, padding: 20 }); await nbhd.settled(); return true; })()`)
	demand := browsertest.MapShot(t, ctx, "map-before-investment")
	choose(t, ctx, "#indicator", "grant_amount_per_resident")
	if got := js[[]string](t, ctx, `[document.querySelector('#legend .legend-title').textContent, ...[...document.querySelectorAll('#legend .legend-row[data-class]')].map((r) => r.textContent)]`); len(got) < 3 || got[0] != "Grant funding per resident (£)" {
		t.Errorf("investment legend: %q", got)
	}
	_, body := e.get(t, "/map/values.json?set=ward&indicator=grant_amount_per_resident")
	var values struct {
		Values []struct {
			Code  string
			Value *float64
		}
	}
	if err := json.Unmarshal(body, &values); err != nil {
		t.Fatal(err)
	}
	// The fill's colour of each ward, read from the map's own style.
	colour := js[map[string]string](t, ctx, `(() => { const e = nbhd.map.getPaintProperty('n-fill', 'fill-color'); const out = {};
		if (!Array.isArray(e)) return out;
		for (let i = 2; i < e.length - 1; i += 2) for (const c of e[i]) out[c] = e[i + 1];
		return out; })()`)
	funded, colours := 0, map[string]bool{}
	for _, v := range values.Values {
		if v.Value == nil {
			continue
		}
		c := colour[v.Code]
		if c == "" || c == "#d9d9d9" {
			t.Errorf("ward %s (£%.2f a resident) is not coloured: %q", v.Code, *v.Value, c)
		}
		colours[c] = true
		if *v.Value > 0 {
			funded++
		}
	}
	if funded < 3 || len(colours) < 2 {
		t.Errorf("%d funded wards in %d colours: the fixture should fund several", funded, len(colours))
	}
	if d := differing(demand, browsertest.MapShot(t, ctx, "map-investment-per-resident")); d < 1000 {
		t.Errorf("colouring by investment changed only %d sampled pixels", d)
	}
	if h := js[string](t, ctx, `location.hash`); !strings.Contains(h, "ind=grant_amount_per_resident") {
		t.Errorf("the indicator is not in the URL: %s", h)
	}

	if p := problems(); len(p) > 0 {
		t.Errorf("console errors: %v", p)
	}
	if errs := js[[]string](t, ctx, `nbhd.errors`); len(errs) > 0 {
		t.Errorf("map errors: %v", errs)
	}
}
