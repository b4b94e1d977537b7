package tiles_test

import (
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"nbhd/tiles"
)

func TestTileJSON(t *testing.T) {
	src := tiles.Source{
		Name: "n", Version: "1.4.0",
		Layers: []tiles.VectorLayer{
			{ID: "a", MinZoom: 0, MaxZoom: 14, Fields: map[string]string{"name": "String"}},
			{ID: "b", MinZoom: 2, MaxZoom: 12, Fields: map[string]string{}},
		},
		Extent:       orb.Bound{Min: orb.Point{-2.7305251, 53.446057}, Max: orb.Point{-2.414582, 53.608291}},
		HasData:      true,
		Attributions: []string{"Contains OS data © Crown copyright", " ", "<b>Acme</b> & co", "Contains OS data © Crown copyright"},
	}
	tj := tiles.NewTileJSON(src, "https://example.org/tiles/all/{z}/{x}/{y}.mvt")
	if tj.TileJSON != "3.0.0" || tj.Scheme != "xyz" || len(tj.Tiles) != 1 || tj.MinZoom != 0 || tj.MaxZoom != 14 {
		t.Errorf("header fields: %+v", tj)
	}
	if tj.Bounds != [4]float64{-2.730525, 53.446057, -2.414582, 53.608291} {
		t.Errorf("bounds %v", tj.Bounds)
	}
	// The borough is ~0.32° wide and ~0.16° tall (0.27° in Mercator
	// terms): 360/0.32 = 2^10.1, so it fills about one tile at z10.
	if tj.Centre[2] != 10 || tj.Centre[0] < -2.58 || tj.Centre[0] > -2.56 || tj.Centre[1] < 53.52 || tj.Centre[1] > 53.53 {
		t.Errorf("centre %v", tj.Centre)
	}
	if want := "Contains OS data © Crown copyright | &lt;b&gt;Acme&lt;/b&gt; &amp; co"; tj.Attribution != want {
		t.Errorf("attribution %q, want %q", tj.Attribution, want)
	}
	empty := tiles.NewTileJSON(tiles.Source{}, "u")
	if empty.Bounds[0] != -180 || empty.MaxZoom != tiles.DetailZoom || strings.Contains(empty.Attribution, "|") {
		t.Errorf("no data: %+v", empty)
	}
}
