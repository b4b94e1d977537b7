package api_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"nbhd/api"
	"nbhd/api/browsertest"
	"nbhd/data/dbtest"
	"nbhd/data/ingest"
)

// Switching neighbourhood sets fetches the tiles of the set chosen, and
// the map draws its neighbourhoods: the map's tiles hold the set it shows
// alone, so a set it has not shown yet must come from the server.
func TestMapSwitchesNeighbourhoodSetsInABrowser(t *testing.T) {
	e, reqs := newManyBoroughEnv(t, api.Config{}, "")
	// A second set of two neighbourhoods over every small area; the map
	// opens on the set with the fewest.
	codes := dbtest.Strings(t, e.dbURL, "SELECT code FROM nbhd.small_areas ORDER BY code")
	var csv strings.Builder
	csv.WriteString("small_area_code,neighbourhood,neighbourhood_code\n")
	for i, c := range codes {
		half := []string{"North,HALF1", "South,HALF2"}[i*2/len(codes)]
		fmt.Fprintf(&csv, "%s,%s\n", c, half)
	}
	if _, err := dbtest.ImportText(t, dbtest.Conn(t, e.dbURL), "neighbourhoods", "halves.csv", csv.String(), ingest.Options{"set": "halves"}); err != nil {
		t.Fatal(err)
	}

	ctx, problems := browsertest.Start(t, 4*time.Minute)
	if err := chromedp.Run(ctx, chromedp.Navigate(e.url+"/map/"),
		chromedp.Poll(`!!(window.nbhd && window.nbhd.ready)`, nil, chromedp.WithPollingTimeout(2*time.Minute)), browsertest.Idle()); err != nil {
		t.Fatalf("the map did not become ready: %v; problems: %v", err, problems())
	}
	drawn := func() []string {
		codes := js[[]string](t, ctx, `[...new Set(nbhd.map.queryRenderedFeatures({ layers: ['n-fill'] }).map((f) => f.properties.code))].sort()`)
		slices.Sort(codes)
		return codes
	}
	if got := drawn(); !slices.Equal(got, []string{"HALF1", "HALF2"}) {
		t.Fatalf("the map opened on neighbourhoods %v, want the two halves", got)
	}
	_, n := reqs.since(0)
	choose(t, ctx, "#set", "ward")
	asked, _ := reqs.since(n)
	fetched := false
	for _, u := range asked {
		fetched = fetched || strings.HasPrefix(u, "/tiles/neighbourhoods-ward/")
		if strings.Contains(u, "neighbourhoods-halves") && strings.HasPrefix(u, "/tiles/") {
			t.Errorf("after choosing wards the map asked for the halves' tiles: %s", u)
		}
	}
	if !fetched {
		t.Errorf("after choosing wards, no ward tiles among %v", asked)
	}
	got := drawn()
	if len(got) < 10 || slices.Contains(got, "HALF1") || !strings.HasPrefix(got[0], "E05") {
		t.Errorf("after choosing wards the map draws %v", got)
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("console errors: %v", p)
	}
}
