package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"nbhd/api"
	"nbhd/data"
)

// waitPrerendered waits until the pre-rendered tile count stops moving at
// a value above from, and returns it.
func (e *tileEnv) waitPrerendered(t *testing.T, from float64) float64 {
	t.Helper()
	last, stable := -1.0, 0
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		n := e.metric(t, "nbhd_prerendered_tiles_total")
		if n == last && n > from {
			if stable++; stable >= 5 {
				return n
			}
		} else {
			stable = 0
		}
		last = n
	}
	t.Fatalf("pre-rendering did not settle (last count %v)", last)
	return 0
}

// Every tile of the composite set a map asks for at zooms 0-10 over the
// data is in the cache before anyone asks, and again after the data
// changes; zoom 11 is rendered on request.
func TestLowZoomsArePrerenderedAfterStartAndAfterEachChange(t *testing.T) {
	e := newTileEnv(t, api.Config{PrerenderZooms: 11})
	first := e.waitPrerendered(t, 0)

	_, body := e.get(t, "/tiles/all.json")
	var tj struct {
		Bounds [4]float64 `json:"bounds"`
	}
	if err := json.Unmarshal(body, &tj); err != nil {
		t.Fatal(err)
	}
	// The tiles a map shows over those bounds, each zoom, of "all" and of
	// the tile sets the built-in map asks for most: the set alone, and with
	// small areas (named as the viewer names them).
	sets := []string{"all", "neighbourhoods-ward", "small-areas,neighbourhoods-ward"}
	var paths []string
	for z := maptile.Zoom(0); z <= 11; z++ {
		for _, set := range sets {
			for _, c := range []orb.Point{{tj.Bounds[0], tj.Bounds[1]}, {tj.Bounds[2], tj.Bounds[3]}, {tj.Bounds[0], tj.Bounds[3]}, {tj.Bounds[2], tj.Bounds[1]},
				{(tj.Bounds[0] + tj.Bounds[2]) / 2, (tj.Bounds[1] + tj.Bounds[3]) / 2}} {
				tl := maptile.At(c, z)
				paths = append(paths, fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", set, z, tl.X, tl.Y))
			}
		}
	}
	zoom11 := 5 * len(sets)
	renders := func() float64 { return e.metric(t, "nbhd_tile_renders_total") }
	fetch := func(p string) {
		if r, b := e.get(t, p, "Accept-Encoding", "gzip"); r.StatusCode != http.StatusOK && r.StatusCode != http.StatusNoContent {
			t.Fatalf("%s: %d %s", p, r.StatusCode, b)
		}
	}
	before := renders()
	for _, p := range paths[:len(paths)-zoom11] { // zooms 0-10
		fetch(p)
	}
	if r := renders(); r != before {
		t.Errorf("%v tiles of zooms 0-10 rendered on request after %v were pre-rendered; want none", r-before, first)
	}
	fetch(paths[len(paths)-1]) // zoom 11 is not pre-rendered
	if r := renders(); r != before+1 {
		t.Errorf("a zoom 11 tile: %v renders, want 1", r-before)
	}

	// A data change renders them again, for the new version.
	admin, err := data.Connect(context.Background(), e.dbURL, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	if err := admin.ChangeSetting(context.Background(), "", "access", []byte(`{"distance_m": 450}`), data.LockWait{}); err != nil {
		t.Fatal(err)
	}
	second := e.waitPrerendered(t, first)
	if second-first != first {
		t.Errorf("after the change %v tiles were pre-rendered, want %v as at start", second-first, first)
	}
	before = renders()
	for _, p := range paths[:len(paths)-zoom11] {
		fetch(p)
	}
	if r := renders(); r != before {
		t.Errorf("after a change, %v tiles of zooms 0-10 rendered on request; want none", r-before)
	}
}
