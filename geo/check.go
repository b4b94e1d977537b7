package geo

import (
	"errors"
	"fmt"
	"math"

	"github.com/paulmach/orb"
)

// BritishIsles bounds Great Britain, Ireland and their islands in lon/lat.
// Coordinates outside it in a council's data are almost always projected
// (British National Grid) or have latitude and longitude swapped.
var BritishIsles = orb.Bound{Min: orb.Point{-11, 49}, Max: orb.Point{3, 61}}

// ErrEmptyGeometry reports a missing or empty geometry.
var ErrEmptyGeometry = errors.New("geometry is empty")

// CheckLonLat checks that g is a well-formed lon/lat geometry lying within
// want: finite coordinates, polygons with closed rings of 4 or more points,
// lines of 2 or more. Self-intersections are PostGIS's job (ST_IsValid).
func CheckLonLat(g orb.Geometry, want orb.Bound) error {
	if g == nil {
		return ErrEmptyGeometry
	}
	if err := checkShape(g); err != nil {
		return err
	}
	var bad error
	forEachPoint(g, func(p orb.Point) {
		if bad != nil {
			return
		}
		switch {
		case math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0):
			bad = fmt.Errorf("coordinate (%v, %v) is not a finite number", p[0], p[1])
		case math.Abs(p[0]) > 180 || math.Abs(p[1]) > 90:
			bad = fmt.Errorf("coordinate (%g, %g) is not lon/lat: it looks projected (British National Grid eastings/northings?); GeoJSON must be WGS 84 longitude, latitude", p[0], p[1])
		case !want.Contains(p):
			bad = fmt.Errorf("coordinate (%g, %g) lies outside lon %g..%g, lat %g..%g: are longitude and latitude swapped?",
				p[0], p[1], want.Min[0], want.Max[0], want.Min[1], want.Max[1])
		}
	})
	return bad
}

func checkShape(g orb.Geometry) error {
	switch g := g.(type) {
	case orb.Point:
		return nil
	case orb.MultiPoint:
		if len(g) == 0 {
			return ErrEmptyGeometry
		}
	case orb.LineString:
		if len(g) < 2 {
			return fmt.Errorf("line has %d point(s), needs at least 2", len(g))
		}
	case orb.MultiLineString:
		if len(g) == 0 {
			return ErrEmptyGeometry
		}
		for _, l := range g {
			if err := checkShape(l); err != nil {
				return err
			}
		}
	case orb.Polygon:
		if len(g) == 0 {
			return ErrEmptyGeometry
		}
		for i, r := range g {
			if len(r) < 4 {
				return fmt.Errorf("ring %d has %d point(s), needs at least 4", i+1, len(r))
			}
			if !r.Closed() {
				return fmt.Errorf("ring %d is not closed (first and last points differ)", i+1)
			}
		}
	case orb.MultiPolygon:
		if len(g) == 0 {
			return ErrEmptyGeometry
		}
		for _, p := range g {
			if err := checkShape(p); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unsupported geometry type %s", g.GeoJSONType())
	}
	return nil
}

func forEachPoint(g orb.Geometry, f func(orb.Point)) {
	switch g := g.(type) {
	case orb.Point:
		f(g)
	case orb.MultiPoint:
		for _, p := range g {
			f(p)
		}
	case orb.LineString:
		for _, p := range g {
			f(p)
		}
	case orb.MultiLineString:
		for _, l := range g {
			forEachPoint(l, f)
		}
	case orb.Ring:
		for _, p := range g {
			f(p)
		}
	case orb.Polygon:
		for _, r := range g {
			forEachPoint(r, f)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			forEachPoint(p, f)
		}
	}
}
