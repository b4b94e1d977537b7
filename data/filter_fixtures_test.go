package data_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"nbhd/data/sample"
)

// A fixture is one feature as the sample's source files describe it: the
// expectations of the filter tests come from these, never from PostGIS.
type fixture struct {
	key   string // what the test compares; see featureKey
	props map[string]any
	geom  orb.Geometry
	// bng is the feature in British National Grid where the source gives
	// those coordinates too (GP practices); east and north are its
	// coordinates.
	bng         orb.Geometry
	east, north float64
}

// pointKey identifies a point feature whose id the source does not fix.
func pointKey(name string, p orb.Point) string {
	return fmt.Sprintf("%s@%.6f,%.6f", name, p[0], p[1])
}

func openSample(t *testing.T, name string) io.ReadCloser {
	t.Helper()
	f, err := sample.FS.Open(path.Join(sample.Dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func readCollection(t *testing.T, name string) *geojson.FeatureCollection {
	t.Helper()
	f := openSample(t, name)
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := geojson.UnmarshalFeatureCollection(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return fc
}

// readCSV returns the rows of a sample CSV as maps from header to value.
func readCSV(t *testing.T, name string) []map[string]string {
	t.Helper()
	f := openSample(t, name)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
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

func number(t *testing.T, s string) any {
	t.Helper()
	if s == "" {
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// postcode writes a postcode as the importers store it: upper case, one
// space before the inward code.
func postcode(s string) string {
	p := strings.ToUpper(strings.Join(strings.Fields(s), ""))
	if len(p) < 5 || len(p) > 7 {
		return strings.TrimSpace(s)
	}
	return p[:len(p)-3] + " " + p[len(p)-3:]
}

// manifest is the sample's import list.
type manifest struct {
	Imports []struct {
		Kind string `json:"kind"`
		File string `json:"file"`
		Spec struct {
			Category string `json:"category"`
		} `json:"spec"`
		Dataset struct {
			Title string `json:"title"`
		} `json:"dataset"`
	} `json:"imports"`
}

func readManifest(t *testing.T) manifest {
	t.Helper()
	f := openSample(t, "manifest.json")
	defer f.Close()
	var m manifest
	if err := json.NewDecoder(f).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// smallAreaFixtures: LSOA boundaries with population and IoD 2019 ranks
// and deciles joined by code.
func smallAreaFixtures(t *testing.T) []fixture {
	pop := map[string]any{}
	for _, r := range readCSV(t, "population/lsoa11_population_mid2017.csv") {
		pop[r["area_code"]] = number(t, r["all_ages_mid2017"])
	}
	imd := map[string]map[string]string{}
	for _, r := range readCSV(t, "deprivation/IoD2019_File2_domains_ranks_deciles.csv") {
		imd[r["LSOA code (2011)"]] = r
	}
	columns := map[string]string{
		"imd_rank":          "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)",
		"imd_decile":        "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)",
		"income_decile":     "Income Decile (where 1 is most deprived 10% of LSOAs)",
		"employment_decile": "Employment Decile (where 1 is most deprived 10% of LSOAs)",
		"education_decile":  "Education, Skills and Training Decile (where 1 is most deprived 10% of LSOAs)",
		"health_decile":     "Health Deprivation and Disability Decile (where 1 is most deprived 10% of LSOAs)",
		"crime_decile":      "Crime Decile (where 1 is most deprived 10% of LSOAs)",
		"barriers_decile":   "Barriers to Housing and Services Decile (where 1 is most deprived 10% of LSOAs)",
		"living_env_decile": "Living Environment Decile (where 1 is most deprived 10% of LSOAs)",
	}
	var out []fixture
	for _, f := range readCollection(t, "boundaries/lsoa_2021_generalised.geojson").Features {
		code := f.Properties.MustString("area_code")
		props := map[string]any{"code": code, "name": f.Properties.MustString("area_name"), "vintage": 2021.0, "population": pop[code]}
		for name, col := range columns {
			v, ok := imd[code][col]
			if !ok {
				t.Fatalf("no %s for %s", col, code)
			}
			props[name] = number(t, v)
		}
		out = append(out, fixture{key: code, props: props, geom: f.Geometry})
	}
	return out
}

// gpFixtures: the active practices at their coordinates, with the latest
// list size the file has.
func gpFixtures(t *testing.T) []fixture {
	var out []fixture
	for _, r := range readCSV(t, "health/gp_practices.csv") {
		status := r["status_code"]
		if status == "" {
			status = "A"
		}
		if status != "A" {
			continue
		}
		size := number(t, r["registered_patients_2026_04"])
		if size == nil {
			size = number(t, r["registered_patients_2021_01"])
		}
		pt := orb.Point{number(t, r["lon"]).(float64), number(t, r["lat"]).(float64)}
		out = append(out, fixture{
			key: r["practice_code"],
			props: map[string]any{"code": r["practice_code"], "name": r["practice_name"], "status": status,
				"postcode": postcode(r["postcode"]), "list_size": size},
			geom: pt, east: number(t, r["easting"]).(float64), north: number(t, r["northing"]).(float64),
		})
		last := &out[len(out)-1]
		last.bng = orb.Point{last.east, last.north}
	}
	return out
}

// schoolFixtures: OS Open Map Local school sites, identified by their first
// building's id, with the phase their classification names.
func schoolFixtures(t *testing.T) []fixture {
	phases := map[string]string{"Primary Education": "Primary", "Non State Primary Education": "Primary",
		"Secondary Education": "Secondary", "Special Needs Education": "Special"}
	var out []fixture
	for _, f := range readCollection(t, "education/school_sites_osopenmaplocal_2018_points.geojson").Features {
		class := f.Properties.MustString("classification")
		phase, ok := phases[class]
		if !ok {
			t.Fatalf("classification %q has no phase in the test", class)
		}
		id, _, _ := strings.Cut(f.Properties.MustString("os_ids"), ";")
		out = append(out, fixture{
			key: "schools:" + id,
			props: map[string]any{"name": f.Properties.MustString("name"), "phase": phase, "kind": class,
				"status": "open", "pupils": nil},
			geom: f.Geometry,
		})
	}
	return out
}

// assetPointCategories are the community asset categories whose sources are
// points. Polygon sources are reduced to a point by PostGIS, so their
// position cannot be known from the file alone; the asset tests restrict
// every filter to these categories.
var assetPointCategories = []string{"library", "food_bank", "park", "pharmacy"}

// assetFixtures: the point-sourced community assets.
func assetFixtures(t *testing.T) []fixture {
	nameProps := map[string]string{"library": "Name", "food_bank": "Name", "park": "name", "pharmacy": "pharmacy_name"}
	var out []fixture
	for _, imp := range readManifest(t).Imports {
		nameProp, ok := nameProps[imp.Spec.Category]
		if imp.Kind != "assets" || !ok {
			continue
		}
		for _, f := range readCollection(t, imp.File).Features {
			pt, isPoint := f.Geometry.(orb.Point)
			if !isPoint {
				t.Fatalf("%s: a %s, want points", imp.File, f.Geometry.GeoJSONType())
			}
			name := strings.TrimSpace(f.Properties.MustString(nameProp, ""))
			switch strings.ToLower(name) {
			case "", "unknown", "n/a", "none", "unnamed":
				name = strings.ToUpper(imp.Spec.Category[:1]) + strings.ReplaceAll(imp.Spec.Category[1:], "_", " ")
			}
			pc := f.Properties.MustString("Postcode", f.Properties.MustString("postcode", ""))
			out = append(out, fixture{
				key: pointKey(name, pt),
				props: map[string]any{"name": name, "category": imp.Spec.Category, "postcode": postcode(pc),
					"source": imp.Dataset.Title},
				geom: pt,
			})
		}
	}
	return out
}
