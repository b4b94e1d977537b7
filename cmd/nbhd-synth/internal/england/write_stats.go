package england

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"nbhd/cmd/nbhd-synth/internal/formats"
	"nbhd/cmd/nbhd-synth/internal/geog"
	"nbhd/cmd/nbhd-synth/internal/imd"
)

const (
	fileIMD2019 = "deprivation/File_2_-_IoD2019_Domains_of_Deprivation.csv"
	fileIMD2025 = "deprivation/File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv"
	filePop     = "population/sapelsoasyoa2022_mid2022_lsoa21.csv"
)

// deprivationBase is each place's underlying deprivation: a smooth random
// surface plus more deprivation where people live densely.
func (m *model) deprivationBase(r *rand.Rand) func(at geog.Point, density float64) float64 {
	lo, hi := m.g.Mesh.Sites[0], m.g.Mesh.Sites[0]
	for _, s := range m.g.Mesh.Sites[:m.g.Mesh.NLand] {
		lo.X, lo.Y = math.Min(lo.X, s.X), math.Min(lo.Y, s.Y)
		hi.X, hi.Y = math.Max(hi.X, s.X), math.Max(hi.Y, s.Y)
	}
	field := imd.NewField(r, lo, hi, 300)
	return func(at geog.Point, density float64) float64 {
		return field.At(at) + 0.25*math.Log(density)
	}
}

// headerFile2 is File 2's header: the LSOA and district columns, then rank
// and decile per domain.
func headerFile2() []string {
	h := []string{"LSOA code (2011)", "LSOA name (2011)", "Local Authority District code (2019)", "Local Authority District name (2019)"}
	for _, d := range imd.Domains {
		h = append(h, d+" Rank (where 1 is most deprived)", d+" Decile (where 1 is most deprived 10% of LSOAs)")
	}
	return h
}

// headerFile7 is IoD2025 File 7's header as far as nbhd reads it: the
// 2021 LSOA and 2024 district columns, then score, rank and decile per
// domain, and the population denominators.
func headerFile7() []string {
	h := []string{"LSOA code (2021)", "LSOA name (2021)", "Local Authority District code (2024)", "Local Authority District name (2024)"}
	for i, d := range imd.Domains {
		score := d + " Score"
		if i == 1 || i == 2 {
			score += " (rate)"
		}
		h = append(h, score, d+" Rank (where 1 is most deprived)", d+" Decile (where 1 is most deprived 10% of LSOAs)")
	}
	return append(h, "Total population: mid 2022", "Dependent Children aged 0-15: mid 2022",
		"Population aged 16-59: mid 2022", "Older population aged 60 and over: mid 2022",
		"Working age population 18-66 (for use with Employment Deprivation Domain): mid 2022")
}

func (m *model) writeDeprivation(d *formats.Dir) error {
	g := m.g
	r := rand.New(rand.NewPCG(m.opt.Seed, 110))
	base := m.deprivationBase(r)
	dens := func(c int) float64 { return 1 / math.Max(g.Mesh.Area[c], 1) }
	// 2019, on the 2011 LSOAs.
	b11 := make([]float64, len(m.units))
	for i, u := range m.units {
		b11[i] = base(u.at, dens(u.children[0]))
	}
	s11 := imd.Score(r, b11)
	f, err := d.Create(fileIMD2019)
	if err != nil {
		return err
	}
	w := formats.NewCSV(f, headerFile2()...)
	for i, u := range m.units {
		la := g.LADs[g.LSOAs[u.children[0]].LAD]
		row := []string{u.code, u.name, la.Code, la.Name}
		for dm := 0; dm < 8; dm++ {
			row = append(row, strconv.Itoa(s11[i].Rank[dm]), strconv.Itoa(s11[i].Decile[dm]))
		}
		w.Row(row...)
	}
	if err := w.Close(); err != nil {
		return err
	}
	// 2025, on the 2021 LSOAs directly.
	order := m.lsoaCodeOrder()
	b21 := make([]float64, len(order))
	for i, c := range order {
		b21[i] = base(g.Mesh.Sites[c], dens(c)) + 0.15*r.NormFloat64()
	}
	s21 := imd.Score(r, b21)
	f, err = d.Create(fileIMD2025)
	if err != nil {
		return err
	}
	w = formats.NewCSV(f, headerFile7()...)
	for i, c := range order {
		l := g.LSOAs[c]
		la := g.LADs[l.LAD]
		row := []string{l.Code, l.Name, la.Code, la.Name}
		for dm := 0; dm < 8; dm++ {
			row = append(row, strconv.FormatFloat(imd.Published(dm, s21[i].Score[dm]), 'f', 3, 64),
				strconv.Itoa(s21[i].Rank[dm]), strconv.Itoa(s21[i].Decile[dm]))
		}
		kids := l.Pop * 19 / 100
		old := l.Pop * 24 / 100
		row = append(row, strconv.Itoa(l.Pop), strconv.Itoa(kids), strconv.Itoa(l.Pop-kids-old), strconv.Itoa(old), strconv.Itoa(l.Pop*62/100))
		w.Row(row...)
	}
	return w.Close()
}

// ageShare is a rough English age profile: the share of people aged a.
func ageShare(a int) float64 {
	switch {
	case a < 18:
		return 0.0118
	case a < 65:
		return 0.0128
	case a < 90:
		return 0.0128 * (1 - float64(a-65)/30)
	}
	return 0.008
}

// writePopulation writes ONS's small area population estimates (mid-2022,
// LSOA 2021) as a CSV of its workbook's sheet: district, LSOA, total, then
// single years of age for females and males, which add up to the total.
func (m *model) writePopulation(d *formats.Dir) error {
	g := m.g
	r := rand.New(rand.NewPCG(m.opt.Seed, 111))
	f, err := d.Create(filePop)
	if err != nil {
		return err
	}
	h := []string{"LAD 2021 Code", "LAD 2021 Name", "LSOA 2021 Code", "LSOA 2021 Name", "Total"}
	for _, s := range []string{"F", "M"} {
		for a := 0; a <= 90; a++ {
			h = append(h, fmt.Sprintf("%s%d", s, a))
		}
	}
	w := formats.NewCSV(f, h...)
	var shares [182]float64
	var total float64
	for i := range shares {
		shares[i] = ageShare(i % 91)
		total += shares[i]
	}
	for _, c := range m.lsoaCodeOrder() {
		l := g.LSOAs[c]
		la := g.LADs[l.LAD]
		// Largest-remainder split of the total over sex and age.
		counts := make([]int, 182)
		left := l.Pop
		var fr [182]float64
		for i := range counts {
			x := float64(l.Pop) * shares[i] / total * (0.8 + 0.4*r.Float64())
			counts[i] = int(x)
			fr[i] = x - float64(counts[i])
			left -= counts[i]
		}
		for left > 0 {
			best := 0
			for i := range fr {
				if fr[i] > fr[best] {
					best = i
				}
			}
			counts[best]++
			fr[best] = -1
			left--
		}
		for left < 0 {
			i := r.IntN(182)
			if counts[i] > 0 {
				counts[i]--
				left++
			}
		}
		row := []string{la.Code, la.Name, l.Code, l.Name, strconv.Itoa(l.Pop)}
		for _, n := range counts {
			row = append(row, strconv.Itoa(n))
		}
		w.Row(row...)
	}
	return w.Close()
}
