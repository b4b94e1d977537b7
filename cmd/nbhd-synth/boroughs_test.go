package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"nbhd/api"
	"nbhd/data"
	"nbhd/data/dbtest"
	"nbhd/data/ingest"
	"nbhd/data/sample"
)

// wiganSnapshot is everything public about Wigan (E08000010), as text:
// features, counts, estimates, demand, profiles' own values and ranks, and
// its borough comparators. England's and the region's figures may move
// when another borough loads (their coverage says so), so they are left
// out.
var wiganSnapshot = []string{
	`SELECT code, name, lad_code, population, imd_rank, imd_decile, chaotic_estimate, just_coping_estimate, access_asset_pct,
	   assets_within_reach, md5(ST_AsBinary(geom)) FROM api.small_areas WHERE lad_code = 'E08000010' ORDER BY code`,
	`SELECT set_id, code, name, population, chaotic, chaotic_suppressed, just_coping, assets, gp_practices, gp_patients, schools,
	   access_asset_pct, access_gp_pct, access_school_pct, md5(ST_AsBinary(geom)) FROM api.neighbourhoods
	 WHERE lad_code = 'E08000010' ORDER BY set_id, code`,
	`SELECT id, name, category, source FROM api.community_assets WHERE lad_code = 'E08000010' ORDER BY id`,
	`SELECT code, name, list_size FROM api.gp_practices WHERE lad_code = 'E08000010' ORDER BY code`,
	`SELECT id, name, phase FROM api.schools WHERE lad_code = 'E08000010' ORDER BY id`,
	`SELECT i.set_id, i.code, i.indicator, i.vintage, i.value, i.suppressed, i.rank, i.ranked FROM api.neighbourhood_indicators i
	 WHERE i.lad_code = 'E08000010' ORDER BY 1, 2, 3, 4`,
	`SELECT indicator, vintage, num, den, value, suppressed, coverage FROM api.comparators
	 WHERE scope = 'borough' AND scope_code = 'E08000010' ORDER BY 1, 2`,
	`SELECT kind, key, rows, title FROM api.datasets WHERE 'E08000010' = ANY(boroughs) ORDER BY kind, key, title`,
}

func wigan(t *testing.T, url string) []string {
	t.Helper()
	var out []string
	for _, q := range wiganSnapshot {
		rows := dbtest.Rows(t, url, q)
		if len(rows) == 0 {
			t.Fatalf("nothing for Wigan from %s", q)
		}
		out = append(out, rows...)
	}
	return out
}

func loadDir(t *testing.T, url string, dir string) {
	t.Helper()
	conn := dbtest.Conn(t, url)
	fsys, root := os.DirFS(dir), "."
	if dir == "" {
		fsys, root = sample.FS, sample.Dir
	}
	if err := ingest.LoadSample(context.Background(), conn, fsys, root, data.LockWait{}, nil, nil); err != nil {
		t.Fatalf("load %q: %v", dir, err)
	}
}

func sameRows(t *testing.T, what string, want, got []string) {
	t.Helper()
	if slices.Equal(want, got) {
		return
	}
	for i := range min(len(want), len(got)) {
		if want[i] != got[i] {
			t.Fatalf("%s: Wigan differs at row %d:\n  alone  %s\n  now    %s", what, i, want[i], got[i])
		}
	}
	t.Fatalf("%s: Wigan has %d rows alone, %d now", what, len(want), len(got))
}

// TestASecondBoroughLoadsBesideTheFirst loads the bundled Wigan sample and
// a second borough generated in the same layout (its own LAD code, small
// areas, postcodes, practices, schools and assets) into one database, in
// either order: every Wigan feature, count, estimate, rank and borough
// comparator is what it is with Wigan alone, /boroughs lists both with
// their comparators, and dropping the second borough restores Wigan's
// state exactly.
func TestASecondBoroughLoadsBesideTheFirst(t *testing.T) {
	bolton := generate(t, "borough", "--seed", "5", "--lad", "E08000001", "--name", "Bolton", "--near", "wigan")
	alone := wigan(t, dbtest.New(t, true))
	for _, order := range [][2]string{{"", bolton}, {bolton, ""}} {
		name := "wigan then bolton"
		if order[0] != "" {
			name = "bolton then wigan"
		}
		t.Run(name, func(t *testing.T) {
			url := dbtest.New(t, false)
			loadDir(t, url, order[0])
			loadDir(t, url, order[1])
			sameRows(t, "both loaded", alone, wigan(t, url))
			checkBoroughsAPI(t, url)
			admin, err := data.Connect(context.Background(), url, "test")
			if err != nil {
				t.Fatal(err)
			}
			defer admin.Close(context.Background())
			if _, err := admin.DropBorough(context.Background(), "E08000001", data.LockWait{}); err != nil {
				t.Fatal(err)
			}
			sameRows(t, "Bolton dropped", alone, wigan(t, url))
			if n := dbtest.Rows(t, url, "SELECT count(*)::text FROM nbhd.small_areas WHERE lad_code <> 'E08000010'"); n[0] != "0" {
				t.Errorf("%s small areas of other boroughs left after the drop", n[0])
			}
		})
	}
}

// checkBoroughsAPI asks the API for both boroughs and a profile of each.
func checkBoroughsAPI(t *testing.T, url string) {
	t.Helper()
	store, err := data.Open(context.Background(), data.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	srv := httptest.NewServer(api.New(api.Config{}, store, slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer srv.Close()
	get := func(path string, v any) {
		t.Helper()
		resp, err := http.Get(srv.URL + path) //nolint:noctx // test
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	var list struct {
		Boroughs []struct {
			Code, Name string
			SmallAreas int `json:"small_areas"`
		}
	}
	get("/boroughs", &list)
	var codes []string
	for _, b := range list.Boroughs {
		codes = append(codes, b.Code)
	}
	if strings.Join(codes, ",") != "E08000001,E08000010" {
		t.Fatalf("/boroughs lists %v", codes)
	}
	for _, b := range list.Boroughs {
		var hoods struct{ Neighbourhoods []map[string]any }
		get("/neighbourhoods/ward?borough="+b.Code, &hoods)
		if len(hoods.Neighbourhoods) == 0 {
			t.Fatalf("no wards of %s", b.Code)
		}
		code := hoods.Neighbourhoods[0]["code"].(string)
		var p struct {
			Borough     struct{ Code string }
			Comparators map[string]struct{ Label, Coverage string }
			Indicators  []struct {
				ID               string
				Borough, England *struct{ Value *float64 }
			}
		}
		get(fmt.Sprintf("/neighbourhoods/ward/%s", code), &p)
		if p.Borough.Code != b.Code {
			t.Errorf("%s's ward %s belongs to %s", b.Code, code, p.Borough.Code)
		}
		if !strings.Contains(p.Comparators["england"].Coverage, "loaded boroughs only (350 of 33,755 LSOAs)") {
			t.Errorf("England's coverage %q; want it to say two boroughs' 350 LSOAs", p.Comparators["england"].Coverage)
		}
		for _, ind := range p.Indicators {
			if ind.ID == "population" && (ind.Borough == nil || ind.Borough.Value == nil || ind.England == nil || ind.England.Value == nil) {
				t.Errorf("%s: population lacks its borough or England comparator", code)
			}
		}
	}
}
