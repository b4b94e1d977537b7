// Package geog builds a synthetic census geography: LSOA-like small areas
// (the cells of a tessellation), grouped into MSOA-like areas and wards
// within local authority districts within regions, with populations, output
// areas and codes. England and a single borough are both built with it.
package geog

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"nbhd/cmd/nbhd-synth/internal/tess"
	"nbhd/cmd/nbhd-synth/internal/world"
)

// Point is a planar position in metres.
type Point = tess.Point

// Area is a group of small areas: an MSOA, ward, LAD or region.
type Area struct {
	Code, Name string
	Cells      []int // small areas (mesh cells), in code order
	Parent     int   // the LAD of an MSOA or ward, the region of a LAD
}

// LSOA is one small area.
type LSOA struct {
	Code, Name      string
	MSOA, Ward, LAD int
	Pop             int
	OAs             int // number of output areas
	FirstOA         int // number of its first output area (codes run on)
}

// Region says how to build one region.
type Region struct {
	Code, Name string
	LADs       int
}

// Spec is what Build needs.
type Spec struct {
	Seed    uint64
	Plane   world.Plane
	Density *world.Density
	LSOAs   int
	Regions []Region
	// RegionOf places a land seed in a region (index into Regions).
	RegionOf func(p Point) int
	// PerMSOA and PerWard are the mean number of small areas in each.
	PerMSOA, PerWard float64
	// LADJitter varies LAD sizes (share of a split, ±).
	LADJitter float64
	// Spacing of jagged-edge vertices (see tess.Params).
	Spacing func(area float64, ghost bool, r float64) float64
}

// Geo is a built geography. LSOAs are indexed by mesh cell; Order lists the
// cells in code order.
type Geo struct {
	Plane   world.Plane
	Mesh    *tess.Mesh
	LSOAs   []LSOA
	Order   []int
	MSOAs   []Area
	Wards   []Area
	LADs    []Area
	Regions []Area
}

// stream gives each stage its own random source, so a change in one stage
// does not move the draws of another.
func stream(seed uint64, stage uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stage*0x9e3779b97f4a7c15+1))
}

// Build samples seeds, tessellates and groups them. Names and codes are
// left empty for the caller.
func Build(s Spec) (*Geo, error) {
	land := world.Seeds(stream(s.Seed, 1), s.Density, s.LSOAs)
	ghosts := world.Ghosts(stream(s.Seed, 2), s.Density, land)
	sites := append(append([]Point(nil), land...), ghosts...)
	mesh, err := tess.Build(sites, len(land), tess.Params{Seed: s.Seed ^ 0x5eed, Rough: 0.3, Spacing: s.Spacing})
	if err != nil {
		return nil, err
	}
	g := &Geo{Plane: s.Plane, Mesh: mesh, LSOAs: make([]LSOA, len(land))}
	pos := land

	// Regions, then LADs within each by bisection.
	byRegion := make([][]int, len(s.Regions))
	for c, p := range pos {
		byRegion[s.RegionOf(p)] = append(byRegion[s.RegionOf(p)], c)
	}
	r := stream(s.Seed, 3)
	for ri, reg := range s.Regions {
		if len(byRegion[ri]) == 0 {
			return nil, fmt.Errorf("geog: region %s has no small areas (scale too small?)", reg.Name)
		}
		g.Regions = append(g.Regions, Area{Code: reg.Code, Name: reg.Name, Parent: -1})
		for _, cells := range world.Bisect(r, byRegion[ri], pos, reg.LADs, s.LADJitter) {
			lad := len(g.LADs)
			g.LADs = append(g.LADs, Area{Parent: ri, Cells: cells})
			g.Regions[ri].Cells = append(g.Regions[ri].Cells, cells...)
			for _, c := range cells {
				g.LSOAs[c].LAD = lad
			}
		}
	}
	// MSOAs and wards within each LAD, numbered north to south as ONS
	// numbers MSOAs.
	rm, rw := stream(s.Seed, 4), stream(s.Seed, 5)
	for li := range g.LADs {
		cells := g.LADs[li].Cells
		msoas := world.Bisect(rm, cells, pos, max(1, int(math.Round(float64(len(cells))/s.PerMSOA))), 0.25)
		sortNorthToSouth(msoas, pos)
		var ordered []int
		for _, m := range msoas {
			sortCellsNorthToSouth(m, pos)
			idx := len(g.MSOAs)
			g.MSOAs = append(g.MSOAs, Area{Parent: li, Cells: m})
			for _, c := range m {
				g.LSOAs[c].MSOA = idx
			}
			ordered = append(ordered, m...)
		}
		g.LADs[li].Cells = ordered
		g.Order = append(g.Order, ordered...)
		wards := world.Bisect(rw, cells, pos, max(1, int(math.Round(float64(len(cells))/s.PerWard))), 0.35)
		sortNorthToSouth(wards, pos)
		for _, w := range wards {
			sortCellsNorthToSouth(w, pos)
			idx := len(g.Wards)
			g.Wards = append(g.Wards, Area{Parent: li, Cells: w})
			for _, c := range w {
				g.LSOAs[c].Ward = idx
			}
		}
	}
	// Populations of 1,000 to 3,000 (mean about 1,690, as England's
	// 57 million in 33,755 LSOAs), and 4 to 6 output areas each.
	rp := stream(s.Seed, 6)
	oa := 1
	for _, c := range g.Order {
		u := rp.Float64()
		g.LSOAs[c].Pop = 1000 + int(2000*math.Pow(u, 1.9))
		g.LSOAs[c].OAs = 4 + rp.IntN(3)
		if rp.IntN(12) == 0 {
			g.LSOAs[c].OAs++
		}
		g.LSOAs[c].FirstOA = oa
		oa += g.LSOAs[c].OAs
	}
	return g, nil
}

func centroid(cells []int, pos []Point) Point {
	var x, y float64
	for _, c := range cells {
		x += pos[c].X
		y += pos[c].Y
	}
	return Point{X: x / float64(len(cells)), Y: y / float64(len(cells))}
}

func sortNorthToSouth(groups [][]int, pos []Point) {
	sort.SliceStable(groups, func(i, j int) bool {
		a, b := centroid(groups[i], pos), centroid(groups[j], pos)
		if a.Y != b.Y {
			return a.Y > b.Y
		}
		return a.X < b.X
	})
}

func sortCellsNorthToSouth(cells []int, pos []Point) {
	sort.SliceStable(cells, func(i, j int) bool {
		a, b := pos[cells[i]], pos[cells[j]]
		if a.Y != b.Y {
			return a.Y > b.Y
		}
		return a.X < b.X
	})
}

// NameSmallAreas gives MSOAs and LSOAs their ONS-style names from their
// LAD's name: "Wigan 026" and "Wigan 026A", numbered within the LAD.
func (g *Geo) NameSmallAreas() {
	num := make([]int, len(g.LADs))
	for mi := range g.MSOAs {
		m := &g.MSOAs[mi]
		num[m.Parent]++
		m.Name = fmt.Sprintf("%s %03d", g.LADs[m.Parent].Name, num[m.Parent])
		for k, c := range m.Cells {
			g.LSOAs[c].Name = m.Name + letters(k)
		}
	}
}

// letters is A..Z, then AA, AB...
func letters(k int) string {
	if k < 26 {
		return string(rune('A' + k))
	}
	return letters(k/26-1) + letters(k%26)
}
