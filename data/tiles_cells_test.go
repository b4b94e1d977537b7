package data_test

import (
	"bytes"
	"testing"

	"github.com/paulmach/orb/maptile"

	"nbhd/data"
	"nbhd/data/dbtest"
	"nbhd/tiles"
)

// TestClusterCellsDrawWhatCountingDraws draws every clustered tile of the
// sample for each point layer twice: from the cells counted on publish
// (api.point_cells) and by counting the points per request, as a filtered
// tile still does. The bytes must be the same.
func TestClusterCellsDrawWhatCountingDraws(t *testing.T) {
	url := dbtest.New(t, true)
	s := open(t, url)
	cat := catalogue(t, s)
	_, src, _ := cat.TileSet(data.AllLayers)
	layers, drawn, clustered, lone := 0, 0, 0, 0
	for _, l := range cat.Layers {
		if l.Cells == "" {
			continue
		}
		layers++
		counted := *l
		counted.Cells = ""
		for z := maptile.Zoom(0); z < tiles.ClusterBelowZoom; z++ {
			lo, hi := tiles.Cover(src.Extent, z)
			for x := lo.X; x <= hi.X; x++ {
				for y := lo.Y; y <= hi.Y; y++ {
					want := drawnAlike(t, s, l, &counted, maptile.New(x, y, z), nil, "from the cells", "counted")
					if len(want) > 0 {
						drawn++
					}
					if bytes.Contains(want, []byte("point_count")) {
						clustered++
					}
					if bytes.Contains(want, []byte("name")) { // only a lone point has properties
						lone++
					}
				}
			}
		}
	}
	// The comparison must have had clusters and lone points to compare.
	if layers != 3 || drawn < 60 || clustered < 30 || lone < 30 {
		t.Fatalf("%d point layers with cells, %d tiles with features, %d with clusters, %d with lone points: too few to compare",
			layers, drawn, clustered, lone)
	}
	t.Logf("%d point layers: %d tiles with features, %d with clusters, %d with lone points, the same both ways", layers, drawn, clustered, lone)
}
