package england

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"nbhd/cmd/nbhd-synth/internal/geog"
	"nbhd/cmd/nbhd-synth/internal/world"
)

// Options size the data set.
type Options struct {
	Seed  uint64
	Scale float64 // 1 is England: 33,755 LSOAs
	// Postcodes is the number of postcodes (default 1.7 million × scale).
	Postcodes int
}

// lad is what England adds to a geog LAD: its type and county.
type lad struct {
	kind       string // E06, E07, E08, E09
	county     string // E10 code of a two-tier county, or ""
	dfe        int    // DfE three-digit LA code (GIAS)
	practiceCh byte   // first letter of its GP practice codes
}

// model is the generated geography and its England-specific labels.
type model struct {
	opt  Options
	g    *geog.Geo
	lads []lad
	// 2011 LSOAs and their 2021 children.
	units []unit
	r     *rand.Rand
}

// unit is a 2011 LSOA: its code, name, change type and 2021 children.
type unit struct {
	code, name string
	chg        string // U, S or M
	children   []int  // 2021 cells
	at         geog.Point
}

func build(opt Options) (*model, error) {
	plane := world.NewPlane(-1.5, 52.7)
	var land world.Outline
	for _, p := range outline {
		land = append(land, plane.Forward(p[0], p[1]))
	}
	r := rand.New(rand.NewPCG(opt.Seed, 100))
	var kernels []world.Kernel
	for _, c := range cities {
		kernels = append(kernels, world.Kernel{Name: c.name, At: plane.Forward(c.lon, c.lat), Pop: c.pop, SigmaM: c.sigmaKm * 1000, Anchored: true})
	}
	// Market towns spread over the country carry half the rural population.
	lo, hi := land.Bounds()
	for len(kernels) < len(cities)+160 {
		p := world.Point{X: lo.X + r.Float64()*(hi.X-lo.X), Y: lo.Y + r.Float64()*(hi.Y-lo.Y)}
		if !land.Contains(p) {
			continue
		}
		kernels = append(kernels, world.Kernel{At: p, Pop: ruralPop / 2 / 160 * (0.4 + 1.2*r.Float64()), SigmaM: 1500 + 2000*r.Float64()})
	}
	dens := world.NewDensity(land, kernels, ruralPop/2)
	n := int(math.Round(englandLSOAs * opt.Scale))
	if n < 60 {
		return nil, fmt.Errorf("--scale %g gives %d small areas: use at least 0.002", opt.Scale, n)
	}
	var regs []geog.Region
	var anchors []struct {
		p      world.Point
		region int
	}
	londonIdx := -1
	for i, rs := range regions {
		regs = append(regs, geog.Region{Code: rs.code, Name: rs.name, LADs: max(1, int(math.Round(float64(rs.lads)*opt.Scale)))})
		if rs.anchors == nil {
			londonIdx = i
		}
		for _, a := range rs.anchors {
			anchors = append(anchors, struct {
				p      world.Point
				region int
			}{plane.Forward(a[0], a[1]), i})
		}
	}
	londonAt := plane.Forward(london.lon, london.lat)
	regionOf := func(p world.Point) int {
		if math.Hypot(p.X-londonAt.X, p.Y-londonAt.Y) < london.km*1000 {
			return londonIdx
		}
		best, bd := 0, math.Inf(1)
		for _, a := range anchors {
			if d := math.Hypot(p.X-a.p.X, p.Y-a.p.Y); d < bd {
				best, bd = a.region, d
			}
		}
		return best
	}
	g, err := geog.Build(geog.Spec{
		Seed: opt.Seed, Plane: plane, Density: dens, LSOAs: n, Regions: regs, RegionOf: regionOf,
		PerMSOA: float64(englandLSOAs) / englandMSOAs, PerWard: 4.8, LADJitter: 0.35, Spacing: Spacing,
	})
	if err != nil {
		return nil, err
	}
	m := &model{opt: opt, g: g, r: rand.New(rand.NewPCG(opt.Seed, 101))}
	m.nameLADs(kernels)
	g.NameSmallAreas()
	m.codeAreas()
	m.derive2011()
	return m, nil
}

// Spacing is the distance between boundary vertices: ONS generalised
// boundaries have a vertex every few tens of metres in towns and every
// hundred or so in the country, more along coasts and rivers (the random
// draw gives some edges a much denser line, as a river would).
func Spacing(area float64, ghost bool, r float64) float64 {
	s := 1.35 * math.Max(22, math.Min(160, 18+0.045*math.Sqrt(area)))
	f := 0.6 + 0.8*r
	switch {
	case r < 0.03:
		f = 0.1
	case r < 0.1:
		f = 0.3
	}
	if ghost {
		f *= 0.5
	}
	return s * f
}

// nameLADs names districts after the cities at their heart, else with
// made-up place names, and gives them ONS-style type codes: London
// boroughs E09, metropolitan districts E08, unitary authorities E06 and
// two-tier districts E07 grouped into counties.
func (m *model) nameLADs(kernels []world.Kernel) {
	g := m.g
	names := world.NewNames(rand.New(rand.NewPCG(m.opt.Seed, 102)))
	m.lads = make([]lad, len(g.LADs))
	metro := map[string]bool{}
	for _, c := range cities {
		metro[c.name] = c.metro
	}
	named := map[int]string{}
	for _, k := range kernels {
		if !k.Anchored {
			continue
		}
		best, bd := -1, math.Inf(1)
		for c := range g.LSOAs {
			s := g.Mesh.Sites[c]
			if d := math.Hypot(s.X-k.At.X, s.Y-k.At.Y); d < bd {
				best, bd = c, d
			}
		}
		l := g.LSOAs[best].LAD
		if _, taken := named[l]; !taken && names.Reserve(k.Name) {
			named[l] = k.Name
		}
	}
	count := map[string]int{}
	counties := 0
	inCounty := 0
	for i := range g.LADs {
		l := &g.LADs[i]
		name, isCity := named[i]
		if !isCity {
			name = names.Next()
		}
		l.Name = name
		kind := "E07"
		switch {
		case g.Regions[l.Parent].Name == "London":
			kind = "E09"
		case isCity && metro[name]:
			kind = "E08"
		case isCity, m.r.IntN(5) == 0:
			kind = "E06"
		}
		count[kind]++
		l.Code = fmt.Sprintf("%s%06d", kind, count[kind])
		m.lads[i] = lad{kind: kind, dfe: 201 + i, practiceCh: "APBCMDFHL"[l.Parent%9]}
		if kind == "E07" {
			if inCounty == 0 || inCounty >= 7 || (i > 0 && g.LADs[i-1].Parent != l.Parent) {
				counties++
				inCounty = 0
			}
			inCounty++
			m.lads[i].county = fmt.Sprintf("E10%06d", counties)
		}
	}
}

// codeAreas gives MSOAs and wards their codes, and wards their names.
func (m *model) codeAreas() {
	g := m.g
	for i := range g.MSOAs {
		g.MSOAs[i].Code = fmt.Sprintf("E02%06d", i+1)
	}
	names := world.NewNames(rand.New(rand.NewPCG(m.opt.Seed, 103)))
	for _, l := range g.LADs {
		names.Reserve(l.Name)
	}
	for i := range g.Wards {
		g.Wards[i].Code = fmt.Sprintf("E05%06d", i+1)
		g.Wards[i].Name = names.Next()
	}
}

// derive2011 invents the 2011 LSOAs the 2021 ones came from, as ONS's
// lookup records them: most unchanged (U), about 1,000 split in two (S),
// about 89 made of two merged (M), so England has 32,844 2011 LSOAs for
// 33,755 2021 ones. Unchanged areas keep their code; new 2021 codes start
// after the 2011 range, as ONS's do.
func (m *model) derive2011() {
	g := m.g
	splits := int(math.Round(1000 * m.opt.Scale))
	merges := int(math.Round(89 * m.opt.Scale))
	// Candidate pairs: neighbours in code order within one MSOA.
	var pairs []int
	for i := 0; i+1 < len(g.Order); i++ {
		if g.LSOAs[g.Order[i]].MSOA == g.LSOAs[g.Order[i+1]].MSOA {
			pairs = append(pairs, i)
		}
	}
	m.r.Shuffle(len(pairs), func(i, j int) { pairs[i], pairs[j] = pairs[j], pairs[i] })
	split := map[int]bool{} // order index of the first of a split pair
	taken := map[int]bool{}
	for _, i := range pairs {
		if len(split) == splits {
			break
		}
		if taken[i] || taken[i+1] {
			continue
		}
		split[i], taken[i], taken[i+1] = true, true, true
	}
	merged := map[int]bool{}
	for _, i := range m.r.Perm(len(g.Order)) {
		if len(merged) == merges {
			break
		}
		if !taken[i] {
			merged[i], taken[i] = true, true
		}
	}
	fresh := 33768
	for i := 0; i < len(g.Order); i++ {
		c := g.Order[i]
		site := g.Mesh.Sites[c]
		switch {
		case split[i]:
			c2 := g.Order[i+1]
			s2 := g.Mesh.Sites[c2]
			m.units = append(m.units, unit{chg: "S", children: []int{c, c2}, name: g.LSOAs[c].Name,
				at: geog.Point{X: (site.X + s2.X) / 2, Y: (site.Y + s2.Y) / 2}})
			for _, ch := range []int{c, c2} {
				g.LSOAs[ch].Code = fmt.Sprintf("E01%06d", fresh)
				fresh++
			}
			i++
		case merged[i]:
			g.LSOAs[c].Code = fmt.Sprintf("E01%06d", fresh)
			fresh++
			for k := 0; k < 2; k++ {
				m.units = append(m.units, unit{chg: "M", children: []int{c}, name: fmt.Sprintf("%s%d", g.LSOAs[c].Name, k+1), at: site})
			}
		default:
			m.units = append(m.units, unit{chg: "U", children: []int{c}, name: g.LSOAs[c].Name, at: site})
		}
	}
	for i := range m.units {
		u := &m.units[i]
		u.code = fmt.Sprintf("E01%06d", i+1)
		if u.chg == "U" {
			g.LSOAs[u.children[0]].Code = u.code
		}
	}
}

// lsoaCodeOrder lists 2021 cells by code, as ONS files are sorted.
func (m *model) lsoaCodeOrder() []int {
	out := append([]int(nil), m.g.Order...)
	sort.SliceStable(out, func(i, j int) bool { return m.g.LSOAs[out[i]].Code < m.g.LSOAs[out[j]].Code })
	return out
}
