package borough

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"nbhd/cmd/nbhd-synth/internal/formats"
	"nbhd/cmd/nbhd-synth/internal/points"
)

// counts of what the point files hold, for the manifest's expected rows.
type counts struct {
	practices, schools, pharmacies, foodBanks, parks, libraries, worship, postOffices int
}

func (m *model) features(d *formats.Dir, file string, each func(fw *formats.Features)) error {
	f, err := d.Create(file)
	if err != nil {
		return err
	}
	fw := formats.NewFeatures(f)
	each(fw)
	return fw.Close()
}

func guid(r *rand.Rand) string {
	return strings.ToUpper(fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint64()&0xffffffffffff))
}

// building is a small rectangle around a point (an OS OpenMap building).
func building(p formats.LonLat, r *rand.Rand) [][]formats.LonLat {
	w, h := (8+r.Float64()*12)/111320/math.Cos(p[1]*math.Pi/180), (6+r.Float64()*10)/110540
	c := func(x, y float64) formats.LonLat {
		return formats.LonLat{formats.Round6(p[0] + x), formats.Round6(p[1] + y)}
	}
	return [][]formats.LonLat{{c(-w, -h), c(w, -h), c(w, h), c(-w, h), c(-w, -h)}}
}

func (m *model) writePoints(d *formats.Dir, book *points.Book) (counts, error) {
	g, o := m.g, m.opt
	r := rand.New(rand.NewPCG(o.Seed, 220))
	pick := points.NewPicker(g, g.Order)
	var n counts
	place := func(c int) string { return g.Wards[g.LSOAs[c].Ward].Name }
	// GP practices in the sample's joined layout, and the list-size extract.
	gp, err := m.csv(d, fileGP, "practice_code", "practice_name", "address_1", "address_2", "address_3", "address_4", "address_5",
		"postcode", "open_date", "close_date", "status_code", "commissioner", "icb_code", "national_grouping", "telephone",
		"prescribing_setting", "registered_patients_2026_04", "registered_patients_2021_01", "list_postcode_2026_04",
		"easting", "northing", "lon", "lat", "postcode_positional_quality", "lsoa11cd", "lsoa21cd", "ward23cd")
	if err != nil {
		return n, err
	}
	list, err := m.csv(d, fileGPList, "EXTRACT_DATE", "SUB_ICB_LOCATION_CODE", "ONS_SUB_ICB_LOCATION_CODE", "CODE", "POSTCODE", "NUMBER_OF_PATIENTS")
	if err != nil {
		return n, err
	}
	practices := max(3, len(g.Order)*55/200)
	for i := 0; i < practices+practices/10; i++ {
		c := pick.Pick(r)
		pc := book.Postcode(r, c)
		l := g.LSOAs[c]
		status, closed := "A", ""
		if i >= practices {
			status, closed = "C", "20200331"
		}
		code := fmt.Sprintf("P82%03d", i+1)
		size := int(math.Max(1500, math.Min(30000, 7500*math.Exp(0.5*r.NormFloat64()))))
		sizes := []string{strconv.Itoa(size), strconv.Itoa(size * (90 + r.IntN(20)) / 100)}
		if status == "C" {
			sizes[0] = ""
		}
		gp.Row(code, strings.ToUpper(place(c)+" "+[]string{"Medical Centre", "Surgery", "Health Centre"}[r.IntN(3)]),
			strings.ToUpper(strconv.Itoa(1+r.IntN(200))+" "+place(c)+" Road"), strings.ToUpper(place(c)), strings.ToUpper(o.Name), "", "",
			pc.Code, "19740401", closed, status, "00T", "QOP", "Y62", fmt.Sprintf("01204 %06d", r.IntN(1000000)), "4",
			sizes[0], sizes[1], pc.Code, strconv.Itoa(pc.E), strconv.Itoa(pc.N), f6(pc.LonLat[0]), f6(pc.LonLat[1]),
			strconv.Itoa(pc.Quality), l.Code, l.Code, g.Wards[l.Ward].Code)
		if status == "A" {
			n.practices++
			list.Row("2026-04-01", "00T", "E38000016", code, pc.Code, sizes[0])
		}
	}
	if err := gp.Close(); err != nil {
		return n, err
	}
	if err := list.Close(); err != nil {
		return n, err
	}
	// Schools as OS OpenMap school sites.
	err = m.features(d, fileSchools, func(fw *formats.Features) {
		for i := 0; i < max(5, len(g.Order)*129/200); i++ {
			c := pick.Pick(r)
			at := points.At(g, r, c)
			l := g.LSOAs[c]
			cls := []string{"Primary Education", "Primary Education", "Primary Education", "Secondary Education", "Special Needs Education"}[r.IntN(5)]
			kind := map[string]string{"Primary Education": "Primary School", "Secondary Education": "High School", "Special Needs Education": "School"}[cls]
			ids := []string{}
			for b := 0; b < 1+r.IntN(4); b++ {
				ids = append(ids, guid(r))
			}
			fw.Point([]formats.Prop{{K: "name", V: fmt.Sprintf("%s %s", place(c), kind)}, {K: "classification", V: cls},
				{K: "buildings", V: len(ids)}, {K: "os_ids", V: strings.Join(ids, ";")}, {K: "lad_code", V: o.LAD}, {K: "lad_name", V: o.Name},
				{K: "lon", V: at.LonLat[0], Dec: 6}, {K: "lat", V: at.LonLat[1], Dec: 6}, {K: "lsoa11cd", V: l.Code}, {K: "lsoa21cd", V: l.Code},
				{K: "ward23cd", V: g.Wards[l.Ward].Code}}, at.LonLat)
			n.schools++
		}
	})
	if err != nil {
		return n, err
	}
	err = m.features(d, filePharmacy, func(fw *formats.Features) {
		for i := 0; i < max(3, len(g.Order)*65/200); i++ {
			c := pick.Pick(r)
			at := points.At(g, r, c)
			pc := book.Postcode(r, c)
			props := []formats.Prop{{K: "pharmacy_name", V: fmt.Sprintf("%s Pharmacy", place(c))},
				{K: "address", V: fmt.Sprintf("%d %s Road, %s", 1+r.IntN(200), place(c), o.Name)}, {K: "postcode", V: pc.Code}}
			for _, day := range []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"} {
				v := "09:00-18:00"
				if day == "sunday" {
					v = "CLOSED"
				}
				props = append(props, formats.Prop{K: "opening_hours_" + day, V: v})
			}
			props = append(props, formats.Prop{K: "organisation_data_service_code", V: fmt.Sprintf("FX%03d", i+1)},
				formats.Prop{K: "health_and_wellbeing_board", V: o.Name}, formats.Prop{K: "ward_code", V: g.Wards[g.LSOAs[c].Ward].Code},
				formats.Prop{K: "ward_name", V: place(c)}, formats.Prop{K: "la_code", V: o.LAD}, formats.Prop{K: "la_name", V: o.Name})
			fw.Point(props, at.LonLat)
			n.pharmacies++
		}
	})
	if err != nil {
		return n, err
	}
	err = m.features(d, fileFoodBanks, func(fw *formats.Features) {
		for i := 0; i < max(2, len(g.Order)*8/200); i++ {
			c := pick.Pick(r)
			at := points.At(g, r, c)
			fw.Point([]formats.Prop{{K: "Name", V: fmt.Sprintf("%s Food Bank", place(c))}, {K: "Referral method", V: "Referral"},
				{K: "Opening times", V: "Tuesday 10am - 12pm"}, {K: "Address", V: fmt.Sprintf("%s Road, %s", place(c), o.Name)},
				{K: "Postcode", V: book.Postcode(r, c).Code}, {K: "Contact", V: "help@foodbank.example.org"},
				{K: "Website", V: "https://foodbank.example.org"}, {K: "Area name", V: o.Name}, {K: "Area code", V: o.LAD}}, at.LonLat)
			n.foodBanks++
		}
	})
	if err != nil {
		return n, err
	}
	err = m.features(d, fileParks, func(fw *formats.Features) {
		for i := 0; i < max(2, len(g.Order)*5/200); i++ {
			c := pick.Pick(r)
			at := points.At(g, r, c)
			fw.Point([]formats.Prop{{K: "name", V: fmt.Sprintf("%s Park", place(c))}, {K: "managed", V: o.Name + " Council"},
				{K: "contact", V: "Parks Team"}, {K: "telephone", V: "01204 000000"}, {K: "email", V: "N/A"},
				{K: "website", V: "N/A"}, {K: "area_code", V: o.LAD}, {K: "area_name", V: o.Name}}, at.LonLat)
			n.parks++
		}
	})
	if err != nil {
		return n, err
	}
	err = m.features(d, fileLibraries, func(fw *formats.Features) {
		for i := 0; i < max(2, len(g.Order)*15/200); i++ {
			c := pick.Pick(r)
			at := points.At(g, r, c)
			fw.Point([]formats.Prop{{K: "Name", V: fmt.Sprintf("%s Library", place(c))}, {K: "Address", V: fmt.Sprintf("%s Road, %s", place(c), o.Name)},
				{K: "Postcode", V: book.Postcode(r, c).Code}, {K: "Type", V: "Local authority run library"},
				{K: "Email", V: "library@" + strings.ToLower(o.Name) + ".example.org"}, {K: "Website", V: "https://" + strings.ToLower(o.Name) + ".example.org/libraries"},
				{K: "Area name", V: o.Name}, {K: "Area code", V: o.LAD}}, at.LonLat)
			n.libraries++
		}
	})
	if err != nil {
		return n, err
	}
	// Places of worship: sites of one to three buildings sharing a name
	// (merged on import within 50 m), each site named uniquely.
	err = m.features(d, fileWorship, func(fw *formats.Features) {
		dedications := []string{"St Mary's Church", "St Peter's Church", "Methodist Church", "Baptist Church", "Mosque", "Gurdwara", "United Reformed Church", "Kingdom Hall"}
		for i := 0; i < max(5, len(g.Order)*120/200); i++ {
			c := pick.Pick(r)
			at := points.At(g, r, c)
			name := fmt.Sprintf("%s %s %d", place(c), dedications[r.IntN(len(dedications))], i+1)
			for b := 0; b < 1+r.IntN(3); b++ {
				p := formats.LonLat{at.LonLat[0] + float64(b)*0.00012, at.LonLat[1]}
				fw.Polygon([]formats.Prop{{K: "ID", V: guid(r)}, {K: "DISTNAME", V: name}, {K: "BUILDGTHEM", V: "Religious Buildings"},
					{K: "CLASSIFICA", V: "Place Of Worship"}, {K: "FEATCODE", V: 15025}, {K: "area_code", V: o.LAD}, {K: "area_name", V: o.Name}},
					building(p, r))
			}
			n.worship++
		}
	})
	if err != nil {
		return n, err
	}
	err = m.features(d, filePostOff, func(fw *formats.Features) {
		for i := 0; i < max(2, len(g.Order)*42/200); i++ {
			c := pick.Pick(r)
			at := points.At(g, r, c)
			fw.Polygon([]formats.Prop{{K: "ID", V: guid(r)}, {K: "DISTNAME", V: "Unknown"}, {K: "BUILDGTHEM", V: "Retail"},
				{K: "CLASSIFICA", V: "Post Office"}, {K: "FEATCODE", V: 15026}, {K: "area_code", V: o.LAD}, {K: "area_name", V: o.Name}},
				building(at.LonLat, r))
			n.postOffices++
		}
	})
	return n, err
}
