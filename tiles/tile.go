package tiles

import (
	"fmt"
	"math"
	"strconv"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// MVT geometry settings shared by every tile query.
const (
	// MaxZoom is the deepest zoom served. Tiles past the TileJSON maxzoom
	// are allowed, for clients that do not overzoom.
	MaxZoom = 22
	// Extent is the tile's coordinate range, 0..Extent-1 on each axis.
	Extent = 4096
	// Buffer is how far, in tile units, geometry is kept past the tile edge
	// so lines and polygon outlines join up across tiles.
	Buffer = 64
	// DetailZoom is the TileJSON maxzoom: tiles there carry full detail and
	// clients overzoom them past it.
	DetailZoom = 14
	// MaxBytes is the most a tile should weigh uncompressed, the guide of
	// tippecanoe and MapLibre: a heavier tile is drawn again on a grid
	// half as fine, down to MinExtent units (one per pixel of a tile drawn
	// 512 pixels wide, so nothing is lost at the tile's own zoom).
	MaxBytes  = 500 * 1000
	MinExtent = 512
)

// worldSize is the width of the Web Mercator square in metres.
const worldSize = 2 * 20037508.342789244

// Parse reads the z, x and y of a tile path. Each must be a whole number,
// z from 0 to MaxZoom and x, y from 0 to 2^z-1.
func Parse(z, x, y string) (maptile.Tile, error) {
	zz, err := strconv.ParseUint(z, 10, 8)
	if err != nil || zz > MaxZoom {
		return maptile.Tile{}, fmt.Errorf("zoom must be a whole number from 0 to %d, got %q", MaxZoom, z)
	}
	n := uint64(1) << zz
	xx, err := strconv.ParseUint(x, 10, 32)
	if err != nil || xx >= n {
		return maptile.Tile{}, fmt.Errorf("x must be a whole number from 0 to %d at zoom %d, got %q", n-1, zz, x)
	}
	yy, err := strconv.ParseUint(y, 10, 32)
	if err != nil || yy >= n {
		return maptile.Tile{}, fmt.Errorf("y must be a whole number from 0 to %d at zoom %d, got %q", n-1, zz, y)
	}
	return maptile.New(uint32(xx), uint32(yy), maptile.Zoom(zz)), nil
}

// UnitSize is the length in Web Mercator metres of one tile unit (1/Extent
// of the tile's width) at zoom z.
func UnitSize(z maptile.Zoom) float64 {
	return worldSize / float64(uint64(1)<<z) / Extent
}

// Origin is the north-west corner of tile t in Web Mercator metres, as
// PostGIS's ST_TileEnvelope places it: the origin of the tile's grid.
func Origin(t maptile.Tile) (x, y float64) {
	size := worldSize / float64(uint64(1)<<t.Z)
	return -worldSize/2 + float64(t.X)*size, worldSize/2 - float64(t.Y)*size
}

// Tolerance is the Douglas-Peucker tolerance, in Web Mercator metres, for
// polygons at zoom z; 0 means no simplification. It is tied to the size of a
// screen pixel when a tile is drawn 512 pixels wide (8 tile units):
//
//	z 0-13   4 units (half a pixel): invisible, and it keeps low-zoom tiles small
//	z 14     1 unit: DetailZoom tiles are magnified when clients overzoom
//	z 15+    none: only clients that never overzoom ask for these
func Tolerance(z maptile.Zoom) float64 {
	switch {
	case z < DetailZoom:
		return 4 * UnitSize(z)
	case z == DetailZoom:
		return UnitSize(z)
	}
	return 0
}

// Point layers are clustered on a grid below ClusterBelowZoom: each cell of
// CellUnits tile units (16 per tile side, about 32 pixels on a 512-pixel
// tile) keeps a lone point as it is and replaces two or more by one point at
// their mean position with point_count = n and cluster = true, as
// MapLibre's own clustering does. Cells nest in tiles, and a tile query
// reads one cell past its edge, so every tile agrees on every cluster.
const (
	ClusterBelowZoom = 13
	CellUnits        = Extent / 16
)

// PieceZoom is the zoom whose tiles draw the published polygon layers from
// their features cut to each tile on publish (api.tile_pieces, in
// data/migrations/definitions/48_publish.sql, which cuts at the same zoom):
// zoom 12, where a neighbourhood fills the screen and most of them cross a
// tile's edge.
const PieceZoom = 12

// Clustered reports whether point layers are clustered at zoom z.
func Clustered(z maptile.Zoom) bool { return z < ClusterBelowZoom }

// CellSize is the clustering cell's width in Web Mercator metres at zoom z.
func CellSize(z maptile.Zoom) float64 { return CellUnits * UnitSize(z) }

// Cells is the range of clustering cells a tile's clusters are drawn from:
// its own 16 × 16 and one more on each side, as columns and rows of the
// grid of CellSize(t.Z) counted from the Web Mercator origin, as
// floor(x / CellSize) and floor(y / CellSize) count them (y grows north).
func Cells(t maptile.Tile) (minX, minY, maxX, maxY int32) {
	const per = Extent / CellUnits // cells on a tile's side
	half := (int64(1) << t.Z) * per / 2
	x0 := int64(t.X)*per - half  // the tile's west column
	top := half - int64(t.Y)*per // the row north of the tile
	return int32(x0 - 1), int32(top - per - 1), int32(x0 + per), int32(top)
}

// maxLat is the latitude limit of Web Mercator.
const maxLat = 85.05112877980659

// Cover returns the range of tiles at zoom z that intersect b, a lon/lat
// bound: every tile with min.X <= X <= max.X and min.Y <= Y <= max.Y.
func Cover(b orb.Bound, z maptile.Zoom) (minT, maxT maptile.Tile) {
	clamp := func(p orb.Point) orb.Point {
		return orb.Point{math.Max(-180, math.Min(180, p[0])), math.Max(-maxLat, math.Min(maxLat, p[1]))}
	}
	last := uint32(uint64(1)<<z - 1)
	at := func(p orb.Point) maptile.Tile {
		t := maptile.At(clamp(p), z)
		t.X, t.Y = min(t.X, last), min(t.Y, last)
		return t
	}
	// Tile rows count down from the north: the bound's top-left is the
	// lowest x and y.
	return at(orb.Point{b.Min[0], b.Max[1]}), at(orb.Point{b.Max[0], b.Min[1]})
}

// CoverCount is the number of tiles Cover returns for zooms minZ to maxZ.
func CoverCount(b orb.Bound, minZ, maxZ maptile.Zoom) int {
	n := 0
	for z := minZ; z <= maxZ; z++ {
		lo, hi := Cover(b, z)
		n += int(hi.X-lo.X+1) * int(hi.Y-lo.Y+1)
	}
	return n
}
