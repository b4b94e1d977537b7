package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
	"github.com/protomaps/go-pmtiles/pmtiles"

	"nbhd/data/dbtest"
	"nbhd/tiles"
)

// server is an `nbhd serve` running in the test process.
type server struct {
	base   string
	cancel context.CancelFunc
	done   chan int
	errb   *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serve starts `nbhd serve` on a free port and stops it when t ends.
func serve(t *testing.T, dbURL string, args ...string) *server {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{base: "http://" + addr, cancel: cancel, done: make(chan int, 1), errb: &syncBuffer{}}
	args = append([]string{"serve", "--database-url", dbURL, "--addr", addr}, args...)
	go func() { s.done <- run(ctx, args, io.Discard, s.errb) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			t.Error("server did not stop")
		}
	})
	for range 100 {
		resp, err := http.Get(s.base + "/readyz") //nolint:noctx // test
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("server at %s never became ready: %s", addr, s.errb.String())
	return nil
}

// rawGet fetches a path asking for gzip, without Go's transparent
// decompression, and returns status, Content-Encoding and the body as sent.
func rawGet(t *testing.T, url string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Encoding"), b
}

// names lists the "name" property of every feature of one MVT layer.
func names(t *testing.T, s *server, path, layer string) map[string]bool {
	t.Helper()
	status, enc, b := rawGet(t, s.base+path)
	if status != http.StatusOK || enc != "gzip" {
		t.Fatalf("%s: status %d, encoding %q", path, status, enc)
	}
	ls, err := mvt.UnmarshalGzipped(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[string]bool{}
	for _, l := range ls {
		if l.Name != layer {
			continue
		}
		for _, f := range l.Features {
			if n, ok := f.Properties["name"].(string); ok {
				out[n] = true
			}
		}
	}
	return out
}

// TestTwoServersDropStaleTilesAfterAnImport runs two servers on one
// database, warms both caches, imports through the CLI and checks that
// within 2 s neither serves the old tile.
func TestTwoServersDropStaleTilesAfterAnImport(t *testing.T) {
	url := dbtest.New(t, true)
	a, b := serve(t, url), serve(t, url)
	tile := maptile.New(8074, 5296, 14) // central Hindley
	paths := map[string]string{
		"community-assets": fmt.Sprintf("/tiles/community-assets/%d/%d/%d.mvt", tile.Z, tile.X, tile.Y),
		"all":              fmt.Sprintf("/tiles/all/%d/%d/%d.mvt", tile.Z, tile.X, tile.Y),
	}
	const newName = "Hindley Tile Test Library"
	for _, s := range []*server{a, b} {
		for _, p := range paths {
			for range 2 { // the second answer comes from the cache
				if names(t, s, p, "community-assets")[newName] {
					t.Fatalf("%s already has %s", p, newName)
				}
			}
		}
	}
	tb := tile.Bound()
	c := [2]float64{(tb.Min[0] + tb.Max[0]) / 2, (tb.Min[1] + tb.Max[1]) / 2}
	file := filepath.Join(t.TempDir(), "new.geojson")
	gj := fmt.Sprintf(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":%q},"geometry":{"type":"Point","coordinates":[%f,%f]}}]}`, newName, c[0], c[1])
	if err := os.WriteFile(file, []byte(gj), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := nbhd(t, "import", "assets", file, "--key", "tile-test", "--category", "library",
		"--licence", "Open Government Licence v3.0", "--database-url", url); code != 0 {
		t.Fatalf("import: %d %s %s", code, out, errs)
	}
	imported := time.Now()
	for _, s := range []*server{a, b} {
		for layer, p := range paths {
			for !names(t, s, p, "community-assets")[newName] {
				if time.Since(imported) > 2*time.Second {
					t.Fatalf("%s%s still serves the old %s tile 2 s after the import", s.base, p, layer)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	t.Logf("both servers serve the new tiles %v after the import returned", time.Since(imported).Round(time.Millisecond))
}

// archiveTiles reads a PMTiles archive with the reference library.
func archiveTiles(t *testing.T, path string) (pmtiles.HeaderV3, map[string]any, map[maptile.Tile][]byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := pmtiles.DeserializeHeader(b[:pmtiles.HeaderV3LenBytes])
	if err != nil {
		t.Fatal(err)
	}
	meta, err := pmtiles.DeserializeMetadata(bytes.NewReader(b[h.MetadataOffset:h.MetadataOffset+h.MetadataLength]), h.InternalCompression)
	if err != nil {
		t.Fatal(err)
	}
	out := map[maptile.Tile][]byte{}
	err = pmtiles.IterateEntries(h, func(off, n uint64) ([]byte, error) { return b[off : off+n], nil }, func(e pmtiles.EntryV3) {
		for i := range uint64(e.RunLength) {
			z, x, y := pmtiles.IDToZxy(e.TileID + i)
			start := h.TileDataOffset + e.Offset
			out[maptile.New(x, y, maptile.Zoom(z))] = b[start : start+uint64(e.Length)]
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return h, meta, out
}

// TestExportPMTilesHoldsTheServedTiles exports the composite at z0-z14 and
// compares every tile covering the data with the server's: the archive
// stores the very gzip bytes the server sends (one gzip setting,
// tiles.Gzip), and leaves out the tiles the server answers 204 for.
func TestExportPMTilesHoldsTheServedTiles(t *testing.T) {
	url := dbtest.New(t, true)
	out := filepath.Join(t.TempDir(), "out.pmtiles")
	code, stdout, errs := nbhd(t, "export", "pmtiles", "--layer", "all", "--minzoom", "0", "--maxzoom", "14", out, "--database-url", url)
	if code != 0 {
		t.Fatalf("export: %d %s %s", code, stdout, errs)
	}
	h, meta, archived := archiveTiles(t, out)
	s := serve(t, url)
	resp, err := http.Get(s.base + "/tiles/all.json") //nolint:noctx // test
	if err != nil {
		t.Fatal(err)
	}
	var tj tiles.TileJSON
	err = json.NewDecoder(resp.Body).Decode(&tj)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	e7 := func(v float64) int32 { return int32(math.Round(v * 1e7)) }
	if h.TileType != pmtiles.Mvt || h.TileCompression != pmtiles.Gzip || h.MinZoom != 0 || h.MaxZoom != 14 ||
		h.MinLonE7 != e7(tj.Bounds[0]) || h.MaxLatE7 != e7(tj.Bounds[3]) {
		t.Errorf("header %+v, TileJSON bounds %v", h, tj.Bounds)
	}
	if meta["attribution"] != tj.Attribution || tj.Attribution == "" {
		t.Errorf("archive attribution %q, TileJSON %q", meta["attribution"], tj.Attribution)
	}
	var ids []string
	for _, l := range meta["vector_layers"].([]any) {
		ids = append(ids, l.(map[string]any)["id"].(string))
	}
	if len(ids) != len(tj.VectorLayers) || len(ids) < 6 {
		t.Errorf("archive vector_layers %v, TileJSON has %d", ids, len(tj.VectorLayers))
	}
	bounds := orb.Bound{Min: orb.Point{tj.Bounds[0], tj.Bounds[1]}, Max: orb.Point{tj.Bounds[2], tj.Bounds[3]}}
	served := 0
	for z := maptile.Zoom(0); z <= 14; z++ {
		lo, hi := tiles.Cover(bounds, z)
		for x := lo.X; x <= hi.X; x++ {
			for y := lo.Y; y <= hi.Y; y++ {
				tl := maptile.New(x, y, z)
				status, _, body := rawGet(t, fmt.Sprintf("%s/tiles/all/%d/%d/%d.mvt", s.base, z, x, y))
				got, ok := archived[tl]
				switch {
				case status == http.StatusNoContent && ok:
					t.Errorf("%v: empty on the server, %d bytes in the archive", tl, len(got))
				case status == http.StatusOK && !bytes.Equal(body, got):
					t.Errorf("%v: archive has %d bytes, server sent %d different ones", tl, len(got), len(body))
				case status == http.StatusOK:
					served++
				case status != http.StatusNoContent:
					t.Errorf("%v: status %d", tl, status)
				}
			}
		}
	}
	if served != len(archived) || served < 100 {
		t.Errorf("server has %d tiles with features, archive %d", served, len(archived))
	}
	// The report names the largest tile as the archive holds it, and
	// counts the tiles over 500 KB and those drawn lighter to stay under
	// it (none on the sample).
	var largest maptile.Tile
	size, gz := 0, 0
	for tl, b := range archived {
		mvt, err := tiles.Gunzip(b, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(mvt) > size || (len(mvt) == size && (tl.Z < largest.Z || tl.Z == largest.Z && (tl.X < largest.X || tl.X == largest.X && tl.Y < largest.Y))) {
			largest, size, gz = tl, len(mvt), len(b)
		}
	}
	want := fmt.Sprintf("largest tile %d/%d/%d: %d bytes (%d gzip); 0 tiles over 500000 bytes; 0 drawn lighter to stay under it\n", largest.Z, largest.X, largest.Y, size, gz)
	if !strings.Contains(stdout, want) {
		t.Errorf("export said %q, want %q", stdout, want)
	}
}
