package api_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/xuri/excelize/v2"

	"nbhd/data/dbtest"
	"nbhd/data/ingest"
)

// The 360Giving acceptance: every neighbourhood's grants and amount are
// recomputed here from the fixture files and the sample's own source files
// (LSOA boundaries with orb's point-in-polygon, the ONS lookups, the
// population file): no SQL, no nbhd code.

// fixtureGrant is a grant as the test reads it from a fixture.
type fixtureGrant struct {
	n        int // line, row or position
	id       string
	currency string
	amount   float64
	codes    []string
	postcode string
}

func readFixtureCSV(t *testing.T, path string) []fixtureGrant {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	var out []fixtureGrant
	for i, r := range recs[1:] {
		g := fixtureGrant{n: i + 2, id: r[col["Identifier"]], currency: r[col["Currency"]],
			postcode: r[col["Recipient Org:Postal Code"]]}
		g.amount, _ = strconv.ParseFloat(strings.ReplaceAll(r[col["Amount Awarded"]], ",", ""), 64)
		for h, i := range col {
			if strings.HasSuffix(h, "Geographic Code") {
				for _, c := range regexp.MustCompile(`[;, ]+`).Split(r[i], -1) {
					if c != "" {
						g.codes = append(g.codes, c)
					}
				}
			}
		}
		out = append(out, g)
	}
	return out
}

func readFixtureJSON(t *testing.T, path string) []fixtureGrant {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		Grants []struct {
			ID            string  `json:"id"`
			Currency      string  `json:"currency"`
			AmountAwarded float64 `json:"amountAwarded"`
			Recipient     []struct {
				PostalCode string `json:"postalCode"`
			} `json:"recipientOrganization"`
			Beneficiary []struct {
				GeoCode string `json:"geoCode"`
			} `json:"beneficiaryLocation"`
		} `json:"grants"`
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatal(err)
	}
	var out []fixtureGrant
	for i, j := range pkg.Grants {
		g := fixtureGrant{n: i + 1, id: j.ID, currency: j.Currency, amount: j.AmountAwarded}
		if len(j.Recipient) > 0 {
			g.postcode = j.Recipient[0].PostalCode
		}
		for _, l := range j.Beneficiary {
			g.codes = append(g.codes, l.GeoCode)
		}
		out = append(out, g)
	}
	return out
}

// xlsxFromCSV writes the CSV fixture as a 360Giving workbook (sheet
// "grants"): amounts as numbers, award dates as date cells (Excel serial
// numbers), everything else as text.
func xlsxFromCSV(t *testing.T, src string) string {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wb := excelize.NewFile()
	defer wb.Close()
	if err := wb.SetSheetName("Sheet1", "grants"); err != nil {
		t.Fatal(err)
	}
	dateStyle, err := wb.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		t.Fatal(err)
	}
	for r, rec := range recs {
		for c, v := range rec {
			cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
			var val any = v
			switch {
			case r > 0 && recs[0][c] == "Amount Awarded":
				val, _ = strconv.ParseFloat(strings.ReplaceAll(v, ",", ""), 64)
			case r > 0 && recs[0][c] == "Award Date":
				d, err := time.Parse(time.DateOnly, v[:10])
				if err != nil {
					t.Fatal(err)
				}
				val = d
				if err := wb.SetCellStyle("grants", cell, cell, dateStyle); err != nil {
					t.Fatal(err)
				}
			}
			if err := wb.SetCellValue("grants", cell, val); err != nil {
				t.Fatal(err)
			}
		}
	}
	out := filepath.Join(t.TempDir(), "grants_wigan.xlsx")
	if err := wb.SaveAs(out); err != nil {
		t.Fatal(err)
	}
	return out
}

// placement is the sample geography the recomputation places grants in.
type placement struct {
	idx        *lsoaIndex
	loaded     map[string]bool
	population map[string]float64
	members    map[string]map[string][]string // set -> neighbourhood -> small areas
	postcodes  map[string]orb.Point
}

func samplePlacement(t *testing.T) *placement {
	t.Helper()
	p := &placement{idx: &lsoaIndex{}, loaded: map[string]bool{}, population: map[string]float64{},
		members: map[string]map[string][]string{"ward": {}, "msoa": {}}, postcodes: map[string]orb.Point{}}
	for _, f := range sampleFC(t, "boundaries/lsoa_2021_generalised.geojson").Features {
		mp, ok := f.Geometry.(orb.MultiPolygon)
		if !ok {
			mp = orb.MultiPolygon{f.Geometry.(orb.Polygon)}
		}
		code := f.Properties.MustString("area_code")
		p.idx.codes = append(p.idx.codes, code)
		p.idx.polys = append(p.idx.polys, mp)
		p.idx.bound = append(p.idx.bound, mp.Bound())
		p.loaded[code] = true
	}
	for _, r := range sampleCSV(t, "population/lsoa11_population_mid2017.csv") {
		p.population[r["area_code"]], _ = strconv.ParseFloat(r["all_ages_mid2017"], 64)
	}
	for _, r := range sampleCSV(t, "lookups/lsoa21_to_ward22_bestfit.csv") {
		if p.loaded[r["lsoa21cd"]] {
			p.members["ward"][r["wd22cd"]] = append(p.members["ward"][r["wd22cd"]], r["lsoa21cd"])
		}
	}
	seen := map[string]bool{}
	for _, r := range sampleCSV(t, "lookups/oa21_lsoa21_msoa21_lad22.csv") {
		if p.loaded[r["lsoa21cd"]] && !seen[r["lsoa21cd"]] {
			seen[r["lsoa21cd"]] = true
			p.members["msoa"][r["msoa21cd"]] = append(p.members["msoa"][r["msoa21cd"]], r["lsoa21cd"])
		}
	}
	for _, r := range sampleCSV(t, "postcodes/codepoint_open_postcodes.csv") {
		lon, _ := strconv.ParseFloat(r["lon"], 64)
		lat, _ := strconv.ParseFloat(r["lat"], 64)
		p.postcodes[r["postcode"]] = orb.Point{lon, lat}
	}
	return p
}

// place is the documented rule: the union of the small areas of the
// grant's LSOA, MSOA and ward codes, shared by population; else the small
// area holding the recipient's postcode; else nowhere.
func (p *placement) place(g fixtureGrant) map[string]float64 {
	areas := map[string]bool{}
	for _, c := range g.codes {
		switch {
		case strings.HasPrefix(c, "E01") && p.loaded[c]:
			areas[c] = true
		case strings.HasPrefix(c, "E02"):
			for _, a := range p.members["msoa"][c] {
				areas[a] = true
			}
		case strings.HasPrefix(c, "E05"):
			for _, a := range p.members["ward"][c] {
				areas[a] = true
			}
		}
	}
	if len(areas) == 0 {
		if pt, ok := p.postcodes[g.postcode]; ok {
			if a := p.idx.find(pt); a != "" {
				areas[a] = true
			}
		}
	}
	total := 0.0
	for a := range areas {
		total += p.population[a]
	}
	out := map[string]float64{}
	for a := range areas {
		out[a] = g.amount * p.population[a] / total
	}
	return out
}

type hoodFigures struct {
	grants int
	amount float64
}

// expected recomputes every neighbourhood's figures of a set, and lists
// the grants that cannot be placed.
func (p *placement) expected(grants []fixtureGrant, set string) (map[string]hoodFigures, []int) {
	out := map[string]hoodFigures{}
	var unplaced []int
	hoodOf := map[string]string{}
	for hood, areas := range p.members[set] {
		out[hood] = hoodFigures{}
		for _, a := range areas {
			hoodOf[a] = hood
		}
	}
	for _, g := range grants {
		shares := p.place(g)
		if len(shares) == 0 {
			unplaced = append(unplaced, g.n)
			continue
		}
		reached := map[string]bool{}
		for a, amount := range shares {
			h := hoodOf[a]
			f := out[h]
			f.amount += amount
			if !reached[h] {
				f.grants++
				reached[h] = true
			}
			out[h] = f
		}
	}
	sort.Ints(unplaced)
	return out, unplaced
}

func importGrants(t *testing.T, dbURL, path string) (ingest.Result, error) {
	t.Helper()
	conn := dbtest.Conn(t, dbURL)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return ingest.Run(context.Background(), conn, ingest.Job{Kind: "grants", File: path}, f)
}

type investmentDoc struct {
	Neighbourhoods []struct {
		Code                string   `json:"code"`
		Population          float64  `json:"population"`
		JustCoping          *float64 `json:"just_coping"`
		Grants              int      `json:"grants"`
		Amount              float64  `json:"amount"`
		AmountPerResident   *float64 `json:"amount_per_resident"`
		AmountPerJustCoping *float64 `json:"amount_per_just_coping"`
		JustCopingPer1000   *float64 `json:"just_coping_per_1000"`
		Rank                *int     `json:"rank"`
	} `json:"neighbourhoods"`
	Comparators []struct {
		Scope  string  `json:"scope"`
		Code   string  `json:"code"`
		Grants int     `json:"grants"`
		Amount float64 `json:"amount"`
	} `json:"comparators"`
}

func (e *env) investment(t *testing.T, query string) investmentDoc {
	t.Helper()
	resp, body := e.get(t, "/insights/investment?"+query)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("investment %s: %d %s", query, resp.StatusCode, body)
	}
	var doc investmentDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestGrantsPerNeighbourhoodEqualARecomputationFromTheFixtures(t *testing.T) {
	csvPath := filepath.Join("testdata", "grants_wigan.csv")
	jsonPath := filepath.Join("testdata", "grants_wigan.json")
	forms := []struct {
		name, path, unit string
		grants           []fixtureGrant
	}{
		{"csv", csvPath, "line", readFixtureCSV(t, csvPath)},
		{"json", jsonPath, "grant", readFixtureJSON(t, jsonPath)},
		{"xlsx", xlsxFromCSV(t, csvPath), "row", readFixtureCSV(t, csvPath)},
	}
	places := samplePlacement(t)
	for _, form := range forms {
		t.Run(form.name, func(t *testing.T) {
			e := newEnv(t)
			res, err := importGrants(t, e.dbURL, form.path)
			if err != nil {
				t.Fatal(err)
			}
			if res.Rows != len(form.grants) {
				t.Errorf("imported %d grants, the file has %d", res.Rows, len(form.grants))
			}
			for _, set := range []string{"ward", "msoa"} {
				want, unplaced := places.expected(form.grants, set)
				if len(unplaced) == 0 {
					t.Fatal("the fixture should have unplaceable grants")
				}
				// The notes list every unplaced grant by its number.
				var nums []string
				for _, n := range unplaced {
					nums = append(nums, fmt.Sprintf("%s %d:", form.unit, n))
				}
				for _, n := range nums {
					if !hasNote(res.Notes, n) {
						t.Errorf("notes %q do not report %q", res.Notes, n)
					}
				}
				if !hasNote(res.Notes, fmt.Sprintf("%d grants not placed", len(unplaced))) {
					t.Errorf("notes %q do not count %d unplaced grants", res.Notes, len(unplaced))
				}
				doc := e.investment(t, "set="+set)
				if len(doc.Neighbourhoods) != len(want) {
					t.Fatalf("%s: %d neighbourhoods served, %d recomputed", set, len(doc.Neighbourhoods), len(want))
				}
				funded := 0
				for _, n := range doc.Neighbourhoods {
					w, ok := want[n.Code]
					if !ok {
						t.Errorf("%s %s: not in the recomputation", set, n.Code)
						continue
					}
					if n.Grants != w.grants || math.Abs(n.Amount-w.amount) > 0.01 {
						t.Errorf("%s %s: served %d grants, £%.2f; recomputed %d, £%.2f", set, n.Code, n.Grants, n.Amount, w.grants, w.amount)
					}
					if w.grants > 0 {
						funded++
					}
					// The profile carries the same figures.
					if set == "ward" {
						p := e.profileValues(t, set, n.Code)
						if p["grants"] != float64(w.grants) || math.Abs(p["grant_amount"]-w.amount) > 0.01 {
							t.Errorf("profile %s: grants %v, amount %v; recomputed %d, %.2f", n.Code, p["grants"], p["grant_amount"], w.grants, w.amount)
						}
					}
				}
				if funded < 3 {
					t.Errorf("%s: only %d neighbourhoods funded: the fixture should reach several", set, funded)
				}
			}
		})
	}
}

// hasNote reports whether any note contains fragment.
func hasNote(notes []string, fragment string) bool {
	for _, n := range notes {
		if strings.Contains(n, fragment) {
			return true
		}
	}
	return false
}

// profileValues reads a neighbourhood profile's indicator values by id.
func (e *env) profileValues(t *testing.T, set, code string) map[string]float64 {
	t.Helper()
	resp, body := e.get(t, "/neighbourhoods/"+set+"/"+code)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("profile %s/%s: %d %s", set, code, resp.StatusCode, body)
	}
	var p struct {
		Indicators []struct {
			ID    string   `json:"id"`
			Group string   `json:"group"`
			Value *float64 `json:"value"`
		} `json:"indicators"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, i := range p.Indicators {
		if i.Value != nil {
			out[i.ID] = *i.Value
		}
	}
	return out
}

func TestGrantsInOtherCurrenciesAreRefusedWithTheirRows(t *testing.T) {
	e := newEnv(t)
	path := filepath.Join("testdata", "grants_foreign.csv")
	var foreign []string
	for _, g := range readFixtureCSV(t, path) {
		if g.currency != "GBP" {
			foreign = append(foreign, fmt.Sprintf("line %d (%s)", g.n, g.currency))
		}
	}
	_, err := importGrants(t, e.dbURL, path)
	var ie *ingest.InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), strings.Join(foreign, ", ")) {
		t.Fatalf("foreign currencies: %v; want the rows %s named", err, strings.Join(foreign, ", "))
	}
	if n := e.dbCount(t, "SELECT count(*) FROM nbhd.grants"); n != 0 {
		t.Errorf("%d grants written by a refused import", n)
	}
}

func TestInvestmentRanksHighDemandLowInvestmentFirst(t *testing.T) {
	e := newEnv(t)
	if _, err := importGrants(t, e.dbURL, filepath.Join("testdata", "grants_wigan.csv")); err != nil {
		t.Fatal(err)
	}
	doc := e.investment(t, "set=ward")
	// Ranked rows first, by investment per just-coping resident (lowest
	// first), ties by the higher just-coping rate; then unranked.
	for i := 1; i < len(doc.Neighbourhoods); i++ {
		a, b := doc.Neighbourhoods[i-1], doc.Neighbourhoods[i]
		if a.Rank == nil && b.Rank != nil {
			t.Fatalf("unranked %s before ranked %s", a.Code, b.Code)
		}
		if a.Rank == nil || b.Rank == nil {
			continue
		}
		if *a.AmountPerJustCoping > *b.AmountPerJustCoping ||
			(*a.AmountPerJustCoping == *b.AmountPerJustCoping && *a.JustCopingPer1000 < *b.JustCopingPer1000) {
			t.Errorf("%s (rank %d) before %s (rank %d) breaks the ranking rule", a.Code, *a.Rank, b.Code, *b.Rank)
		}
	}
	for _, n := range doc.Neighbourhoods {
		if n.JustCoping != nil && *n.JustCoping > 0 {
			if want := math.Round(100*n.Amount / *n.JustCoping) / 100; n.AmountPerJustCoping == nil || math.Abs(*n.AmountPerJustCoping-want) > 0.005 {
				t.Errorf("%s: amount per just-coping resident %v, want %.2f", n.Code, n.AmountPerJustCoping, want)
			}
		}
	}
	// Filters count only the grants they name.
	all := e.investment(t, "set=ward")
	fair := e.investment(t, "set=ward&funder=GB-CHC-1234567")
	period := e.investment(t, "set=ward&programme=community+investment+fund&from=2023-06-01&to=2023-12-31")
	total := func(d investmentDoc) (n int, amount float64) {
		for _, c := range d.Comparators {
			if c.Scope == "borough" {
				n, amount = n+c.Grants, amount+c.Amount
			}
		}
		return n, amount
	}
	if n, a := total(all); n != 8 || math.Abs(a-58450.50) > 0.01 {
		t.Errorf("all grants: %d, £%.2f; want the 8 placed grants, £58,450.50", n, a)
	}
	if n, a := total(fair); n != 2 || math.Abs(a-6200) > 0.01 {
		t.Errorf("--funder: %d, £%.2f; want 2, £6,200", n, a)
	}
	if n, a := total(period); n != 5 || math.Abs(a-47250.50) > 0.01 {
		t.Errorf("programme and period: %d, £%.2f; want 5, £47,250.50", n, a)
	}
	// CSV has the same neighbourhoods in the same order.
	resp, body := e.get(t, "/insights/investment?set=ward&f=csv")
	recs, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if resp.StatusCode != http.StatusOK || err != nil || len(recs) != len(all.Neighbourhoods)+1 || recs[1][0] != all.Neighbourhoods[0].Code {
		t.Errorf("CSV: %d %v, %d records", resp.StatusCode, err, len(recs))
	}
	for _, bad := range []string{"", "set=nope", "set=ward&from=2024-13-01", "set=ward&from=2024-02-01&to=2024-01-01", "set=ward&colour=red", "set=ward&borough=x"} {
		resp, body := e.get(t, "/insights/investment?"+bad)
		if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusNotFound {
			t.Errorf("%q: %d %s", bad, resp.StatusCode, body)
		}
	}
}

// With recorded demand, investment per just-coping resident divides by the
// published (rounded) count, is empty where that count is withheld, and is
// not summed into England with other boroughs' estimates.
func TestInvestmentPerJustCopingUsesPublishedRecordedDemand(t *testing.T) {
	e := newEnv(t)
	e.loadRecorded(t)
	if _, err := importGrants(t, e.dbURL, filepath.Join("testdata", "grants_wigan.csv")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.RefreshVersion(context.Background()); err != nil {
		t.Fatal(err)
	}
	doc := e.investment(t, "set=ward")
	withheld, shown := 0, 0
	for _, n := range doc.Neighbourhoods {
		p := e.profileValues(t, "ward", n.Code)
		per, has := p["grant_amount_per_just_coping"]
		switch {
		case n.JustCoping == nil:
			withheld++
			if has || n.AmountPerJustCoping != nil || n.Rank != nil {
				t.Errorf("%s: just-coping count withheld, yet per just-coping resident %v / %v, rank %v", n.Code, per, n.AmountPerJustCoping, n.Rank)
			}
		case *n.JustCoping > 0:
			shown++
			if math.Mod(*n.JustCoping, 5) != 0 {
				t.Errorf("%s: recorded just-coping count %v is not rounded to 5", n.Code, *n.JustCoping)
			}
			want := math.Round(100*p["grant_amount"] / *n.JustCoping) / 100
			if !has || math.Abs(per-want) > 0.005 {
				t.Errorf("%s: profile per just-coping resident %v, want %.2f (amount %.2f / published %v)", n.Code, per, want, p["grant_amount"], *n.JustCoping)
			}
		}
	}
	if withheld == 0 || shown == 0 {
		t.Fatalf("recorded demand should withhold some wards and show others: %d withheld, %d shown", withheld, shown)
	}
	resp, body := e.get(t, "/neighbourhoods/ward/"+doc.Neighbourhoods[0].Code)
	if resp.StatusCode != http.StatusOK {
		t.Fatal(resp.StatusCode)
	}
	var p struct {
		Indicators []struct {
			ID      string `json:"id"`
			Group   string `json:"group"`
			England *struct {
				Value      *float64 `json:"value"`
				Suppressed bool     `json:"suppressed"`
			} `json:"england"`
		} `json:"indicators"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, i := range p.Indicators {
		if i.Group == "investment" {
			found++
		}
		if i.ID == "grant_amount_per_just_coping" && (i.England == nil || i.England.Value != nil || !i.England.Suppressed) {
			t.Errorf("England per just-coping resident with recorded demand: %+v, want withheld", i.England)
		}
	}
	if found != 6 {
		t.Errorf("profile has %d investment indicators, want 6", found)
	}
}
