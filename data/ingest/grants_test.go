package ingest_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"nbhd/data/dbtest"
	"nbhd/data/ingest"
)

// The 360Giving fixtures live beside the API's acceptance tests, which
// recompute every neighbourhood's figures from them.
func grantFixture(name string) string { return filepath.Join("..", "..", "api", "testdata", name) }

func TestGrantsImportEveryFormWithFiltersAndNotes(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	res := runResult(t, conn, "grants", grantFixture("grants_wigan.csv"), nil)
	if res.Rows != 11 {
		t.Fatalf("rows = %d, want 11", res.Rows)
	}
	for _, want := range []string{
		"6 grants placed by beneficiary location, 2 by recipient postcode",
		"3 grants not placed, kept as unplaced: lines 7-8, 12 (",
		"line 7: beneficiary location E05999999 is not a loaded small area, MSOA or ward; recipient postcode SW1A 1AA is not loaded",
		"line 8: no beneficiary location code; no recipient postcode",
	} {
		if !hasNote(res, want) {
			t.Errorf("notes %q lack %q", res.Notes, want)
		}
	}
	// Unplaced grants are kept, with the reason, and have no places.
	if n := count(t, conn, "SELECT count(*) FROM nbhd.grants WHERE placed_by = '' AND unplaced_reason <> ''"); n != 3 {
		t.Errorf("unplaced grants kept = %d, want 3", n)
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.grant_places p JOIN nbhd.grants g ON g.id = p.grant_id WHERE g.placed_by = ''"); n != 0 {
		t.Errorf("unplaced grants have %d places", n)
	}
	// Every placed grant's shares add up to the whole grant.
	if n := count(t, conn, `SELECT count(*) FROM nbhd.grants g WHERE g.placed_by <> ''
		AND abs((SELECT sum(amount) FROM nbhd.grant_places p WHERE p.grant_id = g.id) - g.amount) > 0.000001`); n != 0 {
		t.Errorf("%d grants' places do not add up to their amount", n)
	}
	// 0004 has "1,250.50"; the ward grant 0003 a date-time award date.
	if n := count(t, conn, "SELECT count(*) FROM nbhd.grants WHERE id = '360G-WGN-0004' AND amount = 1250.50"); n != 1 {
		t.Error("amount with a thousands separator not read")
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.grants WHERE id = '360G-WGN-0003' AND award_date = '2023-07-02'"); n != 1 {
		t.Error("date-time award date not read as its date")
	}
	// Two funders: the default key.
	if n := count(t, conn, "SELECT count(*) FROM nbhd.datasets WHERE kind = 'grants' AND key = '360giving'"); n != 1 {
		t.Error("dataset key is not 360giving")
	}

	// The JSON package, one funder only: its key names the funder, and the
	// grants it brings are taken over from the CSV's dataset.
	res = runResult(t, conn, "grants", grantFixture("grants_wigan.json"), ingest.Options{"funder": "the fairshare TRUST"})
	if res.Rows != 2 || !hasNote(res, "9 grants left out by --funder") {
		t.Fatalf("JSON with --funder: %d rows, notes %q", res.Rows, res.Notes)
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.datasets WHERE kind = 'grants' AND key = '360giving:GB-CHC-1234567' AND rows = 2"); n != 1 {
		t.Error("one funder's grants are not keyed by the funder")
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.grants"); n != 11 {
		t.Errorf("grants = %d after the JSON took two over, want 11", n)
	}

	// Programme and period filters.
	res = runResult(t, conn, "grants", grantFixture("grants_wigan.csv"),
		ingest.Options{"key": "cif-2023", "programme": "cif", "from": "2023-06-01", "to": "2023-12-31"})
	if res.Rows != 7 || !hasNote(res, "2 grants left out by --programme") || !hasNote(res, "1 grant left out by --from") ||
		!hasNote(res, "1 grant left out by --to") {
		t.Errorf("filters: %d rows, notes %q", res.Rows, res.Notes)
	}
}

func TestGrantsRefuseOtherCurrenciesAndBadRows(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	before := count(t, conn, "SELECT count(*) FROM nbhd.datasets")
	_, err := importFile(conn, "grants", grantFixture("grants_foreign.csv"), nil)
	var ie *ingest.InputError
	if !errors.As(err, &ie) || ie.Line != 3 || ie.Field != "Currency" ||
		!strings.Contains(err.Error(), "currency USD is not GBP") || !strings.Contains(err.Error(), "2 grants (line 3 (USD), line 5 (EUR))") {
		t.Fatalf("foreign currencies: %v", err)
	}
	header := "Identifier,Currency,Amount Awarded,Award Date,Beneficiary Location:Geographic Code\n"
	for _, c := range []struct{ name, body, want string }{
		{"duplicate.csv", header + "A,GBP,1,2023-01-01,E01006212\nB,GBP,1,2023-01-01,\nA,GBP,2,2023-01-02,\n",
			`line 4, field "Identifier": Identifier A already appears in line 2`},
		{"amount.csv", header + "A,GBP,lots,2023-01-01,\n", `line 2, field "Amount Awarded": "lots" is not a number of pounds`},
		{"negative.csv", header + "A,GBP,-5,2023-01-01,\n", `line 2, field "Amount Awarded": "-5" is negative`},
		{"date.csv", header + "A,GBP,5,2023-13-01,\n", `line 2, field "Award Date": "2023-13-01" is not a date`},
		{"nocurrency.csv", header + "A,,5,2023-01-01,\n", `line 2, field "Currency": no currency given`},
		{"noid.csv", header + ",GBP,5,2023-01-01,\n", `line 2, field "Identifier": the grant has no Identifier`},
		{"columns.csv", "Identifier,Currency,Award Date\nA,GBP,2023-01-01\n", `line 1, field "Amount Awarded": missing column`},
		{"package.json", `{"grants": [{"id": "A", "currency": "GBP", "amountAwarded": 5, "awardDate": "2023-01-01"},
			{"id": "B", "currency": "GBP", "amountAwarded": {"x": 1}, "awardDate": "2023-01-01"}]}`, `grant 2, field "amountAwarded"`},
		{"array.json", `{"license": "x"}`, `no "grants" array`},
		{"types.json", `{"grants": [{"id": 7, "currency": "GBP"}]}`, `grant 1, field "id": id is a JSON number, want a string`},
	} {
		_, err := importFile(conn, "grants", writeFile(t, c.name, c.body), nil)
		if !ingest.IsInputError(err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an input error with %q", c.name, err, c.want)
		}
	}
	if after := count(t, conn, "SELECT count(*) FROM nbhd.datasets"); after != before || count(t, conn, "SELECT count(*) FROM nbhd.grants") != 0 {
		t.Errorf("a refused import changed the data: datasets %d -> %d", before, after)
	}
	if _, err := importFile(conn, "grants", grantFixture("grants_wigan.csv"), ingest.Options{"from": "2024-01-01", "to": "2023-01-01"}); err == nil ||
		!strings.Contains(err.Error(), "--from 2024-01-01 is after --to 2023-01-01") {
		t.Errorf("--from after --to: %v", err)
	}
	if _, err := importFile(conn, "grants", grantFixture("grants_wigan.csv"), ingest.Options{"from": "1/4/2023"}); err == nil ||
		!strings.Contains(err.Error(), "give YYYY-MM-DD") {
		t.Errorf("bad --from: %v", err)
	}
	if err := ingest.CheckOptions("grants", ingest.Options{"la": "E08000010"}); err == nil || !strings.Contains(err.Error(), "unplaced") {
		t.Errorf("--la: %v", err)
	}
}

func TestGrantsReplaceAndDrop(t *testing.T) {
	conn := dbtest.Conn(t, dbtest.New(t, true))
	first := runResult(t, conn, "grants", grantFixture("grants_wigan.csv"), nil)
	// Re-importing the same dataset replaces it: no grant twice, the first
	// dataset gone.
	runResult(t, conn, "grants", grantFixture("grants_wigan.csv"), nil)
	if n := count(t, conn, "SELECT count(*) FROM nbhd.datasets WHERE kind = 'grants'"); n != 1 {
		t.Errorf("grant datasets after re-import = %d, want 1", n)
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.datasets WHERE id = $1", first.DatasetID); n != 0 {
		t.Error("the first import survived its replacement")
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.grants"); n != 11 {
		t.Errorf("grants = %d, want 11", n)
	}
	// The profile has the investment block; dropping the grants removes it.
	if n := count(t, conn, "SELECT count(*) FROM nbhd.indicator_values WHERE set_id = 'ward' AND indicator = 'grant_amount'"); n != 25 {
		t.Errorf("wards with a grant_amount = %d, want 25", n)
	}
	var id int64
	if err := conn.QueryRow(t.Context(), "SELECT id FROM nbhd.datasets WHERE kind = 'grants'").Scan(&id); err != nil {
		t.Fatal(err)
	}
	drop(t, conn, id)
	if n := count(t, conn, "SELECT count(*) FROM nbhd.indicator_values WHERE indicator LIKE 'grant%'") +
		count(t, conn, "SELECT count(*) FROM nbhd.comparator_values WHERE indicator LIKE 'grant%'"); n != 0 {
		t.Errorf("%d investment figures survive the grants' drop", n)
	}
}
