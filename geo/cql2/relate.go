package cql2

import (
	"errors"
	"fmt"
	"math"
	"math/big"

	"github.com/paulmach/orb"
)

// ErrDegenerate means a spatial relation between lines or polygons depends
// on a vertex lying exactly on the other geometry's boundary, which Relate
// does not decide.
var ErrDegenerate = errors.New("geometries are not in general position: a vertex lies on the other's boundary")

// location is where a point lies relative to a geometry.
type location int

const (
	exterior location = iota
	boundary
	interior
)

// converse gives op with its arguments swapped.
var converse = map[string]string{"s_within": "s_contains", "s_contains": "s_within"}

func swapped(op string) string {
	if c, ok := converse[op]; ok {
		return c
	}
	return op
}

// Relate evaluates the spatial function op ("s_intersects", ...) in the
// plane. Bounds are rectangles. A point against anything is decided
// exactly; lines and polygons against each other need general position
// (ErrDegenerate otherwise); multipoints are supported against points and,
// in s_intersects and s_disjoint, against anything; collections only in
// s_intersects and s_disjoint with a point.
func Relate(op string, a, b orb.Geometry) (bool, error) {
	a, b = asPolygon(a), asPolygon(b)
	if _, ok := b.(orb.Point); ok {
		if _, ok := a.(orb.Point); !ok {
			return Relate(swapped(op), b, a)
		}
	}
	if p, ok := a.(orb.Point); ok {
		return pointRelate(op, p, b)
	}
	if _, ok := b.(orb.MultiPoint); ok {
		a, b = b, a
	}
	if mp, ok := a.(orb.MultiPoint); ok && (op == "s_intersects" || op == "s_disjoint") {
		in := false
		for _, p := range mp {
			i, err := pointRelate("s_intersects", p, b)
			if err != nil {
				return false, err
			}
			in = in || i
		}
		return in == (op == "s_intersects"), nil
	}
	da, db := dimension(a), dimension(b)
	if da < 1 || db < 1 {
		return false, fmt.Errorf("%s between %s and %s is not supported by the evaluator", op, a.GeoJSONType(), b.GeoJSONType())
	}
	if da > db {
		return Relate(swapped(op), b, a)
	}
	return generalRelate(op, a, b, da, db)
}

func asPolygon(g orb.Geometry) orb.Geometry {
	if b, ok := g.(orb.Bound); ok {
		return b.ToPolygon()
	}
	return g
}

// dimension is 1 for lines, 2 for polygons, 0 for points and -1 for what
// the evaluator does not handle.
func dimension(g orb.Geometry) int {
	switch g.(type) {
	case orb.Point:
		return 0
	case orb.LineString, orb.MultiLineString:
		return 1
	case orb.Polygon, orb.MultiPolygon:
		return 2
	}
	return -1
}

func pointRelate(op string, p orb.Point, g orb.Geometry) (bool, error) {
	switch g := g.(type) {
	case orb.Point:
		eq := p == g
		switch op {
		case "s_intersects", "s_within", "s_contains", "s_equals":
			return eq, nil
		case "s_disjoint":
			return !eq, nil
		}
		return false, nil
	case orb.Collection:
		if op != "s_intersects" && op != "s_disjoint" {
			break
		}
		in := false
		for _, m := range g {
			i, err := pointRelate("s_intersects", p, asPolygon(m))
			if err != nil {
				return false, err
			}
			in = in || i
		}
		return in == (op == "s_intersects"), nil
	case orb.MultiPoint:
		in, all := false, true
		for _, q := range g {
			in = in || q == p
			all = all && q == p
		}
		switch op {
		case "s_intersects", "s_within":
			return in, nil
		case "s_disjoint":
			return !in, nil
		case "s_contains", "s_equals":
			return all, nil
		}
		return false, nil
	}
	if dimension(g) < 1 {
		return false, fmt.Errorf("%s of a point and a %s is not supported by the evaluator", op, g.GeoJSONType())
	}
	loc := locate(p, g)
	switch op {
	case "s_intersects":
		return loc != exterior, nil
	case "s_disjoint":
		return loc == exterior, nil
	case "s_within":
		return loc == interior, nil
	case "s_touches":
		return loc == boundary, nil
	}
	// A point cannot contain, equal, overlap or cross a line or polygon.
	return false, nil
}

// orient is the sign of the turn a -> b -> c: 1 left, -1 right, 0
// collinear, computed exactly when floating point cannot tell.
func orient(a, b, c orb.Point) int {
	l := (b[0] - a[0]) * (c[1] - a[1])
	r := (b[1] - a[1]) * (c[0] - a[0])
	d := l - r
	if math.Abs(d) > 1e-9*(math.Abs(l)+math.Abs(r)) {
		if d > 0 {
			return 1
		}
		return -1
	}
	rat := func(f float64) *big.Rat { return new(big.Rat).SetFloat64(f) }
	sub := func(x, y float64) *big.Rat { return new(big.Rat).Sub(rat(x), rat(y)) }
	bl := new(big.Rat).Mul(sub(b[0], a[0]), sub(c[1], a[1]))
	br := new(big.Rat).Mul(sub(b[1], a[1]), sub(c[0], a[0]))
	return bl.Cmp(br)
}

// onSegment reports whether p lies on the segment a-b.
func onSegment(p, a, b orb.Point) bool {
	return orient(a, b, p) == 0 &&
		math.Min(a[0], b[0]) <= p[0] && p[0] <= math.Max(a[0], b[0]) &&
		math.Min(a[1], b[1]) <= p[1] && p[1] <= math.Max(a[1], b[1])
}

// locateRing places p against a closed ring by winding number.
func locateRing(p orb.Point, r orb.Ring) location {
	wn := 0
	for i := 0; i+1 < len(r); i++ {
		a, b := r[i], r[i+1]
		if onSegment(p, a, b) {
			return boundary
		}
		if a[1] <= p[1] {
			if b[1] > p[1] && orient(a, b, p) > 0 {
				wn++
			}
		} else if b[1] <= p[1] && orient(a, b, p) < 0 {
			wn--
		}
	}
	if wn != 0 {
		return interior
	}
	return exterior
}

func locatePolygon(p orb.Point, poly orb.Polygon) location {
	loc := locateRing(p, poly[0])
	if loc != interior {
		return loc
	}
	for _, hole := range poly[1:] {
		switch locateRing(p, hole) {
		case boundary:
			return boundary
		case interior:
			return exterior
		}
	}
	return interior
}

// locateLines places p against lines; their boundary is the endpoints that
// occur an odd number of times (the "mod 2" rule).
func locateLines(p orb.Point, ml orb.MultiLineString) location {
	ends := 0
	on := false
	for _, l := range ml {
		if l[0] == p {
			ends++
		}
		if l[len(l)-1] == p {
			ends++
		}
		for i := 0; i+1 < len(l); i++ {
			on = on || onSegment(p, l[i], l[i+1])
		}
	}
	switch {
	case ends%2 == 1:
		return boundary
	case on:
		return interior
	}
	return exterior
}

// edges lists a line or polygon's segments.
func edges(g orb.Geometry) [][2]orb.Point {
	var out [][2]orb.Point
	add := func(ps []orb.Point) {
		for i := 0; i+1 < len(ps); i++ {
			out = append(out, [2]orb.Point{ps[i], ps[i+1]})
		}
	}
	switch g := g.(type) {
	case orb.LineString:
		add(g)
	case orb.MultiLineString:
		for _, l := range g {
			add(l)
		}
	case orb.Polygon:
		for _, r := range g {
			add(r)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			for _, r := range p {
				add(r)
			}
		}
	}
	return out
}

func vertices(g orb.Geometry) []orb.Point {
	var out []orb.Point
	for _, e := range edges(g) {
		out = append(out, e[0])
	}
	if l, ok := g.(orb.LineString); ok {
		out = append(out, l[len(l)-1])
	}
	if ml, ok := g.(orb.MultiLineString); ok {
		for _, l := range ml {
			out = append(out, l[len(l)-1])
		}
	}
	return out
}

// locate places p against a line or polygon.
func locate(p orb.Point, g orb.Geometry) location {
	switch g := g.(type) {
	case orb.LineString:
		return locateLines(p, orb.MultiLineString{g})
	case orb.MultiLineString:
		return locateLines(p, g)
	case orb.Polygon:
		return locatePolygon(p, g)
	case orb.MultiPolygon:
		loc := exterior
		for _, poly := range g {
			loc = max(loc, locatePolygon(p, poly))
		}
		return loc
	}
	return exterior
}

// crossing reports whether any edge of a properly crosses an edge of b, or
// ErrDegenerate when two edges touch or overlap without crossing.
func crossing(a, b orb.Geometry) (bool, error) {
	eb := edges(b)
	for _, s := range edges(a) {
		for _, t := range eb {
			o1, o2 := orient(s[0], s[1], t[0]), orient(s[0], s[1], t[1])
			o3, o4 := orient(t[0], t[1], s[0]), orient(t[0], t[1], s[1])
			if o1*o2 < 0 && o3*o4 < 0 {
				return true, nil
			}
			if (o1 == 0 && onSegment(t[0], s[0], s[1])) || (o2 == 0 && onSegment(t[1], s[0], s[1])) ||
				(o3 == 0 && onSegment(s[0], t[0], t[1])) || (o4 == 0 && onSegment(s[1], t[0], t[1])) {
				return false, ErrDegenerate
			}
		}
	}
	return false, nil
}

// sides says whether some and whether all of g's vertices lie in the
// interior of h (never on its boundary, under general position).
func sides(g, h orb.Geometry) (some, all bool, err error) {
	all = true
	lineal := dimension(h) == 1
	for _, v := range vertices(g) {
		switch loc := locate(v, h); {
		case loc == boundary, lineal && loc == interior:
			return false, false, ErrDegenerate
		case loc == interior:
			some = true
		default:
			all = false
		}
	}
	return some, all, nil
}

// generalRelate relates lines and polygons in general position; a has the
// lower or equal dimension.
func generalRelate(op string, a, b orb.Geometry, da, db int) (bool, error) {
	x, err := crossing(a, b)
	if err != nil {
		return false, err
	}
	aSome, aAll, err := sides(a, b)
	if err != nil {
		return false, err
	}
	var bSome, bAll bool
	if da == db {
		if bSome, bAll, err = sides(b, a); err != nil {
			return false, err
		}
	}
	intersects := x || aSome || bSome
	within := !x && aAll && !bSome
	contains := da == db && !x && bAll && !aSome
	switch op {
	case "s_intersects":
		return intersects, nil
	case "s_disjoint":
		return !intersects, nil
	case "s_within":
		return within, nil
	case "s_contains":
		return contains, nil
	case "s_overlaps":
		return da == 2 && db == 2 && intersects && !within && !contains, nil
	case "s_crosses":
		if da == 1 && db == 1 {
			return x, nil
		}
		return da < db && x, nil
	}
	// s_touches and s_equals need a shared boundary, which general
	// position rules out.
	return false, nil
}
