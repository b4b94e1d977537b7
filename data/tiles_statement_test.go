package data_test

import (
	"reflect"
	"testing"

	"github.com/paulmach/orb/maptile"

	"nbhd/data"
	"nbhd/data/dbtest"
	"nbhd/tiles"
)

// TestKeptTileStatementsMatchBuilt checks that a tile drawn from the
// statement kept for its zoom runs exactly the statement and arguments
// built for that tile alone: every tile set (and a composite of two), zoom
// 0 to 16, every step, over tiles of the sample and far from it, each zoom's
// statement kept first for another tile. It also checks that it saw
// arguments that depend on the tile beyond z, x and y (onGrid's shift and
// cellsSQL's cells), or it would prove nothing about them.
func TestKeptTileStatementsMatchBuilt(t *testing.T) {
	url := dbtest.New(t, true)
	s := open(t, url)
	cat := catalogue(t, s)
	_, src, _ := cat.TileSet(data.AllLayers)
	sets := data.LayerIDs(cat.Layers)
	sets = append(sets, data.AllLayers, sets[0]+data.LayerSeparator+sets[len(sets)-1])
	tileDependent := 0
	for _, name := range sets {
		layers, _, err := cat.Tiles(name)
		if err != nil {
			t.Fatal(err)
		}
		for z := maptile.Zoom(0); z <= 16; z++ {
			lo, hi := tiles.Cover(src.Extent, z)
			n := uint32(1)<<z - 1
			list := []maptile.Tile{
				maptile.New(lo.X, lo.Y, z), maptile.New(hi.X, hi.Y, z),
				maptile.New((lo.X+hi.X)/2, (lo.Y+hi.Y)/2, z),
				maptile.New(0, 0, z), maptile.New(n, n, z), maptile.New(n/3, n/2, z),
			}
			for step := range data.TileSteps {
				var first []any
				for _, tl := range list {
					kept, keptArgs, built, builtArgs := s.TileStatementsForTest(layers, tl, step)
					if kept != built {
						t.Fatalf("%s %d/%d/%d step %d: kept statement\n%s\nbuilt\n%s", name, tl.Z, tl.X, tl.Y, step, kept, built)
					}
					if !reflect.DeepEqual(keptArgs, builtArgs) {
						t.Fatalf("%s %d/%d/%d step %d: kept arguments\n%#v\nbuilt\n%#v", name, tl.Z, tl.X, tl.Y, step, keptArgs, builtArgs)
					}
					if first == nil {
						first = builtArgs
					} else if len(first) > 3 && !reflect.DeepEqual(first[3:], builtArgs[3:]) {
						tileDependent++
					}
				}
			}
		}
	}
	if tileDependent == 0 {
		t.Fatal("no statement had arguments that depend on the tile beyond z, x and y")
	}
	t.Logf("%d statements with arguments that depend on the tile", tileDependent)
}
