package main

import (
	"context"
	"image"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"nbhd/api/browsertest"
)

// mapShot opens the map viewer at url, waits until it has drawn
// everything, and returns the map canvas, saved under var/artefacts.
func mapShot(t *testing.T, ctx context.Context, url, name string, problems func() []string) image.Image {
	t.Helper()
	idle := browsertest.Idle()
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
	return browsertest.MapShot(t, ctx, name)
}

// compareImages samples every other pixel of two same-sized images and
// counts those whose colour differs by more than tolerance in a channel,
// and the distinct colours and painted pixels (browsertest.Painted) of the
// first.
func compareImages(a, b image.Image, tolerance int) (sampled, differing, distinct, drawn int) {
	seen := map[uint32]bool{}
	bd := a.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y += 2 {
		for x := bd.Min.X; x < bd.Max.X; x += 2 {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			sampled++
			seen[(r1>>8)<<16|(g1>>8)<<8|b1>>8] = true
			d := max(absDiff(r1>>8, r2>>8), absDiff(g1>>8, g2>>8), absDiff(b1>>8, b2>>8))
			if d > tolerance {
				differing++
			}
		}
	}
	return sampled, differing, len(seen), browsertest.Painted(a)
}

func absDiff(a, b uint32) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}
