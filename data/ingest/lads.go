package ingest

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Which borough (local authority district) each small area is in, as the
// files say: each import that reads a LAD column writes its statements to
// nbhd.small_area_lads with how far to trust them, and a trigger resolves
// small_areas.lad_code from the most trusted, newest (definitions/10_logic.sql).
// Boroughs are named from the LAD name columns.

// How far a statement about a small area's borough is trusted (1 most).
const (
	trustGiven  = 1 // --la on import, or a LAD property of the boundaries
	trustLookup = 2 // an ONS lookup
	trustIoD    = 3 // the IoD's own LAD column
	// trustIoD2019 is IoD2019's LAD column: districts of 2019, several
	// merged since (Buckinghamshire, North Yorkshire, Somerset...), so an
	// IoD2019 loaded after IoD2025 never puts the old codes back.
	trustIoD2019 = 4
)

var (
	// ladCodeCol and ladNameCol match ONS LAD columns of any year
	// (LAD24CD, lad25nm, LAD 2023 Code) and the tidy lad_code/lad_name.
	ladCodeCol = regexp.MustCompile(`(?i)^(lad ?\d{2}cd|lad 20\d{2} code|lad_code|local authority district code( \(20\d{2}\))?)$`)
	ladNameCol = regexp.MustCompile(`(?i)^(lad ?\d{2}nm|lad 20\d{2} name|lad_name|local authority district name( \(20\d{2}\))?)$`)
)

// ladColumns finds a table's LAD code and name columns (-1 when absent): the
// first header that matches, so a file's own borough columns are found
// whatever year they carry.
func ladColumns(t *table) (code, name int) {
	code, name = -1, -1
	for i, h := range t.header {
		h = strings.Join(strings.Fields(h), " ")
		if code < 0 && ladCodeCol.MatchString(h) {
			code = i
		}
		if name < 0 && ladNameCol.MatchString(h) {
			name = i
		}
	}
	return code, name
}

// ladCell reads a LAD code cell: "" when empty, else an ONS code.
func ladCell(t *table, rec []string, i int) (string, error) {
	c := field(rec, i)
	if c != "" && !onsLACode.MatchString(c) {
		return "", t.errf(i, "%q is not a local authority district code (such as E08000010)", c)
	}
	return c, nil
}

// writeLADFacts records, for dataset ds, the borough of each small area
// that factsSQL selects (columns code, lad_code, lad_name; args bind its
// $n) at the given trust, for the loaded small areas, and names the
// boroughs. It returns how many small areas it placed.
func writeLADFacts(ctx context.Context, tx pgx.Tx, ds int64, trust int, factsSQL string, args ...any) (int, error) {
	if _, err := tx.Exec(ctx, `DROP TABLE IF EXISTS pg_temp.lad_facts;
		CREATE TEMP TABLE lad_facts (code text PRIMARY KEY, lad_code text, lad_name text) ON COMMIT DROP`); err != nil {
		return 0, fmt.Errorf("stage boroughs: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO lad_facts
		SELECT DISTINCT ON (f.code) f.code, f.lad_code, coalesce(f.lad_name, '')
		FROM (`+factsSQL+`) AS f(code, lad_code, lad_name)
		WHERE f.lad_code ~ '^[EWSN][0-9]{8}$' AND EXISTS (SELECT 1 FROM nbhd.small_areas sa WHERE sa.code = f.code)
		ORDER BY f.code, f.lad_code`, args...); err != nil {
		return 0, fmt.Errorf("stage boroughs: %w", err)
	}
	if err := nameBoroughs(ctx, tx, `SELECT lad_code, lad_name FROM lad_facts`); err != nil {
		return 0, err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO nbhd.small_area_lads (code, lad_code, trust, dataset_id)
		SELECT code, lad_code, $1, $2 FROM lad_facts
		ON CONFLICT (code, dataset_id) DO UPDATE SET lad_code = EXCLUDED.lad_code, trust = EXCLUDED.trust`, trust, ds)
	if err != nil {
		return 0, fmt.Errorf("write boroughs of small areas: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// nameBoroughs records the boroughs that namesSQL selects (columns code,
// name): a new code is added, named by its code when the file gives no
// name; a name replaces what is held unless it is a bare code, so a real
// name is never overwritten by a code.
func nameBoroughs(ctx context.Context, tx pgx.Tx, namesSQL string, args ...any) error {
	if _, err := tx.Exec(ctx, `INSERT INTO nbhd.boroughs (code, name)
		SELECT DISTINCT ON (n.code) n.code, coalesce(nullif(btrim(n.name), ''), n.code)
		FROM (`+namesSQL+`) AS n(code, name)
		WHERE n.code ~ '^[EWSN][0-9]{8}$'
		ORDER BY n.code, nullif(btrim(n.name), '') NULLS LAST
		ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name
		WHERE EXCLUDED.name <> EXCLUDED.code AND nbhd.boroughs.name IS DISTINCT FROM EXCLUDED.name`, args...); err != nil {
		return fmt.Errorf("name boroughs: %w", err)
	}
	return nil
}
