package world

import (
	"math/rand/v2"
	"testing"
)

func TestBisectPartitionsIntoKGroups(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	pos := make([]Point, 500)
	items := make([]int, len(pos))
	for i := range pos {
		pos[i] = Point{X: r.Float64() * 1000, Y: r.Float64() * 3000}
		items[i] = i
	}
	for _, k := range []int{1, 2, 7, 33, 500} {
		groups := Bisect(rand.New(rand.NewPCG(2, 2)), items, pos, k, 0.3)
		if len(groups) != k {
			t.Fatalf("k=%d: %d groups", k, len(groups))
		}
		seen := map[int]bool{}
		for _, g := range groups {
			if len(g) == 0 {
				t.Fatalf("k=%d: an empty group", k)
			}
			for _, i := range g {
				if seen[i] {
					t.Fatalf("k=%d: item %d in two groups", k, i)
				}
				seen[i] = true
			}
		}
		if len(seen) != len(items) {
			t.Fatalf("k=%d: %d of %d items placed", k, len(seen), len(items))
		}
	}
}

func TestNamesAreUnique(t *testing.T) {
	n := NewNames(rand.New(rand.NewPCG(3, 3)), "Wigan")
	seen := map[string]bool{"Wigan": true}
	for i := 0; i < 5000; i++ {
		s := n.Next()
		if seen[s] {
			t.Fatalf("%q twice", s)
		}
		seen[s] = true
	}
}

func TestOutline(t *testing.T) {
	o := Outline{{X: 0, Y: 0}, {X: 10, Y: 0}, {X: 10, Y: 10}, {X: 0, Y: 10}}
	if !o.Contains(Point{X: 5, Y: 5}) || o.Contains(Point{X: 15, Y: 5}) {
		t.Fatal("Contains is wrong")
	}
	if a := o.Area(); a != 100 {
		t.Fatalf("area %f", a)
	}
	if q := o.Nearest(Point{X: 5, Y: -3}); q != (Point{X: 5, Y: 0}) {
		t.Fatalf("nearest %v", q)
	}
}
