package tess

import (
	"fmt"
	"sort"
)

// Polygon is an outer ring (counter-clockwise) and its holes (clockwise),
// each closed.
type Polygon [][]Point

// Dissolve returns the union of the given land cells as polygons. Edges
// between two member cells are dropped; what is left is chained into rings
// at the Voronoi vertices. A Voronoi vertex joins three cells, so a group's
// boundary passes through it at most once and the chaining is never
// ambiguous.
func (m *Mesh) Dissolve(cells []int) ([]Polygon, error) {
	in := make(map[int]bool, len(cells))
	for _, c := range cells {
		in[c] = true
	}
	type piece struct {
		side Side
		from int
		used bool
	}
	var pieces []piece
	byStart := map[int]int{}
	for _, c := range cells {
		for _, sd := range m.Cells[c] {
			a := m.Arcs[sd.Arc]
			other := a.Left
			if other == c {
				other = a.Right
			}
			if in[other] {
				continue
			}
			from := a.From
			if sd.Rev {
				from = a.To
			}
			if _, dup := byStart[from]; dup {
				return nil, fmt.Errorf("tess: two boundary edges leave vertex %d", from)
			}
			byStart[from] = len(pieces)
			pieces = append(pieces, piece{side: sd, from: from})
		}
	}
	var shells []Polygon
	var holes [][]Point
	for i := range pieces {
		if pieces[i].used {
			continue
		}
		var sides []Side
		k := i
		for !pieces[k].used {
			pieces[k].used = true
			sides = append(sides, pieces[k].side)
			a := m.Arcs[pieces[k].side.Arc]
			to := a.To
			if pieces[k].side.Rev {
				to = a.From
			}
			next, ok := byStart[to]
			if !ok {
				return nil, fmt.Errorf("tess: the boundary is open at vertex %d", to)
			}
			k = next
		}
		ring := m.appendSides(nil, sides)
		if signedArea(ring) > 0 {
			shells = append(shells, Polygon{ring})
		} else {
			holes = append(holes, ring)
		}
	}
	for _, h := range holes {
		// The smallest outer ring around the hole holds it (an island of
		// the group inside its own hole is a shell of its own).
		best := -1
		for i := range shells {
			if containsPoint(shells[i][0], h[0]) && (best < 0 || signedArea(shells[i][0]) < signedArea(shells[best][0])) {
				best = i
			}
		}
		if best < 0 {
			return nil, fmt.Errorf("tess: a hole lies in no outer ring")
		}
		shells[best] = append(shells[best], h)
	}
	// Largest first, so output does not depend on the cells' order.
	sort.SliceStable(shells, func(i, j int) bool { return signedArea(shells[i][0]) > signedArea(shells[j][0]) })
	return shells, nil
}

// containsPoint is the even-odd rule for a closed ring.
func containsPoint(ring []Point, p Point) bool {
	in := false
	for i, j := 0, len(ring)-1; i < len(ring); j, i = i, i+1 {
		a, b := ring[i], ring[j]
		if (a.Y > p.Y) != (b.Y > p.Y) && p.X < (b.X-a.X)*(p.Y-a.Y)/(b.Y-a.Y)+a.X {
			in = !in
		}
	}
	return in
}

// Area is the area of polygons (outer rings less holes).
func Area(polys []Polygon) float64 {
	var a float64
	for _, p := range polys {
		for _, r := range p {
			a += signedArea(r[:len(r)-1])
		}
	}
	return a
}

// Place returns a point inside land cell c at least margin metres (where
// the cell allows) from its jagged boundary, from two uniform draws and a
// third to pick the fan triangle by area.
func (m *Mesh) Place(c int, margin float64, u1, u2, u3 float64) Point {
	s := m.Sites[c]
	fan := m.Fans[c]
	n := len(fan)
	type tri struct {
		a, b     Point
		area, cm float64
	}
	tris := make([]tri, 0, n)
	var total float64
	for k := 0; k < n; k++ {
		a, b := fan[k], fan[(k+1)%n]
		d := distToLine(s, a, b)
		cm := min(0.5, 1-Band-0.02-margin/max(d, 1e-9))
		if cm <= 0.05 {
			continue
		}
		ar := abs(cross(s, a, b)) / 2 * cm * cm
		tris = append(tris, tri{a, b, ar, cm})
		total += ar
	}
	if len(tris) == 0 {
		return s
	}
	pick := u3 * total
	t := tris[len(tris)-1]
	for _, x := range tris {
		if pick < x.area {
			t = x
			break
		}
		pick -= x.area
	}
	if u1+u2 > 1 {
		u1, u2 = 1-u1, 1-u2
	}
	u1, u2 = u1*t.cm, u2*t.cm
	return Point{X: s.X + u1*(t.a.X-s.X) + u2*(t.b.X-s.X), Y: s.Y + u1*(t.a.Y-s.Y) + u2*(t.b.Y-s.Y)}
}

func distToLine(p, a, b Point) float64 {
	dx, dy := b.X-a.X, b.Y-a.Y
	l := dx*dx + dy*dy
	if l == 0 {
		return 0
	}
	return abs(cross(a, b, p)) / sqrt(l)
}
