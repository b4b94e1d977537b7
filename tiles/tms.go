package tiles

import (
	"math"
	"strconv"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// WebMercatorQuad, the one tile matrix set nbhd serves, as the OGC Two
// Dimensional Tile Matrix Set standard (2.0) registers it: EPSG:3857,
// 256-pixel tiles, origin at the top left, tile matrices 0 to 24. Tile
// matrix z is zoom z of the XYZ scheme; tileRow is y and tileCol is x.
const (
	WebMercatorQuadID  = "WebMercatorQuad"
	WebMercatorQuadURI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
	// WebMercatorCRS is the CRS of the tile matrix set.
	WebMercatorCRS = "http://www.opengis.net/def/crs/EPSG/0/3857"
	// webMercatorLastMatrix is the deepest tile matrix the standard defines.
	webMercatorLastMatrix = 24
	// tmsTileSize is the tile width and height in pixels the registered
	// definition uses for its scales; MVT tiles are scale-free.
	tmsTileSize = 256
	// standardPixel is the 0.28 mm pixel scale denominators are defined by.
	standardPixel = 0.00028
)

// TileMatrixSet is a tile matrix set definition (TMS 2.0 JSON encoding,
// which OGC API – Tiles 1.0 asks for).
type TileMatrixSet struct {
	ID                string       `json:"id"`
	Title             string       `json:"title"`
	URI               string       `json:"uri"`
	CRS               string       `json:"crs"`
	OrderedAxes       []string     `json:"orderedAxes"`
	WellKnownScaleSet string       `json:"wellKnownScaleSet"`
	TileMatrices      []TileMatrix `json:"tileMatrices"`
}

// TileMatrix is one level of a tile matrix set.
type TileMatrix struct {
	ID               string     `json:"id"`
	ScaleDenominator float64    `json:"scaleDenominator"`
	CellSize         float64    `json:"cellSize"`
	CornerOfOrigin   string     `json:"cornerOfOrigin"`
	PointOfOrigin    [2]float64 `json:"pointOfOrigin"`
	TileWidth        int        `json:"tileWidth"`
	TileHeight       int        `json:"tileHeight"`
	MatrixWidth      int        `json:"matrixWidth"`
	MatrixHeight     int        `json:"matrixHeight"`
}

// TileMatrixLimits bounds the rows and columns of one tile matrix that a
// tileset has (TMS 2.0 tileMatrixSetLimits).
type TileMatrixLimits struct {
	TileMatrix string `json:"tileMatrix"`
	MinTileRow int    `json:"minTileRow"`
	MaxTileRow int    `json:"maxTileRow"`
	MinTileCol int    `json:"minTileCol"`
	MaxTileCol int    `json:"maxTileCol"`
}

// WebMercatorQuad returns the registered WebMercatorQuad definition. Cell
// sizes and scale denominators are computed from the Web Mercator square
// (the registry rounds them to 15 significant digits).
func WebMercatorQuad() TileMatrixSet {
	half := worldSize / 2
	tms := TileMatrixSet{
		ID: WebMercatorQuadID, Title: "Google Maps Compatible for the World", URI: WebMercatorQuadURI,
		CRS: WebMercatorCRS, OrderedAxes: []string{"X", "Y"},
		WellKnownScaleSet: "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
	}
	for z := 0; z <= webMercatorLastMatrix; z++ {
		n := 1 << z
		cell := worldSize / tmsTileSize / float64(n)
		m := TileMatrix{
			ID: strconv.Itoa(z), ScaleDenominator: cell / standardPixel, CellSize: cell,
			CornerOfOrigin: "topLeft", PointOfOrigin: [2]float64{-half, half},
			TileWidth: tmsTileSize, TileHeight: tmsTileSize, MatrixWidth: n, MatrixHeight: n,
		}
		tms.TileMatrices = append(tms.TileMatrices, m)
	}
	return tms
}

// ScaleDenominator is the scale denominator of WebMercatorQuad's matrix z.
func ScaleDenominator(z int) float64 {
	return worldSize / tmsTileSize / math.Ldexp(1, z) / standardPixel
}

// Limits are the tileMatrixSetLimits of a tileset with data in extent (a
// lon/lat bound) for matrices minZ to maxZ: at each, the rows and columns
// of the tiles that intersect the extent. With no data, every tile of each
// matrix is in the limits.
func Limits(extent orb.Bound, hasData bool, minZ, maxZ int) []TileMatrixLimits {
	out := make([]TileMatrixLimits, 0, maxZ-minZ+1)
	for z := minZ; z <= maxZ; z++ {
		l := TileMatrixLimits{TileMatrix: strconv.Itoa(z), MaxTileRow: 1<<z - 1, MaxTileCol: 1<<z - 1}
		if hasData {
			lo, hi := Cover(extent, maptile.Zoom(z))
			l.MinTileRow, l.MaxTileRow = int(lo.Y), int(hi.Y)
			l.MinTileCol, l.MaxTileCol = int(lo.X), int(hi.X)
		}
		out = append(out, l)
	}
	return out
}

// Within reports whether tile t is inside limits: its matrix is listed and
// its row and column are in that matrix's range.
func Within(limits []TileMatrixLimits, t maptile.Tile) bool {
	z := int(t.Z)
	for _, l := range limits {
		if l.TileMatrix == strconv.Itoa(z) {
			return int(t.Y) >= l.MinTileRow && int(t.Y) <= l.MaxTileRow &&
				int(t.X) >= l.MinTileCol && int(t.X) <= l.MaxTileCol
		}
	}
	return false
}

// ParseTileMatrix reads the tileMatrix, tileRow and tileCol of an OGC API
// – Tiles request in WebMercatorQuad. ok is false when a value is not a
// whole number; inRange is false when the tile is outside the tile matrix
// set (a matrix past 24, or a row or column past the matrix's size).
func ParseTileMatrix(tileMatrix, tileRow, tileCol string) (t maptile.Tile, ok, inRange bool) {
	z, err1 := strconv.ParseUint(tileMatrix, 10, 8)
	row, err2 := strconv.ParseUint(tileRow, 10, 32)
	col, err3 := strconv.ParseUint(tileCol, 10, 32)
	if err1 != nil || err2 != nil || err3 != nil {
		return maptile.Tile{}, false, false
	}
	if z > webMercatorLastMatrix || row >= 1<<z || col >= 1<<z {
		return maptile.Tile{}, true, false
	}
	return maptile.New(uint32(col), uint32(row), maptile.Zoom(z)), true, true
}
