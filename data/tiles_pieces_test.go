package data_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/paulmach/orb/maptile"

	"nbhd/data"
	"nbhd/data/dbtest"
	"nbhd/tiles"
)

// TestTilePiecesDrawWhatClippingDraws draws every tile of the sample at
// tiles.PieceZoom for each polygon layer with pieces twice: from the
// features cut to each tile on publish (api.tile_pieces) and by clipping
// the band's features per request. The bytes must be the same, with a
// filter too; pieces cut at another zoom than tiles.PieceZoom would leave
// the first drawing empty.
func TestTilePiecesDrawWhatClippingDraws(t *testing.T) {
	url := dbtest.New(t, true)
	s := open(t, url)
	cat := catalogue(t, s)
	_, src, _ := cat.TileSet(data.AllLayers)
	z := maptile.Zoom(tiles.PieceZoom)
	lo, hi := tiles.Cover(src.Extent, z)
	wigan, err := data.BoroughPredicate([]string{"E08000010"})
	if err != nil {
		t.Fatal(err)
	}
	layers, drawn, filtered := 0, 0, 0
	for _, l := range cat.Layers {
		if l.Pieces == "" {
			continue
		}
		layers++
		clipped := *l
		clipped.Pieces = ""
		for x := lo.X; x <= hi.X; x++ {
			for y := lo.Y; y <= hi.Y; y++ {
				tl := maptile.New(x, y, z)
				if len(drawnAlike(t, s, l, &clipped, tl, nil, "from the pieces", "clipped")) > 0 {
					drawn++
				}
				if len(drawnAlike(t, s, l, &clipped, tl, wigan, "from the pieces", "clipped")) > 0 {
					filtered++
				}
			}
		}
	}
	// Small areas, and a set's neighbourhoods and boundaries at least.
	if layers < 3 || drawn < 40 || filtered < 40 {
		t.Fatalf("%d layers with pieces, %d tiles with features, %d filtered: too few to compare", layers, drawn, filtered)
	}
	t.Logf("%d layers with pieces: %d tiles with features, %d filtered, the same both ways", layers, drawn, filtered)
}

// drawnAlike draws tile tl of layer a and of b, a variant of it drawn
// another way, with filter (nil for none), reports an error naming both
// ways (aWay, bWay) when the bytes differ, and returns b's.
func drawnAlike(t *testing.T, s *data.Store, a, b *data.Layer, tl maptile.Tile, filter *data.Predicate, aWay, bWay string) []byte {
	t.Helper()
	ctx := context.Background()
	got, err := s.FilteredTile(ctx, []*data.Layer{a}, tl, filter)
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.FilteredTile(ctx, []*data.Layer{b}, tl, filter)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s %d/%d/%d (filtered: %t): %d bytes %s, %d %s", a.ID, tl.Z, tl.X, tl.Y, filter != nil, len(got), aWay, len(want), bWay)
	}
	return want
}
