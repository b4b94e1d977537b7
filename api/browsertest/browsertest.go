// Package browsertest drives the map viewer in headless Chromium for the
// tests of api and cmd: one way to start the browser and one way to take
// a picture of the map, so that a fix to either reaches every test.
package browsertest

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Start starts headless Chromium (installed by `make test`) with WebGL on
// SwiftShader, stopped after timeout or when the test ends, and returns
// its context and a function listing the console errors, uncaught
// exceptions and error log entries seen so far. Without Chromium the test
// fails under CI and is skipped elsewhere.
func Start(t testing.TB, timeout time.Duration) (context.Context, func() []string) {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		msg := "chromium not found: `make test` installs it (scripts/deps.sh)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	// Chromium may still be writing its profile as the test ends, so the
	// directory is removed best-effort rather than by t.TempDir.
	profile, err := os.MkdirTemp("", "nbhd-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("use-angle", "swiftshader"),
		chromedp.Flag("enable-unsafe-swiftshader", true),
		chromedp.WindowSize(1280, 850), chromedp.UserDataDir(profile),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
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

// Artefacts is where browser tests leave their screenshots:
// $NBHD_TEST_ARTEFACTS, else var/artefacts at the module's root.
func Artefacts(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("NBHD_TEST_ARTEFACTS")
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, "var", "artefacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// CanvasShot captures the whole page and cuts the map's canvas out of it,
// saving both under Artefacts as name-page.png and name.png. Chromium's
// capture of the canvas element alone (a clipped capture) returned, about
// one time in six, a frame from before the canvas was sized (a 25 by 300
// pixel corner of the map) while a capture of the page taken just before
// it showed the map fully drawn.
func CanvasShot(t testing.TB, ctx context.Context, name string) image.Image {
	t.Helper()
	var page []byte
	var box []float64
	if err := chromedp.Run(ctx,
		chromedp.Evaluate(`(() => { const r = document.querySelector('.maplibregl-canvas').getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom, devicePixelRatio]; })()`, &box),
		chromedp.FullScreenshot(&page, 100), // quality 100 is PNG
	); err != nil {
		t.Fatal(err)
	}
	dir := Artefacts(t)
	if err := os.WriteFile(filepath.Join(dir, name+"-page.png"), page, 0o644); err != nil {
		t.Fatal(err)
	}
	full, err := png.Decode(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	sub, ok := full.(interface {
		SubImage(image.Rectangle) image.Image
	})
	if !ok || len(box) != 5 {
		t.Fatalf("cannot cut the canvas (%v) out of a %T", box, full)
	}
	scale := box[4]
	canvas := image.Rect(int(box[0]*scale), int(box[1]*scale), int(box[2]*scale), int(box[3]*scale)).Intersect(full.Bounds())
	if canvas.Dx() < 100 || canvas.Dy() < 100 {
		t.Fatalf("the map's canvas is %v on a page of %v", canvas, full.Bounds())
	}
	img := sub.SubImage(canvas)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return img
}

// Idle waits until the map has drawn everything it asked for.
func Idle() chromedp.Action {
	var done bool
	return chromedp.Evaluate(`nbhd.idle().then(() => true)`, &done, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) })
}

// MapShot is CanvasShot with one more try: a canvas nearly all unpainted
// is shot again once the map has settled, and a map that stays so is
// returned as it is, for the test that looks at it to fail.
func MapShot(t testing.TB, ctx context.Context, name string) image.Image {
	t.Helper()
	img := CanvasShot(t, ctx, name)
	sampled := img.Bounds().Dx() * img.Bounds().Dy() / 4
	if drawn := Painted(img); drawn < sampled/16 {
		t.Logf("%s: %d of %d sampled pixels painted; shooting again once the map settles", name, drawn, sampled)
		if err := chromedp.Run(ctx, Idle(), chromedp.Sleep(time.Second), Idle()); err != nil {
			t.Fatal(err)
		}
		img = CanvasShot(t, ctx, name)
	}
	return img
}

// Painted counts, on every other pixel of every other row, the pixels
// that are neither the map's background (#f4f2ee) nor white (a canvas
// never drawn).
func Painted(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if c := (r>>8)<<16 | (g>>8)<<8 | bl>>8; c != 0xf4f2ee && c != 0xffffff {
				n++
			}
		}
	}
	return n
}
