package tiles_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"nbhd/tiles"
)

func TestParse(t *testing.T) {
	good := []struct {
		z, x, y string
		want    maptile.Tile
	}{
		{"0", "0", "0", maptile.New(0, 0, 0)},
		{"12", "2018", "1323", maptile.New(2018, 1323, 12)},
		{"22", "4194303", "4194303", maptile.New(4194303, 4194303, 22)},
	}
	for _, c := range good {
		got, err := tiles.Parse(c.z, c.x, c.y)
		if err != nil || got != c.want {
			t.Errorf("Parse(%s, %s, %s) = %v, %v; want %v", c.z, c.x, c.y, got, err, c.want)
		}
	}
	bad := [][3]string{
		{"23", "0", "0"}, {"-1", "0", "0"}, {"", "0", "0"}, {"a", "0", "0"}, {"1.5", "0", "0"},
		{"0", "1", "0"}, {"0", "0", "1"}, {"12", "4096", "0"}, {"12", "0", "4096"}, {"12", "-1", "0"},
		{"22", "4194304", "0"}, {"3", "99999999999999999999", "0"}, {"3", " 1", "0"}, {"3", "1", ""},
	}
	for _, c := range bad {
		if got, err := tiles.Parse(c[0], c[1], c[2]); err == nil {
			t.Errorf("Parse(%q, %q, %q) = %v; want an error", c[0], c[1], c[2], got)
		}
	}
}

// TestCover checks tile ranges against the slippy-map formulas, worked
// independently (in PostgreSQL) for the Wigan sample's extent.
func TestCover(t *testing.T) {
	wigan := orb.Bound{Min: orb.Point{-2.730525, 53.446057}, Max: orb.Point{-2.414582, 53.608291}}
	want := map[maptile.Zoom][4]uint32{ // min x, max x, min y, max y
		8:  {126, 126, 82, 82},
		10: {504, 505, 330, 331},
		12: {2016, 2020, 1322, 1325},
		14: {8067, 8082, 5290, 5303},
	}
	for z, w := range want {
		lo, hi := tiles.Cover(wigan, z)
		if got := [4]uint32{lo.X, hi.X, lo.Y, hi.Y}; got != w || lo.Z != z || hi.Z != z {
			t.Errorf("z%d: cover %v..%v; want x %d-%d, y %d-%d", z, lo, hi, w[0], w[1], w[2], w[3])
		}
	}
	if n := tiles.CoverCount(wigan, 12, 12); n != 5*4 {
		t.Errorf("CoverCount z12 = %d, want 20", n)
	}
	world := orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}
	if lo, hi := tiles.Cover(world, 3); lo != maptile.New(0, 0, 3) || hi != maptile.New(7, 7, 3) {
		t.Errorf("world at z3: %v..%v", lo, hi)
	}
}

func TestGeneralisationFollowsPixelSize(t *testing.T) {
	// One tile unit at z0 is the Web Mercator world width over 4096.
	if got, want := tiles.UnitSize(0), 2*math.Pi*6378137/4096; math.Abs(got-want) > 1e-6 {
		t.Errorf("UnitSize(0) = %v, want %v", got, want)
	}
	for z := maptile.Zoom(1); z <= tiles.MaxZoom; z++ {
		if r := tiles.UnitSize(z-1) / tiles.UnitSize(z); math.Abs(r-2) > 1e-9 {
			t.Errorf("UnitSize halves per zoom; z%d ratio %v", z, r)
		}
		tol := tiles.Tolerance(z)
		switch {
		case z < tiles.DetailZoom && tol != 4*tiles.UnitSize(z):
			t.Errorf("z%d tolerance %v, want 4 units", z, tol)
		case z > tiles.DetailZoom && tol != 0:
			t.Errorf("z%d tolerance %v, want none past the detail zoom", z, tol)
		}
		if tiles.Clustered(z) != (z < tiles.ClusterBelowZoom) {
			t.Errorf("z%d clustered = %v", z, tiles.Clustered(z))
		}
	}
	if tiles.Extent%tiles.CellUnits != 0 || tiles.CellUnits <= tiles.Buffer {
		t.Errorf("cells must nest in tiles and be wider than the buffer: cell %d, buffer %d", tiles.CellUnits, tiles.Buffer)
	}
}

// TestCellsAreTheTileAndOneCellAround checks Cells against the columns and
// rows floor(x / CellSize) gives half a cell either side of each of the
// tile's edges, as the tile query counts them.
func TestCellsAreTheTileAndOneCellAround(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 13))
	for z := maptile.Zoom(0); z < tiles.ClusterBelowZoom; z++ {
		n := uint32(1) << z
		for range 20 {
			tl := maptile.New(r.Uint32N(n), r.Uint32N(n), z)
			minX, minY, maxX, maxY := tiles.Cells(tl)
			cell := tiles.CellSize(z)
			w := 16 * cell
			west, north := tiles.Origin(tl)
			col := func(x float64) int32 { return int32(math.Floor(x / cell)) }
			want := [4]int32{col(west - cell/2), col(north - w - cell/2), col(west + w + cell/2), col(north + cell/2)}
			if got := [4]int32{minX, minY, maxX, maxY}; got != want {
				t.Errorf("%d/%d/%d: cells %v, want %v", z, tl.X, tl.Y, got, want)
			}
			if maxX-minX != 17 || maxY-minY != 17 {
				t.Errorf("%d/%d/%d: %d × %d cells, want 18 × 18", z, tl.X, tl.Y, maxX-minX+1, maxY-minY+1)
			}
		}
	}
}
