package borough

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"nbhd/cmd/nbhd-synth/internal/formats"
	"nbhd/cmd/nbhd-synth/internal/geog"
	"nbhd/cmd/nbhd-synth/internal/imd"
	"nbhd/cmd/nbhd-synth/internal/points"
)

// The Wigan sample's file names.
const (
	fileLAD       = "boundaries/local_authority_2023_generalised.geojson"
	fileLSOA      = "boundaries/lsoa_2021_generalised.geojson"
	fileMSOA      = "boundaries/msoa_2021_generalised.geojson"
	fileWard      = "boundaries/ward_2022_generalised.geojson"
	fileWardLU    = "lookups/lsoa21_to_ward22_bestfit.csv"
	fileOALU      = "lookups/oa21_lsoa21_msoa21_lad22.csv"
	fileFile2     = "deprivation/IoD2019_File2_domains_ranks_deciles.csv"
	fileFile6     = "deprivation/IoD2019_File6_population_denominators.csv"
	fileTidy      = "deprivation/imd2019_lsoa11_tidy.csv"
	filePop       = "population/lsoa11_population_mid2017.csv"
	filePostcodes = "postcodes/codepoint_open_postcodes.csv"
	fileGP        = "health/gp_practices.csv"
	fileGPList    = "health/gp_registered_patients_2026-04_subset.csv"
	filePharmacy  = "health/pharmacies.geojson"
	fileSchools   = "education/school_sites_osopenmaplocal_2018_points.geojson"
	fileFoodBanks = "community/food_banks.geojson"
	fileParks     = "community/green_flag_parks.geojson"
	fileLibraries = "community/libraries.geojson"
	fileWorship   = "community/places_of_worship_osopenmaplocal.geojson"
	filePostOff   = "community/post_offices_osopenmaplocal.geojson"
)

func (m *model) ladProps() []formats.Prop {
	return []formats.Prop{{K: "lad_code", V: m.opt.LAD}, {K: "lad_name", V: m.opt.Name}}
}

func (m *model) writeBoundaries(d *formats.Dir, verts map[string][]float64) error {
	g := m.g
	write := func(file string, each func(fw *formats.Features) error) error {
		f, err := d.Create(file)
		if err != nil {
			return err
		}
		fw := formats.NewFeatures(f)
		if err := each(fw); err != nil {
			return err
		}
		return fw.Close()
	}
	all, err := g.UnionPolygons(g.Order)
	if err != nil {
		return err
	}
	label := g.LonLat(g.Mesh.Sites[g.Order[0]])
	if err := write(fileLAD, func(fw *formats.Features) error {
		fw.MultiPolygon([]formats.Prop{{K: "area_code", V: m.opt.LAD}, {K: "area_name", V: m.opt.Name},
			{K: "lon", V: label[0], Dec: 5}, {K: "lat", V: label[1], Dec: 5},
			{K: "area", V: m.area * 1e6, Dec: 3}, {K: "area_units", V: "Square metres"}}, all)
		return nil
	}); err != nil {
		return err
	}
	if err := write(fileLSOA, func(fw *formats.Features) error {
		for _, c := range g.Order {
			l := g.LSOAs[c]
			props := []formats.Prop{{K: "area_code", V: l.Code}, {K: "area_name", V: l.Name}}
			if m.opt.LSOALADColumns {
				props = append(props, m.ladProps()...)
			}
			poly := g.CellPolygon(c)
			verts["lsoa"] = append(verts["lsoa"], float64(geog.Vertices(poly)))
			fw.MultiPolygon(props, poly)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := write(fileMSOA, func(fw *formats.Features) error {
		for _, a := range g.MSOAs {
			poly, err := g.UnionPolygons(a.Cells)
			if err != nil {
				return err
			}
			verts["msoa"] = append(verts["msoa"], float64(geog.Vertices(poly)))
			fw.MultiPolygon(append([]formats.Prop{{K: "area_code", V: a.Code}, {K: "area_name", V: a.Name}}, m.ladProps()...), poly)
		}
		return nil
	}); err != nil {
		return err
	}
	return write(fileWard, func(fw *formats.Features) error {
		for _, a := range g.Wards {
			poly, err := g.UnionPolygons(a.Cells)
			if err != nil {
				return err
			}
			verts["ward"] = append(verts["ward"], float64(geog.Vertices(poly)))
			at := g.LonLat(g.Mesh.Sites[a.Cells[0]])
			fw.MultiPolygon(append([]formats.Prop{{K: "area_code", V: a.Code}, {K: "area_name", V: a.Name},
				{K: "lat", V: at[1], Dec: 5}, {K: "lon", V: at[0], Dec: 5}}, m.ladProps()...), poly)
		}
		return nil
	})
}

func (m *model) csv(d *formats.Dir, file string, header ...string) (*formats.CSV, error) {
	f, err := d.Create(file)
	if err != nil {
		return nil, err
	}
	return formats.NewCSV(f, header...), nil
}

func (m *model) writeTables(d *formats.Dir) error {
	g, o := m.g, m.opt
	ward, err := m.csv(d, fileWardLU, "lsoa21cd", "lsoa21nm", "wd22cd", "wd22nm", "lad22cd", "lad22nm")
	if err != nil {
		return err
	}
	oa, err := m.csv(d, fileOALU, "oa21cd", "lsoa21cd", "lsoa21nm", "msoa21cd", "msoa21nm", "lad22cd", "lad22nm")
	if err != nil {
		return err
	}
	pop, err := m.csv(d, filePop, "area_code", "all_ages_mid2017")
	if err != nil {
		return err
	}
	total := 0
	for _, c := range g.Order {
		total += g.LSOAs[c].Pop
	}
	pop.Row(o.LAD, strconv.Itoa(total))
	for _, c := range g.Order {
		l := g.LSOAs[c]
		w, ms := g.Wards[l.Ward], g.MSOAs[l.MSOA]
		ward.Row(l.Code, l.Name, w.Code, w.Name, o.LAD, o.Name)
		for k := 0; k < l.OAs; k++ {
			oa.Row(fmt.Sprintf("E00%06d", l.FirstOA+k), l.Code, l.Name, ms.Code, ms.Name, o.LAD, o.Name)
		}
		pop.Row(l.Code, strconv.Itoa(l.Pop))
	}
	// Deprivation on national ranks: a metropolitan borough with more than
	// its share of deprived areas.
	r := rand.New(rand.NewPCG(o.Seed, 210))
	base := make([]float64, len(g.Order))
	for i, c := range g.Order {
		s := g.Mesh.Sites[c]
		base[i] = -math.Hypot(s.X, s.Y) / 4000
	}
	sc := imd.Score(r, base)
	const n = 32844
	rank := func(i, dm int) int {
		// Spread the borough's ranks over 1..32,844, skewed to deprived.
		q := (float64(sc[i].Rank[dm]) - 0.5) / float64(len(g.Order))
		return max(1, min(n, int(math.Pow(q, 1.4)*n)))
	}
	f2h := []string{"LSOA code (2011)", "LSOA name (2011)", "Local Authority District code (2019)", "Local Authority District name (2019)"}
	f6h := append(append([]string(nil), f2h...), "Total population: mid 2015 (excluding prisoners)", "Dependent Children aged 0-15: mid 2015 (excluding prisoners)",
		"Population aged 16-59: mid 2015 (excluding prisoners)", "Older population aged 60 and over: mid 2015 (excluding prisoners)",
		"Working age population 18-59/64: for use with Employment Deprivation Domain (excluding prisoners)")
	th := []string{"lsoa11cd", "lsoa11nm", "lad19cd", "lad19nm"}
	for _, dm := range imd.Domains {
		f2h = append(f2h, dm+" Rank (where 1 is most deprived)", dm+" Decile (where 1 is most deprived 10% of LSOAs)")
	}
	for _, k := range []string{"imd", "income", "employment", "education", "health", "crime", "barriers", "living_env"} {
		th = append(th, k+"_rank", k+"_decile")
	}
	th = append(th, "pop_total_mid2015", "pop_0_15_mid2015", "pop_16_59_mid2015", "pop_60plus_mid2015", "pop_working_age_mid2015")
	f2, err := m.csv(d, fileFile2, f2h...)
	if err != nil {
		return err
	}
	f6, err := m.csv(d, fileFile6, f6h...)
	if err != nil {
		return err
	}
	tidy, err := m.csv(d, fileTidy, th...)
	if err != nil {
		return err
	}
	for i, c := range g.Order {
		l := g.LSOAs[c]
		row := []string{l.Code, l.Name, o.LAD, o.Name}
		var ranks []string
		for dm := 0; dm < 8; dm++ {
			rk := rank(i, dm)
			ranks = append(ranks, strconv.Itoa(rk), strconv.Itoa((rk-1)*10/n+1))
		}
		p := l.Pop * 95 / 100
		kids, old := p*19/100, p*24/100
		dens := []int{p, kids, p - kids - old, old, p * 60 / 100}
		var quoted, plain []string
		for _, v := range dens {
			quoted = append(quoted, thousands(v))
			plain = append(plain, strconv.Itoa(v))
		}
		f2.Row(append(append([]string(nil), row...), ranks...)...)
		f6.Row(append(append([]string(nil), row...), quoted...)...)
		tidy.Row(append(append(append([]string(nil), row...), ranks...), plain...)...)
	}
	for _, c := range []*formats.CSV{ward, oa, pop, f2, f6, tidy} {
		if err := c.Close(); err != nil {
			return err
		}
	}
	return nil
}

// thousands writes 1438 as "1,438", as File 6 does.
func thousands(v int) string {
	s := strconv.Itoa(v)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func (m *model) writePostcodes(d *formats.Dir, book *points.Book) (int, error) {
	g := m.g
	w, err := m.csv(d, filePostcodes, "postcode", "positional_quality", "easting", "northing", "lon", "lat", "admin_district_code", "admin_ward_code")
	if err != nil {
		return 0, err
	}
	placed := 0
	for _, pc := range book.All {
		e, n, lon, lat := strconv.Itoa(pc.E), strconv.Itoa(pc.N), f6(pc.LonLat[0]), f6(pc.LonLat[1])
		if pc.Quality == 90 {
			e, n, lon, lat = "0", "0", "", ""
		} else {
			placed++
		}
		w.Row(pc.Code, strconv.Itoa(pc.Quality), e, n, lon, lat, m.opt.LAD, g.Wards[g.LSOAs[pc.Cell].Ward].Code)
	}
	return placed, w.Close()
}

func f6(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }
