package data_test

import (
	"context"
	"fmt"
	"math/big"
	"testing"

	"nbhd/data/dbtest"
)

// TestIndicatorRanksWithinBorough ranks every neighbourhood indicator here
// and compares: within a set's neighbourhoods of one borough (those with no
// borough ranked together), highest value first, ties sharing a rank, no
// rank for a missing value, and ranked counting the values. It checks
// again after one neighbourhood's small areas lose their borough and an
// incremental refresh, which moves it into the no-borough group.
func TestIndicatorRanksWithinBorough(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	ctx := context.Background()
	type row struct {
		key, group  string
		value       *big.Rat
		lad, ownLad *string
		rank, count *int64
	}
	check := func(step string) {
		t.Helper()
		rows, err := conn.Query(ctx, `SELECT v.set_id, v.code, v.indicator, v.vintage, v.value::text, v.lad_code, n.lad_code, v.rank, v.ranked
			FROM nbhd.indicator_values v JOIN nbhd.neighbourhoods n ON n.set_id = v.set_id AND n.code = v.code`)
		if err != nil {
			t.Fatal(err)
		}
		var all []row
		groups := map[string][]*big.Rat{}
		for rows.Next() {
			var set, code, indicator, vintage string
			var value *string
			var r row
			if err := rows.Scan(&set, &code, &indicator, &vintage, &value, &r.lad, &r.ownLad, &r.rank, &r.count); err != nil {
				t.Fatal(err)
			}
			lad := "(none)"
			if r.ownLad != nil {
				lad = *r.ownLad
			}
			r.key = fmt.Sprintf("%s/%s %s %s", set, code, indicator, vintage)
			r.group = fmt.Sprintf("%s %s %s %s", set, lad, indicator, vintage)
			if value != nil {
				v, ok := new(big.Rat).SetString(*value)
				if !ok {
					t.Fatalf("%s: value %q", r.key, *value)
				}
				r.value = v
				groups[r.group] = append(groups[r.group], v)
			}
			all = append(all, r)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if len(all) == 0 {
			t.Fatalf("%s: no indicator values", step)
		}
		str := func(p *string) string {
			if p == nil {
				return "null"
			}
			return *p
		}
		num := func(p *int64) string {
			if p == nil {
				return "null"
			}
			return fmt.Sprint(*p)
		}
		for _, r := range all {
			if str(r.lad) != str(r.ownLad) {
				t.Fatalf("%s: %s has borough %s, its neighbourhood %s", step, r.key, str(r.lad), str(r.ownLad))
			}
			values := groups[r.group]
			wantRank := "null"
			if r.value != nil {
				above := 0
				for _, v := range values {
					if v.Cmp(r.value) > 0 {
						above++
					}
				}
				wantRank = fmt.Sprint(above + 1)
			}
			if num(r.rank) != wantRank || num(r.count) != fmt.Sprint(len(values)) {
				t.Fatalf("%s: %s ranked %s of %s, want %s of %d", step, r.key, num(r.rank), num(r.count), wantRank, len(values))
			}
		}
		t.Logf("%s: %d indicator values ranked as expected", step, len(all))
	}
	check("loaded")

	var set, code string
	if err := conn.QueryRow(ctx, "SELECT set_id, code FROM nbhd.neighbourhoods ORDER BY set_id, code LIMIT 1").Scan(&set, &code); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `UPDATE nbhd.small_areas SET lad_code = NULL WHERE code IN (
		SELECT small_area_code FROM nbhd.neighbourhood_members WHERE set_id = $1 AND neighbourhood_code = $2)`, set, code); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SELECT logic.refresh()"); err != nil {
		t.Fatal(err)
	}
	var lad *string
	if err := conn.QueryRow(ctx, "SELECT lad_code FROM nbhd.neighbourhoods WHERE set_id = $1 AND code = $2", set, code).Scan(&lad); err != nil {
		t.Fatal(err)
	}
	if lad != nil {
		t.Fatalf("%s/%s still in borough %s after its small areas lost theirs", set, code, *lad)
	}
	check("a neighbourhood with no borough")
}
