package england

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"

	"nbhd/cmd/nbhd-synth/internal/formats"
	"nbhd/cmd/nbhd-synth/internal/points"
	"nbhd/cmd/nbhd-synth/internal/world"
)

// postcodeAreas are England's postcode areas (the letters before the
// district number).
var postcodeAreas = strings.Fields(`AL B BA BB BD BH BL BN BR BS CA CB CH CM CO CR CT CV CW DA DE DH DL DN DT DY
	E EC EN EX FY GL GU HA HD HG HP HR HU HX IG IP KT L LA LE LN LS LU M ME MK N NE NG NN NR NW OL OX
	PE PL PO PR RG RH RM S SE SG SK SL SM SN SO SP SR SS ST SW TA TF TN TQ TR TS TW UB W WA WC WD WF
	WN WR WS WV YO`)

const (
	fileEpraccur  = "health/epraccur.csv"
	fileListSizes = "health/gp-reg-pat-prac-all.csv"
	fileGIAS      = "education/edubasealldata20260401.csv"
)

func codepointFile(area string) string {
	return "postcodes/codepo_gb/Data/CSV/" + strings.ToLower(area) + ".csv"
}

// makePostcodes groups the small areas into postcode areas (compact blocks
// of the country, one per area code) and invents their postcodes.
func (m *model) makePostcodes() (*points.Book, error) {
	g := m.g
	r := rand.New(rand.NewPCG(m.opt.Seed, 120))
	k := max(2, min(len(postcodeAreas), int(math.Round(float64(len(postcodeAreas))*math.Sqrt(m.opt.Scale)))))
	groups := world.Bisect(r, g.Order, g.Mesh.Sites, k, 0.3)
	codes := append([]string(nil), postcodeAreas...)
	r.Shuffle(len(codes), func(i, j int) { codes[i], codes[j] = codes[j], codes[i] })
	areas := make([]points.AreaGroup, len(groups))
	for i, cells := range groups {
		areas[i] = points.AreaGroup{Prefix: codes[i], Cells: cells, FirstDistrict: 1}
	}
	sort.SliceStable(areas, func(i, j int) bool { return areas[i].Prefix < areas[j].Prefix })
	total := m.opt.Postcodes
	if total <= 0 {
		total = int(math.Round(1.7e6 * m.opt.Scale))
	}
	return points.MakeBook(g, r, areas, points.Share(g, g.Order, total))
}

// writeCodePoint writes one headerless Code-Point Open file per postcode
// area and returns, per file, the postcodes that have coordinates.
func (m *model) writeCodePoint(d *formats.Dir, book *points.Book) (map[string]int, []string, error) {
	g := m.g
	files := map[string]*formats.Quoted{}
	placed := map[string]int{}
	var order []string
	for _, pc := range book.All {
		q, ok := files[pc.Area]
		if !ok {
			f, err := d.Create(codepointFile(pc.Area))
			if err != nil {
				return nil, nil, err
			}
			q = formats.NewQuoted(f)
			files[pc.Area] = q
			order = append(order, pc.Area)
		}
		l := g.LSOAs[pc.Cell]
		la := g.LADs[l.LAD]
		e, n := strconv.Itoa(pc.E), strconv.Itoa(pc.N)
		if pc.Quality == 90 {
			e, n = "0", "0"
		} else {
			placed[pc.Area]++
		}
		reg := la.Parent + 1
		q.Row(formats.T(pc.Compact()), formats.N(strconv.Itoa(pc.Quality)), formats.N(e), formats.N(n),
			formats.T("E92000001"), formats.T(fmt.Sprintf("E19%06d", reg)), formats.T(fmt.Sprintf("E18%06d", reg)),
			formats.T(m.lads[l.LAD].county), formats.T(la.Code), formats.T(g.Wards[l.Ward].Code))
	}
	sort.Strings(order)
	for _, a := range order {
		if err := files[a].Close(); err != nil {
			return nil, nil, err
		}
	}
	return placed, order, nil
}

var (
	streets   = strings.Fields("High Church Station Mill Victoria Park London Green Manor Queens New King School Chapel Market Bridge Albert Castle")
	streetEnd = []string{"Street", "Road", "Lane", "Avenue", "Way", "Close"}
	surnames  = strings.Fields("Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Robinson Wright Thompson Evans Walker White Roberts Green Hall Wood Khan Clarke Ahmed Hughes")
)

func street(r *rand.Rand) string {
	return streets[r.IntN(len(streets))] + " " + streetEnd[r.IntN(len(streetEnd))]
}

// writeGP writes NHS ODS epraccur.csv (headerless, 27 fields) with active,
// closed and non-GP organisations, and the list sizes of the active
// practices. It returns the number of active GP practices.
func (m *model) writeGP(d *formats.Dir, book *points.Book) (int, error) {
	g := m.g
	r := rand.New(rand.NewPCG(m.opt.Seed, 130))
	pick := points.NewPicker(g, g.Order)
	f, err := d.Create(fileEpraccur)
	if err != nil {
		return 0, err
	}
	ep := formats.NewQuoted(f)
	f, err = d.Create(fileListSizes)
	if err != nil {
		return 0, err
	}
	ls := formats.NewCSV(f, "PUBLICATION", "EXTRACT_DATE", "TYPE", "CODE", "POSTCODE", "SEX", "AGE", "NUMBER_OF_PATIENTS")
	active := int(math.Round(7000 * m.opt.Scale))
	total := active + active*12/100 + active*4/100
	next := map[byte]int{}
	actives := 0
	for i := 0; i < total; i++ {
		c := pick.Pick(r)
		l := g.LSOAs[c]
		ch := m.lads[l.LAD].practiceCh
		next[ch]++
		code := fmt.Sprintf("%c%05d", ch, 81000+next[ch])
		pc := book.Postcode(r, c)
		place := g.Wards[l.Ward].Name
		name := []string{place + " Medical Centre", place + " Surgery", "The " + place + " Practice",
			"Dr " + surnames[r.IntN(len(surnames))] + " & Partners", place + " Health Centre"}[r.IntN(5)]
		status, setting, closeDate := "A", "4", ""
		switch {
		case i >= active+active*12/100:
			setting = []string{"0", "1", "2", "8", "9"}[r.IntN(5)]
		case i >= active:
			status, closeDate = "C", "20200331"
		}
		fields := make([]formats.Field, 27)
		for k := range fields {
			fields[k] = formats.T("")
		}
		set := func(k int, v string) { fields[k] = formats.T(v) }
		set(0, code)
		set(1, strings.ToUpper(name))
		set(2, "Y6"+strconv.Itoa(1+l.LAD%9))
		set(3, "Q"+strings.ToUpper(strconv.FormatInt(int64(100+l.LAD%900), 36)))
		set(4, strings.ToUpper(strconv.Itoa(1+r.IntN(200))+" "+street(r)))
		set(5, strings.ToUpper(place))
		set(6, strings.ToUpper(g.LADs[l.LAD].Name))
		set(9, pc.Code)
		set(10, "19740401")
		set(11, closeDate)
		set(12, status)
		set(13, "B")
		set(14, fmt.Sprintf("%02dX", 1+l.LAD%99))
		set(15, "20130401")
		set(17, fmt.Sprintf("0%d %06d", 1000+r.IntN(9000), r.IntN(1000000)))
		set(21, "0")
		set(23, "Q"+strconv.Itoa(10+l.LAD%90))
		set(25, setting)
		ep.Row(fields...)
		if status == "A" && setting == "4" {
			actives++
			size := int(math.Max(1000, math.Min(80000, 9000*math.Exp(0.55*r.NormFloat64()))))
			ls.Row("GP_PRAC_PAT_LIST", "01APR2026", "GP", code, pc.Code, "ALL", "ALL", strconv.Itoa(size))
		}
	}
	if err := ep.Close(); err != nil {
		return 0, err
	}
	return actives, ls.Close()
}

// school phases with their share, establishment types, and pupil ranges.
var phases = []struct {
	phase, kind, suffix string
	share               float64
	pupils              [2]int
}{
	{"Primary", "Community school", "Primary School", 0.42, [2]int{40, 700}},
	{"Primary", "Academy converter", "Primary Academy", 0.2, [2]int{60, 700}},
	{"Primary", "Voluntary aided school", "Catholic Primary School", 0.08, [2]int{60, 450}},
	{"Secondary", "Academy converter", "Academy", 0.1, [2]int{400, 2000}},
	{"Secondary", "Community school", "High School", 0.04, [2]int{400, 1600}},
	{"Not applicable", "Other independent school", "School", 0.07, [2]int{20, 900}},
	{"Not applicable", "Community special school", "Special School", 0.04, [2]int{20, 250}},
	{"Nursery", "Local authority nursery school", "Nursery School", 0.02, [2]int{20, 150}},
	{"16 plus", "Further education", "Sixth Form College", 0.02, [2]int{200, 2500}},
	{"All-through", "Free schools", "All-Through School", 0.01, [2]int{500, 1800}},
}

// writeGIAS writes DfE GIAS edubasealldata as published: Windows-1252,
// Easting/Northing, open and closed establishments. It returns how many
// are not closed (what the importer keeps).
func (m *model) writeGIAS(d *formats.Dir, book *points.Book) (int, error) {
	g := m.g
	r := rand.New(rand.NewPCG(m.opt.Seed, 140))
	pick := points.NewPicker(g, g.Order)
	f, err := d.Create(fileGIAS)
	if err != nil {
		return 0, err
	}
	enc := formats.Windows1252(f)
	w := formats.NewCSV(enc, giasHeader...)
	col := map[string]int{}
	for i, h := range giasHeader {
		col[h] = i
	}
	open := int(math.Round(24000 * m.opt.Scale))
	total := open + open/5
	kept := 0
	for i := 0; i < total; i++ {
		c := pick.Pick(r)
		l := g.LSOAs[c]
		lad := g.LADs[l.LAD]
		u := r.Float64()
		ph := phases[len(phases)-1]
		for _, p := range phases {
			if u < p.share {
				ph = p
				break
			}
			u -= p.share
		}
		place := g.Wards[l.Ward].Name
		name := place + " " + ph.suffix
		if ph.kind == "Voluntary aided school" {
			name = []string{"St Mary’s", "St Joseph’s", "Our Lady’s", "St John’s"}[r.IntN(4)] + " " + ph.suffix + ", " + place
		}
		status := "Open"
		switch {
		case i >= open:
			status = "Closed"
		case r.IntN(100) == 0:
			status = "Open, but proposed to close"
		case r.IntN(200) == 0:
			status = "Proposed to open"
		}
		pupils := ph.pupils[0] + r.IntN(ph.pupils[1]-ph.pupils[0])
		pc := book.Postcode(r, c)
		at := points.At(g, r, c)
		row := make([]string, len(giasHeader))
		set := func(k, v string) { row[col[k]] = v }
		set("URN", strconv.Itoa(100000+i))
		set("LA (code)", strconv.Itoa(m.lads[l.LAD].dfe))
		set("LA (name)", lad.Name)
		set("EstablishmentNumber", strconv.Itoa(2000+r.IntN(5000)))
		set("EstablishmentName", name)
		set("TypeOfEstablishment (name)", ph.kind)
		set("EstablishmentStatus (name)", status)
		set("PhaseOfEducation (name)", ph.phase)
		set("SchoolCapacity", strconv.Itoa(pupils*(100+r.IntN(30))/100))
		set("NumberOfPupils", strconv.Itoa(pupils))
		if r.IntN(30) == 0 {
			set("PercentageFSM", "SUPP")
		} else {
			set("PercentageFSM", strconv.FormatFloat(float64(r.IntN(600))/10, 'f', 1, 64))
		}
		set("Street", street(r))
		set("Town", place)
		set("Postcode", pc.Code)
		set("GOR (name)", g.Regions[lad.Parent].Name)
		set("DistrictAdministrative (code)", lad.Code)
		set("DistrictAdministrative (name)", lad.Name)
		set("AdministrativeWard (code)", g.Wards[l.Ward].Code)
		set("AdministrativeWard (name)", g.Wards[l.Ward].Name)
		if r.IntN(200) != 0 { // a few have no grid reference: placed at their postcode
			set("Easting", strconv.Itoa(at.E))
			set("Northing", strconv.Itoa(at.N))
		}
		w.Row(row...)
		if status != "Closed" {
			kept++
		}
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	return kept, enc.Close()
}

// assetFiles are the community asset lists: file, dataset key, category,
// and share of the 100,000 assets.
var assetFiles = []struct {
	file, key, category, noun string
	share                     float64
}{
	{"community/places_of_worship.csv", "places-of-worship", "place_of_worship", "Church", 0.40},
	{"community/sports_clubs.csv", "sports-clubs", "sports_club", "Sports Club", 0.24},
	{"community/community_centres.csv", "community-centres", "community_centre", "Community Centre", 0.18},
	{"community/pharmacies.csv", "pharmacies", "pharmacy", "Pharmacy", 0.11},
	{"community/libraries.csv", "libraries", "library", "Library", 0.035},
	{"community/food_banks.csv", "food-banks", "food_bank", "Food Bank", 0.035},
}

// writeAssets writes one assets-csv file per category; a tenth of the rows
// have only a postcode (placed there on import). It returns rows per file.
func (m *model) writeAssets(d *formats.Dir, book *points.Book) ([]int, error) {
	g := m.g
	r := rand.New(rand.NewPCG(m.opt.Seed, 150))
	pick := points.NewPicker(g, g.Order)
	var rows []int
	for fi, af := range assetFiles {
		f, err := d.Create(af.file)
		if err != nil {
			return nil, err
		}
		w := formats.NewCSV(f, "id", "name", "category", "address", "postcode", "lon", "lat", "phone", "email", "website", "opening_hours")
		n := int(math.Round(100000 * m.opt.Scale * af.share))
		for i := 0; i < n; i++ {
			c := pick.Pick(r)
			l := g.LSOAs[c]
			place := g.Wards[l.Ward].Name
			pc := book.Postcode(r, c)
			lon, lat := "", ""
			if r.IntN(10) != 0 {
				at := points.At(g, r, c)
				lon, lat = strconv.FormatFloat(at.LonLat[0], 'f', 6, 64), strconv.FormatFloat(at.LonLat[1], 'f', 6, 64)
			}
			name := fmt.Sprintf("%s %s", place, af.noun)
			if r.IntN(3) == 0 {
				name = fmt.Sprintf("%s %s %s", street(r), place, af.noun)
			}
			slug := strings.ToLower(strings.ReplaceAll(place, " ", ""))
			w.Row(fmt.Sprintf("%c%d", 'A'+fi, i+1), name, af.category, fmt.Sprintf("%d %s, %s", 1+r.IntN(300), street(r), place),
				pc.Code, lon, lat, fmt.Sprintf("0%d %06d", 1000+r.IntN(9000), r.IntN(1000000)),
				"info@"+slug+".example.org", "https://"+slug+".example.org", []string{"", "Mo-Fr 09:00-17:00", "Sa 10:00-12:00"}[r.IntN(3)])
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		rows = append(rows, n)
	}
	return rows, nil
}
