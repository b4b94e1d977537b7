// Package world holds the synthetic generator's model of a country: a
// planar projection, a land outline, a population density made of towns
// and cities, seed sampling with that density, and recursive bisection to
// group small areas into larger ones.
package world

import (
	"math"

	"nbhd/cmd/nbhd-synth/internal/tess"
)

// Point is a planar position in metres.
type Point = tess.Point

const earthRadius = 6371008.8

// Plane is an equirectangular projection about a reference latitude: exact
// to invert, and close enough to true distances over England (a few per
// cent) for shaping synthetic geography.
type Plane struct{ lon0, lat0, kx, ky float64 }

// NewPlane centres a plane on lon0, lat0.
func NewPlane(lon0, lat0 float64) Plane {
	return Plane{lon0: lon0, lat0: lat0, kx: earthRadius * math.Cos(lat0*math.Pi/180) * math.Pi / 180, ky: earthRadius * math.Pi / 180}
}

// Forward maps lon/lat to the plane.
func (p Plane) Forward(lon, lat float64) Point {
	return Point{X: (lon - p.lon0) * p.kx, Y: (lat - p.lat0) * p.ky}
}

// Inverse maps the plane back to lon/lat.
func (p Plane) Inverse(q Point) (lon, lat float64) {
	return p.lon0 + q.X/p.kx, p.lat0 + q.Y/p.ky
}

// Outline is a simple polygon (not closed: the last point joins the first).
type Outline []Point

// Contains uses the even-odd rule.
func (o Outline) Contains(p Point) bool {
	in := false
	for i, j := 0, len(o)-1; i < len(o); j, i = i, i+1 {
		a, b := o[i], o[j]
		if (a.Y > p.Y) != (b.Y > p.Y) && p.X < (b.X-a.X)*(p.Y-a.Y)/(b.Y-a.Y)+a.X {
			in = !in
		}
	}
	return in
}

// Nearest returns the point of the outline's boundary nearest to p.
func (o Outline) Nearest(p Point) Point {
	best, bd := Point{}, math.Inf(1)
	for i := range o {
		a, b := o[i], o[(i+1)%len(o)]
		dx, dy := b.X-a.X, b.Y-a.Y
		t := ((p.X-a.X)*dx + (p.Y-a.Y)*dy) / (dx*dx + dy*dy)
		t = math.Max(0, math.Min(1, t))
		q := Point{X: a.X + t*dx, Y: a.Y + t*dy}
		if d := math.Hypot(q.X-p.X, q.Y-p.Y); d < bd {
			best, bd = q, d
		}
	}
	return best
}

// Bounds is the outline's bounding box.
func (o Outline) Bounds() (lo, hi Point) {
	lo, hi = Point{X: math.Inf(1), Y: math.Inf(1)}, Point{X: math.Inf(-1), Y: math.Inf(-1)}
	for _, p := range o {
		lo.X, lo.Y = math.Min(lo.X, p.X), math.Min(lo.Y, p.Y)
		hi.X, hi.Y = math.Max(hi.X, p.X), math.Max(hi.Y, p.Y)
	}
	return lo, hi
}

// Area is the outline's area in square metres.
func (o Outline) Area() float64 {
	var s float64
	for i := range o {
		j := (i + 1) % len(o)
		s += o[i].X*o[j].Y - o[j].X*o[i].Y
	}
	return math.Abs(s) / 2
}
