package world

import (
	"math"
	"math/rand/v2"
)

// grid is a spatial hash of points for minimum-distance checks.
type grid struct {
	size  float64
	cells map[[2]int32][]int32
	pts   []Point
}

func newGrid(size float64) *grid { return &grid{size: size, cells: map[[2]int32][]int32{}} }

func (g *grid) key(p Point) [2]int32 {
	return [2]int32{int32(math.Floor(p.X / g.size)), int32(math.Floor(p.Y / g.size))}
}

func (g *grid) add(p Point) {
	k := g.key(p)
	g.cells[k] = append(g.cells[k], int32(len(g.pts)))
	g.pts = append(g.pts, p)
}

// near reports whether a point lies within r of p.
func (g *grid) near(p Point, r float64) bool {
	k := g.key(p)
	span := int32(math.Ceil(r / g.size))
	for x := k[0] - span; x <= k[0]+span; x++ {
		for y := k[1] - span; y <= k[1]+span; y++ {
			for _, i := range g.cells[[2]int32{x, y}] {
				q := g.pts[i]
				if math.Hypot(q.X-p.X, q.Y-p.Y) < r {
					return true
				}
			}
		}
	}
	return false
}

// Spacing is the expected distance between seeds at p when n seeds share
// the density's population.
func (d *Density) Spacing(p Point, n int) float64 {
	return math.Sqrt(d.total / float64(n) / d.At(p))
}

// maxGap caps the minimum-distance check, so the rural search stays small.
const maxGap = 2500.0

// Seeds draws n land seeds from the density, none closer to another than
// a share of the local spacing, so cells have no slivers and no seed
// coincides with another.
func Seeds(r *rand.Rand, d *Density, n int) []Point {
	g := newGrid(400)
	for len(g.pts) < n {
		p := d.Sample(r)
		gap := math.Min(0.45*d.Spacing(p, n), maxGap)
		if g.near(p, gap) {
			continue
		}
		g.add(p)
	}
	return g.pts
}

// Ghosts bounds the land seeds: a mirror image across the outline of every
// seed near it (so cells end close to the coast, not kilometres out to
// sea), a coarse jittered grid over the sea, and a far frame so that no
// land cell is open.
func Ghosts(r *rand.Rand, d *Density, land []Point) []Point {
	n := len(land)
	lg := newGrid(400)
	for _, p := range land {
		lg.add(p)
	}
	gg := newGrid(400)
	for _, p := range land {
		sp := math.Min(d.Spacing(p, n), 4*maxGap)
		q := d.Land.Nearest(p)
		dist := math.Hypot(q.X-p.X, q.Y-p.Y)
		if dist > 1.2*sp {
			continue
		}
		m := Point{X: 2*q.X - p.X, Y: 2*q.Y - p.Y}
		if dist < 1 { // on the coast: push the image straight out
			m = Point{X: q.X + (q.X - p.X) + 1, Y: q.Y}
		}
		gap := math.Min(0.4*sp, maxGap)
		if d.Land.Contains(m) || lg.near(m, gap) || gg.near(m, gap) {
			continue
		}
		gg.add(m)
	}
	lo, hi := d.Land.Bounds()
	const step, pad = 8000.0, 40000.0
	for x := lo.X - pad; x <= hi.X+pad; x += step {
		for y := lo.Y - pad; y <= hi.Y+pad; y += step {
			p := Point{X: x + (r.Float64()-0.5)*step*0.6, Y: y + (r.Float64()-0.5)*step*0.6}
			if d.Land.Contains(p) || lg.near(p, 0.45*step) || gg.near(p, 0.3*step) {
				continue
			}
			gg.add(p)
		}
	}
	const frame = 200000.0
	for x := lo.X - frame; x <= hi.X+frame; x += frame / 2 {
		gg.add(Point{X: x, Y: lo.Y - frame})
		gg.add(Point{X: x + frame/4, Y: hi.Y + frame})
	}
	for y := lo.Y - frame/2; y <= hi.Y+frame/2; y += frame / 2 {
		gg.add(Point{X: lo.X - frame, Y: y})
		gg.add(Point{X: hi.X + frame, Y: y + frame/4})
	}
	return gg.pts
}
