package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"

	"nbhd/api"
	"nbhd/data"
	"nbhd/data/dbtest"
	"nbhd/tiles"
)

// recorded is the truth behind a test's recorded demand: small area ->
// segment -> count.
type recorded map[string]map[string]int

// loadRecorded imports recorded counts full of small numbers, the kind
// disclosure control exists for.
func (e *env) loadRecorded(t *testing.T) recorded {
	t.Helper()
	conn := dbtest.Conn(t, e.dbURL)
	rows, err := conn.Query(context.Background(), "SELECT code FROM nbhd.small_areas ORDER BY code")
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		codes = append(codes, c)
	}
	// One ward gets a just-coping total of 4 while every other ward's is
	// large: a single suppressed cell, which subtraction from the borough
	// total would give away unless a second is suppressed.
	small := map[string]bool{}
	first := true
	for _, a := range e.members(t)["ward"][firstWard(e.members(t)["ward"])] {
		small[a] = true
		if first {
			small[a+"/4"] = true
			first = false
		}
	}
	truth := recorded{}
	var b strings.Builder
	b.WriteString("small_area_code,segment,count,period,source\n")
	for i, c := range codes {
		// Sparse chaotic counts make many neighbourhood totals of 1-9.
		chaotic := 0
		if i%7 == 0 {
			chaotic++
		}
		if i%23 == 0 {
			chaotic += 6
		}
		jc := 3 + (i*7)%40
		if small[c] {
			jc = 0
			if small[c+"/4"] {
				jc = 4
			}
		}
		truth[c] = map[string]int{"chaotic": chaotic, "just_coping": jc}
		if truth[c]["chaotic"] > 0 { // zeros are left out, as councils do
			fmt.Fprintf(&b, "%s,chaotic,%d,2025-26,Test records\n", c, truth[c]["chaotic"])
		}
		if jc > 0 {
			fmt.Fprintf(&b, "%s,just_coping,%d,2025-26,Test records\n", c, jc)
		}
	}
	if _, err := dbtest.ImportText(t, dbtest.Conn(t, e.dbURL), "demand", "recorded.csv", b.String(), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.RefreshVersion(context.Background()); err != nil {
		t.Fatal(err)
	}
	return truth
}

func firstWard(hoods map[string][]string) string {
	var codes []string
	for c := range hoods {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	return codes[0]
}

// members maps set -> neighbourhood -> small areas, read with an admin
// connection.
func (e *env) members(t *testing.T) map[string]map[string][]string {
	t.Helper()
	rows, err := dbtest.Conn(t, e.dbURL).Query(context.Background(), "SELECT set_id, neighbourhood_code, small_area_code FROM nbhd.neighbourhood_members")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string][]string{}
	for rows.Next() {
		var s, n, a string
		if err := rows.Scan(&s, &n, &a); err != nil {
			t.Fatal(err)
		}
		if out[s] == nil {
			out[s] = map[string][]string{}
		}
		out[s][n] = append(out[s][n], a)
	}
	return out
}

// published is one neighbourhood-level recorded figure as an endpoint
// showed it.
type published struct {
	where      string
	set, code  string
	segment    string
	value      *float64
	suppressed bool
}

func fptr(v any) *float64 {
	switch v := v.(type) {
	case float64:
		return &v
	case string:
		if v == "" {
			return nil
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil
		}
		return &f
	}
	return nil
}

func csvMaps(t *testing.T, body []byte) []map[string]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v", err)
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

// sweep gathers every neighbourhood-level demand figure that any public
// endpoint serves, in every format.
func (e *env) sweep(t *testing.T, sets []string, codes map[string][]string) []published {
	var out []published
	add := func(where, set, code, seg string, v any, supp bool) {
		out = append(out, published{where, set, code, seg, fptr(v), supp})
	}
	for _, set := range sets {
		var fc struct {
			Features []struct {
				ID         string
				Properties map[string]any
			}
		}
		_, body := e.get(t, "/collections/neighbourhoods-"+set+"/items?limit=10000")
		if err := json.Unmarshal(body, &fc); err != nil {
			t.Fatal(err)
		}
		for _, f := range fc.Features {
			for _, seg := range []string{"chaotic", "just_coping"} {
				add("features", set, f.ID, seg, f.Properties[seg], f.Properties[seg+"_suppressed"] == true)
			}
		}
		_, body = e.get(t, "/collections/neighbourhoods-"+set+"/items?limit=10000&f=csv")
		for _, r := range csvMaps(t, body) {
			for _, seg := range []string{"chaotic", "just_coping"} {
				add("features CSV", set, r["id"], seg, r[seg], r[seg+"_suppressed"] == "true")
			}
		}
		var list struct{ Neighbourhoods []map[string]any }
		_, body = e.get(t, "/neighbourhoods/"+set)
		if err := json.Unmarshal(body, &list); err != nil {
			t.Fatal(err)
		}
		for _, n := range list.Neighbourhoods {
			for _, seg := range []string{"chaotic", "just_coping"} {
				add("headlines", set, n["code"].(string), seg, n[seg], n[seg+"_suppressed"] == true)
			}
		}
		_, body = e.get(t, "/neighbourhoods/"+set+"?f=csv")
		for _, r := range csvMaps(t, body) {
			for _, seg := range []string{"chaotic", "just_coping"} {
				add("headlines CSV", set, r["code"], seg, r[seg], r[seg+"_suppressed"] == "true")
			}
		}
		var gaps struct{ Neighbourhoods []map[string]any }
		_, body = e.get(t, "/insights/asset-gaps?set="+set)
		if err := json.Unmarshal(body, &gaps); err != nil {
			t.Fatal(err)
		}
		for _, n := range gaps.Neighbourhoods {
			for _, seg := range []string{"chaotic", "just_coping"} {
				add("asset gaps", set, n["code"].(string), seg, n[seg], n[seg] == nil)
			}
		}
		_, body = e.get(t, "/insights/asset-gaps?set="+set+"&f=csv")
		for _, r := range csvMaps(t, body) {
			if r["level"] == "neighbourhood" {
				for _, seg := range []string{"chaotic", "just_coping"} {
					add("asset gaps CSV", set, r["code"], seg, r[seg], r[seg] == "")
				}
			}
		}
		// Vector tiles: every tile of the borough at z10, both the set's
		// own layer and the composite; a neighbourhood is in several.
		for _, layer := range []string{"neighbourhoods-" + set, "all"} {
			seen := map[string]bool{}
			minT, maxT := tiles.Cover(orb.Bound{Min: orb.Point{-2.74, 53.44}, Max: orb.Point{-2.41, 53.61}}, 10)
			for x := minT.X; x <= maxT.X; x++ {
				for y := minT.Y; y <= maxT.Y; y++ {
					resp, body := e.get(t, fmt.Sprintf("/tiles/%s/10/%d/%d.mvt", layer, x, y))
					if resp.StatusCode == http.StatusNoContent {
						continue
					}
					ls, err := mvt.Unmarshal(body)
					if err != nil {
						t.Fatalf("tile %d/%d: %v", x, y, err)
					}
					for _, l := range ls {
						if l.Name != "neighbourhoods-"+set {
							continue
						}
						for _, f := range l.Features {
							code := f.Properties["code"].(string)
							if seen[code] {
								continue
							}
							seen[code] = true
							for _, seg := range []string{"chaotic", "just_coping"} {
								add("tiles "+layer, set, code, seg, f.Properties[seg], f.Properties[seg+"_suppressed"] == true)
							}
						}
					}
				}
			}
		}
		for _, code := range codes[set] {
			var p struct {
				Indicators []struct {
					ID         string
					Vintage    string
					Value      any
					Suppressed bool
				}
			}
			_, body := e.get(t, "/neighbourhoods/"+set+"/"+code)
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			for _, d := range p.Indicators {
				if d.ID == "chaotic" || d.ID == "just_coping" {
					add("profile", set, code, d.ID, d.Value, d.Suppressed)
				}
			}
			_, body = e.get(t, "/neighbourhoods/"+set+"/"+code+"?f=csv")
			for _, r := range csvMaps(t, body) {
				if r["indicator"] == "chaotic" || r["indicator"] == "just_coping" {
					add("profile CSV", set, code, r["indicator"], r["value"], r["suppressed"] == "true")
				}
			}
		}
	}
	return out
}

func TestNoRecordedSmallCountIsPublishedOrRecoverable(t *testing.T) {
	e := newEnv(t)
	truth := e.loadRecorded(t)
	members := e.members(t)
	codes := map[string][]string{}
	for set, hoods := range members {
		for code := range hoods {
			codes[set] = append(codes[set], code)
		}
		sort.Strings(codes[set])
	}
	sets := []string{"ward", "msoa"}
	trueCount := func(set, code, seg string) int {
		n := 0
		for _, a := range members[set][code] {
			n += truth[a][seg]
		}
		return n
	}
	figures := e.sweep(t, sets, codes)
	// Two segments of 65 neighbourhoods from ten endpoints and formats.
	if len(figures) != 2*(25+40)*10 {
		t.Fatalf("swept only %d figures", len(figures))
	}
	suppressed := map[string]map[string]bool{} // set/segment -> suppressed codes
	for _, p := range figures {
		n := trueCount(p.set, p.code, p.segment)
		switch {
		case p.suppressed:
			if p.value != nil {
				t.Errorf("%s %s/%s %s: suppressed but shows %v", p.where, p.set, p.code, p.segment, *p.value)
			}
			k := p.set + "/" + p.segment
			if suppressed[k] == nil {
				suppressed[k] = map[string]bool{}
			}
			suppressed[k][p.code] = true
		case p.value == nil:
			t.Errorf("%s %s/%s %s: no value and not marked suppressed", p.where, p.set, p.code, p.segment)
		default:
			v := *p.value
			if n > 0 && n < 10 {
				t.Errorf("%s %s/%s %s: publishes %v for a true count of %d", p.where, p.set, p.code, p.segment, v, n)
			}
			if math.Mod(v, 5) != 0 || math.Abs(v-float64(n)) > 2.5 {
				t.Errorf("%s %s/%s %s: %v is not %d rounded to the nearest 5", p.where, p.set, p.code, p.segment, v, n)
			}
		}
	}
	// Differencing: every set's published counts subtracted from its
	// published total must not pin down a suppressed count.
	for _, set := range sets {
		for _, seg := range []string{"chaotic", "just_coping"} {
			cells := suppressed[set+"/"+seg]
			hidden := 0
			for code := range cells {
				hidden += trueCount(set, code, seg)
			}
			if len(cells) == 1 || (len(cells) > 1 && hidden < 10) {
				t.Errorf("%s %s: %d suppressed cells hiding %d in total can be recovered from the published total", set, seg, len(cells), hidden)
			}
		}
	}
	if len(suppressed["ward/chaotic"])+len(suppressed["msoa/chaotic"]) == 0 {
		t.Error("no count was suppressed: the test data should have forced some")
	}
	// Small areas never show recorded demand: their figures are the estimates.
	conn := dbtest.Conn(t, e.dbURL)
	var mismatches int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM api.small_areas sa JOIN nbhd.demand d
		ON d.small_area_code = sa.code AND d.segment = 'chaotic' AND d.kind = 'estimated'
		WHERE sa.chaotic_estimate IS DISTINCT FROM round(d.count) OR sa.demand_source <> 'estimated'`).Scan(&mismatches); err != nil {
		t.Fatal(err)
	}
	if mismatches != 0 {
		t.Errorf("%d small areas publish something other than the estimate", mismatches)
	}
	var p fc
	_, body := e.get(t, "/collections/small-areas/items?limit=1")
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	for k := range p.Features[0].Properties {
		if k == "chaotic" || k == "just_coping" || strings.Contains(k, "recorded") {
			t.Errorf("small areas publish %q", k)
		}
	}
}

// staff makes a key with an admin connection and returns its token.
func (e *env) staff(t *testing.T, scopes ...string) (string, int64) {
	t.Helper()
	token, k, err := data.CreateKey(context.Background(), dbtest.Conn(t, e.dbURL), "test key", "staff", scopes)
	if err != nil {
		t.Fatal(err)
	}
	return token, k.ID
}

func TestOutreachIsStaffOnly(t *testing.T) {
	e := newEnvWith(t, api.Config{AuthFailuresPerMinute: 5}, data.Config{})
	path := "/outreach?set=ward&neighbourhood=E05000840"
	resp, body := e.get(t, path)
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("no key: %d %s", resp.StatusCode, body)
	}
	token, id := e.staff(t)
	if resp, body := e.get(t, path, "Authorization", "Bearer "+token); resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "private, no-store" {
		t.Fatalf("valid key: %d %s %v", resp.StatusCode, body, resp.Header)
	}
	scoped, _ := e.staff(t, "ward:E05000841")
	if resp, _ := e.get(t, path, "Authorization", "Bearer "+scoped); resp.StatusCode != http.StatusForbidden {
		t.Errorf("key scoped to another ward: %d", resp.StatusCode)
	}
	if resp, _ := e.get(t, "/outreach?set=ward&neighbourhood=E05000841", "Authorization", "Bearer "+scoped); resp.StatusCode != 200 {
		t.Errorf("key scoped to this ward: %d", resp.StatusCode)
	}
	if err := data.RevokeKey(context.Background(), dbtest.Conn(t, e.dbURL), id); err != nil {
		t.Fatal(err)
	}
	if resp, _ := e.get(t, path, "Authorization", "Bearer "+token); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked key: %d", resp.StatusCode)
	}
	// The audit log has the answered requests with their row counts, and
	// the one refused for its scope.
	var answered, refused, rows int
	if err := dbtest.Conn(t, e.dbURL).QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE status = 200),
		count(*) FILTER (WHERE status = 403), coalesce(min(rows) FILTER (WHERE status = 200), 0)
		FROM nbhd.audit_log WHERE path = '/outreach' AND query LIKE 'set=ward%'`).Scan(&answered, &refused, &rows); err != nil {
		t.Fatal(err)
	}
	if answered != 2 || refused != 1 || rows == 0 {
		t.Errorf("audit log: %d answered (min rows %d), %d refused; want 2 with rows and 1", answered, rows, refused)
	}
	// Failed checks are rate-limited per client: after 5 failures (the
	// revoked key was the first), 429.
	statuses := []int{}
	for range 6 {
		resp, _ := e.get(t, path, "Authorization", "Bearer nbhd_1_guess")
		statuses = append(statuses, resp.StatusCode)
	}
	if fmt.Sprint(statuses) != "[401 401 401 401 429 429]" {
		t.Errorf("repeated bad keys: %v, want 401 four more times then 429", statuses)
	}
	if resp, _ := e.get(t, path, "Authorization", "Bearer "+scoped); resp.StatusCode != 429 {
		t.Errorf("a good key from a blocked client: %d, want 429", resp.StatusCode)
	}
}

func TestOutreachRanksAndShowsWhatIsNearby(t *testing.T) {
	e := newEnv(t)
	token, _ := e.staff(t)
	_, body := e.get(t, "/outreach?set=ward&neighbourhood=E05000840", "Authorization", "Bearer "+token)
	var out struct {
		SmallAreas []map[string]any `json:"small_areas"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	if want := e.dbCount(t, "SELECT count(*) FROM nbhd.neighbourhood_members WHERE set_id='ward' AND neighbourhood_code='E05000840'"); len(out.SmallAreas) != want {
		t.Fatalf("%d small areas, ward has %d", len(out.SmallAreas), want)
	}
	conn := dbtest.Conn(t, e.dbURL)
	last := math.Inf(1)
	for _, r := range out.SmallAreas {
		score := r["score"].(float64)
		if score > last {
			t.Errorf("not ranked: %v after %v", score, last)
		}
		last = score
		// The score is the documented weighted sum of its components.
		want := 100 * (0.4*r["just_coping_component"].(float64) + 0.2*r["chaotic_component"].(float64) +
			0.2*r["access_component"].(float64) + 0.2*r["deprivation_component"].(float64))
		if math.Abs(score-want) > 0.02 {
			t.Errorf("%s: score %v, components give %v", r["code"], score, want)
		}
		assets := r["assets"].([]any)
		if len(assets) != 3 {
			t.Fatalf("%s: %d nearest assets", r["code"], len(assets))
		}
		prev := -1.0
		for _, a := range assets {
			m := a.(map[string]any)
			d := m["distance_m"].(float64)
			var check float64
			// Distance from the mean of the area's postcodes, by PostGIS.
			if err := conn.QueryRow(context.Background(), `SELECT round(ST_Distance(a.geom_bng,
				(SELECT ST_Centroid(ST_Collect(ST_Transform(p.geom, 27700))) FROM nbhd.postcodes p JOIN nbhd.small_areas s ON ST_Intersects(s.geom, p.geom) WHERE s.code = $2)))
				FROM nbhd.community_assets a WHERE a.id = $1`, m["id"], r["code"]).Scan(&check); err != nil {
				t.Fatal(err)
			}
			if d < prev || math.Abs(d-check) > 1 {
				t.Errorf("%s: asset %s at %v m (PostGIS %v), previous %v", r["code"], m["id"], d, check, prev)
			}
			prev = d
		}
		if r["gp_name"] == nil || r["school_name"] == nil {
			t.Errorf("%s: no nearest GP practice or school", r["code"])
		}
	}
	resp, body := e.get(t, "/outreach?set=ward&neighbourhood=E05000840&f=csv", "Authorization", "Bearer "+token)
	rows := csvMaps(t, body)
	if !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") || len(rows) != len(out.SmallAreas) || rows[0]["asset_3_distance_m"] == "" {
		t.Errorf("CSV: %v, %d rows, first %v", resp.Header.Get("Content-Disposition"), len(rows), rows[0])
	}
	if resp, _ := e.get(t, "/outreach?set=ward&neighbourhood=NOPE", "Authorization", "Bearer "+token); resp.StatusCode != 404 {
		t.Errorf("unknown neighbourhood: %d", resp.StatusCode)
	}
	if resp, _ := e.get(t, "/outreach?set=ward", "Authorization", "Bearer "+token); resp.StatusCode != 400 {
		t.Errorf("no neighbourhood: %d", resp.StatusCode)
	}
}

func TestAssetGapsRankWithComponents(t *testing.T) {
	e := newEnv(t)
	_, body := e.get(t, "/insights/asset-gaps?set=ward")
	var g struct {
		Neighbourhoods []map[string]any
		SmallAreas     []map[string]any `json:"small_areas"`
	}
	if err := json.Unmarshal(body, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Neighbourhoods) != 25 || len(g.SmallAreas) != 200 {
		t.Fatalf("%d neighbourhoods, %d small areas", len(g.Neighbourhoods), len(g.SmallAreas))
	}
	for _, rows := range [][]map[string]any{g.Neighbourhoods, g.SmallAreas} {
		prev := math.Inf(1)
		for _, r := range rows {
			dpa, _ := r["demand_per_asset"].(float64)
			assets := r["assets"]
			if assets == nil {
				assets = r["assets_within_reach"]
			}
			if assets.(float64) > 0 {
				if want := r["demand"].(float64) / assets.(float64); math.Abs(dpa-want) > 0.01 {
					t.Errorf("%s: demand_per_asset %v, components give %v", r["code"], dpa, want)
				}
				if dpa > prev {
					t.Errorf("%s: rank order broken (%v after %v)", r["code"], dpa, prev)
				}
				prev = dpa
			}
			if r["access_shortfall_pct"] == nil || r["rank_access_shortfall"] == nil {
				t.Errorf("%s: components missing: %v", r["code"], r)
			}
		}
	}
	for _, path := range []string{"/insights/asset-gaps", "/insights/asset-gaps?set=nope", "/insights/asset-gaps?set=ward&x=1"} {
		if resp, _ := e.get(t, path); resp.StatusCode != 400 && resp.StatusCode != 404 {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
}

func TestProfileShape(t *testing.T) {
	e := newEnv(t)
	resp, body := e.get(t, "/neighbourhoods/ward/E05000840")
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var p map[string]any
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p["name"] != "Abram" {
		t.Errorf("name %v", p["name"])
	}
	inds := map[string]map[string]any{}
	var order []string
	for _, x := range p["indicators"].([]any) {
		m := x.(map[string]any)
		inds[m["id"].(string)] = m
		order = append(order, m["id"].(string))
	}
	pop := inds["population"]
	for _, k := range []string{"value", "borough", "england", "rank", "of", "label", "description", "unit", "group"} {
		if _, ok := pop[k]; !ok {
			t.Errorf("population lacks %s: %v", k, pop)
		}
	}
	// Counts compare with the borough's average ward: its total / 25 wards.
	b := pop["borough"].(map[string]any)
	v, avg, total := pop["value"].(float64), b["value"].(float64), b["total"].(float64)
	if math.Abs(avg-math.Round(100*total/25)/100) > 0.005 {
		t.Errorf("borough average ward %v is not the total %v / 25", avg, total)
	}
	if math.Abs(b["index"].(float64)-math.Round(1000*v/avg)/10) > 0.05 {
		t.Errorf("index %v is not 100 x %v / %v", b["index"], v, avg)
	}
	if cmp := p["comparators"].(map[string]any)["borough"].(map[string]any); !strings.Contains(cmp["label"].(string), "average ward") {
		t.Errorf("the borough comparator is not called the average ward: %v", cmp)
	}
	if cov := p["comparators"].(map[string]any)["england"].(map[string]any)["coverage"]; !strings.Contains(fmt.Sprint(cov), "loaded boroughs only") {
		t.Errorf("England coverage %v; want it to say only loaded boroughs are summed", cov)
	}
	d := inds["chaotic"]
	if d["source"] != "estimated" || d["method"] == "" || d["period"] == "" {
		t.Errorf("demand labels: %v", d)
	}
	if order[0] != "population" || len(order) < 20 {
		t.Errorf("indicators in the wrong order or too few: %v", order)
	}
	for _, path := range []string{"/neighbourhoods/nope", "/neighbourhoods/ward/NOPE", "/neighbourhoods/nope/E05000840"} {
		if resp, _ := e.get(t, path); resp.StatusCode != 404 {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	if resp, _ := e.get(t, "/neighbourhoods/ward/E05000840?f=html"); resp.StatusCode != 406 {
		t.Errorf("f=html: %d", resp.StatusCode)
	}
}
