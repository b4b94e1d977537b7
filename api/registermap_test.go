package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"nbhd/api"
	"nbhd/api/browsertest"
	"nbhd/data/dbtest"
)

// TestMapAssetRegisterInABrowser: staff keep the asset register on the map.
// With a key that has assets:write, an asset is added by clicking the map
// at a known pixel and filling the form; it is drawn on the map and the
// public API returns it where it was clicked. It is then renamed (opened
// by clicking it), moved by dragging its marker, changed after someone
// else changed it (412: the form says so and shows their change) and
// closed; an empty name is refused in words, beside the form, with the
// field marked, and so is a key without assets:write. After each change
// the map asks for its tiles again.
func TestMapAssetRegisterInABrowser(t *testing.T) {
	e, reqs := newManyBoroughEnv(t, api.Config{}, "")
	token, _ := e.staff(t, "assets:write")
	sp := e.spots(t, 1)[0]
	ctx, problems := browsertest.Start(t, 4*time.Minute)
	if err := chromedp.Run(ctx,
		chromedp.Navigate(e.url+"/map/"),
		chromedp.Poll(`!!(window.nbhd && window.nbhd.ready)`, nil, chromedp.WithPollingTimeout(2*time.Minute)),
		browsertest.Idle(),
	); err != nil {
		t.Fatalf("the map did not become ready: %v; problems: %v", err, problems())
	}
	settle := func() { js[bool](t, ctx, `nbhd.settled().then(() => true)`) }
	run := func(what string, actions ...chromedp.Action) {
		t.Helper()
		if err := chromedp.Run(ctx, actions...); err != nil {
			t.Fatalf("%s: %v; problems: %v", what, err, problems())
		}
	}
	text := func(sel string) string {
		return js[string](t, ctx, fmt.Sprintf(`document.querySelector(%q).textContent`, sel))
	}
	value := func(sel string) string {
		return js[string](t, ctx, fmt.Sprintf(`document.querySelector(%q).value`, sel))
	}
	// drawn counts the assets of a name the map draws, and those drawn at
	// the pixel of lon, lat.
	drawn := func(name string, lon, lat float64) (anywhere, there int) {
		settle()
		r := js[[]int](t, ctx, fmt.Sprintf(`(() => { const m = nbhd.map; const p = m.project([%f, %f]);
			const of = (fs) => fs.filter((f) => f.properties.name === %q).length;
			return [of(m.queryRenderedFeatures({ layers: ['pt-community-assets'] })),
			        of(m.queryRenderedFeatures([[p.x - 3, p.y - 3], [p.x + 3, p.y + 3]], { layers: ['pt-community-assets'] }))]; })()`, lon, lat, name))
		return r[0], r[1]
	}
	// public is the asset of a name as the public items API returns it.
	public := func(name string) (assetDoc, int) {
		resp, b := e.get(t, "/collections/community-assets/items?name="+url.QueryEscape(name))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("public items: %d %s", resp.StatusCode, b)
		}
		var fc struct{ Features []assetDoc }
		if err := json.Unmarshal(b, &fc); err != nil {
			t.Fatal(err)
		}
		if len(fc.Features) == 0 {
			return assetDoc{}, 0
		}
		return fc.Features[0], len(fc.Features)
	}
	closeTo := func(a assetDoc, lon, lat, tol float64) bool {
		c := a.Geometry.Coordinates
		return len(c) == 2 && math.Abs(c[0]-lon) < tol && math.Abs(c[1]-lat) < tol
	}
	// tilesAgain reports whether the map asked for tiles after request n.
	tilesAgain := func(n int) bool {
		after, _ := reqs.since(n)
		for _, u := range after {
			if strings.HasPrefix(u, "/tiles/") && strings.Contains(u, ".mvt") {
				return true
			}
		}
		return false
	}
	// save submits the form and waits until the map has done all it started.
	save := func() {
		t.Helper()
		run("save", chromedp.Click("#register-save", chromedp.ByID))
		settle()
	}

	// Signing in: the key pasted in the staff field is checked and kept in
	// this tab only.
	run("sign in",
		chromedp.SendKeys("#staff-key", token, chromedp.ByID),
		chromedp.Click("#register-start", chromedp.ByID),
		chromedp.WaitVisible("#register-tools", chromedp.ByID))
	if s := text("#register-status"); !strings.Contains(s, "Key accepted") {
		t.Errorf("status after signing in: %q", s)
	}
	stored := js[string](t, ctx, `sessionStorage.getItem('nbhd-staff-key') + '|' + (localStorage.getItem('nbhd-staff-key') || '') + '|' + location.href`)
	if !strings.HasPrefix(stored, token+"||") || strings.Contains(strings.TrimPrefix(stored, token+"||"), token) {
		t.Errorf("the key should be in session storage only, never in local storage or the URL: %q", stored)
	}

	// Adding: click the map at the pixel of a point inside a small area.
	js[bool](t, ctx, fmt.Sprintf(`(async () => { nbhd.map.fitBounds([[%f, %f], [%f, %f]], { maxZoom: 16, duration: 0 }); await nbhd.settled(); return true; })()`,
		sp.lon-1e-4, sp.lat-1e-4, sp.lon+1e-4, sp.lat+1e-4))
	run("add", chromedp.Click("#register-add", chromedp.ByID), chromedp.WaitVisible("#register-form", chromedp.ByID))
	n0 := e.dbCount(t, "SELECT count(*) FROM nbhd.community_assets")
	clickAt(t, ctx, sp.lon, sp.lat)
	if w := text("#register-where"); !strings.Contains(w, fmt.Sprintf("%.3f", sp.lat)) {
		t.Errorf("the form does not say where the asset was placed: %q (clicked %f, %f)", w, sp.lat, sp.lon)
	}
	category := js[string](t, ctx, `document.querySelector('#register-category').options[1]?.value || ''`)
	if category == "" || category == "__other" {
		t.Fatalf("the category list offers none of the map's categories: %q", category)
	}
	choose(t, ctx, "#register-category", category)
	run("fill the form", chromedp.SendKeys("#register-postcode", "wn7 1aa", chromedp.ByID),
		chromedp.SendKeys("#register-note", "Opened for the winter", chromedp.ByID))

	// Without a name: refused, in words, beside the form, the field marked.
	save()
	if msg := text("#register-error"); !strings.Contains(msg, "name: is required") {
		t.Errorf("the empty name's message: %q", msg)
	}
	if got := js[string](t, ctx, `document.querySelector('#register-name').getAttribute('aria-invalid') + ' ' + document.activeElement.id`); got != "true register-name" {
		t.Errorf("the name field is not marked and focused: %q", got)
	}
	if n := e.dbCount(t, "SELECT count(*) FROM nbhd.community_assets"); n != n0 {
		t.Errorf("a refused asset was stored: %d assets, were %d", n, n0)
	}
	browsertest.MapShot(t, ctx, "map-register-invalid")

	name := "Browser Test Warm Space"
	run("name it", chromedp.SendKeys("#register-name", name, chromedp.ByID))
	before, _ := reqs.since(0)
	save()
	if !js[bool](t, ctx, `document.querySelector('#register-form').hidden`) {
		t.Fatalf("the form is still open after saving: %q", text("#register-error"))
	}
	if msg := text("#message"); !strings.Contains(msg, "Added “"+name+"”") {
		t.Errorf("message after adding: %q", msg)
	}
	added, n := public(name)
	if n != 1 || !closeTo(added, sp.lon, sp.lat, 5e-5) || added.Properties["postcode"] != "WN7 1AA" || added.Properties["category"] != category {
		t.Fatalf("the public API has %d assets named %q: %+v (clicked %f, %f)", n, name, added, sp.lon, sp.lat)
	}
	if all, there := drawn(name, sp.lon, sp.lat); all != 1 || there != 1 {
		t.Errorf("the new asset is drawn %d times, %d at the pixel clicked; want once, there", all, there)
	}
	if !tilesAgain(len(before)) {
		t.Error("the map did not ask for its tiles again after the change")
	}
	browsertest.MapShot(t, ctx, "map-register-added")

	// Editing: click the asset, the form shows it; rename it. The map may
	// still be redrawing after the save (its tiles and points reload), so a
	// click that lands before the point is drawn again is made again.
	for try := 0; try < 3; try++ {
		clickAt(t, ctx, sp.lon, sp.lat)
		if strings.Contains(text("#register-title"), name) {
			break
		}
		time.Sleep(time.Second)
	}
	if v := value("#register-name"); v != name || !strings.Contains(text("#register-title"), name) {
		t.Fatalf("clicking the asset opened %q (%q)", v, text("#register-title"))
	}
	browsertest.MapShot(t, ctx, "map-register-edit")
	renamed := "Browser Test Warm Space at the Library"
	run("rename", chromedp.SetValue("#register-name", renamed, chromedp.ByID),
		chromedp.SendKeys("#register-note", "Renamed as the library runs it", chromedp.ByID))
	save()
	if a, n := public(renamed); n != 1 || a.ID != added.ID {
		t.Errorf("after renaming, the public API has %d assets named %q (%s)", n, renamed, a.ID)
	}
	if all, _ := drawn(renamed, sp.lon, sp.lat); all != 1 {
		t.Errorf("the renamed asset is drawn %d times", all)
	}
	if all, _ := drawn(name, sp.lon, sp.lat); all != 0 {
		t.Errorf("the old name is still drawn %d times", all)
	}

	// Moving: open it from the list (as from the keyboard), drag its marker.
	choose(t, ctx, "#register-pick", added.ID)
	run("open from the list", chromedp.Click("#register-open", chromedp.ByID))
	settle()
	type xy struct{ X, Y float64 }
	grip := js[xy](t, ctx, `(() => { const r = document.querySelector('.register-marker').getBoundingClientRect(); return { X: r.left + r.width / 2, Y: r.top + r.height / 2 }; })()`)
	const dx, dy = 60.0, 30.0
	want := js[struct{ Lng, Lat float64 }](t, ctx, fmt.Sprintf(`(() => { const p = nbhd.map.project([%f, %f]); const q = nbhd.map.unproject([p.x + %f, p.y + %f]); return { Lng: q.lng, Lat: q.lat }; })()`, sp.lon, sp.lat, dx, dy))
	drag := []chromedp.Action{chromedp.MouseEvent(input.MouseMoved, grip.X, grip.Y),
		chromedp.MouseEvent(input.MousePressed, grip.X, grip.Y, chromedp.ButtonLeft, chromedp.ClickCount(1))}
	for i := 1; i <= 10; i++ {
		drag = append(drag, chromedp.MouseEvent(input.MouseMoved, grip.X+dx*float64(i)/10, grip.Y+dy*float64(i)/10,
			chromedp.ButtonLeft, func(p *input.DispatchMouseEventParams) *input.DispatchMouseEventParams { return p.WithButtons(1) }))
	}
	drag = append(drag, chromedp.MouseEvent(input.MouseReleased, grip.X+dx, grip.Y+dy, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	run("drag the marker", drag...)
	run("say why", chromedp.SendKeys("#register-note", "Moved to the side entrance", chromedp.ByID))
	save()
	if a, _ := public(renamed); !closeTo(a, want.Lng, want.Lat, 5e-5) || closeTo(a, sp.lon, sp.lat, 2e-4) {
		t.Errorf("after dragging, the asset is at %v; want about %f, %f", a.Geometry.Coordinates, want.Lng, want.Lat)
	}
	if _, there := drawn(renamed, want.Lng, want.Lat); there != 1 {
		t.Errorf("the moved asset is not drawn where it was dragged to")
	}

	// Someone else changes it while the form is open: 412, and the form
	// shows the asset as it is now.
	choose(t, ctx, "#register-pick", added.ID)
	run("open again", chromedp.Click("#register-open", chromedp.ByID))
	settle()
	path := "/collections/community-assets/items/" + added.ID
	resp, _ := e.get(t, path, "Authorization", "Bearer "+token)
	elsewhere := "Warm Space (changed elsewhere)"
	if resp, b := e.send(t, "PATCH", path+"?note=Changed+elsewhere", `{"properties": {"name": "`+elsewhere+`"}}`,
		"Authorization", "Bearer "+token, "Content-Type", "application/merge-patch+json", "If-Match", resp.Header.Get("ETag")); resp.StatusCode != http.StatusOK {
		t.Fatalf("the change made elsewhere: %d %s", resp.StatusCode, b)
	}
	run("change the phone", chromedp.SendKeys("#register-phone", "01942 404404", chromedp.ByID),
		chromedp.SendKeys("#register-note", "New phone number", chromedp.ByID))
	save()
	if msg := text("#register-error"); !strings.Contains(msg, "Someone else changed this asset") {
		t.Errorf("the stale change's message: %q", msg)
	}
	if v := value("#register-name"); v != elsewhere {
		t.Errorf("after a 412 the form shows the name %q, want the other change's %q", v, elsewhere)
	}
	run("change the phone again", chromedp.SendKeys("#register-phone", "01942 404404", chromedp.ByID))
	save()
	if a, _ := public(elsewhere); a.Properties["phone"] != "01942 404404" {
		t.Errorf("after making the change again: %v", a.Properties)
	}

	// Closing: it leaves the public API and the map.
	choose(t, ctx, "#register-pick", added.ID)
	run("open to close", chromedp.Click("#register-open", chromedp.ByID))
	settle()
	run("close",
		chromedp.SendKeys("#register-note", "Closed for good", chromedp.ByID),
		chromedp.Click("#register-close", chromedp.ByID),
		chromedp.WaitVisible("#register-close-yes", chromedp.ByID),
		chromedp.Click("#register-close-yes", chromedp.ByID))
	settle()
	if msg := text("#message"); !strings.Contains(msg, "Closed") {
		t.Errorf("message after closing: %q", msg)
	}
	if resp, _ := e.get(t, path); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the closed asset is still public: %d", resp.StatusCode)
	}
	if all, _ := drawn(elsewhere, want.Lng, want.Lat); all != 0 {
		t.Errorf("the closed asset is still drawn %d times", all)
	}
	var actions []string
	rows, err := dbtest.Conn(t, e.dbURL).Query(context.Background(), "SELECT action FROM nbhd.asset_history WHERE asset_id = $1 ORDER BY revision", added.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			t.Fatal(err)
		}
		actions = append(actions, a)
	}
	if got := strings.Join(actions, ","); got != "create,update,update,update,update,close" {
		t.Errorf("the asset's history: %s", got)
	}
	browsertest.MapShot(t, ctx, "map-register-closed")

	// A key without assets:write is told so, in words; a wrong key is
	// rejected and nothing is offered.
	reader, _ := e.staff(t, "borough:E08000010")
	run("sign in with a read-only key",
		chromedp.Click("#forget-key", chromedp.ByID),
		chromedp.SendKeys("#staff-key", reader, chromedp.ByID),
		chromedp.Click("#register-start", chromedp.ByID),
		chromedp.WaitVisible("#register-tools", chromedp.ByID),
		chromedp.Click("#register-add", chromedp.ByID))
	clickAt(t, ctx, sp.lon, sp.lat)
	choose(t, ctx, "#register-category", category)
	run("fill the form", chromedp.SendKeys("#register-name", "Not allowed", chromedp.ByID),
		chromedp.SendKeys("#register-note", "Trying", chromedp.ByID))
	save()
	if msg := text("#register-error"); !strings.Contains(msg, "no assets:write scope") {
		t.Errorf("a read-only key's message: %q", msg)
	}
	run("a wrong key",
		chromedp.Click("#forget-key", chromedp.ByID),
		chromedp.SendKeys("#staff-key", "nbhd_1_wrong", chromedp.ByID),
		chromedp.Click("#register-start", chromedp.ByID))
	settle()
	if s := text("#register-status"); !strings.Contains(s, "Key rejected") || js[bool](t, ctx, `!document.querySelector('#register-tools').hidden`) {
		t.Errorf("after a wrong key: %q", s)
	}

	// The refusals (400, 401, 403, 412) are expected; nothing else may have gone wrong.
	for _, p := range problems() {
		if !strings.Contains(p, "status of 400") && !strings.Contains(p, "status of 401") && !strings.Contains(p, "status of 403") && !strings.Contains(p, "status of 412") {
			t.Errorf("console error: %s", p)
		}
	}
}
