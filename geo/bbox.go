package geo

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
)

// ParseBBox parses an OGC API bbox parameter: "minx,miny,maxx,maxy", or six
// numbers with heights, which are ignored. Axis order is the CRS's (lon/lat
// for CRS84). Boxes crossing the antimeridian are refused: nbhd serves English
// boroughs.
func ParseBBox(s string, crs CRS) (orb.Bound, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 && len(parts) != 6 {
		return orb.Bound{}, fmt.Errorf("bbox needs 4 comma-separated numbers (minx,miny,maxx,maxy), got %d", len(parts))
	}
	v := make([]float64, len(parts))
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return orb.Bound{}, fmt.Errorf("bbox value %d (%q) is not a finite number", i+1, p)
		}
		v[i] = f
	}
	if len(v) == 6 {
		v = []float64{v[0], v[1], v[3], v[4]}
	}
	b := orb.Bound{Min: orb.Point{v[0], v[1]}, Max: orb.Point{v[2], v[3]}}
	if b.Min[0] > b.Max[0] || b.Min[1] > b.Max[1] {
		return orb.Bound{}, fmt.Errorf("bbox minimum (%g,%g) must not exceed its maximum (%g,%g)", b.Min[0], b.Min[1], b.Max[0], b.Max[1])
	}
	if crs.SRID == CRS84.SRID && (b.Min[0] < -180 || b.Max[0] > 180 || b.Min[1] < -90 || b.Max[1] > 90) {
		return orb.Bound{}, fmt.Errorf("bbox is outside longitude -180..180, latitude -90..90; for British National Grid set bbox-crs=%s", BNG.URI)
	}
	return b, nil
}
