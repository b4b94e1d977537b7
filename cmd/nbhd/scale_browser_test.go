package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromium starts headless Chromium with WebGL on SwiftShader (as the
// viewer tests in api/ do) and collects uncaught exceptions and console
// errors.
func chromium(t *testing.T) (context.Context, func() []string) {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium not found: `make test-scale` installs it")
	}
	profile, err := os.MkdirTemp("", "nbhd-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("use-angle", "swiftshader"),
		chromedp.Flag("enable-unsafe-swiftshader", true), chromedp.WindowSize(1280, 850), chromedp.UserDataDir(profile),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
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
		}
	})
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), problems...)
	}
}

// mapShot opens the map viewer at url, waits until it has drawn
// everything, and returns the map canvas, saved under var/artefacts.
func mapShot(t *testing.T, ctx context.Context, url, name string, problems func() []string) image.Image {
	t.Helper()
	var done bool
	idle := chromedp.Evaluate(`nbhd.idle().then(() => true)`, &done, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) })
	load := func() error {
		return chromedp.Run(ctx, chromedp.Navigate(url),
			chromedp.Poll(`!!(window.nbhd && window.nbhd.ready)`, nil, chromedp.WithPollingTimeout(time.Minute)),
			idle, chromedp.Sleep(300*time.Millisecond), idle,
		)
	}
	err := load()
	// Chromium can drop the page's execution context while a navigation
	// replaces it and the poll starts; that says nothing about the map, so
	// the page is loaded once more.
	if err != nil && strings.Contains(err.Error(), "Cannot find context with specified id") {
		t.Logf("%s: %v; loading the page again", url, err)
		err = load()
	}
	if err != nil {
		t.Fatalf("%s: the map did not become ready: %v; problems %v", url, err, problems())
	}
	var errs []string
	if err := chromedp.Run(ctx, chromedp.Evaluate(`nbhd.errors`, &errs)); err != nil {
		t.Fatal(err)
	}
	if len(errs) > 0 {
		t.Errorf("%s: map errors %v", url, errs)
	}
	buf := canvasShot(t, ctx)
	// Under CPU load headless Chromium has shown, after the map went idle,
	// a frame from before the canvas was sized: the map in a 25 by 300
	// pixel corner. A canvas nearly all unpainted is shot once more after
	// the map settles again; a map that stays so fails the comparison.
	if img, err := png.Decode(bytes.NewReader(buf)); err == nil {
		if _, _, _, drawn := compareImages(img, img, 0); drawn < img.Bounds().Dx()*img.Bounds().Dy()/4/16 {
			t.Logf("%s: %d sampled pixels painted; shooting again once the map settles", name, drawn)
			if err := chromedp.Run(ctx, idle, chromedp.Sleep(time.Second), idle); err != nil {
				t.Fatal(err)
			}
			buf = canvasShot(t, ctx)
		}
	}
	dir := os.Getenv("NBHD_TEST_ARTEFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "var", "artefacts")
	}
	if err := os.MkdirAll(dir, 0o755); err == nil {
		_ = os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
	}
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// canvasShot is the map's canvas as the screen shows it, as PNG.
func canvasShot(t *testing.T, ctx context.Context) []byte {
	t.Helper()
	var buf []byte
	if err := chromedp.Run(ctx, chromedp.Screenshot(".maplibregl-canvas", &buf, chromedp.NodeVisible, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	return buf
}

// compareImages samples every other pixel of two same-sized images and
// counts those whose colour differs by more than tolerance in a channel,
// and the distinct colours and painted pixels of the first (neither the
// background nor white, a canvas never drawn).
func compareImages(a, b image.Image, tolerance int) (sampled, differing, distinct, drawn int) {
	seen := map[uint32]bool{}
	bd := a.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y += 2 {
		for x := bd.Min.X; x < bd.Max.X; x += 2 {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			sampled++
			c := (r1>>8)<<16 | (g1>>8)<<8 | b1>>8
			seen[c] = true
			if c != 0xf4f2ee && c != 0xffffff { // the background, or a canvas never drawn
				drawn++
			}
			d := max(absDiff(r1>>8, r2>>8), absDiff(g1>>8, g2>>8), absDiff(b1>>8, b2>>8))
			if d > tolerance {
				differing++
			}
		}
	}
	return sampled, differing, len(seen), drawn
}

func absDiff(a, b uint32) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}
