package tess

import (
	"math"
	"math/rand/v2"
	"testing"
)

// testMesh is a square of land seeds of varying density inside a ring of
// ghost seeds.
func testMesh(t *testing.T, n int, seed uint64) *Mesh {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 2))
	var sites []Point
	for len(sites) < n {
		// Denser towards the middle, like a town.
		x, y := r.NormFloat64()*2000+5000, r.NormFloat64()*2000+5000
		if x < 0 || x > 10000 || y < 0 || y > 10000 {
			continue
		}
		sites = append(sites, Point{X: x, Y: y})
	}
	for i := 0; i < 40; i++ {
		a := float64(i) / 40 * 2 * math.Pi
		sites = append(sites, Point{X: 5000 + 9000*math.Cos(a), Y: 5000 + 9000*math.Sin(a)})
	}
	m, err := Build(sites, n, Params{Seed: seed, Rough: 0.35, Spacing: func(area float64, ghost bool, r float64) float64 {
		return (20 + 0.05*math.Sqrt(area)) * (0.5 + r)
	}})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func segmentsCross(a, b, c, d Point) bool {
	d1, d2 := cross(c, d, a), cross(c, d, b)
	d3, d4 := cross(a, b, c), cross(a, b, d)
	return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))
}

// simple reports whether a closed ring has no two non-adjacent segments
// that touch or cross.
func simple(ring []Point) bool {
	n := len(ring) - 1
	for i := 0; i < n; i++ {
		for j := i + 2; j < n; j++ {
			if i == 0 && j == n-1 {
				continue
			}
			if segmentsCross(ring[i], ring[i+1], ring[j], ring[j+1]) || ring[i] == ring[j] {
				return false
			}
		}
	}
	return true
}

func TestCellsAreSimplePartition(t *testing.T) {
	m := testMesh(t, 300, 1)
	var sum float64
	for c := 0; c < m.NLand; c++ {
		ring := m.Ring(c)
		if !simple(ring) {
			t.Fatalf("cell %d's ring is not simple", c)
		}
		a := signedArea(ring[:len(ring)-1])
		if a <= 0 {
			t.Fatalf("cell %d: area %f, want a positive (counter-clockwise) ring", c, a)
		}
		sum += a
	}
	all := make([]int, m.NLand)
	for i := range all {
		all[i] = i
	}
	union, err := m.Dissolve(all)
	if err != nil {
		t.Fatal(err)
	}
	if len(union) != 1 || len(union[0]) != 1 {
		t.Fatalf("union of all cells: %d polygons, want one without holes", len(union))
	}
	if u := Area(union); math.Abs(u-sum) > 1e-6*sum {
		t.Fatalf("cells' areas sum to %f, their union is %f: not a partition", sum, u)
	}
	// Every arc between two land cells is used once by each, in opposite
	// directions.
	uses := map[int32][]bool{}
	for c := 0; c < m.NLand; c++ {
		for _, sd := range m.Cells[c] {
			uses[sd.Arc] = append(uses[sd.Arc], sd.Rev)
		}
	}
	for a, u := range uses {
		arc := m.Arcs[a]
		land := arc.Left < m.NLand && arc.Right < m.NLand
		if land && (len(u) != 2 || u[0] == u[1]) {
			t.Fatalf("arc %d between land cells used %v", a, u)
		}
	}
}

func TestDissolveGroupsWithHoles(t *testing.T) {
	m := testMesh(t, 300, 2)
	// The cells within 1.5 km of the centre and a ring around them.
	var inner, ring []int
	for c := 0; c < m.NLand; c++ {
		d := math.Hypot(m.Sites[c].X-5000, m.Sites[c].Y-5000)
		switch {
		case d < 1500:
			inner = append(inner, c)
		case d < 3000:
			ring = append(ring, c)
		}
	}
	for _, g := range [][]int{inner, ring} {
		polys, err := m.Dissolve(g)
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		for _, c := range g {
			r := m.Ring(c)
			sum += signedArea(r[:len(r)-1])
		}
		if u := Area(polys); math.Abs(u-sum) > 1e-6*sum {
			t.Fatalf("group of %d: union area %f, cells sum %f", len(g), u, sum)
		}
	}
	polys, _ := m.Dissolve(ring)
	holes := 0
	for _, p := range polys {
		holes += len(p) - 1
	}
	if holes == 0 {
		t.Fatal("a ring of cells around the centre dissolved without a hole")
	}
}

func TestPlaceStaysInside(t *testing.T) {
	m := testMesh(t, 300, 3)
	r := rand.New(rand.NewPCG(4, 4))
	for c := 0; c < m.NLand; c++ {
		ring := m.Ring(c)
		for k := 0; k < 20; k++ {
			p := m.Place(c, 5, r.Float64(), r.Float64(), r.Float64())
			if !containsPoint(ring, p) {
				t.Fatalf("point %v placed in cell %d lies outside it", p, c)
			}
		}
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	a, b := testMesh(t, 200, 5), testMesh(t, 200, 5)
	for c := 0; c < a.NLand; c++ {
		ra, rb := a.Ring(c), b.Ring(c)
		if len(ra) != len(rb) {
			t.Fatalf("cell %d: %d vs %d vertices", c, len(ra), len(rb))
		}
		for i := range ra {
			if ra[i] != rb[i] {
				t.Fatalf("cell %d differs at vertex %d", c, i)
			}
		}
	}
}

// TestArcsNeverCross checks every pair of jagged edges: they may meet only
// at their shared Voronoi vertices, which is what makes the cells a
// partition rather than a set of overlapping polygons.
func TestArcsNeverCross(t *testing.T) {
	m := testMesh(t, 300, 6)
	type seg struct {
		a, b Point
		arc  int
	}
	var segs []seg
	vertices := 0
	for i, a := range m.Arcs {
		vertices += len(a.Pts) - 1
		for k := 0; k+1 < len(a.Pts); k++ {
			segs = append(segs, seg{a.Pts[k], a.Pts[k+1], i})
		}
	}
	if vertices < 3*len(m.Arcs) {
		t.Fatalf("%d vertices on %d arcs: the edges are hardly jagged", vertices, len(m.Arcs))
	}
	for i := range segs {
		for j := i + 1; j < len(segs); j++ {
			if segmentsCross(segs[i].a, segs[i].b, segs[j].a, segs[j].b) {
				t.Fatalf("arcs %d and %d cross", segs[i].arc, segs[j].arc)
			}
		}
	}
}
