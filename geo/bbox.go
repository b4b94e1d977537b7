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
// for CRS84). A box whose minimum exceeds its maximum is refused here;
// ParseBBoxes reads CRS84 boxes crossing the antimeridian.
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

// ParseBBoxes parses a bbox as ParseBBox does, except that in CRS84 a box
// whose minimum longitude exceeds its maximum crosses the antimeridian, as
// OGC API – Features defines it (e.g. 170,-20,-170,-10): it comes back as
// two boxes, minx..180 and -180..maxx. Every other box comes back alone.
func ParseBBoxes(s string, crs CRS) ([]orb.Bound, error) {
	b, err := ParseBBox(s, crs)
	if err == nil {
		return []orb.Bound{b}, nil
	}
	if crs.SRID != CRS84.SRID {
		return nil, err
	}
	// Swap the longitudes; if that box is valid the original crossed the
	// antimeridian.
	parts := strings.Split(s, ",")
	if len(parts) != 4 && len(parts) != 6 {
		return nil, err
	}
	maxx := len(parts) / 2
	swapped := append([]string(nil), parts...)
	swapped[0], swapped[maxx] = parts[maxx], parts[0]
	w, werr := ParseBBox(strings.Join(swapped, ","), crs)
	if werr != nil || w.Min[0] == w.Max[0] {
		return nil, err
	}
	east := orb.Bound{Min: orb.Point{w.Max[0], w.Min[1]}, Max: orb.Point{180, w.Max[1]}}
	west := orb.Bound{Min: orb.Point{-180, w.Min[1]}, Max: orb.Point{w.Min[0], w.Max[1]}}
	return []orb.Bound{east, west}, nil
}
