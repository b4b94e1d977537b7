package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
)

// changeMethods maps the ONS LSOA 2011 to 2021 lookup's CHGIND to how a
// 2021 small area took its 2011 values.
var changeMethods = map[string]string{"U": "unchanged", "S": "split", "M": "merged", "X": "complex"}

// lsoaLookupSource streams the ONS "LSOA (2011) to LSOA (2021) to Local
// Authority District (2022) Lookup": n, lsoa11, lsoa21, method, and the
// 2021 LSOA's district code and name where the lookup has them.
type lsoaLookupSource struct {
	t                 *table
	from, to, changed int
	lad, ladName      int
}

func newLSOALookup(file string, r io.Reader) (_ *lsoaLookupSource, err error) {
	t, err := newTable(file, r)
	if err != nil {
		return nil, err
	}
	defer closeOnError(t, &err)
	s := &lsoaLookupSource{t: t}
	if s.from, err = t.need("LSOA11CD"); err != nil {
		return nil, err
	}
	if s.to, err = t.need("LSOA21CD"); err != nil {
		return nil, err
	}
	if s.changed, err = t.need("CHGIND"); err != nil {
		return nil, err
	}
	s.lad, s.ladName = ladColumns(t)
	return s, nil
}

func (s *lsoaLookupSource) next() ([]any, error) {
	t := s.t
	rec, err := t.next()
	if err != nil {
		return nil, err
	}
	from, to := field(rec, s.from), field(rec, s.to)
	if !levels["lsoa"].MatchString(from) {
		return nil, t.errf(s.from, "%q is not an LSOA code", from)
	}
	if !levels["lsoa"].MatchString(to) {
		return nil, t.errf(s.to, "%q is not an LSOA code", to)
	}
	method, ok := changeMethods[strings.ToUpper(field(rec, s.changed))]
	if !ok {
		return nil, t.errf(s.changed, "%q is not a change indicator (U unchanged, S split, M merged, X complex)", field(rec, s.changed))
	}
	lad, err := ladCell(t, rec, s.lad)
	if err != nil {
		return nil, err
	}
	return []any{t.line, from, to, method, lad, field(rec, s.ladName)}, nil
}

// mapLSOA11 carries the staged 2011 LSOA values (imd_stage) to the loaded
// 2021 small areas through the lookup, into imd_mapped. The rule, for every
// change type alike: a 2021 LSOA takes the values of its 2011 parent; when
// it has several (merged, or redrawn "complex" areas) it takes the most
// deprived parent's values whole (lowest IMD rank, else highest IMD score),
// so an area is never shown as less deprived than any part of it was, and
// ranks, deciles and scores stay those of one real 2011 area. A split 2011
// LSOA passes its values to each of its 2021 children. 2011 rows that reach
// no loaded small area are skipped (a national file); a 2011 code missing
// from the lookup is an error.
// byLookup reports whether the lookup names each 2021 LSOA's district.
func mapLSOA11(ctx context.Context, tx pgx.Tx, job Job, loc at, codeField string) (notes []string, byLookup bool, err error) {
	path := job.Options.text(optLookup)
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(job.File), path)
	}
	f, err := job.Open(path)
	if err != nil {
		return nil, false, &InputError{File: path, Err: fmt.Errorf("open lookup: %w", err)}
	}
	defer f.Close()
	src, err := newLSOALookup(path, f)
	if err != nil {
		return nil, false, err
	}
	defer src.t.close()
	if err := stage(ctx, tx, "lsoa_lookup_stage", "n integer, lsoa11 text, lsoa21 text, method text, lad text, lad_name text",
		[]string{"n", "lsoa11", "lsoa21", "method", "lad", "lad_name"}, src.next); err != nil {
		return nil, false, err
	}
	if err := firstBad(ctx, tx, loc, codeField, `SELECT n, 'LSOA 2011 code ' || code || ' is not in the lookup '
		FROM imd_stage s WHERE NOT EXISTS (SELECT 1 FROM lsoa_lookup_stage l WHERE l.lsoa11 = s.code) ORDER BY n LIMIT 1`); err != nil {
		var ie *InputError
		if errors.As(err, &ie) {
			ie.Err = fmt.Errorf("%w%s", ie.Err, baseName(path))
		}
		return nil, false, err
	}
	if _, err := tx.Exec(ctx, `DROP TABLE IF EXISTS pg_temp.imd_mapped;
		CREATE TEMP TABLE imd_mapped ON COMMIT DROP AS
		SELECT DISTINCT ON (l.lsoa21) l.lsoa21 AS target, s.code AS source, l.method, s.*
		FROM imd_stage s JOIN lsoa_lookup_stage l ON l.lsoa11 = s.code
		WHERE EXISTS (SELECT 1 FROM nbhd.small_areas sa WHERE sa.code = l.lsoa21)
		ORDER BY l.lsoa21, s.imd_rank ASC NULLS LAST, s.imd_score DESC NULLS LAST, s.code`); err != nil {
		return nil, false, fmt.Errorf("map LSOA 2011 to 2021: %w", err)
	}
	var counts string
	var skipped int
	if err := tx.QueryRow(ctx, `SELECT coalesce((SELECT string_agg(method || ' ' || k, ', ' ORDER BY method)
		  FROM (SELECT method, count(*) AS k FROM imd_mapped GROUP BY method) m), 'none'),
		(SELECT count(*) FROM imd_stage s WHERE NOT EXISTS (SELECT 1 FROM lsoa_lookup_stage l
		  JOIN nbhd.small_areas sa ON sa.code = l.lsoa21 WHERE l.lsoa11 = s.code))`).Scan(&counts, &skipped); err != nil {
		return nil, false, fmt.Errorf("count mapped small areas: %w", err)
	}
	notes = []string{"LSOA 2021 small areas by change from 2011: " + counts}
	if skipped > 0 {
		notes = append(notes, fmt.Sprintf("skipped %d rows whose LSOAs are not loaded", skipped))
	}
	return notes, src.lad >= 0, nil
}
