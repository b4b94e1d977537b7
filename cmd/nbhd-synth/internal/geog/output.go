package geog

import (
	"math"
	"sort"

	"nbhd/cmd/nbhd-synth/internal/formats"
)

// LonLat converts a planar point.
func (g *Geo) LonLat(p Point) formats.LonLat {
	lon, lat := g.Plane.Inverse(p)
	return formats.LonLat{formats.Round6(lon), formats.Round6(lat)}
}

// ring converts a closed planar ring to rounded lon/lat, dropping points
// that round onto the one before.
func (g *Geo) ring(r []Point) []formats.LonLat {
	out := make([]formats.LonLat, 0, len(r))
	for _, p := range r {
		q := g.LonLat(p)
		if len(out) > 0 && out[len(out)-1] == q {
			continue
		}
		out = append(out, q)
	}
	return out
}

// CellPolygon is a small area's boundary as one lon/lat polygon.
func (g *Geo) CellPolygon(c int) [][][]formats.LonLat {
	return [][][]formats.LonLat{{g.ring(g.Mesh.Ring(c))}}
}

// UnionPolygons dissolves cells into lon/lat polygons.
func (g *Geo) UnionPolygons(cells []int) ([][][]formats.LonLat, error) {
	polys, err := g.Mesh.Dissolve(cells)
	if err != nil {
		return nil, err
	}
	out := make([][][]formats.LonLat, len(polys))
	for i, p := range polys {
		for _, r := range p {
			out[i] = append(out[i], g.ring(r))
		}
	}
	return out, nil
}

// Vertices counts positions as PostGIS's ST_NPoints does.
func Vertices(polys [][][]formats.LonLat) int {
	n := 0
	for _, p := range polys {
		for _, r := range p {
			n += len(r)
		}
	}
	return n
}

// Stats summarises a distribution (vertex counts, areas).
type Stats struct {
	N     int     `json:"n"`
	Min   float64 `json:"min"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
	Mean  float64 `json:"mean"`
	Total float64 `json:"total"`
}

// Summarise computes Stats, rounded to 3 decimals so they print stably.
func Summarise(v []float64) Stats {
	if len(v) == 0 {
		return Stats{}
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	var sum float64
	for _, x := range s {
		sum += x
	}
	q := func(f float64) float64 { return r3(s[int(f*float64(len(s)-1))]) }
	return Stats{N: len(s), Min: r3(s[0]), P50: q(0.5), P90: q(0.9), P99: q(0.99), Max: r3(s[len(s)-1]),
		Mean: r3(sum / float64(len(s))), Total: r3(sum)}
}

func r3(v float64) float64 { return math.Round(v*1000) / 1000 }

// PlaceIn returns a point inside small area c, margin metres clear of its
// boundary, from three uniform draws.
func (g *Geo) PlaceIn(c int, u1, u2, u3 float64) Point {
	return g.Mesh.Place(c, placeMargin, u1, u2, u3)
}

// placeMargin keeps points clear of boundaries by more than the rounding
// of written coordinates and of eastings/northings to whole metres, and
// the difference between PROJ's datum shifts.
const placeMargin = 15
