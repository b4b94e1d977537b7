package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"

	"nbhd/api"
	"nbhd/data"
	"nbhd/data/dbtest"
	"nbhd/data/ingest"
	"nbhd/tiles"
)

// The two boroughs of the sweep: the bundled sample and a generated
// neighbour, both in Greater Manchester and the North West.
const (
	discWigan  = "E08000010"
	discBolton = "E08000001"
	// discMinCount is the default disclosure threshold: recorded counts
	// of 1..discMinCount-1 are never published.
	discMinCount = 10
)

var (
	discLADs     = []string{discBolton, discWigan}
	discSets     = []string{"ward", "msoa"}
	discSegments = []string{"chaotic", "just_coping"}
	// discQuiet is the recorded just-coping total of each borough's first
	// ward, while every other ward's is large: one primary suppression per
	// borough in ward/just_coping. Apart (4 and 7) each would be recovered
	// from its borough's total; together (11, two cells) they would pass a
	// check made only across the combined set, so only suppression within
	// each borough keeps them hidden.
	discQuiet = map[string]int{discWigan: 4, discBolton: 7}
)

// discGeo is the loaded geography, read with an admin connection.
type discGeo struct {
	areaLad  map[string]string              // small area -> borough
	areas    map[string][]string            // borough -> its small areas, in code order
	members  map[string]map[string][]string // set -> neighbourhood -> small areas
	hoodLad  map[string]map[string]string   // set -> neighbourhood -> borough
	hoods    map[string][]string            // set -> neighbourhoods, in code order
	region   string                         // both boroughs' region
	cauth    string                         // both boroughs' combined authority
	truthFor demandTruth
}

// demandTruth is what the councils recorded: small area -> segment -> count.
type demandTruth map[string]map[string]int

// cell is the true recorded count of a neighbourhood.
func (g *discGeo) cell(set, code, seg string) int {
	n := 0
	for _, a := range g.members[set][code] {
		n += g.truthFor[a][seg]
	}
	return n
}

// boroughTotal is the true recorded count of a borough.
func (g *discGeo) boroughTotal(lad, seg string) int {
	n := 0
	for _, a := range g.areas[lad] {
		n += g.truthFor[a][seg]
	}
	return n
}

// TestRecordedDemandStaysHiddenAcrossTwoBoroughs loads Wigan and a
// generated Bolton into one database, in one combined authority, with
// recorded demand for both full of small counts, then reads every figure
// of recorded demand the public API serves: neighbourhood counts in every
// endpoint and format, and every total they can be subtracted from
// (borough, region, combined authority, England). No count of 1-9 is
// shown, shown counts are the truth rounded to 5, every endpoint hides
// the same cells, and no total can be differenced down to a hidden count:
// within each borough, and across the ward and MSOA sets that hold both.
func TestRecordedDemandStaysHiddenAcrossTwoBoroughs(t *testing.T) {
	url, g := discLoad(t)

	// What the fixture must make happen, or the rest proves nothing.
	for _, lad := range discLADs {
		small, tiny := 0, 0
		for _, set := range discSets {
			for _, seg := range discSegments {
				for _, code := range g.hoods[set] {
					if n := g.cell(set, code, seg); g.hoodLad[set][code] == lad && n > 0 && n < discMinCount {
						small++
					}
				}
			}
		}
		for _, code := range g.hoods["ward"] {
			if g.hoodLad["ward"][code] == lad && g.cell("ward", code, "just_coping") > 0 && g.cell("ward", code, "just_coping") < discMinCount {
				tiny++
			}
		}
		if small < 5 || tiny != 1 {
			t.Fatalf("%s: the fixture has %d neighbourhood counts of 1-9 and %d such ward just-coping counts; want several and exactly one", lad, small, tiny)
		}
	}

	sw := discServe(t, url, g)
	sw.sweep()
	state := sw.cells(t)
	sw.checkRates(t, state)
	published := sw.checkTotals(t)

	// Differencing: for every published total, the hidden cells it covers
	// are none, or at least two that hide discMinCount or more between
	// them.
	secondary := map[string]int{}
	for _, set := range discSets {
		for _, seg := range discSegments {
			union := map[string]int{}
			for _, lad := range discLADs {
				hidden, cells := map[string]int{}, 0
				for _, code := range g.hoods[set] {
					if g.hoodLad[set][code] == lad {
						cells++
					}
					if g.hoodLad[set][code] == lad && state[discKey(set, code, seg)].hidden {
						n := g.cell(set, code, seg)
						hidden[code], union[code] = n, n
						if n >= discMinCount {
							secondary[lad]++
						}
					}
				}
				t.Logf("%s %s %s: %d of %d cells hidden, hiding %d", lad, set, seg, len(hidden), cells, sumOf(hidden))
				if published[discTotalKey("borough", lad, seg)] {
					discDifference(t, fmt.Sprintf("%s %s within %s (its total is published)", set, seg, lad), hidden)
				}
			}
			// The combined set: the sum of both published borough totals, or
			// any region, combined authority or England total shown.
			unionShown := published[discTotalKey("borough", discWigan, seg)] && published[discTotalKey("borough", discBolton, seg)]
			for _, k := range []string{discTotalKey("region", g.region, seg), discTotalKey("cauth", g.cauth, seg), discTotalKey("england", "E92000001", seg)} {
				unionShown = unionShown || published[k]
			}
			if unionShown {
				discDifference(t, fmt.Sprintf("%s %s across both boroughs", set, seg), union)
			}
		}
	}
	for _, lad := range discLADs {
		if secondary[lad] == 0 {
			t.Errorf("%s: no count of 10 or more is withheld: secondary suppression never happened there, so the fixture proves nothing", lad)
		}
		for _, seg := range discSegments {
			if !published[discTotalKey("borough", lad, seg)] {
				t.Errorf("%s %s: the borough total is not published, so nothing can be differenced from it and the check proves nothing", lad, seg)
			}
		}
	}
}

func sumOf(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// discDifference fails when the hidden cells under one published total
// could be worked out from it: a single one, or several that hide fewer
// than discMinCount between them.
func discDifference(t *testing.T, what string, hidden map[string]int) {
	t.Helper()
	if n := sumOf(hidden); len(hidden) == 1 || (len(hidden) > 1 && n < discMinCount) {
		t.Errorf("%s: %d hidden cells hiding %d in total can be recovered by subtraction: %v", what, len(hidden), n, hidden)
	}
}

// discLoad makes the database: the sample, Bolton beside it, the lookups
// that put both in Greater Manchester and the North West, and recorded
// demand imported borough by borough, as two councils would.
func discLoad(t *testing.T) (string, *discGeo) {
	t.Helper()
	url := dbtest.New(t, true)
	loadDir(t, url, generate(t, "borough", "--seed", "5", "--lad", discBolton, "--name", "Bolton", "--near", "wigan"))
	conn := dbtest.Conn(t, url)
	importText := func(kind, name, text string, opts ingest.Options) {
		t.Helper()
		if _, err := dbtest.ImportText(t, conn, kind, name, text, opts); err != nil {
			t.Fatalf("import %s %s: %v", kind, name, err)
		}
	}
	importText("lad-lookup", "LAD24_RGN24_EN_LU.csv", "LAD24CD,LAD24NM,RGN24CD,RGN24NM\n"+
		"E08000001,Bolton,E12000002,North West\nE08000010,Wigan,E12000002,North West\nE08000003,Manchester,E12000002,North West\n", nil)
	importText("lad-lookup", "LAD24_CAUTH24_EN_LU.csv", "LAD24CD,LAD24NM,CAUTH24CD,CAUTH24NM\n"+
		"E08000001,Bolton,E47000001,Greater Manchester\nE08000010,Wigan,E47000001,Greater Manchester\nE08000003,Manchester,E47000001,Greater Manchester\n", nil)

	g := &discGeo{areaLad: map[string]string{}, areas: map[string][]string{}, members: map[string]map[string][]string{},
		hoodLad: map[string]map[string]string{}, hoods: map[string][]string{}, region: "E12000002", cauth: "E47000001", truthFor: demandTruth{}}
	for _, r := range dbtest.Rows(t, url, "SELECT code || ' ' || lad_code FROM nbhd.small_areas ORDER BY code") {
		code, lad, _ := strings.Cut(r, " ")
		g.areaLad[code] = lad
		g.areas[lad] = append(g.areas[lad], code)
	}
	for _, r := range dbtest.Rows(t, url, `SELECT n.set_id || ' ' || n.code || ' ' || n.lad_code || ' ' || m.small_area_code
		FROM nbhd.neighbourhoods n JOIN nbhd.neighbourhood_members m ON m.set_id = n.set_id AND m.neighbourhood_code = n.code
		WHERE n.set_id IN ('ward', 'msoa') ORDER BY 1`) {
		f := strings.Fields(r)
		set, code, lad, area := f[0], f[1], f[2], f[3]
		if g.members[set] == nil {
			g.members[set], g.hoodLad[set] = map[string][]string{}, map[string]string{}
		}
		if len(g.members[set][code]) == 0 {
			g.hoods[set] = append(g.hoods[set], code)
		}
		g.members[set][code] = append(g.members[set][code], area)
		g.hoodLad[set][code] = lad
		if g.areaLad[area] != lad {
			t.Fatalf("%s %s of %s has small area %s of %s", set, code, lad, area, g.areaLad[area])
		}
	}
	for _, set := range discSets {
		slices.Sort(g.hoods[set])
		for _, lad := range discLADs {
			n := 0
			for _, code := range g.hoods[set] {
				if g.hoodLad[set][code] == lad {
					n++
				}
			}
			if n < 5 {
				t.Fatalf("%s has %d neighbourhoods in set %s", lad, n, set)
			}
		}
	}

	// Recorded demand, from a seeded generator: sparse chaotic counts, so
	// that many neighbourhood totals are 1-9, and large just-coping counts
	// except in each borough's first ward (discQuiet).
	rng := rand.New(rand.NewPCG(2025, 26))
	for _, lad := range []string{discWigan, discBolton} {
		quiet := ""
		for _, code := range g.hoods["ward"] {
			if g.hoodLad["ward"][code] == lad {
				quiet = code
				break
			}
		}
		inQuiet := map[string]bool{}
		for _, a := range g.members["ward"][quiet] {
			inQuiet[a] = true
		}
		var b strings.Builder
		b.WriteString("lsoa_code,segment,count,period,source\n")
		first := true
		for _, a := range g.areas[lad] {
			chaotic := 0
			if rng.IntN(10) < 4 {
				chaotic = 1 + rng.IntN(4)
			}
			jc := 10 + rng.IntN(30)
			if inQuiet[a] {
				jc = 0
				if first {
					jc, first = discQuiet[lad], false
				}
			}
			g.truthFor[a] = map[string]int{"chaotic": chaotic, "just_coping": jc}
			for _, seg := range discSegments {
				if n := g.truthFor[a][seg]; n > 0 { // zeros left out, as councils do
					fmt.Fprintf(&b, "%s,%s,%d,2025-26,Early help records\n", a, seg, n)
				}
			}
		}
		importText("demand", "recorded_"+lad+".csv", b.String(), ingest.Options{"key": "recorded-" + lad})
	}
	return url, g
}

// discSweeper reads every public figure of recorded demand from a server
// over the loaded database.
type discSweeper struct {
	t      *testing.T
	base   string
	client *http.Client
	g      *discGeo
	bounds orb.Bound
	// figures are neighbourhood counts; rates their per-1,000 rates.
	figures, rates []discFigure
	totals         []discTotal
	population     map[string]float64 // set/code -> residents, from the headlines
	// expect says, for each place read, which cells it must show.
	expect map[string]discScope
}

type discFigure struct {
	where, set, code, seg string
	value                 *float64
	suppressed            bool
}

// discTotal is a total a neighbourhood count may be subtracted from.
type discTotal struct {
	where, scope, code, seg string
	value                   *float64
	suppressed              bool
}

type discScope struct {
	set  string
	segs []string
	lads []string // nil: both
}

func discKey(set, code, seg string) string { return set + "/" + code + "/" + seg }

func discTotalKey(scope, code, seg string) string { return scope + "/" + code + "/" + seg }

func discServe(t *testing.T, url string, g *discGeo) *discSweeper {
	t.Helper()
	store, err := data.Open(context.Background(), data.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	srv := httptest.NewServer(api.New(api.Config{}, store, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	var w, s, e, n float64
	if err := dbtest.Conn(t, url).QueryRow(context.Background(), `SELECT ST_XMin(x), ST_YMin(x), ST_XMax(x), ST_YMax(x)
		FROM (SELECT ST_Extent(geom) AS x FROM nbhd.small_areas) b`).Scan(&w, &s, &e, &n); err != nil {
		t.Fatal(err)
	}
	return &discSweeper{t: t, base: srv.URL, client: &http.Client{Timeout: time.Minute}, g: g,
		bounds: orb.Bound{Min: orb.Point{w, s}, Max: orb.Point{e, n}}, population: map[string]float64{}, expect: map[string]discScope{}}
}

// get fetches a public path (no key) and fails unless it answers 200, or
// 204 where noContent allows it.
func (s *discSweeper) get(path string, noContent bool) []byte {
	s.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, s.base+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	if resp.StatusCode == http.StatusNoContent && noContent {
		return nil
	}
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
	}
	return b
}

func (s *discSweeper) json(path string, v any) {
	s.t.Helper()
	if err := json.Unmarshal(s.get(path, false), v); err != nil {
		s.t.Fatalf("%s: %v", path, err)
	}
}

func (s *discSweeper) csv(path string) []map[string]string {
	s.t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(s.get(path, false))).ReadAll()
	if err != nil || len(recs) == 0 {
		s.t.Fatalf("%s: CSV: %v", path, err)
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

func (s *discSweeper) add(where, set, code, seg string, v any, suppressed bool) {
	s.figures = append(s.figures, discFigure{where, set, code, seg, discNum(v), suppressed})
}

func (s *discSweeper) addRate(where, set, code, seg string, v any, suppressed bool) {
	s.rates = append(s.rates, discFigure{where, set, code, seg, discNum(v), suppressed})
}

func (s *discSweeper) addTotal(where, scope, code, seg string, v any, suppressed bool) {
	s.totals = append(s.totals, discTotal{where, scope, code, seg, discNum(v), suppressed})
}

// discNum reads a JSON, CSV or MVT number; nil for null or empty.
func discNum(v any) *float64 {
	var f float64
	switch v := v.(type) {
	case float64:
		f = v
	case int64:
		f = float64(v)
	case uint64:
		f = float64(v)
	case *float64:
		return v
	case string:
		if v == "" {
			return nil
		}
		x, err := strconv.ParseFloat(strings.TrimPrefix(v, "'"), 64)
		if err != nil {
			return nil
		}
		f = x
	default:
		return nil
	}
	return &f
}

// lists is every list of neighbourhoods: all, each borough, both named.
func (s *discSweeper) lists() []struct{ query, label string } {
	return []struct{ query, label string }{
		{"", ""},
		{"borough=" + discWigan, "?borough=" + discWigan},
		{"borough=" + discBolton, "?borough=" + discBolton},
		{"borough=" + discBolton + "," + discWigan, "?borough=both"},
	}
}

func discLADsOf(query string) []string {
	if code, ok := strings.CutPrefix(query, "borough="); ok {
		return strings.Split(code, ",")
	}
	return nil
}

func discJoin(path, query string) string {
	if query == "" {
		return path
	}
	if strings.Contains(path, "?") {
		return path + "&" + query
	}
	return path + "?" + query
}

// sweep reads every endpoint that shows recorded demand.
func (s *discSweeper) sweep() {
	t := s.t
	for _, set := range discSets {
		s.features(set)
		for _, l := range s.lists() {
			s.headlines(set, l.query, l.label)
			s.assetGaps(set, l.query, l.label)
			s.investment(set, l.query, l.label)
		}
		s.tiles(set)
		for _, code := range s.g.hoods[set] {
			s.profile(set, code)
		}
	}
	for _, lad := range discLADs {
		s.borough(lad)
	}
	t.Logf("swept %d neighbourhood counts, %d rates and %d totals from %d places", len(s.figures), len(s.rates), len(s.totals), len(s.expect))
}

func (s *discSweeper) features(set string) {
	coll := "/collections/neighbourhoods-" + set + "/items"
	var fc struct {
		Features []struct {
			ID         string
			Properties map[string]any
		}
	}
	s.json(coll+"?limit=10000", &fc)
	s.expect["features "+set] = discScope{set, discSegments, nil}
	for _, f := range fc.Features {
		for _, seg := range discSegments {
			s.add("features "+set, set, f.ID, seg, f.Properties[seg], f.Properties[seg+"_suppressed"] == true)
			s.addRate("features "+set, set, f.ID, seg, f.Properties[seg+"_per_1000"], f.Properties[seg+"_suppressed"] == true)
		}
	}
	s.expect["features CSV "+set] = discScope{set, discSegments, nil}
	for _, r := range s.csv(coll + "?limit=10000&f=csv") {
		for _, seg := range discSegments {
			s.add("features CSV "+set, set, r["id"], seg, r[seg], r[seg+"_suppressed"] == "true")
			s.addRate("features CSV "+set, set, r["id"], seg, r[seg+"_per_1000"], r[seg+"_suppressed"] == "true")
		}
	}
	s.expect["feature "+set] = discScope{set, discSegments, nil}
	for _, code := range s.g.hoods[set] {
		var f struct {
			ID         string
			Properties map[string]any
		}
		s.json(coll+"/"+code, &f)
		for _, seg := range discSegments {
			s.add("feature "+set, set, code, seg, f.Properties[seg], f.Properties[seg+"_suppressed"] == true)
		}
	}
}

func (s *discSweeper) headlines(set, query, label string) {
	path := discJoin("/neighbourhoods/"+set, query)
	var list struct{ Neighbourhoods []map[string]any }
	s.json(path, &list)
	where := "headlines " + set + label
	s.expect[where] = discScope{set, discSegments, discLADsOf(query)}
	for _, n := range list.Neighbourhoods {
		code, _ := n["code"].(string)
		if pop := discNum(n["population"]); pop != nil {
			s.population[set+"/"+code] = *pop
		}
		for _, seg := range discSegments {
			s.add(where, set, code, seg, n[seg], n[seg+"_suppressed"] == true)
			s.addRate(where, set, code, seg, n[seg+"_per_1000"], n[seg+"_suppressed"] == true)
		}
	}
	where = "headlines CSV " + set + label
	s.expect[where] = discScope{set, discSegments, discLADsOf(query)}
	for _, r := range s.csv(discJoin(path, "f=csv")) {
		for _, seg := range discSegments {
			s.add(where, set, r["code"], seg, r[seg], r[seg+"_suppressed"] == "true")
			s.addRate(where, set, r["code"], seg, r[seg+"_per_1000"], r[seg+"_suppressed"] == "true")
		}
	}
}

// assetGaps has no suppressed flag: a withheld count is an empty one, and
// the demand it adds up must be empty with it.
func (s *discSweeper) assetGaps(set, query, label string) {
	t := s.t
	path := discJoin("/insights/asset-gaps?set="+set, query)
	var gaps struct{ Neighbourhoods []map[string]any }
	s.json(path, &gaps)
	where := "asset gaps " + set + label
	s.expect[where] = discScope{set, discSegments, discLADsOf(query)}
	sums := func(code string, ch, jc, demand, perAsset *float64) {
		if demand != nil && (ch == nil || jc == nil || *demand != *ch+*jc) {
			t.Errorf("%s %s: demand %v is not chaotic %v + just coping %v, both shown", where, code, *demand, ch, jc)
		}
		if perAsset != nil && demand == nil {
			t.Errorf("%s %s: demand per asset %v with the demand withheld", where, code, *perAsset)
		}
	}
	for _, n := range gaps.Neighbourhoods {
		code, _ := n["code"].(string)
		for _, seg := range discSegments {
			s.add(where, set, code, seg, n[seg], n[seg] == nil)
		}
		sums(code, discNum(n["chaotic"]), discNum(n["just_coping"]), discNum(n["demand"]), discNum(n["demand_per_asset"]))
	}
	where = "asset gaps CSV " + set + label
	s.expect[where] = discScope{set, discSegments, discLADsOf(query)}
	for _, r := range s.csv(discJoin(path, "f=csv")) {
		if r["level"] != "neighbourhood" {
			continue
		}
		for _, seg := range discSegments {
			s.add(where, set, r["code"], seg, r[seg], r[seg] == "")
		}
		sums(r["code"], discNum(r["chaotic"]), discNum(r["just_coping"]), discNum(r["demand"]), discNum(r["demand_per_asset"]))
	}
}

// investment shows each neighbourhood's just-coping count and, as
// comparators, each borough's and England's.
func (s *discSweeper) investment(set, query, label string) {
	path := discJoin("/insights/investment?set="+set, query)
	var inv struct {
		Neighbourhoods []map[string]any
		Comparators    []map[string]any
	}
	s.json(path, &inv)
	where := "investment " + set + label
	s.expect[where] = discScope{set, []string{"just_coping"}, discLADsOf(query)}
	for _, n := range inv.Neighbourhoods {
		code, _ := n["code"].(string)
		s.add(where, set, code, "just_coping", n["just_coping"], n["just_coping_suppressed"] == true)
		s.addRate(where, set, code, "just_coping", n["just_coping_per_1000"], n["just_coping_suppressed"] == true)
	}
	for _, c := range inv.Comparators {
		scope, _ := c["scope"].(string)
		code, _ := c["code"].(string)
		s.addTotal(where, scope, code, "just_coping", c["just_coping"], c["just_coping"] == nil)
	}
	where = "investment CSV " + set + label
	s.expect[where] = discScope{set, []string{"just_coping"}, discLADsOf(query)}
	for _, r := range s.csv(discJoin(path, "f=csv")) {
		s.add(where, set, r["code"], "just_coping", r["just_coping"], r["just_coping_suppressed"] == "true")
		s.addRate(where, set, r["code"], "just_coping", r["just_coping_per_1000"], r["just_coping_suppressed"] == "true")
	}
}

// tiles reads every z10 tile over both boroughs: the set's own layer, the
// composite, and the set's OGC API tiles; each neighbourhood once per
// source, though it lies in several tiles.
func (s *discSweeper) tiles(set string) {
	t := s.t
	layer := "neighbourhoods-" + set
	minT, maxT := tiles.Cover(s.bounds, 10)
	for _, src := range []string{"/tiles/" + layer + "/10/%[1]d/%[2]d.mvt", "/tiles/all/10/%[1]d/%[2]d.mvt",
		"/collections/" + layer + "/tiles/" + tiles.WebMercatorQuadID + "/10/%[2]d/%[1]d"} {
		where := "tiles " + strings.SplitN(src, "/10/", 2)[0]
		s.expect[where] = discScope{set, discSegments, nil}
		seen := map[string]bool{}
		for x := minT.X; x <= maxT.X; x++ {
			for y := minT.Y; y <= maxT.Y; y++ {
				path := fmt.Sprintf(src, x, y)
				body := s.get(path, true)
				if body == nil {
					continue
				}
				ls, err := mvt.Unmarshal(body)
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				for _, l := range ls {
					if l.Name != layer {
						continue
					}
					for _, f := range l.Features {
						code, _ := f.Properties["code"].(string)
						if seen[code] {
							continue
						}
						seen[code] = true
						for _, seg := range discSegments {
							s.add(where, set, code, seg, f.Properties[seg], f.Properties[seg+"_suppressed"] == true)
							if _, ok := f.Properties[seg+"_per_1000"]; ok {
								s.addRate(where, set, code, seg, f.Properties[seg+"_per_1000"], f.Properties[seg+"_suppressed"] == true)
							}
						}
					}
				}
			}
		}
	}
}

// discComparator is a profile's comparator of one indicator.
type discComparator struct {
	Value, Total, Difference, Index *float64
	Suppressed                      bool
}

type discIndicator struct {
	ID              string
	Value           *float64
	Suppressed      bool
	Rank            *int
	Borough, Region *discComparator
	Cauth           *discComparator `json:"combined_authority"`
	England         *discComparator
}

// demandIndicator says which segment an indicator id counts, and whether
// it is the rate.
func demandIndicator(id string) (seg string, rate, ok bool) {
	for _, seg := range discSegments {
		switch id {
		case seg:
			return seg, false, true
		case seg + "_per_1000":
			return seg, true, true
		}
	}
	return "", false, false
}

// profile reads one neighbourhood's profile as JSON and CSV: its counts and
// rates, and the totals of its borough, region, combined authority and
// England beside them. A withheld count has no rank, difference or index:
// each would give it back.
func (s *discSweeper) profile(set, code string) {
	t := s.t
	var p struct {
		Borough    struct{ Code string }
		Region     *struct{ Code string }
		Cauth      *struct{ Code string } `json:"combined_authority"`
		Indicators []discIndicator
	}
	path := "/neighbourhoods/" + set + "/" + code
	s.json(path, &p)
	if p.Region == nil || p.Cauth == nil {
		t.Fatalf("%s: no region or combined authority: %+v %+v", path, p.Region, p.Cauth)
	}
	s.expect["profile "+set] = discScope{set, discSegments, nil}
	scopes := []struct{ scope, code string }{{"borough", p.Borough.Code}, {"region", p.Region.Code}, {"cauth", p.Cauth.Code}, {"england", "E92000001"}}
	for _, ind := range p.Indicators {
		seg, rate, ok := demandIndicator(ind.ID)
		if !ok {
			continue
		}
		if rate {
			s.addRate("profile "+set, set, code, seg, ind.Value, ind.Suppressed)
		} else {
			s.add("profile "+set, set, code, seg, ind.Value, ind.Suppressed)
		}
		for i, c := range []*discComparator{ind.Borough, ind.Region, ind.Cauth, ind.England} {
			if c == nil {
				t.Errorf("%s %s: no %s comparator", path, ind.ID, scopes[i].scope)
				continue
			}
			if ind.Value == nil && (c.Difference != nil || c.Index != nil) {
				t.Errorf("%s %s: withheld, but its %s difference %v / index %v give it back", path, ind.ID, scopes[i].scope, c.Difference, c.Index)
			}
			if !rate {
				if c.Total == nil && c.Value != nil {
					t.Errorf("%s %s: the %s average %v is shown without its total", path, ind.ID, scopes[i].scope, *c.Value)
				}
				s.addTotal("profile "+set, scopes[i].scope, scopes[i].code, seg, c.Total, c.Total == nil)
			}
		}
		if ind.Value == nil && ind.Rank != nil {
			t.Errorf("%s %s: withheld, but ranked %d", path, ind.ID, *ind.Rank)
		}
	}
	s.expect["profile CSV "+set] = discScope{set, discSegments, nil}
	for _, r := range s.csv(path + "?f=csv") {
		seg, rate, ok := demandIndicator(r["indicator"])
		if !ok {
			continue
		}
		if rate {
			s.addRate("profile CSV "+set, set, code, seg, r["value"], r["suppressed"] == "true")
		} else {
			s.add("profile CSV "+set, set, code, seg, r["value"], r["suppressed"] == "true")
		}
		for i, col := range []string{"borough", "region", "combined_authority", "england"} {
			if r["value"] == "" && (r[col+"_difference"] != "" || r[col+"_index"] != "") {
				t.Errorf("%s?f=csv %s: withheld, but its %s difference %q / index %q give it back", path, r["indicator"], col, r[col+"_difference"], r[col+"_index"])
			}
			if !rate {
				s.addTotal("profile CSV "+set, scopes[i].scope, scopes[i].code, seg, r[col+"_total"], r[col+"_total"] == "")
			}
		}
		if r["value"] == "" && r["rank"] != "" {
			t.Errorf("%s?f=csv %s: withheld, but ranked %s", path, r["indicator"], r["rank"])
		}
	}
}

// borough reads a borough's own profile: its totals, and its region's,
// combined authority's and England's beside them.
func (s *discSweeper) borough(lad string) {
	t := s.t
	var p struct {
		Region     *struct{ Code string }
		Cauth      *struct{ Code string } `json:"combined_authority"`
		Indicators []discIndicator
	}
	path := "/boroughs/" + lad
	s.json(path, &p)
	if p.Region == nil || p.Cauth == nil {
		t.Fatalf("%s: no region or combined authority", path)
	}
	scopes := []struct{ scope, code string }{{"region", p.Region.Code}, {"cauth", p.Cauth.Code}, {"england", "E92000001"}}
	for _, ind := range p.Indicators {
		seg, rate, ok := demandIndicator(ind.ID)
		if !ok || rate {
			continue
		}
		s.addTotal(path, "borough", lad, seg, ind.Value, ind.Suppressed)
		for i, c := range []*discComparator{ind.Region, ind.Cauth, ind.England} {
			if c != nil {
				s.addTotal(path, scopes[i].scope, scopes[i].code, seg, c.Total, c.Total == nil)
			}
		}
	}
	for _, r := range s.csv(path + "?f=csv") {
		seg, rate, ok := demandIndicator(r["indicator"])
		if !ok || rate {
			continue
		}
		s.addTotal(path+"?f=csv", "borough", lad, seg, r["value"], r["suppressed"] == "true")
		for i, col := range []string{"region", "combined_authority", "england"} {
			s.addTotal(path+"?f=csv", scopes[i].scope, scopes[i].code, seg, r[col+"_total"], r[col+"_total"] == "")
		}
	}
}

// discCell is what the endpoints together show of one neighbourhood count.
type discCell struct {
	hidden bool     // withheld everywhere it is shown
	value  *float64 // the count shown, when it is
}

// cells checks every neighbourhood count shown against the truth, and
// that every endpoint showed each cell it should and agrees with the
// others about it.
func (s *discSweeper) cells(t *testing.T) map[string]discCell {
	g := s.g
	seen := map[string]map[string]bool{}
	shown := map[string][]discFigure{}
	for _, f := range s.figures {
		k := discKey(f.set, f.code, f.seg)
		if _, ok := g.members[f.set][f.code]; !ok {
			t.Errorf("%s: unknown neighbourhood %s/%s", f.where, f.set, f.code)
			continue
		}
		if seen[f.where] == nil {
			seen[f.where] = map[string]bool{}
		}
		seen[f.where][k] = true
		shown[k] = append(shown[k], f)
		n := g.cell(f.set, f.code, f.seg)
		switch {
		case f.suppressed:
			if f.value != nil {
				t.Errorf("%s %s/%s %s: suppressed but shows %v", f.where, f.set, f.code, f.seg, *f.value)
			}
		case f.value == nil:
			t.Errorf("%s %s/%s %s: no value and not marked suppressed", f.where, f.set, f.code, f.seg)
		default:
			v := *f.value
			if n > 0 && n < discMinCount {
				t.Errorf("%s %s/%s %s: publishes %v for a true count of %d", f.where, f.set, f.code, f.seg, v, n)
			}
			if math.Mod(v, 5) != 0 || math.Abs(v-float64(n)) > 2.5 {
				t.Errorf("%s %s/%s %s: %v is not %d rounded to the nearest 5", f.where, f.set, f.code, f.seg, v, n)
			}
		}
	}
	for where, sc := range s.expect {
		missing := 0
		for _, code := range g.hoods[sc.set] {
			if sc.lads != nil && !slices.Contains(sc.lads, g.hoodLad[sc.set][code]) {
				continue
			}
			for _, seg := range sc.segs {
				if !seen[where][discKey(sc.set, code, seg)] {
					missing++
				}
			}
		}
		if missing > 0 {
			t.Errorf("%s: %d of its cells were not seen", where, missing)
		}
		for k := range seen[where] {
			set, code := strings.Split(k, "/")[0], strings.Split(k, "/")[1]
			if sc.lads != nil && !slices.Contains(sc.lads, g.hoodLad[set][code]) {
				t.Errorf("%s shows %s, of %s", where, k, g.hoodLad[set][code])
			}
		}
	}
	state := map[string]discCell{}
	for k, fs := range shown {
		c := discCell{hidden: true}
		for _, f := range fs {
			if !f.suppressed && f.value != nil {
				c.hidden = false
				if c.value != nil && *c.value != *f.value {
					t.Errorf("%s: %s shows %v, another endpoint %v", k, f.where, *f.value, *c.value)
				}
				c.value = f.value
			}
		}
		if !c.hidden {
			for _, f := range fs {
				if f.suppressed || f.value == nil {
					t.Errorf("%s: withheld by %s but shown (%v) elsewhere", k, f.where, *c.value)
				}
			}
		}
		state[k] = c
	}
	return state
}

// checkRates checks the per-1,000 rates: withheld with their count, and
// otherwise the shown (rounded) count over the residents.
func (s *discSweeper) checkRates(t *testing.T, state map[string]discCell) {
	if len(s.rates) == 0 {
		t.Fatal("no rates swept")
	}
	for _, r := range s.rates {
		c := state[discKey(r.set, r.code, r.seg)]
		pop, ok := s.population[r.set+"/"+r.code]
		switch {
		case !ok || pop <= 0:
			t.Errorf("%s %s/%s: no population to check its rate with", r.where, r.set, r.code)
		case c.hidden:
			if r.value != nil {
				t.Errorf("%s %s/%s %s_per_1000: %v shown while the count is withheld (%v residents give it back)", r.where, r.set, r.code, r.seg, *r.value, pop)
			}
		case r.value == nil:
			t.Errorf("%s %s/%s %s_per_1000: withheld while the count %v is shown", r.where, r.set, r.code, r.seg, *c.value)
		default:
			if back := *r.value * pop / 1000; math.Abs(back-*c.value) > 0.01*pop/1000+1e-9 {
				t.Errorf("%s %s/%s %s_per_1000: %v is not the shown count %v per 1,000 of %v residents", r.where, r.set, r.code, r.seg, *r.value, *c.value, pop)
			}
		}
	}
}

// checkTotals checks every total shown against the truth and says which
// are published: a borough's is its recorded total rounded to 5, and a
// region's, combined authority's or England's (both boroughs here) the
// sum of both, if shown at all.
func (s *discSweeper) checkTotals(t *testing.T) map[string]bool {
	g := s.g
	published := map[string]bool{}
	shown := map[string]float64{}
	for _, tot := range s.totals {
		k := discTotalKey(tot.scope, tot.code, tot.seg)
		var n int
		var slack float64
		switch tot.scope {
		case "borough":
			if !slices.Contains(discLADs, tot.code) {
				t.Errorf("%s: a total for borough %s", tot.where, tot.code)
				continue
			}
			n, slack = g.boroughTotal(tot.code, tot.seg), 2.5
		case "region", "cauth", "england":
			if want := map[string]string{"region": g.region, "cauth": g.cauth, "england": "E92000001"}[tot.scope]; tot.code != want {
				t.Errorf("%s: %s %s, want %s", tot.where, tot.scope, tot.code, want)
			}
			n, slack = g.boroughTotal(discWigan, tot.seg)+g.boroughTotal(discBolton, tot.seg), 5
		default:
			t.Errorf("%s: a total of unknown scope %q", tot.where, tot.scope)
			continue
		}
		switch {
		case tot.suppressed:
			if tot.value != nil {
				t.Errorf("%s %s %s: suppressed but shows %v", tot.where, k, tot.seg, *tot.value)
			}
		case tot.value == nil:
			t.Errorf("%s %s: no value and not marked suppressed", tot.where, k)
		default:
			v := *tot.value
			published[k] = true
			if n > 0 && n < discMinCount {
				t.Errorf("%s %s: publishes %v for a true count of %d", tot.where, k, v, n)
			}
			if math.Mod(v, 5) != 0 || math.Abs(v-float64(n)) > slack {
				t.Errorf("%s %s: %v is not %d rounded to 5", tot.where, k, v, n)
			}
			if old, ok := shown[k]; ok && old != v {
				t.Errorf("%s %s: %v, elsewhere %v", tot.where, k, v, old)
			}
			shown[k] = v
		}
	}
	for k := range published {
		t.Logf("published total %s = %v", k, shown[k])
	}
	return published
}
