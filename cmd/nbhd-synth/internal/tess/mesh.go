// Package tess turns seed points into a partition of the plane into
// polygons with shared, jagged edges, like generalised census boundaries.
//
// The cells are the Voronoi cells of the land seeds; ghost seeds (sea, or
// land outside the area) bound them and are dropped. Each Voronoi edge is
// replaced once by a jagged polyline that both neighbours use, so the
// cells stay a true partition (no gaps, no overlaps). The polyline never
// leaves the band between the edge and the two sites' fan triangles
// (scaled by Band), which are disjoint for different edges because Voronoi
// cells are convex: so no two polylines cross and every cell is a valid
// simple polygon. Groups of cells dissolve exactly by dropping their
// internal edges, because those edges are the same polyline on both sides.
//
// Coordinates are planar metres.
package tess

import (
	"errors"
	"fmt"
	"math"

	"nbhd/cmd/nbhd-synth/internal/delaunay"
)

// Point is a planar position in metres.
type Point = delaunay.Point

// Band is how far, as a share of the way to each site, a jagged edge may
// stray from the straight Voronoi edge. Points placed inside a cell keep
// clear of it (see Place).
const Band = 0.42

// Params shape the jagged edges.
type Params struct {
	Seed uint64
	// Spacing gives the target distance between vertices of the edge
	// between two cells (ghost is true when one side is not land), from
	// the straight-edged area of the land cell(s) in square metres and a
	// random draw r in [0,1).
	Spacing func(area float64, ghost bool, r float64) float64
	// Rough is the displacement of a midpoint as a share of its segment.
	Rough float64
}

// Arc is the shared boundary between two cells: a polyline from the
// Voronoi vertex From to the Voronoi vertex To (triangle ids).
type Arc struct {
	From, To    int
	Left, Right int // sites left and right of From->To
	Pts         []Point
}

// Side is an arc as one cell traverses it.
type Side struct {
	Arc int32
	Rev bool
}

// Mesh is the tessellation of the land seeds.
type Mesh struct {
	Sites []Point
	NLand int
	Cells [][]Side // per land site, counter-clockwise
	Arcs  []Arc
	// Fans are, per land site, the straight Voronoi vertices of its cell in
	// ring order, for placing points.
	Fans [][]Point
	// Area is each land cell's straight-edged area (m²).
	Area []float64
}

// Build triangulates sites (the first nLand are land, the rest ghosts) and
// builds the land cells with jagged shared edges.
func Build(sites []Point, nLand int, p Params) (*Mesh, error) {
	tr, err := delaunay.Triangulate(sites)
	if err != nil {
		return nil, err
	}
	if miss := tr.Missing(); len(miss) > 0 {
		return nil, fmt.Errorf("tess: %d seeds coincide with others (first %d)", len(miss), miss[0])
	}
	m := &Mesh{Sites: sites, NLand: nLand, Cells: make([][]Side, nLand), Fans: make([][]Point, nLand), Area: make([]float64, nLand)}
	inedge := make([]int, len(sites))
	for i := range inedge {
		inedge[i] = -1
	}
	for e := range tr.Triangles {
		end := tr.Triangles[delaunay.Next(e)]
		// Prefer a hull edge so walks around hull points start at one end.
		if inedge[end] == -1 || tr.Halfedges[e] == -1 {
			inedge[end] = e
		}
	}
	centre := make([]Point, len(tr.Triangles)/3)
	for t := range centre {
		centre[t] = tr.Circumcenter(t)
	}
	arcOf := make([]int32, len(tr.Triangles))
	for i := range arcOf {
		arcOf[i] = -1
	}
	// First pass: rings of straight edges, so edge spacing can use areas.
	rings := make([][]int, nLand) // incoming half-edges around each site
	for s := 0; s < nLand; s++ {
		start := inedge[s]
		if start == -1 {
			return nil, fmt.Errorf("tess: land seed %d is in no triangle", s)
		}
		e := start
		for {
			rings[s] = append(rings[s], e)
			out := delaunay.Next(e)
			e = tr.Halfedges[out]
			if e == -1 {
				return nil, fmt.Errorf("tess: land seed %d lies on the hull: surround the land with ghost seeds", s)
			}
			if e == start {
				break
			}
		}
		fan := make([]Point, len(rings[s]))
		for k, e := range rings[s] {
			fan[k] = centre[e/3]
		}
		a := signedArea(fan)
		if a < 0 {
			reverse(fan)
		}
		m.Fans[s], m.Area[s] = fan, math.Abs(a)
	}
	pcg := newRand(p.Seed)
	for s := 0; s < nLand; s++ {
		ring := rings[s]
		sides := make([]Side, len(ring))
		for k, e := range ring {
			h := delaunay.Next(e) // from s to the neighbour, shared by tri(e) and tri(next incoming)
			twin := tr.Halfedges[h]
			canon := min(h, twin)
			if arcOf[canon] == -1 {
				a, err := m.newArc(tr, centre, canon, p, pcg)
				if err != nil {
					return nil, err
				}
				arcOf[canon] = int32(len(m.Arcs))
				m.Arcs = append(m.Arcs, a)
			}
			// The ring walks tri(e) -> tri(twin); the arc runs
			// tri(canon) -> tri(other).
			sides[k] = Side{Arc: arcOf[canon], Rev: canon != h}
		}
		if m.ringArea(sides) < 0 {
			reverse(sides)
			for k := range sides {
				sides[k].Rev = !sides[k].Rev
			}
		}
		m.Cells[s] = sides
	}
	return m, nil
}

func (m *Mesh) newArc(tr *delaunay.Triangulation, centre []Point, h int, p Params, pcg *rng) (Arc, error) {
	twin := tr.Halfedges[h]
	if twin == -1 {
		return Arc{}, errors.New("tess: a land cell reaches the hull")
	}
	a := Arc{From: h / 3, To: twin / 3}
	s0, s1 := tr.Triangles[h], tr.Triangles[delaunay.Next(h)]
	A, B := centre[a.From], centre[a.To]
	// Which site is left of A->B decides the band's sides.
	if cross(A, B, m.Sites[s0]) > 0 {
		a.Left, a.Right = s0, s1
	} else {
		a.Left, a.Right = s1, s0
	}
	area, ghost := 0.0, false
	for _, s := range []int{s0, s1} {
		if s < m.NLand {
			area = math.Max(area, m.Area[s])
		} else {
			ghost = true
		}
	}
	lo, hi := min(s0, s1), max(s0, s1)
	pcg.seed(p.Seed, uint64(lo)<<32|uint64(hi))
	spacing := p.Spacing(area, ghost, pcg.float())
	a.Pts = jag(A, B, m.Sites[a.Left], m.Sites[a.Right], spacing, p.Rough, pcg)
	return a, nil
}

// ringArea is the signed area of a cell's jagged ring (positive: CCW).
func (m *Mesh) ringArea(sides []Side) float64 {
	var sum float64
	for _, sd := range sides {
		pts := m.Arcs[sd.Arc].Pts
		for i := 0; i+1 < len(pts); i++ {
			sum += pts[i].X*pts[i+1].Y - pts[i+1].X*pts[i].Y
		}
		if sd.Rev {
			// Traversed backwards: each term changes sign.
			for i := 0; i+1 < len(pts); i++ {
				sum -= 2 * (pts[i].X*pts[i+1].Y - pts[i+1].X*pts[i].Y)
			}
		}
	}
	return sum / 2
}

// Ring returns a land cell's closed ring, counter-clockwise.
func (m *Mesh) Ring(cell int) []Point {
	return m.appendSides(nil, m.Cells[cell])
}

func (m *Mesh) appendSides(out []Point, sides []Side) []Point {
	for _, sd := range sides {
		pts := m.Arcs[sd.Arc].Pts
		n := len(pts)
		for i := 0; i < n-1; i++ { // the last point starts the next arc
			if sd.Rev {
				out = append(out, pts[n-1-i])
			} else {
				out = append(out, pts[i])
			}
		}
	}
	if len(out) > 0 {
		out = append(out, out[0])
	}
	return out
}

func signedArea(ring []Point) float64 {
	var sum float64
	for i := range ring {
		j := (i + 1) % len(ring)
		sum += ring[i].X*ring[j].Y - ring[j].X*ring[i].Y
	}
	return sum / 2
}

func cross(a, b, c Point) float64 { return (b.X-a.X)*(c.Y-a.Y) - (b.Y-a.Y)*(c.X-a.X) }

func reverse[T any](s []T) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}
