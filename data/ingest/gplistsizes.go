package ingest

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

func init() {
	register("gp-list-sizes", &importer{
		summary: "NHS Patients Registered at a GP Practice (gp-reg-pat-prac-all.csv): list sizes by extract date",
		formats: `NHS England's "Patients Registered at a GP Practice" CSV: EXTRACT_DATE (2026-04-01, 01APR2026,
01-Apr-2026 or 01/04/2026), CODE, NUMBER_OF_PATIENTS; where the file has TYPE, SEX and AGE columns
only the GP/ALL/ALL rows are read. One file is one extract: each is its own dataset
(gp-list-sizes-YYYY-MM), so loading May keeps April. Rows of practices that are not loaded are
skipped and counted, which is how a national file is cut to the loaded practices.`,
		example: "nbhd import gp-list-sizes gp-reg-pat-prac-all.csv --la E08000010",
		options: []accepts{
			{opt: optKey, help: "dataset key (default gp-list-sizes-YYYY-MM, from the extract date)"},
			{opt: optLA, help: "keep practices whose postcode lies in these local authorities (from the loaded postcodes)"},
		},
		ident: func(j Job) (string, string, error) {
			return "gp_list_sizes", keyOr(j, "gp-list-sizes"), nil
		},
		run: importListSizes,
	})
}

// extractDateLayouts are the ways NHS England has written EXTRACT_DATE.
var extractDateLayouts = []string{"2006-01-02", "02Jan2006", "02-Jan-2006", "02/01/2006", "2006-01-02T15:04:05"}

// listSizeSource streams practice list sizes: n, code, date, patients.
type listSizeSource struct {
	t                              *table
	date, code, patients, typ, sex int
	age                            int
	extract                        time.Time
	extractLine                    int
	otherRows                      int
	rows                           int // all-ages, all-sexes practice rows read
}

func newListSizes(file string, r io.Reader) (_ *listSizeSource, err error) {
	t, err := newTable(file, r)
	if err != nil {
		return nil, err
	}
	defer closeOnError(t, &err)
	s := &listSizeSource{t: t}
	for _, c := range []struct {
		dst   *int
		names []string
	}{
		{&s.date, []string{"EXTRACT_DATE"}},
		{&s.code, []string{"CODE", "PRACTICE_CODE", "ORG_CODE"}},
		{&s.patients, []string{"NUMBER_OF_PATIENTS"}},
	} {
		if *c.dst, err = t.need(c.names...); err != nil {
			return nil, err
		}
	}
	s.typ, s.sex, s.age = t.col("TYPE", "ORG_TYPE"), t.col("SEX"), t.col("AGE")
	return s, nil
}

func (s *listSizeSource) next() ([]any, error) {
	t := s.t
	for {
		rec, err := t.next()
		if err != nil {
			return nil, err
		}
		// The all-practices file is one row per practice; its by-age and
		// by-sex siblings add breakdowns whose total row is ALL/ALL.
		if (s.typ >= 0 && !strings.EqualFold(field(rec, s.typ), "GP")) ||
			(s.sex >= 0 && !strings.EqualFold(field(rec, s.sex), "ALL")) ||
			(s.age >= 0 && !strings.EqualFold(field(rec, s.age), "ALL")) {
			s.otherRows++
			continue
		}
		d, err := parseExtractDate(field(rec, s.date))
		if err != nil {
			return nil, t.errf(s.date, "%v", err)
		}
		if s.extractLine == 0 {
			s.extract, s.extractLine = d, t.line
		} else if !d.Equal(s.extract) {
			return nil, t.errf(s.date, "extract date %s differs from line %d's %s: import one extract per file",
				d.Format(time.DateOnly), s.extractLine, s.extract.Format(time.DateOnly))
		}
		code := field(rec, s.code)
		if !odsPractice.MatchString(code) {
			return nil, t.errf(s.code, "%q is not an ODS practice code (a letter and five digits)", code)
		}
		n, err := intIn(t, rec, s.patients, 0, 10_000_000)
		if err != nil {
			return nil, err
		}
		if n == nil {
			return nil, t.errf(s.patients, "number of patients is empty")
		}
		s.rows++
		return []any{t.line, code, d, n}, nil
	}
}

func parseExtractDate(v string) (time.Time, error) {
	for _, l := range extractDateLayouts {
		if d, err := time.Parse(l, v); err == nil {
			return d, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (e.g. 2026-04-01 or 01APR2026)", v)
}

func importListSizes(ctx context.Context, tx pgx.Tx, job Job, ds int64, r io.Reader) (Result, error) {
	la, err := newLAFilter(job.File, job.Options, false)
	if err != nil {
		return Result{}, err
	}
	src, err := newListSizes(job.File, r)
	if err != nil {
		return Result{}, err
	}
	defer src.t.close()
	err = stage(ctx, tx, "list_size_stage", "n integer, code text, extract_date date, patients integer",
		[]string{"n", "code", "extract_date", "patients"}, src.next)
	if err != nil {
		return Result{}, err
	}
	if src.extractLine == 0 {
		return Result{}, &InputError{File: job.File, Err: fmt.Errorf("no all-ages, all-sexes GP practice rows")}
	}
	key := keyOr(job, "gp-list-sizes-"+src.extract.Format("2006-01"))
	loc := at{file: job.File}
	if err := firstBad(ctx, tx, loc, src.t.header[src.code], `SELECT n, code || ' already appears on line ' || first
		FROM (SELECT n, code, min(n) OVER (PARTITION BY code) AS first FROM list_size_stage) s WHERE n > first ORDER BY n LIMIT 1`); err != nil {
		return Result{}, err
	}
	// Only loaded practices keep their list sizes: this is how a national
	// file is cut to the borough.
	tag, err := tx.Exec(ctx, `DELETE FROM list_size_stage s WHERE NOT EXISTS (SELECT 1 FROM nbhd.gp_practices g WHERE g.code = s.code)`)
	if err != nil {
		return Result{}, fmt.Errorf("match practices: %w", err)
	}
	notLoaded := int(tag.RowsAffected())
	if notLoaded == src.rows {
		return Result{}, &InputError{File: job.File, Field: src.t.header[src.code],
			Err: fmt.Errorf("none of the %d practices is loaded: import the GP practices (epraccur) first", src.rows)}
	}
	notes := []string{fmt.Sprintf("extract of %s", src.extract.Format(time.DateOnly))}
	if notLoaded > 0 {
		notes = append(notes, fmt.Sprintf("skipped %d practices that are not loaded", notLoaded))
	}
	laNotes, err := la.byPostcode(ctx, tx, "list_size_stage", "practices",
		"(SELECT g.postcode FROM nbhd.gp_practices g WHERE g.code = s.code)", "s.code")
	if err != nil {
		return Result{}, err
	}
	tag, err = tx.Exec(ctx, `INSERT INTO nbhd.gp_list_sizes (practice_code, extract_date, patients, dataset_id)
		SELECT code, extract_date, patients, $1 FROM list_size_stage`, ds)
	if err != nil {
		return Result{}, fmt.Errorf("write list sizes: %w", err)
	}
	res := Result{Rows: int(tag.RowsAffected()), Key: key, Notes: append(notes, laNotes...)}
	if src.otherRows > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("skipped %d breakdown rows (not GP, all sexes, all ages)", src.otherRows))
	}
	return res, nil
}
