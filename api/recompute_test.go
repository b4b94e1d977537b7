package api_test

import (
	"encoding/csv"
	"encoding/json"
	"io/fs"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"

	"nbhd/data/sample"
)

// The figures below are recomputed from the bundled source files with orb
// alone: no SQL, no nbhd code. Served profiles must agree.

func sampleFC(t *testing.T, name string) *geojson.FeatureCollection {
	t.Helper()
	b, err := fs.ReadFile(sample.FS, "wigan/"+name)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := geojson.UnmarshalFeatureCollection(b)
	if err != nil {
		t.Fatal(err)
	}
	return fc
}

func sampleCSV(t *testing.T, name string) []map[string]string {
	t.Helper()
	f, err := sample.FS.Open("wigan/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

type lsoaIndex struct {
	codes []string
	polys []orb.MultiPolygon
	bound []orb.Bound
}

func (x *lsoaIndex) find(p orb.Point) string {
	for i, b := range x.bound {
		if b.Contains(p) && planar.MultiPolygonContains(x.polys[i], p) {
			return x.codes[i]
		}
	}
	return ""
}

// representative is where a source feature stands: the point itself, or a
// polygon's area centroid.
func representative(g orb.Geometry) orb.Point {
	if p, ok := g.(orb.Point); ok {
		return p
	}
	c, _ := planar.CentroidArea(g)
	return c
}

func vertices(g orb.Geometry) []orb.Point {
	var out []orb.Point
	switch g := g.(type) {
	case orb.Point:
		out = append(out, g)
	case orb.Polygon:
		for _, r := range g {
			out = append(out, r...)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			out = append(out, vertices(p)...)
		}
	}
	return out
}

// mergeBuildings groups same-named features whose vertices come within
// metres of each other (single linkage), as the asset importer documents.
func mergeBuildings(feats []*geojson.Feature, nameKey string, metres float64) [][]*geojson.Feature {
	parent := make([]int, len(feats))
	for i := range parent {
		parent[i] = i
	}
	root := func(i int) int {
		for parent[i] != i {
			i = parent[i]
		}
		return i
	}
	near := func(a, b orb.Geometry) bool {
		for _, p := range vertices(a) {
			for _, q := range vertices(b) {
				if geo.Distance(p, q) <= metres {
					return true
				}
			}
		}
		return false
	}
	for i := range feats {
		ni := strings.ToLower(feats[i].Properties.MustString(nameKey, ""))
		if ni == "" || ni == "unknown" {
			continue
		}
		for j := i + 1; j < len(feats); j++ {
			if strings.ToLower(feats[j].Properties.MustString(nameKey, "")) == ni && near(feats[i].Geometry, feats[j].Geometry) {
				parent[root(j)] = root(i)
			}
		}
	}
	groups := map[int][]*geojson.Feature{}
	var order []int
	for i := range feats {
		r := root(i)
		if _, ok := groups[r]; !ok {
			order = append(order, r)
		}
		groups[r] = append(groups[r], feats[i])
	}
	out := make([][]*geojson.Feature, 0, len(order))
	for _, r := range order {
		out = append(out, groups[r])
	}
	return out
}

func TestProfilesAgreeWithAnIndependentRecomputation(t *testing.T) {
	e := newEnv(t)
	idx := &lsoaIndex{}
	for _, f := range sampleFC(t, "boundaries/lsoa_2021_generalised.geojson").Features {
		mp, ok := f.Geometry.(orb.MultiPolygon)
		if !ok {
			mp = orb.MultiPolygon{f.Geometry.(orb.Polygon)}
		}
		idx.codes = append(idx.codes, f.Properties.MustString("area_code"))
		idx.polys = append(idx.polys, mp)
		idx.bound = append(idx.bound, mp.Bound())
	}
	ward := map[string]string{}
	for _, r := range sampleCSV(t, "lookups/lsoa21_to_ward22_bestfit.csv") {
		ward[r["lsoa21cd"]] = r["wd22cd"]
	}
	wardOf := func(p orb.Point) string { return ward[idx.find(p)] }

	population := map[string]float64{}
	for _, r := range sampleCSV(t, "population/lsoa11_population_mid2017.csv") {
		if w, ok := ward[r["area_code"]]; ok {
			n, _ := strconv.ParseFloat(r["all_ages_mid2017"], 64)
			population[w] += n
		}
	}

	// Community assets: points as they are; buildings merged per name.
	var assets []orb.Point
	for _, f := range []string{"community/libraries.geojson", "community/food_banks.geojson", "community/green_flag_parks.geojson", "health/pharmacies.geojson"} {
		for _, ft := range sampleFC(t, f).Features {
			assets = append(assets, representative(ft.Geometry))
		}
	}
	for _, f := range []string{"community/places_of_worship_osopenmaplocal.geojson", "community/post_offices_osopenmaplocal.geojson"} {
		merge := 0.0
		if strings.Contains(f, "worship") {
			merge = 50
		}
		for _, g := range mergeBuildings(sampleFC(t, f).Features, "DISTNAME", merge) {
			assets = append(assets, representative(g[0].Geometry))
		}
	}
	assetCount := map[string]float64{}
	for _, p := range assets {
		assetCount[wardOf(p)]++
	}

	// GP practices: active ones, with their latest published list size.
	var gps []orb.Point
	gpCount, patients := map[string]float64{}, map[string]float64{}
	for _, r := range sampleCSV(t, "health/gp_practices.csv") {
		if r["status_code"] != "A" {
			continue
		}
		lon, _ := strconv.ParseFloat(r["lon"], 64)
		lat, _ := strconv.ParseFloat(r["lat"], 64)
		p := orb.Point{lon, lat}
		gps = append(gps, p)
		w := wardOf(p)
		gpCount[w]++
		size := r["registered_patients_2026_04"]
		if size == "" {
			size = r["registered_patients_2021_01"]
		}
		n, _ := strconv.ParseFloat(size, 64)
		patients[w] += n
	}
	var schools []orb.Point
	for _, ft := range sampleFC(t, "education/school_sites_osopenmaplocal_2018_points.geojson").Features {
		schools = append(schools, representative(ft.Geometry))
	}

	// Access: postcodes within 800 m (straight line) of the nearest of each.
	nearest := func(p orb.Point, set []orb.Point) float64 {
		best := math.Inf(1)
		for _, q := range set {
			best = math.Min(best, geo.Distance(p, q))
		}
		return best
	}
	type tally struct{ total, near, unsure [3]float64 }
	access := map[string]*tally{}
	for _, r := range sampleCSV(t, "postcodes/codepoint_open_postcodes.csv") {
		lon, _ := strconv.ParseFloat(r["lon"], 64)
		lat, _ := strconv.ParseFloat(r["lat"], 64)
		p := orb.Point{lon, lat}
		w := wardOf(p)
		if w == "" {
			continue
		}
		if access[w] == nil {
			access[w] = &tally{}
		}
		for i, set := range [][]orb.Point{assets, gps, schools} {
			d := nearest(p, set)
			access[w].total[i]++
			if d <= 800 {
				access[w].near[i]++
			}
			// Within 15 m of the line the two sides' geodesy (haversine
			// here, British National Grid there) and coordinates (the
			// file's lon/lat here, its easting/northing there) may differ.
			if math.Abs(d-800) <= 15 {
				access[w].unsure[i]++
			}
		}
	}

	wards := map[string]bool{}
	for _, w := range ward {
		wards[w] = true
	}
	var codes []string
	for w := range wards {
		codes = append(codes, w)
	}
	sort.Strings(codes)
	if len(codes) != 25 {
		t.Fatalf("%d wards in the lookup", len(codes))
	}
	maxDiff := 0.0
	for _, w := range codes {
		var p struct {
			Indicators []struct {
				ID    string
				Value float64
			}
		}
		_, body := e.get(t, "/neighbourhoods/ward/"+w)
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		served := map[string]float64{}
		for _, i := range p.Indicators {
			served[i.ID] = i.Value
		}
		check := func(what string, got, want float64) {
			if got != want {
				t.Errorf("ward %s %s: served %v, recomputed %v", w, what, got, want)
			}
		}
		check("population", served["population"], population[w])
		check("community assets", served["assets"], assetCount[w])
		check("GP practices", served["gp_practices"], gpCount[w])
		check("registered patients", served["gp_patients"], patients[w])
		for i, key := range []string{"access_asset_pct", "access_gp_pct", "access_school_pct"} {
			ind := struct{ Value float64 }{served[key]}
			a := access[w]
			want := 100 * a.near[i] / a.total[i]
			// Allowed: postcodes near the 800 m line, and ones near a
			// small-area boundary (0.5% of postcodes), plus rounding.
			slack := 100*a.unsure[i]/a.total[i] + 0.5 + 0.005
			maxDiff = math.Max(maxDiff, math.Abs(ind.Value-want))
			if math.Abs(ind.Value-want) > slack {
				t.Errorf("ward %s %s: served %.2f%%, recomputed %.2f%% (allowed ±%.2f)", w, key, ind.Value, want, slack)
			}
		}
	}
	t.Logf("largest access-share difference: %.2f percentage points", maxDiff)
}
