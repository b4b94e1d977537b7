// Package points places postcodes and other points (GP practices, schools,
// community assets) inside synthetic small areas: every point lies inside
// its small area, clear of the boundary, so whichever file layout carries
// it (lon/lat or British National Grid) puts it in the same small area.
package points

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"nbhd/cmd/nbhd-synth/internal/bng"
	"nbhd/cmd/nbhd-synth/internal/formats"
	"nbhd/cmd/nbhd-synth/internal/geog"
	"nbhd/cmd/nbhd-synth/internal/world"
)

// Place is a point inside a small area, in the forms files need.
type Place struct {
	Cell   int
	LonLat formats.LonLat
	E, N   int // British National Grid, whole metres
}

// At places a point in cell c.
func At(g *geog.Geo, r *rand.Rand, c int) Place {
	p := g.PlaceIn(c, r.Float64(), r.Float64(), r.Float64())
	lon, lat := g.Plane.Inverse(p)
	e, n := bng.FromLonLat(lon, lat)
	return Place{Cell: c, LonLat: g.LonLat(p), E: int(math.Round(e)), N: int(math.Round(n))}
}

// Postcode is one postcode unit.
type Postcode struct {
	Code    string // "WN1 1AA"
	Area    string // "WN"
	Quality int    // Code-Point positional quality; 90 has no coordinates
	Place
}

// Compact is the 7-character form Code-Point Open prints ("B1  1AA",
// "WN1 1AA", "WN121AA").
func (p Postcode) Compact() string {
	out, in := p.Code[:len(p.Code)-4], p.Code[len(p.Code)-3:]
	for len(out) < 4 {
		out += " "
	}
	return out + in
}

// Book holds the postcodes and, per small area, those that have
// coordinates (what practices and assets are placed at).
type Book struct {
	All    []Postcode
	ByCell map[int][]int32
}

// AreaGroup is a postcode area: its letters and its small areas.
type AreaGroup struct {
	Prefix        string
	Cells         []int
	FirstDistrict int
}

// unitLetters are the letters Royal Mail uses in the inward code's unit.
const unitLetters = "ABDEFGHJLNPQRSTUWXYZ"

// Share divides total postcodes among cells in proportion to population
// (at least one each), by largest remainder.
func Share(g *geog.Geo, cells []int, total int) map[int]int {
	var pop float64
	for _, c := range cells {
		pop += float64(g.LSOAs[c].Pop)
	}
	out := make(map[int]int, len(cells))
	type rem struct {
		c int
		f float64
	}
	var rems []rem
	left := total
	for _, c := range cells {
		x := float64(total) * float64(g.LSOAs[c].Pop) / pop
		n := max(1, int(x))
		out[c] = n
		left -= n
		rems = append(rems, rem{c, x - math.Floor(x)})
	}
	sort.SliceStable(rems, func(i, j int) bool { return rems[i].f > rems[j].f })
	for i := 0; left > 0 && len(rems) > 0; i = (i + 1) % len(rems) {
		out[rems[i].c]++
		left--
	}
	return out
}

// MakeBook invents postcodes: each area's small areas are grouped into
// districts of about a dozen (WN1, WN2 ...), filled sector by sector (WN1
// 1, WN1 2 ...) with up to 250 units each (WN1 1AA, WN1 1AB ...). A few
// postcodes have no coordinates (quality 90), as in Code-Point Open.
func MakeBook(g *geog.Geo, r *rand.Rand, areas []AreaGroup, perCell map[int]int) (*Book, error) {
	b := &Book{ByCell: map[int][]int32{}}
	for _, a := range areas {
		districts := world.Bisect(r, a.Cells, g.Mesh.Sites, max(1, (len(a.Cells)+11)/12), 0.3)
		district := a.FirstDistrict
		for _, d := range districts {
			sector, unit := 1, 0
			for _, c := range d {
				for k := 0; k < perCell[c]; k++ {
					if unit == 250 {
						sector, unit = sector+1, 0
					}
					if sector == 10 {
						district, sector = district+1, 1
					}
					code := fmt.Sprintf("%s%d %d%c%c", a.Prefix, district, sector, unitLetters[unit/20], unitLetters[unit%20])
					unit++
					pc := Postcode{Code: code, Area: a.Prefix, Quality: quality(r)}
					if k == 0 && pc.Quality == 90 {
						pc.Quality = 10 // every small area keeps a placeable postcode
					}
					pc.Place = At(g, r, c)
					if pc.Quality != 90 {
						b.ByCell[c] = append(b.ByCell[c], int32(len(b.All)))
					}
					b.All = append(b.All, pc)
				}
			}
			district++
		}
	}
	for _, a := range areas {
		for _, c := range a.Cells {
			if len(b.ByCell[c]) == 0 {
				return nil, fmt.Errorf("points: small area %s has no postcode with coordinates", g.LSOAs[c].Code)
			}
		}
	}
	return b, nil
}

func quality(r *rand.Rand) int {
	switch u := r.Float64(); {
	case u < 0.0005:
		return 90
	case u < 0.02:
		return 20
	case u < 0.03:
		return 30
	case u < 0.05:
		return 40
	case u < 0.08:
		return 50
	case u < 0.10:
		return 60
	}
	return 10
}

// Picker draws small areas in proportion to their population.
type Picker struct {
	cells []int
	cum   []float64
}

// NewPicker weighs cells by population.
func NewPicker(g *geog.Geo, cells []int) *Picker {
	p := &Picker{cells: cells}
	var s float64
	for _, c := range cells {
		s += float64(g.LSOAs[c].Pop)
		p.cum = append(p.cum, s)
	}
	return p
}

// Pick returns a cell.
func (p *Picker) Pick(r *rand.Rand) int {
	u := r.Float64() * p.cum[len(p.cum)-1]
	return p.cells[sort.SearchFloat64s(p.cum, u)]
}

// Postcode returns a postcode with coordinates in cell c.
func (b *Book) Postcode(r *rand.Rand, c int) Postcode {
	pcs := b.ByCell[c]
	return b.All[pcs[r.IntN(len(pcs))]]
}
