package api_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"nbhd/data"
	"nbhd/data/dbtest"
)

// search asks /search and decodes its places.
func (e *env) search(t *testing.T, q string) []data.Place {
	t.Helper()
	r, b := e.get(t, "/search?q="+url.QueryEscape(q))
	if r.StatusCode != http.StatusOK {
		t.Fatalf("search %q: %d %s", q, r.StatusCode, b)
	}
	var out []data.Place
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func ofKind(ps []data.Place, kind string) []data.Place {
	var out []data.Place
	for _, p := range ps {
		if p.Kind == kind {
			out = append(out, p)
		}
	}
	return out
}

// Search finds postcodes by prefix with or without their space, exact
// first; neighbourhoods by any part of their name, whatever the case, and
// with LIKE's wildcards taken literally; small areas by code and by the
// start of their name. Expectations come from the loaded rows, filtered
// here in Go.
func TestSearchFindsPostcodesNamesAndCodes(t *testing.T) {
	e := newEnv(t)
	postcodes := dbtest.Strings(t, e.dbURL, "SELECT postcode FROM nbhd.postcodes ORDER BY postcode")
	pc := postcodes[len(postcodes)/2]
	compact := strings.ReplaceAll(pc, " ", "")
	for _, q := range []string{pc, compact, strings.ToLower(pc)} {
		got := ofKind(e.search(t, q), "postcode")
		if len(got) == 0 || got[0].Label != pc || got[0].Code != pc {
			t.Errorf("search %q: postcodes %+v, want %s first", q, got, pc)
		}
	}
	// An outward code: the first ten postcodes whose spaceless form starts
	// with it, in that order.
	outward := strings.Fields(pc)[0]
	var want []string
	for _, p := range postcodes {
		if strings.HasPrefix(strings.ReplaceAll(p, " ", ""), outward) {
			want = append(want, p)
		}
	}
	sort.Slice(want, func(i, j int) bool {
		return strings.ReplaceAll(want[i], " ", "") < strings.ReplaceAll(want[j], " ", "")
	})
	if len(want) > 10 {
		want = want[:10]
	}
	var labels []string
	for _, p := range ofKind(e.search(t, outward), "postcode") {
		labels = append(labels, p.Label)
	}
	if strings.Join(labels, ",") != strings.Join(want[:len(labels)], ",") || len(labels) == 0 {
		t.Errorf("search %q: postcodes %v, want a prefix of %v", outward, labels, want)
	}

	// Neighbourhoods by a piece from the middle of a name, in another case.
	names := dbtest.Rows(t, e.dbURL, "SELECT set_id || '|' || code || '|' || name FROM nbhd.neighbourhoods WHERE length(name) > 8 ORDER BY set_id, code")
	for _, row := range names[:3] {
		f := strings.SplitN(row, "|", 3)
		piece := strings.ToUpper(f[2][2:7])
		found := false
		for _, p := range ofKind(e.search(t, piece), "neighbourhood") {
			if p.Set == f[0] && p.Code == f[1] {
				found = true
			}
			if !strings.Contains(strings.ToLower(p.Label), strings.ToLower(piece)) {
				t.Errorf("search %q found %q, which does not contain it", piece, p.Label)
			}
		}
		if !found {
			t.Errorf("search %q did not find %s %s (%s)", piece, f[0], f[1], f[2])
		}
	}
	// Wildcards are text: no name holds % or _, so nothing matches them.
	for _, q := range []string{"%", "_", "a%b", "__"} {
		if got := ofKind(e.search(t, q), "neighbourhood"); len(got) != 0 {
			t.Errorf("search %q matched neighbourhoods %+v", q, got)
		}
	}

	// Too short for a trigram: names by their start, the first of them in
	// name order.
	first := strings.SplitN(names[0], "|", 3)
	short := strings.ToLower(first[2][:2])
	var starts []string
	for _, row := range dbtest.Rows(t, e.dbURL, "SELECT name FROM nbhd.neighbourhoods ORDER BY name") {
		if strings.HasPrefix(strings.ToLower(row), short) {
			starts = append(starts, row)
		}
	}
	got2 := ofKind(e.search(t, strings.ToUpper(short)), "neighbourhood")
	if len(got2) == 0 || !strings.HasPrefix(got2[0].Label, starts[0]+" (") {
		t.Errorf("search %q: neighbourhoods %+v, want %q first", short, got2, starts[0])
	}
	for _, p := range got2 {
		if !strings.HasPrefix(strings.ToLower(p.Label), short) {
			t.Errorf("search %q found %q, which does not start with it", short, p.Label)
		}
	}

	// Small areas by code, and by the start of their name.
	areas := dbtest.Rows(t, e.dbURL, "SELECT code || '|' || name FROM nbhd.small_areas ORDER BY code LIMIT 1")
	f := strings.SplitN(areas[0], "|", 2)
	if got := ofKind(e.search(t, f[0]), "small_area"); len(got) == 0 || got[0].Code != f[0] {
		t.Errorf("search %q: small areas %+v", f[0], got)
	}
	prefix := strings.ToLower(f[1][:len(f[1])-1])
	got := ofKind(e.search(t, prefix), "small_area")
	if len(got) == 0 {
		t.Errorf("search %q found no small area", prefix)
	}
	for _, p := range got {
		if !strings.HasPrefix(strings.ToLower(p.Label), prefix) {
			t.Errorf("search %q found %q", prefix, p.Label)
		}
	}
}

// A repeated search is answered from memory with the same bytes, and a
// data change is seen at once: answers are kept by data version. The
// moved postcode's new point comes from the database, not from the API.
func TestSearchAnswersFollowTheData(t *testing.T) {
	e := newEnv(t)
	postcodes := dbtest.Strings(t, e.dbURL, "SELECT postcode FROM nbhd.postcodes ORDER BY postcode")
	pc := postcodes[len(postcodes)/3]
	path := "/search?q=" + url.QueryEscape(pc)
	r1, first := e.get(t, path)
	r2, again := e.get(t, path)
	if r1.StatusCode != http.StatusOK || string(first) != string(again) || r1.Header.Get("Content-Length") != r2.Header.Get("Content-Length") {
		t.Fatalf("a repeated search: %d %q, then %d %q", r1.StatusCode, first, r2.StatusCode, again)
	}
	_, metrics := e.get(t, "/metrics")
	for _, want := range []string{"nbhd_search_answers_hits_total 1\n", "nbhd_search_answers_misses_total 1\n", "nbhd_search_answers_entries 1\n"} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %q:\n%s", want, grepLines(string(metrics), "nbhd_search"))
		}
	}

	old := e.store.Version()
	conn := dbtest.Conn(t, e.dbURL)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, "UPDATE nbhd.postcodes SET geom = ST_Translate(geom, 0.01, 0) WHERE postcode = $1", pc); err != nil {
		t.Fatal(err)
	}
	var lon float64
	if err := conn.QueryRow(ctx, "SELECT ST_X(geom) FROM nbhd.postcodes WHERE postcode = $1", pc).Scan(&lon); err != nil {
		t.Fatal(err)
	}
	bump(t, e.dbURL)
	for deadline := time.Now().Add(5 * time.Second); e.store.Version() == old && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if e.store.Version() == old {
		t.Fatal("the data version did not move")
	}
	got := ofKind(e.search(t, pc), "postcode")
	if len(got) == 0 || got[0].Code != pc || math.Abs(got[0].Lon-lon) > 1e-9 {
		t.Errorf("search %q after the postcode moved to lon %v: %+v", pc, lon, got)
	}
	// The old version's answer is dropped, not left to age out.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		_, metrics = e.get(t, "/metrics")
		if strings.Contains(string(metrics), "\nnbhd_search_answers_entries 1\n") {
			return
		}
	}
	t.Errorf("after a data change, want the new version's answer alone:\n%s", grepLines(string(metrics), "nbhd_search_answers_entries"))
}
