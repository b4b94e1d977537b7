package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"nbhd/api"
	"nbhd/data"
	"nbhd/data/dbtest"
	"nbhd/tiles"
)

// GDAL's OGCAPI driver (OGC API – Tiles, Maps, Coverages) is the client of
// these tests, with GDAL's MVT driver for the tiles themselves.

// requestLog records the paths a client asked for.
type requestLog struct {
	mu    sync.Mutex
	paths []string
}

func (l *requestLog) add(p string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.paths = append(l.paths, p)
}

func (l *requestLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.paths)
}

// newLoggedEnv is newEnv with every request's path recorded.
func newLoggedEnv(t *testing.T) (*env, *requestLog) {
	t.Helper()
	dbURL := dbtest.New(t, true)
	store, err := data.Open(context.Background(), data.Config{URL: dbURL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	handler := api.New(api.Config{}, store, slog.New(slog.NewTextHandler(io.Discard, nil)))
	log := &requestLog{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.add(r.URL.Path)
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return &env{url: srv.URL, dbURL: dbURL, store: store}, log
}

// gdalTry runs a GDAL tool and returns its output and error, for commands
// whose failure the test examines.
func gdalTry(t *testing.T, tool string, args ...string) (string, error) {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		msg := tool + " not found: `make test` installs gdal-bin (scripts/deps.sh)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(os.Environ(), "GDAL_HTTP_TIMEOUT=60", "CPL_VSIL_CURL_CACHE_SIZE=0")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestGDALOGCAPIListsEveryCollection(t *testing.T) {
	e := newEnv(t)
	out := gdal(t, "ogrinfo", "-ro", "OGCAPI:"+e.url)
	for _, id := range collectionIDs {
		if !regexp.MustCompile(`SUBDATASET_\d+_NAME=OGCAPI:` + regexp.QuoteMeta(e.url+"/collections/"+id) + `\n`).MatchString(out) {
			t.Errorf("GDAL's OGCAPI driver does not list %s:\n%s", id, out)
		}
	}
}

// mercator projects lon/lat to Web Mercator metres.
func mercator(p orb.Point) orb.Point {
	const r = 6378137.0
	return orb.Point{r * p[0] * math.Pi / 180, r * math.Log(math.Tan(math.Pi/4+p[1]*math.Pi/360))}
}

// TestGDALFollowsACollectionToItsVectorTiles opens a collection with the
// OGCAPI driver's tiles API, over the Web Mercator square of one z14 tile.
// The driver follows the collection's tilesets-vector link, picks the
// WebMercatorQuad tileset and reads the tile matrix set it links to. GDAL
// 3.7 and later then offer a layer per tile matrix; Debian 12's GDAL 3.6
// was built without that driver's vector tile reader (its vector branch
// sits behind a GML define that its CMake build does not set) and stops
// there, so with it the test checks the requests it made.
func TestGDALFollowsACollectionToItsVectorTiles(t *testing.T) {
	e, log := newLoggedEnv(t)
	const z, x, y = 14, 8074, 5296
	world := 2 * 20037508.342789244
	size := world / (1 << z)
	minX, maxY := -world/2+x*size, world/2-y*size
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
	out, err := gdalTry(t, "ogrinfo", "-ro", "-so", "-oo", "API=TILES", "-oo", "TILEMATRIXSET=WebMercatorQuad",
		"-oo", "MINX="+f(minX+1), "-oo", "MINY="+f(maxY-size+1), "-oo", "MAXX="+f(minX+size-1), "-oo", "MAXY="+f(maxY-1),
		"OGCAPI:"+e.url+"/collections/schools")
	want := []string{"/collections/schools", "/collections/schools/tiles", "/collections/schools/tiles/WebMercatorQuad", "/tileMatrixSets/WebMercatorQuad"}
	got := log.list()
	if len(got) < len(want) || !slices.Equal(got[:len(want)], want) {
		t.Fatalf("GDAL asked for %v, want %v first", got, want)
	}
	if err == nil {
		// A GDAL with the reader: one layer per tile matrix over the box.
		if !strings.Contains(out, "Zoom level 14") {
			t.Errorf("GDAL opened the tiles but lists no layer for tile matrix 14:\n%s", out)
		}
		return
	}
	ver, _ := gdalTry(t, "gdalinfo", "--version")
	if !strings.HasPrefix(ver, "GDAL 3.6.") {
		t.Fatalf("%s could not open the collection's vector tiles: %v\n%s", strings.TrimSpace(ver), err, out)
	}
	t.Logf("%s found the tileset and its tile matrix set; it has no OGC API vector tile reader", strings.TrimSpace(ver))
}

var gdalPoint = regexp.MustCompile(`POINT \(([-\d.e+]+) ([-\d.e+]+)\)`)

// TestGDALReadsTheFeaturesOfAnOGCTile reads tiles from the item link of a
// collection's tileset with GDAL's MVT driver (which knows a tile by its
// .mvt extension and is told its address): every point of the collection
// in the tile and its buffer, where the items API puts it.
func TestGDALReadsTheFeaturesOfAnOGCTile(t *testing.T) {
	e := newEnv(t)
	const z, x, y = 14, 8074, 5296 // central Hindley
	world := 2 * 20037508.342789244
	size := world / (1 << z)
	pad := size * tiles.Buffer / tiles.Extent
	minX, maxY := -world/2+x*size-pad, world/2-y*size+pad
	maxX, minY := minX+size+2*pad, maxY-size-2*pad
	for _, id := range []string{"community-assets", "schools", "gp-practices"} {
		var ts struct{ Links []tilesetLink }
		_, body := e.get(t, "/collections/"+id+"/tiles/WebMercatorQuad")
		if err := json.Unmarshal(body, &ts); err != nil {
			t.Fatal(err)
		}
		item, ok := linkOf(ts.Links, "item", "application/vnd.mapbox-vector-tile")
		if !ok {
			t.Fatalf("%s: no tile link", id)
		}
		u := strings.NewReplacer("{tileMatrix}", strconv.Itoa(z), "{tileRow}", strconv.Itoa(y), "{tileCol}", strconv.Itoa(x)).Replace(item.Href) + ".mvt"
		var want []orb.Point
		for _, it := range e.allItems(t, id) {
			p := mercator(it.geom.(orb.Point))
			if p[0] >= minX && p[0] <= maxX && p[1] >= minY && p[1] <= maxY {
				want = append(want, p)
			}
		}
		// CLIP=NO: GDAL keeps what the tile holds in its buffer too.
		out := gdal(t, "ogrinfo", "-ro", "-al", "-oo", "X="+strconv.Itoa(x), "-oo", "Y="+strconv.Itoa(y), "-oo", "Z="+strconv.Itoa(z),
			"-oo", "CLIP=NO", "/vsicurl/"+u)
		if !strings.Contains(out, "using driver `MVT' successful") || !strings.Contains(out, "Layer name: "+id+"\n") {
			t.Fatalf("%s: GDAL did not read the tile as MVT:\n%.2000s", u, out)
		}
		got := gdalPoint.FindAllStringSubmatch(out, -1)
		if len(want) == 0 || len(got) != len(want) {
			t.Errorf("%s: GDAL read %d points, %d features of the collection are in the tile and its buffer", id, len(got), len(want))
		}
		// Each point GDAL read is within two tile units of a feature.
		unit := size / tiles.Extent
		for _, m := range got {
			px, _ := strconv.ParseFloat(m[1], 64)
			py, _ := strconv.ParseFloat(m[2], 64)
			if !slices.ContainsFunc(want, func(w orb.Point) bool { return math.Hypot(w[0]-px, w[1]-py) <= 2*unit }) {
				t.Errorf("%s: GDAL read a point at (%v, %v), where the collection has no feature", id, px, py)
			}
		}
	}
}
