package geo

import (
	"encoding/binary"
	"fmt"

	"github.com/paulmach/orb"
	"github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/encoding/ewkb"
)

// EWKB encodes an orb geometry as little-endian EWKB carrying srid, the form
// PostGIS reads with ST_GeomFromEWKB or as a geometry parameter. This is the
// only place orb geometries become go-geom ones.
func EWKB(g orb.Geometry, srid int) ([]byte, error) {
	t, err := toGeom(g)
	if err != nil {
		return nil, err
	}
	setSRID(t, srid)
	b, err := ewkb.Marshal(t, binary.LittleEndian)
	if err != nil {
		return nil, fmt.Errorf("encode EWKB: %w", err)
	}
	return b, nil
}

// FromEWKB decodes EWKB (as PostGIS returns it from ST_AsEWKB) into an orb
// geometry and its SRID.
func FromEWKB(b []byte) (orb.Geometry, int, error) {
	t, err := ewkb.Unmarshal(b)
	if err != nil {
		return nil, 0, fmt.Errorf("decode EWKB: %w", err)
	}
	g, err := fromGeom(t)
	return g, t.SRID(), err
}

// setSRID sets the SRID that go-geom's concrete types each keep.
func setSRID(t geom.T, srid int) {
	switch t := t.(type) {
	case *geom.Point:
		t.SetSRID(srid)
	case *geom.MultiPoint:
		t.SetSRID(srid)
	case *geom.LineString:
		t.SetSRID(srid)
	case *geom.MultiLineString:
		t.SetSRID(srid)
	case *geom.Polygon:
		t.SetSRID(srid)
	case *geom.MultiPolygon:
		t.SetSRID(srid)
	}
}

func coords(ps []orb.Point) []geom.Coord {
	out := make([]geom.Coord, len(ps))
	for i, p := range ps {
		out[i] = geom.Coord{p[0], p[1]}
	}
	return out
}

func rings(p orb.Polygon) [][]geom.Coord {
	out := make([][]geom.Coord, len(p))
	for i, r := range p {
		out[i] = coords(r)
	}
	return out
}

func toGeom(g orb.Geometry) (geom.T, error) {
	switch g := g.(type) {
	case orb.Point:
		return geom.NewPointFlat(geom.XY, []float64{g[0], g[1]}), nil
	case orb.MultiPoint:
		return geom.NewMultiPoint(geom.XY).MustSetCoords(coords(g)), nil
	case orb.LineString:
		return geom.NewLineString(geom.XY).MustSetCoords(coords(g)), nil
	case orb.MultiLineString:
		c := make([][]geom.Coord, len(g))
		for i, l := range g {
			c[i] = coords(l)
		}
		return geom.NewMultiLineString(geom.XY).MustSetCoords(c), nil
	case orb.Polygon:
		return geom.NewPolygon(geom.XY).MustSetCoords(rings(g)), nil
	case orb.MultiPolygon:
		c := make([][][]geom.Coord, len(g))
		for i, p := range g {
			c[i] = rings(p)
		}
		return geom.NewMultiPolygon(geom.XY).MustSetCoords(c), nil
	}
	return nil, fmt.Errorf("unsupported geometry type %T", g)
}

func points(cs []geom.Coord) []orb.Point {
	out := make([]orb.Point, len(cs))
	for i, c := range cs {
		out[i] = orb.Point{c.X(), c.Y()}
	}
	return out
}

func polygon(rs [][]geom.Coord) orb.Polygon {
	out := make(orb.Polygon, len(rs))
	for i, r := range rs {
		out[i] = orb.Ring(points(r))
	}
	return out
}

func fromGeom(t geom.T) (orb.Geometry, error) {
	switch t := t.(type) {
	case *geom.Point:
		return orb.Point{t.X(), t.Y()}, nil
	case *geom.MultiPoint:
		return orb.MultiPoint(points(t.Coords())), nil
	case *geom.LineString:
		return orb.LineString(points(t.Coords())), nil
	case *geom.MultiLineString:
		cs := t.Coords()
		out := make(orb.MultiLineString, len(cs))
		for i, c := range cs {
			out[i] = points(c)
		}
		return out, nil
	case *geom.Polygon:
		return polygon(t.Coords()), nil
	case *geom.MultiPolygon:
		cs := t.Coords()
		out := make(orb.MultiPolygon, len(cs))
		for i, c := range cs {
			out[i] = polygon(c)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported geometry type %T", t)
}
