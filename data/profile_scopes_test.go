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
// and combined authorities, which the sample lacks, are checked against
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
