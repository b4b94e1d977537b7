package data_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"nbhd/data"
	"nbhd/data/dbtest"
)

// TestProfilesWithKeptBoroughFiguresMatchRead checks that every profile of
// the sample read with the figures kept for its borough (comparators,
// settings, the set's neighbourhood counts: read for every borough at the
// version's first profile) is the profile read whole; that the kept
// figures are what a profile shows (planted counts show up); and that a
// neighbourhood said to be in another borough than the one it is read in
// is read whole again rather than with that borough's figures. Regions
// and combined authorities, which the sample lacks, are planted by
// TestProfilesKeepRegionAndCombinedAuthorityApart, and checked against
// independent totals by cmd/nbhd-synth's
// TestRecordedDemandStaysHiddenAcrossTwoBoroughs.
func TestProfilesWithKeptBoroughFiguresMatchRead(t *testing.T) {
	url := dbtest.New(t, true)
	s := open(t, url)
	conn := dbtest.Conn(t, url)
	ctx := context.Background()
	rows, err := conn.Query(ctx, "SELECT set_id, code, coalesce(lad_code, '') FROM nbhd.neighbourhoods ORDER BY set_id, code")
	if err != nil {
		t.Fatal(err)
	}
	type nb struct{ set, code, lad string }
	var all []nb
	for rows.Next() {
		var n nb
		if err := rows.Scan(&n.set, &n.code, &n.lad); err != nil {
			t.Fatal(err)
		}
		all = append(all, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(all) < 2 {
		t.Fatalf("%d neighbourhoods in the sample", len(all))
	}
	for _, n := range all {
		for _, vintage := range []string{"", "2019"} {
			kept, err := s.Profile(ctx, n.set, n.code, vintage)
			if err != nil {
				t.Fatal(err)
			}
			read, err := s.ProfileUnkeptForTest(ctx, n.set, n.code, vintage)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(kept, read) {
				t.Fatalf("%s/%s vintage %q: with kept figures\n%+v\nread whole\n%+v", n.set, n.code, vintage, kept, read)
			}
		}
	}

	// Planted counts for the first neighbourhood's set and borough show.
	first := all[0]
	boroughs, err := s.ProfileScopesForTest(ctx, first.set, first.code, first.lad, first.lad,
		map[string]int{"borough": 4242, "england": 4243})
	if err != nil {
		t.Fatal(err)
	}
	if boroughs == 0 {
		t.Fatal("no borough's figures were kept")
	}
	p, err := s.Profile(ctx, first.set, first.code, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.Comparators["borough"].Counts, "4242") {
		t.Fatalf("planted counts not shown: %+v", p.Comparators)
	}

	// Said to be in another borough, with figures of its own: read whole.
	if _, err := s.ProfileScopesForTest(ctx, first.set, first.code, "E99999999", first.lad,
		map[string]int{"borough": 4444, "england": 4445}); err != nil {
		t.Fatal(err)
	}
	p, err = s.Profile(ctx, first.set, first.code, "")
	if err != nil {
		t.Fatal(err)
	}
	read, err := s.ProfileUnkeptForTest(ctx, first.set, first.code, "")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, read) {
		t.Fatalf("a neighbourhood said to be in another borough was drawn with its figures:\n%+v\nread whole\n%+v", p.Comparators, read.Comparators)
	}
}

// TestWarmReadsProfileFiguresAhead: Warm keeps every borough's figures for
// the current version, and a data change leaves them to be read again.
func TestWarmReadsProfileFiguresAhead(t *testing.T) {
	url := dbtest.New(t, true)
	s := open(t, url)
	ctx := context.Background()
	if s.ProfileScopesKeptForTest() {
		t.Fatal("figures kept before any profile or Warm")
	}
	if err := s.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	if !s.ProfileScopesKeptForTest() {
		t.Fatal("Warm kept no figures")
	}
	before := s.Version()
	if err := connectAdmin(t, url).ChangeSetting(ctx, "", "demand_model", []byte(`{"shares": {"chaotic": 0.05}}`), data.LockWait{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RefreshVersion(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Version() == before || s.ProfileScopesKeptForTest() {
		t.Fatalf("after a change (version %d -> %d) the old figures still count", before, s.Version())
	}
	if err := s.Warm(ctx); err != nil || !s.ProfileScopesKeptForTest() {
		t.Fatalf("Warm after the change: %v", err)
	}
}

// TestProfilesKeepRegionAndCombinedAuthorityApart puts the sample's borough
// in a region that holds another borough and a combined authority that
// does not, with comparators of their own, so the region's and the
// combined authority's figures and neighbourhood counts all differ; every
// profile read with kept figures must still be the profile read whole (a
// region's figures kept as the combined authority's, or their counts
// swapped, would show); a Welsh borough's neighbourhoods, outside
// England's count, show if the kept count takes them in. The sample
// itself has neither.
func TestProfilesKeepRegionAndCombinedAuthorityApart(t *testing.T) {
	url := dbtest.New(t, true)
	conn := dbtest.Conn(t, url)
	ctx := context.Background()
	lad := dbtest.Strings(t, url, "SELECT DISTINCT lad_code FROM nbhd.neighbourhoods WHERE lad_code IS NOT NULL")
	if len(lad) != 1 {
		t.Fatalf("the sample's neighbourhoods are in %d boroughs, want 1", len(lad))
	}
	for _, sql := range []string{
		`INSERT INTO nbhd.borough_regions SELECT $1, 'E12000002', 'North West', min(id) FROM nbhd.datasets`,
		`INSERT INTO nbhd.borough_cauths SELECT $1, 'E47000001', 'Greater Manchester', min(id) FROM nbhd.datasets`,
		// Comparators of their own: the borough's, scaled differently.
		`INSERT INTO nbhd.comparator_values (scope, scope_code, indicator, vintage, num, den, value, suppressed, source, method, period, coverage)
		 SELECT 'region', 'E12000002', indicator, vintage, num * 3, den * 3, value * 1.25, suppressed, source, method, period, coverage
		 FROM nbhd.comparator_values WHERE scope = 'borough' AND scope_code = $1`,
		`INSERT INTO nbhd.comparator_values (scope, scope_code, indicator, vintage, num, den, value, suppressed, source, method, period, coverage)
		 SELECT 'cauth', 'E47000001', indicator, vintage, num * 2, den * 2, value * 0.8, suppressed, source, method, period, coverage
		 FROM nbhd.comparator_values WHERE scope = 'borough' AND scope_code = $1`,
	} {
		if _, err := conn.Exec(ctx, sql, lad[0]); err != nil {
			t.Fatal(err)
		}
	}
	// Counts: the borough's own, with its region and combined authority;
	// a second borough in the region only; a third in neither; and a
	// Welsh one, which England's count leaves out.
	for _, sql := range []string{
		`SELECT logic.publish_set_sizes()`,
		`INSERT INTO api.set_sizes SELECT set_id, 'E08000001', 'E12000002', NULL, 7 FROM api.set_sizes GROUP BY set_id`,
		`INSERT INTO api.set_sizes SELECT set_id, 'E06000001', 'E12000001', 'E47000006', 11 FROM api.set_sizes GROUP BY set_id`,
		`INSERT INTO api.set_sizes SELECT set_id, 'W06000001', NULL, NULL, 13 FROM api.set_sizes GROUP BY set_id`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}

	s := open(t, url)
	differ := false
	for _, row := range dbtest.Rows(t, url, "SELECT set_id || '|' || code FROM nbhd.neighbourhoods ORDER BY set_id, code") {
		set, code, _ := strings.Cut(row, "|")
		kept, err := s.Profile(ctx, set, code, "")
		if err != nil {
			t.Fatal(err)
		}
		read, err := s.ProfileUnkeptForTest(ctx, set, code, "")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(kept, read) {
			t.Fatalf("%s/%s: with kept figures\n%+v\nread whole\n%+v", set, code, kept.Comparators, read.Comparators)
		}
		region, cauth := kept.Comparators["region"], kept.Comparators["cauth"]
		if kept.Region == nil || kept.Cauth == nil || region.Counts == "" || cauth.Counts == "" {
			t.Fatalf("%s/%s: no region or combined authority: %+v", set, code, kept.Comparators)
		}
		differ = differ || region.Counts != cauth.Counts
	}
	if !differ {
		t.Fatal("the region's and the combined authority's counts never differ: the check proves nothing")
	}
}
