package api_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"nbhd/api"
	"nbhd/data"
	"nbhd/data/dbtest"
)

// artefacts is where browser tests leave their screenshots:
// $NBHD_TEST_ARTEFACTS, else var/artefacts in the repository.
func artefacts(t *testing.T) string {
	dir := os.Getenv("NBHD_TEST_ARTEFACTS")
	if dir == "" {
		dir = filepath.Join("..", "var", "artefacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser starts headless Chromium (installed by make test) with WebGL on
// SwiftShader, and collects console errors and uncaught exceptions.
func browser(t *testing.T) (context.Context, func() []string) {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		msg := "chromium not found: `make test` installs it (scripts/deps.sh)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("use-angle", "swiftshader"),
		chromedp.Flag("enable-unsafe-swiftshader", true),
		chromedp.WindowSize(1280, 850),
	}
	// Chromium may still be writing its profile as the test ends, so the
	// directory is removed best-effort rather than by t.TempDir.
	profile, err := os.MkdirTemp("", "nbhd-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts = append(opts, chromedp.UserDataDir(profile))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
		cancelAlloc()
		_ = os.RemoveAll(profile)
	})
	var mu sync.Mutex
	var problems []string
	chromedp.ListenTarget(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.APITypeError {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				problems = append(problems, "console.error: "+strings.Join(parts, " "))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+ev.ExceptionDetails.Error())
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.LevelError {
				problems = append(problems, "log: "+ev.Entry.Text+" "+ev.Entry.URL)
			}
		}
	})
	if err := chromedp.Run(ctx, log.Enable()); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), problems...)
	}
}

// waitIdle waits until the map has drawn everything it asked for.
func waitIdle() chromedp.Action {
	var done bool
	return chromedp.Evaluate(`nbhd.idle().then(() => true)`, &done, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) })
}

func shot(t *testing.T, ctx context.Context, name string) image.Image {
	t.Helper()
	var page []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&page, 100)); err == nil {
		_ = os.WriteFile(filepath.Join(artefacts(t), name+"-page.png"), page, 0o644)
	}
	var buf []byte
	if err := chromedp.Run(ctx, chromedp.Screenshot(".maplibregl-canvas", &buf, chromedp.NodeVisible, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(artefacts(t), name+".png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// colours counts the distinct colours of an image and the pixels that are
// not the background (#f4f2ee).
func colours(img image.Image) (distinct, drawn int) {
	seen := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			c := (r>>8)<<16 | (g>>8)<<8 | bl>>8
			seen[c] = true
			if c != 0xf4f2ee {
				drawn++
			}
		}
	}
	return len(seen), drawn
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
	ctx, problems := browser(t)
	if err := chromedp.Run(ctx,
		chromedp.Navigate(e.url+"/map/"),
		chromedp.Poll(`!!(window.nbhd && window.nbhd.ready)`, nil, chromedp.WithPollingTimeout(2*time.Minute)),
		waitIdle(),
	); err != nil {
		t.Fatalf("the map did not become ready: %v; problems: %v", err, problems())
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("console errors on load: %v", p)
	}

	// The canvas shows the wards coloured by a demand indicator.
	first := shot(t, ctx, "map-demand")
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
		chromedp.Sleep(300*time.Millisecond), waitIdle(),
	); err != nil {
		t.Fatal(err)
	}
	second := shot(t, ctx, "map-access-gp")
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
		waitIdle(),
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
	shot(t, ctx, "map-profile-abram")

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
		waitIdle(),
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
	shot(t, ctx, "map-outreach")

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
	shot(t, ctx, "map-wrong-key")
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
