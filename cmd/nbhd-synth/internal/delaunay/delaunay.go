// Package delaunay triangulates points in the plane with the sweep-hull
// algorithm of Mapbox's delaunator: points are added in order of distance
// from a seed triangle's circumcentre, each joined to the visible part of
// the convex hull, and edges are flipped until the triangulation is
// Delaunay. It is deterministic (no maps, no goroutines) and O(n log n), so
// the synthetic generator can triangulate England's seeds in well under a
// second and get the same triangles from the same points every run.
//
// Triangles are stored as half-edges: edge e goes from Triangles[e] to
// Triangles[Next(e)], and Halfedges[e] is the opposite half-edge in the
// neighbouring triangle, or -1 on the convex hull.
package delaunay

import (
	"errors"
	"math"
	"sort"
)

// Point is a position in a planar coordinate system (metres).
type Point struct{ X, Y float64 }

// Triangulation is the result of Triangulate.
type Triangulation struct {
	Points    []Point
	Triangles []int // three point indices per triangle
	Halfedges []int // opposite half-edge of each half-edge, -1 on the hull
	Hull      []int // convex hull point indices
}

// Next is the next half-edge of e's triangle.
func Next(e int) int {
	if e%3 == 2 {
		return e - 2
	}
	return e + 1
}

// Prev is the previous half-edge of e's triangle.
func Prev(e int) int {
	if e%3 == 0 {
		return e + 2
	}
	return e - 1
}

// ErrDegenerate is returned for fewer than three points, all collinear.
var ErrDegenerate = errors.New("delaunay: points are collinear or too few")

type state struct {
	pts                        []Point
	triangles, halfedges       []int
	hullPrev, hullNext, hullTr []int
	hullHash                   []int
	hashSize                   int
	hullStart                  int
	cx, cy                     float64
	stack                      []int
}

// Triangulate builds the Delaunay triangulation of pts. Points closer than
// about 1e-9 of the coordinate scale to an earlier one are left out of it
// (use Missing to find them).
func Triangulate(pts []Point) (*Triangulation, error) {
	n := len(pts)
	if n < 3 {
		return nil, ErrDegenerate
	}
	s := &state{pts: pts}
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	for _, p := range pts {
		minX, minY = math.Min(minX, p.X), math.Min(minY, p.Y)
		maxX, maxY = math.Max(maxX, p.X), math.Max(maxY, p.Y)
	}
	cx, cy := (minX+maxX)/2, (minY+maxY)/2
	i0, i1, i2 := -1, -1, -1
	best := math.Inf(1)
	for i, p := range pts {
		if d := dist2(cx, cy, p.X, p.Y); d < best {
			i0, best = i, d
		}
	}
	best = math.Inf(1)
	for i, p := range pts {
		if i == i0 {
			continue
		}
		if d := dist2(pts[i0].X, pts[i0].Y, p.X, p.Y); d < best && d > 0 {
			i1, best = i, d
		}
	}
	if i1 < 0 {
		return nil, ErrDegenerate
	}
	best = math.Inf(1)
	for i, p := range pts {
		if i == i0 || i == i1 {
			continue
		}
		if r := circumradius(pts[i0], pts[i1], p); r < best {
			i2, best = i, r
		}
	}
	if i2 < 0 || math.IsInf(best, 1) {
		return nil, ErrDegenerate
	}
	if orient(pts[i0], pts[i1], pts[i2]) {
		i1, i2 = i2, i1
	}
	s.cx, s.cy = circumcenter(pts[i0], pts[i1], pts[i2])

	ids := make([]int, n)
	dists := make([]float64, n)
	for i, p := range pts {
		ids[i] = i
		dists[i] = dist2(p.X, p.Y, s.cx, s.cy)
	}
	sort.SliceStable(ids, func(a, b int) bool {
		da, db := dists[ids[a]], dists[ids[b]]
		if da != db {
			return da < db
		}
		return ids[a] < ids[b]
	})

	maxTriangles := 2*n - 5
	if maxTriangles < 1 {
		maxTriangles = 1
	}
	s.triangles = make([]int, 0, maxTriangles*3)
	s.halfedges = make([]int, 0, maxTriangles*3)
	s.hashSize = int(math.Ceil(math.Sqrt(float64(n))))
	s.hullPrev, s.hullNext, s.hullTr = make([]int, n), make([]int, n), make([]int, n)
	s.hullHash = make([]int, s.hashSize)
	for i := range s.hullHash {
		s.hullHash[i] = -1
	}
	s.hullStart = i0
	s.hullNext[i0], s.hullPrev[i2] = i1, i1
	s.hullNext[i1], s.hullPrev[i0] = i2, i2
	s.hullNext[i2], s.hullPrev[i1] = i0, i0
	s.hullTr[i0], s.hullTr[i1], s.hullTr[i2] = 0, 1, 2
	s.hullHash[s.hashKey(pts[i0])] = i0
	s.hullHash[s.hashKey(pts[i1])] = i1
	s.hullHash[s.hashKey(pts[i2])] = i2
	s.addTriangle(i0, i1, i2, -1, -1, -1)

	var xp, yp float64
	for k, i := range ids {
		p := pts[i]
		if k > 0 && math.Abs(p.X-xp) <= eps*math.Max(1, math.Abs(xp)) && math.Abs(p.Y-yp) <= eps*math.Max(1, math.Abs(yp)) {
			continue
		}
		xp, yp = p.X, p.Y
		if i == i0 || i == i1 || i == i2 {
			continue
		}
		s.insert(i)
	}

	t := &Triangulation{Points: pts, Triangles: s.triangles, Halfedges: s.halfedges}
	e := s.hullStart
	for {
		t.Hull = append(t.Hull, e)
		e = s.hullNext[e]
		if e == s.hullStart {
			break
		}
	}
	return t, nil
}

const eps = 1e-12

func (s *state) insert(i int) {
	pts := s.pts
	p := pts[i]
	start := 0
	key := s.hashKey(p)
	for j := 0; j < s.hashSize; j++ {
		start = s.hullHash[(key+j)%s.hashSize]
		if start != -1 && start != s.hullNext[start] {
			break
		}
	}
	start = s.hullPrev[start]
	e := start
	for {
		q := s.hullNext[e]
		if orient(p, pts[e], pts[q]) {
			break
		}
		e = q
		if e == start {
			return // a near-duplicate point: leave it out
		}
	}
	t := s.addTriangle(e, i, s.hullNext[e], -1, -1, s.hullTr[e])
	s.hullTr[i] = s.legalise(t + 2)
	s.hullTr[e] = t

	n := s.hullNext[e]
	for {
		q := s.hullNext[n]
		if !orient(p, pts[n], pts[q]) {
			break
		}
		t = s.addTriangle(n, i, q, s.hullTr[i], -1, s.hullTr[n])
		s.hullTr[i] = s.legalise(t + 2)
		s.hullNext[n] = n // removed from the hull
		n = q
	}
	if e == start {
		for {
			q := s.hullPrev[e]
			if !orient(p, pts[q], pts[e]) {
				break
			}
			t = s.addTriangle(q, i, e, -1, s.hullTr[e], s.hullTr[q])
			s.legalise(t + 2)
			s.hullTr[q] = t
			s.hullNext[e] = e
			e = q
		}
	}
	s.hullStart = e
	s.hullPrev[i] = e
	s.hullNext[e] = i
	s.hullPrev[n] = i
	s.hullNext[i] = n
	s.hullHash[s.hashKey(p)] = i
	s.hullHash[s.hashKey(pts[e])] = e
}

func (s *state) hashKey(p Point) int {
	return int(math.Floor(pseudoAngle(p.X-s.cx, p.Y-s.cy)*float64(s.hashSize))) % s.hashSize
}

// legalise flips edge a and the edges it exposes until every one of them
// satisfies the Delaunay condition, and returns the half-edge that now
// ends the new point's fan.
func (s *state) legalise(a int) int {
	tr, he, pts := s.triangles, s.halfedges, s.pts
	s.stack = s.stack[:0]
	ar := 0
	for {
		b := he[a]
		a0 := a - a%3
		ar = a0 + (a+2)%3
		if b == -1 {
			if len(s.stack) == 0 {
				break
			}
			a = s.stack[len(s.stack)-1]
			s.stack = s.stack[:len(s.stack)-1]
			continue
		}
		b0 := b - b%3
		al := a0 + (a+1)%3
		bl := b0 + (b+2)%3
		p0, pr, pl, p1 := tr[ar], tr[a], tr[al], tr[bl]
		if inCircle(pts[p0], pts[pr], pts[pl], pts[p1]) {
			tr[a] = p1
			tr[b] = p0
			hbl := he[bl]
			if hbl == -1 {
				e := s.hullStart
				for {
					if s.hullTr[e] == bl {
						s.hullTr[e] = a
						break
					}
					e = s.hullPrev[e]
					if e == s.hullStart {
						break
					}
				}
			}
			s.link(a, hbl)
			s.link(b, he[ar])
			s.link(ar, bl)
			br := b0 + (b+1)%3
			s.stack = append(s.stack, br)
		} else {
			if len(s.stack) == 0 {
				break
			}
			a = s.stack[len(s.stack)-1]
			s.stack = s.stack[:len(s.stack)-1]
		}
	}
	return ar
}

func (s *state) link(a, b int) {
	s.halfedges[a] = b
	if b != -1 {
		s.halfedges[b] = a
	}
}

func (s *state) addTriangle(i0, i1, i2, a, b, c int) int {
	t := len(s.triangles)
	s.triangles = append(s.triangles, i0, i1, i2)
	s.halfedges = append(s.halfedges, -1, -1, -1)
	s.link(t, a)
	s.link(t+1, b)
	s.link(t+2, c)
	return t
}

// pseudoAngle increases with the angle of (dx, dy) without trigonometry.
func pseudoAngle(dx, dy float64) float64 {
	p := dx / (math.Abs(dx) + math.Abs(dy))
	if dy > 0 {
		return (3 - p) / 4
	}
	return (1 + p) / 4
}

func dist2(ax, ay, bx, by float64) float64 {
	dx, dy := ax-bx, ay-by
	return dx*dx + dy*dy
}

// orient reports whether p, q, r turn counter-clockwise (y up).
func orient(p, q, r Point) bool {
	return (q.Y-p.Y)*(r.X-q.X)-(q.X-p.X)*(r.Y-q.Y) < 0
}

func inCircle(a, b, c, p Point) bool {
	dx, dy := a.X-p.X, a.Y-p.Y
	ex, ey := b.X-p.X, b.Y-p.Y
	fx, fy := c.X-p.X, c.Y-p.Y
	ap := dx*dx + dy*dy
	bp := ex*ex + ey*ey
	cp := fx*fx + fy*fy
	return dx*(ey*cp-bp*fy)-dy*(ex*cp-bp*fx)+ap*(ex*fy-ey*fx) < 0
}

func circumradius(a, b, c Point) float64 {
	dx, dy := b.X-a.X, b.Y-a.Y
	ex, ey := c.X-a.X, c.Y-a.Y
	bl := dx*dx + dy*dy
	cl := ex*ex + ey*ey
	d := 0.5 / (dx*ey - dy*ex)
	x := (ey*bl - dy*cl) * d
	y := (dx*cl - ex*bl) * d
	r := x*x + y*y
	if math.IsNaN(r) {
		return math.Inf(1)
	}
	return r
}

func circumcenter(a, b, c Point) (float64, float64) {
	dx, dy := b.X-a.X, b.Y-a.Y
	ex, ey := c.X-a.X, c.Y-a.Y
	bl := dx*dx + dy*dy
	cl := ex*ex + ey*ey
	d := 0.5 / (dx*ey - dy*ex)
	return a.X + (ey*bl-dy*cl)*d, a.Y + (dx*cl-ex*bl)*d
}

// Circumcenter is the centre of the circle through triangle t's corners
// (a vertex of the Voronoi diagram).
func (t *Triangulation) Circumcenter(tri int) Point {
	a, b, c := t.Points[t.Triangles[3*tri]], t.Points[t.Triangles[3*tri+1]], t.Points[t.Triangles[3*tri+2]]
	x, y := circumcenter(a, b, c)
	return Point{x, y}
}

// Missing lists the points the triangulation left out (near-duplicates).
func (t *Triangulation) Missing() []int {
	used := make([]bool, len(t.Points))
	for _, p := range t.Triangles {
		used[p] = true
	}
	var out []int
	for i, u := range used {
		if !u {
			out = append(out, i)
		}
	}
	return out
}
