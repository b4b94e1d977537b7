package tess

import "math"

// jag replaces the straight edge a->b between sites left and right by a
// polyline from a to b whose vertices lie within the band (Band of the way
// towards each site's fan triangle). The band is convex (it is bounded by
// two tent-shaped functions of the position along the edge), so the
// straight segments between vertices stay in it too.
func jag(a, b, left, right Point, spacing, rough float64, r *rng) []Point {
	dx, dy := b.X-a.X, b.Y-a.Y
	l := math.Hypot(dx, dy)
	if l == 0 || spacing <= 0 || l < spacing {
		return []Point{a, b}
	}
	ux, uy := dx/l, dy/l
	nx, ny := -uy, ux // left normal
	tent := func(s Point) (d, st float64) {
		sx, sy := s.X-a.X, s.Y-a.Y
		return math.Abs(sx*nx + sy*ny), (sx*ux + sy*uy) / l
	}
	dl, tl := tent(left)
	dr, tr := tent(right)
	limit := func(d, st, t float64) float64 {
		h := math.Inf(1)
		if st > 0 {
			h = d * t / st
		}
		if st < 1 {
			h = math.Min(h, d*(1-t)/(1-st))
		}
		return Band * math.Min(h, d)
	}
	// Vertices in (t, h) coordinates, built by recursive midpoint
	// displacement down to the spacing.
	ts := []float64{0}
	hs := []float64{0}
	var split func(t0, h0, t1, h1 float64)
	split = func(t0, h0, t1, h1 float64) {
		seg := (t1 - t0) * l
		if seg < spacing {
			ts = append(ts, t1)
			hs = append(hs, h1)
			return
		}
		tm := t0 + (t1-t0)*(0.5+0.3*(r.float()-0.5))
		hm := h0 + (h1-h0)*(tm-t0)/(t1-t0) + (2*r.float()-1)*rough*seg
		hm = math.Max(-limit(dr, tr, tm), math.Min(limit(dl, tl, tm), hm))
		split(t0, h0, tm, hm)
		split(tm, hm, t1, h1)
	}
	split(0, 0, 1, 0)
	pts := make([]Point, len(ts))
	for i := range ts {
		pts[i] = Point{X: a.X + ts[i]*dx + hs[i]*nx, Y: a.Y + ts[i]*dy + hs[i]*ny}
	}
	pts[0], pts[len(pts)-1] = a, b // exactly the shared Voronoi vertices
	return pts
}

// rng is a small PCG-style generator that can be reseeded without
// allocating, so each edge draws from its own stream (keyed by its two
// sites) and the result does not depend on the order edges are built in.
type rng struct{ state, inc uint64 }

func newRand(seed uint64) *rng {
	r := &rng{}
	r.seed(seed, 0)
	return r
}

func (r *rng) seed(a, b uint64) {
	r.state = 0
	r.inc = (b << 1) | 1
	r.next()
	r.state += a ^ 0x9e3779b97f4a7c15
	r.next()
}

func (r *rng) next() uint32 {
	old := r.state
	r.state = old*6364136223846793005 + r.inc
	xs := uint32(((old >> 18) ^ old) >> 27)
	rot := uint32(old >> 59)
	return (xs >> rot) | (xs << ((-rot) & 31))
}

// float is uniform in [0, 1).
func (r *rng) float() float64 {
	v := uint64(r.next())<<21 ^ uint64(r.next())
	return float64(v&(1<<53-1)) / (1 << 53)
}
