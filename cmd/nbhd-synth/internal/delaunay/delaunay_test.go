package delaunay

import (
	"math/rand/v2"
	"testing"
)

func randomPoints(n int, seed uint64) []Point {
	r := rand.New(rand.NewPCG(seed, 1))
	pts := make([]Point, n)
	for i := range pts {
		pts[i] = Point{400000 + r.Float64()*500000, 100000 + r.Float64()*600000}
	}
	return pts
}

func cross(a, b, c Point) float64 { return (b.X-a.X)*(c.Y-a.Y) - (b.Y-a.Y)*(c.X-a.X) }

// check verifies the triangulation's structure and, when brute, the empty
// circumcircle property against every point.
func check(t *testing.T, pts []Point, brute bool) {
	t.Helper()
	tr, err := Triangulate(pts)
	if err != nil {
		t.Fatal(err)
	}
	if m := tr.Missing(); len(m) > 0 {
		t.Fatalf("%d points left out, e.g. %d", len(m), m[0])
	}
	nt := len(tr.Triangles) / 3
	if want := 2*len(pts) - 2 - len(tr.Hull); nt != want {
		t.Fatalf("%d triangles, want 2n-2-h = %d", nt, want)
	}
	for e, o := range tr.Halfedges {
		if o == -1 {
			continue
		}
		if tr.Halfedges[o] != e {
			t.Fatalf("halfedge %d -> %d is not symmetric", e, o)
		}
		if tr.Triangles[e] != tr.Triangles[Next(o)] || tr.Triangles[Next(e)] != tr.Triangles[o] {
			t.Fatalf("halfedge %d and its twin %d do not join the same points", e, o)
		}
	}
	for i := 0; i < nt; i++ {
		a, b, c := pts[tr.Triangles[3*i]], pts[tr.Triangles[3*i+1]], pts[tr.Triangles[3*i+2]]
		if cross(a, b, c) >= 0 {
			t.Fatalf("triangle %d is not clockwise", i)
		}
		if !brute {
			continue
		}
		cc := tr.Circumcenter(i)
		r2 := (a.X-cc.X)*(a.X-cc.X) + (a.Y-cc.Y)*(a.Y-cc.Y)
		for j, p := range pts {
			if j == tr.Triangles[3*i] || j == tr.Triangles[3*i+1] || j == tr.Triangles[3*i+2] {
				continue
			}
			if d := (p.X-cc.X)*(p.X-cc.X) + (p.Y-cc.Y)*(p.Y-cc.Y); d < r2*(1-1e-9) {
				t.Fatalf("point %d lies inside triangle %d's circumcircle", j, i)
			}
		}
	}
}

func TestTriangulateIsDelaunay(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		check(t, randomPoints(400, seed), true)
	}
}

func TestTriangulateGridAndLarge(t *testing.T) {
	// A jittered grid has many near-cocircular quadruples.
	r := rand.New(rand.NewPCG(9, 9))
	var grid []Point
	for i := 0; i < 60; i++ {
		for j := 0; j < 60; j++ {
			grid = append(grid, Point{float64(i)*1000 + r.Float64()*1e-3, float64(j)*1000 + r.Float64()*1e-3})
		}
	}
	check(t, grid, false)
	check(t, randomPoints(50000, 7), false)
}

func TestTriangulateDeterministic(t *testing.T) {
	pts := randomPoints(2000, 3)
	a, _ := Triangulate(pts)
	b, _ := Triangulate(pts)
	for i := range a.Triangles {
		if a.Triangles[i] != b.Triangles[i] {
			t.Fatal("two runs differ")
		}
	}
}

func TestTriangulateDegenerate(t *testing.T) {
	if _, err := Triangulate([]Point{{0, 0}, {1, 1}, {2, 2}}); err == nil {
		t.Fatal("collinear points: want an error")
	}
}
