package tiles_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/paulmach/orb/maptile"
	"github.com/protomaps/go-pmtiles/pmtiles"

	"nbhd/tiles"
)

// ReadArchive reads every tile of a PMTiles archive with the reference
// library, keyed by tile, plus its header and metadata.
func readArchive(t *testing.T, path string) (pmtiles.HeaderV3, map[string]any, map[maptile.Tile][]byte) {
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

func TestArchiveRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.pmtiles")
	a, err := tiles.CreateArchive(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[maptile.Tile][]byte{
		maptile.New(0, 0, 0):        tiles.Gzip([]byte("zero")),
		maptile.New(1, 1, 1):        tiles.Gzip([]byte("same")),
		maptile.New(0, 1, 1):        tiles.Gzip([]byte("same")), // a repeat, stored once
		maptile.New(2018, 1323, 12): tiles.Gzip([]byte("deep")),
		maptile.New(8074, 5296, 14): tiles.Gzip([]byte("deeper")),
	}
	// Added out of order, with an empty tile that must be left out.
	for _, tl := range []maptile.Tile{maptile.New(8074, 5296, 14), maptile.New(1, 1, 1), maptile.New(0, 0, 0), maptile.New(2018, 1323, 12), maptile.New(0, 1, 1)} {
		if err := a.Add(tl, want[tl]); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Add(maptile.New(1, 0, 1), nil); err != nil {
		t.Fatal(err)
	}
	tj := tiles.TileJSON{Name: "test", Attribution: "A &amp; B", MinZoom: 0, MaxZoom: 14,
		Bounds: [4]float64{-2.73, 53.44, -2.41, 53.61}, Centre: [3]float64{-2.57, 53.53, 10},
		VectorLayers: []tiles.VectorLayer{{ID: "small-areas", MaxZoom: 14, Fields: map[string]string{"code": "String"}}}}
	if err := a.Finish(tj); err != nil {
		t.Fatal(err)
	}
	h, meta, got := readArchive(t, path)
	if h.SpecVersion != 3 || h.TileType != pmtiles.Mvt || h.TileCompression != pmtiles.Gzip || !h.Clustered ||
		h.MinZoom != 0 || h.MaxZoom != 14 || h.CenterZoom != 10 || h.MinLonE7 != -27300000 || h.MaxLatE7 != 536100000 {
		t.Errorf("header %+v", h)
	}
	if h.AddressedTilesCount != 5 || h.TileContentsCount != 4 {
		t.Errorf("%d addressed tiles, %d contents; want 5 and 4", h.AddressedTilesCount, h.TileContentsCount)
	}
	if len(got) != len(want) {
		t.Errorf("%d tiles read back, want %d", len(got), len(want))
	}
	for tl, b := range want {
		if !bytes.Equal(got[tl], b) {
			t.Errorf("tile %v differs", tl)
		}
	}
	if meta["name"] != "test" || meta["attribution"] != "A &amp; B" {
		t.Errorf("metadata %v", meta)
	}
	if vl, ok := meta["vector_layers"].([]any); !ok || len(vl) != 1 || vl[0].(map[string]any)["id"] != "small-areas" {
		t.Errorf("vector_layers %v", meta["vector_layers"])
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".nbhd-pmtiles-*")); len(left) != 0 {
		t.Errorf("spool files left: %v", left)
	}
}

func TestArchiveWithNoTilesIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.pmtiles")
	a, err := tiles.CreateArchive(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Finish(tiles.TileJSON{}); !errors.Is(err, tiles.ErrNoTiles) {
		t.Errorf("got %v, want ErrNoTiles", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("an archive was written: %v", err)
	}
}

// TestTileIDsFollowTheReference compares tile ids with go-pmtiles for every
// tile up to z7 and a spread of deeper ones.
func TestTileIDsFollowTheReference(t *testing.T) {
	check := func(tl maptile.Tile) {
		if got, want := tiles.TileID(tl), pmtiles.ZxyToID(uint8(tl.Z), tl.X, tl.Y); got != want {
			t.Fatalf("TileID(%v) = %d, want %d", tl, got, want)
		}
	}
	for z := maptile.Zoom(0); z <= 7; z++ {
		for x := uint32(0); x < 1<<z; x++ {
			for y := uint32(0); y < 1<<z; y++ {
				check(maptile.New(x, y, z))
			}
		}
	}
	for z := maptile.Zoom(8); z <= tiles.MaxZoom; z++ {
		n := uint32(1) << z
		for i := range uint32(997) {
			check(maptile.New(i*2654435761%n, (i*40503+7)%n, z))
		}
		check(maptile.New(n-1, n-1, z))
	}
}

// TestArchiveWithLeafDirectories writes more entries than a root directory
// holds, so the archive needs leaf directories, and reads it back.
func TestArchiveWithLeafDirectories(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.pmtiles")
	a, err := tiles.CreateArchive(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[maptile.Tile][]byte{}
	for x := uint32(0); x < 200; x++ {
		for y := uint32(0); y < 150; y++ {
			tl := maptile.New(8000+x, 5200+y, 14)
			// Stand-ins for gzip bytes (the archive stores them as they
			// are) of scattered lengths, so the directory does not
			// compress into the root; every third tile is the same "sea".
			b := make([]byte, 2+(x*2654435761+y*40503)%997)
			b[0], b[1] = byte(x), byte(y)
			if y%3 == 0 {
				b = []byte("sea")
			}
			want[tl] = b
			if err := a.Add(tl, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := a.Finish(tiles.TileJSON{MinZoom: 14, MaxZoom: 14, Centre: [3]float64{0, 0, 14}}); err != nil {
		t.Fatal(err)
	}
	h, _, got := readArchive(t, path)
	if h.LeafDirectoryLength == 0 || h.RootLength > 16384-pmtiles.HeaderV3LenBytes {
		t.Errorf("no leaf directories or an oversized root: %+v", h)
	}
	if len(got) != len(want) || h.AddressedTilesCount != uint64(len(want)) {
		t.Fatalf("%d tiles read back (%d addressed), want %d", len(got), h.AddressedTilesCount, len(want))
	}
	for tl, b := range want {
		if !bytes.Equal(got[tl], b) {
			t.Fatalf("tile %v differs", tl)
		}
	}
}
