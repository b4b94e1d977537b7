package data_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"nbhd/data/dbtest"
	"nbhd/data/ingest"
)

// published reads every public recorded-demand figure: neighbourhood cells
// and borough totals, with whether each is withheld.
func published(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), `
		SELECT set_id || '/' || code || '/' || segment || '=' || coalesce(count::text, 'withheld') FROM nbhd.neighbourhood_demand
		WHERE source = 'recorded'
		UNION ALL
		SELECT 'borough/' || scope_code || '/' || indicator || '=' || coalesce(value::text, 'withheld') FROM nbhd.comparator_values
		WHERE scope = 'borough' AND source = 'recorded'
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRevisionsCannotBeDifferenced replays the re-release attack: a
// corrected file for a period already published, one record different,
// must not change what the public sees — or comparing before and after
// would reveal a withheld count or un-round a published one. Only an
// explicit --revise publishes a new release, and logs it.
func TestRevisionsCannotBeDifferenced(t *testing.T) {
	ctx := context.Background()
	conn := dbtest.Conn(t, dbtest.New(t, true))
	rows, err := conn.Query(ctx, "SELECT code FROM nbhd.small_areas ORDER BY code")
	if err != nil {
		t.Fatal(err)
	}
	codes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(9, 9))
	counts := map[string]int{}
	for _, c := range codes {
		counts[c] = r.IntN(5) // small counts, so wards' and MSOAs' sums straddle the threshold
	}
	load := func(name string, opts ingest.Options) ingest.Result {
		t.Helper()
		var b strings.Builder
		b.WriteString("small_area_code,segment,count,period,source\n")
		for _, c := range codes {
			fmt.Fprintf(&b, "%s,chaotic,%d,2025,case system\n", c, counts[c])
		}
		opts["key"] = "recorded"
		res, err := dbtest.ImportText(t, conn, "demand", name, b.String(), opts)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	load("first.csv", ingest.Options{})
	before := published(t, conn)
	withheld := 0
	for _, p := range before {
		if strings.HasSuffix(p, "=withheld") {
			withheld++
		}
	}
	if withheld == 0 || withheld == len(before) {
		t.Fatalf("%d of %d figures withheld: the test data should withhold some, not all", withheld, len(before))
	}
	// Thirty corrections of one record each: nothing public may move.
	for i := range 30 {
		c := codes[r.IntN(len(codes))]
		if counts[c] > 0 && r.IntN(2) == 0 {
			counts[c]--
		} else {
			counts[c]++
		}
		res := load(fmt.Sprintf("correction%d.csv", i), ingest.Options{})
		if after := published(t, conn); !slices.Equal(before, after) {
			t.Fatalf("correction %d (%s) changed the published figures: a withheld or rounded count could be worked out", i, c)
		}
		if !strings.Contains(strings.Join(res.Notes, " "), "already published") {
			t.Errorf("correction %d: the import does not say the period stays as published: %v", i, res.Notes)
		}
	}
	// A deliberate revision publishes afresh, as release 2.
	res := load("revision.csv", ingest.Options{"revise": "true"})
	if !strings.Contains(strings.Join(res.Notes, " "), "release 2") {
		t.Errorf("revision notes %v", res.Notes)
	}
	var release int
	if err := conn.QueryRow(ctx, "SELECT max(release) FROM nbhd.demand_releases WHERE period = '2025'").Scan(&release); err != nil || release != 2 {
		t.Errorf("published release %d (%v), want 2", release, err)
	}
}
